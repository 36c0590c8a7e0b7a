// The original Transformer ("Attention Is All You Need", Vaswani et al. 2017): an encoder-decoder
// with sinusoidal positions, post-LN blocks, ReLU feed-forward layers, and one embedding matrix
// shared by the source, the target and the pre-softmax projection (section 3.4).
//
// transformers has no such model, so tslm defines model_type "transformer" with HF-style config
// fields and checkpoint keys in the BART / Marian layout:
//   model.shared.weight                                         [V, C] (also lm_head, embed_tokens)
//   model.encoder.layers.N.self_attn.{q,k,v,out}_proj.{weight,bias}
//   model.encoder.layers.N.self_attn_layer_norm / fc1 / fc2 / final_layer_norm
//   model.decoder.layers.N.self_attn..., encoder_attn..., encoder_attn_layer_norm, ...
// The math, checked against an independent model built on torch.nn.TransformerEncoderLayer /
// TransformerDecoderLayer (norm_first=False) in tools/golden/models_encdec.py:
//   embed(ids) = shared[ids] * sqrt(C) + PE[offset + t], PE[i, 2k] = sin(i / 10000^(2k/C)),
//                PE[i, 2k+1] = cos(i / 10000^(2k/C)) (interleaved), then dropout;
//   encoder layer: x = LN(x + drop(SelfAttn(x))); x = LN(x + drop(fc2(drop(relu(fc1(x))))));
//   decoder layer: the same with causal self-attention, then x = LN(x + drop(CrossAttn(x, enc)))
//                  before the feed-forward; no final norm after either stack (post-LN);
//   logits = h shared^T; loss = cross-entropy with optional label smoothing over labels != -100,
//   decoder inputs = labels shifted right with decoder_start_token_id.
// Init (tslm's choice; the paper gives none): Linear weights normal(0, init_std), biases zero,
// norms one, the shared embedding normal(0, d_model^-1/2) so that embed * sqrt(C) has unit scale.
//
// Glossary: B batch, S source positions, T target positions (new ones with a cache), P cached
// target positions, C = d_model, H heads, F ffn dim, V = vocab_size.
import { LMHead } from "../nn/heads.js";
import { add, crossEntropy, linear, mul, narrow } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { MultiHeadAttention, paddingMask, type KVCache } from "../nn/attention.js";
import { postNormResidual } from "../nn/blocks.js";
import { Dropout, Embedding, LayerNorm, Linear, activation, supportedActivations, type Activation } from "../nn/layers.js";
import { Module, initNormal, type Parameter, type ParamSource } from "../nn/module.js";
import { sinusoidalTable } from "../nn/positions.js";
import { EncoderDecoderCache } from "../nn/seq2seq_cache.js";
import { ConfigReader, type RawConfig } from "./common.js";
import { checkSeq2SeqInput, shiftRight, type Seq2SeqInput, type Seq2SeqOutput } from "./t5.js";

// ---------------------------------------------------------------------------------------------
// Config

export interface TransformerConfig {
  model_type: "transformer";
  vocab_size: number;
  d_model: number;
  encoder_layers: number;
  decoder_layers: number;
  encoder_attention_heads: number;
  decoder_attention_heads: number;
  encoder_ffn_dim: number;
  decoder_ffn_dim: number;
  activation_function: string;
  /** Residual and embedding dropout (P_drop = 0.1 in the paper). */
  dropout: number;
  attention_dropout: number;
  /** Dropout after the feed-forward activation. */
  activation_dropout: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  /** Multiply embeddings by sqrt(d_model) (section 3.4). */
  scale_embedding: boolean;
  /** lm_head = the shared embedding (the paper); false gives lm_head.weight of its own. */
  tie_word_embeddings: boolean;
  /** epsilon_ls of the loss (0.1 in the paper). */
  label_smoothing: number;
  init_std: number;
  is_encoder_decoder: true;
  pad_token_id: number;
  bos_token_id: number | number[] | null;
  eos_token_id: number | number[] | null;
  decoder_start_token_id: number;
  [key: string]: unknown;
}

/** The paper's base model: d_model 512, 6 + 6 layers, 8 heads, d_ff 2048, dropout 0.1, eps_ls 0.1. */
export function parseTransformerConfig(raw: RawConfig): TransformerConfig {
  const r = new ConfigReader("transformer", raw);
  if (raw.model_type !== undefined && raw.model_type !== "transformer") throw new Error(`transformer config: model_type is "${String(raw.model_type)}"`);
  const pad = r.int("pad_token_id", 0, { min: 0 });
  const cfg: TransformerConfig = {
    ...raw,
    model_type: "transformer",
    vocab_size: r.int("vocab_size", 37000),
    d_model: r.int("d_model", 512),
    encoder_layers: r.int("encoder_layers", 6),
    decoder_layers: r.int("decoder_layers", 6),
    encoder_attention_heads: r.int("encoder_attention_heads", 8),
    decoder_attention_heads: r.int("decoder_attention_heads", 8),
    encoder_ffn_dim: r.int("encoder_ffn_dim", 2048),
    decoder_ffn_dim: r.int("decoder_ffn_dim", 2048),
    activation_function: r.string("activation_function", "relu", supportedActivations()),
    dropout: r.number("dropout", 0.1, { min: 0, max: 0.999 }),
    attention_dropout: r.number("attention_dropout", 0, { min: 0, max: 0.999 }),
    activation_dropout: r.number("activation_dropout", 0, { min: 0, max: 0.999 }),
    max_position_embeddings: r.int("max_position_embeddings", 512),
    layer_norm_eps: r.number("layer_norm_eps", 1e-5, { min: 0 }),
    scale_embedding: r.bool("scale_embedding", true),
    tie_word_embeddings: r.bool("tie_word_embeddings", true),
    label_smoothing: r.number("label_smoothing", 0, { min: 0, max: 1 }),
    init_std: r.number("init_std", 0.02, { min: 0 }),
    is_encoder_decoder: true,
    pad_token_id: pad,
    bos_token_id: r.tokenId("bos_token_id", null),
    eos_token_id: r.tokenId("eos_token_id", null),
    decoder_start_token_id: r.int("decoder_start_token_id", pad, { min: 0 }),
  };
  for (const [w, h] of [
    ["encoder", cfg.encoder_attention_heads],
    ["decoder", cfg.decoder_attention_heads],
  ] as const) {
    if (cfg.d_model % h !== 0) throw new Error(`transformer config: d_model (${cfg.d_model}) must be divisible by ${w}_attention_heads (${h})`);
  }
  if (cfg.d_model % 2 !== 0) throw new Error(`transformer config: d_model (${cfg.d_model}) must be even for the sinusoidal encoding`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Layers

const ATTN_NAMES = { q: "q_proj", k: "k_proj", v: "v_proj", o: "out_proj" };

/** fc2(dropout(act(fc1 x))): (B, T, C) -> (B, T, F) -> (B, T, C). */
class PositionwiseFFN extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly _drop: Dropout;
  readonly _act: Activation;
  constructor(src: ParamSource, cfg: TransformerConfig, F: number) {
    super();
    this.fc1 = new Linear(src.at("fc1"), cfg.d_model, F);
    this.fc2 = new Linear(src.at("fc2"), F, cfg.d_model);
    this._drop = new Dropout(cfg.activation_dropout);
    this._act = activation(cfg.activation_function);
  }
  forward(x: Tensor): Tensor {
    this._drop.training = this.training;
    return this.fc2.forward(this._drop.forward(this._act(this.fc1.forward(x))));
  }
}

export class TransformerEncoderLayer extends Module {
  readonly self_attn: MultiHeadAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly _ffn: PositionwiseFFN;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: TransformerConfig) {
    super();
    const C = cfg.d_model;
    this.self_attn = new MultiHeadAttention(src.at("self_attn"), { dModel: C, nHeads: cfg.encoder_attention_heads, names: ATTN_NAMES, dropout: cfg.attention_dropout });
    this.self_attn_layer_norm = new LayerNorm(src.at("self_attn_layer_norm"), C, cfg.layer_norm_eps);
    this._ffn = new PositionwiseFFN(src, cfg, cfg.encoder_ffn_dim);
    [this.fc1, this.fc2] = [this._ffn.fc1, this._ffn.fc2];
    this.final_layer_norm = new LayerNorm(src.at("final_layer_norm"), C, cfg.layer_norm_eps);
    this.dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    this._ffn.training = this.training;
    x = postNormResidual(x, this.self_attn_layer_norm, (h) => this.self_attn.forward(h, { mask }), this.dropout); // (B, S, C)
    return postNormResidual(x, this.final_layer_norm, (h) => this._ffn.forward(h), this.dropout);
  }
}

export class TransformerDecoderLayer extends Module {
  readonly self_attn: MultiHeadAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly encoder_attn: MultiHeadAttention;
  readonly encoder_attn_layer_norm: LayerNorm;
  readonly _ffn: PositionwiseFFN;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: TransformerConfig) {
    super();
    const C = cfg.d_model;
    const H = cfg.decoder_attention_heads;
    this.self_attn = new MultiHeadAttention(src.at("self_attn"), { dModel: C, nHeads: H, names: ATTN_NAMES, causal: true, dropout: cfg.attention_dropout });
    this.self_attn_layer_norm = new LayerNorm(src.at("self_attn_layer_norm"), C, cfg.layer_norm_eps);
    this.encoder_attn = new MultiHeadAttention(src.at("encoder_attn"), { dModel: C, nHeads: H, names: ATTN_NAMES, dropout: cfg.attention_dropout });
    this.encoder_attn_layer_norm = new LayerNorm(src.at("encoder_attn_layer_norm"), C, cfg.layer_norm_eps);
    this._ffn = new PositionwiseFFN(src, cfg, cfg.decoder_ffn_dim);
    [this.fc1, this.fc2] = [this._ffn.fc1, this._ffn.fc2];
    this.final_layer_norm = new LayerNorm(src.at("final_layer_norm"), C, cfg.layer_norm_eps);
    this.dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, c: { mask: Tensor | null; enc: Tensor; encMask: Tensor | null; selfCache?: KVCache; crossCache?: KVCache }): Tensor {
    this._ffn.training = this.training;
    x = postNormResidual(x, this.self_attn_layer_norm, (h) => this.self_attn.forward(h, { mask: c.mask, cache: c.selfCache }), this.dropout); // (B, T, C)
    x = postNormResidual(x, this.encoder_attn_layer_norm, (h) => this.encoder_attn.forward(h, { kv: c.enc, mask: c.encMask, cache: c.crossCache }), this.dropout);
    return postNormResidual(x, this.final_layer_norm, (h) => this._ffn.forward(h), this.dropout);
  }
}

/** shared[ids] * sqrt(C) + PE[offset + t], then dropout (both stacks use one instance). */
class ScaledSinusoidalEmbedding extends Module {
  readonly _pe: Tensor;
  readonly _scale: number;
  readonly _drop: Dropout;
  constructor(
    readonly _shared: Embedding,
    readonly _cfg: TransformerConfig,
  ) {
    super();
    this._pe = sinusoidalTable(_cfg.max_position_embeddings, _cfg.d_model); // (maxPos, C), fixed
    this._scale = _cfg.scale_embedding ? Math.sqrt(_cfg.d_model) : 1;
    this._drop = new Dropout(_cfg.dropout);
  }
  forward(ids: Tensor, offset: number): Tensor {
    const T = ids.shape[1];
    if (offset + T > this._cfg.max_position_embeddings) throw new Error(`transformer: ${offset + T} positions exceed max_position_embeddings ${this._cfg.max_position_embeddings}`);
    this._drop.training = this.training;
    const x = add(mul(this._shared.forward(ids), this._scale), narrow(this._pe, 0, offset, T)); // (B, T, C)
    return this._drop.forward(x);
  }
}

export class TransformerEncoder extends Module {
  readonly layers: TransformerEncoderLayer[];
  constructor(src: ParamSource, cfg: TransformerConfig, shared: Parameter) {
    super();
    src.at("embed_tokens").tie("weight", shared);
    this.layers = Array.from({ length: cfg.encoder_layers }, (_, i) => new TransformerEncoderLayer(src.at("layers").at(i), cfg));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    for (const l of this.layers) x = l.forward(x, mask);
    return x; // (B, S, C)
  }
}

export class TransformerDecoder extends Module {
  readonly layers: TransformerDecoderLayer[];
  constructor(src: ParamSource, cfg: TransformerConfig, shared: Parameter) {
    super();
    src.at("embed_tokens").tie("weight", shared);
    this.layers = Array.from({ length: cfg.decoder_layers }, (_, i) => new TransformerDecoderLayer(src.at("layers").at(i), cfg));
  }
  forward(x: Tensor, c: { mask: Tensor | null; enc: Tensor; encMask: Tensor | null; cache?: EncoderDecoderCache }): Tensor {
    this.layers.forEach((l, i) => (x = l.forward(x, { ...c, selfCache: c.cache?.selfAttention.layers[i], crossCache: c.cache?.crossAttention.layers[i] })));
    return x; // (B, T, C)
  }
}

/** The shared embedding and the two stacks (BartModel's layout). */
export class TransformerModel extends Module {
  readonly shared: Embedding;
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly _embed: ScaledSinusoidalEmbedding;
  constructor(src: ParamSource, cfg: TransformerConfig) {
    super();
    this.shared = new Embedding(src.at("shared"), cfg.vocab_size, cfg.d_model, null, { weightInit: initNormal(cfg.d_model ** -0.5) });
    this.encoder = new TransformerEncoder(src.at("encoder"), cfg, this.shared.weight);
    this.decoder = new TransformerDecoder(src.at("decoder"), cfg, this.shared.weight);
    this._embed = new ScaledSinusoidalEmbedding(this.shared, cfg);
  }
}

// ---------------------------------------------------------------------------------------------
// Model with the tied output projection

export class TransformerForConditionalGeneration extends Module {
  static readonly modelType = "transformer";
  static readonly architecture = "TransformerForConditionalGeneration";
  readonly model: TransformerModel;
  readonly lm_head: LMHead;
  readonly config: TransformerConfig;

  constructor(config: TransformerConfig | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseTransformerConfig(config));
    src = src.withStd(cfg.init_std);
    this.model = new TransformerModel(src.at("model"), cfg);
    this.lm_head = new LMHead(src.at("lm_head"), cfg.vocab_size, cfg.d_model, { tiedTo: cfg.tie_word_embeddings ? this.model.shared.weight : null });
  }

  newCache(): EncoderDecoderCache {
    return new EncoderDecoderCache(this.config.decoder_layers);
  }

  /** Encoder output [B, S, C] for source ids [B, S]. */
  encode(inputIds: Tensor, attentionMask?: Tensor | null): Tensor {
    this.model._embed.training = this.training;
    return this.model.encoder.forward(this.model._embed.forward(inputIds, 0), attentionMask ? paddingMask(attentionMask) : null);
  }

  forward(input: Seq2SeqInput): Seq2SeqOutput {
    checkSeq2SeqInput("TransformerForConditionalGeneration", input);
    const cfg = this.config;
    const enc = input.encoderHiddenStates ?? this.encode(input.inputIds!, input.attentionMask); // (B, S, C)
    const dec = input.decoderInputIds ?? (input.labels ? shiftRight(input.labels, cfg.decoder_start_token_id, cfg.pad_token_id) : null);
    if (!dec) throw new Error("TransformerForConditionalGeneration.forward: pass decoderInputIds or labels");
    const cache = input.cache ?? (input.useCache ? this.newCache() : undefined);
    const past = cache?.length ?? 0;
    const dm = input.decoderAttentionMask;
    const h = this.model.decoder.forward(this.model._embed.forward(dec, past), {
      mask: dm ? paddingMask(dm) : null,
      enc,
      encMask: input.attentionMask ? paddingMask(input.attentionMask) : null,
      cache,
    }); // (B, T, C)
    const logits = linear(h, this.lm_head.weight); // (B, T, V)
    const out: Seq2SeqOutput = { logits, encoderLastHiddenState: enc };
    if (input.labels) out.loss = crossEntropy(logits, input.labels, { ignoreIndex: -100, labelSmoothing: cfg.label_smoothing });
    if (cache) out.cache = cache;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint key table
//
// Keys equal the parameter paths, except the tied copies of model.shared.weight
// (model.encoder.embed_tokens.weight, model.decoder.embed_tokens.weight and, when tied,
// lm_head.weight), which are not saved and are accepted (shape-checked) when present.
export const checkpointKeyTable = {
  ignored: [/^model\.(encoder|decoder)\.embed_tokens\.weight$/],
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    return new Map(tensors);
  },
};
