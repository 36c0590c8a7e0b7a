// Peak memory of LoRA vs full fine-tuning on the gpt2 (124M) config, same batch (issue 7's
// target: LoRA at most 40% of full fine-tuning's peak).
//
// Each mode runs in its own child process (peak RSS is per process and never goes down): build
// GPT-2 124M with fresh weights, then `--steps` training steps (forward with labels, backward,
// AdamW step) on a fixed random batch of B x T tokens. The child reports its peak RSS
// (process.resourceUsage().maxRSS), the RSS after building the model (the weights' floor), and
// the median step time. Modes:
//   full   every parameter trains: AdamW holds all 124M (grads + two moments)
//   lora   peft LoRA r=8, alpha=16 on attn.c_attn (peft's GPT-2 default target), dropout 0;
//          the base is frozen (requiresGrad false), AdamW holds only lora_A / lora_B
//
//   npx tsx bench/peft_memory.ts [--steps 3] [--batch 2] [--seq 128] [--threads 2] [--targets c_attn,c_proj] [--keep-graph]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as T from "../src/index.js";
import { setThreads } from "../src/kernels/index.js";
import { createModel } from "../src/models/registry.js";
import { ParamSource } from "../src/nn/module.js";
import { AdamW } from "../src/train/optim.js";
import { PeftModel, loraConfig, type PeftBaseModel } from "../src/peft/index.js";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const steps = Number(opt("steps", "3"));
const B = Number(opt("batch", "2"));
const S = Number(opt("seq", "128"));
const threads = Number(opt("threads", "2"));
const targets = opt("targets", "c_attn").split(",");
const mb = (kb: number) => Math.round(kb / 1024);

function child(mode: "full" | "lora"): void {
  setThreads(threads);
  const model = createModel({ model_type: "gpt2", resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, ParamSource.init({ seed: 0 })) as PeftBaseModel;
  let net: PeftBaseModel = model;
  let params = model.parameters();
  if (mode === "lora") {
    const peft = PeftModel.create(model, loraConfig({ r: 8, lora_alpha: 16, target_modules: targets, fan_in_fan_out: true, task_type: "CAUSAL_LM" }));
    net = peft as unknown as PeftBaseModel;
    params = peft.trainableParameters();
  }
  const trainable = params.reduce((s, p) => s + p.size, 0);
  const afterBuild = process.memoryUsage().rss / 1024;
  const adam = new AdamW(params, { lr: 1e-4, weightDecay: 0 });
  const ids = T.randint(0, 50257, [B, S], { generator: new T.Generator(1) });
  const ms: number[] = [];
  const losses: number[] = [];
  const keepGraph = args.includes("--keep-graph");
  let out: { loss?: T.Tensor } | null = null;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    adam.zeroGrad();
    out = net.forward({ inputIds: ids, labels: ids });
    out.loss!.backward();
    adam.step();
    losses.push(out.loss!.item());
    // After backward the loss still reaches every activation of the step through the released
    // graph nodes (autograd keeps their inputs for its error message), so holding it into the next
    // forward keeps two steps of activations alive. --keep-graph shows that cost.
    if (!keepGraph) out = null;
    ms.push(performance.now() - t0);
  }
  const peak = process.resourceUsage().maxRSS; // KiB
  console.log(JSON.stringify({ mode, trainable, afterBuildMiB: mb(afterBuild), peakMiB: mb(peak), stepMs: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)], losses }));
}

if (args[0] === "--child") child(args[1] as "full" | "lora");
else {
  const results: Record<string, { peakMiB: number; afterBuildMiB: number; trainable: number; stepMs: number }> = {};
  for (const mode of ["full", "lora"] as const) {
    const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", mode, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) throw new Error(`${mode} child failed (status ${r.status})`);
    const line = r.stdout.trim().split("\n").pop()!;
    results[mode] = JSON.parse(line);
    console.log(line);
  }
  const ratio = results.lora.peakMiB / results.full.peakMiB;
  if (args.includes("--keep-graph")) console.log("(--keep-graph: each step's loss tensor is held into the next step's forward)");
  console.log(`gpt2 124M, batch ${B} x ${S}, ${steps} steps, ${threads} threads, LoRA r=8 on ${targets.join(",")}:`);
  console.log(`  full fine-tuning: peak RSS ${results.full.peakMiB} MiB (after build ${results.full.afterBuildMiB}), ${results.full.trainable} trainable, ${Math.round(results.full.stepMs)} ms/step`);
  console.log(`  LoRA:             peak RSS ${results.lora.peakMiB} MiB (after build ${results.lora.afterBuildMiB}), ${results.lora.trainable} trainable, ${Math.round(results.lora.stepMs)} ms/step`);
  console.log(`  LoRA / full = ${(100 * ratio).toFixed(1)}% (target <= 40%)`);
}
