// models: one file per family, Hugging Face names; the registry maps model_type to a class.
export * from "./common.js";
export { GPT2LMHeadModel, GPT2Model, parseGPT2Config, type GPT2Config, checkpointKeyTable as gpt2KeyTable } from "./gpt2.js";
export { LlamaForCausalLM, LlamaModel, parseLlamaConfig, type LlamaConfig, checkpointKeyTable as llamaKeyTable } from "./llama.js";
export {
  BertModel,
  BertForMaskedLM,
  BertForSequenceClassification,
  createBert,
  parseBertConfig,
  type BertConfig,
  type BertInput,
  type BertOutput,
  checkpointKeyTable as bertKeyTable,
} from "./bert.js";
export { T5ForConditionalGeneration, parseT5Config, shiftRight, type T5Config, type Seq2SeqInput, type Seq2SeqOutput, checkpointKeyTable as t5KeyTable } from "./t5.js";
export {
  TransformerForConditionalGeneration,
  TransformerModel,
  parseTransformerConfig,
  type TransformerConfig,
  checkpointKeyTable as transformerKeyTable,
} from "./transformer.js";
export { PRESETS, PRESET_SIZES, presetConfig, type PresetName, type Sizes } from "./presets.js";
export * from "./registry.js";
