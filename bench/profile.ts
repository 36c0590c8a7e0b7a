// Where a training step's time goes: every kernel call is wrapped with a timer (per kernel, and per
// GEMM shape), the rest of the step is JavaScript (op bookkeeping, allocation, garbage collection).
// Runs what `tslm train` runs (forward with lossOnly, backward, AdamW) on a BENCH.md config, and
// prints the GEMM-only bound: the tokens/s a step would reach if every non-GEMM kernel and all the
// JavaScript were free, at the GEMM speed measured in the same steps.
//
//   npx tsx bench/profile.ts [tiny|small|gpt2] [--steps 5] [--threads 2]
//
// For JavaScript self time: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts tiny
// Timers add a little overhead per call; compare totals with bench/train.ts, not across tools.
import * as T from "../src/index.js";
import { kernels, setThreads } from "../src/kernels/index.js";
import { createModel } from "../src/models/registry.js";
import { ParamSource } from "../src/nn/module.js";
import { AdamW } from "../src/train/optim.js";
import { weightDecayGroups } from "../src/train/trainer.js";
import { asTslmTrainRuns, benchArgs } from "./configs.js";

// Like `tslm train`: in a Node with V8's concurrent marking off (src/cli/launch.ts).
if (await asTslmTrainRuns()) process.exit();

const { opt, preset, config } = benchArgs();
const [L, C, H, V, B, S] = config;
const steps = opt("steps", 5);
setThreads(opt("threads", 2));
const k = kernels() as unknown as Record<string, unknown>;
if (k.name !== "native") throw new Error("bench/profile.ts: the native kernels did not load");

// kernel (or GEMM shape) -> [ms, calls, flops]
const acc = new Map<string, [number, number, number]>();
for (const name of Object.keys(k)) {
  const f = k[name];
  if (typeof f !== "function") continue;
  k[name] = (...a: unknown[]) => {
    const t = performance.now();
    const r = (f as (...x: unknown[]) => unknown)(...a);
    const e = performance.now() - t;
    let key = name;
    let flops = 0;
    if (name === "gemm") {
      const [ta, tb, M, N, K] = a as [boolean, boolean, number, number, number];
      const batch = a[19] as number; // gemm's 20th argument (an optional bias may follow)
      key = `gemm ${ta ? "T" : "N"}${tb ? "T" : "N"} ${M}x${N}x${K}${batch > 1 ? ` x${batch}` : ""}`;
      flops = 2 * M * N * K * batch;
    }
    const s = acc.get(key) ?? [0, 0, 0];
    s[0] += e;
    s[1]++;
    s[2] += flops;
    acc.set(key, s);
    return r;
  };
}

const model = createModel(
  { model_type: "gpt2", n_layer: L, n_embd: C, n_head: H, vocab_size: V, n_positions: 1024, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
  ParamSource.init({ seed: 0 }),
);
const adam = new AdamW(weightDecayGroups(model.namedParameters(), 0.1), { lr: 3e-4 });
const gen = new T.Generator(1);
let total = 0;
const phases = { fwd: 0, bwd: 0, opt: 0 };
for (let i = 0; i <= steps; i++) {
  if (i === 1) {
    acc.clear(); // step 0 is warm-up
    total = phases.fwd = phases.bwd = phases.opt = 0;
  }
  const ids = T.randint(0, V, [B, S], { generator: gen });
  const t0 = performance.now();
  const out = model.forward({ inputIds: ids, labels: ids, lossOnly: true });
  const t1 = performance.now();
  adam.zeroGrad();
  out.loss!.backward();
  const t2 = performance.now();
  adam.step();
  const t3 = performance.now();
  total += t3 - t0;
  phases.fwd += t1 - t0;
  phases.bwd += t2 - t1;
  phases.opt += t3 - t2;
}
const per = (x: number) => (x / steps).toFixed(1).padStart(8);
console.log(`profile ${preset}: ${L} layers, d ${C}, ${H} heads, vocab ${V}, batch ${B} x ${S}; ${steps} steps after one warm-up`);
console.log(`forward ${per(phases.fwd)} ms, backward ${per(phases.bwd)} ms, optimizer ${per(phases.opt)} ms per step`);
let kernelMs = 0;
let gemmMs = 0;
let gemmFlops = 0;
for (const [name, [ms, calls, flops]] of [...acc].sort((a, b) => b[1][0] - a[1][0])) {
  kernelMs += ms;
  if (name.startsWith("gemm")) {
    gemmMs += ms;
    gemmFlops += flops;
  }
  const rate = flops ? `  ${(flops / ms / 1e6).toFixed(0).padStart(4)} GFLOP/s` : "";
  console.log(`${name.padEnd(30)} ${per(ms)} ms/step ${String(Math.round(calls / steps)).padStart(4)} calls${rate}`);
}
const tok = B * S;
console.log(
  `total ${per(total)} ms/step: GEMM ${per(gemmMs)} (${(gemmFlops / gemmMs / 1e6).toFixed(0)} GFLOP/s), other kernels ${per(kernelMs - gemmMs)}, JavaScript ${per(total - kernelMs)}`,
);
console.log(`tokens/s ${((tok / total) * 1000 * steps).toFixed(0)}; GEMM-only bound ${((tok / gemmMs) * 1000 * steps).toFixed(0)} tokens/s (every non-GEMM cost free)`);
