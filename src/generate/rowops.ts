// Row math for the processors and samplers, on flat float32 rows of a [B, V] score matrix (V the
// vocabulary): torch-ordered float32 softmax and log-softmax, a stable argsort and the k-th
// largest value. These sit on the sampling hot path (V = 50k-150k per row per token).

// ------------------------------------------------------------------ float32 softmax (torch's CPU order)

const NEG_INF = -Infinity;

/**
 * Softmax of one row into `out` the way torch's CPU kernel rounds it: e_i = f32(exp(f32(x_i - max))),
 * sum of e_i, then p_i = f32(e_i * f32(1 / sum)). Used by the warpers whose thresholds compare
 * probabilities, so boundary cases fall the same side as in PyTorch.
 */
export function softmaxRowF32(row: Float32Array, out: Float32Array): void {
  const n = row.length;
  let max = NEG_INF;
  for (let i = 0; i < n; i++) if (row[i] > max) max = row[i];
  if (max === NEG_INF) {
    out.fill(NaN); // torch: exp(-inf - -inf) = nan
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.fround(Math.exp(Math.fround(row[i] - max)));
    out[i] = e;
    sum += e;
  }
  const inv = Math.fround(1 / Math.fround(sum));
  for (let i = 0; i < n; i++) out[i] = Math.fround(out[i] * inv);
}

/** log_softmax of every row of [B, V] scores in place (torch: x - max - log(sum exp(x - max))). */
export function logSoftmaxRows(scores: Float32Array, V: number): Float32Array {
  for (let off = 0; off < scores.length; off += V) {
    const row = scores.subarray(off, off + V);
    let max = NEG_INF;
    for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
    if (max === NEG_INF) continue; // all -inf: torch yields nan; leave as is, callers check
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
    const lse = Math.log(sum);
    for (let i = 0; i < V; i++) row[i] = Math.fround(Math.fround(row[i] - max) - lse);
  }
  return scores;
}

// Sorting and selection sit on the sampling hot path (V = 50k-150k per row per token), so they
// avoid comparator callbacks: argsort packs each value's order-preserving 32-bit key and its index
// into one exactly representable double and uses the native typed-array sort; the k-th largest
// value comes from an O(V) selection instead of a sort.

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** A 32-bit key with the order of the float32 values: -inf lowest, NaN highest, -0 == +0. */
function orderKey(v: number): number {
  if (v !== v) return 0xffffffff;
  F32[0] = v === 0 ? 0 : v;
  const b = U32[0];
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/**
 * Indices of one row sorted by value ascending, ties by index ascending (torch's CPU sort is
 * stable); -inf first, NaN last, as in torch.
 */
export function argsortAscending(row: Float32Array): Int32Array {
  const n = row.length;
  const idx = new Int32Array(n);
  const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  if (bits <= 21) {
    // key * 2^bits + index < 2^53: exact in a double, and numeric order = (value, index) order.
    const scale = 2 ** bits;
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = orderKey(row[i]) * scale + i;
    packed.sort();
    for (let i = 0; i < n; i++) idx[i] = packed[i] % scale;
    return idx;
  }
  for (let i = 0; i < n; i++) idx[i] = i;
  const keys = Float64Array.from(row, orderKey);
  return idx.sort((a, b) => keys[a] - keys[b] || a - b);
}

/** The k-th largest value of a row (1 <= k <= length, with multiplicity), as torch.topk(row, k)[0][-1]; NaN ranks highest. */
export function kthLargest(row: Float32Array, k: number): number {
  const n = row.length;
  if (!(k >= 1 && k <= n)) throw new Error(`kthLargest: k=${k} outside [1, ${n}]`);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = row[i] !== row[i] ? Infinity : row[i];
  // Quickselect for the element of ascending rank n - k (Hoare partition, median of three).
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break; // target sits among elements equal to the pivot
  }
  const v = a[target];
  // Values that are NaN in the row rank highest; the selection ran on +inf stand-ins.
  if (v === Infinity) for (let i = 0; i < n; i++) if (row[i] !== row[i]) return NaN;
  return v;
}

