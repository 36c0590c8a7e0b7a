// Cross-entropy over the last axis (the language-model convention), with ignoreIndex and label
// smoothing as in torch.nn.functional.cross_entropy.
//
// logits [..., V] float32 and targets [...] int32. Reduction "mean" divides by the number of
// targets that are not ignoreIndex (NaN when all are ignored, as PyTorch); "sum" adds; "none"
// returns the per-position losses (0 at ignored positions).
import { isGradEnabled, record } from "../autograd/engine.js";
import { UnaryOp, kernels } from "../kernels/index.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { checkFloat, checkInt, f32, gemmLayout, i32 } from "./util.js";

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: "mean" | "sum" | "none";
}

export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkFloat("crossEntropy", logits, "logits");
  checkInt("crossEntropy", targets, "targets");
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? "mean";
  if (!(smoothing >= 0 && smoothing <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") throw new Error(`crossEntropy: reduction must be "mean", "sum" or "none", got "${String(reduction)}"`);
  const lead = logits.shape.slice(0, -1);
  if (logits.ndim < 1 || targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new Error(`crossEntropy: targets of shape ${formatShape(targets.shape)} must match the logits' shape ${formatShape(logits.shape)} without its last (class) dim`);
  }
  const V = logits.shape[logits.ndim - 1];
  const rows = targets.size;
  const t = i32(targets);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignoreIndex) continue;
    if (t[r] < 0 || t[r] >= V) throw new Error(`crossEntropy: target ${t[r]} at position ${r} is out of range for ${V} classes (ignoreIndex is ${ignoreIndex})`);
    count++;
  }
  const x = f32(logits);
  const loss = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const k = kernels();
  k.crossEntropy(x, t, loss, lse, rows, V, ignoreIndex, smoothing);
  let out: Tensor;
  if (reduction === "none") out = new Tensor(loss, targets.shape);
  else {
    let s = 0;
    for (let r = 0; r < rows; r++) s += loss[r];
    out = new Tensor(new Float32Array([reduction === "sum" ? s : s / count]), []);
  }
  return record("crossEntropy", out, [logits], (g) => {
    const gLoss = new Float32Array(rows);
    if (reduction === "none") gLoss.set(f32(g));
    else gLoss.fill(reduction === "sum" ? g.item() : g.item() / count);
    const gx = new Float32Array(logits.size);
    k.crossEntropyBackward(x, t, lse, gLoss, gx, rows, V, ignoreIndex, smoothing);
    return [new Tensor(gx, logits.shape)];
  });
}

export interface LinearCrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: "mean" | "sum";
  /**
   * Most rows of logits computed at a time (default: as many as fit in 16M floats = 64 MB, at
   * least 64); the rows are split into equal chunks under that limit. Changes only speed and
   * memory, never the result beyond float rounding of the dW sum.
   */
  chunkRows?: number;
}

/** Rows per chunk so that one chunk of logits stays within this many floats. */
const LCE_CHUNK_FLOATS = 1 << 24;
/**
 * The logits chunk, kept between calls: a fresh 64 MB buffer per step would page-fault at first
 * touch (about 2 GB/s here, 30 ms for 64 MB), a reused one does not. It is internal scratch and
 * never becomes a tensor's storage.
 */
let lceScratch: Float32Array | null = null;

function lceBuffer(n: number): Float32Array {
  if (!lceScratch || lceScratch.length < n) lceScratch = emptyF32(n);
  return lceScratch.length === n ? lceScratch : lceScratch.subarray(0, n);
}

/**
 * crossEntropy(hidden @ weight^T, targets) without materialising the [rows, V] logits (the
 * Liger-kernel "fused linear cross-entropy"): hidden [..., C], weight [V, C] (a language-model
 * head, e.g. tied to the token embedding), targets int32 [...] with hidden's leading shape.
 *
 * Rows whose target is ignoreIndex are dropped first (they neither cost GEMM work nor receive
 * gradient). The rest go through in chunks: logits = h W^T into one reused buffer, per-row loss
 * and log-sum-exp, and, when gradients are wanted, dLogits in place of the logits, then
 * dh = dLogits W and dW += dLogits^T h. The gradients are computed during the forward pass, for an
 * upstream gradient of 1, and scaled by the actual upstream gradient in backward (which therefore
 * costs nothing but that scaling). Reductions "mean" (over non-ignored targets; NaN when there are
 * none, as PyTorch) and "sum", with PyTorch's label smoothing.
 */
export function linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: Tensor, opts: LinearCrossEntropyOptions = {}): Tensor {
  checkFloat("linearCrossEntropy", hidden, "hidden");
  checkFloat("linearCrossEntropy", weight, "weight");
  checkInt("linearCrossEntropy", targets, "targets");
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? "mean";
  if (!(smoothing >= 0 && smoothing <= 1)) throw new Error(`linearCrossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  if (reduction !== "mean" && reduction !== "sum") throw new Error(`linearCrossEntropy: reduction must be "mean" or "sum", got "${String(reduction)}"`);
  if (weight.ndim !== 2) throw new Error(`linearCrossEntropy: weight must be 2-D [V, C], got ${formatShape(weight.shape)}`);
  const [V, C] = weight.shape;
  if (hidden.ndim < 1 || hidden.shape[hidden.ndim - 1] !== C) {
    throw new Error(`linearCrossEntropy: hidden of shape ${formatShape(hidden.shape)} does not match weight of shape ${formatShape(weight.shape)} (last dim must be ${C})`);
  }
  const lead = hidden.shape.slice(0, -1);
  if (targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new Error(`linearCrossEntropy: targets of shape ${formatShape(targets.shape)} must match the hidden states' shape ${formatShape(hidden.shape)} without its last dim`);
  }
  const chunkOpt = opts.chunkRows;
  if (chunkOpt !== undefined && !(Number.isInteger(chunkOpt) && chunkOpt > 0)) throw new Error(`linearCrossEntropy: chunkRows must be a positive integer, got ${chunkOpt}`);
  const rows = targets.size;
  const t = i32(targets);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignoreIndex) continue;
    if (t[r] < 0 || t[r] >= V) throw new Error(`linearCrossEntropy: target ${t[r]} at position ${r} is out of range for ${V} classes (ignoreIndex is ${ignoreIndex})`);
    count++;
  }
  const hd = f32(hidden);
  // The rows that count, packed (a view of hidden when none is ignored).
  let keep: Int32Array | null = null;
  let hv = hd;
  let tv = t;
  if (count < rows) {
    keep = new Int32Array(count);
    hv = emptyF32(count * C);
    tv = new Int32Array(count);
    for (let r = 0, j = 0; r < rows; r++) {
      if (t[r] === ignoreIndex) continue;
      keep[j] = r;
      tv[j] = t[r];
      hv.set(hd.subarray(r * C, (r + 1) * C), j * C);
      j++;
    }
  }
  const W = gemmLayout(weight);
  const wd = W.t.data as Float32Array;
  const k = kernels();
  const wantH = hidden.requiresGrad;
  const wantW = weight.requiresGrad;
  // Equal chunks (1020 rows at a 333-row limit: 4 x 255, not 3 x 333 + 21, whose last chunk would
  // still pay a full pass over dW and a packing of W for 21 rows).
  const maxChunk = Math.max(1, chunkOpt ?? Math.max(64, Math.floor(LCE_CHUNK_FLOATS / Math.max(V, 1))));
  const chunk = Math.max(1, Math.ceil(count / Math.max(1, Math.ceil(count / maxChunk))));
  const loss = new Float32Array(chunk);
  const lse = new Float32Array(chunk);
  const gLoss = new Float32Array(chunk).fill(reduction === "sum" ? 1 : 1 / count);

  /** One pass over the chunks; with grads, fills gh [count, C] and gw [V, C] for an upstream gradient of 1. */
  const run = (gh: Float32Array | null, gw: Float32Array | null): number => {
    const grads = gh !== null || gw !== null;
    const buf = lceBuffer(chunk * V);
    let total = 0;
    for (let r0 = 0; r0 < count; r0 += chunk) {
      const nr = Math.min(chunk, count - r0);
      const tc = tv.subarray(r0, r0 + nr);
      // logits[nr, V] = h[r0:r0+nr] @ W^T
      k.gemm(false, !W.trans, nr, V, C, 1, hv, r0 * C, Math.max(C, 1), 0, wd, W.t.offset, W.ld, 0, 0, buf, 0, Math.max(V, 1), 0, 1);
      k.crossEntropy(buf, tc, loss, lse, nr, V, ignoreIndex, smoothing);
      for (let r = 0; r < nr; r++) total += loss[r];
      if (!grads) continue;
      k.crossEntropyBackward(buf, tc, lse, gLoss, buf, nr, V, ignoreIndex, smoothing); // in place
      // dh[nr, C] = dLogits[nr, V] @ W[V, C]
      if (gh) k.gemm(false, W.trans, nr, C, V, 1, buf, 0, Math.max(V, 1), 0, wd, W.t.offset, W.ld, 0, 0, gh, r0 * C, Math.max(C, 1), 0, 1);
      // dW[V, C] (+)= dLogits^T[V, nr] @ h[nr, C]
      if (gw) k.gemm(true, false, V, C, nr, 1, buf, 0, Math.max(V, 1), 0, hv, r0 * C, Math.max(C, 1), 0, r0 > 0 ? 1 : 0, gw, 0, Math.max(C, 1), 0, 1);
    }
    return total;
  };
  const newGrads = (): [Float32Array | null, Float32Array | null] => [
    wantH && count > 0 ? emptyF32(count * C) : wantH ? new Float32Array(0) : null,
    wantW ? (count > 0 && C > 0 ? emptyF32(V * C) : new Float32Array(V * C)) : null,
  ];
  const recording = isGradEnabled() && (wantH || wantW);
  let [gh, gw] = recording ? newGrads() : [null, null];
  const total = count > 0 ? run(gh, gw) : 0;
  const out = new Tensor(new Float32Array([reduction === "sum" ? total : total / count]), []);
  return record("linearCrossEntropy", out, [hidden, weight], (g) => {
    // The gradients of the forward pass serve the first backward; a later one (retainGraph)
    // recomputes them, since the first ones now belong to the caller (who may scale them in place).
    if (!gh && !gw) {
      [gh, gw] = newGrads();
      if (count > 0) run(gh, gw);
    }
    const s = g.item();
    let ghc = gh;
    let gwc = gw;
    gh = gw = null;
    if (s !== 1) {
      if (ghc) k.unary(UnaryOp.Scale, ghc, ghc, ghc.length, s);
      if (gwc) k.unary(UnaryOp.Scale, gwc, gwc, gwc.length, s);
    }
    let gHidden: Tensor | null = null;
    if (ghc) {
      if (keep) {
        const full = new Float32Array(rows * C); // ignored rows get zero
        for (let j = 0; j < count; j++) full.set(ghc.subarray(j * C, (j + 1) * C), keep[j] * C);
        ghc = full;
      }
      gHidden = new Tensor(ghc, hidden.shape);
    }
    return [gHidden, gwc ? new Tensor(gwc, weight.shape) : null];
  });
}
