// Collators for fine-tuning tasks.
//
//   SequenceClassificationCollator  (Hugging Face DataCollatorWithPadding + a "labels" column):
//     input_ids (B, T), attention_mask (B, T), labels (B) — a class index per example (or, for
//     regression / multi-label heads, labelDType "float32" and any number).
//     token_type_ids (B, T) are padded with 0 when the examples carry them (BERT pairs).
//   Seq2SeqCollator  (HF DataCollatorForSeq2Seq with a model that prepares decoder inputs):
//     input_ids / attention_mask (B, Tin) padded with padId; labels (B, Tout) padded with -100;
//     decoder_input_ids = labels shifted right with decoderStartTokenId first and -100 -> padId
//     (HF shift_tokens_right). Labels are padded on the right whatever paddingSide says for inputs.
//   InstructionCollator  (decoder-only fine-tuning on prompt -> response pairs, like TRL's
//     completion-only collator): input_ids = prompt + response (+ EOS), labels = input_ids with -100
//     on the prompt and on padding, so the loss covers only the response; the model shifts, as for
//     causal LM. Too-long examples are cut from the prompt's start (keeping the response) up to
//     maxLength, and an example whose response alone is longer is an error.
import { tensor } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";
import { IGNORE_INDEX } from "./causal.js";
import { PADDING_OPTION_KEYS, checkId, checkKeys, int2d, padSequences, type PaddingOptions } from "./pad.js";
import { shiftTokensRight } from "./spans.js";

export interface ClassificationExample {
  input_ids: ArrayLike<number>;
  label: number;
  token_type_ids?: ArrayLike<number>;
}

export interface SequenceClassificationCollatorOptions extends PaddingOptions {
  padId: number;
  /** "int32" class indices (default) or "float32" values (regression). */
  labelDType?: "int32" | "float32";
  /** Number of classes, to reject out-of-range labels early. */
  numLabels?: number;
}

export interface SequenceClassificationBatch {
  input_ids: Tensor; // (B, T)
  attention_mask: Tensor; // (B, T)
  labels: Tensor; // (B)
  token_type_ids?: Tensor; // (B, T)
}

export class SequenceClassificationCollator {
  readonly padId: number;
  constructor(readonly opts: SequenceClassificationCollatorOptions) {
    checkKeys(opts, ["padId", "labelDType", "numLabels", ...PADDING_OPTION_KEYS], "SequenceClassificationCollator");
    this.padId = checkId(opts.padId, "padId", "SequenceClassificationCollator");
  }

  collate(examples: ReadonlyArray<ClassificationExample>): SequenceClassificationBatch {
    const what = "SequenceClassificationCollator";
    const p = padSequences(examples.map((e) => e.input_ids), this.padId, this.opts, what);
    const dtype = this.opts.labelDType ?? "int32";
    const labels = examples.map((e, i) => {
      const y = e.label;
      if (dtype === "int32") {
        if (!Number.isInteger(y) || y < 0 || (this.opts.numLabels !== undefined && y >= this.opts.numLabels)) {
          throw new Error(`${what}: example ${i} has label ${y}, expected an integer in [0, ${this.opts.numLabels ?? "numLabels"})`);
        }
      } else if (!Number.isFinite(y)) throw new Error(`${what}: example ${i} has label ${y}, expected a finite number`);
      return y;
    });
    const out: SequenceClassificationBatch = {
      input_ids: int2d(p.data, p.B, p.T),
      attention_mask: int2d(p.mask, p.B, p.T),
      labels: tensor(dtype === "int32" ? Int32Array.from(labels) : Float32Array.from(labels), [p.B], { dtype }),
    };
    const withTypes = examples.filter((e) => e.token_type_ids !== undefined).length;
    if (withTypes > 0) {
      if (withTypes !== examples.length) throw new Error(`${what}: token_type_ids are given for some examples but not all`);
      const tt = padSequences(examples.map((e) => e.token_type_ids!), 0, this.opts, what);
      if (tt.T !== p.T || examples.some((e) => e.token_type_ids!.length !== e.input_ids.length)) throw new Error(`${what}: token_type_ids must have the length of input_ids`);
      out.token_type_ids = int2d(tt.data, tt.B, tt.T);
    }
    return out;
  }
}

export interface Seq2SeqExample {
  input_ids: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface Seq2SeqCollatorOptions extends PaddingOptions {
  padId: number;
  decoderStartTokenId: number;
  /** Padding options for labels (default: "longest", right, no multiple). */
  labelPadToMultipleOf?: number;
}

export interface Seq2SeqBatch {
  input_ids: Tensor; // (B, Tin)
  attention_mask: Tensor; // (B, Tin)
  labels: Tensor; // (B, Tout), -100 on padding
  decoder_input_ids: Tensor; // (B, Tout)
}

export class Seq2SeqCollator {
  readonly padId: number;
  readonly decoderStartTokenId: number;
  constructor(readonly opts: Seq2SeqCollatorOptions) {
    checkKeys(opts, ["padId", "decoderStartTokenId", "labelPadToMultipleOf", ...PADDING_OPTION_KEYS], "Seq2SeqCollator");
    this.padId = checkId(opts.padId, "padId", "Seq2SeqCollator");
    this.decoderStartTokenId = checkId(opts.decoderStartTokenId, "decoderStartTokenId", "Seq2SeqCollator");
  }

  collate(examples: ReadonlyArray<Seq2SeqExample>): Seq2SeqBatch {
    const what = "Seq2SeqCollator";
    const { labelPadToMultipleOf, ...inputPad } = this.opts;
    const pi = padSequences(examples.map((e) => e.input_ids), this.padId, inputPad, what);
    // Labels are always padded on the right: decoder positions are generated left to right.
    const pl = padSequences(examples.map((e) => e.labels), IGNORE_INDEX, { padToMultipleOf: labelPadToMultipleOf }, what);
    const dec = shiftTokensRight(pl.data, pl.B, pl.T, this.padId, this.decoderStartTokenId);
    return {
      input_ids: int2d(pi.data, pi.B, pi.T),
      attention_mask: int2d(pi.mask, pi.B, pi.T),
      labels: int2d(pl.data, pl.B, pl.T),
      decoder_input_ids: int2d(dec, pl.B, pl.T),
    };
  }
}

export interface InstructionExample {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
}

export interface InstructionCollatorOptions extends PaddingOptions {
  padId: number;
  /** Appended after every response (null: nothing). */
  eosId: number | null;
  /** Longest example (tokens); longer prompts lose their first tokens. */
  maxLength?: number;
}

export interface InstructionBatch {
  input_ids: Tensor; // (B, T)
  attention_mask: Tensor; // (B, T)
  labels: Tensor; // (B, T), -100 on prompt and padding
}

export class InstructionCollator {
  readonly padId: number;
  readonly eosId: number | null;
  constructor(readonly opts: InstructionCollatorOptions) {
    const what = "InstructionCollator";
    checkKeys(opts, ["padId", "eosId", ...PADDING_OPTION_KEYS], what);
    this.padId = checkId(opts.padId, "padId", what);
    this.eosId = opts.eosId === null ? null : checkId(opts.eosId, "eosId", what);
  }

  collate(examples: ReadonlyArray<InstructionExample>): InstructionBatch {
    const what = "InstructionCollator";
    const max = this.opts.maxLength;
    const seqs: number[][] = [];
    const promptLens: number[] = [];
    examples.forEach((e, i) => {
      const response = Array.from(e.response);
      if (this.eosId !== null) response.push(this.eosId);
      let prompt = Array.from(e.prompt);
      if (max !== undefined && prompt.length + response.length > max) {
        if (response.length > max) throw new Error(`${what}: example ${i} has a response of ${response.length} tokens, more than maxLength ${max}`);
        prompt = prompt.slice(prompt.length + response.length - max);
      }
      seqs.push([...prompt, ...response]);
      promptLens.push(prompt.length);
    });
    const p = padSequences(seqs, this.padId, this.opts, what);
    const labels = new Int32Array(p.B * p.T).fill(IGNORE_INDEX);
    seqs.forEach((s, b) => {
      const base = b * p.T + p.starts[b]!;
      for (let i = promptLens[b]!; i < s.length; i++) labels[base + i] = s[i]!;
    });
    return { input_ids: int2d(p.data, p.B, p.T), attention_mask: int2d(p.mask, p.B, p.T), labels: int2d(labels, p.B, p.T) };
  }
}
