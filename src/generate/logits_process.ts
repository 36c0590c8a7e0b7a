// Logits processors: each one rewrites a batch of next-token scores in place, equal to its Hugging
// Face counterpart in transformers.generation.logits_process (transformers 5.x). The sampling-only
// warpers (temperature, top-k, top-p, ...) are in warpers.ts, the row math in rowops.ts.
// https://github.com/huggingface/transformers/blob/main/src/transformers/generation/logits_process.py
//
// Glossary: B batch rows (batch * beams during beam search), T tokens so far in each row (prompt
// included, left padding included: HF's input_ids is rectangular), V vocabulary size.
//
// Contract: `apply(inputIds, scores)` gets inputIds as B rows of T ids and scores as one flat
// Float32Array of B * V values (row-major [B, V]); it modifies `scores` in place and returns it.
//
// Float32 arithmetic mirrors torch: a Python-float parameter meets a float32 tensor as a float32
// scalar, so parameters are rounded to float32 once (`Math.fround`) and every product or quotient is
// rounded back to float32; with both operands float32, one double operation then `fround` gives
// the correctly rounded float32 result, which is what torch computes.
import { Tensor } from "../tensor/tensor.js";
import { logSoftmaxRows } from "./rowops.js";

/** B rows of token ids, each of the same length T (the sequences generated so far, prompt included). */
export type InputIds = ReadonlyArray<ArrayLike<number>>;

export interface LogitsProcessor {
  /** Rewrites scores ([B, V] row-major) in place and returns them. */
  apply(inputIds: InputIds, scores: Float32Array): Float32Array;
}

const NEG_INF = -Infinity;

/** V from the flat scores and the number of rows; errors name both sizes. */
export function vocabSize(inputIds: InputIds, scores: Float32Array, who: string): number {
  const B = inputIds.length;
  if (B === 0) {
    if (scores.length !== 0) throw new Error(`${who}: no input rows but ${scores.length} scores`);
    return 0;
  }
  if (scores.length % B !== 0) throw new Error(`${who}: ${scores.length} scores do not split into ${B} rows`);
  return scores.length / B;
}

/** Scores of a Tensor [B, V] as a fresh flat Float32Array (processors work on flat rows). */
export function scoresFromTensor(t: Tensor): Float32Array {
  if (t.ndim !== 2) throw new Error(`logits must be [B, V], got shape [${t.shape.join(", ")}]`);
  const [B, V] = t.shape;
  const out = new Float32Array(B * V);
  const s0 = t.strides[0];
  const s1 = t.strides[1];
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) out[b * V + v] = t.data[t.offset + b * s0 + v * s1];
  return out;
}

export function eosList(eos: number | readonly number[], who: string): number[] {
  const list = typeof eos === "number" ? [eos] : [...eos];
  for (const e of list) {
    if (!Number.isInteger(e) || e < 0) throw new Error(`${who}: eos_token_id must be non-negative integers, got ${JSON.stringify(eos)}`);
  }
  return list;
}

export function checkPositiveInt(v: number, name: string, who: string, allowZero = false): void {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new Error(`${who}: ${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${v}`);
  }
}

// ------------------------------------------------------------------ processors (every decoding mode)

/**
 * HF RepetitionPenaltyLogitsProcessor: for every token present in the row (prompt included, unless
 * promptIgnoreLength skips a prefix), a negative score is multiplied by the penalty and a
 * non-negative one divided by it. Ids >= V are ignored (they cannot be generated).
 */
export class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
  private readonly p: number;
  constructor(readonly penalty: number, readonly promptIgnoreLength = 0) {
    if (!(typeof penalty === "number" && penalty > 0 && Number.isFinite(penalty))) {
      throw new Error(`repetition_penalty must be a strictly positive number, got ${penalty}`);
    }
    checkPositiveInt(promptIgnoreLength, "prompt_ignore_length", "RepetitionPenaltyLogitsProcessor", true);
    this.p = Math.fround(penalty);
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "RepetitionPenaltyLogitsProcessor");
    const seen = new Uint8Array(V);
    for (let b = 0; b < inputIds.length; b++) {
      const ids = inputIds[b];
      const off = b * V;
      seen.fill(0);
      for (let t = this.promptIgnoreLength; t < ids.length; t++) {
        const id = ids[t];
        if (id < 0 || id >= V || seen[id]) continue;
        seen[id] = 1;
        const s = scores[off + id];
        scores[off + id] = s < 0 ? Math.fround(s * this.p) : Math.fround(s / this.p);
      }
    }
    return scores;
  }
}

/**
 * OpenAI's frequency and presence penalties (not in HF; vLLM and llama.cpp implement the same):
 * logit[j] -= frequency_penalty * c[j] + presence_penalty * (c[j] > 0), where c[j] counts token j
 * among the generated tokens, i.e. positions >= promptLength of each row (OpenAI counts the
 * completion so far, not the prompt). Both penalties lie in [-2, 2] in OpenAI's API.
 */
export class FrequencyPresencePenaltyLogitsProcessor implements LogitsProcessor {
  constructor(
    readonly frequencyPenalty: number,
    readonly presencePenalty: number,
    readonly promptLength: number,
  ) {
    for (const [n, v] of [["frequency_penalty", frequencyPenalty], ["presence_penalty", presencePenalty]] as const) {
      if (!(typeof v === "number" && v >= -2 && v <= 2)) throw new Error(`${n} must be a number in [-2, 2], got ${v}`);
    }
    checkPositiveInt(promptLength, "promptLength", "FrequencyPresencePenaltyLogitsProcessor", true);
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "FrequencyPresencePenaltyLogitsProcessor");
    const counts = new Map<number, number>();
    for (let b = 0; b < inputIds.length; b++) {
      const ids = inputIds[b];
      counts.clear();
      for (let t = this.promptLength; t < ids.length; t++) {
        const id = ids[t];
        if (id >= 0 && id < V) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const [id, c] of counts) {
        const i = b * V + id;
        scores[i] = Math.fround(scores[i] - (this.frequencyPenalty * c + this.presencePenalty));
      }
    }
    return scores;
  }
}

/**
 * HF NoRepeatNGramLogitsProcessor: with n = ngram_size, every earlier n-gram of the row whose first
 * n - 1 tokens equal the row's last n - 1 tokens bans its last token (score -inf).
 */
export class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
  constructor(readonly ngramSize: number) {
    checkPositiveInt(ngramSize, "no_repeat_ngram_size", "NoRepeatNGramLogitsProcessor");
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "NoRepeatNGramLogitsProcessor");
    const n = this.ngramSize;
    for (let b = 0; b < inputIds.length; b++) {
      const ids = inputIds[b];
      const T = ids.length;
      if (T < n) continue; // no complete n-gram yet
      const p0 = T - (n - 1); // the current prefix is ids[p0 .. T)
      for (let s = 0; s + n <= T; s++) {
        let match = true;
        for (let j = 0; j < n - 1; j++) {
          if (ids[s + j] !== ids[p0 + j]) {
            match = false;
            break;
          }
        }
        const banned = ids[s + n - 1];
        if (match && banned >= 0 && banned < V) scores[b * V + banned] = NEG_INF;
      }
    }
    return scores;
  }
}

/** HF MinLengthLogitsProcessor: EOS scores -inf while T < min_length (T counts the prompt). */
export class MinLengthLogitsProcessor implements LogitsProcessor {
  private readonly eos: number[];
  constructor(readonly minLength: number, eosTokenId: number | readonly number[]) {
    checkPositiveInt(minLength, "min_length", "MinLengthLogitsProcessor", true);
    this.eos = eosList(eosTokenId, "MinLengthLogitsProcessor");
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "MinLengthLogitsProcessor");
    for (let b = 0; b < inputIds.length; b++) {
      if (inputIds[b].length >= this.minLength) continue;
      for (const e of this.eos) if (e < V) scores[b * V + e] = NEG_INF;
    }
    return scores;
  }
}

/** HF MinNewTokensLengthLogitsProcessor: EOS scores -inf while T - promptLength < min_new_tokens. */
export class MinNewTokensLengthLogitsProcessor implements LogitsProcessor {
  private readonly eos: number[];
  constructor(readonly promptLength: number, readonly minNewTokens: number, eosTokenId: number | readonly number[]) {
    checkPositiveInt(promptLength, "prompt_length_to_skip", "MinNewTokensLengthLogitsProcessor", true);
    checkPositiveInt(minNewTokens, "min_new_tokens", "MinNewTokensLengthLogitsProcessor", true);
    this.eos = eosList(eosTokenId, "MinNewTokensLengthLogitsProcessor");
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "MinNewTokensLengthLogitsProcessor");
    for (let b = 0; b < inputIds.length; b++) {
      if (inputIds[b].length - this.promptLength >= this.minNewTokens) continue;
      for (const e of this.eos) if (e < V) scores[b * V + e] = NEG_INF;
    }
    return scores;
  }
}

/** HF ForcedBOSTokenLogitsProcessor: when T == 1, every score is -inf except bos (0). */
export class ForcedBOSTokenLogitsProcessor implements LogitsProcessor {
  constructor(readonly bosTokenId: number) {
    checkPositiveInt(bosTokenId, "forced_bos_token_id", "ForcedBOSTokenLogitsProcessor", true);
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "ForcedBOSTokenLogitsProcessor");
    // HF looks at input_ids.shape[-1], the same for every row.
    if (inputIds.length > 0 && inputIds[0].length === 1) {
      if (this.bosTokenId >= V) throw new Error(`forced_bos_token_id ${this.bosTokenId} is outside the vocabulary (${V})`);
      scores.fill(NEG_INF);
      for (let b = 0; b < inputIds.length; b++) scores[b * V + this.bosTokenId] = 0;
    }
    return scores;
  }
}

/** HF ForcedEOSTokenLogitsProcessor: when T == max_length - 1, every score is -inf except the EOS ids (0). */
export class ForcedEOSTokenLogitsProcessor implements LogitsProcessor {
  private readonly eos: number[];
  constructor(readonly maxLength: number, eosTokenId: number | readonly number[]) {
    checkPositiveInt(maxLength, "max_length", "ForcedEOSTokenLogitsProcessor");
    this.eos = eosList(eosTokenId, "ForcedEOSTokenLogitsProcessor");
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "ForcedEOSTokenLogitsProcessor");
    if (inputIds.length > 0 && inputIds[0].length === this.maxLength - 1) {
      scores.fill(NEG_INF);
      for (let b = 0; b < inputIds.length; b++) {
        for (const e of this.eos) {
          if (e >= V) throw new Error(`forced_eos_token_id ${e} is outside the vocabulary (${V})`);
          scores[b * V + e] = 0;
        }
      }
    }
    return scores;
  }
}

/** HF SuppressTokensLogitsProcessor: the listed ids always score -inf. */
export class SuppressTokensLogitsProcessor implements LogitsProcessor {
  constructor(readonly suppressTokens: readonly number[]) {
    for (const t of suppressTokens) checkPositiveInt(t, "suppress_tokens[]", "SuppressTokensLogitsProcessor", true);
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "SuppressTokensLogitsProcessor");
    for (let off = 0; off < scores.length; off += V) for (const t of this.suppressTokens) if (t < V) scores[off + t] = NEG_INF;
    return scores;
  }
}

/** HF SuppressTokensAtBeginLogitsProcessor: the listed ids score -inf at the step where T == beginIndex. */
export class SuppressTokensAtBeginLogitsProcessor implements LogitsProcessor {
  constructor(readonly beginSuppressTokens: readonly number[], readonly beginIndex: number) {
    for (const t of beginSuppressTokens) checkPositiveInt(t, "begin_suppress_tokens[]", "SuppressTokensAtBeginLogitsProcessor", true);
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "SuppressTokensAtBeginLogitsProcessor");
    if (inputIds.length > 0 && inputIds[0].length === this.beginIndex) {
      for (let off = 0; off < scores.length; off += V) for (const t of this.beginSuppressTokens) if (t < V) scores[off + t] = NEG_INF;
    }
    return scores;
  }
}

/**
 * HF SequenceBiasLogitsProcessor: a bias per token sequence. A one-token sequence biases that
 * token at every step; a longer one biases its last token when the row ends with the rest.
 * Sequences come as HF's list form [[ids, bias], ...]; the same ids twice is an error.
 */
export class SequenceBiasLogitsProcessor implements LogitsProcessor {
  private readonly entries: Array<{ ids: number[]; bias: number }>;
  constructor(sequenceBias: ReadonlyArray<readonly [readonly number[], number]>) {
    if (!Array.isArray(sequenceBias) || sequenceBias.length === 0) throw new Error("sequence_bias must be a non-empty list of [token_ids, bias] pairs");
    const seen = new Set<string>();
    this.entries = sequenceBias.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || !Array.isArray(pair[0]) || pair[0].length === 0 || typeof pair[1] !== "number") {
        throw new Error(`sequence_bias[${i}] must be [non-empty list of token ids, bias], got ${JSON.stringify(pair)}`);
      }
      for (const t of pair[0]) checkPositiveInt(t, `sequence_bias[${i}] token id`, "SequenceBiasLogitsProcessor", true);
      const key = pair[0].join(",");
      if (seen.has(key)) throw new Error(`sequence_bias: the sequence [${key}] is given twice`);
      seen.add(key);
      return { ids: [...pair[0]], bias: pair[1] };
    });
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "SequenceBiasLogitsProcessor");
    const bad = this.entries.flatMap((e) => e.ids.filter((t) => t >= V));
    if (bad.length > 0) throw new Error(`sequence_bias: the vocabulary size is ${V}, but these tokens were biased: ${bad.join(", ")}`);
    // HF sums all biases of a step into one float32 tensor, then adds it to the scores once.
    const bias = new Float32Array(V);
    for (let b = 0; b < inputIds.length; b++) {
      const ids = inputIds[b];
      bias.fill(0);
      for (const e of this.entries) {
        const last = e.ids[e.ids.length - 1];
        if (e.ids.length === 1) {
          bias[last] = Math.fround(bias[last] + Math.fround(e.bias));
          continue;
        }
        const pl = e.ids.length - 1;
        if (pl > ids.length) continue;
        let match = true;
        for (let j = 0; j < pl; j++) {
          if (ids[ids.length - pl + j] !== e.ids[j]) {
            match = false;
            break;
          }
        }
        if (match) bias[last] = Math.fround(bias[last] + Math.fround(e.bias));
      }
      const off = b * V;
      for (let i = 0; i < V; i++) if (bias[i] !== 0) scores[off + i] = Math.fround(scores[off + i] + bias[i]);
    }
    return scores;
  }
}

/**
 * OpenAI's logit_bias: a map from token id (a decimal string, as JSON object keys are) to a bias in
 * [-100, 100] added to that token's logit at every step. For one-token sequences this equals HF's
 * SequenceBiasLogitsProcessor.
 */
export class LogitBiasLogitsProcessor implements LogitsProcessor {
  private readonly ids: number[] = [];
  private readonly biases: number[] = [];
  constructor(logitBias: Readonly<Record<string, number>>) {
    if (logitBias === null || typeof logitBias !== "object" || Array.isArray(logitBias)) {
      throw new Error(`logit_bias must be an object mapping token ids to numbers, got ${JSON.stringify(logitBias)}`);
    }
    for (const [k, v] of Object.entries(logitBias)) {
      const id = Number(k);
      if (!/^\d+$/.test(k) || !Number.isSafeInteger(id)) throw new Error(`logit_bias: key ${JSON.stringify(k)} is not a token id`);
      if (typeof v !== "number" || !(v >= -100 && v <= 100)) throw new Error(`logit_bias[${k}] must be a number in [-100, 100], got ${JSON.stringify(v)}`);
      this.ids.push(id);
      this.biases.push(Math.fround(v));
    }
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "LogitBiasLogitsProcessor");
    for (const id of this.ids) if (id >= V) throw new Error(`logit_bias: token ${id} is outside the vocabulary (${V})`);
    for (let off = 0; off < scores.length; off += V) {
      for (let j = 0; j < this.ids.length; j++) scores[off + this.ids[j]] = Math.fround(scores[off + this.ids[j]] + this.biases[j]);
    }
    return scores;
  }
}

/**
 * HF NoBadWordsLogitsProcessor: bans token sequences (a one-token sequence at every step, a longer
 * one's last token when the row ends with the rest). A one-token sequence equal to an EOS id is
 * dropped, as in HF, so EOS stays reachable.
 */
export class NoBadWordsLogitsProcessor implements LogitsProcessor {
  private readonly inner: SequenceBiasLogitsProcessor | null;
  constructor(badWordsIds: ReadonlyArray<readonly number[]>, eosTokenId: number | readonly number[] | null = null) {
    if (!Array.isArray(badWordsIds) || badWordsIds.length === 0) throw new Error("bad_words_ids must be a non-empty list of token-id lists");
    badWordsIds.forEach((w, i) => {
      if (!Array.isArray(w) || w.length === 0 || w.some((t) => !Number.isInteger(t) || t < 0)) {
        throw new Error(`bad_words_ids[${i}] must be a non-empty list of token ids, got ${JSON.stringify(w)}`);
      }
    });
    const eos = eosTokenId === null ? [] : typeof eosTokenId === "number" ? [eosTokenId] : [...eosTokenId];
    const seen = new Set<string>();
    const entries: Array<[number[], number]> = [];
    for (const w of badWordsIds) {
      if (w.length === 1 && eos.includes(w[0])) continue;
      const key = w.join(",");
      if (seen.has(key)) continue; // HF builds a dict: duplicates collapse
      seen.add(key);
      entries.push([[...w], NEG_INF]);
    }
    this.inner = entries.length > 0 ? new SequenceBiasLogitsProcessor(entries) : null;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    return this.inner ? this.inner.apply(inputIds, scores) : scores;
  }
}

/**
 * HF ExponentialDecayLengthPenalty: after `start` generated tokens, raise the EOS scores by
 * |score| * (factor ** (T - promptLength - start) - 1), so ending becomes ever more likely.
 */
export class ExponentialDecayLengthPenalty implements LogitsProcessor {
  private readonly eos: number[];
  private readonly regulationStart: number;
  constructor(readonly start: number, readonly factor: number, eosTokenId: number | readonly number[], promptLength: number) {
    checkPositiveInt(start, "exponential_decay_length_penalty[0]", "ExponentialDecayLengthPenalty", true);
    if (typeof factor !== "number" || !Number.isFinite(factor)) throw new Error(`exponential_decay_length_penalty[1] must be a number, got ${factor}`);
    this.eos = eosList(eosTokenId, "ExponentialDecayLengthPenalty");
    this.regulationStart = start + promptLength;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "ExponentialDecayLengthPenalty");
    if (inputIds.length === 0) return scores;
    const T = inputIds[0].length;
    if (T <= this.regulationStart) return scores;
    const mult = Math.fround(Math.pow(this.factor, T - this.regulationStart) - 1);
    for (let off = 0; off < scores.length; off += V) {
      for (const e of new Set(this.eos)) {
        if (e >= V) continue;
        const s = scores[off + e];
        scores[off + e] = Math.fround(s + Math.fround(Math.abs(s) * mult));
      }
    }
    return scores;
  }
}

/** HF LogitNormalization (renormalize_logits): log_softmax of the processed scores. */
export class LogitNormalization implements LogitsProcessor {
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    return logSoftmaxRows(scores, vocabSize(inputIds, scores, "LogitNormalization"));
  }
}

/**
 * Runs a processor on logits given as a Tensor [B, V] (any strides); returns a new contiguous
 * [B, V] tensor and leaves the input untouched. Input ids may be an int32 tensor [B, T] too.
 */
export function processTensor(processor: LogitsProcessor, inputIds: InputIds | Tensor, logits: Tensor): Tensor {
  const scores = scoresFromTensor(logits);
  let ids: InputIds;
  if (inputIds instanceof Tensor) {
    if (inputIds.ndim !== 2) throw new Error(`processTensor: input ids must be [B, T], got shape [${inputIds.shape.join(", ")}]`);
    const [B, T] = inputIds.shape;
    const flat = inputIds.toTypedArray();
    ids = Array.from({ length: B }, (_, b) => flat.subarray(b * T, b * T + T));
  } else ids = inputIds;
  if (ids.length !== logits.shape[0]) throw new Error(`processTensor: ${ids.length} rows of input ids for ${logits.shape[0]} rows of logits`);
  return new Tensor(processor.apply(ids, scores), [logits.shape[0], logits.shape[1]]);
}

/** Applies processors in order (HF LogitsProcessorList). */
export class LogitsProcessorList implements LogitsProcessor {
  readonly processors: LogitsProcessor[];
  constructor(processors: LogitsProcessor[] = []) {
    this.processors = [...processors];
  }
  push(p: LogitsProcessor): this {
    this.processors.push(p);
    return this;
  }
  get length(): number {
    return this.processors.length;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    for (const p of this.processors) scores = p.apply(inputIds, scores);
    return scores;
  }
}
