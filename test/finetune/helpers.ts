// Test helpers for fine-tuning: a tiny GPT-2 model directory (BPE tokenizer trained on the given
// texts, random weights) that the CLI can fine-tune in seconds.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { savePretrained } from "../../src/io/pretrained.js";
import { createModel } from "../../src/models/registry.js";
import { ParamSource } from "../../src/nn/module.js";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { trainTokenizerFromTexts } from "../../src/tokenizers/trainers/index.js";
import { repoRoot } from "../helpers.js";

export const SENTIMENT = join(repoRoot, "fixtures", "finetune", "sentiment_tiny.jsonl");

export function sentimentTexts(): string[] {
  return readFileSync(SENTIMENT, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
}

/** Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json of a tiny GPT-2 into dir. */
export function tinyGpt2Dir(dir: string, texts: string[], opts: { chatTemplate?: string } = {}): { dir: string; tok: Tokenizer } {
  mkdirSync(dir, { recursive: true });
  const json = trainTokenizerFromTexts(texts, { type: "bpe", vocabSize: 400, specialTokens: ["<|endoftext|>"] });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "PreTrainedTokenizerFast", bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", ...(opts.chatTemplate ? { chat_template: opts.chatTemplate } : {}) }),
  );
  const tok = Tokenizer.fromDirectory(dir);
  const eos = tok.tokenToId("<|endoftext|>")!;
  const model = createModel(
    { model_type: "gpt2", n_layer: 2, n_embd: 32, n_head: 2, n_positions: 64, vocab_size: tok.vocabSize, bos_token_id: eos, eos_token_id: eos, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
    ParamSource.init({ seed: 3 }),
  );
  savePretrained(model, dir);
  return { dir, tok };
}
