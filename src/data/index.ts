// tslm data: everything between text and batches (DESIGN.md, "training" flow).
//   sources   .txt / .md files, folders, JSONL fields -> documents, streamed
//   cache     documents -> token ids in a binary cache keyed by tokenizer and sources
//   tokens    token streams (in memory, on disk, views) that samplers read
//   split     train / validation splits, packing, fixed-size blocks
//   corpus    sources + tokenizer -> cached train / validation streams in one call
//   sampler   seeded random or sequential windows, resumable
//   collators causal LM, masked LM (+ whole word), T5 span corruption, classification, seq2seq,
//             instruction (prompt -> response, loss on the response only)
//
// Typical use (a GPT on a folder of books; the trainer's path):
//   const corpus = prepareCorpus({ sources: { path: "books/", encoding: "auto" }, tokenizer,
//     cacheDir: ".cache/tokens", validation: { fraction: 0.05 } });
//   const train = new BatchSampler(corpus.train, { batchSize: 16, blockSize: 256, seed: 1337 });
//   const batch = train.next()!;
//   const x = batch.inputs(), y = batch.targets(); // (B, T) int32 each; y is x shifted by one
//   // save train.getState() with a checkpoint; setState() it on resume for the same next batches.
// Masked LM / span corruption: sample windows, then MLMCollator / SpanCorruptionCollator
// .fromTokenizer(tokenizer).collate(batch.rowArrays()).
export * from "./sources.js";
export * from "./hash.js";
export * from "./progress.js";
export * from "./tokens.js";
export * from "./cache.js";
export * from "./split.js";
export * from "./corpus.js";
export * from "./sampler.js";
export * from "./rng_state.js";
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
  InstructionCollator,
  type InstructionExample,
  type InstructionCollatorOptions,
  type InstructionBatch,
  type ClassificationExample,
  type SequenceClassificationCollatorOptions,
  type SequenceClassificationBatch,
  type Seq2SeqExample,
  type Seq2SeqCollatorOptions,
  type Seq2SeqBatch,
} from "./collators/tasks.js";
