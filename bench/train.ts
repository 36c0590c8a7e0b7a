// Training throughput, side by side with PyTorch + Hugging Face transformers.
//
// For a BENCH.md config (tiny, small, gpt2), times forward + backward + AdamW step of tslm's GPT-2
// and of transformers' GPT2LMHeadModel on the same sizes, batch and thread count, alternating
// rounds (tslm, torch, tslm, torch, ...) so that load on this shared machine hits both alike.
// Reports the median tokens/s of each over all timed steps, and their ratio. Dropout is 0 in both
// (modern pretraining practice), so neither pays for random masks.
//
// tslm runs what `tslm train` runs (src/train/trainer.ts), in a Node started as `tslm train` starts
// its child (--no-concurrent-marking, src/cli/launch.ts): forward with lossOnly (the fused, row-
// chunked linear cross-entropy: no [B*T, V] logits), backward, AdamW. The torch side runs
// transformers' GPT2LMHeadModel(input_ids, labels) as a user would, which also returns logits.
// Peak RSS: tslm's is this process's maxRSS (only tslm runs in it; torch runs in child
// processes), torch's the largest ru_maxrss of its processes (each round is a fresh process).
//
// It also prints the work of a step (bench/configs.ts, stepFlops) as each side's arithmetic rate and
// its share of the machine's FMA peak (--peak GFLOP/s; default 233, BENCH.md's figure for this
// machine's 2 cores), and the share of peak a 1.5x ratio would take: the yardstick for the targets.
//
//   npx tsx bench/train.ts [tiny|small|gpt2] [--rounds 3] [--steps 3] [--threads 2] [--peak 233] [--no-torch] [--allow-ref]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as T from "../src/index.js";
import { setThreads } from "../src/kernels/index.js";
import { createModel } from "../src/models/registry.js";
import { ParamSource } from "../src/nn/module.js";
import { AdamW } from "../src/train/optim.js";
import { weightDecayGroups } from "../src/train/trainer.js";
import { asTslmTrainRuns, benchArgs, stepFlops } from "./configs.js";

// tslm runs as `tslm train` does: in a Node with V8's concurrent marking off (src/cli/launch.ts).
if (await asTslmTrainRuns()) process.exit();

const { args, opt, preset, config } = benchArgs();
const [L, C, H, V, B, S] = config;
const rounds = opt("rounds", 3);
const steps = opt("steps", 3);
const threads = opt("threads", 2);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const python = process.env.TSLM_PYTHON ?? join(root, ".venv", "bin", "python");
const useTorch = !args.includes("--no-torch") && existsSync(python);

setThreads(threads);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const model = createModel(
  { model_type: "gpt2", n_layer: L, n_embd: C, n_head: H, vocab_size: V, n_positions: Math.max(S, 1024), resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
  ParamSource.init({ seed: 0 }),
);
const adam = new AdamW(weightDecayGroups(model.namedParameters(), 0.1), { lr: 3e-4 });
const gen = new T.Generator(1);
/** Wall and CPU (process, all threads) milliseconds of each step; its system CPU milliseconds and
 * page faults go to sysMs and faults (fresh pages cost both: see native/src/addon.c). */
const sysMs: number[] = [];
const faults: number[] = [];
function tslmSteps(n: number): { ms: number[]; cpu: number[] } {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const ids = T.randint(0, V, [B, S], { generator: gen });
    const r0 = process.resourceUsage();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // What `tslm train` does (src/train/trainer.ts): loss only, through the fused linear cross-entropy.
    const out = model.forward({ inputIds: ids, labels: ids, lossOnly: true });
    adam.zeroGrad();
    out.loss!.backward();
    adam.step();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    const r1 = process.resourceUsage();
    sysMs.push((r1.systemCPUTime - r0.systemCPUTime) / 1000);
    faults.push(r1.minorPageFault - r0.minorPageFault);
  }
  return { ms, cpu };
}

let torchRss = 0;
function torchSteps(n: number): { ms: number[]; cpu: number[] } {
  const r = spawnSync(python, [join(root, "bench", "train_torch.py"), ...[L, C, H, V, B, S, n, 1, threads].map(String)], {
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: String(threads) },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`train_torch.py failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ms?: number; cpu_ms?: number; max_rss_kb?: number });
  for (const l of lines) if (l.max_rss_kb !== undefined) torchRss = Math.max(torchRss, l.max_rss_kb * 1024);
  const steps = lines.filter((l) => l.ms !== undefined);
  return { ms: steps.map((l) => l.ms!), cpu: steps.map((l) => l.cpu_ms!) };
}

if (T.kernels().name !== "native" && !args.includes("--allow-ref")) {
  throw new Error("bench/train.ts: the native kernels did not load (is the addon being rebuilt?); pass --allow-ref to time the TypeScript kernels");
}
console.log(`train ${preset}: ${L} layers, d ${C}, ${H} heads, vocab ${V}, batch ${B} x ${S}, ${threads} threads, kernels ${T.kernels().name}`);
tslmSteps(1); // warm-up (JIT, buffers)
const tms: number[] = [];
const tcpu: number[] = [];
const pms: number[] = [];
const pcpu: number[] = [];
for (let r = 0; r < rounds; r++) {
  // One untimed step per round on each side: the torch child times its steps after one warm-up
  // step in every (fresh) process, and tslm's first step after a torch round runs on caches and
  // pool threads that process has just cooled.
  if (r > 0) tslmSteps(1);
  const a = tslmSteps(steps);
  tms.push(...a.ms);
  tcpu.push(...a.cpu);
  if (useTorch) {
    const b = torchSteps(steps);
    pms.push(...b.ms);
    pcpu.push(...b.cpu);
  }
}
// Wall-clock tokens/s is what a user sees; CPU-seconds per step is the fairer measure of the work
// on a loaded machine, where wall time mostly measures waiting for a core.
const tok = B * S;
const line = (name: string, ms: number[], cpu: number[]) =>
  `${name.padEnd(6)} ${((tok / median(ms)) * 1000).toFixed(0).padStart(7)} tokens/s  (median ${median(ms).toFixed(0)} ms/step over ${ms.length} steps, ` +
  `min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}; CPU ${median(cpu).toFixed(0)} ms/step = ${((tok / median(cpu)) * 1000).toFixed(0)} tokens per CPU-second)`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const tslmRss = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
console.log(`${line("tslm", tms, tcpu)}  peak RSS ${mb(tslmRss)}`);
// Over every step run, warm-ups included (the first ones fault in the step's working set).
console.log(`tslm   system CPU ${median(sysMs).toFixed(0)} ms/step, ${median(faults).toFixed(0)} page faults/step (medians; max ${Math.max(...faults)})`);
if (useTorch) {
  console.log(`${line("torch", pms, pcpu)}  peak RSS ${mb(torchRss)}`);
  console.log(
    `ratio  wall ${(median(pms) / median(tms)).toFixed(2)}, CPU ${(median(pcpu) / median(tcpu)).toFixed(2)}  (torch time / tslm time; > 1 means tslm is faster); ` +
      `peak RSS tslm / torch ${(tslmRss / torchRss).toFixed(2)}`,
  );
} else console.log("torch: skipped (no .venv/bin/python or TSLM_PYTHON, or --no-torch)");
const work = stepFlops(config);
const peak = opt("peak", 233);
const rate = (ms: number) => work.total / ms / 1e6; // GFLOP/s
const ofPeak = (g: number) => `${g.toFixed(0)} GFLOP/s = ${((100 * g) / peak).toFixed(0)}% of peak`;
console.log(
  `work   ${(work.total / 1e9).toFixed(1)} GFLOP/step (linear ${(work.linear / 1e9).toFixed(1)}, LM head ${(work.head / 1e9).toFixed(1)}, attention ${(work.attention / 1e9).toFixed(1)}); ` +
    `tslm ${ofPeak(rate(median(tms)))}` +
    (useTorch ? `, torch ${ofPeak(rate(median(pms)))}; 1.5x torch would take ${ofPeak(1.5 * rate(median(pms)))}` : "") +
    ` (FMA peak ${peak} GFLOP/s on ${threads} threads)`,
);
