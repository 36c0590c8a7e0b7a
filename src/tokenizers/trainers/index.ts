// Tokenizer training, end to end: stream the training files through a front end (normalizer +
// pre-tokenizer) into word counts, train the model, and assemble a Hugging Face tokenizer.json
// object with the same components HF's trainers would leave in a tokenizer trained the same way.
//
//   bpe        byte-level BPE (GPT-2 style): ByteLevel pre-tokenizer / post-processor / decoder,
//              the 256 byte characters as initial alphabet, so no unknown token is ever needed.
//   wordpiece  BERT style: BertNormalizer (lowercase), BertPreTokenizer, WordPiece "##",
//              BertProcessing with [CLS] / [SEP] when those are among the special tokens.
//   unigram    SentencePiece style: NFKC, WhitespaceSplit + Metaspace("▁"), Metaspace decoder.
//
// `trainTokenizer` returns tslm's Tokenizer, ready to encode; the `trainTokenizerFrom*` functions
// return plain tokenizer.json (`TokenizerJson`), to write with JSON.stringify and load in tslm or
// Python `tokenizers`. The `tslm tokenizer train` command (src/cli/tokenizer.ts) wraps them.

import { Tokenizer } from "../tokenizer.js";
import { trainBpe } from "./bpe.js";
import { byteLevelAlphabet, byteLevelPipeline, bertPipeline, metaspacePipeline, METASPACE, type TrainingPipeline } from "./pipelines.js";
import { trainUnigram } from "./unigram.js";
import { trainWordPiece } from "./wordpiece.js";
import { countWords, countWordsInTexts } from "./words.js";

export { trainBpe, type BpeTrainerOptions, type BpeTrainResult } from "./bpe.js";
export { trainWordPiece, type WordPieceTrainerOptions } from "./wordpiece.js";
export { trainUnigram, type UnigramTrainerOptions, type UnigramTrainResult } from "./unigram.js";
export { countWords, countWordsInTexts, forEachLine, type WordSplitter } from "./words.js";
export * from "./pipelines.js";

export type TrainerType = "bpe" | "wordpiece" | "unigram";
export const TRAINER_TYPES: readonly TrainerType[] = ["bpe", "wordpiece", "unigram"];

export interface TrainTokenizerOptions {
  type: TrainerType;
  vocabSize: number;
  /** BPE / WordPiece: minimum pair count for a merge. Default 0 (HF's default). */
  minFrequency?: number;
  /** Added first with ids 0.. Defaults: bpe ["<|endoftext|>"], wordpiece the five BERT tokens,
   * unigram ["<unk>"]. */
  specialTokens?: string[];
  /** BPE / WordPiece: keep at most this many alphabet characters. */
  limitAlphabet?: number;
  /** WordPiece / Unigram unknown token. Defaults "[UNK]" / "<unk>". */
  unkToken?: string;
  /** WordPiece: replay this id order for "##c" tokens (see wordpiece.ts). */
  prefixedOrder?: string[];
  /** Unigram: HF's defaults are 0.75, 2 and 16. */
  shrinkingFactor?: number;
  nSubIterations?: number;
  maxPieceLength?: number;
  /** Training files with bytes that are not UTF-8: "error" (default, as HF) or "replace" (U+FFFD). */
  invalidUtf8?: "error" | "replace";
  /** Progress: stage, done, total. "Read files" counts bytes. */
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** A tokenizer.json document (only the fields the trainers fill are typed). */
export interface TokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: Record<string, unknown>;
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

const DEFAULT_SPECIALS: Record<TrainerType, string[]> = {
  bpe: ["<|endoftext|>"],
  wordpiece: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
  unigram: ["<unk>"],
};

export function pipelineFor(type: TrainerType): TrainingPipeline {
  if (type === "bpe") return byteLevelPipeline();
  if (type === "wordpiece") return bertPipeline();
  return metaspacePipeline();
}

/** Trains a tokenizer on text files and returns it ready to encode (see trainTokenizerFromFiles). */
export function trainTokenizer(files: string[], options: TrainTokenizerOptions): Tokenizer {
  return Tokenizer.fromJSON(trainTokenizerFromFiles(files, options));
}

/** Trains a tokenizer on text files (read by streaming, line by line) into tokenizer.json form. */
export function trainTokenizerFromFiles(files: string[], options: TrainTokenizerOptions): TokenizerJson {
  validate(options);
  const pipeline = pipelineFor(options.type);
  const raw = countWords(files, pipeline.split, {
    onProgress: (done, total) => options.onProgress?.("Read files", done, total),
    invalidUtf8: options.invalidUtf8,
  });
  return trainTokenizerFromWordCounts(mapWords(raw, pipeline), options);
}

/** Trains a tokenizer on in-memory texts (each cut into lines like a file). */
export function trainTokenizerFromTexts(texts: Iterable<string>, options: TrainTokenizerOptions): TokenizerJson {
  validate(options);
  const pipeline = pipelineFor(options.type);
  return trainTokenizerFromWordCounts(mapWords(countWordsInTexts(texts, pipeline.split), pipeline), options);
}

/** Word counts in the form the trainer sees them (e.g. byte-level characters). */
export function mapWords(raw: Map<string, number>, pipeline: TrainingPipeline): Map<string, number> {
  const map = pipeline.mapWord;
  if (map === undefined) return raw;
  const out = new Map<string, number>();
  for (const [w, c] of raw) out.set(map(w), c);
  return out;
}

/** Trains on word counts already cut by `pipelineFor(options.type)`. */
export function trainTokenizerFromWordCounts(words: Map<string, number>, options: TrainTokenizerOptions): TokenizerJson {
  validate(options);
  const pipeline = pipelineFor(options.type);
  const specials = options.specialTokens ?? DEFAULT_SPECIALS[options.type];
  const onProgress = options.onProgress;
  if (options.type === "bpe") {
    const r = trainBpe(words, {
      vocabSize: options.vocabSize,
      minFrequency: options.minFrequency ?? 0,
      specialTokens: specials,
      limitAlphabet: options.limitAlphabet,
      initialAlphabet: byteLevelAlphabet(),
      onProgress,
    });
    return {
      ...skeleton(specials, r.vocab, pipeline),
      post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: vocabObject(r.vocab),
        merges: r.merges,
      },
    };
  }
  if (options.type === "wordpiece") {
    const unk = options.unkToken ?? "[UNK]";
    const r = trainWordPiece(words, {
      vocabSize: options.vocabSize,
      minFrequency: options.minFrequency ?? 0,
      specialTokens: specials,
      limitAlphabet: options.limitAlphabet,
      prefixedOrder: options.prefixedOrder,
      onProgress,
    });
    const cls = r.vocab.indexOf("[CLS]");
    const sep = r.vocab.indexOf("[SEP]");
    return {
      ...skeleton(specials, r.vocab, pipeline),
      post_processor: cls >= 0 && sep >= 0 ? { type: "BertProcessing", sep: ["[SEP]", sep], cls: ["[CLS]", cls] } : null,
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: {
        type: "WordPiece",
        unk_token: unk,
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab: vocabObject(r.vocab),
      },
    };
  }
  const unk = options.unkToken ?? "<unk>";
  const r = trainUnigram(words, {
    vocabSize: options.vocabSize,
    specialTokens: specials,
    unkToken: unk,
    shrinkingFactor: options.shrinkingFactor,
    nSubIterations: options.nSubIterations,
    maxPieceLength: options.maxPieceLength,
    onProgress,
  });
  return {
    ...skeleton(specials, r.pieces.map(([p]) => p), pipeline),
    post_processor: null,
    decoder: { type: "Metaspace", replacement: METASPACE, prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: r.unkId, vocab: r.pieces, byte_fallback: false },
  };
}

function validate(o: TrainTokenizerOptions): void {
  if (!TRAINER_TYPES.includes(o.type)) {
    throw new Error(`unknown tokenizer type "${String(o.type)}"; supported: ${TRAINER_TYPES.join(", ")}`);
  }
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) {
    throw new Error(`vocabSize must be a positive integer, got ${String(o.vocabSize)}`);
  }
  if (o.minFrequency !== undefined && (!Number.isInteger(o.minFrequency) || o.minFrequency < 0)) {
    throw new Error(`minFrequency must be a non-negative integer, got ${String(o.minFrequency)}`);
  }
}

function skeleton(specials: string[], vocab: string[], pipeline: TrainingPipeline) {
  const ids = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    // Special tokens are added tokens too, so that they are matched in text before splitting.
    added_tokens: [...new Set(specials)].map((content) => ({
      id: ids.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: pipeline.normalizer,
    pre_tokenizer: pipeline.pre_tokenizer,
  } as const;
}

function vocabObject(vocab: string[]): Record<string, number> {
  // Insertion order = id order, as HF writes it (JSON.stringify still puts integer-like keys such
  // as "0" first; key order carries no meaning). No prototype, so a token "__proto__" is a key.
  const out = Object.create(null) as Record<string, number>;
  vocab.forEach((t, i) => {
    if (!Object.prototype.hasOwnProperty.call(out, t)) out[t] = i;
  });
  return out;
}
