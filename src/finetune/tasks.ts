// Fine-tuning tasks: the model each task trains, records -> token examples -> batches, and the
// evaluation of a trained model on labeled records.
//
//   classify  BertForSequenceClassification (pooled [CLS] -> dropout -> classifier) or
//             GPT2ForSequenceClassification (score at the last non-pad token), built from a
//             pretrained directory: every parameter whose name and shape the checkpoint has is
//             copied, the head (and BERT's pooler when the checkpoint is a masked LM) starts from
//             the seeded init, as transformers' from_pretrained does ("newly initialized" weights).
//             --from-scratch builds the same architecture with every weight freshly initialised
//             (the baseline of the pretraining comparison).
//   seq2seq   t5 / transformer checkpoints as they are: encoder input = source + EOS, labels =
//             target + EOS, decoder input = labels shifted right (Seq2SeqCollator).
//   sft       gpt2 / llama: each example rendered with the tokenizer's chat template (or the
//             documented default below), prompt = everything before the assistant's final reply,
//             labels -100 on the prompt and padding (InstructionCollator), so the loss is on the reply.
//
// Batches are drawn by a seeded per-epoch permutation whose position is part of the run's state,
// so --resume replays exactly the batches an uninterrupted run would see.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { noGrad } from "../autograd/index.js";
import { IGNORE_INDEX, InstructionCollator, Seq2SeqCollator, SequenceClassificationCollator, type ClassificationExample, type InstructionExample, type Seq2SeqExample } from "../data/index.js";
import { generate } from "../generate/index.js";
import { fromPretrained } from "../io/pretrained.js";
import { ParamSource, type Module } from "../nn/module.js";
import { createModel, type PretrainedModel } from "../models/registry.js";
import { softmax } from "../ops/index.js";
import { ChatTemplate } from "../prompting/chat_template.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { Batch, BatchSource } from "../train/trainer.js";
import { LabelSet, permutation, type ClassifyRecord, type SFTRecord, type Seq2SeqRecord, type Task } from "./data.js";
import { classificationReport, corpusBleu, corpusChrf, type BleuTokenizer, type ClassificationReport } from "./metrics.js";

export const TASK_MODEL_TYPES: Record<Task, readonly string[]> = { classify: ["gpt2", "bert"], seq2seq: ["t5", "transformer"], sft: ["gpt2", "llama"] };
const CLASSIFIER_ARCH: Record<string, string> = { gpt2: "GPT2ForSequenceClassification", bert: "BertForSequenceClassification" };
/** The classification head's module name, per family (trainable under PEFT as peft's modules_to_save). */
export const CLASSIFIER_HEAD: Record<string, string> = { gpt2: "score", bert: "classifier" };

export function readConfigJSON(dir: string): Record<string, unknown> {
  const p = join(dir, "config.json");
  if (!existsSync(p)) throw new Error(`${dir}: no config.json (expected a Hugging Face / tslm model directory)`);
  return JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
}

/** Dropout override: every dropout field of the family's config. */
function withDropout(cfg: Record<string, unknown>, p: number | undefined): Record<string, unknown> {
  if (p === undefined) return cfg;
  const keys = ["resid_pdrop", "embd_pdrop", "attn_pdrop", "hidden_dropout_prob", "attention_probs_dropout_prob", "dropout_rate", "dropout", "attention_dropout", "activation_dropout"];
  const out = { ...cfg };
  for (const k of keys) if (k in out || (k.endsWith("pdrop") && cfg.model_type === "gpt2") || (k.includes("dropout_prob") && cfg.model_type === "bert")) out[k] = p;
  return out;
}

export interface BuiltModel {
  model: PretrainedModel;
  /** Parameters not taken from the checkpoint (fresh init). */
  newlyInitialized: string[];
  config: Record<string, unknown>;
}

/**
 * The model a task trains, from a pretrained directory (see the file header). `labels` is the
 * classification label set; `padId` fills GPT-2's pad_token_id when its config has none.
 */
export function buildTaskModel(task: Task, dir: string, opts: { labels?: LabelSet; padId?: number | null; fromScratch?: boolean; seed: number; dropout?: number }): BuiltModel {
  const base = readConfigJSON(dir);
  const mt = String(base.model_type);
  if (!TASK_MODEL_TYPES[task].includes(mt)) throw new Error(`--task ${task} needs a ${TASK_MODEL_TYPES[task].join(" or ")} model; ${dir} is model_type "${mt}"`);
  if (task !== "classify") {
    const cfg = withDropout(base, opts.dropout);
    if (opts.fromScratch) return { model: createModel(cfg, ParamSource.init({ seed: opts.seed })), newlyInitialized: ["(all: --from-scratch)"], config: cfg };
    const model = fromPretrained(dir);
    if (opts.dropout !== undefined) applyDropout(model, opts.dropout);
    return { model, newlyInitialized: [], config: model.config as Record<string, unknown> };
  }
  const labels = opts.labels!;
  const arch = CLASSIFIER_ARCH[mt]!;
  const archs = Array.isArray(base.architectures) ? base.architectures : [];
  if (archs[0] === arch) {
    // Continuing a classifier: its label set must be the data's.
    const have = LabelSet.fromConfig((base.id2label ?? {}) as Record<string, string>).names;
    if (have.length !== labels.size || have.some((n, i) => n !== labels.names[i])) {
      throw new Error(`${dir} is a classifier for labels [${have.join(", ")}] but the data's label set is [${labels.names.join(", ")}]`);
    }
  }
  const cfg = withDropout(
    {
      ...base,
      architectures: [arch],
      num_labels: labels.size,
      id2label: labels.id2label,
      label2id: labels.label2id,
      ...(mt === "gpt2" && base.pad_token_id == null && opts.padId != null ? { pad_token_id: opts.padId } : {}),
    },
    opts.dropout,
  );
  const model = createModel(cfg, ParamSource.init({ seed: opts.seed }));
  if (opts.fromScratch) return { model, newlyInitialized: ["(all: --from-scratch)"], config: cfg };
  const pre = fromPretrained(dir);
  const src = new Map(pre.namedParameters());
  const fresh: string[] = [];
  let copied = 0;
  for (const [k, p] of model.namedParameters()) {
    const t = src.get(k);
    if (t && t.shape.length === p.shape.length && t.shape.every((d, i) => d === p.shape[i])) {
      (p.data as Float32Array).set(t.toTypedArray() as Float32Array, p.offset);
      copied++;
    } else fresh.push(k);
  }
  if (copied === 0) throw new Error(`${dir}: no parameter of the checkpoint matches a ${arch} parameter (different family?)`);
  return { model, newlyInitialized: fresh, config: cfg };
}

/** Sets the dropout probability of every Dropout module (a loaded model keeps its config's otherwise). */
function applyDropout(model: Module, p: number): void {
  for (const [, m] of model.namedModules()) {
    const r = m as unknown as Record<string, unknown>;
    if (m.constructor.name === "Dropout" && typeof r.p === "number") r.p = p;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function tokenizerIds(tok: Tokenizer): { pad: number | null; eos: number | null } {
  const c = tok.config ?? {};
  const id = (names: (string | null | undefined)[]) => {
    for (const n of names) if (typeof n === "string") {
      const v = tok.tokenToId(n);
      if (v !== undefined) return v;
    }
    return null;
  };
  return { pad: id([c.padToken, "[PAD]", "<pad>"]), eos: id([c.eosToken, "<|endoftext|>", "</s>", "<eos>", "[SEP]"]) };
}

/**
 * Classification examples: text -> ids (with the tokenizer's special tokens), truncated to maxLength.
 * `truncationSide` is HF's tokenizer `truncation_side`: "right" keeps the start of a long text,
 * "left" its end (special tokens such as BERT's [CLS] ... [SEP] are kept either way).
 */
export function encodeClassify(tok: Tokenizer, records: readonly ClassifyRecord[], labels: LabelSet, maxLength: number, truncationSide: "left" | "right" = "right"): ClassificationExample[] {
  const ys = records.map((r) => labels.idOf(r)); // label errors first, before any tokenizing
  const enc = tok.encodeBatch(records.map((r) => r.text), { truncation: true, maxLength, truncationSide, padding: false });
  return enc.map((e, i) => {
    if (e.ids.length === 0) throw new Error(`${records[i]!.origin.file}:${records[i]!.origin.line}: the text gives no tokens`);
    return { input_ids: e.ids, label: ys[i]! };
  });
}

/** Seq2seq examples: source / target ids, each ending in EOS and cut to its maximum length. */
export function encodeSeq2Seq(tok: Tokenizer, records: readonly Seq2SeqRecord[], maxSource: number, maxTarget: number, eos: number): Seq2SeqExample[] {
  const withEos = (ids: number[], max: number) => {
    const body = ids.at(-1) === eos ? ids.slice(0, -1) : ids;
    return [...body.slice(0, max - 1), eos];
  };
  const src = tok.encodeBatch(records.map((r) => r.source), { padding: false, truncation: false });
  const tgt = tok.encodeBatch(records.map((r) => r.target), { padding: false, truncation: false });
  return records.map((_, i) => ({ input_ids: withEos(src[i]!.ids, maxSource), labels: withEos(tgt[i]!.ids, maxTarget) }));
}

/**
 * The default chat template for tokenizers without one (documented in docs/finetuning.md): an
 * Alpaca-style layout; the collator appends EOS after the reply.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n{% elif m.role == 'user' %}### Instruction:\n{{ m.content }}\n\n{% else %}### Response:\n{{ m.content }}{% if not loop.last %}\n\n{% endif %}{% endif %}{% endfor %}{% if add_generation_prompt %}### Response:\n{% endif %}";

/** The model directory's chat template, or the default; `appendEos` says whether the collator ends replies with EOS. */
export function chatTemplateFor(dir: string): { template: ChatTemplate; isDefault: boolean } {
  try {
    return { template: ChatTemplate.fromDirectory(dir), isDefault: false };
  } catch {
    return { template: new ChatTemplate(DEFAULT_CHAT_TEMPLATE), isDefault: true };
  }
}

/** SFT examples: prompt = the conversation up to the assistant's final reply (with the generation header), response = the rest. */
export function encodeSFT(tok: Tokenizer, records: readonly SFTRecord[], template: ChatTemplate): InstructionExample[] {
  return records.map((r) => {
    const where = `${r.origin.file}:${r.origin.line}`;
    const msgs: { role: string; content: string; [k: string]: unknown }[] = (r.messages as { role: string; content: string }[] | undefined)?.map((m) => ({ ...m })) ?? [
      { role: "user", content: r.prompt! },
      { role: "assistant", content: r.response! },
    ];
    const promptText = template.render(msgs.slice(0, -1), { addGenerationPrompt: true });
    const full = template.render(msgs, {});
    if (!full.startsWith(promptText)) throw new Error(`${where}: the chat template renders the conversation so that the prompt is not a prefix of it; cannot separate the reply`);
    // Prompt and reply are tokenized separately (no token straddles the boundary), so the mask is exact.
    const prompt = tok.encode(promptText, { addSpecialTokens: false }).ids;
    const response = tok.encode(full.slice(promptText.length), { addSpecialTokens: false }).ids;
    if (response.length === 0) throw new Error(`${where}: the reply gives no tokens`);
    return { prompt, response };
  });
}

// ---------------------------------------------------------------------------------------------
// Batches

/** Seeded epoch permutations over examples, resumable (state: epoch and position). */
export class ExampleBatches<E> implements BatchSource {
  private epoch = 0;
  private pos = 0;
  private order: number[];
  constructor(
    private readonly examples: readonly E[],
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly collate: (es: E[]) => Batch,
    private readonly shuffle = true,
  ) {
    if (examples.length === 0) throw new Error("no examples to batch");
    this.order = this.orderFor(0);
  }
  private orderFor(epoch: number): number[] {
    return this.shuffle ? permutation(this.examples.length, this.seed + epoch * 1000003) : this.examples.map((_, i) => i);
  }
  next(): Batch {
    if (this.pos >= this.order.length) {
      this.epoch++;
      this.pos = 0;
      this.order = this.orderFor(this.epoch);
    }
    const idx = this.order.slice(this.pos, this.pos + this.batchSize);
    this.pos += idx.length;
    return this.collate(idx.map((i) => this.examples[i]!));
  }
  getState(): unknown {
    return { epoch: this.epoch, pos: this.pos };
  }
  setState(s: unknown): void {
    const st = s as { epoch: number; pos: number };
    this.epoch = st.epoch;
    this.pos = st.pos;
    this.order = this.orderFor(this.epoch);
  }
}

export function classifyCollate(padId: number): (es: ClassificationExample[]) => Batch {
  const c = new SequenceClassificationCollator({ padId });
  return (es) => {
    const b = c.collate(es);
    return { input: { inputIds: b.input_ids, attentionMask: b.attention_mask, labels: b.labels }, tokens: b.input_ids.size };
  };
}

export function seq2seqCollate(padId: number, decoderStart: number): (es: Seq2SeqExample[]) => Batch {
  const c = new Seq2SeqCollator({ padId, decoderStartTokenId: decoderStart });
  return (es) => {
    const b = c.collate(es);
    return { input: { inputIds: b.input_ids, attentionMask: b.attention_mask, labels: b.labels, decoderInputIds: b.decoder_input_ids }, tokens: b.input_ids.size + b.labels.size };
  };
}

export function sftCollate(padId: number, eos: number | null, maxLength: number): (es: InstructionExample[]) => Batch {
  const c = new InstructionCollator({ padId, eosId: eos, maxLength });
  return (es) => {
    const b = c.collate(es);
    return { input: { inputIds: b.input_ids, attentionMask: b.attention_mask, labels: b.labels }, tokens: b.input_ids.size };
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

type Forward = { forward(input: unknown): { logits: Tensor; loss?: Tensor } };

/** Class probabilities (B rows of K) for encoded examples, in batches, without gradients. */
export function predictProbs(model: Forward, examples: readonly ClassificationExample[], padId: number, batchSize = 32): number[][] {
  const collate = classifyCollate(padId);
  const out: number[][] = [];
  noGrad(() => {
    for (let i = 0; i < examples.length; i += batchSize) {
      const b = collate(examples.slice(i, i + batchSize) as ClassificationExample[]).input as Record<string, unknown>;
      const logits = model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask }).logits; // (B, K)
      const p = softmax(logits, -1).toTypedArray() as Float32Array;
      const [B, K] = logits.shape as [number, number];
      for (let r = 0; r < B; r++) out.push(Array.from(p.subarray(r * K, (r + 1) * K)));
    }
  });
  return out;
}

export function evaluateClassify(model: Forward, examples: readonly ClassificationExample[], labels: LabelSet, padId: number): ClassificationReport {
  const probs = predictProbs(model, examples, padId);
  const pred = probs.map((p) => p.indexOf(Math.max(...p)));
  return classificationReport(examples.map((e) => e.label), pred, labels.names);
}

export interface Seq2SeqEval {
  n: number;
  bleu: number;
  chrf: number;
  tokenizer: BleuTokenizer;
  loss: number;
  samples: { source: string; reference: string; hypothesis: string }[];
}

/** Greedy translations of the records' sources, scored with corpus BLEU / chrF against their targets; plus the mean token loss. */
export function evaluateSeq2Seq(model: PretrainedModel, tok: Tokenizer, records: readonly Seq2SeqRecord[], examples: readonly Seq2SeqExample[], opts: { padId: number; decoderStart: number; eos: number; maxNewTokens: number; bleuTokenizer: BleuTokenizer; batchSize?: number }): Seq2SeqEval {
  const bs = opts.batchSize ?? 16;
  const hyps: string[] = [];
  let lossSum = 0;
  let lossN = 0;
  const collate = seq2seqCollate(opts.padId, opts.decoderStart);
  noGrad(() => {
    for (let i = 0; i < examples.length; i += bs) {
      const chunk = examples.slice(i, i + bs) as Seq2SeqExample[];
      const b = collate(chunk).input as Record<string, Tensor>;
      const n = (b.labels!.toTypedArray() as Int32Array).filter((x) => x !== IGNORE_INDEX).length;
      lossSum += (model.forward(b as never).loss as Tensor).item() * n;
      lossN += n;
      const g = generate(model as never, chunk.map((e) => Array.from(e.input_ids)), { maxNewTokens: opts.maxNewTokens, eosTokenId: opts.eos, padTokenId: opts.padId });
      for (const ids of g.newTokens) hyps.push(tok.decode(ids, { skipSpecialTokens: true }).trim());
    }
  });
  const refs = records.map((r) => r.target);
  return {
    n: records.length,
    bleu: corpusBleu(hyps, [refs], { tokenize: opts.bleuTokenizer }).score,
    chrf: corpusChrf(hyps, [refs]).score,
    tokenizer: opts.bleuTokenizer,
    loss: lossSum / Math.max(lossN, 1),
    samples: records.slice(0, 5).map((r, i) => ({ source: r.source, reference: r.target, hypothesis: hyps[i]! })),
  };
}

/** Mean loss and perplexity over the response tokens (labels != -100 after the causal shift). */
export function evaluateSFT(model: Forward, examples: readonly InstructionExample[], opts: { padId: number; eos: number | null; maxLength: number; batchSize?: number }): { n: number; tokens: number; loss: number; perplexity: number } {
  const bs = opts.batchSize ?? 16;
  const collate = sftCollate(opts.padId, opts.eos, opts.maxLength);
  let sum = 0;
  let count = 0;
  noGrad(() => {
    for (let i = 0; i < examples.length; i += bs) {
      const b = collate(examples.slice(i, i + bs) as InstructionExample[]).input as Record<string, Tensor>;
      const labels = b.labels!.toTypedArray() as Int32Array;
      const [B, T] = b.labels!.shape as [number, number];
      let n = 0;
      for (let r = 0; r < B; r++) for (let t = 1; t < T; t++) if (labels[r * T + t] !== IGNORE_INDEX) n++;
      if (n === 0) continue;
      sum += (model.forward(b).loss as Tensor).item() * n;
      count += n;
    }
  });
  const loss = sum / Math.max(count, 1);
  return { n: examples.length, tokens: count, loss, perplexity: Math.exp(loss) };
}
