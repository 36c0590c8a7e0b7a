// Views: new shapes and strides over the same storage, plus the copy that makes data contiguous.
//
// These are the raw (non-differentiable) forms; src/ops/shape.ts wraps each with its backward rule.
// Every function validates its arguments and names itself in errors.
import { kernels } from "../kernels/index.js";
import { emptyF32 } from "./storage.js";
import { Tensor, checkShape, contiguousStrides, formatShape, normAxis, shapeSize } from "./tensor.js";

/** Resolves a single -1 in a requested shape against `numel`. */
export function inferReshape(shape: readonly number[], numel: number, op = "reshape"): number[] {
  const out = [...shape];
  let infer = -1;
  let known = 1;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === -1) {
      if (infer >= 0) throw new Error(`${op}: only one dimension can be -1, got ${formatShape(shape)}`);
      infer = i;
    } else if (!Number.isInteger(out[i]) || out[i] < 0) throw new Error(`${op}: invalid size ${out[i]} in ${formatShape(shape)}`);
    else known *= out[i];
  }
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) throw new Error(`${op}: shape ${formatShape(shape)} is invalid for ${numel} elements`);
    out[infer] = numel / known;
  }
  if (shapeSize(out) !== numel) throw new Error(`${op}: shape ${formatShape(shape)} is invalid for input of ${numel} elements`);
  return out;
}

/** A contiguous tensor with the same values (the tensor itself when already contiguous). */
export function contiguousRaw(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const n = t.size;
  const out = t.dtype === "float32" ? emptyF32(n) : new Int32Array(n);
  kernels().copyStrided(Int32Array.from(t.shape), t.data, t.offset, Int32Array.from(t.strides), out, 0);
  return new Tensor(out, t.shape);
}

/** Strides for viewing `t` as `shape` without copying, or null when the layout does not allow it. */
function viewStrides(t: Tensor, shape: number[]): number[] | null {
  if (t.isContiguous()) return contiguousStrides(shape);
  // Merge the old dims into contiguous chunks, then split each chunk over the new dims (the
  // algorithm behind PyTorch's view): a chunk is a run of dims where stride[i] = stride[i+1]*size[i+1].
  const oldShape = t.shape.filter((d) => d !== 1);
  const oldStrides = t.strides.filter((_s, i) => t.shape[i] !== 1);
  const newStrides = new Array<number>(shape.length).fill(0);
  let oi = 0;
  let ni = 0;
  while (oi < oldShape.length) {
    // Find the chunk [oi, oj] of old dims.
    let oj = oi;
    let chunk = oldShape[oi];
    while (oj + 1 < oldShape.length && oldStrides[oj] === oldStrides[oj + 1] * oldShape[oj + 1]) {
      oj++;
      chunk *= oldShape[oj];
    }
    const baseStride = oldStrides[oj];
    // Take new dims until their product equals the chunk.
    let prod = 1;
    const start = ni;
    while (ni < shape.length && prod < chunk) {
      prod *= shape[ni];
      ni++;
    }
    while (ni < shape.length && shape[ni] === 1 && prod === chunk) ni++;
    if (prod !== chunk) return null;
    let s = baseStride;
    for (let k = ni - 1; k >= start; k--) {
      newStrides[k] = s;
      s *= shape[k];
    }
    oi = oj + 1;
  }
  for (; ni < shape.length; ni++) if (shape[ni] !== 1) return null;
  return newStrides;
}

/** A view with a new shape when the layout allows, else a contiguous copy (like torch.reshape). */
export function reshapeRaw(t: Tensor, shape: readonly number[]): Tensor {
  const s = inferReshape(shape, t.size);
  const strides = viewStrides(t, s);
  if (strides) return new Tensor(t.data, s, strides, t.offset);
  const c = contiguousRaw(t);
  return new Tensor(c.data, s, contiguousStrides(s), c.offset);
}

export function permuteRaw(t: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== t.ndim) throw new Error(`permute: expected ${t.ndim} dims for shape ${formatShape(t.shape)}, got [${dims.join(", ")}]`);
  const seen = new Set<number>();
  const d = dims.map((x) => normAxis(x, t.ndim, "permute"));
  for (const x of d) {
    if (seen.has(x)) throw new Error(`permute: repeated dim in [${dims.join(", ")}]`);
    seen.add(x);
  }
  return new Tensor(
    t.data,
    d.map((i) => t.shape[i]),
    d.map((i) => t.strides[i]),
    t.offset,
  );
}

export function transposeRaw(t: Tensor, dim0: number, dim1: number): Tensor {
  const a = normAxis(dim0, t.ndim, "transpose");
  const b = normAxis(dim1, t.ndim, "transpose");
  const perm = [...Array(t.ndim).keys()];
  perm[a] = b;
  perm[b] = a;
  return permuteRaw(t, perm);
}

/** Elements start, start+step, ... below stop along dim (Python slice semantics, step > 0). */
export function sliceRaw(t: Tensor, dim: number, start = 0, stop = Infinity, step = 1): Tensor {
  const d = normAxis(dim, t.ndim, "slice");
  const n = t.shape[d];
  if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clamp = (x: number) => Math.min(Math.max(x < 0 ? x + n : x, 0), n);
  const s = clamp(start);
  const e = clamp(stop === Infinity ? n : stop);
  const len = e > s ? Math.ceil((e - s) / step) : 0;
  const shape = [...t.shape];
  const strides = [...t.strides];
  shape[d] = len;
  strides[d] = t.strides[d] * step;
  return new Tensor(t.data, shape, strides, t.offset + (len > 0 ? s * t.strides[d] : 0));
}

/** length elements from start along dim (torch.narrow: the range must lie inside the tensor). */
export function narrowRaw(t: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis(dim, t.ndim, "narrow");
  const n = t.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${n} (shape ${formatShape(t.shape)})`);
  }
  return sliceRaw(t, d, s, s + length, 1);
}

/** Broadcasts size-1 dims (and new leading dims) to `shape`; -1 keeps a size. Stride 0 views. */
export function expandRaw(t: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < t.ndim) throw new Error(`expand: cannot expand shape ${formatShape(t.shape)} to fewer dims ${formatShape(shape)}`);
  const lead = shape.length - t.ndim;
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const want = shape[i];
    if (i < lead) {
      if (want === -1) throw new Error(`expand: -1 is not allowed for a new leading dim in ${formatShape(shape)}`);
      checkShape([want], "expand");
      outShape.push(want);
      outStrides.push(0);
      continue;
    }
    const have = t.shape[i - lead];
    const size = want === -1 ? have : want;
    if (size === have) {
      outShape.push(have);
      outStrides.push(t.strides[i - lead]);
    } else if (have === 1) {
      checkShape([size], "expand");
      outShape.push(size);
      outStrides.push(0);
    } else {
      throw new Error(`expand: the size ${have} at dim ${i - lead} of shape ${formatShape(t.shape)} must be 1 to expand to ${formatShape(shape)}`);
    }
  }
  return new Tensor(t.data, outShape, outStrides, t.offset);
}

export function unsqueezeRaw(t: Tensor, dim: number): Tensor {
  const d = normAxis(dim, t.ndim + 1, "unsqueeze");
  const shape = [...t.shape];
  const strides = [...t.strides];
  const s = d < t.ndim ? t.strides[d] * t.shape[d] : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, s);
  return new Tensor(t.data, shape, strides, t.offset);
}

/** Removes size-1 dims: the given one (a no-op when its size is not 1, as in PyTorch), or all. */
export function squeezeRaw(t: Tensor, dim?: number): Tensor {
  const keep = (i: number) => (dim === undefined ? t.shape[i] !== 1 : i !== normAxis(dim, t.ndim, "squeeze") || t.shape[i] !== 1);
  const idx = [...Array(t.ndim).keys()].filter(keep);
  return new Tensor(
    t.data,
    idx.map((i) => t.shape[i]),
    idx.map((i) => t.strides[i]),
    t.offset,
  );
}

/** The shape both operands broadcast to (NumPy rules); the error names the op and both shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `t` as if broadcast to `shape` (stride 0 on broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): Int32Array {
  const lead = shape.length - t.ndim;
  const out = new Int32Array(shape.length);
  for (let i = lead; i < shape.length; i++) out[i] = t.shape[i - lead] === 1 && shape[i] !== 1 ? 0 : t.strides[i - lead];
  return out;
}
