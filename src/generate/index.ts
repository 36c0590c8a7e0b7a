// Public API of tslm's generation parts (see DESIGN.md, inference flow): logits processors and
// warpers, GenerationConfig, greedy and seeded sampling, stopping criteria, beam search
// bookkeeping and the streaming detokenizer. Each part is model-independent; the decoding loop
// composes them.
export * from "./rowops.js";
export * from "./logits_process.js";
export * from "./warpers.js";
export * from "./config.js";
export * from "./sampling.js";
export * from "./stopping.js";
export * from "./beam_search.js";
export * from "./streamer.js";
export * from "./generate.js";
export * from "./text.js";
export * from "./openai.js";
