// Helpers shared by the differentiable ops: dtype checks, contiguous data, broadcast reduction.
import { kernels, ReduceOp } from "../kernels/index.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { emptyF32 } from "../tensor/storage.js";
import { contiguousRaw } from "../tensor/views.js";

/** Throws unless t is a float32 tensor; names the op and the argument. */
export function checkFloat(op: string, t: Tensor, arg = "input"): void {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${arg} must be a Tensor, got ${typeof t}`);
  if (t.dtype !== "float32") throw new Error(`${op}: ${arg} must be float32, got ${t.dtype}`);
}

export function checkInt(op: string, t: Tensor, arg = "indices"): void {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${arg} must be a Tensor, got ${typeof t}`);
  if (t.dtype !== "int32") throw new Error(`${op}: ${arg} must be int32, got ${t.dtype}`);
}

/** The elements of a float tensor as a contiguous Float32Array starting at index 0 (no copy when possible). */
export function f32(t: Tensor): Float32Array {
  const c = contiguousRaw(t);
  const d = c.data as Float32Array;
  const n = c.size;
  return c.offset === 0 && d.length === n ? d : d.subarray(c.offset, c.offset + n);
}

export function i32(t: Tensor): Int32Array {
  const c = contiguousRaw(t);
  const d = c.data as Int32Array;
  const n = c.size;
  return c.offset === 0 && d.length === n ? d : d.subarray(c.offset, c.offset + n);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A new float32 tensor over fresh storage. */
export function fromF32(data: Float32Array, shape: readonly number[]): Tensor {
  return new Tensor(data, shape);
}

/**
 * Sum over one axis of a contiguous float tensor, keeping the axis with size 1. Raw (no autograd).
 */
export function sumAxisKeep(x: Tensor, axis: number): Tensor {
  const shape = [...x.shape];
  const outer = shapeSize(shape.slice(0, axis));
  const dim = shape[axis];
  const inner = shapeSize(shape.slice(axis + 1));
  const out = emptyF32(outer * inner);
  kernels().reduce(ReduceOp.Sum, f32(x), out, outer, dim, inner);
  shape[axis] = 1;
  return new Tensor(out, shape);
}

/**
 * Reduces a gradient of a broadcast result back to an input's shape: sums the leading dims the
 * input did not have and the dims where the input had size 1. Raw (used inside backward).
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new Error(`sumToShape: gradient of shape ${formatShape(g.shape)} cannot reduce to ${formatShape(shape)}`);
  let cur = contiguousRaw(g);
  for (let i = g.ndim - 1; i >= 0; i--) {
    const want = i < lead ? 1 : shape[i - lead];
    if (cur.shape[i] !== want) {
      if (want !== 1) throw new Error(`sumToShape: gradient of shape ${formatShape(g.shape)} cannot reduce to ${formatShape(shape)}`);
      cur = sumAxisKeep(cur, i);
    }
  }
  return new Tensor(cur.data, shape, undefined, cur.offset);
}

/**
 * Visits the broadcast of several tensors over `shape` in row-major order, calling
 * fn(outIndex, pos0, pos1, ...) with each operand's storage position. For non-hot ops (where,
 * maskedFill, gather); hot paths use kernels.
 */
export function forEachBroadcast(shape: readonly number[], strides: Int32Array[], offsets: number[], fn: (o: number, pos: number[]) => void): void {
  const nd = shape.length;
  const n = shapeSize(shape);
  if (n === 0) return;
  const pos = [...offsets];
  const idx = new Array<number>(nd).fill(0);
  for (let o = 0; o < n; o++) {
    fn(o, pos);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < pos.length; k++) pos[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (let k = 0; k < pos.length; k++) pos[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export interface MatLayout {
  t: Tensor;
  trans: boolean;
  ld: number;
}

/** How to hand the last two dims [R, C] of t to the GEMM: row-major, transposed, or copied. */
export function gemmLayout(t: Tensor): MatLayout {
  const nd = t.ndim;
  const R = t.shape[nd - 2];
  const C = t.shape[nd - 1];
  const rs = t.strides[nd - 2];
  const cs = t.strides[nd - 1];
  if ((cs === 1 || C === 1) && (rs >= C || R === 1) && rs > 0) return { t, trans: false, ld: R === 1 ? Math.max(C, 1) : rs };
  if ((rs === 1 || R === 1) && (cs >= R || C === 1) && cs > 0) return { t, trans: true, ld: C === 1 ? Math.max(R, 1) : cs };
  const c = contiguousRaw(t);
  return { t: c, trans: false, ld: Math.max(C, 1) };
}
