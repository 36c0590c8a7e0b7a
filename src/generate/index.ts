// Public API of tslm's generation (see DESIGN.md, inference flow; docs/generation.md): logits
// processors and warpers, GenerationConfig, greedy and seeded sampling, stopping criteria, beam
// search bookkeeping and the streaming detokenizer are model-independent parts; generate() /
// generateStream() / Decoding compose them around a model with a KV cache; generateText /
// generateChat add the tokenizer and chat template; configFromOpenAI maps OpenAI request fields.
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
