// Checkpoint I/O: safetensors, sharded weights, config.json, atomic writes (see DESIGN.md, "The
// checkpoint format is the Hugging Face directory"). Explicit exports: helpers used only inside
// src/io stay out of the package's top-level namespace.
export { atomicWrite, atomicWriteFile, atomicWriteJSON, type WriteJSONOptions } from "./atomic.js";
export { parseJSONText, stringifyHF } from "./json.js";
export { SAFETENSORS_DTYPES, f16ToF32, bf16ToF32, f32ToF16, f32ToBf16, type DTypeInfo } from "./dtype.js";
export {
  openSafetensors,
  loadSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsFile,
  type TensorInfo,
  type TensorMap,
  type SaveSafetensorsOptions,
} from "./safetensors.js";
export {
  openCheckpoint,
  openShardedCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  readShardIndex,
  parseSize,
  SAFE_WEIGHTS_NAME,
  SAFE_WEIGHTS_INDEX_NAME,
  DEFAULT_MAX_SHARD_SIZE,
  type TensorSource,
  type ShardIndex,
  type SaveCheckpointOptions,
  type SavedCheckpoint,
} from "./sharded.js";
export {
  readConfig,
  writeConfig,
  readGenerationConfig,
  writeGenerationConfig,
  readJSONObject,
  CONFIG_NAME,
  GENERATION_CONFIG_NAME,
  type ConfigDict,
} from "./config.js";
export { fromPretrained, resolveModelDir, savePretrained, configForSave, readGenerationConfigIfAny, TOKENIZER_FILES, type SavePretrainedOptions, type SavedPretrained, type TokenizerLike } from "./pretrained.js";
export { RunDirectory, TRAIN_CONFIG_NAME, type CheckpointWrite, type CheckpointRead } from "./run.js";
export { savePeftModel, loadPeftModel, loadPeftAdapter, readAdapterConfig } from "./peft.js";
