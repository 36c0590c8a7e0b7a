// `tslm info DIR`: what a model directory holds — model type and class, parameter count, the
// weights' dtypes and files, the tokenizer, and a summary of config.json — without loading the
// weights: parameters are counted from the safetensors headers (a multi-GB checkpoint answers at
// once), leaving out old buffers and saved copies of tied embeddings, as numParameters() does.
// `--json` prints the same as one JSON object. Errors are one line naming the directory or file.
import { Command, CommanderError } from "commander";
import { existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { openCheckpoint, readConfig, resolveModelDir } from "../io/index.js";
import { modelEntry } from "../models/registry.js";
import { Tokenizer } from "../tokenizers/index.js";

function fail(message: string): never {
  process.stderr.write(`tslm info: ${message}\n`);
  throw new CommanderError(1, "tslm.info", message);
}

/** Config fields shown in the summary when present, in this order (HF names of each family). */
const SUMMARY_FIELDS = [
  "vocab_size",
  "n_embd",
  "hidden_size",
  "d_model",
  "n_layer",
  "num_hidden_layers",
  "num_layers",
  "num_decoder_layers",
  "encoder_layers",
  "decoder_layers",
  "n_head",
  "num_attention_heads",
  "num_heads",
  "num_key_value_heads",
  "encoder_attention_heads",
  "decoder_attention_heads",
  "d_kv",
  "head_dim",
  "n_inner",
  "intermediate_size",
  "d_ff",
  "encoder_ffn_dim",
  "decoder_ffn_dim",
  "n_positions",
  "max_position_embeddings",
  "type_vocab_size",
  "relative_attention_num_buckets",
  "activation_function",
  "hidden_act",
  "feed_forward_proj",
  "rope_theta",
  "rope_scaling",
  "tie_word_embeddings",
  "num_labels",
  "id2label",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "decoder_start_token_id",
] as const;

/**
 * Non-parameters in older checkpoints: causal-mask and position buffers, and the encoder-decoder
 * stacks' embed_tokens (always the shared embedding in t5 / transformer).
 */
const BUFFER_KEYS = [/\.attn\.(bias|masked_bias)$/, /(^|\.)position_ids$/, /(^|\.)token_type_ids$/, /\.rotary_emb\.inv_freq$/, /(^|\.)(encoder|decoder)\.embed_tokens\.weight$/];
/** Saved copies of the output projection when tie_word_embeddings (transformers omits them). */
const TIED_COPY_KEYS = [/^lm_head\.weight$/, /^cls\.predictions\.decoder\.(weight|bias)$/];

export interface ModelInfo {
  dir: string;
  model_type: string;
  architecture: string;
  parameters: number;
  /** Safetensors dtype -> number of tensors. */
  dtypes: Record<string, number>;
  weight_files: string[];
  weight_bytes: number;
  tokenizer: { vocab_size: number } | null;
  config: Record<string, unknown>;
}

/** Gathers the information without reading tensor data. */
export function modelInfo(dir: string): ModelInfo {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`${dir}: no such directory`);
  }
  if (!isDir) throw new Error(`${dir}: not a directory`);
  dir = resolveModelDir(dir); // a `tslm train` run directory stands for its latest checkpoint
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) throw new Error(`${dir}: no config.json`);
  const raw = readConfig(configPath);
  let entry;
  try {
    entry = modelEntry(raw.model_type);
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  let cfg: Record<string, unknown>;
  try {
    cfg = entry.parseConfig(raw);
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const tied = cfg.tie_word_embeddings !== false;
  const src = openCheckpoint(dir);
  let parameters = 0;
  const dtypes: Record<string, number> = {};
  const files = new Set<string>();
  let bytes = 0;
  try {
    for (const k of src.keys) {
      const info = src.info(k);
      files.add(relative(dir, info.file) || info.file);
      bytes += info.byteRange[1] - info.byteRange[0];
      // Old buffers, and copies of tied weights that some checkpoints still carry, are not parameters.
      if (BUFFER_KEYS.some((re) => re.test(k)) || (tied && TIED_COPY_KEYS.some((re) => re.test(k)))) continue;
      parameters += info.shape.reduce((a, b) => a * b, 1);
      dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + 1;
    }
  } finally {
    src.close();
  }
  let tokenizer: ModelInfo["tokenizer"] = null;
  if (existsSync(join(dir, "tokenizer.json"))) {
    try {
      tokenizer = { vocab_size: Tokenizer.fromDirectory(dir).vocabSize };
    } catch (e) {
      throw new Error(`${join(dir, "tokenizer.json")}: ${(e as Error).message}`);
    }
  }
  const config: Record<string, unknown> = {};
  for (const f of SUMMARY_FIELDS) if (raw[f] !== undefined && raw[f] !== null) config[f] = cfg[f] ?? raw[f];
  const arch = Array.isArray(raw.architectures) && typeof raw.architectures[0] === "string" ? raw.architectures[0] : entry.architecture;
  return { dir, model_type: entry.modelType, architecture: arch, parameters, dtypes, weight_files: [...files].sort(), weight_bytes: bytes, tokenizer, config };
}

/** 124439808 -> "124.44M". */
export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function humanBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

function printText(i: ModelInfo): void {
  const lines = [
    `model_type    ${i.model_type}`,
    `architecture  ${i.architecture}`,
    `parameters    ${humanCount(i.parameters)} (${i.parameters})`,
    `weights       ${i.weight_files.join(", ")} (${humanBytes(i.weight_bytes)}; ${Object.entries(i.dtypes)
      .map(([d, n]) => `${n} ${d}`)
      .join(", ")})`,
    `tokenizer     ${i.tokenizer ? `tokenizer.json, ${i.tokenizer.vocab_size} tokens` : "none"}`,
    "config",
    ...Object.entries(i.config).map(([k, v]) => `  ${k.padEnd(32)}${typeof v === "object" ? JSON.stringify(v) : String(v)}`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("show a model directory's type, parameter count and config summary")
    .argument("<dir>", "a Hugging Face model directory (config.json + safetensors)")
    .option("--json", "print one JSON object")
    .action((dir: string, o: { json?: boolean }) => {
      let info: ModelInfo;
      try {
        info = modelInfo(dir);
      } catch (e) {
        fail((e as Error).message);
      }
      if (o.json) process.stdout.write(JSON.stringify(info, null, 2) + "\n");
      else printText(info);
    });
}
