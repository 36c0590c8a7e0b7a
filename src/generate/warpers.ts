// Logits warpers: the processors HF applies only when sampling (temperature, top-k, top-p, min-p,
// typical-p, epsilon, eta), each equal to its transformers.generation.logits_process counterpart.
// Same contract and float32 conventions as logits_process.ts: apply(inputIds, scores) rewrites
// the flat [B, V] scores in place; a removed token gets filterValue (-inf by default).
import { argsortAscending, kthLargest, logSoftmaxRows, softmaxRowF32 } from "./rowops.js";
import { checkPositiveInt, vocabSize, type InputIds, type LogitsProcessor } from "./logits_process.js";

const NEG_INF = -Infinity;

// ------------------------------------------------------------------ warpers (sampling only)

/** scores / temperature (HF TemperatureLogitsWarper). */
export class TemperatureLogitsWarper implements LogitsProcessor {
  private readonly t: number;
  constructor(readonly temperature: number) {
    if (!(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature))) {
      throw new Error(
        `temperature (${temperature}) must be a strictly positive number` +
          (temperature === 0 ? "; for greedy decoding set do_sample=false" : ""),
      );
    }
    this.t = Math.fround(temperature);
  }
  apply(_inputIds: InputIds, scores: Float32Array): Float32Array {
    for (let i = 0; i < scores.length; i++) scores[i] = Math.fround(scores[i] / this.t);
    return scores;
  }
}

export interface FilterOptions {
  /** Value given to removed tokens (HF filter_value), -Infinity by default. */
  filterValue?: number;
  /** Never filter below this many tokens (HF min_tokens_to_keep), 1 by default. */
  minTokensToKeep?: number;
}

/**
 * Keeps the tokens whose score is >= the k-th largest score (HF TopKLogitsWarper): ties at the
 * threshold all survive, and with fewer than k finite scores nothing more is removed.
 */
export class TopKLogitsWarper implements LogitsProcessor {
  readonly topK: number;
  private readonly filterValue: number;
  constructor(topK: number, opts: FilterOptions = {}) {
    checkPositiveInt(topK, "top_k", "TopKLogitsWarper");
    const keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(keep, "min_tokens_to_keep", "TopKLogitsWarper");
    this.topK = Math.max(topK, keep);
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "TopKLogitsWarper");
    const k = Math.min(this.topK, V);
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      const thr = kthLargest(row, k);
      for (let i = 0; i < V; i++) if (row[i] < thr) row[i] = this.filterValue;
    }
    return scores;
  }
}

/**
 * Nucleus filtering (HF TopPLogitsWarper): sort ascending, cumulative softmax (float32 values,
 * accumulated in double like torch's CPU cumsum), remove tokens whose cumulative probability is
 * <= 1 - top_p, then always keep the last (largest) min_tokens_to_keep.
 */
export class TopPLogitsWarper implements LogitsProcessor {
  private readonly threshold: number;
  private readonly keep: number;
  private readonly filterValue: number;
  constructor(readonly topP: number, opts: FilterOptions = {}) {
    if (!(typeof topP === "number" && topP >= 0 && topP <= 1)) throw new Error(`top_p must be in [0, 1], got ${topP}`);
    this.keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(this.keep, "min_tokens_to_keep", "TopPLogitsWarper");
    this.threshold = Math.fround(1 - topP); // a Python float compared with a float32 tensor
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "TopPLogitsWarper");
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      // Fast path: -inf scores (already filtered, e.g. by top-k) sort first with probability 0,
      // so their cumulative probability is 0 <= 1 - top_p and HF removes them; only the finite
      // scores need sorting. It applies when they are at least min_tokens_to_keep.
      let finite = 0;
      for (let i = 0; i < V; i++) if (row[i] !== -Infinity) finite++;
      if (finite < V && finite >= this.keep) {
        const pos = new Int32Array(finite);
        const vals = new Float32Array(finite);
        for (let i = 0, j = 0; i < V; i++) {
          if (row[i] === -Infinity) row[i] = this.filterValue;
          else {
            pos[j] = i;
            vals[j++] = row[i];
          }
        }
        this.filterRow(vals);
        for (let j = 0; j < finite; j++) row[pos[j]] = vals[j];
      } else {
        this.filterRow(row);
      }
    }
    return scores;
  }

  /** HF's rule on one row, in place. */
  private filterRow(row: Float32Array): void {
    if (row.length > 4096 && this.filterTopCandidates(row)) return;
    const n = row.length;
    const order = argsortAscending(row);
    const sorted = new Float32Array(n);
    const probs = new Float32Array(n);
    for (let i = 0; i < n; i++) sorted[i] = row[order[i]];
    softmaxRowF32(sorted, probs);
    let cum = 0;
    const stop = Math.max(0, n - this.keep);
    for (let i = 0; i < stop; i++) {
      cum += probs[i];
      if (Math.fround(cum) <= this.threshold) row[order[i]] = this.filterValue;
    }
  }

  /**
   * Large vocabularies without a prior top-k: sorting 50k-150k scores per token is the slowest part
   * of sampling, yet only the few most probable tokens can survive. Take the M highest scores (all
   * ties of the M-th included) as candidates; when the probability mass of everything below them
   * is clearly under 1 - top_p, every non-candidate is removed (its ascending cumulative sum is at
   * most that mass) and only the candidates need sorting, their cumulative sums starting from that
   * mass. M grows 4x until the condition holds; false means "use the full sort". The mass below is
   * summed in index order rather than ascending order: the same float32 terms in double, which
   * can differ from HF's sum only in the last double bits, far below the float32 comparison.
   */
  private filterTopCandidates(row: Float32Array): boolean {
    const n = row.length;
    const probs = new Float32Array(n);
    softmaxRowF32(row, probs);
    for (let M = Math.max(256, this.keep); M * 4 <= n; M *= 4) {
      const cut = kthLargest(row, M);
      let below = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        if (row[i] >= cut) count++;
        else below += probs[i];
      }
      // Margin: 1e-5 relative keeps rounding from deciding which side of the threshold `below` is.
      if (!(below < this.threshold * (1 - 1e-5)) || count < this.keep) continue;
      const pos = new Int32Array(count);
      const vals = new Float32Array(count);
      for (let i = 0, j = 0; i < n; i++) {
        if (row[i] >= cut) {
          pos[j] = i;
          vals[j++] = row[i];
        } else row[i] = this.filterValue;
      }
      const order = argsortAscending(vals); // ties by index: pos is in index order
      let cum = below;
      const stop = Math.max(0, count - this.keep);
      for (let r = 0; r < stop; r++) {
        const i = pos[order[r]];
        cum += probs[i];
        if (Math.fround(cum) <= this.threshold) row[i] = this.filterValue;
      }
      return true;
    }
    return false;
  }
}

/**
 * Min-p filtering (HF MinPLogitsWarper): remove tokens with probability < min_p * (top probability),
 * keeping at least min_tokens_to_keep of the most probable (ties: lower index first).
 */
export class MinPLogitsWarper implements LogitsProcessor {
  private readonly minP32: number;
  private readonly keep: number;
  private readonly filterValue: number;
  constructor(readonly minP: number, opts: FilterOptions = {}) {
    if (!(typeof minP === "number" && minP >= 0 && minP <= 1)) throw new Error(`min_p must be in [0, 1], got ${minP}`);
    this.keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(this.keep, "min_tokens_to_keep", "MinPLogitsWarper");
    this.minP32 = Math.fround(minP);
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "MinPLogitsWarper");
    const probs = new Float32Array(V);
    const remove = new Uint8Array(V);
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      softmaxRowF32(row, probs);
      let top = NEG_INF;
      for (let i = 0; i < V; i++) if (probs[i] > top) top = probs[i];
      const scaled = Math.fround(this.minP32 * top);
      for (let i = 0; i < V; i++) remove[i] = probs[i] < scaled ? 1 : 0;
      // Keep the k most probable: descending by probability, ties by index.
      const k = Math.min(this.keep, V);
      if (k === 1) {
        let best = 0;
        for (let i = 1; i < V; i++) if (probs[i] > probs[best]) best = i;
        remove[best] = 0;
      } else {
        const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
        for (let j = 0; j < k; j++) remove[order[j]] = 0;
      }
      for (let i = 0; i < V; i++) if (remove[i]) row[i] = this.filterValue;
    }
    return scores;
  }
}

/**
 * Locally typical sampling (HF TypicalLogitsWarper, Meister et al. 2022): rank tokens by
 * |-log p - H| (H the entropy), keep the smallest such set whose probability reaches `mass`.
 */
export class TypicalLogitsWarper implements LogitsProcessor {
  private readonly keep: number;
  private readonly filterValue: number;
  constructor(readonly mass: number, opts: FilterOptions = {}) {
    if (!(typeof mass === "number" && mass > 0 && mass < 1)) throw new Error(`typical_p must be in (0, 1), got ${mass}`);
    this.keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(this.keep, "min_tokens_to_keep", "TypicalLogitsWarper");
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "TypicalLogitsWarper");
    const logp = new Float32Array(V);
    const shifted = new Float32Array(V);
    const sorted = new Float32Array(V);
    const probs = new Float32Array(V);
    const m32 = Math.fround(this.mass);
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      logp.set(row);
      logSoftmaxRows(logp, V);
      // Entropy: nansum skips the -inf * 0 terms of filtered tokens.
      let ent = 0;
      for (let i = 0; i < V; i++) {
        const t = logp[i] * Math.fround(Math.exp(logp[i]));
        if (!Number.isNaN(t)) ent += t;
      }
      const H = Math.fround(-ent);
      for (let i = 0; i < V; i++) shifted[i] = Math.fround(Math.abs(Math.fround(-logp[i] - H)));
      const order = argsortAscending(shifted);
      for (let i = 0; i < V; i++) sorted[i] = row[order[i]];
      softmaxRowF32(sorted, probs);
      let cum = 0;
      let lastInd = 0;
      for (let i = 0; i < V; i++) {
        cum += probs[i];
        if (Math.fround(cum) < m32) lastInd++;
      }
      lastInd = Math.min(lastInd, V - 1);
      const cut = shifted[order[lastInd]];
      for (let i = Math.min(this.keep, V); i < V; i++) if (shifted[order[i]] > cut) row[order[i]] = this.filterValue;
    }
    return scores;
  }
}

/** HF EpsilonLogitsWarper (Hewitt et al. 2022): remove tokens with probability < epsilon, keeping the min_tokens_to_keep best. */
export class EpsilonLogitsWarper implements LogitsProcessor {
  private readonly eps32: number;
  private readonly keep: number;
  private readonly filterValue: number;
  constructor(readonly epsilon: number, opts: FilterOptions = {}) {
    if (!(typeof epsilon === "number" && epsilon > 0 && epsilon < 1)) throw new Error(`epsilon_cutoff must be in (0, 1), got ${epsilon}`);
    this.keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(this.keep, "min_tokens_to_keep", "EpsilonLogitsWarper");
    this.eps32 = Math.fround(epsilon);
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "EpsilonLogitsWarper");
    const probs = new Float32Array(V);
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      softmaxRowF32(row, probs);
      const kth = kthLargest(row, Math.min(this.keep, V));
      for (let i = 0; i < V; i++) if (probs[i] < this.eps32 && row[i] < kth) row[i] = this.filterValue;
    }
    return scores;
  }
}

/**
 * HF EtaLogitsWarper (Hewitt et al. 2022): remove tokens with probability < eta, where
 * eta = min(epsilon, sqrt(epsilon) * exp(-entropy)), keeping the min_tokens_to_keep best.
 */
export class EtaLogitsWarper implements LogitsProcessor {
  private readonly eps32: number;
  private readonly keep: number;
  private readonly filterValue: number;
  constructor(readonly epsilon: number, opts: FilterOptions = {}) {
    if (!(typeof epsilon === "number" && epsilon > 0 && epsilon < 1)) throw new Error(`eta_cutoff must be in (0, 1), got ${epsilon}`);
    this.keep = opts.minTokensToKeep ?? 1;
    checkPositiveInt(this.keep, "min_tokens_to_keep", "EtaLogitsWarper");
    this.eps32 = Math.fround(epsilon);
    this.filterValue = opts.filterValue ?? NEG_INF;
  }
  apply(inputIds: InputIds, scores: Float32Array): Float32Array {
    const V = vocabSize(inputIds, scores, "EtaLogitsWarper");
    const probs = new Float32Array(V);
    const logp = new Float32Array(V);
    const sqrtEps = Math.fround(Math.sqrt(this.eps32));
    for (let off = 0; off < scores.length; off += V) {
      const row = scores.subarray(off, off + V);
      softmaxRowF32(row, probs);
      // torch Categorical(logits).entropy(): -sum(p * clamp(log p, min=float32 min)).
      logp.set(row);
      logSoftmaxRows(logp, V);
      let ent = 0;
      for (let i = 0; i < V; i++) ent += Math.max(logp[i], -3.4028234663852886e38) * probs[i];
      const eta = Math.min(this.eps32, Math.fround(sqrtEps * Math.fround(Math.exp(Math.fround(ent)))));
      const kth = kthLargest(row, Math.min(this.keep, V));
      for (let i = 0; i < V; i++) if (probs[i] < eta && row[i] < kth) row[i] = this.filterValue;
    }
    return scores;
  }
}

