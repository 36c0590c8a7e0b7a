// GenerationConfig: the decoding settings, with Hugging Face generation_config.json field names
// verbatim (snake_case), plus tslm's camelCase options for the TypeScript API.
//
// Reference: transformers.generation.configuration_utils.GenerationConfig (transformers 5.x). Fields
// left unset take HF's `_get_default_generation_params()` values (max_length 20, top_k 50, ...), so
// a config means the same thing here as in Python.
//
// Validation follows STYLE.md point 9: a field tslm does not implement is an error when its value
// would change the output (HF's own default is accepted, e.g. typical_p 1.0), an unknown field is an
// error, and both messages list the supported fields. Fields that only shape Python's return value
// or its caching (output_scores, use_cache, ...) are accepted and have no effect here.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ExponentialDecayLengthPenalty,
  FrequencyPresencePenaltyLogitsProcessor,
  ForcedBOSTokenLogitsProcessor,
  ForcedEOSTokenLogitsProcessor,
  LogitBiasLogitsProcessor,
  LogitNormalization,
  LogitsProcessorList,
  MinLengthLogitsProcessor,
  MinNewTokensLengthLogitsProcessor,
  NoBadWordsLogitsProcessor,
  NoRepeatNGramLogitsProcessor,
  RepetitionPenaltyLogitsProcessor,
  SequenceBiasLogitsProcessor,
  SuppressTokensAtBeginLogitsProcessor,
  SuppressTokensLogitsProcessor,
} from "./logits_process.js";
import {
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  MinPLogitsWarper,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
} from "./warpers.js";

export type EarlyStopping = boolean | "never";

/** Every field tslm implements, HF names (the last four are OpenAI's, not HF's). */
export interface GenerationConfigFields {
  max_length: number;
  max_new_tokens: number | null;
  min_length: number;
  min_new_tokens: number | null;
  max_time: number | null;
  stop_strings: string[] | null;
  do_sample: boolean;
  num_beams: number;
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number | null;
  typical_p: number;
  epsilon_cutoff: number;
  eta_cutoff: number;
  repetition_penalty: number;
  no_repeat_ngram_size: number;
  length_penalty: number;
  early_stopping: EarlyStopping;
  num_return_sequences: number;
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  pad_token_id: number | null;
  forced_bos_token_id: number | null;
  forced_eos_token_id: number | number[] | null;
  suppress_tokens: number[] | null;
  begin_suppress_tokens: number[] | null;
  sequence_bias: Array<[number[], number]> | null;
  bad_words_ids: number[][] | null;
  exponential_decay_length_penalty: [number, number] | null;
  renormalize_logits: boolean;
  decoder_start_token_id: number | null;
  prompt_lookup_num_tokens: number | null;
  max_matching_ngram_size: number | null;
  // OpenAI request fields with no HF equivalent.
  frequency_penalty: number;
  presence_penalty: number;
  logit_bias: Record<string, number> | null;
  seed: number | null;
}

/** HF's defaults for unset fields (GenerationConfig._get_default_generation_params), and tslm's for its own. */
export const GENERATION_DEFAULTS: Readonly<GenerationConfigFields> = Object.freeze({
  max_length: 20,
  max_new_tokens: null,
  min_length: 0,
  min_new_tokens: null,
  max_time: null,
  stop_strings: null,
  do_sample: false,
  num_beams: 1,
  temperature: 1.0,
  top_k: 50,
  top_p: 1.0,
  min_p: null,
  typical_p: 1.0,
  epsilon_cutoff: 0.0,
  eta_cutoff: 0.0,
  repetition_penalty: 1.0,
  no_repeat_ngram_size: 0,
  length_penalty: 1.0,
  early_stopping: false,
  num_return_sequences: 1,
  bos_token_id: null,
  eos_token_id: null,
  pad_token_id: null,
  forced_bos_token_id: null,
  forced_eos_token_id: null,
  suppress_tokens: null,
  begin_suppress_tokens: null,
  sequence_bias: null,
  bad_words_ids: null,
  exponential_decay_length_penalty: null,
  renormalize_logits: false,
  decoder_start_token_id: null,
  prompt_lookup_num_tokens: null,
  max_matching_ngram_size: null,
  frequency_penalty: 0,
  presence_penalty: 0,
  logit_bias: null,
  seed: null,
});

export const SUPPORTED_FIELDS: readonly string[] = Object.keys(GENERATION_DEFAULTS);

/** HF fields that only affect Python's outputs, caching or bookkeeping: accepted, no effect. */
const INERT_FIELDS = new Set([
  "transformers_version",
  "_from_model_config",
  "_commit_hash",
  "use_cache",
  "cache_implementation",
  "cache_config",
  "max_cache_len",
  "output_attentions",
  "output_hidden_states",
  "output_scores",
  "output_logits",
  "return_dict_in_generate",
  "compile_config",
  "disable_compile",
  "is_assistant",
  "num_assistant_tokens",
  "num_assistant_tokens_schedule",
  "assistant_confidence_threshold",
  "assistant_lookbehind",
  "target_lookbehind",
  "remove_invalid_values", // tslm never produces inf/nan scores where HF's processor would fix them
]);

/**
 * HF fields tslm does not implement, with the value(s) that mean "off". Any other value is an
 * error: silently ignoring it would generate different text than Python.
 */
const UNSUPPORTED_UNLESS_OFF: Record<string, readonly unknown[]> = {
  top_h: [null],
  encoder_repetition_penalty: [null, 1],
  encoder_no_repeat_ngram_size: [null, 0],
  guidance_scale: [null, 1],
  num_beam_groups: [null, 1],
  diversity_penalty: [null, 0],
  penalty_alpha: [null],
  dola_layers: [null],
  constraints: [null],
  force_words_ids: [null],
  watermarking_config: [null],
  token_healing: [null, false],
  assistant_early_exit: [null],
  low_memory: [null, false],
  use_mtp: [null, false],
  prefill_chunk_size: [null],
  continuous_batching_config: [null],
  speculation_type: [null],
  assistant_ensemble_weight: [null],
};

const snakeToCamel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** camelCase API name -> HF field name, e.g. maxNewTokens -> max_new_tokens, noRepeatNgramSize -> no_repeat_ngram_size. */
export const CAMEL_TO_FIELD: Readonly<Record<string, keyof GenerationConfigFields>> = Object.freeze(
  Object.fromEntries(SUPPORTED_FIELDS.map((f) => [snakeToCamel(f), f as keyof GenerationConfigFields])),
);

/** The TypeScript API's options: camelCase names of the supported fields. */
export interface GenerationOptions {
  maxLength?: number;
  maxNewTokens?: number | null;
  minLength?: number;
  minNewTokens?: number | null;
  maxTime?: number | null;
  stopStrings?: string[] | string | null;
  doSample?: boolean;
  numBeams?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number | null;
  typicalP?: number;
  epsilonCutoff?: number;
  etaCutoff?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  lengthPenalty?: number;
  earlyStopping?: EarlyStopping;
  numReturnSequences?: number;
  bosTokenId?: number | null;
  eosTokenId?: number | number[] | null;
  padTokenId?: number | null;
  forcedBosTokenId?: number | null;
  forcedEosTokenId?: number | number[] | null;
  suppressTokens?: number[] | null;
  beginSuppressTokens?: number[] | null;
  sequenceBias?: Array<[number[], number]> | null;
  badWordsIds?: number[][] | null;
  exponentialDecayLengthPenalty?: [number, number] | null;
  renormalizeLogits?: boolean;
  decoderStartTokenId?: number | null;
  promptLookupNumTokens?: number | null;
  maxMatchingNgramSize?: number | null;
  frequencyPenalty?: number;
  presencePenalty?: number;
  logitBias?: Record<string, number> | null;
  seed?: number | null;
}

function supportedList(): string {
  return SUPPORTED_FIELDS.join(", ");
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && a === b);
}

export class GenerationConfig implements GenerationConfigFields {
  max_length = GENERATION_DEFAULTS.max_length;
  max_new_tokens: number | null = null;
  min_length = 0;
  min_new_tokens: number | null = null;
  max_time: number | null = null;
  stop_strings: string[] | null = null;
  do_sample = false;
  num_beams = 1;
  temperature = 1.0;
  top_k = 50;
  top_p = 1.0;
  min_p: number | null = null;
  typical_p = 1.0;
  epsilon_cutoff = 0.0;
  eta_cutoff = 0.0;
  repetition_penalty = 1.0;
  no_repeat_ngram_size = 0;
  length_penalty = 1.0;
  early_stopping: EarlyStopping = false;
  num_return_sequences = 1;
  bos_token_id: number | null = null;
  eos_token_id: number | number[] | null = null;
  pad_token_id: number | null = null;
  forced_bos_token_id: number | null = null;
  forced_eos_token_id: number | number[] | null = null;
  suppress_tokens: number[] | null = null;
  begin_suppress_tokens: number[] | null = null;
  sequence_bias: Array<[number[], number]> | null = null;
  bad_words_ids: number[][] | null = null;
  exponential_decay_length_penalty: [number, number] | null = null;
  renormalize_logits = false;
  decoder_start_token_id: number | null = null;
  prompt_lookup_num_tokens: number | null = null;
  max_matching_ngram_size: number | null = null;
  frequency_penalty = 0;
  presence_penalty = 0;
  logit_bias: Record<string, number> | null = null;
  seed: number | null = null;

  /** Fields given explicitly (not defaults), in the order given; `update` and `toJSON` keep them. */
  private readonly explicit = new Set<string>();

  /**
   * Builds a config from HF field names (a parsed generation_config.json or a request). Throws on
   * unknown fields, on unsupported fields set to a behaviour-changing value, and on invalid values.
   * `source` names the file or caller in error messages.
   */
  constructor(fields: Record<string, unknown> = {}, source = "generation config") {
    this.assign(fields, source);
    this.validate(source);
  }

  /** Reads a generation_config.json file. */
  static fromFile(path: string): GenerationConfig {
    let obj: unknown;
    try {
      obj = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${path}: expected a JSON object`);
    return new GenerationConfig(obj as Record<string, unknown>, path);
  }

  /**
   * The generation config of a model directory: generation_config.json when present, else the
   * generation fields of config.json (HF GenerationConfig.from_model_config: bos/eos/pad ids and
   * any other generation field set there; model fields are skipped).
   */
  static fromPretrained(dir: string): GenerationConfig {
    const gen = join(dir, "generation_config.json");
    if (existsSync(gen)) return GenerationConfig.fromFile(gen);
    const cfgPath = join(dir, "config.json");
    if (!existsSync(cfgPath)) return new GenerationConfig({}, dir);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(cfgPath, "utf8"));
    } catch (e) {
      throw new Error(`${cfgPath}: ${(e as Error).message}`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${cfgPath}: expected a JSON object`);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      // OpenAI-only fields never come from a model config.
      if (v === null || k === "frequency_penalty" || k === "presence_penalty" || k === "logit_bias" || k === "seed") continue;
      if (k in GENERATION_DEFAULTS || k in UNSUPPORTED_UNLESS_OFF) fields[k] = v;
    }
    return new GenerationConfig(fields, `${cfgPath} (generation fields)`);
  }

  /** Converts camelCase API options to HF fields; an unknown option is an error. */
  static fieldsFromOptions(options: GenerationOptions | Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) {
      if (v === undefined) continue;
      const f = CAMEL_TO_FIELD[k];
      if (f === undefined) {
        throw new Error(`unknown generation option "${k}"; supported: ${Object.keys(CAMEL_TO_FIELD).join(", ")}`);
      }
      out[f] = k === "stopStrings" && typeof v === "string" ? [v] : v;
    }
    return out;
  }

  static fromOptions(options: GenerationOptions): GenerationConfig {
    return new GenerationConfig(GenerationConfig.fieldsFromOptions(options), "generation options");
  }

  /** A new config: this one with `fields` (HF names) or `options` (camelCase) laid over it. */
  with(overrides: Record<string, unknown> | GenerationOptions, kind: "fields" | "options" = "options"): GenerationConfig {
    const extra = kind === "options" ? GenerationConfig.fieldsFromOptions(overrides) : (overrides as Record<string, unknown>);
    const base = this.toJSON();
    // As in HF, when both end up set, max_new_tokens wins over max_length (maxLengthFor).
    return new GenerationConfig({ ...base, ...extra }, "generation options");
  }

  private assign(fields: Record<string, unknown>, source: string): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [k, raw] of Object.entries(fields)) {
      if (raw === undefined) continue;
      if (k in GENERATION_DEFAULTS) {
        // JSON null means "unset": keep the default.
        if (raw === null) {
          self[k] = (GENERATION_DEFAULTS as unknown as Record<string, unknown>)[k];
          continue;
        }
        self[k] = k === "stop_strings" && typeof raw === "string" ? [raw] : raw;
        this.explicit.add(k);
      } else if (INERT_FIELDS.has(k)) {
        continue;
      } else if (k in UNSUPPORTED_UNLESS_OFF) {
        if (!UNSUPPORTED_UNLESS_OFF[k].some((off) => sameValue(off, raw))) {
          throw new Error(`${source}: ${k}=${JSON.stringify(raw)} is not supported by tslm (it would change the output); supported fields: ${supportedList()}`);
        }
      } else {
        throw new Error(`${source}: unknown generation field "${k}"; supported fields: ${supportedList()}`);
      }
    }
  }

  /** Checks every value and combination; errors name the field and the value. */
  validate(source = "generation config"): void {
    const err = (msg: string): never => {
      throw new Error(`${source}: ${msg}`);
    };
    const nonNegInt = (name: keyof GenerationConfigFields, v: unknown, positive = false) => {
      if (!isInt(v) || v < (positive ? 1 : 0)) err(`${name} must be a ${positive ? "positive" : "non-negative"} integer, got ${JSON.stringify(v)}`);
    };
    const tokenId = (name: keyof GenerationConfigFields, v: unknown, allowList: boolean) => {
      if (v === null) return;
      if (allowList && Array.isArray(v)) {
        if (v.length === 0) err(`${name} must not be an empty list`);
        for (const x of v) if (!isInt(x) || x < 0) err(`${name} must hold non-negative integer ids, got ${JSON.stringify(v)}`);
        return;
      }
      if (!isInt(v) || v < 0) err(`${name} must be a non-negative integer id${allowList ? " or a list of them" : ""}, got ${JSON.stringify(v)}`);
    };
    nonNegInt("max_length", this.max_length, true);
    if (this.max_new_tokens !== null) nonNegInt("max_new_tokens", this.max_new_tokens, true);
    nonNegInt("min_length", this.min_length);
    if (this.min_new_tokens !== null) nonNegInt("min_new_tokens", this.min_new_tokens);
    if (this.max_time !== null && !(typeof this.max_time === "number" && this.max_time > 0)) err(`max_time must be a positive number of seconds, got ${JSON.stringify(this.max_time)}`);
    if (this.stop_strings !== null && (!Array.isArray(this.stop_strings) || this.stop_strings.some((s) => typeof s !== "string" || s === ""))) {
      err(`stop_strings must be a non-empty string or a list of non-empty strings, got ${JSON.stringify(this.stop_strings)}`);
    }
    if (typeof this.do_sample !== "boolean") err(`do_sample must be true or false, got ${JSON.stringify(this.do_sample)}`);
    nonNegInt("num_beams", this.num_beams, true);
    if (!(typeof this.temperature === "number" && this.temperature >= 0 && Number.isFinite(this.temperature))) err(`temperature must be a number >= 0, got ${JSON.stringify(this.temperature)}`);
    if (this.do_sample && this.temperature === 0) err("temperature=0 with do_sample=true: for greedy decoding set do_sample=false");
    nonNegInt("top_k", this.top_k);
    if (!(typeof this.top_p === "number" && this.top_p >= 0 && this.top_p <= 1)) err(`top_p must be in [0, 1], got ${JSON.stringify(this.top_p)}`);
    if (this.min_p !== null && !(typeof this.min_p === "number" && this.min_p >= 0 && this.min_p <= 1)) err(`min_p must be in [0, 1], got ${JSON.stringify(this.min_p)}`);
    if (!(typeof this.typical_p === "number" && this.typical_p > 0 && this.typical_p <= 1)) err(`typical_p must be in (0, 1], got ${JSON.stringify(this.typical_p)}`);
    for (const name of ["epsilon_cutoff", "eta_cutoff"] as const) {
      const v = this[name];
      if (!(typeof v === "number" && v >= 0 && v < 1)) err(`${name} must be in [0, 1), got ${JSON.stringify(v)}`);
    }
    if (this.bad_words_ids !== null) {
      try {
        new NoBadWordsLogitsProcessor(this.bad_words_ids);
      } catch (e) {
        err((e as Error).message);
      }
    }
    const edp = this.exponential_decay_length_penalty;
    if (edp !== null && (!Array.isArray(edp) || edp.length !== 2 || !isInt(edp[0]) || edp[0] < 0 || typeof edp[1] !== "number" || !Number.isFinite(edp[1]))) {
      err(`exponential_decay_length_penalty must be [start_index, decay_factor], got ${JSON.stringify(edp)}`);
    }
    if (!(typeof this.repetition_penalty === "number" && this.repetition_penalty > 0 && Number.isFinite(this.repetition_penalty))) {
      err(`repetition_penalty must be a number > 0, got ${JSON.stringify(this.repetition_penalty)}`);
    }
    nonNegInt("no_repeat_ngram_size", this.no_repeat_ngram_size);
    if (typeof this.length_penalty !== "number" || !Number.isFinite(this.length_penalty)) err(`length_penalty must be a finite number, got ${JSON.stringify(this.length_penalty)}`);
    if (this.early_stopping !== true && this.early_stopping !== false && this.early_stopping !== "never") {
      err(`early_stopping must be true, false or "never", got ${JSON.stringify(this.early_stopping)}`);
    }
    nonNegInt("num_return_sequences", this.num_return_sequences, true);
    tokenId("bos_token_id", this.bos_token_id, false);
    tokenId("eos_token_id", this.eos_token_id, true);
    tokenId("pad_token_id", this.pad_token_id, false);
    tokenId("forced_bos_token_id", this.forced_bos_token_id, false);
    tokenId("forced_eos_token_id", this.forced_eos_token_id, true);
    tokenId("decoder_start_token_id", this.decoder_start_token_id, false);
    for (const name of ["suppress_tokens", "begin_suppress_tokens"] as const) {
      const v = this[name];
      if (v !== null && (!Array.isArray(v) || v.some((x) => !isInt(x) || x < 0))) err(`${name} must be a list of token ids, got ${JSON.stringify(v)}`);
    }
    if (this.sequence_bias !== null) {
      try {
        new SequenceBiasLogitsProcessor(this.sequence_bias);
      } catch (e) {
        err((e as Error).message);
      }
    }
    if (typeof this.renormalize_logits !== "boolean") err(`renormalize_logits must be true or false`);
    if (this.prompt_lookup_num_tokens !== null) {
      nonNegInt("prompt_lookup_num_tokens", this.prompt_lookup_num_tokens, true);
      if (this.do_sample || this.num_beams > 1) {
        err("prompt lookup decoding (prompt_lookup_num_tokens) is supported by tslm for greedy decoding only (do_sample=false, num_beams=1)");
      }
    }
    if (this.max_matching_ngram_size !== null) nonNegInt("max_matching_ngram_size", this.max_matching_ngram_size, true);
    for (const name of ["frequency_penalty", "presence_penalty"] as const) {
      const v = this[name];
      if (!(typeof v === "number" && v >= -2 && v <= 2)) err(`${name} must be a number in [-2, 2], got ${JSON.stringify(v)}`);
    }
    if (this.logit_bias !== null) {
      try {
        new LogitBiasLogitsProcessor(this.logit_bias);
      } catch (e) {
        err((e as Error).message);
      }
    }
    if (this.seed !== null && !isInt(this.seed)) err(`seed must be an integer, got ${JSON.stringify(this.seed)}`);
    // Combinations (HF GenerationConfig.validate raises on these).
    if (this.num_return_sequences > 1) {
      if (this.num_beams === 1 && !this.do_sample) {
        err(`greedy decoding (do_sample=false, num_beams=1) cannot return ${this.num_return_sequences} sequences; set do_sample=true or num_beams>1`);
      }
      if (this.num_beams > 1 && this.num_return_sequences > this.num_beams) {
        err(`num_return_sequences (${this.num_return_sequences}) must be <= num_beams (${this.num_beams})`);
      }
    }
  }

  /** eos_token_id as a list (empty when unset). */
  eosTokenIds(): number[] {
    const e = this.eos_token_id;
    return e === null ? [] : typeof e === "number" ? [e] : [...e];
  }

  /** The length limit for a prompt of `promptLength` tokens: max_new_tokens wins over max_length, as in HF. */
  maxLengthFor(promptLength: number): number {
    return this.max_new_tokens !== null ? promptLength + this.max_new_tokens : this.max_length;
  }

  /** The explicitly set fields, HF names (what generation_config.json would hold). */
  toJSON(): Record<string, unknown> {
    const self = this as unknown as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of this.explicit) out[k] = self[k];
    return out;
  }

  /** Every supported field with its effective value. */
  toFullJSON(): GenerationConfigFields {
    const self = this as unknown as Record<string, unknown>;
    return Object.fromEntries(SUPPORTED_FIELDS.map((k) => [k, self[k]])) as unknown as GenerationConfigFields;
  }
}

export interface ProcessorContext {
  /** Prompt length in tokens (T at the first step), for min_new_tokens, penalties and begin suppression. */
  promptLength: number;
  /** max_length in effect (maxLengthFor(promptLength)) for forced_eos_token_id. */
  maxLength?: number;
}

/**
 * The processor list HF's `_get_logits_processor` builds for this config, in HF's order:
 *   logit_bias / sequence_bias, repetition_penalty, frequency/presence penalties, no_repeat_ngram,
 *   bad_words_ids, min_length, min_new_tokens, forced BOS, forced EOS, exponential decay length
 *   penalty, suppress_tokens, begin_suppress_tokens, then, only when do_sample: temperature,
 *   top_k, top_p, min_p, typical_p, epsilon_cutoff, eta_cutoff; last, renormalize_logits.
 * logit_bias sits with sequence_bias (OpenAI biases the raw logits) and the OpenAI penalties right
 * after HF's repetition penalty; neither exists in HF. With num_beams > 1 the warpers keep at least
 * (number of EOS ids + 1) tokens, as HF does.
 */
export function buildLogitsProcessors(config: GenerationConfig, ctx: ProcessorContext): LogitsProcessorList {
  const list = new LogitsProcessorList();
  const eos = config.eosTokenIds();
  if (config.logit_bias !== null && Object.keys(config.logit_bias).length > 0) list.push(new LogitBiasLogitsProcessor(config.logit_bias));
  if (config.sequence_bias !== null) list.push(new SequenceBiasLogitsProcessor(config.sequence_bias));
  if (config.repetition_penalty !== 1.0) list.push(new RepetitionPenaltyLogitsProcessor(config.repetition_penalty));
  if (config.frequency_penalty !== 0 || config.presence_penalty !== 0) {
    list.push(new FrequencyPresencePenaltyLogitsProcessor(config.frequency_penalty, config.presence_penalty, ctx.promptLength));
  }
  if (config.no_repeat_ngram_size > 0) list.push(new NoRepeatNGramLogitsProcessor(config.no_repeat_ngram_size));
  if (config.bad_words_ids !== null) list.push(new NoBadWordsLogitsProcessor(config.bad_words_ids, eos.length > 0 ? eos : null));
  if (config.min_length > 0 && eos.length > 0) list.push(new MinLengthLogitsProcessor(config.min_length, eos));
  if (config.min_new_tokens !== null && config.min_new_tokens > 0 && eos.length > 0) {
    list.push(new MinNewTokensLengthLogitsProcessor(ctx.promptLength, config.min_new_tokens, eos));
  }
  if (config.forced_bos_token_id !== null) list.push(new ForcedBOSTokenLogitsProcessor(config.forced_bos_token_id));
  if (config.forced_eos_token_id !== null) {
    list.push(new ForcedEOSTokenLogitsProcessor(ctx.maxLength ?? config.maxLengthFor(ctx.promptLength), config.forced_eos_token_id));
  }
  if (config.exponential_decay_length_penalty !== null) {
    if (eos.length === 0) throw new Error("exponential_decay_length_penalty needs eos_token_id");
    const [start, factor] = config.exponential_decay_length_penalty;
    list.push(new ExponentialDecayLengthPenalty(start, factor, eos, ctx.promptLength));
  }
  if (config.suppress_tokens !== null) list.push(new SuppressTokensLogitsProcessor(config.suppress_tokens));
  if (config.begin_suppress_tokens !== null) {
    // HF: begin index = prompt length, one later when a forced BOS comes first after a 1-token prompt.
    const begin = ctx.promptLength > 1 || config.forced_bos_token_id === null ? ctx.promptLength : ctx.promptLength + 1;
    list.push(new SuppressTokensAtBeginLogitsProcessor(config.begin_suppress_tokens, begin));
  }
  if (config.do_sample) {
    const keep = config.num_beams > 1 ? Math.max(eos.length + 1, 2) : 1;
    if (config.temperature !== 1.0) list.push(new TemperatureLogitsWarper(config.temperature));
    if (config.top_k !== 0) list.push(new TopKLogitsWarper(config.top_k, { minTokensToKeep: keep }));
    if (config.top_p < 1.0) list.push(new TopPLogitsWarper(config.top_p, { minTokensToKeep: keep }));
    if (config.min_p !== null) list.push(new MinPLogitsWarper(config.min_p, { minTokensToKeep: keep }));
    if (config.typical_p < 1.0) list.push(new TypicalLogitsWarper(config.typical_p, { minTokensToKeep: keep }));
    if (config.epsilon_cutoff > 0) list.push(new EpsilonLogitsWarper(config.epsilon_cutoff, { minTokensToKeep: keep }));
    if (config.eta_cutoff > 0) list.push(new EtaLogitsWarper(config.eta_cutoff, { minTokensToKeep: keep }));
  }
  if (config.renormalize_logits) list.push(new LogitNormalization());
  return list;
}
