// Parameter-efficient tuning in Hugging Face peft's formats: LoRA, IA3, prefix tuning, prompt
// tuning, and tslm's bottleneck adapter (TSLM_BOTTLENECK). See model.ts for the contract.
export * from "./config.js";
export { AdapterDict, BottleneckAdapter, IA3Layer, LoraLayer, ModulesToSaveWrapper, Weight, cloneModule } from "./layers.js";
export { PrefixEncoder, PromptEmbedding } from "./prompt.js";
export { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PeftModel, TunerModel, getPeftModel, matchesTarget, textInitIds, type PeftBaseModel, type PeftOptions } from "./model.js";
