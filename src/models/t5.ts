// T5 (T5ForConditionalGeneration): an encoder-decoder, pre-LN Transformer with learned relative
// position buckets instead of absolute positions, RMS-style layer norms without bias, no bias in
// any projection, and no 1/sqrt(D) scaling of attention scores (T5 folds it into the q init).
//
// Mirrors transformers' models/t5/modeling_t5.py (v5) number for number:
//   - each stack: dropout(embed) -> blocks -> final_layer_norm -> dropout; a block is
//     x + dropout(SelfAttention(norm(x))) [+ x + dropout(EncDecAttention(norm(x), enc))] +
//     x + dropout(DenseReluDense(norm(x)));
//   - the relative position bias lives in block 0's self-attention (relative_attention_bias [NB, H])
//     and is shared by every layer of that stack; bidirectional buckets in the encoder, causal
//     (look-back only) in the decoder; cross-attention has no position bias;
//   - feed_forward_proj "relu" (v1.0: wo(relu(wi x))) or "gated-gelu" (v1.1: wo(gelu_new(wi_0 x) *
//     wi_1 x)); any "act" / "gated-act" with a known activation works the same way;
//   - lm_head: tied to `shared` with the decoder output scaled by d_model^-0.5 (v1.0), or its own
//     weight without scaling (v1.1, tie_word_embeddings false). transformers 5 writes
//     tie_word_embeddings true plus scale_decoder_outputs; both spellings are read;
//   - labels -> decoder_input_ids by shifting right with decoder_start_token_id (-100 -> pad);
//     the loss is the mean cross-entropy over labels != -100 (no further shift).
// Reference init (T5PreTrainedModel._init_weights, factor = initializer_factor): shared and lm_head
// normal(factor); q normal(factor (d_model d_kv)^-1/2), k and v normal(factor d_model^-1/2), o
// normal(factor (H d_kv)^-1/2); wi normal(factor d_model^-1/2), wo normal(factor d_ff^-1/2);
// relative_attention_bias normal(factor d_model^-1/2); norms one.
//
// Glossary: B batch, S encoder positions, T decoder positions (new ones with a cache), P cached
// decoder positions, C = d_model, H = num_heads, D = d_kv, F = d_ff, V = vocab_size, NB buckets.
import { LMHead } from "../nn/heads.js";
import { add, crossEntropy, linear, mul, reshape, transpose } from "../ops/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { KVCache, attend, mergeHeads, paddingMask } from "../nn/attention.js";
import { Dropout, Embedding, Linear, RMSNorm, activation, supportedActivations, type Activation } from "../nn/layers.js";
import { Module, initNormal, type Parameter, type ParamSource } from "../nn/module.js";
import { relativePositionBias } from "../nn/relative_position.js";
import { EncoderDecoderCache } from "../nn/seq2seq_cache.js";
import { ConfigReader, type RawConfig } from "./common.js";

// ---------------------------------------------------------------------------------------------
// Config (transformers T5Config field names and defaults)

export interface T5Config {
  model_type: "t5";
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_layers: number;
  num_decoder_layers: number;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  dropout_rate: number;
  layer_norm_epsilon: number;
  initializer_factor: number;
  feed_forward_proj: string;
  /** Derived from feed_forward_proj as transformers does ("gated-gelu" -> gelu_new). */
  dense_act_fn: string;
  is_gated_act: boolean;
  /** lm_head shares `shared.weight`. */
  tie_word_embeddings: boolean;
  /** Multiply the decoder output by d_model^-0.5 before lm_head (T5 v1.0; tied models). */
  scale_decoder_outputs: boolean;
  is_encoder_decoder: true;
  pad_token_id: number;
  eos_token_id: number | number[] | null;
  decoder_start_token_id: number;
  [key: string]: unknown;
}

export function parseT5Config(raw: RawConfig): T5Config {
  const r = new ConfigReader("t5", raw);
  if (raw.model_type !== undefined && raw.model_type !== "t5") throw new Error(`t5 config: model_type is "${String(raw.model_type)}"`);
  const ffp = r.string("feed_forward_proj", "relu");
  const parts = ffp.split("-");
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== "gated")) throw new Error(`t5 config: "feed_forward_proj" = "${ffp}" must be "ACT" or "gated-ACT" (e.g. "relu", "gated-gelu")`);
  const act = ffp === "gated-gelu" ? "gelu_new" : parts[parts.length - 1];
  if (!supportedActivations().includes(act)) throw new Error(`t5 config: "feed_forward_proj" = "${ffp}": activation "${act}" is not supported by tslm (supported: ${supportedActivations().join(", ")})`);
  const tied = r.bool("tie_word_embeddings", true);
  const numLayers = r.int("num_layers", 6);
  const pad = r.int("pad_token_id", 0, { min: 0 });
  const cfg: T5Config = {
    ...raw,
    model_type: "t5",
    vocab_size: r.int("vocab_size", 32128),
    d_model: r.int("d_model", 512),
    d_kv: r.int("d_kv", 64),
    d_ff: r.int("d_ff", 2048),
    num_layers: numLayers,
    num_decoder_layers: raw.num_decoder_layers === null || raw.num_decoder_layers === undefined ? numLayers : r.int("num_decoder_layers", numLayers),
    num_heads: r.int("num_heads", 8),
    relative_attention_num_buckets: r.int("relative_attention_num_buckets", 32, { min: 2 }),
    relative_attention_max_distance: r.int("relative_attention_max_distance", 128),
    dropout_rate: r.number("dropout_rate", 0.1, { min: 0, max: 0.999 }),
    layer_norm_epsilon: r.number("layer_norm_epsilon", 1e-6, { min: 0 }),
    initializer_factor: r.number("initializer_factor", 1, { min: 0 }),
    feed_forward_proj: ffp,
    dense_act_fn: act,
    is_gated_act: parts[0] === "gated",
    tie_word_embeddings: tied,
    // transformers 5: scale_decoder_outputs (absent in older configs: then "tied" decides, as v4 did).
    scale_decoder_outputs: raw.scale_decoder_outputs === undefined ? tied : r.bool("scale_decoder_outputs", tied),
    is_encoder_decoder: true,
    pad_token_id: pad,
    eos_token_id: r.tokenId("eos_token_id", 1),
    decoder_start_token_id: r.int("decoder_start_token_id", pad, { min: 0 }),
  };
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs (shared with the original Transformer in transformer.ts)

export interface Seq2SeqInput {
  /** Encoder token ids, int32 [B, S] (may be omitted when encoderHiddenStates is given). */
  inputIds?: Tensor | null;
  /** 1 for real encoder tokens, 0 for padding, int32 [B, S]. */
  attentionMask?: Tensor | null;
  /** Decoder token ids int32 [B, T]; default shiftRight(labels). */
  decoderInputIds?: Tensor | null;
  /** 1 / 0 over decoder positions including cached ones, int32 [B, P + T]. */
  decoderAttentionMask?: Tensor | null;
  /** int32 [B, T]; -100 is ignored. */
  labels?: Tensor | null;
  /** A precomputed encoder output [B, S, C] (generation encodes once). */
  encoderHiddenStates?: Tensor | null;
  cache?: EncoderDecoderCache | null;
  /** Create a cache when none is passed. */
  useCache?: boolean;
}

export interface Seq2SeqOutput {
  /** [B, T, V] */
  logits: Tensor;
  loss?: Tensor;
  /** [B, S, C] */
  encoderLastHiddenState: Tensor;
  cache?: EncoderDecoderCache;
}

/** labels -> decoder inputs: [start, labels[:, :-1]] with -100 replaced by pad (HF _shift_right). */
export function shiftRight(labels: Tensor, decoderStartTokenId: number, padTokenId: number): Tensor {
  if (labels.dtype !== "int32" || labels.ndim !== 2) throw new Error(`shiftRight: labels must be int32 [B, T], got ${labels.dtype} ${formatShape(labels.shape)}`);
  const [B, T] = labels.shape;
  const src = labels.toTypedArray();
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    out[b * T] = decoderStartTokenId;
    for (let t = 1; t < T; t++) {
      const v = src[b * T + t - 1];
      out[b * T + t] = v === -100 ? padTokenId : v;
    }
  }
  return new Tensor(out, [B, T]);
}

export function checkSeq2SeqInput(model: string, input: Seq2SeqInput): void {
  const ids = input.inputIds;
  if (!ids && !input.encoderHiddenStates) throw new Error(`${model}.forward: pass inputIds [B, S] or encoderHiddenStates [B, S, C]`);
  if (ids && (ids.dtype !== "int32" || ids.ndim !== 2)) throw new Error(`${model}.forward: inputIds must be int32 [B, S], got ${ids.dtype} ${formatShape(ids.shape)}`);
  const m = input.attentionMask;
  const ref = ids ?? input.encoderHiddenStates!;
  if (m && (m.ndim !== 2 || m.shape[0] !== ref.shape[0] || m.shape[1] !== ref.shape[1])) {
    throw new Error(`${model}.forward: attentionMask must be [B, S] = [${ref.shape[0]}, ${ref.shape[1]}], got ${formatShape(m.shape)}`);
  }
  const d = input.decoderInputIds;
  if (d && (d.dtype !== "int32" || d.ndim !== 2 || d.shape[0] !== ref.shape[0])) throw new Error(`${model}.forward: decoderInputIds must be int32 [B, T] with B = ${ref.shape[0]}, got ${d.dtype} ${formatShape(d.shape)}`);
  const l = input.labels;
  if (l && (l.dtype !== "int32" || l.ndim !== 2 || l.shape[0] !== ref.shape[0])) throw new Error(`${model}.forward: labels must be int32 [B, T] with B = ${ref.shape[0]}, got ${l.dtype} ${formatShape(l.shape)}`);
  if (l && d && l.shape[1] !== d.shape[1]) throw new Error(`${model}.forward: labels ${formatShape(l.shape)} and decoderInputIds ${formatShape(d.shape)} differ in length`);
}

// ---------------------------------------------------------------------------------------------
// Blocks

/** q/k/v/o without bias, scale 1; block 0 of a stack also owns the relative position table. */
class T5Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relative_attention_bias: Embedding | null;
  readonly _H: number;
  readonly _D: number;
  readonly _p: number;
  constructor(src: ParamSource, cfg: T5Config, hasRelativeBias: boolean) {
    super();
    const [C, H, D, f] = [cfg.d_model, cfg.num_heads, cfg.d_kv, cfg.initializer_factor];
    this.q = new Linear(src.at("q"), C, H * D, { bias: false, weightInit: initNormal(f * (C * D) ** -0.5) });
    this.k = new Linear(src.at("k"), C, H * D, { bias: false, weightInit: initNormal(f * C ** -0.5) });
    this.v = new Linear(src.at("v"), C, H * D, { bias: false, weightInit: initNormal(f * C ** -0.5) });
    this.o = new Linear(src.at("o"), H * D, C, { bias: false, weightInit: initNormal(f * (H * D) ** -0.5) });
    this.relative_attention_bias = hasRelativeBias
      ? new Embedding(src.at("relative_attention_bias"), cfg.relative_attention_num_buckets, H, null, { weightInit: initNormal(f * C ** -0.5) })
      : null;
    [this._H, this._D, this._p] = [H, D, cfg.dropout_rate];
  }

  private heads(x: Tensor): Tensor {
    const [B, T] = x.shape;
    return transpose(reshape(x, [B, T, this._H, this._D]), 1, 2); // (B, H, T, D)
  }

  /**
   * x [B, T, C] -> [B, T, C]. Self-attention appends to `cache`; cross-attention (kv = encoder
   * states) fills `cache` on the first call and reuses it afterwards.
   */
  forward(x: Tensor, opts: { kv?: Tensor; mask: Tensor | null; bias: Tensor | null; causal: boolean; cache?: KVCache }): Tensor {
    const q = this.heads(this.q.forward(x)); // (B, H, T, D)
    let k: Tensor;
    let v: Tensor;
    if (opts.kv && opts.cache && opts.cache.length > 0) {
      [k, v] = [opts.cache.keys!, opts.cache.values!]; // (B, H, S, D)
    } else {
      const src = opts.kv ?? x;
      k = this.heads(this.k.forward(src));
      v = this.heads(this.v.forward(src));
      if (opts.cache) [k, v] = opts.cache.append(k, v); // (B, H, P + T or S, D)
    }
    const y = attend(q, k, v, { mask: opts.mask, bias: opts.bias, causal: opts.causal, scale: 1, dropoutP: this._p, training: this.training }); // (B, H, T, D)
    return this.o.forward(mergeHeads(y)); // (B, T, C)
  }
}

class T5LayerSelfAttention extends Module {
  readonly SelfAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: T5Config, hasRelativeBias: boolean) {
    super();
    this.SelfAttention = new T5Attention(src.at("SelfAttention"), cfg, hasRelativeBias);
    this.layer_norm = new RMSNorm(src.at("layer_norm"), cfg.d_model, cfg.layer_norm_epsilon);
    this.dropout = new Dropout(cfg.dropout_rate);
  }
}

class T5LayerCrossAttention extends Module {
  readonly EncDecAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: T5Config) {
    super();
    this.EncDecAttention = new T5Attention(src.at("EncDecAttention"), cfg, false);
    this.layer_norm = new RMSNorm(src.at("layer_norm"), cfg.d_model, cfg.layer_norm_epsilon);
    this.dropout = new Dropout(cfg.dropout_rate);
  }
}

/** wo(dropout(act(wi x))) (v1.0) or wo(dropout(act(wi_0 x) * wi_1 x)) (v1.1). */
class T5DenseActDense extends Module {
  readonly wi?: Linear;
  readonly wi_0?: Linear;
  readonly wi_1?: Linear;
  readonly wo: Linear;
  readonly dropout: Dropout;
  readonly _act: Activation;
  constructor(src: ParamSource, cfg: T5Config) {
    super();
    const [C, F, f] = [cfg.d_model, cfg.d_ff, cfg.initializer_factor];
    const wiInit = { bias: false, weightInit: initNormal(f * C ** -0.5) };
    if (cfg.is_gated_act) {
      this.wi_0 = new Linear(src.at("wi_0"), C, F, wiInit);
      this.wi_1 = new Linear(src.at("wi_1"), C, F, wiInit);
    } else this.wi = new Linear(src.at("wi"), C, F, wiInit);
    this.wo = new Linear(src.at("wo"), F, C, { bias: false, weightInit: initNormal(f * F ** -0.5) });
    this.dropout = new Dropout(cfg.dropout_rate);
    this._act = activation(cfg.dense_act_fn);
  }
  forward(x: Tensor): Tensor {
    const h = this.wi ? this._act(this.wi.forward(x)) : mul(this._act(this.wi_0!.forward(x)), this.wi_1!.forward(x)); // (B, T, F)
    return this.wo.forward(this.dropout.forward(h)); // (B, T, C)
  }
}

class T5LayerFF extends Module {
  readonly DenseReluDense: T5DenseActDense;
  readonly layer_norm: RMSNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: T5Config) {
    super();
    this.DenseReluDense = new T5DenseActDense(src.at("DenseReluDense"), cfg);
    this.layer_norm = new RMSNorm(src.at("layer_norm"), cfg.d_model, cfg.layer_norm_epsilon);
    this.dropout = new Dropout(cfg.dropout_rate);
  }
  forward(x: Tensor): Tensor {
    return add(x, this.dropout.forward(this.DenseReluDense.forward(this.layer_norm.forward(x))));
  }
}

interface BlockContext {
  mask: Tensor | null;
  bias: Tensor | null;
  enc?: Tensor;
  encMask?: Tensor | null;
  selfCache?: KVCache;
  crossCache?: KVCache;
}

/** layer[0] self-attention, [layer[1] cross-attention,] layer[-1] feed-forward; all pre-norm. */
class T5Block extends Module {
  readonly layer: (T5LayerSelfAttention | T5LayerCrossAttention | T5LayerFF)[];
  readonly _decoder: boolean;
  constructor(src: ParamSource, cfg: T5Config, isDecoder: boolean, index: number) {
    super();
    const l = src.at("layer");
    this.layer = [new T5LayerSelfAttention(l.at(0), cfg, index === 0)];
    if (isDecoder) this.layer.push(new T5LayerCrossAttention(l.at(1), cfg));
    this.layer.push(new T5LayerFF(l.at(isDecoder ? 2 : 1), cfg));
    this._decoder = isDecoder;
    // Old checkpoints carry a never-used relative bias table in the first cross-attention.
    if (isDecoder && index === 0) l.at(1).at("EncDecAttention").at("relative_attention_bias").ignore("weight");
  }
  forward(x: Tensor, c: BlockContext): Tensor {
    const sa = this.layer[0] as T5LayerSelfAttention;
    let h = sa.SelfAttention.forward(sa.layer_norm.forward(x), { mask: c.mask, bias: c.bias, causal: this._decoder, cache: c.selfCache });
    x = add(x, sa.dropout.forward(h)); // (B, T, C)
    if (this._decoder && c.enc) {
      const ca = this.layer[1] as T5LayerCrossAttention;
      h = ca.EncDecAttention.forward(ca.layer_norm.forward(x), { kv: c.enc, mask: c.encMask ?? null, bias: null, causal: false, cache: c.crossCache });
      x = add(x, ca.dropout.forward(h));
    }
    return (this.layer[this.layer.length - 1] as T5LayerFF).forward(x);
  }
}

/** An encoder or decoder stack; embed_tokens is the model's shared embedding. */
class T5Stack extends Module {
  readonly embed_tokens: Embedding;
  readonly block: T5Block[];
  readonly final_layer_norm: RMSNorm;
  readonly dropout: Dropout;
  readonly _decoder: boolean;
  readonly _cfg: T5Config;
  constructor(src: ParamSource, cfg: T5Config, isDecoder: boolean, shared: Embedding) {
    super();
    // The stack's embed_tokens is `shared` itself (transformers ties them and saves shared only).
    src.at("embed_tokens").tie("weight", shared.weight);
    this.embed_tokens = shared;
    const n = isDecoder ? cfg.num_decoder_layers : cfg.num_layers;
    this.block = Array.from({ length: n }, (_, i) => new T5Block(src.at("block").at(i), cfg, isDecoder, i));
    this.final_layer_norm = new RMSNorm(src.at("final_layer_norm"), cfg.d_model, cfg.layer_norm_epsilon);
    this.dropout = new Dropout(cfg.dropout_rate);
    this._decoder = isDecoder;
    this._cfg = cfg;
  }

  /** ids [B, T] -> hidden states [B, T, C] (after final_layer_norm and dropout). */
  forward(ids: Tensor, opts: { mask: Tensor | null; enc?: Tensor; encMask?: Tensor | null; cache?: EncoderDecoderCache }): Tensor {
    const T = ids.shape[1];
    const past = opts.cache?.length ?? 0;
    const table = (this.block[0].layer[0] as T5LayerSelfAttention).SelfAttention.relative_attention_bias!.weight;
    const bias = relativePositionBias(table, T, past + T, {
      bidirectional: !this._decoder,
      numBuckets: this._cfg.relative_attention_num_buckets,
      maxDistance: this._cfg.relative_attention_max_distance,
      offset: past,
    }); // (1, H, T, P + T), shared by every block
    let x = this.dropout.forward(this.embed_tokens.forward(ids)); // (B, T, C)
    this.block.forEach((b, i) => {
      x = b.forward(x, { mask: opts.mask, bias, enc: opts.enc, encMask: opts.encMask, selfCache: opts.cache?.selfAttention.layers[i], crossCache: opts.cache?.crossAttention.layers[i] });
    });
    return this.dropout.forward(this.final_layer_norm.forward(x));
  }
}

// ---------------------------------------------------------------------------------------------
// Model and head

export class T5ForConditionalGeneration extends Module {
  static readonly modelType = "t5";
  static readonly architecture = "T5ForConditionalGeneration";
  readonly shared: Embedding;
  readonly encoder: T5Stack;
  readonly decoder: T5Stack;
  readonly lm_head: LMHead;
  readonly config: T5Config;

  constructor(config: T5Config | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseT5Config(config));
    const f = cfg.initializer_factor;
    this.shared = new Embedding(src.at("shared"), cfg.vocab_size, cfg.d_model, null, { weightInit: initNormal(f) });
    this.encoder = new T5Stack(src.at("encoder"), cfg, false, this.shared);
    this.decoder = new T5Stack(src.at("decoder"), cfg, true, this.shared);
    this.lm_head = new LMHead(src.at("lm_head"), cfg.vocab_size, cfg.d_model, { tiedTo: cfg.tie_word_embeddings ? this.shared.weight : null, std: f });
  }

  /** A fresh cache for cached decoding. */
  newCache(): EncoderDecoderCache {
    return new EncoderDecoderCache(this.config.num_decoder_layers);
  }

  /** Encoder hidden states [B, S, C] for ids [B, S]. */
  encode(inputIds: Tensor, attentionMask?: Tensor | null): Tensor {
    return this.encoder.forward(inputIds, { mask: attentionMask ? paddingMask(attentionMask) : null });
  }

  forward(input: Seq2SeqInput): Seq2SeqOutput {
    checkSeq2SeqInput("T5ForConditionalGeneration", input);
    const cfg = this.config;
    const enc = input.encoderHiddenStates ?? this.encode(input.inputIds!, input.attentionMask); // (B, S, C)
    const dec = input.decoderInputIds ?? (input.labels ? shiftRight(input.labels, cfg.decoder_start_token_id, cfg.pad_token_id) : null);
    if (!dec) throw new Error("T5ForConditionalGeneration.forward: pass decoderInputIds or labels");
    const cache = input.cache ?? (input.useCache ? this.newCache() : undefined);
    const dm = input.decoderAttentionMask;
    if (dm && (dm.ndim !== 2 || dm.shape[1] !== (cache?.length ?? 0) + dec.shape[1])) {
      throw new Error(`T5ForConditionalGeneration.forward: decoderAttentionMask must be [B, cached + T] = [${dec.shape[0]}, ${(cache?.length ?? 0) + dec.shape[1]}], got ${formatShape(dm.shape)}`);
    }
    let h = this.decoder.forward(dec, {
      mask: dm ? paddingMask(dm) : null,
      enc,
      encMask: input.attentionMask ? paddingMask(input.attentionMask) : null,
      cache,
    }); // (B, T, C)
    if (cfg.scale_decoder_outputs) h = mul(h, cfg.d_model ** -0.5);
    const logits = linear(h, this.lm_head.weight); // (B, T, V)
    const out: Seq2SeqOutput = { logits, encoderLastHiddenState: enc };
    if (input.labels) out.loss = crossEntropy(logits, input.labels, { ignoreIndex: -100 });
    if (cache) out.cache = cache;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint key table
//
// Keys equal the parameter paths (encoder.block.0.layer.0.SelfAttention.q.weight, ...) except:
//   - encoder.embed_tokens.weight and decoder.embed_tokens.weight are `shared.weight` (tied; not
//     saved, accepted when present); lm_head.weight too when tie_word_embeddings;
//   - decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight (old checkpoints) is
//     ignored, as transformers ignores it.
export const checkpointKeyTable = {
  ignored: [/^(encoder|decoder)\.embed_tokens\.weight$/, /^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$/],
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    return new Map(tensors);
  },
};
