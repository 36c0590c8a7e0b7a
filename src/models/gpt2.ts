// GPT-2 (GPT2LMHeadModel): a decoder-only, pre-LN Transformer with learned absolute positions and
// a language-model head tied to the token embedding.
//
// Mirrors transformers' models/gpt2/modeling_gpt2.py (v5) number for number: Conv1D projections
// with weights stored [in, out], fused q/k/v projection `c_attn`, GELU "gelu_new" (tanh form) by
// default, residual dropout after each sublayer, embedding dropout, layer norm eps 1e-5.
// Reference init (GPT2PreTrainedModel._init_weights): normal(0, initializer_range) everywhere,
// except the residual projections attn.c_proj and mlp.c_proj at initializer_range / sqrt(2 n_layer)
// (the GPT-2 paper's scaled init); biases zero, layer norms one.
//
// Glossary: B batch, T new positions, S = cached + T key positions, C = n_embd, H = n_head,
// D = C / H head dim, F = n_inner (default 4C) MLP width, V = vocab_size, L = n_layer.
import { isGradEnabled } from "../autograd/engine.js";
import { LMHead } from "../nn/heads.js";
import { add, embedding, linear, narrow, packedAttention, reshape, transpose } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { DynamicCache, KVCache, attend, mergeHeads, paddingMask } from "../nn/attention.js";
import { Conv1D, Dropout, Embedding, LayerNorm, activation, supportedActivations, type Activation } from "../nn/layers.js";
import { Module, initNormal, type Parameter, type ParamSource } from "../nn/module.js";
import { preNormResidual } from "../nn/blocks.js";
import { ConfigReader, causalLMHead, checkCausalInput, defaultPositions, type CausalLMInput, type CausalLMLossOutput, type CausalLMOutput, type RawConfig } from "./common.js";

// ---------------------------------------------------------------------------------------------
// Config (transformers GPT2Config field names and defaults)

export interface GPT2Config {
  model_type: "gpt2";
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_inner: number | null;
  activation_function: string;
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  initializer_range: number;
  scale_attn_weights: boolean;
  scale_attn_by_inverse_layer_idx: boolean;
  reorder_and_upcast_attn: boolean;
  add_cross_attention: boolean;
  tie_word_embeddings: boolean;
  bos_token_id: number | number[] | null;
  eos_token_id: number | number[] | null;
  pad_token_id: number | number[] | null;
  /** Every other config.json key, kept verbatim for round-trip. */
  [key: string]: unknown;
}

/** Validates a config.json object; unknown keys are kept, unsupported math is an error. */
export function parseGPT2Config(raw: RawConfig): GPT2Config {
  const r = new ConfigReader("gpt2", raw);
  if (raw.model_type !== undefined && raw.model_type !== "gpt2") throw new Error(`gpt2 config: model_type is "${String(raw.model_type)}"`);
  // reorder_and_upcast_attn only changes mixed-precision rounding: identical in float32.
  r.unsupported("add_cross_attention", (v) => v === false, "GPT-2 with cross-attention layers is not implemented");
  const cfg: GPT2Config = {
    ...raw,
    // What transformers writes; kept as given, filled in for configs made in code.
    architectures: raw.architectures ?? ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: r.int("vocab_size", 50257),
    n_positions: r.int("n_positions", 1024, { aliases: ["max_position_embeddings"] }),
    n_embd: r.int("n_embd", 768, { aliases: ["hidden_size"] }),
    n_layer: r.int("n_layer", 12, { aliases: ["num_hidden_layers"] }),
    n_head: r.int("n_head", 12, { aliases: ["num_attention_heads"] }),
    n_inner: r.intOrNull("n_inner", null),
    activation_function: r.string("activation_function", "gelu_new", supportedActivations()),
    resid_pdrop: r.number("resid_pdrop", 0.1, { min: 0, max: 0.999 }),
    embd_pdrop: r.number("embd_pdrop", 0.1, { min: 0, max: 0.999 }),
    attn_pdrop: r.number("attn_pdrop", 0.1, { min: 0, max: 0.999 }),
    layer_norm_epsilon: r.number("layer_norm_epsilon", 1e-5, { min: 0 }),
    initializer_range: r.number("initializer_range", 0.02, { min: 0 }),
    scale_attn_weights: r.bool("scale_attn_weights", true),
    scale_attn_by_inverse_layer_idx: r.bool("scale_attn_by_inverse_layer_idx", false),
    reorder_and_upcast_attn: r.bool("reorder_and_upcast_attn", false),
    add_cross_attention: false,
    tie_word_embeddings: r.bool("tie_word_embeddings", true),
    bos_token_id: r.tokenId("bos_token_id", 50256),
    eos_token_id: r.tokenId("eos_token_id", 50256),
    pad_token_id: r.tokenId("pad_token_id", null),
  };
  if (cfg.n_embd % cfg.n_head !== 0) throw new Error(`gpt2 config: n_embd (${cfg.n_embd}) must be divisible by n_head (${cfg.n_head})`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Blocks

/** What GPT2Attention calls on c_attn: a Conv1D, or a wrapper of one (peft's LoRA / IA3 layers). */
type QKVProjection = Module & { forward(x: Tensor): Tensor; forwardColumns?(x: Tensor, start: number, len: number): Tensor };

/** Causal self-attention with the fused q/k/v projection c_attn [C, 3C] and c_proj [C, C]. */
class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  readonly attn_dropout: number;
  readonly resid_dropout: Dropout;
  readonly _H: number;
  readonly _scale: number;
  constructor(src: ParamSource, cfg: GPT2Config, layerIdx: number) {
    super();
    const C = cfg.n_embd;
    this.c_attn = new Conv1D(src.at("c_attn"), C, 3 * C);
    this.c_proj = new Conv1D(src.at("c_proj"), C, C, { weightInit: initNormal(cfg.initializer_range / Math.sqrt(2 * cfg.n_layer)) });
    this.attn_dropout = cfg.attn_pdrop;
    this.resid_dropout = new Dropout(cfg.resid_pdrop);
    this._H = cfg.n_head;
    let scale = cfg.scale_attn_weights ? 1 / Math.sqrt(C / cfg.n_head) : 1;
    if (cfg.scale_attn_by_inverse_layer_idx) scale /= layerIdx + 1;
    this._scale = scale;
    // Causal-mask buffers of old checkpoints: transformers ignores them, so does tslm.
    src.ignore("bias");
    src.ignore("masked_bias");
  }

  forward(x: Tensor, mask: Tensor | null, cache?: KVCache): Tensor {
    const [B, T, C] = x.shape;
    const H = this._H;
    const D = C / H;
    if (!cache && !(this.training && this.attn_dropout > 0)) {
      // Training and full forwards: one c_attn GEMM, attention reading q, k, v in place from its
      // [B, T, 3, H, D] output and writing the heads merged; no head split/merge copies.
      const y = packedAttention(this.c_attn.forward(x), H, { attnMask: mask, isCausal: true, scale: this._scale }); // (B, T, C)
      return this.resid_dropout.forward(this.c_proj.forward(y)); // (B, T, C)
    }
    // The q, k, v column blocks of c_attn's [B, T, 3C] output. A plain Conv1D under autograd
    // projects with each column block of its weight [C, 3C] (strided views read in place), so that
    // backward scatters three [C, C] weight gradients instead of three [B, T, C] ones. A wrapped
    // c_attn (peft's LoRA / IA3) that can compute column blocks does so. Otherwise (cached decoding
    // without autograd: one weight stream, one kernel call; or any other wrapper) one fused product
    // is split, as transformers' GPT2Attention does.
    const proj = this.c_attn as QKVProjection;
    const plain = proj instanceof Conv1D;
    const fused = (plain && !isGradEnabled()) || (!plain && !proj.forwardColumns) ? proj.forward(x) : null; // (B, T, 3C)
    const block = (i: number): Tensor => {
      if (fused) return narrow(fused, 2, i * C, C);
      if (proj instanceof Conv1D) return linear(x, narrow(proj.weight, 1, i * C, C).T, narrow(proj.bias, 0, i * C, C));
      return proj.forwardColumns!(x, i * C, C);
    }; // (B, T, C)
    const heads = (i: number) => transpose(reshape(block(i), [B, T, H, D]), 1, 2); // (B, H, T, D)
    const q = heads(0);
    let k = heads(1);
    let v = heads(2);
    if (cache) [k, v] = cache.append(k, v); // (B, H, S, D)
    const y = attend(q, k, v, { mask, causal: true, scale: this._scale, dropoutP: this.attn_dropout, training: this.training }); // (B, H, T, D)
    return this.resid_dropout.forward(this.c_proj.forward(mergeHeads(y))); // (B, T, C)
  }
}

class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  readonly dropout: Dropout;
  readonly _act: Activation;
  constructor(src: ParamSource, cfg: GPT2Config) {
    super();
    const C = cfg.n_embd;
    const F = cfg.n_inner ?? 4 * C;
    this.c_fc = new Conv1D(src.at("c_fc"), C, F);
    this.c_proj = new Conv1D(src.at("c_proj"), F, C, { weightInit: initNormal(cfg.initializer_range / Math.sqrt(2 * cfg.n_layer)) });
    this.dropout = new Dropout(cfg.resid_pdrop);
    this._act = activation(cfg.activation_function);
  }
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this._act(this.c_fc.forward(x)))); // (B, T, C)
  }
}

/** Pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;
  constructor(src: ParamSource, cfg: GPT2Config, layerIdx: number) {
    super();
    this.ln_1 = new LayerNorm(src.at("ln_1"), cfg.n_embd, cfg.layer_norm_epsilon);
    this.attn = new GPT2Attention(src.at("attn"), cfg, layerIdx);
    this.ln_2 = new LayerNorm(src.at("ln_2"), cfg.n_embd, cfg.layer_norm_epsilon);
    this.mlp = new GPT2MLP(src.at("mlp"), cfg);
  }
  forward(x: Tensor, mask: Tensor | null, cache?: KVCache): Tensor {
    x = preNormResidual(x, this.ln_1, (h) => this.attn.forward(h, mask, cache));
    return preNormResidual(x, this.ln_2, (h) => this.mlp.forward(h));
  }
}

// ---------------------------------------------------------------------------------------------
// Model

/** GPT2Model: embeddings, L blocks, final layer norm. */
export class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: GPT2Block[];
  readonly ln_f: LayerNorm;
  constructor(src: ParamSource, cfg: GPT2Config) {
    super();
    this.wte = new Embedding(src.at("wte"), cfg.vocab_size, cfg.n_embd);
    this.wpe = new Embedding(src.at("wpe"), cfg.n_positions, cfg.n_embd);
    this.drop = new Dropout(cfg.embd_pdrop);
    this.h = Array.from({ length: cfg.n_layer }, (_, i) => new GPT2Block(src.at("h").at(i), cfg, i));
    this.ln_f = new LayerNorm(src.at("ln_f"), cfg.n_embd, cfg.layer_norm_epsilon);
  }

  /** Hidden states [B, T, C] after ln_f. */
  forward(inputIds: Tensor, positionIds: Tensor, mask: Tensor | null, cache?: DynamicCache): Tensor {
    let x = add(this.wte.forward(inputIds), this.wpe.forward(positionIds)); // (B, T, C)
    x = this.drop.forward(x);
    this.h.forEach((block, i) => (x = block.forward(x, mask, cache?.layers[i])));
    return this.ln_f.forward(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Heads

export class GPT2LMHeadModel extends Module {
  static readonly modelType = "gpt2";
  static readonly architecture = "GPT2LMHeadModel";
  readonly transformer: GPT2Model;
  readonly lm_head: LMHead;
  readonly config: GPT2Config;

  constructor(config: GPT2Config | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseGPT2Config(config));
    src = src.withStd(cfg.initializer_range);
    this.transformer = new GPT2Model(src.at("transformer"), cfg);
    this.lm_head = new LMHead(src.at("lm_head"), cfg.vocab_size, cfg.n_embd, { tiedTo: cfg.tie_word_embeddings ? this.transformer.wte.weight : null });
  }

  protected override ignoredKeys(): RegExp[] {
    return checkpointKeyTable.ignored;
  }

  /** transformers' forward; with lossOnly (and labels) the loss alone, without logits. */
  forward(input: CausalLMInput & { lossOnly: true }): CausalLMLossOutput;
  forward(input: CausalLMInput & { lossOnly?: false }): CausalLMOutput;
  forward(input: CausalLMInput): CausalLMOutput | CausalLMLossOutput;
  forward(input: CausalLMInput): CausalLMOutput | CausalLMLossOutput {
    const cache = input.cache ?? (input.useCache ? new DynamicCache(this.config.n_layer) : undefined);
    const past = cache?.length ?? 0;
    const [, T] = checkCausalInput("GPT2LMHeadModel", input, past);
    if (past + T > this.config.n_positions) throw new Error(`GPT2LMHeadModel.forward: ${past + T} positions exceed n_positions ${this.config.n_positions}`);
    const positions = input.positionIds ?? defaultPositions(past, T); // (1 or B, T)
    const mask = input.attentionMask ? paddingMask(input.attentionMask) : null; // (B, 1, 1, S)
    const h = this.transformer.forward(input.inputIds, positions, mask, cache); // (B, T, C)
    const out = causalLMHead(h, this.lm_head.weight, input); // logits (B, T or logitsToKeep, V) and/or loss
    if (cache) out.cache = cache;
    return out;
  }

  /** A fresh KV cache for this model (one KVCache per layer). */
  newCache(): DynamicCache {
    return new DynamicCache(this.config.n_layer);
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint key table
//
// Keys equal the parameter paths (transformer.h.0.attn.c_attn.weight, ...) with these exceptions:
//   - Conv1D weights (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are [in, out] in the
//     checkpoint and in tslm: no transpose anywhere.
//   - lm_head.weight is tied to transformer.wte.weight: transformers omits it when saving; when an
//     older checkpoint has it, it is accepted (shape-checked) and ignored.
//   - transformer.h.N.attn.bias / attn.masked_bias: causal-mask buffers in old checkpoints, ignored.
//   - Checkpoints saved from GPT2Model (openai-community/gpt2 itself) have no "transformer." prefix;
//     remapKeys adds it.
export const checkpointKeyTable = {
  ignored: [/^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/, /^lm_head\.weight$/],
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    const keys = [...tensors.keys()];
    const bare = keys.length > 0 && !keys.some((k) => k.startsWith("transformer.")) && keys.some((k) => k.startsWith("h.") || k.startsWith("wte."));
    return new Map([...tensors].map(([k, v]) => [bare && k !== "lm_head.weight" ? `transformer.${k}` : k, v]));
  },
};
