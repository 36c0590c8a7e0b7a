// BERT (BertModel, BertForMaskedLM, BertForSequenceClassification): an encoder-only, post-LN
// Transformer with learned absolute positions, segment (token type) embeddings, a tanh pooler over
// the first token, a masked-LM head whose decoder is tied to the word embeddings, and a
// sequence-classification head.
//
// Mirrors transformers' models/bert/modeling_bert.py (v5) number for number: embeddings = word +
// position + token_type, then LayerNorm and dropout; each layer is
//   h = LayerNorm(x + dropout(attention(x)))         (BertSelfOutput)
//   y = LayerNorm(h + dropout(W2 act(W1 h)))         (BertIntermediate + BertOutput)
// with bidirectional attention and an additive padding mask; scores scaled by 1/sqrt(D).
// Reference init (BertPreTrainedModel._init_weights): normal(0, initializer_range) for linear and
// embedding weights (padding row zeroed), biases zero, layer norms one; the MLM bias zero.
//
// Glossary: B batch, T positions, C = hidden_size, H = num_attention_heads, D = C / H head dim,
// F = intermediate_size, V = vocab_size, L = num_hidden_layers, K = num_labels.
import { abs, add, crossEntropy, exp, linear, log, mean, mul, narrow, relu, reshape, sub, tanh } from "../ops/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { attend, mergeHeads, paddingMask, splitHeads } from "../nn/attention.js";
import { Dropout, Embedding, LayerNorm, Linear, activation, supportedActivations, type Activation } from "../nn/layers.js";
import { Module, initZeros, type Parameter, type ParamSource } from "../nn/module.js";
import { arange } from "../tensor/create.js";
import { ConfigReader, type RawConfig } from "./common.js";

// ---------------------------------------------------------------------------------------------
// Config (transformers BertConfig field names and defaults)

export type BertProblemType = "regression" | "single_label_classification" | "multi_label_classification";

export interface BertConfig {
  model_type: "bert";
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number | null;
  classifier_dropout: number | null;
  /** Sequence classification: number of classes (from id2label when present). */
  num_labels: number;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  problem_type: BertProblemType | null;
  [key: string]: unknown;
}

export function parseBertConfig(raw: RawConfig): BertConfig {
  const r = new ConfigReader("bert", raw);
  if (raw.model_type !== undefined && raw.model_type !== "bert") throw new Error(`bert config: model_type is "${String(raw.model_type)}"`);
  r.unsupported("position_embedding_type", (v) => v === "absolute", "only absolute position embeddings are implemented");
  r.unsupported("is_decoder", (v) => v === false, "BERT as a causal decoder is not implemented");
  r.unsupported("add_cross_attention", (v) => v === false, "BERT with cross-attention is not implemented");
  const pad = r.intOrNull("pad_token_id", 0);
  // transformers derives num_labels from id2label when that is given, else num_labels (default 2).
  const id2labelRaw = raw.id2label as Record<string, string> | undefined;
  let numLabels = r.int("num_labels", id2labelRaw && typeof id2labelRaw === "object" ? Object.keys(id2labelRaw).length : 2);
  const id2label: Record<string, string> = {};
  if (id2labelRaw && typeof id2labelRaw === "object") {
    for (const [k, v] of Object.entries(id2labelRaw)) {
      if (!/^\d+$/.test(k) || typeof v !== "string") throw new Error(`bert config: "id2label" must map integer keys to strings, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      id2label[k] = v;
    }
    numLabels = Object.keys(id2label).length;
  } else for (let i = 0; i < numLabels; i++) id2label[String(i)] = `LABEL_${i}`;
  const label2id: Record<string, number> = {};
  for (const [k, v] of Object.entries(id2label)) label2id[v] = Number(k);
  const problem = raw.problem_type ?? null;
  if (problem !== null && problem !== "regression" && problem !== "single_label_classification" && problem !== "multi_label_classification") {
    throw new Error(`bert config: "problem_type" = ${JSON.stringify(problem)} is not one of regression, single_label_classification, multi_label_classification`);
  }
  const cfg: BertConfig = {
    ...raw,
    model_type: "bert",
    vocab_size: r.int("vocab_size", 30522),
    hidden_size: r.int("hidden_size", 768),
    num_hidden_layers: r.int("num_hidden_layers", 12),
    num_attention_heads: r.int("num_attention_heads", 12),
    intermediate_size: r.int("intermediate_size", 3072),
    hidden_act: r.string("hidden_act", "gelu", supportedActivations()),
    hidden_dropout_prob: r.number("hidden_dropout_prob", 0.1, { min: 0, max: 0.999 }),
    attention_probs_dropout_prob: r.number("attention_probs_dropout_prob", 0.1, { min: 0, max: 0.999 }),
    max_position_embeddings: r.int("max_position_embeddings", 512),
    type_vocab_size: r.int("type_vocab_size", 2),
    initializer_range: r.number("initializer_range", 0.02, { min: 0 }),
    layer_norm_eps: r.number("layer_norm_eps", 1e-12, { min: 0 }),
    pad_token_id: pad,
    classifier_dropout: raw.classifier_dropout === undefined || raw.classifier_dropout === null ? null : r.number("classifier_dropout", 0, { min: 0, max: 0.999 }),
    num_labels: numLabels,
    id2label,
    label2id,
    problem_type: problem,
  };
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) throw new Error(`bert config: hidden_size (${cfg.hidden_size}) must be divisible by num_attention_heads (${cfg.num_attention_heads})`);
  if (pad !== null && (pad < 0 || pad >= cfg.vocab_size)) throw new Error(`bert config: pad_token_id ${pad} is outside the vocabulary [0, ${cfg.vocab_size})`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

export interface BertInput {
  /** Token ids, int32 [B, T]. */
  inputIds: Tensor;
  /** 1 for real tokens, 0 for padding, int32 [B, T] (default: all ones). */
  attentionMask?: Tensor | null;
  /** Segment ids, int32 [B, T] (default: all zeros, as transformers). */
  tokenTypeIds?: Tensor | null;
  /** int32 [1 or B, T] (default [0, T)). */
  positionIds?: Tensor | null;
  /**
   * Masked LM: int32 [B, T], -100 where no prediction is scored. Sequence classification: int32 [B]
   * (single label), float32 [B] or [B, 1] (regression), float32 [B, K] (multi-label).
   */
  labels?: Tensor | null;
}

export interface BertOutput {
  /** [B, T, V] (masked LM), [B, K] (classification) or [B, T, C] (BertModel: the last hidden state). */
  logits: Tensor;
  loss?: Tensor;
  /** [B, T, C] */
  lastHiddenState: Tensor;
  /** [B, C], when the model has a pooler. */
  poolerOutput?: Tensor;
}

function checkInput(model: string, input: BertInput, maxPositions: number): [number, number] {
  const ids = input.inputIds;
  if (!(ids instanceof Tensor) || ids.dtype !== "int32" || ids.ndim !== 2) {
    throw new Error(`${model}.forward: inputIds must be an int32 tensor [B, T], got ${ids instanceof Tensor ? `${ids.dtype} ${formatShape(ids.shape)}` : typeof ids}`);
  }
  const [B, T] = ids.shape;
  if (T > maxPositions) throw new Error(`${model}.forward: ${T} positions exceed max_position_embeddings ${maxPositions}`);
  for (const [name, t] of [
    ["attentionMask", input.attentionMask],
    ["tokenTypeIds", input.tokenTypeIds],
  ] as const) {
    if (t && (t.dtype !== "int32" || t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== T)) {
      throw new Error(`${model}.forward: ${name} must be int32 [B, T] = [${B}, ${T}], got ${t.dtype} ${formatShape(t.shape)}`);
    }
  }
  return [B, T];
}

// ---------------------------------------------------------------------------------------------
// Embeddings and layers

export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    const C = cfg.hidden_size;
    this.word_embeddings = new Embedding(src.at("word_embeddings"), cfg.vocab_size, C, cfg.pad_token_id);
    this.position_embeddings = new Embedding(src.at("position_embeddings"), cfg.max_position_embeddings, C);
    this.token_type_embeddings = new Embedding(src.at("token_type_embeddings"), cfg.type_vocab_size, C);
    this.LayerNorm = new LayerNorm(src.at("LayerNorm"), C, cfg.layer_norm_eps);
    this.dropout = new Dropout(cfg.hidden_dropout_prob);
    // Non-persistent buffers that older checkpoints still carry.
    src.ignore("position_ids");
    src.ignore("token_type_ids");
  }
  forward(ids: Tensor, tokenTypeIds: Tensor, positionIds: Tensor): Tensor {
    let x = add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(tokenTypeIds)); // (B, T, C)
    x = add(x, this.position_embeddings.forward(positionIds)); // (1 or B, T, C) broadcast
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}

/** q/k/v projections and scaled dot-product attention (BertSelfAttention). */
class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly _H: number;
  readonly _p: number;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    const C = cfg.hidden_size;
    this.query = new Linear(src.at("query"), C, C);
    this.key = new Linear(src.at("key"), C, C);
    this.value = new Linear(src.at("value"), C, C);
    this._H = cfg.num_attention_heads;
    this._p = cfg.attention_probs_dropout_prob;
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const H = this._H;
    const q = splitHeads(this.query.forward(x), H); // (B, H, T, D)
    const k = splitHeads(this.key.forward(x), H);
    const v = splitHeads(this.value.forward(x), H);
    const y = attend(q, k, v, { mask, dropoutP: this._p, training: this.training }); // (B, H, T, D), scale 1/sqrt(D)
    return mergeHeads(y); // (B, T, C)
  }
}

/** dense, dropout, then LayerNorm of the residual sum (BertSelfOutput and BertOutput). */
class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(src: ParamSource, inDim: number, cfg: BertConfig) {
    super();
    this.dense = new Linear(src.at("dense"), inDim, cfg.hidden_size);
    this.LayerNorm = new LayerNorm(src.at("LayerNorm"), cfg.hidden_size, cfg.layer_norm_eps);
    this.dropout = new Dropout(cfg.hidden_dropout_prob);
  }
  /** Post-LN: LayerNorm(residual + dropout(dense(h))). */
  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(residual, this.dropout.forward(this.dense.forward(h))));
  }
}

class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.self = new BertSelfAttention(src.at("self"), cfg);
    this.output = new BertResidualOutput(src.at("output"), cfg.hidden_size, cfg);
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

class BertIntermediate extends Module {
  readonly dense: Linear;
  readonly _act: Activation;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.dense = new Linear(src.at("dense"), cfg.hidden_size, cfg.intermediate_size);
    this._act = activation(cfg.hidden_act);
  }
  forward(x: Tensor): Tensor {
    return this._act(this.dense.forward(x)); // (B, T, F)
  }
}

class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.attention = new BertAttention(src.at("attention"), cfg);
    this.intermediate = new BertIntermediate(src.at("intermediate"), cfg);
    this.output = new BertResidualOutput(src.at("output"), cfg.intermediate_size, cfg);
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.attention.forward(x, mask); // (B, T, C)
    return this.output.forward(this.intermediate.forward(h), h);
  }
}

class BertEncoder extends Module {
  readonly layer: BertLayer[];
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.layer = Array.from({ length: cfg.num_hidden_layers }, (_, i) => new BertLayer(src.at("layer").at(i), cfg));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    for (const l of this.layer) x = l.forward(x, mask);
    return x;
  }
}

/** tanh(dense(h[:, 0])): the [CLS] summary the classification head reads. */
class BertPooler extends Module {
  readonly dense: Linear;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.dense = new Linear(src.at("dense"), cfg.hidden_size, cfg.hidden_size);
  }
  forward(h: Tensor): Tensor {
    const [B, , C] = h.shape;
    return tanh(this.dense.forward(reshape(narrow(h, 1, 0, 1), [B, C]))); // (B, C)
  }
}

// ---------------------------------------------------------------------------------------------
// Model

/** BertModel: embeddings, L post-LN layers, and (optionally) the pooler. */
export class BertModel extends Module {
  static readonly modelType = "bert";
  static readonly architecture = "BertModel";
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;
  readonly config: BertConfig;

  constructor(config: BertConfig | RawConfig, src: ParamSource, opts: { addPoolingLayer?: boolean } = {}) {
    super();
    const cfg = (this.config = parseBertConfig(config));
    src = src.withStd(cfg.initializer_range);
    this.embeddings = new BertEmbeddings(src.at("embeddings"), cfg);
    this.encoder = new BertEncoder(src.at("encoder"), cfg);
    const pool = opts.addPoolingLayer ?? true;
    this.pooler = pool ? new BertPooler(src.at("pooler"), cfg) : null;
    if (!pool) {
      // Pre-training checkpoints (bert-base-uncased) carry a pooler that the MLM head does not use.
      src.at("pooler").at("dense").ignore("weight");
      src.at("pooler").at("dense").ignore("bias");
    }
  }

  /** Hidden states [B, T, C] and, with a pooler, the pooled [B, C]. */
  forward(input: BertInput): BertOutput {
    const [B, T] = checkInput(this.constructor.name, input, this.config.max_position_embeddings);
    const tokenTypes = input.tokenTypeIds ?? new Tensor(new Int32Array(B * T), [B, T]);
    const positions = input.positionIds ?? arange(0, T).reshape([1, T]);
    const mask = input.attentionMask ? paddingMask(input.attentionMask) : null; // (B, 1, 1, T)
    const x = this.embeddings.forward(input.inputIds, tokenTypes, positions); // (B, T, C)
    const h = this.encoder.forward(x, mask);
    const out: BertOutput = { logits: h, lastHiddenState: h };
    if (this.pooler) out.poolerOutput = this.pooler.forward(h);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Heads

/** dense -> act -> LayerNorm (BertPredictionHeadTransform). */
class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly _act: Activation;
  constructor(src: ParamSource, cfg: BertConfig) {
    super();
    this.dense = new Linear(src.at("dense"), cfg.hidden_size, cfg.hidden_size);
    this.LayerNorm = new LayerNorm(src.at("LayerNorm"), cfg.hidden_size, cfg.layer_norm_eps);
    this._act = activation(cfg.hidden_act);
  }
  forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(this._act(this.dense.forward(h)));
  }
}

/** The MLM head: transform, then logits = h E^T + bias with E the word embeddings (tied). */
class BertLMPredictionHead extends Module {
  readonly transform: BertPredictionHeadTransform;
  /** cls.predictions.bias [V]; transformers' decoder.bias is the same tensor. */
  readonly bias: Parameter;
  readonly _decoderWeight: Parameter;
  constructor(src: ParamSource, cfg: BertConfig, wordEmbeddings: Parameter) {
    super();
    this.transform = new BertPredictionHeadTransform(src.at("transform"), cfg);
    this.bias = src.param("bias", [cfg.vocab_size], initZeros);
    // The decoder's weight and bias are tied copies: accepted (shape-checked) when present.
    this._decoderWeight = src.at("decoder").tie("weight", wordEmbeddings);
    src.at("decoder").tie("bias", this.bias);
  }
  forward(h: Tensor): Tensor {
    return linear(this.transform.forward(h), this._decoderWeight, this.bias); // (B, T, V)
  }
}

class BertOnlyMLMHead extends Module {
  readonly predictions: BertLMPredictionHead;
  constructor(src: ParamSource, cfg: BertConfig, wordEmbeddings: Parameter) {
    super();
    this.predictions = new BertLMPredictionHead(src.at("predictions"), cfg, wordEmbeddings);
    // Next-sentence head of pre-training checkpoints: not part of the MLM model.
    src.at("seq_relationship").ignore("weight");
    src.at("seq_relationship").ignore("bias");
  }
}

export class BertForMaskedLM extends Module {
  static readonly modelType = "bert";
  static readonly architecture = "BertForMaskedLM";
  readonly bert: BertModel;
  readonly cls: BertOnlyMLMHead;
  readonly config: BertConfig;

  constructor(config: BertConfig | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseBertConfig(config));
    src = src.withStd(cfg.initializer_range);
    this.bert = new BertModel(cfg, src.at("bert"), { addPoolingLayer: false });
    this.cls = new BertOnlyMLMHead(src.at("cls"), cfg, this.bert.embeddings.word_embeddings.weight);
  }

  /** logits [B, T, V]; loss = mean cross-entropy over labels != -100 (no shift). */
  forward(input: BertInput): BertOutput {
    const { lastHiddenState } = this.bert.forward(input);
    const logits = this.cls.predictions.forward(lastHiddenState); // (B, T, V)
    const out: BertOutput = { logits, lastHiddenState };
    if (input.labels) {
      const l = input.labels;
      if (l.dtype !== "int32" || l.ndim !== 2 || l.shape[0] !== logits.shape[0] || l.shape[1] !== logits.shape[1]) {
        throw new Error(`BertForMaskedLM.forward: labels must be int32 [B, T] = [${logits.shape[0]}, ${logits.shape[1]}], got ${l.dtype} ${formatShape(l.shape)}`);
      }
      out.loss = crossEntropy(logits, l, { ignoreIndex: -100 });
    }
    return out;
  }
}

export class BertForSequenceClassification extends Module {
  static readonly modelType = "bert";
  static readonly architecture = "BertForSequenceClassification";
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly config: BertConfig;

  constructor(config: BertConfig | RawConfig, src: ParamSource) {
    super();
    const cfg = (this.config = parseBertConfig(config));
    src = src.withStd(cfg.initializer_range);
    this.bert = new BertModel(cfg, src.at("bert"));
    this.dropout = new Dropout(cfg.classifier_dropout ?? cfg.hidden_dropout_prob);
    this.classifier = new Linear(src.at("classifier"), cfg.hidden_size, cfg.num_labels);
    // MLM / NSP heads of a pre-training checkpoint fine-tuned into a classifier: not used.
    for (const k of ["bias", "transform.dense.weight", "transform.dense.bias", "transform.LayerNorm.weight", "transform.LayerNorm.bias", "decoder.weight", "decoder.bias"]) src.at("cls").at("predictions").ignore(k);
    for (const k of ["weight", "bias"]) src.at("cls").at("seq_relationship").ignore(k);
  }

  /** logits [B, K]; the loss follows problem_type as transformers infers it. */
  forward(input: BertInput): BertOutput {
    const { lastHiddenState, poolerOutput } = this.bert.forward(input);
    const logits = this.classifier.forward(this.dropout.forward(poolerOutput!)); // (B, K)
    const out: BertOutput = { logits, lastHiddenState, poolerOutput };
    if (input.labels) out.loss = this.loss(logits, input.labels);
    return out;
  }

  /** The problem type transformers would use for these labels (config.problem_type when set). */
  problemType(labels: Tensor): BertProblemType {
    if (this.config.problem_type) return this.config.problem_type;
    if (this.config.num_labels === 1) return "regression";
    return labels.dtype === "int32" ? "single_label_classification" : "multi_label_classification";
  }

  private loss(logits: Tensor, labels: Tensor): Tensor {
    const [B, K] = logits.shape;
    const kind = this.problemType(labels);
    const bad = (want: string) => new Error(`BertForSequenceClassification.forward: ${kind} labels must be ${want}, got ${labels.dtype} ${formatShape(labels.shape)}`);
    if (kind === "single_label_classification") {
      if (labels.dtype !== "int32" || labels.size !== B) throw bad(`int32 [${B}]`);
      return crossEntropy(logits, reshape(labels, [B]), { ignoreIndex: -100 });
    }
    if (labels.dtype !== "float32") throw bad("float32");
    if (kind === "regression") {
      // MSELoss on squeezed logits and labels when there is one output.
      if (labels.size !== B * K) throw bad(`[${B}${K === 1 ? "" : `, ${K}`}]`);
      const d = sub(reshape(logits, [B * K]), reshape(labels, [B * K]));
      return mean(mul(d, d));
    }
    // BCEWithLogitsLoss, in its stable form: max(x, 0) - x y + log(1 + exp(-|x|)).
    if (labels.ndim !== 2 || labels.shape[0] !== B || labels.shape[1] !== K) throw bad(`[${B}, ${K}]`);
    const l = add(sub(relu(logits), mul(logits, labels)), log(add(exp(mul(abs(logits), -1)), 1)));
    return mean(l);
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint key table
//
// Keys equal the parameter paths (bert.encoder.layer.0.attention.self.query.weight, ...) with these
// exceptions, all accepted on load and not saved:
//   - cls.predictions.decoder.weight is tied to bert.embeddings.word_embeddings.weight and
//     cls.predictions.decoder.bias to cls.predictions.bias (transformers omits both when saving);
//   - bert.embeddings.position_ids / token_type_ids: buffers of older checkpoints;
//   - a pre-training checkpoint's bert.pooler.* (for BertForMaskedLM) and cls.seq_relationship.*.
// The class is chosen by config.architectures[0]; BertForPreTraining checkpoints load as
// BertForMaskedLM (their NSP head is dropped).
export const BERT_ARCHITECTURES = {
  BertModel: (c: RawConfig, s: ParamSource) => new BertModel(c, s),
  BertForMaskedLM: (c: RawConfig, s: ParamSource) => new BertForMaskedLM(c, s),
  BertForPreTraining: (c: RawConfig, s: ParamSource) => new BertForMaskedLM(c, s),
  BertForSequenceClassification: (c: RawConfig, s: ParamSource) => new BertForSequenceClassification(c, s),
} as const;

export type AnyBertModel = BertModel | BertForMaskedLM | BertForSequenceClassification;

/** Builds the class config.architectures[0] names (default BertModel, as AutoModel). */
export function createBert(config: RawConfig, src: ParamSource): AnyBertModel {
  const arch = Array.isArray(config.architectures) && typeof config.architectures[0] === "string" ? config.architectures[0] : "BertModel";
  const make = (BERT_ARCHITECTURES as Record<string, (c: RawConfig, s: ParamSource) => AnyBertModel>)[arch];
  if (!make) throw new Error(`bert config: architecture "${arch}" is not supported by tslm (supported: ${Object.keys(BERT_ARCHITECTURES).join(", ")})`);
  return make(config, src);
}

export const checkpointKeyTable = {
  ignored: [/^cls\.predictions\.decoder\.(weight|bias)$/, /^(bert\.)?embeddings\.(position_ids|token_type_ids)$/, /^cls\.seq_relationship\./, /^bert\.pooler\./],
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    return new Map(tensors);
  },
};
