// Where the time of greedy decoding goes: every kernel call is timed (wall clock around the call),
// the rest of each step is JavaScript glue (tensor views, allocation, logits processors, argmax).
// Prints per-token milliseconds by kernel (and GEMM shape), kernel total and outside-kernel time.
//
//   npx tsx bench/generate_profile.ts [tiny|small|gpt2] [--batch 1] [--new 64] [--threads 2]
import { generate } from "../src/generate/index.js";
import { setThreads, kernels } from "../src/kernels/index.js";
import { PRESET_SIZES, presetConfig } from "../src/models/presets.js";
import { createModel } from "../src/models/registry.js";
import { ParamSource } from "../src/nn/module.js";
import { Generator, randint } from "../src/tensor/index.js";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const preset = (["tiny", "small", "gpt2"] as const).find((p) => args.includes(p)) ?? "gpt2";
const B = opt("batch", 1);
const NEW = opt("new", 64);
const PROMPT = 32;
setThreads(opt("threads", 2));
const s = { ...PRESET_SIZES[preset], context: Math.max(PRESET_SIZES[preset].context, 1024) };
const model = createModel(presetConfig("gpt2", s), ParamSource.init({ seed: 0 }));
model.eval();
const gen = new Generator(1);
const prompts = Array.from({ length: B }, () => Array.from(randint(0, s.vocabSize, [PROMPT], { generator: gen }).toTypedArray()));

const k = kernels() as unknown as Record<string, unknown>;
const acc: Record<string, [number, number]> = {};
let on = false;
for (const name of Object.keys(k)) {
  const f = k[name];
  if (typeof f !== "function") continue;
  k[name] = (...a: unknown[]) => {
    if (!on) return (f as (...x: unknown[]) => unknown)(...a);
    const t = performance.now();
    const r = (f as (...x: unknown[]) => unknown)(...a);
    const e = performance.now() - t;
    const key = name === "gemm" ? `gemm ${a[0] ? "T" : "N"}${a[1] ? "T" : "N"} ${a[2]}x${a[3]}x${a[4]} b${a[19]}` : name;
    const s = (acc[key] ??= [0, 0]);
    s[0] += e;
    s[1]++;
    return r;
  };
}
const run = () => generate(model, prompts, { maxNewTokens: NEW, minNewTokens: NEW, doSample: false, padTokenId: 0 });
run();
// Prefill alone (one new token) to subtract it.
on = true;
const t0 = performance.now();
const c0 = process.cpuUsage();
run();
const total = performance.now() - t0;
const cpu = process.cpuUsage(c0);
on = false;
let ks = 0;
const rows = Object.entries(acc).sort((a, b) => b[1][0] - a[1][0]);
const perTok = (ms: number) => (ms / NEW).toFixed(3).padStart(8);
for (const [name, [ms, c]] of rows) {
  ks += ms;
  console.log(`${name.padEnd(34)} ${perTok(ms)} ms/token  ${(c / NEW).toFixed(1).padStart(6)} calls/token`);
}
console.log(`${preset} batch ${B}: ${(total / NEW).toFixed(2)} ms/token (${((B * NEW * 1000) / total).toFixed(1)} tok/s, cpu ${((cpu.user + cpu.system) / 1000 / NEW).toFixed(2)} ms/token), kernels ${perTok(ks)}, outside kernels ${perTok(total - ks)} (prefill included)`);
