// Training throughput, side by side with PyTorch + Hugging Face transformers.
//
// For a BENCH.md config (tiny, small, gpt2), times forward + backward + AdamW step of tslm's GPT-2
// and of transformers' GPT2LMHeadModel on the same sizes, batch and thread count, alternating
// rounds (tslm, torch, tslm, torch, ...) so that load on this shared machine hits both alike.
// Reports the median tokens/s of each over all timed steps, and their ratio. Dropout is 0 in both
// (modern pretraining practice), so neither pays for random masks.
//
//   npx tsx bench/train.ts [tiny|small|gpt2] [--rounds 3] [--steps 3] [--threads 2] [--no-torch]
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

const PRESETS: Record<string, [number, number, number, number, number, number]> = {
  // layers, d_model, heads, vocab, batch, seq
  tiny: [4, 256, 4, 8192, 8, 256],
  small: [6, 384, 6, 8192, 8, 256],
  gpt2: [12, 768, 12, 50257, 4, 256],
};

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const preset = args.find((a) => PRESETS[a]) ?? "tiny";
const [L, C, H, V, B, S] = PRESETS[preset];
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
function tslmSteps(n: number): number[] {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const ids = T.randint(0, V, [B, S], { generator: gen });
    const t0 = performance.now();
    const out = model.forward({ inputIds: ids, labels: ids });
    adam.zeroGrad();
    out.loss!.backward();
    adam.step();
    ms.push(performance.now() - t0);
  }
  return ms;
}

function torchSteps(n: number): number[] {
  const r = spawnSync(python, [join(root, "bench", "train_torch.py"), ...[L, C, H, V, B, S, n, 1, threads].map(String)], {
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: String(threads) },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`train_torch.py failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l).ms as number);
}

console.log(`train ${preset}: ${L} layers, d ${C}, ${H} heads, vocab ${V}, batch ${B} x ${S}, ${threads} threads, kernels ${T.kernels().name}`);
tslmSteps(1); // warm-up (JIT, buffers)
const tms: number[] = [];
const pms: number[] = [];
for (let r = 0; r < rounds; r++) {
  tms.push(...tslmSteps(steps));
  if (useTorch) pms.push(...torchSteps(steps));
}
const tok = B * S;
const tt = (tok / median(tms)) * 1000;
console.log(`tslm   ${tt.toFixed(0).padStart(7)} tokens/s  (median ${median(tms).toFixed(0)} ms/step over ${tms.length} steps, min ${Math.min(...tms).toFixed(0)}, max ${Math.max(...tms).toFixed(0)})`);
if (useTorch) {
  const pt = (tok / median(pms)) * 1000;
  console.log(`torch  ${pt.toFixed(0).padStart(7)} tokens/s  (median ${median(pms).toFixed(0)} ms/step over ${pms.length} steps, min ${Math.min(...pms).toFixed(0)}, max ${Math.max(...pms).toFixed(0)})`);
  console.log(`ratio  ${(tt / pt).toFixed(2)}  (tslm / torch; > 1 means tslm is faster)`);
} else console.log("torch: skipped (no .venv/bin/python or TSLM_PYTHON, or --no-torch)");
