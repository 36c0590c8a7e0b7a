// Next-token choice from processed scores: greedy argmax and seeded multinomial sampling.
//
// Scores are [B, V] row-major in one Float32Array (B rows, V vocabulary), as the logits processors
// leave them.
//
// Sampling procedure (exact, so a seed reproduces the same ids on every machine):
//   1. m = max of the row (finite scores only; a row with no finite score is an error).
//   2. w_i = exp(s_i - m) in double precision (a -inf score gives w_i = 0 and is never drawn).
//   3. u = generator.uniform() (one draw per row, rows in order), target = u * sum(w).
//   4. Walk i = 0 .. V-1 accumulating w_i in double; return the first i with w_i > 0 and
//      cumulative > target. If rounding leaves target >= the final sum, return the last i with w_i > 0.
// The draws come from tslm's Generator (xoshiro128**), not PyTorch's, so sampled ids differ from
// Python's for the same seed; greedy decoding and beam search are the cross-checked modes.
import { Generator } from "../tensor/rng.js";

/** Index of the largest score of row `b`, the first one on ties (torch.argmax); NaN counts as largest, as in torch. */
export function argmaxRow(scores: Float32Array, V: number, b = 0): number {
  const off = b * V;
  let best = 0;
  let bestV = scores[off];
  if (Number.isNaN(bestV)) return 0;
  for (let i = 1; i < V; i++) {
    const v = scores[off + i];
    if (Number.isNaN(v)) return i;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** Greedy choice for every row of [B, V] scores. */
export function greedy(scores: Float32Array, V: number): number[] {
  if (V <= 0 || scores.length % V !== 0) throw new Error(`greedy: ${scores.length} scores do not split into rows of ${V}`);
  const out: number[] = [];
  for (let b = 0; b < scores.length / V; b++) out.push(argmaxRow(scores, V, b));
  return out;
}

// Scratch weights reused across calls (sampling runs once per token; V can be 150k).
let weights = new Float64Array(0);

/** Draws one index of row `b` from softmax(scores) with the procedure in the file header. */
export function sampleRow(scores: Float32Array, V: number, b: number, generator: Generator): number {
  const off = b * V;
  let m = -Infinity;
  for (let i = 0; i < V; i++) {
    const v = scores[off + i];
    if (Number.isNaN(v)) throw new Error(`sample: row ${b} has a NaN score at token ${i}`);
    if (v > m) m = v;
  }
  if (m === -Infinity) throw new Error(`sample: every score of row ${b} is -inf (all tokens were filtered out)`);
  if (m === Infinity) {
    // An infinite logit takes all the mass: the first +inf wins, as softmax would give it nan/1.
    for (let i = 0; i < V; i++) if (scores[off + i] === Infinity) return i;
  }
  if (weights.length < V) weights = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    const s = scores[off + i];
    const w = s === -Infinity ? 0 : Math.exp(s - m);
    weights[i] = w;
    total += w;
  }
  const target = generator.uniform() * total;
  let cum = 0;
  let last = -1;
  for (let i = 0; i < V; i++) {
    const w = weights[i];
    if (w <= 0) continue;
    cum += w;
    last = i;
    if (cum > target) return i;
  }
  return last;
}

/** Seeded multinomial sampling, one draw per row of [B, V] scores, rows in order. */
export function sample(scores: Float32Array, V: number, generator: Generator): number[] {
  if (V <= 0 || scores.length % V !== 0) throw new Error(`sample: ${scores.length} scores do not split into rows of ${V}`);
  const out: number[] = [];
  for (let b = 0; b < scores.length / V; b++) out.push(sampleRow(scores, V, b, generator));
  return out;
}
