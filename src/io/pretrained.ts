// Hugging Face model directories: fromPretrained(dir) and savePretrained(model, dir).
//
// Contract (mirrors transformers' `PreTrainedModel.from_pretrained` / `save_pretrained` for
// safetensors checkpoints):
//   - fromPretrained reads config.json, dispatches on its `model_type` through the models registry
//     (src/models/registry.ts; an unknown type lists the supported ones), reads the weights from
//     `model.safetensors` or the sharded index, and builds the model in load mode: every parameter
//     comes from the checkpoint, and missing / unexpected keys and shape mismatches are errors that
//     name the key and the file (the registry's ParamSource does those checks).
//   - savePretrained writes model.safetensors (or shards + index beyond `maxShardSize`), the
//     tokenizer files if given, generation_config.json if given, and config.json LAST, each file
//     atomically, so a directory that has a config.json has its weights. config.json is the model's
//     config with `architectures`, `model_type` and `torch_dtype` set ("float32" by default, the
//     dtype tslm computes in; opts.dtype writes float16 / bfloat16 weights instead; transformers 4 and
//     5 both read torch_dtype) and without `transformers_version` (transformers did not write this
//     file) or a stale `dtype`.
//   - Tied parameters are saved once, under their first path (Module.stateDict), which is what
//     transformers does; the model's key table accepts the omitted copy on load.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { Module } from "../nn/module.js";
import { loadModel, modelEntry, type PretrainedModel } from "../models/registry.js";
import { floatFields } from "../models/common.js";
import { atomicWriteFile, atomicWriteJSON } from "./atomic.js";
import { stringifyHF } from "./json.js";
import { readConfig, readGenerationConfig, writeConfig, writeGenerationConfig, CONFIG_NAME, GENERATION_CONFIG_NAME, type ConfigDict } from "./config.js";
import { openCheckpoint, saveCheckpoint, type SavedCheckpoint } from "./sharded.js";
import type { Tensor } from "../tensor/tensor.js";

/** Files a Hugging Face tokenizer may consist of; savePretrained copies those that exist. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "vocab.txt",
  "tokenizer.model",
  "spiece.model",
  "chat_template.jinja",
] as const;

function requireDir(dir: string, what: string): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    throw new Error(`${what}: ${dir} does not exist`);
  }
  if (!ok) throw new Error(`${what}: ${dir} is not a directory`);
}

/** Loads a model from a Hugging Face directory (config.json + safetensors weights). */
/**
 * The model directory `dir` stands for: itself, or for a `tslm train` run directory (it has a
 * train_config.json and a `latest` file), its newest complete checkpoint.
 */
export function resolveModelDir(dir: string): string {
  if (existsSync(join(dir, CONFIG_NAME)) || !existsSync(join(dir, "train_config.json"))) return dir;
  const latest = join(dir, "latest");
  if (!existsSync(latest)) throw new Error(`${dir} is a tslm run directory without a checkpoint yet (no ${latest})`);
  const name = readFileSync(latest, "utf8").trim();
  if (!/^checkpoint-\d+$/.test(name) || !existsSync(join(dir, name, CONFIG_NAME))) throw new Error(`${latest} names "${name}", which is not a complete checkpoint`);
  return join(dir, name);
}

export function fromPretrained(dir: string): PretrainedModel {
  requireDir(dir, "fromPretrained");
  dir = resolveModelDir(dir);
  const configPath = join(dir, CONFIG_NAME);
  if (!existsSync(configPath)) throw new Error(`fromPretrained: ${dir} has no ${CONFIG_NAME}`);
  const config = readConfig(configPath);
  try {
    modelEntry(config.model_type);
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const src = openCheckpoint(dir);
  const tensors = new Map<string, Tensor>();
  try {
    for (const k of src.keys) tensors.set(k, src.read(k));
  } finally {
    src.close();
  }
  // `origin` (the weights file or the index) is what load errors name: "loading from <path>".
  const model = loadModel(config, tensors, { origin: src.path });
  // Like transformers' from_pretrained: a loaded model starts in eval mode (dropout off); the
  // trainer switches it to training mode itself.
  model.eval();
  return model;
}

/** A tokenizer object that can serialise itself as tokenizer.json (tslm's Tokenizer does). */
export interface TokenizerLike {
  toJSON(): unknown;
}

export interface SavePretrainedOptions {
  /** Shard size limit in bytes or as "5GB"/"500MiB" (default 5 GB, like transformers). */
  maxShardSize?: number | string;
  /** A tokenizer to write as tokenizer.json, or a directory (or file) whose tokenizer files to copy. */
  tokenizer?: TokenizerLike | string;
  /** generation_config.json content to write (default: none). */
  generationConfig?: ConfigDict;
  /**
   * Float dtype of the weights file: "float32" (default, exact), or "float16" / "bfloat16" (half the
   * size, rounded like PyTorch's .half() / .bfloat16()); config.json's torch_dtype says which.
   */
  dtype?: "float32" | "float16" | "bfloat16";
}

export interface SavedPretrained extends SavedCheckpoint {
  /** Every file written, relative to the directory. */
  written: string[];
}

/** The config.json to write for a model: its config plus the fields transformers needs. */
export function configForSave(model: PretrainedModel, dtype: "float32" | "float16" | "bfloat16" = "float32"): ConfigDict {
  const cfg: ConfigDict = { ...(model.config as ConfigDict) };
  const entry = modelEntry(cfg.model_type);
  const arch = (model.constructor as { architecture?: unknown }).architecture;
  delete cfg.transformers_version;
  delete cfg.dtype;
  cfg.architectures = [typeof arch === "string" ? arch : entry.architecture];
  cfg.model_type = entry.modelType;
  cfg.torch_dtype = dtype;
  return cfg;
}

/** Copies a file atomically (read whole: tokenizer files are small). */
function copyAtomic(from: string, to: string): void {
  atomicWriteFile(to, readFileSync(from));
}

/** Saves a model as a Hugging Face directory that transformers' from_pretrained loads. */
export function savePretrained(model: PretrainedModel | Module, dir: string, opts: SavePretrainedOptions = {}): SavedPretrained {
  const m = model as PretrainedModel;
  if (!m.config || typeof m.config !== "object") throw new Error(`savePretrained: the model has no config (expected a model built by createModel / fromPretrained)`);
  const dtype = opts.dtype ?? "float32";
  const floatDtype = ({ float32: "F32", float16: "F16", bfloat16: "BF16" } as const)[dtype];
  if (!floatDtype) throw new Error(`savePretrained: dtype must be "float32", "float16" or "bfloat16", got ${JSON.stringify(dtype)}`);
  const config = configForSave(m, dtype);
  // Everything that can fail on bad input fails before the first file is written.
  stringifyHF(config);
  if (opts.generationConfig) stringifyHF(opts.generationConfig);
  const tok = opts.tokenizer;
  if (typeof tok === "string" && !existsSync(tok)) throw new Error(`savePretrained: tokenizer path ${tok} does not exist`);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const saved = saveCheckpoint(dir, m.stateDict(), { maxShardSize: opts.maxShardSize, metadata: { format: "pt" }, floatDtype });
  written.push(...saved.files);
  if (saved.index) written.push("model.safetensors.index.json");
  if (typeof tok === "string") {
    // A directory: copy every tokenizer file it has. A file: copy that file under its own name.
    const isDir = statSync(tok).isDirectory();
    const pairs: [string, string][] = isDir ? TOKENIZER_FILES.filter((f) => existsSync(join(tok, f))).map((f) => [join(tok, f), f]) : [[tok, basename(tok)]];
    if (pairs.length === 0) throw new Error(`savePretrained: ${tok} holds none of the tokenizer files (${TOKENIZER_FILES.join(", ")})`);
    for (const [from, name] of pairs) {
      copyAtomic(from, join(dir, name));
      written.push(name);
    }
  } else if (tok !== undefined) {
    if (typeof tok.toJSON !== "function") throw new Error(`savePretrained: tokenizer must be a tokenizer object (with toJSON) or a path`);
    // tokenizers' own save() writes insertion-ordered, pretty JSON; keep its key order.
    atomicWriteJSON(join(dir, "tokenizer.json"), tok.toJSON(), { style: "insertion" });
    written.push("tokenizer.json");
  }
  if (opts.generationConfig) {
    writeGenerationConfig(dir, opts.generationConfig);
    written.push(GENERATION_CONFIG_NAME);
  }
  writeConfig(dir, config, { floatKeys: floatFields(String(config.model_type)) });
  written.push(CONFIG_NAME);
  return { ...saved, written };
}

/** generation_config.json of a directory, or null when it has none. */
export function readGenerationConfigIfAny(dir: string): ConfigDict | null {
  const p = join(dir, GENERATION_CONFIG_NAME);
  return existsSync(p) ? readGenerationConfig(p) : null;
}
