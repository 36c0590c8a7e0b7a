// Beam search bookkeeping, independent of any model: the decoding loop feeds processed log-probs
// for every running beam, the scorer picks the continuations, keeps the finished hypotheses, tells
// the loop how to reorder its KV cache, and finally returns the best sequences with their scores.
//
// It reproduces the vectorized beam search of Hugging Face transformers 5.x
// (GenerationMixin._beam_search and its helpers _get_top_k_continuations,
// _get_running_beams_for_next_iteration, _update_finished_beams, _check_early_stop_heuristic,
// _beam_search_has_unfinished_sequences), including its float32 arithmetic and -1e9 masks, so the
// same log-probs give the same sequences and scores.
//
// Glossary: B batch (prompts), K num_beams, V vocabulary, T current length (prompt included),
// P prompt length (decoder_prompt_len), C = beams_to_keep = max(2, 1 + number of EOS ids) * K.
//
// One step, per prompt b:
//   1. acc[k, v] = logprobs[b*K + k, v] + running_score[k]                    (float32)
//   2. the C best (k, v) by acc, descending (ties: lower flat index first)    -> candidates
//   3. a candidate "hits" when v is EOS, T + 1 >= max_length, or an extra criterion says so
//   4. running beams for the next step: the K best candidates after adding -1e9 to hits
//   5. finished hypotheses: candidates among the first K that hit are scored
//      acc / (T + 1 - P) ** length_penalty and merged with the K kept so far (best K survive);
//      none is added once the batch is full with early_stopping=true or once the early-stop
//      heuristic says no running beam can do better.
//   6. the heuristic: best running score / L ** length_penalty > worst finished score, with
//      L = max_length - P when early_stopping="never" and length_penalty > 0, else T + 1 - P.
// The search ends when no prompt can improve, or every hypothesis slot is finished and
// early_stopping is true, or every candidate hit a stopping criterion.
import type { InputIds } from "./logits_process.js";
import type { StoppingCriteria } from "./stopping.js";
import type { Generator } from "../tensor/rng.js";

const MASK = Math.fround(-1.0e9);

export interface BeamSearchOptions {
  /** K, the beams per prompt (>= 1). */
  numBeams: number;
  /** Total length limit, prompt included (HF max_length). */
  maxLength: number;
  eosTokenId?: number | readonly number[] | null;
  padTokenId?: number | null;
  /** Exponent of the length normalisation of finished scores (HF length_penalty), 1.0 by default. */
  lengthPenalty?: number;
  /** HF early_stopping: true, false (default) or "never". */
  earlyStopping?: boolean | "never";
  /** Sequences returned per prompt (<= numBeams), 1 by default. */
  numReturnSequences?: number;
  /**
   * Extra stopping criteria evaluated on the C candidate sequences of each prompt (rows of length
   * T + 1); they must be stateless per row (e.g. MaxTimeCriteria), since candidates change rows
   * every step.
   */
  stoppingCriteria?: StoppingCriteria | null;
  /**
   * Beam sampling (HF do_sample with num_beams > 1): candidates are drawn without replacement from
   * softmax of the accumulated log-probs instead of taken as the top C (see sampleWithoutReplacement).
   */
  generator?: Generator | null;
}

export interface BeamStepResult {
  /** Row r of the next step's input comes from row beamIndices[r] of this step (for KV-cache reordering). */
  beamIndices: Int32Array;
  /** The token appended to each running row (B * K). */
  tokens: Int32Array;
  /** True when the search is over: call finalize(). */
  done: boolean;
}

export interface BeamSearchOutput {
  /** B * numReturnSequences rows, prompt included, padded to one length with the pad id. */
  sequences: number[][];
  /** The length-normalised score of each returned sequence (HF sequences_scores). */
  sequenceScores: number[];
  /** For each returned row, the flat source row (b * K + k) of each generated token; -1 past its end. */
  beamIndices: number[][];
}

interface Candidate {
  score: number; // accumulated log-prob (float32)
  seq: number[];
  hist: number[]; // flat beam index per generated position
}

export class BeamSearchScorer {
  readonly batchSize: number;
  readonly numBeams: number;
  readonly maxLength: number;
  readonly promptLength: number;
  readonly lengthPenalty: number;
  readonly earlyStopping: boolean | "never";
  readonly numReturnSequences: number;
  readonly beamsToKeep: number;
  private readonly eos: Set<number>;
  private readonly fillValue: number;
  private readonly extra: StoppingCriteria | null;
  private readonly generator: Generator | null;

  private curLen: number;
  // Per prompt b: running beams (K) and finished slots (K), HF's tensors as arrays.
  private running: number[][][];
  private runningScores: Float32Array[];
  private runningHist: number[][][];
  private finished: number[][][];
  private finishedScores: Float32Array[];
  private finishedHist: number[][][];
  private isSentFinished: boolean[][];
  private improvable: boolean[];
  private isDone = false;

  /**
   * @param prompts B prompt rows of equal length P (left-padded); each is expanded to K beams.
   */
  constructor(prompts: InputIds, opts: BeamSearchOptions) {
    const K = opts.numBeams;
    if (!Number.isInteger(K) || K < 1) throw new Error(`BeamSearchScorer: num_beams must be a positive integer, got ${K}`);
    if (prompts.length === 0) throw new Error("BeamSearchScorer: no prompts");
    const P = prompts[0].length;
    for (let b = 1; b < prompts.length; b++) {
      if (prompts[b].length !== P) throw new Error(`BeamSearchScorer: prompt ${b} has ${prompts[b].length} tokens, prompt 0 has ${P}; left-pad them to one length`);
    }
    if (!Number.isInteger(opts.maxLength) || opts.maxLength <= P) {
      throw new Error(`BeamSearchScorer: max_length (${opts.maxLength}) must exceed the prompt length (${P})`);
    }
    const nRet = opts.numReturnSequences ?? 1;
    if (!Number.isInteger(nRet) || nRet < 1 || nRet > K) throw new Error(`BeamSearchScorer: num_return_sequences (${nRet}) must be in [1, num_beams=${K}]`);
    const es = opts.earlyStopping ?? false;
    if (es !== true && es !== false && es !== "never") throw new Error(`BeamSearchScorer: early_stopping must be true, false or "never", got ${JSON.stringify(es)}`);
    const eos = opts.eosTokenId == null ? [] : typeof opts.eosTokenId === "number" ? [opts.eosTokenId] : [...opts.eosTokenId];
    this.batchSize = prompts.length;
    this.numBeams = K;
    this.maxLength = opts.maxLength;
    this.promptLength = P;
    this.lengthPenalty = opts.lengthPenalty ?? 1.0;
    this.earlyStopping = es;
    this.numReturnSequences = nRet;
    this.eos = new Set(eos);
    this.beamsToKeep = Math.max(2, 1 + eos.length) * K;
    // HF: `pad_token_id or eos_token_id[0] if eos_token_id is not None else -1` (a pad id of 0 is falsy there).
    this.fillValue = eos.length > 0 ? (opts.padTokenId ? opts.padTokenId : eos[0]) : -1;
    this.extra = opts.stoppingCriteria ?? null;
    this.generator = opts.generator ?? null;
    this.curLen = P;
    const B = this.batchSize;
    this.running = Array.from({ length: B }, (_, b) => Array.from({ length: K }, () => Array.from(prompts[b])));
    this.runningScores = Array.from({ length: B }, () => {
      const s = new Float32Array(K).fill(MASK);
      s[0] = 0; // only the first beam is live at the start, so the K beams do not pick the same tokens
      return s;
    });
    this.runningHist = Array.from({ length: B }, () => Array.from({ length: K }, () => []));
    this.finished = Array.from({ length: B }, (_, b) => Array.from({ length: K }, () => Array.from(prompts[b])));
    this.finishedScores = Array.from({ length: B }, () => new Float32Array(K).fill(MASK));
    this.finishedHist = Array.from({ length: B }, () => Array.from({ length: K }, () => []));
    this.isSentFinished = Array.from({ length: B }, () => new Array<boolean>(K).fill(false));
    this.improvable = new Array<boolean>(B).fill(true);
  }

  /** True once the search is over. */
  get done(): boolean {
    return this.isDone;
  }

  /** The current length T of every running row. */
  get length(): number {
    return this.curLen;
  }

  /** The B * K running rows (length T): the input ids for the logits processors and the model. */
  runningSequences(): number[][] {
    return this.running.flat();
  }

  /** The last token of every running row, the model's next input with a KV cache. */
  lastTokens(): Int32Array {
    const out = new Int32Array(this.batchSize * this.numBeams);
    let r = 0;
    for (const rows of this.running) for (const row of rows) out[r++] = row[row.length - 1];
    return out;
  }

  /**
   * One step. `logProbs` is [B * K, V] row-major: log_softmax of the model's logits for every
   * running row, already passed through the logits processors (HF applies them to log-probs here).
   */
  step(logProbs: Float32Array): BeamStepResult {
    if (this.isDone) throw new Error("BeamSearchScorer.step: the search is already done");
    const B = this.batchSize;
    const K = this.numBeams;
    const C = this.beamsToKeep;
    const rows = B * K;
    if (logProbs.length === 0 || logProbs.length % rows !== 0) {
      throw new Error(`BeamSearchScorer.step: ${logProbs.length} log-probs do not split into ${rows} rows (batch ${B} x beams ${K})`);
    }
    const V = logProbs.length / rows;
    if (K * V < C) throw new Error(`BeamSearchScorer.step: vocabulary ${V} x beams ${K} is smaller than the ${C} candidates beam search keeps`);
    const T = this.curLen;
    const P = this.promptLength;
    const lp = this.lengthPenalty;

    // 1-2. Top-C candidates per prompt.
    const cands: Candidate[][] = [];
    const acc = new Float32Array(K * V);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        const s = this.runningScores[b][k];
        const off = (b * K + k) * V;
        for (let v = 0; v < V; v++) acc[k * V + v] = logProbs[off + v] + s;
      }
      const top = this.generator ? sampleWithoutReplacement(acc, C, this.generator) : topKIndices(acc, C);
      cands.push(
        top.map((i) => {
          const k = Math.floor(i / V);
          const v = i - k * V;
          return { score: acc[i], seq: [...this.running[b][k], v], hist: [...this.runningHist[b][k], b * K + k] };
        }),
      );
    }

    // 3. Which candidates hit a stopping criterion.
    const atMax = T + 1 >= this.maxLength;
    const extraHits = this.extra ? this.extra.isDone(cands.flatMap((cs) => cs.map((c) => c.seq))) : null;
    const hits = cands.map((cs, b) => cs.map((c, j) => atMax || this.eos.has(c.seq[c.seq.length - 1]) || (extraHits !== null && extraHits[b * C + j])));

    const nextTokens = new Int32Array(rows);
    const nextBeamIdx = new Int32Array(rows);
    const penaltyDenom = Math.fround(Math.pow(T + 1 - P, lp));
    for (let b = 0; b < B; b++) {
      const cs = cands[b];
      const hit = hits[b];
      // 4. Running beams: the K best candidates that did not hit.
      const runLogp = new Float32Array(C);
      for (let j = 0; j < C; j++) runLogp[j] = hit[j] ? Math.fround(cs[j].score + MASK) : cs[j].score;
      const keep = topKIndices(runLogp, K);
      this.running[b] = keep.map((j) => cs[j].seq);
      this.runningScores[b] = Float32Array.from(keep, (j) => runLogp[j]);
      this.runningHist[b] = keep.map((j) => cs[j].hist);
      keep.forEach((j, k) => {
        nextTokens[b * K + k] = cs[j].seq[T];
        nextBeamIdx[b * K + k] = cs[j].hist[cs[j].hist.length - 1];
      });

      // 5. Finished hypotheses.
      const full = this.earlyStopping === true && this.isSentFinished[b].every((x) => x);
      const merged: Array<{ score: number; seq: number[]; hist: number[]; fin: boolean }> = [];
      for (let k = 0; k < K; k++) {
        merged.push({ score: this.finishedScores[b][k], seq: this.finished[b][k], hist: this.finishedHist[b][k], fin: this.isSentFinished[b][k] });
      }
      for (let j = 0; j < C; j++) {
        const justFinished = hit[j] && j < K;
        let s = Math.fround(cs[j].score / penaltyDenom);
        // HF adds each mask as a float32 term (0 or -1e9), in this order.
        if (full) s = Math.fround(s + MASK);
        if (!this.improvable[b]) s = Math.fround(s + MASK);
        if (!justFinished) s = Math.fround(s + MASK);
        merged.push({ score: s, seq: cs[j].seq, hist: cs[j].hist, fin: justFinished });
      }
      const best = topKIndices(Float32Array.from(merged, (m) => m.score), K);
      this.finished[b] = best.map((i) => merged[i].seq);
      this.finishedScores[b] = Float32Array.from(best, (i) => merged[i].score);
      this.finishedHist[b] = best.map((i) => merged[i].hist);
      this.isSentFinished[b] = best.map((i) => merged[i].fin);
    }

    // 6. Early-stop heuristic and the global stop condition.
    this.curLen = T + 1;
    const L = this.earlyStopping === "never" && lp > 0 ? this.maxLength - P : this.curLen - P;
    const denom = Math.fround(Math.pow(L, lp));
    for (let b = 0; b < B; b++) {
      const bestRunning = Math.fround(this.runningScores[b][0] / denom);
      let minFinished = Infinity;
      for (let k = 0; k < K; k++) minFinished = Math.min(minFinished, this.finishedScores[b][k]);
      let canImprove = false;
      for (let k = 0; k < K; k++) {
        const worst = this.isSentFinished[b][k] ? minFinished : MASK;
        if (bestRunning > worst) canImprove = true;
      }
      this.improvable[b] = this.improvable[b] && canImprove;
    }
    const improvementPossible = this.improvable.some((x) => x);
    const allFinished = this.isSentFinished.every((r) => r.every((x) => x));
    const existsOpenBeam = !(allFinished && this.earlyStopping === true);
    const validContinuations = !hits.every((r) => r.every((x) => x));
    this.isDone = !(improvementPossible && existsOpenBeam && validContinuations);
    return { beamIndices: nextBeamIdx, tokens: nextTokens, done: this.isDone };
  }

  /** The best numReturnSequences hypotheses of every prompt, best first (HF's returned sequences and sequences_scores). */
  finalize(): BeamSearchOutput {
    const n = this.numReturnSequences;
    const seqs: number[][] = [];
    const scores: number[] = [];
    const hists: number[][] = [];
    for (let b = 0; b < this.batchSize; b++) {
      for (let k = 0; k < n; k++) {
        seqs.push(this.finished[b][k]);
        scores.push(this.finishedScores[b][k]);
        hists.push(this.finishedHist[b][k]);
      }
    }
    // HF crops its max_length buffers to the longest returned hypothesis and pads the rest.
    const maxGen = Math.max(...hists.map((h) => h.length));
    const outLen = this.promptLength + maxGen;
    return {
      sequences: seqs.map((s) => [...s, ...new Array<number>(outLen - s.length).fill(this.fillValue)]),
      sequenceScores: scores,
      beamIndices: hists.map((h) => [...h, ...new Array<number>(maxGen - h.length).fill(-1)]),
    };
  }
}

/**
 * k distinct indices drawn from softmax(values) without replacement, in draw order (what
 * torch.multinomial(probs, k) returns; the draws come from tslm's Generator, so not torch's ids).
 * Each draw: u = generator.uniform(), walk the remaining weights exp(v - max) in index order until
 * their running sum exceeds u * (remaining total); the chosen weight is then removed.
 */
export function sampleWithoutReplacement(values: Float32Array, k: number, generator: Generator): number[] {
  const n = values.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
  const w = new Float64Array(n);
  let total = 0;
  let positive = 0;
  for (let i = 0; i < n; i++) {
    w[i] = values[i] === -Infinity || max === -Infinity ? 0 : Math.exp(values[i] - max);
    total += w[i];
    if (w[i] > 0) positive++;
  }
  if (positive < k) throw new Error(`beam sampling: only ${positive} candidates have non-zero probability, ${k} are needed`);
  const out: number[] = [];
  for (let d = 0; d < k; d++) {
    const target = generator.uniform() * total;
    let cum = 0;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (w[i] <= 0) continue;
      cum += w[i];
      pick = i;
      if (cum > target) break;
    }
    out.push(pick);
    total -= w[pick];
    w[pick] = 0;
    // Re-sum now and then so cancellation in `total -= w` cannot drift.
    if (d % 8 === 7) total = w.reduce((a, b) => a + b, 0);
  }
  return out;
}

/** Indices of the k largest values, descending; ties keep the lower index first; NaN ranks highest (torch.topk). */
export function topKIndices(values: Float32Array, k: number): number[] {
  const n = values.length;
  if (k > n) throw new Error(`topk: k=${k} exceeds ${n} values`);
  const key = (i: number) => (Number.isNaN(values[i]) ? Infinity : values[i]);
  if (k * 8 < n) {
    // Partial selection: keep a sorted list of the best k while scanning (k is small in beam search).
    const best: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = key(i);
      if (best.length === k && !(v > key(best[k - 1]))) continue;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (key(best[mid]) >= v) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, i);
      if (best.length > k) best.pop();
    }
    return best;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => key(b) - key(a) || a - b);
  return idx.slice(0, k);
}
