// Matrix products: matmul (torch.matmul semantics, batched with broadcasting) and linear.
//
// Glossary: M, K, N matrix dims (A is M x K, B is K x N); batch dims broadcast NumPy-style.
// Transposed operands are passed to the GEMM kernel as transA / transB with their leading dimension,
// so x.transpose(-1, -2) costs no copy. Batch dims that can be walked with one stride go to the
// kernel as its batch; others are looped here.
import { record } from "../autograd/engine.js";
import { ReduceOp, kernels } from "../kernels/index.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { broadcastShapes, contiguousRaw, transposeRaw } from "../tensor/views.js";
import { squeeze, unsqueeze } from "./shape.js";
import { checkFloat, f32, gemmLayout, sumToShape } from "./util.js";

/** C = A @ B for A [...batchA, M, K], B [...batchB, K, N] (both at least 2-D). Raw. */
function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const N = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== K) {
    throw new Error(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not align (${K} != ${b.shape[b.ndim - 2]})`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul");
  // Zero-filled only when the GEMM will not write it (K = 0: the product of nothing is 0).
  const out = K === 0 ? new Float32Array(shapeSize(batch) * M * N) : emptyF32(shapeSize(batch) * M * N);
  const C = new Tensor(out, [...batch, M, N]);
  if (out.length === 0) return C;
  if (K === 0) return C;
  const A = gemmLayout(a);
  const B = gemmLayout(b);
  const nb = batch.length;
  const bStr = (t: Tensor): number[] => {
    const lead = nb - (t.ndim - 2);
    return batch.map((s, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
  };
  const aStr = bStr(A.t);
  const bStrd = bStr(B.t);
  const k = kernels();
  // Fold the batch into M when B is shared by all batches and A's batch and row dims are one
  // stride-walk (the x @ W case): one big GEMM instead of many small ones.
  const bShared = bStrd.every((s) => s === 0);
  if (bShared && !A.trans && nb > 0) {
    let ok = true;
    let expect = A.ld * M;
    for (let i = nb - 1; i >= 0; i--) {
      if (batch[i] !== 1 && aStr[i] !== expect) ok = false;
      expect *= batch[i];
    }
    if (ok) {
      k.gemm(false, B.trans, shapeSize(batch) * M, N, K, 1, A.t.data as Float32Array, A.t.offset, A.ld, 0, B.t.data as Float32Array, B.t.offset, B.ld, 0, 0, out, 0, N, 0, 1);
      return C;
    }
  }
  // Innermost batch dim goes to the kernel; outer ones are looped.
  const innerB = nb > 0 ? batch[nb - 1] : 1;
  const innerSA = nb > 0 ? aStr[nb - 1] : 0;
  const innerSB = nb > 0 ? bStrd[nb - 1] : 0;
  const outerShape = batch.slice(0, -1);
  const outerN = shapeSize(outerShape);
  const idx = new Array<number>(outerShape.length).fill(0);
  for (let o = 0; o < outerN; o++) {
    let aOff = A.t.offset;
    let bOff = B.t.offset;
    for (let i = 0; i < outerShape.length; i++) {
      aOff += idx[i] * aStr[i];
      bOff += idx[i] * bStrd[i];
    }
    k.gemm(A.trans, B.trans, M, N, K, 1, A.t.data as Float32Array, aOff, A.ld, innerSA, B.t.data as Float32Array, bOff, B.ld, innerSB, 0, out, o * innerB * M * N, N, M * N, innerB);
    for (let i = outerShape.length - 1; i >= 0; i--) {
      if (++idx[i] < outerShape[i]) break;
      idx[i] = 0;
    }
  }
  return C;
}

/** The 2-D+ core with its backward: dA = dC @ B^T, dB = A^T @ dC, reduced over broadcast batches. */
function matmul2(a: Tensor, b: Tensor): Tensor {
  const out = matmulRaw(a, b);
  return record("matmul", out, [a, b], (g) => [
    a.requiresGrad ? sumToShape(matmulRaw(g, transposeRaw(b, -1, -2)), a.shape) : null,
    b.requiresGrad ? sumToShape(matmulRaw(transposeRaw(a, -1, -2), g), b.shape) : null,
  ]);
}

/** torch.matmul: 1-D operands are promoted (and the added dim removed), batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkFloat("matmul", a, "a");
  checkFloat("matmul", b, "b");
  if (a.ndim === 0 || b.ndim === 0) throw new Error(`matmul: both operands need at least 1 dim, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, -1) : b;
  if (a2.shape[a2.ndim - 1] !== b2.shape[b2.ndim - 2]) {
    throw new Error(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not align (${a2.shape[a2.ndim - 1]} != ${b2.shape[b2.ndim - 2]})`);
  }
  let out = matmul2(a2, b2);
  if (b.ndim === 1) out = squeeze(out, -1);
  if (a.ndim === 1) out = squeeze(out, out.ndim === 1 && b.ndim === 1 ? 0 : -2);
  return out;
}

/**
 * y = x W^T + b (torch.nn.functional.linear): x [..., in], weight [out, in], bias [out].
 * Forward and backward are single GEMMs over all rows of x.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return linearImpl("linear", x, weight, bias, false);
}

/**
 * y = x W + b with the weight stored [in, out] (GPT-2's Conv1D, torch.addmm): the same as
 * linear(x, weight.T, bias), but the weight's gradient is computed in its own [in, out] layout
 * (x^T g), not as a transposed [out, in] result that the transpose's backward would then copy.
 */
export function linearInOut(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return linearImpl("linearInOut", x, weight, bias, true);
}

/** linear (io false: weight [O, I]) and linearInOut (io true: weight [I, O]). */
function linearImpl(name: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, io: boolean): Tensor {
  checkFloat(name, x, "input");
  checkFloat(name, weight, "weight");
  const dims = io ? "[in, out]" : "[out, in]";
  if (weight.ndim !== 2) throw new Error(`${name}: weight must be 2-D ${dims}, got ${formatShape(weight.shape)}`);
  const [O, I] = io ? [weight.shape[1], weight.shape[0]] : weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== I) {
    throw new Error(`${name}: input of shape ${formatShape(x.shape)} does not match weight of shape ${formatShape(weight.shape)} (last dim must be ${I})`);
  }
  if (bias) {
    checkFloat(name, bias, "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new Error(`${name}: bias of shape ${formatShape(bias.shape)} does not match weight of shape ${formatShape(weight.shape)}`);
  }
  const rows = x.size / Math.max(I, 1);
  const xd = f32(x);
  const W = gemmLayout(weight);
  // op(W) as the GEMM's B operand: [I, O] for the forward product, [O, I] for gx. A weight stored
  // [O, I] (linear) is transposed for the forward; one stored [I, O] (linearInOut) for gx.
  const wFwdTrans = io ? W.trans : !W.trans;
  // The GEMM writes every element (beta 0, the bias added as it stores each tile).
  const out = emptyF32(rows * O);
  const k = kernels();
  if (rows > 0 && O > 0) {
    // out[rows, O] = x[rows, I] @ op(W)[I, O] + bias
    const bd = bias ? f32(bias) : null;
    k.gemm(false, wFwdTrans, rows, O, I, 1, xd, 0, Math.max(I, 1), 0, W.t.data as Float32Array, W.t.offset, W.ld, 0, 0, out, 0, Math.max(O, 1), 0, 1, bd, 0);
  }
  const y = new Tensor(out, [...x.shape.slice(0, -1), O]);
  return record(name, y, [x, weight, bias ?? null], (g) => {
    const gd = f32(g);
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      // gx[rows, I] = g[rows, O] @ op(W)[O, I]
      const buf = O === 0 ? new Float32Array(rows * I) : emptyF32(rows * I);
      k.gemm(false, !wFwdTrans, rows, I, O, 1, gd, 0, Math.max(O, 1), 0, W.t.data as Float32Array, W.t.offset, W.ld, 0, 0, buf, 0, Math.max(I, 1), 0, 1);
      gx = new Tensor(buf, x.shape);
    }
    if (weight.requiresGrad) {
      const buf = rows === 0 ? new Float32Array(O * I) : emptyF32(O * I);
      // linear: gw[O, I] = g^T[O, rows] @ x[rows, I];  linearInOut: gw[I, O] = x^T[I, rows] @ g[rows, O]
      if (io) k.gemm(true, false, I, O, rows, 1, xd, 0, Math.max(I, 1), 0, gd, 0, Math.max(O, 1), 0, 0, buf, 0, Math.max(O, 1), 0, 1);
      else k.gemm(true, false, O, I, rows, 1, gd, 0, Math.max(O, 1), 0, xd, 0, Math.max(I, 1), 0, 0, buf, 0, Math.max(I, 1), 0, 1);
      gw = new Tensor(buf, weight.shape);
    }
    if (bias && bias.requiresGrad) {
      const buf = emptyF32(O);
      k.reduce(ReduceOp.Sum, gd, buf, 1, rows, O);
      gb = new Tensor(buf, bias.shape);
    }
    return [gx, gw, gb];
  });
}
