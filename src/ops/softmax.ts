// softmax and logSoftmax over any dim.
//
// The kernels work on the last axis of contiguous rows; another dim is moved last (a transpose and
// copy), computed, and moved back as a view.
import { record } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { Tensor, normAxis } from "../tensor/tensor.js";
import { contiguousRaw, transposeRaw } from "../tensor/views.js";
import { checkFloat, f32 } from "./util.js";

type RowFn = (x: Float32Array, y: Float32Array, rows: number, cols: number) => void;

/** Applies a row-wise kernel along `dim`, returning a tensor of x's shape. */
function alongDim(x: Tensor, dim: number, fn: RowFn): Tensor {
  const last = x.ndim - 1;
  const moved = dim === last ? x : transposeRaw(x, dim, last);
  const c = contiguousRaw(moved);
  const cols = c.shape[last];
  const rows = cols === 0 ? 0 : c.size / cols;
  const out = new Float32Array(c.size);
  fn(f32(c), out, rows, cols);
  const y = new Tensor(out, c.shape);
  return dim === last ? y : transposeRaw(y, dim, last);
}

type RowBackFn = (y: Float32Array, gy: Float32Array, gx: Float32Array, rows: number, cols: number) => void;

function alongDimBackward(y: Tensor, g: Tensor, dim: number, fn: RowBackFn): Tensor {
  const last = y.ndim - 1;
  const my = contiguousRaw(dim === last ? y : transposeRaw(y, dim, last));
  const mg = contiguousRaw(dim === last ? g : transposeRaw(g, dim, last));
  const cols = my.shape[last];
  const rows = cols === 0 ? 0 : my.size / cols;
  const out = new Float32Array(my.size);
  fn(f32(my), f32(mg), out, rows, cols);
  const gx = new Tensor(out, my.shape);
  return dim === last ? gx : transposeRaw(gx, dim, last);
}

export function softmax(x: Tensor, dim = -1): Tensor {
  checkFloat("softmax", x);
  if (x.ndim === 0) throw new Error("softmax: the input must have at least one dim");
  const d = normAxis(dim, x.ndim, "softmax");
  const k = kernels();
  const y = alongDim(x, d, k.softmax);
  return record("softmax", y, [x], (g) => [alongDimBackward(y, g, d, k.softmaxBackward)]);
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  checkFloat("logSoftmax", x);
  if (x.ndim === 0) throw new Error("logSoftmax: the input must have at least one dim");
  const d = normAxis(dim, x.ndim, "logSoftmax");
  const k = kernels();
  const y = alongDim(x, d, k.logSoftmax);
  return record("logSoftmax", y, [x], (g) => [alongDimBackward(y, g, d, k.logSoftmaxBackward)]);
}
