// Round trip, first half: tslm makes adapters on the committed golden bases and saves them in
// peft's format, with its own logits, for tools/golden/peft.py to load with Python peft
// (PeftModel.from_pretrained) and compare. Run by peft.py (`node --import tsx
// tools/golden/peft_roundtrip.ts OUTDIR`); writes OUTDIR/<case>/{adapter/, info.json,
// tslm_logits.safetensors}.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, noGrad, Generator } from "../../src/index.js";
import { loadSafetensors, saveSafetensors, savePeftModel } from "../../src/io/index.js";
import { PeftModel, type PeftBaseModel } from "../../src/peft/index.js";

const out = process.argv[2];
if (!out) throw new Error("usage: peft_roundtrip.ts OUTDIR");

function base(dir: string): PeftBaseModel {
  const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  return loadModel(cfg, loadSafetensors(join(dir, "model.safetensors")), { origin: dir }).eval() as PeftBaseModel;
}

// case -> [golden base, config]; init_lora_weights false / init_ia3_weights false so the adapter changes the output.
const CASES: Record<string, [string, Record<string, unknown>]> = {
  gpt2_lora: ["gpt2_lora", { peft_type: "LORA", r: 4, lora_alpha: 16, target_modules: ["c_attn", "c_proj", "c_fc"], fan_in_fan_out: true, init_lora_weights: false, bias: "lora_only", modules_to_save: ["ln_f"], task_type: "CAUSAL_LM" }],
  llama_lora: ["llama_lora", { peft_type: "LORA", r: 4, lora_alpha: 8, target_modules: "model\\.(embed_tokens|layers\\.\\d+\\.(self_attn\\.(q_proj|v_proj)|mlp\\.down_proj))", use_rslora: true, init_lora_weights: false, task_type: "CAUSAL_LM" }],
  gpt2_ia3: ["gpt2_ia3", { peft_type: "IA3", target_modules: ["c_attn", "mlp.c_proj"], feedforward_modules: ["mlp.c_proj"], fan_in_fan_out: true, init_ia3_weights: false, task_type: "CAUSAL_LM" }],
  gpt2_prefix: ["gpt2_prefix", { peft_type: "PREFIX_TUNING", num_virtual_tokens: 5, task_type: "CAUSAL_LM" }],
  llama_prefix: ["llama_prefix", { peft_type: "PREFIX_TUNING", num_virtual_tokens: 3, prefix_projection: true, encoder_hidden_size: 16, task_type: "CAUSAL_LM" }],
  bert_lora_cls: ["bert_lora_cls", { peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: ["query", "key", "value", "dense"], init_lora_weights: false, task_type: "SEQ_CLS" }],
  llama_prompt: ["llama_prompt", { peft_type: "PROMPT_TUNING", num_virtual_tokens: 4, task_type: "CAUSAL_LM" }],
};

for (const [name, [fixture, cfg]] of Object.entries(CASES)) {
  const baseDir = join("fixtures", "peft", fixture, "base");
  const model = PeftModel.create(base(baseDir), { ...cfg, base_model_name_or_path: baseDir }, { generator: new Generator(42) });
  model.eval();
  const ref = loadSafetensors(join("fixtures", "peft", fixture, "reference.safetensors"));
  const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")! };
  // The classifier copy (modules_to_save) is moved off the base's values so that it matters.
  for (const [k, p] of model.namedParameters()) if (k.includes(".modules_to_save.")) (p.data as Float32Array).forEach((v, i, a) => (a[i] = v + 0.05 * Math.sin(i)));
  const logits = noGrad(() => model.forward(input).logits);
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  savePeftModel(model, join(dir, "adapter"));
  saveSafetensors(join(dir, "tslm_logits.safetensors"), { input_ids: input.inputIds, attention_mask: input.attentionMask, logits });
  writeFileSync(join(dir, "info.json"), JSON.stringify({ family: fixture.split("_")[0], base: baseDir, peft_type: cfg.peft_type }));
  console.log(`tslm wrote ${name}`);
}
