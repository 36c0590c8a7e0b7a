// A tiny random GPT-2 with a byte-level tokenizer (256 bytes + <|endoftext|>) and a chat template,
// saved as a Hugging Face directory: what the server and CLI tests load. Building it takes
// milliseconds, so each test file makes its own in a temporary folder.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { savePretrained } from "../../src/io/index.js";
import { createModel } from "../../src/models/index.js";
import { ParamSource } from "../../src/nn/index.js";
import { BYTE_TO_CHAR, Tokenizer, gpt2Json } from "../../src/tokenizers/index.js";

export const EOS = 256;
export const CHAT_TEMPLATE = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";

export interface TinyModelOptions {
  /** Write a chat template into tokenizer_config.json (default true). */
  chatTemplate?: boolean;
  /** Context length (n_positions, default 128). */
  nPositions?: number;
  seed?: number;
  modelType?: "gpt2" | "llama" | "t5";
  /** Extra generation_config.json fields (e.g. num_beams). */
  generation?: Record<string, unknown>;
}

/** Writes the model into a new temporary directory and returns its path. */
export function makeTinyModel(opts: TinyModelOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "tslm-tiny-"));
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]] = b;
  vocab["<|endoftext|>"] = EOS;
  const tok = Tokenizer.fromJSON(gpt2Json(vocab, []));
  const n = opts.nPositions ?? 128;
  const configs = {
    gpt2: { model_type: "gpt2", vocab_size: 257, n_embd: 32, n_layer: 2, n_head: 4, n_positions: n, bos_token_id: EOS, eos_token_id: EOS },
    llama: { model_type: "llama", vocab_size: 257, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: n, bos_token_id: EOS, eos_token_id: EOS },
    // T5: the decoder starts from the pad id (byte 0 here), as T5 does.
    t5: { model_type: "t5", vocab_size: 257, d_model: 32, d_kv: 8, d_ff: 48, num_layers: 2, num_heads: 4, relative_attention_num_buckets: 8, relative_attention_max_distance: 12, decoder_start_token_id: 0, pad_token_id: 0, eos_token_id: EOS },
  };
  const cfg = configs[opts.modelType ?? "gpt2"];
  // A large init std so greedy output varies instead of repeating one byte.
  const model = createModel(cfg, ParamSource.init({ seed: opts.seed ?? 3, std: 0.6 }));
  const gen = opts.modelType === "t5" ? { decoder_start_token_id: 0, pad_token_id: 0, eos_token_id: EOS } : { bos_token_id: EOS, eos_token_id: EOS };
  savePretrained(model, dir, { tokenizer: tok, generationConfig: { ...gen, ...opts.generation } });
  const tc: Record<string, unknown> = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", model_max_length: n };
  if (opts.chatTemplate ?? true) tc["chat_template"] = CHAT_TEMPLATE;
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tc, null, 2));
  return dir;
}
