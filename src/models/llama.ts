// LLaMA (LlamaForCausalLM): a decoder-only, pre-norm Transformer with RMSNorm, rotary position
// embeddings, grouped-query attention and a SwiGLU feed-forward network.
//
// Mirrors transformers' models/llama/modeling_llama.py (v5) number for number: separate
// q/k/v/o projections (biases when attention_bias), rotary embedding in the rotate_half layout
// with rope types default / linear / dynamic / llama3 (modeling_rope_utils), key/value heads
// repeated to the query heads (repeat_kv), SiLU-gated MLP (biases when mlp_bias), final RMSNorm,
// and an lm_head that is tied to embed_tokens when tie_word_embeddings.
// Reference init (PreTrainedModel._init_weights): every Linear and the embedding normal(0,
// initializer_range), the embedding's padding row (pad_token_id) zero, biases zero, norms one.
//
// Glossary: B batch, T new positions, S = cached + T key positions, C = hidden_size,
// H = num_attention_heads, Hkv = num_key_value_heads, D = head_dim, F = intermediate_size,
// V = vocab_size, L = num_hidden_layers.
import { LMHead } from "../nn/heads.js";
import { Tensor } from "../tensor/tensor.js";
import { DynamicCache, KVCache, MultiHeadAttention, paddingMask } from "../nn/attention.js";
import { preNormResidual } from "../nn/blocks.js";
import { GatedFeedForward } from "../nn/feedforward.js";
import { Embedding, RMSNorm, supportedActivations } from "../nn/layers.js";
import { Module, initNormal, type Parameter, type ParamSource } from "../nn/module.js";
import { RotaryEmbedding, SUPPORTED_ROPE_TYPES, applyRotary, type RopeParameters } from "../nn/positions.js";
import { ConfigReader, causalLMHead, checkCausalInput, defaultPositions, type CausalLMInput, type CausalLMLossOutput, type CausalLMOutput, type RawConfig } from "./common.js";

// ---------------------------------------------------------------------------------------------
// Config (transformers LlamaConfig field names and defaults)

export interface LlamaConfig {
  model_type: "llama";
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  hidden_act: string;
  max_position_embeddings: number;
  initializer_range: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  attention_bias: boolean;
  attention_dropout: number;
  mlp_bias: boolean;
  /** transformers v5 stores rope_theta and the scaling here; v4 files have rope_theta + rope_scaling. */
  rope_parameters: RopeParameters;
  pad_token_id: number | number[] | null;
  bos_token_id: number | number[] | null;
  eos_token_id: number | number[] | null;
  /** Every other config.json key, kept verbatim for round-trip. */
  [key: string]: unknown;
}

function parseRope(raw: RawConfig, maxPos: number): RopeParameters {
  // v5: rope_parameters {rope_type, rope_theta, ...}; v4: rope_theta + rope_scaling {type|rope_type, ...}.
  const src = (raw.rope_parameters ?? raw.rope_scaling ?? {}) as Record<string, unknown>;
  if (typeof src !== "object" || src === null || Array.isArray(src)) throw new Error(`llama config: "rope_parameters"/"rope_scaling" must be an object, got ${JSON.stringify(src)}`);
  const type = (src.rope_type ?? src.type ?? "default") as string;
  if (!(SUPPORTED_ROPE_TYPES as readonly string[]).includes(type)) {
    throw new Error(`llama config: rope type "${type}" is not supported by tslm (supported: ${SUPPORTED_ROPE_TYPES.join(", ")})`);
  }
  const theta = (src.rope_theta ?? raw.rope_theta ?? 10000) as number;
  const num = (k: string, v: unknown, min = 0): number => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw new Error(`llama config: rope "${k}" must be a number >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const p: RopeParameters = { rope_type: type as RopeParameters["rope_type"], rope_theta: num("rope_theta", theta, 1e-12) };
  if (type === "linear" || type === "dynamic" || type === "llama3") p.factor = num("factor", src.factor, 1);
  if (type === "llama3") {
    p.low_freq_factor = num("low_freq_factor", src.low_freq_factor);
    p.high_freq_factor = num("high_freq_factor", src.high_freq_factor);
    p.original_max_position_embeddings = num("original_max_position_embeddings", src.original_max_position_embeddings ?? maxPos, 1);
    if (!(p.high_freq_factor > p.low_freq_factor)) throw new Error(`llama config: rope high_freq_factor (${p.high_freq_factor}) must exceed low_freq_factor (${p.low_freq_factor})`);
  }
  const prf = src.partial_rotary_factor ?? raw.partial_rotary_factor;
  if (prf !== undefined && prf !== 1 && prf !== 1.0) throw new Error(`llama config: partial_rotary_factor ${JSON.stringify(prf)} is not supported by tslm (only 1.0)`);
  return p;
}

/** Validates a config.json object; unknown keys are kept, unsupported math is an error. */
export function parseLlamaConfig(raw: RawConfig): LlamaConfig {
  const r = new ConfigReader("llama", raw);
  if (raw.model_type !== undefined && raw.model_type !== "llama") throw new Error(`llama config: model_type is "${String(raw.model_type)}"`);
  r.unsupported("pretraining_tp", (v) => v === null || typeof v === "number", "must be a number"); // no effect on the math in transformers v5
  const H = r.int("num_attention_heads", 32);
  const C = r.int("hidden_size", 4096);
  const maxPos = r.int("max_position_embeddings", 2048);
  const cfg: LlamaConfig = {
    ...raw,
    // What transformers writes; kept as given, filled in for configs made in code.
    architectures: raw.architectures ?? ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: r.int("vocab_size", 32000),
    hidden_size: C,
    intermediate_size: r.int("intermediate_size", 11008),
    num_hidden_layers: r.int("num_hidden_layers", 32),
    num_attention_heads: H,
    num_key_value_heads: raw.num_key_value_heads === null ? H : r.int("num_key_value_heads", H),
    head_dim: raw.head_dim === null ? Math.floor(C / H) : r.int("head_dim", Math.floor(C / H)),
    hidden_act: r.string("hidden_act", "silu", supportedActivations()),
    max_position_embeddings: maxPos,
    initializer_range: r.number("initializer_range", 0.02, { min: 0 }),
    rms_norm_eps: r.number("rms_norm_eps", 1e-6, { min: 0 }),
    tie_word_embeddings: r.bool("tie_word_embeddings", false),
    attention_bias: r.bool("attention_bias", false),
    attention_dropout: r.number("attention_dropout", 0, { min: 0, max: 0.999 }),
    mlp_bias: r.bool("mlp_bias", false),
    rope_parameters: parseRope(raw, maxPos),
    pad_token_id: r.tokenId("pad_token_id", null),
    bos_token_id: r.tokenId("bos_token_id", 1),
    eos_token_id: r.tokenId("eos_token_id", 2),
  };
  if (cfg.num_attention_heads % cfg.num_key_value_heads !== 0) {
    throw new Error(`llama config: num_attention_heads (${cfg.num_attention_heads}) must be a multiple of num_key_value_heads (${cfg.num_key_value_heads})`);
  }
  if (cfg.head_dim % 2 !== 0) throw new Error(`llama config: head_dim (${cfg.head_dim}) must be even for rotary embeddings`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Blocks

/** Pre-norm block: x + self_attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)). */
class LlamaDecoderLayer extends Module {
  readonly self_attn: MultiHeadAttention;
  readonly mlp: GatedFeedForward;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  constructor(src: ParamSource, cfg: LlamaConfig) {
    super();
    this.self_attn = new MultiHeadAttention(src.at("self_attn"), {
      dModel: cfg.hidden_size,
      nHeads: cfg.num_attention_heads,
      nKvHeads: cfg.num_key_value_heads,
      headDim: cfg.head_dim,
      bias: cfg.attention_bias,
      causal: true,
      dropout: cfg.attention_dropout,
    });
    this.mlp = new GatedFeedForward(src.at("mlp"), { dModel: cfg.hidden_size, dFF: cfg.intermediate_size, act: cfg.hidden_act, bias: cfg.mlp_bias });
    this.input_layernorm = new RMSNorm(src.at("input_layernorm"), cfg.hidden_size, cfg.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(src.at("post_attention_layernorm"), cfg.hidden_size, cfg.rms_norm_eps);
  }
  forward(x: Tensor, mask: Tensor | null, rotary: (q: Tensor, k: Tensor) => [Tensor, Tensor], cache?: KVCache): Tensor {
    x = preNormResidual(x, this.input_layernorm, (h) => this.self_attn.forward(h, { mask, rotary, ...(cache ? { cache } : {}) }));
    return preNormResidual(x, this.post_attention_layernorm, (h) => this.mlp.forward(h));
  }
}

// ---------------------------------------------------------------------------------------------
// Model

/** LlamaModel: token embedding, L decoder layers, final norm; the rotary tables are shared. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: RMSNorm;
  readonly _rotary: RotaryEmbedding;
  constructor(src: ParamSource, cfg: LlamaConfig) {
    super();
    const pad = typeof cfg.pad_token_id === "number" && cfg.pad_token_id >= 0 && cfg.pad_token_id < cfg.vocab_size ? cfg.pad_token_id : null;
    this.embed_tokens = new Embedding(src.at("embed_tokens"), cfg.vocab_size, cfg.hidden_size, pad);
    this.layers = Array.from({ length: cfg.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(src.at("layers").at(i), cfg));
    this.norm = new RMSNorm(src.at("norm"), cfg.hidden_size, cfg.rms_norm_eps);
    this._rotary = new RotaryEmbedding(cfg.head_dim, cfg.rope_parameters, cfg.max_position_embeddings);
    // Rotary inv_freq buffers of older checkpoints are recomputed from the config (key table below).
    src.at("rotary_emb").ignore("inv_freq");
    for (let i = 0; i < cfg.num_hidden_layers; i++) src.at("layers").at(i).at("self_attn").at("rotary_emb").ignore("inv_freq");
  }

  /** Hidden states [B, T, C] after the final norm. */
  forward(inputIds: Tensor, positionIds: Tensor, mask: Tensor | null, cache?: DynamicCache): Tensor {
    let x = this.embed_tokens.forward(inputIds); // (B, T, C)
    const { cos, sin } = this._rotary.cosSin(positionIds, "bthd"); // (1 or B, T, 1, D)
    const rotary = (q: Tensor, k: Tensor): [Tensor, Tensor] => [applyRotary(q, cos, sin), applyRotary(k, cos, sin)];
    this.layers.forEach((layer, i) => (x = layer.forward(x, mask, rotary, cache?.layers[i])));
    return this.norm.forward(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Heads

export class LlamaForCausalLM extends Module {
  static readonly modelType = "llama";
  static readonly architecture = "LlamaForCausalLM";
  readonly model: LlamaModel;
  readonly lm_head: LMHead;
  readonly config: LlamaConfig;

  constructor(config: LlamaConfig | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseLlamaConfig(config));
    src = src.withStd(cfg.initializer_range);
    this.model = new LlamaModel(src.at("model"), cfg);
    this.lm_head = new LMHead(src.at("lm_head"), cfg.vocab_size, cfg.hidden_size, { tiedTo: cfg.tie_word_embeddings ? this.model.embed_tokens.weight : null });
  }

  protected override ignoredKeys(): RegExp[] {
    return checkpointKeyTable.ignored;
  }

  /** transformers' forward; with lossOnly (and labels) the loss alone, without logits. */
  forward(input: CausalLMInput & { lossOnly: true }): CausalLMLossOutput;
  forward(input: CausalLMInput & { lossOnly?: false }): CausalLMOutput;
  forward(input: CausalLMInput): CausalLMOutput | CausalLMLossOutput;
  forward(input: CausalLMInput): CausalLMOutput | CausalLMLossOutput {
    const cache = input.cache ?? (input.useCache ? new DynamicCache(this.config.num_hidden_layers) : undefined);
    const past = cache?.length ?? 0;
    const [, T] = checkCausalInput("LlamaForCausalLM", input, past);
    const positions = input.positionIds ?? defaultPositions(past, T); // (1 or B, T)
    const mask = input.attentionMask ? paddingMask(input.attentionMask) : null; // (B, 1, 1, S)
    const h = this.model.forward(input.inputIds, positions, mask, cache); // (B, T, C)
    const out = causalLMHead(h, this.lm_head.weight, input); // logits (B, T or logitsToKeep, V) and/or loss
    if (cache) out.cache = cache;
    return out;
  }

  newCache(): DynamicCache {
    return new DynamicCache(this.config.num_hidden_layers);
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint key table
//
// Keys equal the parameter paths (model.layers.0.self_attn.q_proj.weight, ...), Linear weights
// [out, in] as in torch. Exceptions:
//   - lm_head.weight is tied to model.embed_tokens.weight when tie_word_embeddings: omitted by
//     transformers when saving; accepted (shape-checked) and ignored when present.
//   - model.layers.N.self_attn.rotary_emb.inv_freq: a buffer some older checkpoints carry; the
//     frequencies are recomputed from the config, so it is ignored.
export const checkpointKeyTable = {
  ignored: [/^lm_head\.weight$/, /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/, /^model\.rotary_emb\.inv_freq$/],
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    return new Map(tensors);
  },
};
