// adapter_config.json: the configs of the parameter-efficient methods, with Hugging Face peft's
// field names and defaults (peft 0.21: LoraConfig, IA3Config, PrefixTuningConfig,
// PromptTuningConfig), plus tslm's own bottleneck adapter (peft_type "TSLM_BOTTLENECK", which peft
// does not know).
//
// Parsing is strict where a value would change the math: a field tslm does not implement (DoRA,
// layer replication, rank patterns, ...) set to a non-default value is an error naming it, never
// silently ignored. Fields that only describe provenance (peft_version, auto_mapping, ...) are kept
// verbatim so that a peft file round-trips. Unknown keys in a config made in code are an error
// (DESIGN: tslm's own configs reject unknown keys); unknown keys in a file peft wrote are kept.

export type TaskType = "CAUSAL_LM" | "SEQ_CLS" | "SEQ_2_SEQ_LM" | "TOKEN_CLS" | "QUESTION_ANS" | "FEATURE_EXTRACTION";
const TASK_TYPES: readonly string[] = ["CAUSAL_LM", "SEQ_CLS", "SEQ_2_SEQ_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION"];

interface CommonConfig {
  task_type: TaskType | null;
  base_model_name_or_path: string | null;
  revision: string | null;
  inference_mode: boolean;
}

export interface LoraConfig extends CommonConfig {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Module names (exact or a ".name" suffix of the path), a regex string (full match), or "all-linear". */
  target_modules: string[] | string | null;
  exclude_modules: string[] | string | null;
  bias: "none" | "all" | "lora_only";
  /** true for layers whose weight is stored [in, out] (GPT-2's Conv1D); only the merge uses it. */
  fan_in_fan_out: boolean;
  modules_to_save: string[] | null;
  /** true: A kaiming-uniform, B zeros (the adapter starts as the identity); "gaussian": A normal(0, 1/r); false: both random. */
  init_lora_weights: boolean | "gaussian";
  /** scaling alpha / sqrt(r) instead of alpha / r. */
  use_rslora: boolean;
  [key: string]: unknown;
}

export interface IA3Config extends CommonConfig {
  peft_type: "IA3";
  target_modules: string[] | string | null;
  exclude_modules: string[] | string | null;
  /** Targets whose input (not output) is scaled; must be a subset of target_modules. */
  feedforward_modules: string[] | string | null;
  fan_in_fan_out: boolean;
  modules_to_save: string[] | null;
  init_ia3_weights: boolean;
  [key: string]: unknown;
}

export interface PrefixTuningConfig extends CommonConfig {
  peft_type: "PREFIX_TUNING";
  num_virtual_tokens: number;
  /** Filled from the base model's config when null (as peft's _prepare_prompt_learning_config). */
  token_dim: number | null;
  num_layers: number | null;
  num_attention_heads: number | null;
  num_transformer_submodules: number | null;
  prefix_projection: boolean;
  encoder_hidden_size: number | null;
  [key: string]: unknown;
}

export interface PromptTuningConfig extends CommonConfig {
  peft_type: "PROMPT_TUNING";
  num_virtual_tokens: number;
  token_dim: number | null;
  num_layers: number | null;
  num_attention_heads: number | null;
  num_transformer_submodules: number | null;
  prompt_tuning_init: "RANDOM" | "TEXT" | "SAMPLE_VOCAB";
  prompt_tuning_init_text: string | null;
  tokenizer_name_or_path: string | null;
  [key: string]: unknown;
}

/**
 * tslm's bottleneck adapter (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for
 * NLP"; Pfeiffer et al. 2020 place one adapter after the FFN only): h -> h + up(act(down(h))) on
 * the output of each chosen sublayer, before its residual add. peft has no such type, so the
 * peft_type is tslm's own and Python peft cannot load this file.
 */
export interface BottleneckConfig extends CommonConfig {
  peft_type: "TSLM_BOTTLENECK";
  bottleneck_size: number;
  /** ACT2FN name of the nonlinearity. */
  non_linearity: string;
  /** "attn" and/or "mlp" (Houlsby: both; Pfeiffer: ["mlp"]). */
  adapter_locations: ("attn" | "mlp")[];
  /** Sublayer module names overriding adapter_locations (paths matched like target_modules). */
  target_modules: string[] | string | null;
  /** std of the normal init of `up` (0: the adapter starts as the identity, as Houlsby's near-identity init). */
  init_scale: number;
  [key: string]: unknown;
}

export type PeftConfig = LoraConfig | IA3Config | PrefixTuningConfig | PromptTuningConfig | BottleneckConfig;
export type PeftType = PeftConfig["peft_type"];

const COMMON_DEFAULTS = { task_type: null, base_model_name_or_path: null, revision: null, inference_mode: false };

/** Fields peft writes that carry no math for tslm (provenance, features off by default): kept verbatim. */
const PASSTHROUGH = new Set(["peft_version", "auto_mapping", "megatron_config", "megatron_core", "loftq_config", "corda_config", "eva_config", "kasa_config", "lora_ga_config", "monteclora_config", "arrow_config", "qalora_group_size", "ensure_weight_tying", "velora_config", "use_bdlora"]);

/** Fields that change the math, with the only value tslm implements (absent, null or this value). */
const NOT_IMPLEMENTED: Record<string, (v: unknown) => boolean> = {
  use_dora: (v) => v === false,
  layer_replication: (v) => v === null,
  layers_to_transform: (v) => v === null,
  layers_pattern: (v) => v === null,
  rank_pattern: (v) => v === null || (typeof v === "object" && Object.keys(v as object).length === 0),
  alpha_pattern: (v) => v === null || (typeof v === "object" && Object.keys(v as object).length === 0),
  lora_bias: (v) => v === false,
  use_qalora: (v) => v === false,
  target_parameters: (v) => v === null,
  trainable_token_indices: (v) => v === null,
  alora_invocation_tokens: (v) => v === null,
  // Prompt learning: no trainable copies of base modules; "init_weights" null/true is peft's default init.
  init_weights: (v) => v === null || v === true,
};

class Reader {
  readonly seen = new Set<string>();
  constructor(
    readonly kind: string,
    readonly raw: Record<string, unknown>,
  ) {}
  fail(key: string, want: string): never {
    throw new Error(`${this.kind} config: "${key}" must be ${want}, got ${JSON.stringify(this.raw[key])}`);
  }
  get(key: string): unknown {
    this.seen.add(key);
    return this.raw[key];
  }
  num(key: string, def: number, check: (v: number) => boolean, want: string): number {
    const v = this.get(key) ?? def;
    if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) this.fail(key, want);
    return v;
  }
  intOrNull(key: string): number | null {
    const v = this.get(key) ?? null;
    if (v !== null && (typeof v !== "number" || !Number.isInteger(v) || v <= 0)) this.fail(key, "a positive integer or null");
    return v as number | null;
  }
  bool(key: string, def: boolean): boolean {
    const v = this.get(key) ?? def;
    if (typeof v !== "boolean") this.fail(key, "true or false");
    return v;
  }
  strOrNull(key: string): string | null {
    const v = this.get(key) ?? null;
    if (v !== null && typeof v !== "string") this.fail(key, "a string or null");
    return v as string | null;
  }
  names(key: string, allowString = true): string[] | string | null {
    const v = this.get(key) ?? null;
    if (v === null) return null;
    if (typeof v === "string" && allowString) return v;
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return [...v] as string[];
    this.fail(key, allowString ? "a list of module names, a regex string or null" : "a list of module names or null");
  }
  common(): CommonConfig {
    const task = this.get("task_type") ?? null;
    if (task !== null && (typeof task !== "string" || !TASK_TYPES.includes(task))) this.fail("task_type", `one of ${TASK_TYPES.join(", ")} or null`);
    return { task_type: task as TaskType | null, base_model_name_or_path: this.strOrNull("base_model_name_or_path"), revision: this.strOrNull("revision"), inference_mode: this.bool("inference_mode", false) };
  }
  /** Checks unimplemented fields; keeps passthrough and (fromFile) unknown fields; rejects unknown keys otherwise. */
  rest(fromFile: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.raw)) {
      if (this.seen.has(k) || k === "peft_type") continue;
      const ok = NOT_IMPLEMENTED[k];
      if (ok) {
        if (v !== undefined && !ok(v)) throw new Error(`${this.kind} config: "${k}" = ${JSON.stringify(v)} is not implemented by tslm`);
        out[k] = v;
      } else if (PASSTHROUGH.has(k) || fromFile) out[k] = v;
      else throw new Error(`${this.kind} config: unknown key "${k}"`);
    }
    return out;
  }
}

/**
 * Validates a config (an adapter_config.json object, or one made in code with peft_type set).
 * `fromFile` keeps unknown keys peft may add in later versions; in code they are errors.
 */
export function parsePeftConfig(raw: Record<string, unknown>, opts: { fromFile?: boolean } = {}): PeftConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`peft config: expected a JSON object`);
  const type = raw.peft_type;
  const fromFile = opts.fromFile ?? false;
  switch (type) {
    case "LORA": {
      const r = new Reader("LoraConfig", raw);
      const rank = r.num("r", 8, (v) => Number.isInteger(v) && v > 0, "a positive integer (the LoRA rank)");
      const alpha = r.num("lora_alpha", 8, (v) => v > 0, "a number > 0");
      const dropout = r.num("lora_dropout", 0, (v) => v >= 0 && v < 1, "in [0, 1)");
      const bias = r.get("bias") ?? "none";
      if (bias !== "none" && bias !== "all" && bias !== "lora_only") r.fail("bias", `"none", "all" or "lora_only"`);
      const init = r.get("init_lora_weights") ?? true;
      if (init !== true && init !== false && init !== "gaussian") r.fail("init_lora_weights", `true, false or "gaussian" (other peft schemes are not implemented)`);
      const cfg: LoraConfig = {
        ...r.common(),
        peft_type: "LORA",
        r: rank,
        lora_alpha: alpha,
        lora_dropout: dropout,
        target_modules: r.names("target_modules"),
        exclude_modules: r.names("exclude_modules"),
        bias: bias as LoraConfig["bias"],
        fan_in_fan_out: r.bool("fan_in_fan_out", false),
        modules_to_save: r.names("modules_to_save", false) as string[] | null,
        init_lora_weights: init as boolean | "gaussian",
        use_rslora: r.bool("use_rslora", false),
      };
      return { ...r.rest(fromFile), ...cfg };
    }
    case "IA3": {
      const r = new Reader("IA3Config", raw);
      const cfg: IA3Config = {
        ...r.common(),
        peft_type: "IA3",
        target_modules: r.names("target_modules"),
        exclude_modules: r.names("exclude_modules"),
        feedforward_modules: r.names("feedforward_modules"),
        fan_in_fan_out: r.bool("fan_in_fan_out", false),
        modules_to_save: r.names("modules_to_save", false) as string[] | null,
        init_ia3_weights: r.bool("init_ia3_weights", true),
      };
      return { ...r.rest(fromFile), ...cfg };
    }
    case "PREFIX_TUNING":
    case "PROMPT_TUNING": {
      const r = new Reader(type === "PREFIX_TUNING" ? "PrefixTuningConfig" : "PromptTuningConfig", raw);
      const base = {
        ...r.common(),
        num_virtual_tokens: r.num("num_virtual_tokens", NaN, (v) => Number.isInteger(v) && v > 0, "a positive integer"),
        token_dim: r.intOrNull("token_dim"),
        num_layers: r.intOrNull("num_layers"),
        num_attention_heads: r.intOrNull("num_attention_heads"),
        num_transformer_submodules: r.intOrNull("num_transformer_submodules"),
      };
      const mts = r.get("modules_to_save");
      if (mts !== undefined && mts !== null) r.fail("modules_to_save", "null for prompt learning (not implemented by tslm)");
      if (base.num_transformer_submodules !== null && base.num_transformer_submodules !== 1) {
        throw new Error(`${r.kind}: num_transformer_submodules ${base.num_transformer_submodules} (encoder-decoder prompt learning) is not implemented by tslm`);
      }
      if (type === "PREFIX_TUNING") {
        const cfg: PrefixTuningConfig = { ...base, peft_type: "PREFIX_TUNING", prefix_projection: r.bool("prefix_projection", false), encoder_hidden_size: r.intOrNull("encoder_hidden_size") };
        if (cfg.prefix_projection && !cfg.inference_mode && cfg.encoder_hidden_size === null) throw new Error(`PrefixTuningConfig: prefix_projection needs encoder_hidden_size`);
        return { ...r.rest(fromFile), ...cfg };
      }
      const init = r.get("prompt_tuning_init") ?? "RANDOM";
      if (init !== "RANDOM" && init !== "TEXT" && init !== "SAMPLE_VOCAB") r.fail("prompt_tuning_init", `"RANDOM", "TEXT" or "SAMPLE_VOCAB"`);
      const cfg: PromptTuningConfig = {
        ...base,
        peft_type: "PROMPT_TUNING",
        prompt_tuning_init: init as PromptTuningConfig["prompt_tuning_init"],
        prompt_tuning_init_text: r.strOrNull("prompt_tuning_init_text"),
        tokenizer_name_or_path: r.strOrNull("tokenizer_name_or_path"),
      };
      r.get("tokenizer_kwargs");
      if (init === "TEXT" && !cfg.prompt_tuning_init_text) throw new Error(`PromptTuningConfig: prompt_tuning_init "TEXT" needs prompt_tuning_init_text`);
      return { ...r.rest(fromFile), ...cfg };
    }
    case "TSLM_BOTTLENECK": {
      const r = new Reader("BottleneckConfig", raw);
      const locs = r.get("adapter_locations") ?? ["attn", "mlp"];
      if (!Array.isArray(locs) || locs.length === 0 || !locs.every((l) => l === "attn" || l === "mlp")) r.fail("adapter_locations", `a non-empty list of "attn" / "mlp"`);
      const nl = r.get("non_linearity") ?? "relu";
      if (typeof nl !== "string") r.fail("non_linearity", "an activation name");
      const cfg: BottleneckConfig = {
        ...r.common(),
        peft_type: "TSLM_BOTTLENECK",
        bottleneck_size: r.num("bottleneck_size", 64, (v) => Number.isInteger(v) && v > 0, "a positive integer"),
        non_linearity: nl as string,
        adapter_locations: [...new Set(locs as ("attn" | "mlp")[])],
        target_modules: r.names("target_modules"),
        init_scale: r.num("init_scale", 0, (v) => v >= 0, "a number >= 0"),
      };
      return { ...r.rest(fromFile), ...cfg };
    }
    default:
      throw new Error(`peft config: peft_type ${JSON.stringify(type)} is not supported by tslm (supported: LORA, IA3, PREFIX_TUNING, PROMPT_TUNING, TSLM_BOTTLENECK)`);
  }
}

/** Config in code: peft's constructors with defaults, e.g. loraConfig({ r: 8, target_modules: ["c_attn"] }). */
export const loraConfig = (c: Partial<Omit<LoraConfig, "peft_type">>): LoraConfig => parsePeftConfig({ ...c, peft_type: "LORA" }) as LoraConfig;
export const ia3Config = (c: Partial<Omit<IA3Config, "peft_type">>): IA3Config => parsePeftConfig({ ...c, peft_type: "IA3" }) as IA3Config;
export const prefixTuningConfig = (c: Partial<Omit<PrefixTuningConfig, "peft_type">> & { num_virtual_tokens: number }): PrefixTuningConfig =>
  parsePeftConfig({ ...c, peft_type: "PREFIX_TUNING" }) as PrefixTuningConfig;
export const promptTuningConfig = (c: Partial<Omit<PromptTuningConfig, "peft_type">> & { num_virtual_tokens: number }): PromptTuningConfig =>
  parsePeftConfig({ ...c, peft_type: "PROMPT_TUNING" }) as PromptTuningConfig;
export const bottleneckConfig = (c: Partial<Omit<BottleneckConfig, "peft_type">>): BottleneckConfig =>
  parsePeftConfig({ ...c, peft_type: "TSLM_BOTTLENECK" }) as BottleneckConfig;

export const isPromptLearning = (c: PeftConfig): c is PrefixTuningConfig | PromptTuningConfig => c.peft_type === "PREFIX_TUNING" || c.peft_type === "PROMPT_TUNING";

/**
 * The adapter_config.json object: every field peft's config class has, in peft's spelling, with
 * peft's defaults for fields tslm does not use (so peft's from_pretrained sees what it expects).
 */
export function configToJSON(c: PeftConfig): Record<string, unknown> {
  const common = { ...COMMON_DEFAULTS, peft_version: undefined as unknown };
  const extra: Record<string, unknown> =
    c.peft_type === "LORA"
      ? { layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {}, use_dora: false, layer_replication: null, lora_bias: false }
      : c.peft_type === "PREFIX_TUNING" || c.peft_type === "PROMPT_TUNING"
        ? { num_transformer_submodules: 1 }
        : {};
  const out: Record<string, unknown> = { ...common, ...extra, ...c };
  if (out.peft_version === undefined) delete out.peft_version;
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}
