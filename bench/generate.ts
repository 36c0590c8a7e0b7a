// Generation speed, side by side with PyTorch + Hugging Face transformers' generate().
//
// For a BENCH.md config (tiny, small, gpt2; random weights — speed does not depend on them):
// prefill latency of a 256-token prompt, time to first token (generate() with a 32-token prompt
// and one new token, batch 1), and greedy decoding of 128 new tokens after a 32-token prompt at
// batch 1 and batch 8 (KV cache, no early stop), in tokens/s. tslm and PyTorch run in alternating
// rounds; medians are reported with their ratio. CPU time (process, all threads) is reported beside
// wall time: on a loaded machine wall time mostly measures waiting for a core, and CPU-seconds per
// token is the fairer comparison of the work each side does.
//
// The memory-bandwidth bound of batch-1 decoding: every step reads all weights once (the tied LM
// head included; the position table only one row), so tokens/s <= read bandwidth / weight bytes.
// The read bandwidth is measured here, before each tslm round, as a streaming sum over a 512 MB
// array on the same threads (the native reduce kernel: a pure read, the real limit of a GEMV;
// memcpy would count writes too).
//
//   npx tsx bench/generate.ts [tiny|small|gpt2] [--rounds 3] [--threads 2] [--no-torch]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { noGrad } from "../src/autograd/index.js";
import { generate } from "../src/generate/index.js";
import { ReduceOp, setThreads, kernels } from "../src/kernels/index.js";
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

/** Weight bytes one decoding step reads: every parameter but the position table (one row of it). */
const weightBytes = model.namedParameters().reduce((sum, [name, p]) => sum + (name.endsWith("wpe.weight") ? 0 : p.size * 4), 0);

/** Streaming read bandwidth (GB/s, best of 5): sum over a 512 MB array with the native reduce on `threads` threads. */
const big = new Float32Array(128 * 1024 * 1024).fill(1);
function readBandwidth(): number {
  const out = new Float32Array(64);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    kernels().reduce(ReduceOp.Sum, big, out, 64, big.length / 64, 1);
    best = Math.min(best, performance.now() - t0);
  }
  return (big.length * 4) / best / 1e6;
}

interface Round {
  prefillMs: number;
  prefillCpuMs: number;
  /** time to first token (32-token prompt, batch 1), ms */
  ttftMs: number;
  /** streaming read bandwidth measured before the round (tslm rounds), GB/s */
  bw?: number;
  /** tokens per wall second and per CPU second, by batch size */
  tps: Record<number, number>;
  tpcs: Record<number, number>;
}

const cpuSec = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

function tslmRound(): Round {
  const bw = readBandwidth();
  const ids = randint(0, s.vocabSize, [1, 256], { generator: gen });
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  noGrad(() => model.forward({ inputIds: ids, logitsToKeep: 1 }));
  const prefillMs = performance.now() - t0;
  const prefillCpuMs = cpuSec(process.cpuUsage(c0)) * 1000;
  const tps: Record<number, number> = {};
  const tpcs: Record<number, number> = {};
  t0 = performance.now();
  generate(model, rows(1, PROMPT), { maxNewTokens: 1, doSample: false, padTokenId: 0 });
  const ttftMs = performance.now() - t0;
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
  return { prefillMs, prefillCpuMs, ttftMs, bw, tps, tpcs };
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
  return { prefillMs: lines[0].prefill_ms, prefillCpuMs: lines[0].prefill_cpu_ms, ttftMs: lines[0].ttft_ms, tps, tpcs };
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
  `   TTFT(32) ${m(xs, (x) => x.ttftMs).toFixed(1).padStart(6)} ms` +
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
    `ratio  wall: prefill ${ratio((x) => x.prefillMs, true)}x, TTFT ${ratio((x) => x.ttftMs, true)}x, batch 1 ${ratio((x) => x.tps[1])}x, batch 8 ${ratio((x) => x.tps[8])}x;` +
      `  cpu: prefill ${ratio((x) => x.prefillCpuMs, true)}x, batch 1 ${ratio((x) => x.tpcs[1])}x, batch 8 ${ratio((x) => x.tpcs[8])}x   (> 1: tslm faster)`,
  );
} else console.log("torch: skipped (no .venv/bin/python or TSLM_PYTHON, or --no-torch)");
const bwMed = m(T, (x) => x.bw ?? 0);
const bound = (bwMed * 1e9) / weightBytes;
console.log(
  `bound  ${(weightBytes / 1e6).toFixed(0)} MB of weights per step; streaming read ${bwMed.toFixed(1)} GB/s (median over rounds, best of 5 each) -> at most ${bound.toFixed(1)} tok/s at batch 1; ` +
    `tslm reaches ${((100 * m(T, (x) => x.tps[1])) / bound).toFixed(0)}% of it (${((m(T, (x) => x.tps[1]) * weightBytes) / 1e9).toFixed(1)} GB/s effective)`,
);
