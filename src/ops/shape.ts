// Shape ops with gradients: views (reshape, permute, transpose, slice, narrow, expand, squeeze,
// unsqueeze, contiguous), concatenation (cat, stack), splitting (split, chunk) and indexing
// (indexSelect, gather).
//
// Views share storage with their input; their backward maps the gradient back through the inverse
// view (a reshape, an inverse permutation, a zero-padded placement for slices, a sum for expand).
import { record } from "../autograd/engine.js";
import { Tensor, formatShape, normAxis, shapeSize } from "../tensor/tensor.js";
import {
  contiguousRaw,
  expandRaw,
  inferReshape,
  narrowRaw,
  permuteRaw,
  reshapeRaw,
  sliceRaw,
  squeezeRaw,
  transposeRaw,
  unsqueezeRaw,
} from "../tensor/views.js";
import { checkInt, f32, i32, sumToShape } from "./util.js";

function checkTensor(op: string, x: Tensor): void {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${x === null ? "null" : typeof x}`);
}

/** Writes src (any layout) into the region of a zero tensor of `shape` selected by `view`. */
function placeInZeros(shape: readonly number[], view: (z: Tensor) => Tensor, src: Tensor): Tensor {
  const z = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const region = view(z);
  copyInto(region, src);
  return z;
}

/** Copies src's values into the (possibly strided) view dst of the same shape. */
export function copyInto(dst: Tensor, src: Tensor): void {
  const c = contiguousRaw(src);
  const nd = dst.ndim;
  const n = dst.size;
  const idx = new Array<number>(nd).fill(0);
  let pos = dst.offset;
  for (let i = 0; i < n; i++) {
    dst.data[pos] = c.data[c.offset + i];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      pos += dst.strides[d];
      if (idx[d] < dst.shape[d]) break;
      pos -= dst.strides[d] * dst.shape[d];
      idx[d] = 0;
    }
  }
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("reshape", x);
  const out = reshapeRaw(x, shape);
  return record("reshape", out, [x], (g) => [reshapeRaw(g, x.shape)]);
}

/** Same as reshape (tslm copies when a view is impossible, as torch.reshape). */
export const view = reshape;

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis(startDim, x.ndim, "flatten");
  const e = normAxis(endDim, x.ndim, "flatten");
  const shape = [...x.shape.slice(0, s), shapeSize(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor("permute", x);
  const out = permuteRaw(x, dims);
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => (inv[normAxis(d, x.ndim, "permute")] = i));
  return record("permute", out, [x], (g) => [permuteRaw(g, inv)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor("transpose", x);
  const out = transposeRaw(x, dim0, dim1);
  return record("transpose", out, [x], (g) => [transposeRaw(g, dim0, dim1)]);
}

/** Python-style x[..., start:stop:step, ...] on one dim (negative start/stop count from the end). */
export function slice(x: Tensor, dim: number, start = 0, stop = Infinity, step = 1): Tensor {
  checkTensor("slice", x);
  const out = sliceRaw(x, dim, start, stop, step);
  return record("slice", out, [x], (g) => [placeInZeros(x.shape, (z) => sliceRaw(z, dim, start, stop, step), g)]);
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor("narrow", x);
  const out = narrowRaw(x, dim, start, length);
  const d = normAxis(dim, x.ndim, "narrow");
  const s = start < 0 ? start + x.shape[d] : start;
  return record("narrow", out, [x], (g) => [narrowBackward(x.shape, d, s, g)]);
}

/**
 * The gradient of a narrow: zeros with g placed in the narrowed block. The block is `outer` runs
 * of `length * inner` contiguous elements, so each run is one typed-array copy (memcpy speed) —
 * this is the backward of every q/k/v split and of cache slicing, so it is hot.
 */
function narrowBackward(shape: readonly number[], d: number, startIndex: number, g: Tensor): Tensor {
  const n = shapeSize(shape);
  const out = new Float32Array(n);
  const inner = shapeSize(shape.slice(d + 1));
  const outer = shapeSize(shape.slice(0, d));
  const row = shape[d] * inner;
  const run = g.shape[d] * inner;
  const start = startIndex * inner;
  const gd = f32(g);
  for (let o = 0; o < outer; o++) out.set(gd.subarray(o * run, (o + 1) * run), o * row + start);
  return new Tensor(out, shape);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("expand", x);
  const out = expandRaw(x, shape);
  return record("expand", out, [x], (g) => [sumToShape(g, x.shape)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor("unsqueeze", x);
  const out = unsqueezeRaw(x, dim);
  return record("unsqueeze", out, [x], (g) => [reshapeRaw(g, x.shape)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor("squeeze", x);
  const out = squeezeRaw(x, dim);
  return record("squeeze", out, [x], (g) => [reshapeRaw(g, x.shape)]);
}

export function contiguous(x: Tensor): Tensor {
  checkTensor("contiguous", x);
  if (x.isContiguous()) return x;
  const out = contiguousRaw(x);
  return record("contiguous", out, [x], (g) => [g]);
}

/** Concatenates along an existing dim; all other dims must match. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("cat: expected a non-empty array of tensors");
  xs.forEach((x) => checkTensor("cat", x));
  const nd = xs[0].ndim;
  const d = normAxis(dim, nd, "cat");
  const dtype = xs[0].dtype;
  for (const [i, x] of xs.entries()) {
    if (x.dtype !== dtype) throw new Error(`cat: tensor ${i} has dtype ${x.dtype}, tensor 0 has ${dtype}`);
    if (x.ndim !== nd || x.shape.some((s: number, k: number) => k !== d && s !== xs[0].shape[k])) {
      throw new Error(`cat: tensor ${i} of shape ${formatShape(x.shape)} does not match tensor 0 of shape ${formatShape(xs[0].shape)} outside dim ${d}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
  const outer = shapeSize(shape.slice(0, d));
  const inner = shapeSize(shape.slice(d + 1));
  const total = shape[d] * inner;
  const out = dtype === "float32" ? new Float32Array(shapeSize(shape)) : new Int32Array(shapeSize(shape));
  let at = 0;
  for (const x of xs) {
    const c = contiguousRaw(x);
    const w = x.shape[d] * inner;
    for (let o = 0; o < outer; o++) {
      out.set(c.data.subarray(c.offset + o * w, c.offset + (o + 1) * w), o * total + at);
    }
    at += w;
  }
  const result = new Tensor(out, shape);
  const starts: number[] = [];
  let s = 0;
  for (const x of xs) {
    starts.push(s);
    s += x.shape[d];
  }
  return record("cat", result, xs, (g) => xs.map((x, i) => (x.requiresGrad ? narrowRaw(g, d, starts[i], x.shape[d]) : null)));
}

/** Joins tensors of one shape along a new dim. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("stack: expected a non-empty array of tensors");
  for (const [i, x] of xs.entries()) {
    checkTensor("stack", x);
    if (x.ndim !== xs[0].ndim || x.shape.some((s: number, k: number) => s !== xs[0].shape[k])) {
      throw new Error(`stack: tensor ${i} of shape ${formatShape(x.shape)} differs from tensor 0 of shape ${formatShape(xs[0].shape)}`);
    }
  }
  const d = normAxis(dim, xs[0].ndim + 1, "stack");
  return cat(
    xs.map((x) => unsqueeze(x, d)),
    d,
  );
}

/** Splits into pieces of `size` (the last may be smaller) or of the given sizes, along dim. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  checkTensor("split", x);
  const d = normAxis(dim, x.ndim, "split");
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new Error(`split: size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
  } else {
    sizes = [...sizeOrSections];
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== n || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new Error(`split: sections [${sizes.join(", ")}] must be non-negative integers summing to ${n}, the size of dim ${d} of shape ${formatShape(x.shape)}`);
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

/** Splits into `chunks` nearly equal pieces (torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normAxis(dim, x.ndim, "chunk");
  if (!Number.isInteger(chunks) || chunks <= 0) throw new Error(`chunk: chunks must be a positive integer, got ${chunks}`);
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}

function checkIndexRange(op: string, idx: Int32Array, n: number, dim: number): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= n) throw new Error(`${op}: index ${idx[i]} at position ${i} is out of range for dim ${dim} of size ${n}`);
  }
}

/** Rows of x along dim picked by a 1-D int32 index (repeats allowed). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor("indexSelect", x);
  checkInt("indexSelect", index, "index");
  if (index.ndim !== 1) throw new Error(`indexSelect: index must be 1-D, got shape ${formatShape(index.shape)}`);
  const d = normAxis(dim, x.ndim, "indexSelect");
  const idx = i32(index);
  checkIndexRange("indexSelect", idx, x.shape[d], d);
  const c = contiguousRaw(x);
  const outer = shapeSize(x.shape.slice(0, d));
  const inner = shapeSize(x.shape.slice(d + 1));
  const n = x.shape[d];
  const shape = [...x.shape];
  shape[d] = idx.length;
  const out = x.dtype === "float32" ? new Float32Array(shapeSize(shape)) : new Int32Array(shapeSize(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const src = c.offset + (o * n + idx[j]) * inner;
      out.set(c.data.subarray(src, src + inner), (o * idx.length + j) * inner);
    }
  }
  return record("indexSelect", new Tensor(out, shape), [x], (g) => {
    const gd = f32(g);
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < idx.length; j++) {
        const dst = (o * n + idx[j]) * inner;
        const src = (o * idx.length + j) * inner;
        for (let k = 0; k < inner; k++) gx[dst + k] += gd[src + k];
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather); index has x's rank. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor("gather", x);
  checkInt("gather", index, "index");
  const d = normAxis(dim, x.ndim, "gather");
  if (index.ndim !== x.ndim || index.shape.some((s, k) => k !== d && s > x.shape[k])) {
    throw new Error(`gather: index of shape ${formatShape(index.shape)} must have the rank of the input ${formatShape(x.shape)} and no larger size outside dim ${d}`);
  }
  const idx = i32(index);
  checkIndexRange("gather", idx, x.shape[d], d);
  const shape = [...index.shape];
  const n = shapeSize(shape);
  const positions = new Int32Array(n); // storage position in x of each output element
  const linear = new Int32Array(n); // row-major logical index in x (distinct even for expanded views)
  const xStrides = shape.map((_s, k) => shapeSize(x.shape.slice(k + 1)));
  const ix = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let pos = x.offset;
    let lin = 0;
    for (let k = 0; k < shape.length; k++) {
      const at = k === d ? idx[o] : ix[k];
      pos += at * x.strides[k];
      lin += at * xStrides[k];
    }
    positions[o] = pos;
    linear[o] = lin;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++ix[k] < shape[k]) break;
      ix[k] = 0;
    }
  }
  const out = x.dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
  for (let o = 0; o < n; o++) out[o] = x.data[positions[o]];
  return record("gather", new Tensor(out, shape), [x], (g) => {
    const gd = f32(g);
    const gx = new Float32Array(x.size);
    for (let o = 0; o < n; o++) gx[linear[o]] += gd[o];
    return [new Tensor(gx, x.shape)];
  });
}

export { inferReshape };
