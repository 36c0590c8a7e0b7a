// tslm data: everything between text and batches (DESIGN.md, "training" flow).
//   sources   .txt / .md files, folders, JSONL fields -> documents, streamed
//   cache     documents -> token ids in a binary cache keyed by tokenizer and sources
//   tokens    token streams (in memory, on disk, views) that samplers read
//   split     train / validation splits, packing, fixed-size blocks
//   corpus    sources + tokenizer -> cached train / validation streams in one call
//   sampler   seeded random or sequential windows, resumable
//   collators causal LM, masked LM (+ whole word), T5 span corruption, classification, seq2seq
export * from "./sources.js";
export * from "./hash.js";
export * from "./progress.js";
export * from "./tokens.js";
export * from "./cache.js";
export * from "./split.js";
export * from "./corpus.js";
export * from "./sampler.js";
export * from "./specials.js";
export { IGNORE_INDEX, CausalLMCollator, type CausalLMCollatorOptions, type CausalLMBatch } from "./collators/causal.js";
export { padSequences, paddedLength, type PaddingSide, type PaddingOptions, type Padded } from "./collators/pad.js";
export { MLMCollator, type MLMCollatorOptions, type MLMBatch, type WordScheme } from "./collators/mlm.js";
export {
  SpanCorruptionCollator,
  computeInputAndTargetLengths,
  randomSpansNoiseMask,
  applySpanCorruption,
  noiseSpanCounts,
  roundHalfEven,
  shiftTokensRight,
  type SpanCorruptionCollatorOptions,
  type SpanCorruptionBatch,
} from "./collators/spans.js";
export {
  SequenceClassificationCollator,
  Seq2SeqCollator,
  type ClassificationExample,
  type SequenceClassificationCollatorOptions,
  type SequenceClassificationBatch,
  type Seq2SeqExample,
  type Seq2SeqCollatorOptions,
  type Seq2SeqBatch,
} from "./collators/tasks.js";
