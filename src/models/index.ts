// models: one file per family, Hugging Face names; the registry maps model_type to a class.
export * from "./common.js";
export { GPT2LMHeadModel, GPT2Model, parseGPT2Config, type GPT2Config, checkpointKeyTable as gpt2KeyTable } from "./gpt2.js";
export { LlamaForCausalLM, LlamaModel, parseLlamaConfig, type LlamaConfig, checkpointKeyTable as llamaKeyTable } from "./llama.js";
export * from "./registry.js";
