// Tiny seeded tslm models for the savePretrained round trip through Python transformers.
//
// tools/golden/io_pretrained.py runs this file (through tsx) to write tslm-saved directories,
// loads them with transformers' from_pretrained, and commits the logits transformers computes
// (fixtures/io/pretrained_reference.safetensors). test/io/pretrained.test.ts rebuilds the SAME
// models from the same seeds with tinyModel() and compares its own logits with those.
//
//   usage: tsx test/io/tiny_models.ts OUT_DIR     -> OUT_DIR/<case>/ for every case below
import { ParamSource } from "../../src/nn/module.js";
import { createModel, type PretrainedModel } from "../../src/models/registry.js";
import { savePretrained } from "../../src/io/pretrained.js";

export interface TinyCase {
  config: Record<string, unknown>;
  seed: number;
  /** Passed to savePretrained: a small limit forces a sharded checkpoint. */
  maxShardSize?: number;
}

export const TINY_CASES: Record<string, TinyCase> = {
  // Tied lm_head (omitted from the file, as transformers does), sharded into several files.
  tslm_gpt2: {
    config: { model_type: "gpt2", vocab_size: 64, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, bos_token_id: 0, eos_token_id: 0 },
    seed: 11,
    maxShardSize: 12000,
  },
  // Grouped-query attention, untied head, single file.
  tslm_llama: {
    config: {
      model_type: "llama",
      vocab_size: 64,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 32,
      tie_word_embeddings: false,
      rms_norm_eps: 1e-6,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    seed: 12,
  },
};

/** The input ids every case is evaluated on (int32 [2, 7]). */
export const TINY_INPUT_IDS = [
  [1, 5, 9, 33, 63, 0, 17],
  [2, 40, 41, 42, 3, 8, 13],
];

export function tinyModel(name: string): PretrainedModel {
  const c = TINY_CASES[name];
  // Larger init std than the 0.02 default so logits differ visibly between positions.
  return createModel(c.config, ParamSource.init({ seed: c.seed, std: 0.2 })).eval();
}

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error("usage: tsx test/io/tiny_models.ts OUT_DIR");
  for (const [name, c] of Object.entries(TINY_CASES)) {
    const res = savePretrained(tinyModel(name), `${out}/${name}`, { maxShardSize: c.maxShardSize, generationConfig: { bos_token_id: 1, eos_token_id: 2 } });
    console.log(`${name}: ${res.written.join(", ")}`);
  }
}

if (process.argv[1] && process.argv[1].endsWith("tiny_models.ts")) main();
