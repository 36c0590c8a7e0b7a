// Generation speed, side by side with PyTorch + Hugging Face transformers' generate().
//
// For a BENCH.md config (tiny, small, gpt2; random weights — speed does not depend on them):
// prefill latency of a 256-token prompt, and greedy decoding of 128 new tokens after a 32-token
// prompt at batch 1 and batch 8 (KV cache, no early stop), in tokens/s. tslm and PyTorch run in
// alternating rounds; medians are reported with their ratio. CPU time (process, all threads) is
// reported beside wall time: on a loaded machine wall time mostly measures waiting for a core, and
// CPU-seconds per token is the fairer comparison of the work each side does.
//
//   npx tsx bench/generate.ts [tiny|small|gpt2] [--rounds 3] [--threads 2] [--no-torch]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { noGrad } from "../src/autograd/index.js";
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
const preset = (["tiny", "small", "gpt2"] as const).find((p) => args.includes(p)) ?? "tiny";
const rounds = opt("rounds", 3);
const threads = opt("threads", 2);
const PROMPT = 32;
const NEW = 128;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const python = process.env.TSLM_PYTHON ?? join(root, ".venv", "bin", "python");
const useTorch = !args.includes("--no-torch") && existsSync(python);
setThreads(threads);

const s = { ...PRESET_SIZES[preset], context: Math.max(PRESET_SIZES[preset].context, 1024) };
const model = createModel(presetConfig("gpt2", s), ParamSource.init({ seed: 0 }));
model.eval();
const gen = new Generator(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = (B: number, T: number) => Array.from({ length: B }, () => Array.from(randint(0, s.vocabSize, [T], { generator: gen }).toTypedArray()));

interface Round {
  prefillMs: number;
  prefillCpuMs: number;
  /** tokens per wall second and per CPU second, by batch size */
  tps: Record<number, number>;
  tpcs: Record<number, number>;
}

const cpuSec = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

function tslmRound(): Round {
  const ids = randint(0, s.vocabSize, [1, 256], { generator: gen });
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  noGrad(() => model.forward({ inputIds: ids, logitsToKeep: 1 }));
  const prefillMs = performance.now() - t0;
  const prefillCpuMs = cpuSec(process.cpuUsage(c0)) * 1000;
  const tps: Record<number, number> = {};
  const tpcs: Record<number, number> = {};
  for (const B of [1, 8]) {
    const prompts = rows(B, PROMPT);
    t0 = performance.now();
    c0 = process.cpuUsage();
    const out = generate(model, prompts, { maxNewTokens: NEW, minNewTokens: NEW, doSample: false, padTokenId: 0 });
    const dt = (performance.now() - t0) / 1000;
    const cpu = cpuSec(process.cpuUsage(c0));
    if (out.newTokens.some((t) => t.length !== NEW)) throw new Error("tslm generated the wrong number of tokens");
    tps[B] = (B * NEW) / dt;
    tpcs[B] = (B * NEW) / cpu;
  }
  return { prefillMs, prefillCpuMs, tps, tpcs };
}

function torchRound(): Round {
  const r = spawnSync(python, [join(root, "bench", "generate_torch.py"), ...[s.layers, s.dModel, s.heads, s.vocabSize, s.context, PROMPT, NEW, 1, threads].map(String)], {
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: String(threads) },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`generate_torch.py failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const tps: Record<number, number> = {};
  const tpcs: Record<number, number> = {};
  for (const l of lines) {
    tps[l.batch] = l.tokens / l.seconds;
    tpcs[l.batch] = l.tokens / l.cpu_seconds;
  }
  return { prefillMs: lines[0].prefill_ms, prefillCpuMs: lines[0].prefill_cpu_ms, tps, tpcs };
}

console.log(`generate ${preset}: ${s.layers} layers, d ${s.dModel}, vocab ${s.vocabSize}; prompt ${PROMPT}, ${NEW} new tokens, greedy, ${threads} threads, kernels ${kernels().name}`);
tslmRound(); // warm-up
const T: Round[] = [];
const P: Round[] = [];
for (let r = 0; r < rounds; r++) {
  T.push(tslmRound());
  if (useTorch) P.push(torchRound());
}
const m = (xs: Round[], f: (x: Round) => number) => median(xs.map(f));
const row = (name: string, xs: Round[]) =>
  `${name.padEnd(6)} prefill(256) ${m(xs, (x) => x.prefillMs).toFixed(1).padStart(7)} ms (cpu ${m(xs, (x) => x.prefillCpuMs).toFixed(1)})` +
  `   batch 1 ${m(xs, (x) => x.tps[1]).toFixed(1).padStart(7)} tok/s (${m(xs, (x) => x.tpcs[1]).toFixed(0)} per cpu-s)` +
  `   batch 8 ${m(xs, (x) => x.tps[8]).toFixed(1).padStart(7)} tok/s (${m(xs, (x) => x.tpcs[8]).toFixed(0)} per cpu-s)`;
console.log(row("tslm", T));
if (useTorch) {
  console.log(row("torch", P));
  const ratio = (f: (x: Round) => number, inverse = false) => {
    const a = m(T, f);
    const b = m(P, f);
    return (inverse ? b / a : a / b).toFixed(2);
  };
  console.log(
    `ratio  wall: prefill ${ratio((x) => x.prefillMs, true)}x, batch 1 ${ratio((x) => x.tps[1])}x, batch 8 ${ratio((x) => x.tps[8])}x;` +
      `  cpu: prefill ${ratio((x) => x.prefillCpuMs, true)}x, batch 1 ${ratio((x) => x.tpcs[1])}x, batch 8 ${ratio((x) => x.tpcs[8])}x   (> 1: tslm faster)`,
  );
} else console.log("torch: skipped (no .venv/bin/python or TSLM_PYTHON, or --no-torch)");
