// Reductions: sum, mean, max/min (values and indices), var, argmax.
//
// dims may be a number, a list, or undefined for "all dims"; keepdim keeps reduced dims as size 1.
// Backward broadcasts the output gradient back over the reduced dims.
import { record } from "../autograd/engine.js";
import { ReduceOp, kernels } from "../kernels/index.js";
import { Tensor, normAxis, shapeSize } from "../tensor/tensor.js";
import { contiguousRaw, expandRaw, reshapeRaw } from "../tensor/views.js";
import { sub, mul, square } from "./elementwise.js";
import { checkFloat, f32 } from "./util.js";

export type Dims = number | readonly number[] | undefined | null;

/** Sorted unique non-negative axes; all axes when dims is undefined/null. */
export function normDims(dims: Dims, ndim: number, op: string): number[] {
  if (dims === undefined || dims === null) return [...Array(ndim).keys()];
  const list = typeof dims === "number" ? [dims] : [...dims];
  const out = [...new Set(list.map((d) => normAxis(d, ndim, op)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new Error(`${op}: repeated dim in [${list.join(", ")}]`);
  return out;
}

function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((s, i) => (axes.includes(i) ? 1 : s));
}

function droppedShape(shape: readonly number[], axes: number[]): number[] {
  return shape.filter((_s, i) => !axes.includes(i));
}

/** Raw reduction over the given axes of a float tensor, keepdim layout. */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  let cur = contiguousRaw(x);
  // Reduce the highest axis first so that lower axis numbers stay valid.
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k];
    const shape = [...cur.shape];
    const outer = shapeSize(shape.slice(0, a));
    const dim = shape[a];
    const inner = shapeSize(shape.slice(a + 1));
    const out = new Float32Array(outer * inner);
    kernels().reduce(op, f32(cur), out, outer, dim, inner);
    shape[a] = 1;
    cur = new Tensor(out, shape);
  }
  return cur;
}

export function sum(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  checkFloat("sum", x);
  const axes = normDims(dims, x.ndim, "sum");
  const kept = reduceRaw(ReduceOp.Sum, x, axes);
  const out = keepdim ? kept : reshapeRaw(kept, droppedShape(x.shape, axes));
  const kshape = keptShape(x.shape, axes);
  return record("sum", out, [x], (g) => [expandRaw(reshapeRaw(g, kshape), x.shape)]);
}

export function mean(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  checkFloat("mean", x);
  const axes = normDims(dims, x.ndim, "mean");
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const kept = reduceRaw(ReduceOp.Sum, x, axes);
  const kd = kept.data as Float32Array;
  for (let i = 0; i < kd.length; i++) kd[i] /= count;
  const out = keepdim ? kept : reshapeRaw(kept, droppedShape(x.shape, axes));
  const kshape = keptShape(x.shape, axes);
  return record("mean", out, [x], (g) => {
    const gd = f32(g);
    const scaled = new Float32Array(gd.length);
    for (let i = 0; i < gd.length; i++) scaled[i] = gd[i] / count;
    return [expandRaw(new Tensor(scaled, kshape), x.shape)];
  });
}

/**
 * Variance over dims with Bessel's correction by default (correction = 1, like torch.var);
 * correction = 0 gives the biased (population) variance.
 */
export function variance(x: Tensor, dims?: Dims, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  checkFloat("var", x);
  const axes = normDims(dims, x.ndim, "var");
  const correction = opts.correction ?? 1;
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const centered = sub(x, mean(x, axes, true));
  const s = sum(square(centered), axes, opts.keepdim ?? false);
  return mul(s, 1 / Math.max(0, count - correction));
}

export interface MaxResult {
  values: Tensor;
  indices: Tensor;
}

function extremum(op: "max" | "min", x: Tensor, dim: number | undefined, keepdim: boolean): Tensor | MaxResult {
  checkFloat(op, x);
  if (x.size === 0) throw new Error(`${op}: cannot reduce an empty tensor`);
  const sign = op === "max" ? 1 : -1;
  if (dim === undefined) {
    // Full reduction: the gradient is shared evenly among tied extrema (as PyTorch does).
    const flat = f32(x);
    let best = sign * -Infinity;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (v !== v) {
        best = NaN;
        break;
      }
      if (sign * v > sign * best) best = v;
    }
    const out = new Tensor(new Float32Array([best]), []);
    return record(op, out, [x], (g) => {
      const gx = new Float32Array(flat.length);
      let ties = 0;
      for (let i = 0; i < flat.length; i++) if (flat[i] === best) ties++;
      const share = g.item() / Math.max(ties, 1);
      for (let i = 0; i < flat.length; i++) if (flat[i] === best) gx[i] = share;
      return [new Tensor(gx, x.shape)];
    });
  }
  const a = normAxis(dim, x.ndim, op);
  const outer = shapeSize(x.shape.slice(0, a));
  const n = x.shape[a];
  const inner = shapeSize(x.shape.slice(a + 1));
  const src = f32(x);
  const data = sign > 0 ? src : Float32Array.from(src, (v) => -v);
  const idx = new Int32Array(outer * inner);
  kernels().argmax(data, idx, outer, n, inner);
  const vals = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) vals[o * inner + i] = src[(o * n + idx[o * inner + i]) * inner + i];
  const kshape = keptShape(x.shape, [a]);
  const oshape = keepdim ? kshape : droppedShape(x.shape, [a]);
  const values = record(op, new Tensor(vals, oshape), [x], (g) => {
    const gd = f32(g);
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) gx[(o * n + idx[o * inner + i]) * inner + i] = gd[o * inner + i];
    return [new Tensor(gx, x.shape)];
  });
  return { values, indices: new Tensor(idx, oshape) };
}

/** The maximum of all elements (a 0-d tensor). */
export function max(x: Tensor): Tensor;
/** Maximum values and their indices along dim. */
export function max(x: Tensor, dim: number, keepdim?: boolean): MaxResult;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | MaxResult {
  return extremum("max", x, dim, keepdim);
}

export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): MaxResult;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | MaxResult {
  return extremum("min", x, dim, keepdim);
}

/** Index of the maximum along dim (of the flattened tensor when dim is undefined); int32. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  checkFloat("argmax", x);
  if (dim === undefined) {
    const flat = f32(x);
    const out = new Int32Array(1);
    kernels().argmax(flat, out, 1, flat.length, 1);
    return new Tensor(out, []);
  }
  return (extremum("max", x, dim, keepdim) as MaxResult).indices;
}
