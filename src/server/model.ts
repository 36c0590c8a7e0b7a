// A model ready for text generation: weights, tokenizer, generation defaults and chat template,
// loaded from a Hugging Face / tslm model directory or a `tslm train` run directory (its latest
// checkpoint). `tslm generate`, `tslm chat` and `tslm serve` all load through here, so they resolve
// directories, tokenizer ids and context limits the same way.
//
// Also here: the pieces shared by those commands that src/generate leaves to the caller —
// starting a Decoding with the tokenizer's eos/pad ids as defaults (generateText does this
// privately), a per-row streaming detokenizer with stop-string hold-back (as generateStream does,
// but over a Decoding we step ourselves so the server can interleave requests), and mean-pooled
// embeddings from the last hidden states.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { noGrad } from "../autograd/engine.js";
import { Decoding, GenerationConfig, StopStringFilter, TextStreamer, type GenerativeModel } from "../generate/index.js";
import { fromPretrained } from "../io/pretrained.js";
import { LATEST_NAME, RunDirectory } from "../io/run.js";
import type { PretrainedModel } from "../models/registry.js";
import { ChatTemplate } from "../prompting/index.js";
import { Tensor } from "../tensor/tensor.js";
import { Tokenizer } from "../tokenizers/index.js";

export interface LoadedModel {
  /** The directory the weights came from (a checkpoint folder for a run). */
  dir: string;
  /** The name clients use (OpenAI `model`): the run or directory name unless given. */
  id: string;
  model: PretrainedModel;
  tokenizer: Tokenizer;
  /** generation_config.json (or config.json's generation fields), eos/pad defaulted from the tokenizer. */
  generationConfig: GenerationConfig;
  /** The chat template of the directory, or null when it has none. */
  chatTemplate: ChatTemplate | null;
  /** Prompt + completion limit in tokens: n_positions / max_position_embeddings, null when the model has none (T5's relative positions). */
  contextLength: number | null;
  /** Encoder-decoder (t5, transformer): prompts are encoder inputs, the decoder starts afresh. */
  isEncoderDecoder: boolean;
  modelType: string;
  /** Width of the last hidden states (the embedding size). */
  hiddenSize: number;
  created: number;
}

/**
 * Resolves DIR to a model folder: a model directory (config.json) as is; a run directory
 * (train_config.json) to its latest checkpoint. Errors say what was expected.
 */
export function resolveModelDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new Error(`${dir} does not exist`);
  if (!statSync(abs).isDirectory()) throw new Error(`${dir} is not a directory`);
  if (existsSync(join(abs, "config.json"))) return abs;
  if (existsSync(join(abs, "train_config.json"))) {
    const latest = RunDirectory.open(abs).latestCheckpoint();
    if (!latest) throw new Error(`${dir} is a run directory without a complete checkpoint yet (no ${LATEST_NAME} file)`);
    return latest;
  }
  throw new Error(`${dir} is neither a model directory (config.json) nor a tslm run directory (train_config.json)`);
}

/** The most recently modified run under `runsDir` that has a checkpoint (serve's default model). */
export function latestRun(runsDir = "runs"): string {
  const abs = resolve(runsDir);
  if (!existsSync(abs)) throw new Error(`no --model given and no ${runsDir}/ folder here (train one with \`tslm train\`, or pass --model DIR)`);
  const runs = readdirSync(abs)
    .map((n) => join(abs, n))
    .filter((p) => existsSync(join(p, LATEST_NAME)) && existsSync(join(p, "train_config.json")))
    .map((p) => ({ p, t: statSync(join(p, LATEST_NAME)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (runs.length === 0) throw new Error(`no --model given and no run with a checkpoint under ${runsDir}/ (pass --model DIR)`);
  return runs[0].p;
}

function contextOf(config: Record<string, unknown>): number | null {
  for (const k of ["n_positions", "max_position_embeddings"]) {
    const v = config[k];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return null;
}

/** Loads everything generation needs; `template` overrides the directory's chat template with a Jinja file's text. */
export function loadModel(dirArg: string, opts: { id?: string; template?: string } = {}): LoadedModel {
  const dir = resolveModelDir(dirArg);
  if (!existsSync(join(dir, "tokenizer.json"))) throw new Error(`${dir} has no tokenizer.json (generation needs the model's tokenizer)`);
  const model = fromPretrained(dir);
  // Inference only: dropout off for embeddings too (Decoding switches it off per step itself).
  model.train(false);
  const tokenizer = Tokenizer.fromDirectory(dir);
  const config = model.config as Record<string, unknown>;
  const modelType = String(config["model_type"]);
  const isEncoderDecoder = typeof (model as unknown as { encode?: unknown }).encode === "function";
  if (!isEncoderDecoder && typeof (model as unknown as { newCache?: unknown }).newCache !== "function") {
    throw new Error(`${dir}: a ${modelType} model cannot generate text (supported: gpt2, llama, t5, transformer)`);
  }
  const generationConfig = withTokenizerIds(GenerationConfig.fromPretrained(dir), tokenizer);
  let chatTemplate: ChatTemplate | null = null;
  if (opts.template !== undefined) {
    chatTemplate = new ChatTemplate(opts.template, specialTokensOf(tokenizer));
  } else {
    try {
      chatTemplate = ChatTemplate.fromDirectory(dir);
    } catch {
      chatTemplate = null; // no template: chat endpoints answer with a clear error
    }
  }
  const hidden = config["n_embd"] ?? config["hidden_size"] ?? config["d_model"];
  // A run's checkpoint is named after the run, not "checkpoint-N".
  const runName = /^checkpoint-\d+$/.test(basename(dir)) ? basename(join(dir, "..")) : basename(dir);
  return {
    dir,
    id: opts.id ?? runName,
    model,
    tokenizer,
    generationConfig,
    chatTemplate,
    contextLength: isEncoderDecoder ? null : contextOf(config),
    isEncoderDecoder,
    modelType,
    hiddenSize: typeof hidden === "number" ? hidden : 0,
    created: Math.floor(statSync(dir).mtimeMs / 1000),
  };
}

function specialTokensOf(tok: Tokenizer): Record<string, string> {
  const c = tok.config;
  const out: Record<string, string> = {};
  const pairs: [string, string | null | undefined][] = [
    ["bos_token", c.bosToken],
    ["eos_token", c.eosToken],
    ["unk_token", c.unkToken],
    ["pad_token", c.padToken],
    ["sep_token", c.sepToken],
    ["cls_token", c.clsToken],
    ["mask_token", c.maskToken],
  ];
  for (const [k, v] of pairs) if (typeof v === "string") out[k] = v;
  return out;
}

/** The config's eos/pad ids, defaulted from the tokenizer when the model's generation config has none (as generateText does). */
export function withTokenizerIds(cfg: GenerationConfig, tok: Tokenizer): GenerationConfig {
  const extra: Record<string, unknown> = {};
  if (cfg.eos_token_id === null && tok.config.eosToken) {
    const id = tok.tokenToId(tok.config.eosToken);
    if (id !== undefined) extra["eos_token_id"] = id;
  }
  if (cfg.pad_token_id === null && tok.config.padToken) {
    const id = tok.tokenToId(tok.config.padToken);
    if (id !== undefined) extra["pad_token_id"] = id;
  }
  return Object.keys(extra).length > 0 ? cfg.with(extra, "fields") : cfg;
}

/** Token ids of a prompt: plain text with the tokenizer's special tokens (HF pipelines), chat renderings without (the template wrote them). */
export function encodePrompt(lm: LoadedModel, text: string, opts: { chat?: boolean } = {}): number[] {
  return lm.tokenizer.encode(text, { addSpecialTokens: !opts.chat }).ids;
}

/** Starts a decoding of one prompt (rows = num_return_sequences or num_beams). */
export function startDecoding(lm: LoadedModel, ids: number[], config: GenerationConfig): Decoding {
  return new Decoding(lm.model as unknown as GenerativeModel, [ids], config, { tokenizer: lm.tokenizer });
}

/**
 * Per-row streaming text of a Decoding: complete UTF-8 only, stop strings held back and cut. Feed
 * it each step's tokens and finished flags; it returns the new text per row.
 */
export class RowTexts {
  private readonly streams: TextStreamer[];
  private readonly stops: StopStringFilter[] | null;

  constructor(tokenizer: Tokenizer, rows: number, stopStrings: string[] | null) {
    this.streams = Array.from({ length: rows }, () => new TextStreamer(tokenizer, { skipPrompt: false }));
    this.stops = stopStrings && stopStrings.length > 0 ? Array.from({ length: rows }, () => new StopStringFilter(stopStrings)) : null;
  }

  push(tokens: Array<number | null>, finished: boolean[]): string[] {
    return tokens.map((t, r) => {
      if (t === null) return "";
      let text = this.streams[r].put(t);
      if (finished[r]) text += this.streams[r].end();
      if (this.stops) text = this.stops[r].push(text) + (finished[r] ? this.stops[r].end() : "");
      return text;
    });
  }
}

/**
 * Sentence embeddings: the last hidden states (the decoder stack's output for gpt2 / llama, the
 * encoder's for t5 / transformer) averaged over the tokens and L2-normalised, one vector per input.
 * Inputs run one at a time (no padding to get wrong).
 */
export function embed(lm: LoadedModel, ids: number[]): Float32Array {
  if (ids.length === 0) throw new Error("cannot embed an empty input");
  const m = lm.model as unknown as Record<string, unknown>;
  const input = new Tensor(Int32Array.from(ids), [1, ids.length]);
  const hidden = noGrad(() => {
    if (lm.isEncoderDecoder) return (m as { encode(i: Tensor): Tensor }).encode(input);
    const positions = new Tensor(Int32Array.from(ids, (_, i) => i), [1, ids.length]);
    const body = (m["transformer"] ?? m["model"]) as { forward(i: Tensor, p: Tensor, mask: null): Tensor } | undefined;
    if (!body || typeof body.forward !== "function") throw new Error(`embeddings are not supported for ${lm.modelType} models`);
    return body.forward(input, positions, null);
  }); // (1, T, C)
  const [, T, C] = hidden.shape;
  const h = hidden.toTypedArray() as Float32Array;
  const out = new Float32Array(C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) out[c] += h[t * C + c];
  let norm = 0;
  for (let c = 0; c < C; c++) {
    out[c] /= T;
    norm += out[c] * out[c];
  }
  norm = Math.sqrt(norm) || 1;
  for (let c = 0; c < C; c++) out[c] /= norm;
  return out;
}
