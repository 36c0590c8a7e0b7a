// GPT2ForSequenceClassification: GPT-2 with a bias-free linear "score" head read at the LAST
// NON-PADDING token of each row.
//
// Mirrors transformers' modeling_gpt2.py GPT2ForSequenceClassification (v4.4x / v5):
//   logits = score(hidden_states)                                    (B, T, K)
//   with pad_token_id: non_pad = input_ids != pad_token_id; last = argmax(arange(T) * non_pad)
//     i.e. the rightmost token that is not the pad id (works for left and right padding; a row of
//     only pad ids pools position 0); without pad_token_id: batch size must be 1 and last = T - 1.
//   pooled = logits[b, last_b]                                       (B, K)
//   loss by problem_type, inferred as transformers does: num_labels 1 -> regression (MSE),
//   int labels -> single-label cross-entropy, float labels -> multi-label BCE-with-logits.
// Note that HF pools by pad id, not by the attention mask: with pad = eos (GPT-2's habit) a text
// that itself ends in eos pools at the token before it. tslm keeps that behaviour so numbers match.
// Since score has no bias, score(h)[last] = score(h[last]); tslm projects only the pooled rows.
//
// Checkpoint keys: transformer.* exactly as GPT2LMHeadModel, plus score.weight [K, C]; an
// lm_head.weight from a language-model checkpoint is ignored (GPT-2's key table already lists it).
//
// Glossary: B batch, T positions, C = n_embd, K = num_labels.
import { add, abs, crossEntropy, exp, indexSelect, linear, log, mean, mul, relu, reshape, sub } from "../ops/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { paddingMask } from "../nn/attention.js";
import { Module, initNormal, type Parameter, type ParamSource } from "../nn/module.js";
import { checkCausalInput, defaultPositions, type RawConfig } from "./common.js";
import { GPT2Model, checkpointKeyTable, parseGPT2Config, type GPT2Config } from "./gpt2.js";

export type ProblemType = "regression" | "single_label_classification" | "multi_label_classification";

export interface GPT2ClassificationConfig extends GPT2Config {
  num_labels: number;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  problem_type: ProblemType | null;
}

/** num_labels from config.json as transformers reads it (id2label's size wins, default 2). */
export function parseClassificationFields(raw: RawConfig, what: string): { num_labels: number; id2label: Record<string, string>; label2id: Record<string, number>; problem_type: ProblemType | null } {
  let id2label = raw.id2label as Record<string, string> | undefined;
  let n = raw.num_labels as number | undefined;
  if (id2label !== undefined && (typeof id2label !== "object" || id2label === null || Array.isArray(id2label))) throw new Error(`${what} config: "id2label" must be an object {"0": "name", ...}`);
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new Error(`${what} config: "num_labels" must be a positive integer, got ${JSON.stringify(n)}`);
  if (id2label && n !== undefined && Object.keys(id2label).length !== n) throw new Error(`${what} config: num_labels ${n} but id2label has ${Object.keys(id2label).length} entries`);
  n = n ?? (id2label ? Object.keys(id2label).length : 2);
  id2label = id2label ?? Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`]));
  const label2id = (raw.label2id as Record<string, number> | undefined) ?? Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
  const pt = (raw.problem_type ?? null) as ProblemType | null;
  if (pt !== null && !["regression", "single_label_classification", "multi_label_classification"].includes(pt)) throw new Error(`${what} config: unknown problem_type ${JSON.stringify(pt)}`);
  return { num_labels: n, id2label, label2id, problem_type: pt };
}

/** The score head: a bias-free projection [K, C]. */
class ScoreHead extends Module {
  readonly weight: Parameter;
  constructor(src: ParamSource, K: number, C: number, std: number) {
    super();
    this.weight = src.param("weight", [K, C], initNormal(std));
  }
}

export interface SequenceClassifierInput {
  inputIds: Tensor; // (B, T) int32
  attentionMask?: Tensor; // (B, T)
  /** (B) int32 class ids, or float32 (B) / (B, K) for regression / multi-label. */
  labels?: Tensor;
  positionIds?: Tensor;
}

export interface SequenceClassifierOutput {
  logits: Tensor; // (B, K)
  loss?: Tensor;
}

/**
 * The classification loss transformers uses for `kind` (shared by the GPT-2 head here; BERT's
 * class has the same rules). logits (B, K).
 */
export function sequenceClassificationLoss(logits: Tensor, labels: Tensor, kind: ProblemType, what: string): Tensor {
  const [B, K] = logits.shape;
  const bad = (want: string) => new Error(`${what}: ${kind} labels must be ${want}, got ${labels.dtype} ${formatShape(labels.shape)}`);
  if (kind === "single_label_classification") {
    if (labels.dtype !== "int32" || labels.size !== B) throw bad(`int32 [${B}]`);
    return crossEntropy(logits, reshape(labels, [B]), { ignoreIndex: -100 });
  }
  if (labels.dtype !== "float32") throw bad("float32");
  if (kind === "regression") {
    if (labels.size !== B * K) throw bad(`[${B}${K === 1 ? "" : `, ${K}`}]`);
    const d = sub(reshape(logits, [B * K]), reshape(labels, [B * K]));
    return mean(mul(d, d));
  }
  // BCEWithLogitsLoss in its stable form: max(x, 0) - x y + log(1 + exp(-|x|)).
  if (labels.ndim !== 2 || labels.shape[0] !== B || labels.shape[1] !== K) throw bad(`[${B}, ${K}]`);
  return mean(add(sub(relu(logits), mul(logits, labels)), log(add(exp(mul(abs(logits), -1)), 1))));
}

export class GPT2ForSequenceClassification extends Module {
  static readonly modelType = "gpt2";
  static readonly architecture = "GPT2ForSequenceClassification";
  readonly transformer: GPT2Model;
  readonly score: ScoreHead;
  readonly config: GPT2ClassificationConfig;

  constructor(config: RawConfig, src: ParamSource) {
    super();
    const base = parseGPT2Config(config);
    const cfg = (this.config = { ...base, architectures: ["GPT2ForSequenceClassification"], ...parseClassificationFields(config, "gpt2") });
    src = src.withStd(cfg.initializer_range);
    this.transformer = new GPT2Model(src.at("transformer"), cfg);
    this.score = new ScoreHead(src.at("score"), cfg.num_labels, cfg.n_embd, cfg.initializer_range);
  }

  protected override ignoredKeys(): RegExp[] {
    return checkpointKeyTable.ignored;
  }

  /** The pooled position of each row: the rightmost token that is not pad_token_id (see header). */
  poolPositions(inputIds: Tensor): number[] {
    const [B, T] = inputIds.shape;
    const pad = this.config.pad_token_id;
    const padId = Array.isArray(pad) ? pad[0]! : pad;
    if (padId === null || padId === undefined) {
      if (B !== 1) throw new Error("GPT2ForSequenceClassification.forward: batch size > 1 needs config.pad_token_id (the pooled token is the last non-padding one)");
      return [T - 1];
    }
    const ids = inputIds.toTypedArray() as Int32Array;
    const out: number[] = [];
    for (let b = 0; b < B; b++) {
      let last = 0;
      for (let t = T - 1; t >= 0; t--) {
        if (ids[b * T + t] !== padId) {
          last = t;
          break;
        }
      }
      out.push(last);
    }
    return out;
  }

  forward(input: SequenceClassifierInput): SequenceClassifierOutput {
    const [B, T] = checkCausalInput("GPT2ForSequenceClassification", { ...input, labels: null }, 0);
    if (T > this.config.n_positions) throw new Error(`GPT2ForSequenceClassification.forward: ${T} positions exceed n_positions ${this.config.n_positions}`);
    const positions = input.positionIds ?? defaultPositions(0, T); // (1 or B, T)
    const mask = input.attentionMask ? paddingMask(input.attentionMask) : null; // (B, 1, 1, T)
    const h = this.transformer.forward(input.inputIds, positions, mask); // (B, T, C)
    const C = h.shape[2]!;
    const rows = this.poolPositions(input.inputIds).map((t, b) => b * T + t);
    const pooled = indexSelect(reshape(h, [B * T, C]), 0, new Tensor(Int32Array.from(rows), [B])); // (B, C)
    const logits = linear(pooled, this.score.weight); // (B, K)
    const out: SequenceClassifierOutput = { logits };
    if (input.labels) out.loss = sequenceClassificationLoss(logits, input.labels, this.problemType(input.labels), "GPT2ForSequenceClassification.forward");
    return out;
  }

  /** The problem type transformers would use for these labels (config.problem_type when set). */
  problemType(labels: Tensor): ProblemType {
    if (this.config.problem_type) return this.config.problem_type;
    if (this.config.num_labels === 1) return "regression";
    return labels.dtype === "int32" ? "single_label_classification" : "multi_label_classification";
  }
}
