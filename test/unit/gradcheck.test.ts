// Finite-difference gradient checks of every differentiable op, on both kernel sets.
//
// The oracle is the function itself: gradcheck compares backward() with a Richardson-extrapolated
// central difference of sum(out * w) for random w (see src/autograd/gradcheck.ts). Inputs are kept
// away from kinks (relu/abs at 0, max ties) where the derivative is undefined.
import { beforeAll, describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { Generator, Tensor, gradcheck, useKernels } from "../../src/index.js";
import { KERNEL_SETS } from "../helpers.js";

const gen = new Generator(7);
function rn(shape: number[], opts: { lo?: number; hi?: number } = {}): Tensor {
  const lo = opts.lo ?? -1;
  const hi = opts.hi ?? 1;
  const t = T.rand(shape, { generator: gen, low: lo, high: hi });
  t.requiresGrad = true;
  return t;
}
function ids(values: number[], shape?: number[]): Tensor {
  return T.tensor(Int32Array.from(values), shape ?? [values.length]);
}

/** Asserts gradcheck passes, printing the first mismatches otherwise. */
function check(name: string, fn: (...x: Tensor[]) => Tensor, inputs: Tensor[], opts: { atol?: number; rtol?: number } = {}) {
  const r = gradcheck(fn, inputs, { atol: opts.atol ?? 2e-3, rtol: opts.rtol ?? 1e-2 });
  if (!r.ok) {
    throw new Error(`${name}: gradcheck failed (max abs error ${r.maxAbsError}); first: ${JSON.stringify(r.mismatches.slice(0, 3))}`);
  }
  expect(r.ok).toBe(true);
}

const cases: [string, () => void][] = [
  ["add broadcast", () => check("add", (a, b) => T.add(a, b), [rn([3, 1, 4]), rn([2, 1])])],
  ["sub broadcast", () => check("sub", (a, b) => T.sub(a, b), [rn([5]), rn([3, 1])])],
  ["mul broadcast", () => check("mul", (a, b) => T.mul(a, b), [rn([2, 3]), rn([3])])],
  ["div", () => check("div", (a, b) => T.div(a, b), [rn([2, 3]), rn([2, 3], { lo: 0.5, hi: 2 })])],
  ["pow scalar", () => check("pow", (a) => T.pow(a, 3), [rn([7])])],
  ["pow tensor", () => check("pow", (a, b) => T.pow(a, b), [rn([4], { lo: 0.5, hi: 2 }), rn([4])])],
  ["scalar ops", () => check("scalar", (a) => T.div(T.sub(T.mul(T.add(a, 2), 3), 1), 4), [rn([5])])],
  ["neg exp log", () => check("unary", (a) => T.log(T.exp(T.neg(a)).add(1)), [rn([6])])],
  ["sqrt rsqrt", () => check("sqrt", (a) => T.add(T.sqrt(a), T.rsqrt(a)), [rn([6], { lo: 0.5, hi: 2 })])],
  ["tanh sigmoid silu", () => check("act", (a) => T.add(T.add(T.tanh(a), T.sigmoid(a)), T.silu(a)), [rn([9], { lo: -3, hi: 3 })])],
  ["relu abs away from 0", () => check("relu", (a) => T.add(T.relu(a), T.abs(a)), [T.tensor([-1.5, -0.7, 0.3, 0.9, 2.1], { requiresGrad: true })])],
  ["gelu erf", () => check("gelu", (a) => T.gelu(a, "none"), [rn([11], { lo: -4, hi: 4 })])],
  ["gelu tanh", () => check("gelu", (a) => T.gelu(a, "tanh"), [rn([11], { lo: -4, hi: 4 })])],
  ["sum dims keepdim", () => check("sum", (a) => T.sum(a, [0, 2], true), [rn([2, 3, 4])])],
  ["mean all", () => check("mean", (a) => T.mean(a), [rn([3, 5])])],
  ["max dim", () => check("max", (a) => T.max(a, 1).values, [T.tensor([[0.1, 0.9, -0.3], [1.2, -2, 0.5]], { requiresGrad: true })])],
  ["var correction", () => check("var", (a) => T.variance(a, -1, { correction: 1 }), [rn([3, 7])])],
  ["matmul batched broadcast", () => check("matmul", (a, b) => T.matmul(a, b), [rn([2, 1, 3, 5]), rn([3, 5, 4])])],
  ["matmul transposed operand", () => check("matmul", (a, b) => T.matmul(T.transpose(a, 0, 1), b), [rn([5, 3]), rn([5, 2])])],
  ["matmul vector", () => check("matmul", (a, b) => T.matmul(a, b), [rn([5]), rn([2, 5, 3])])],
  ["linear", () => check("linear", (x, w, b) => T.linear(x, w, b), [rn([2, 3, 5]), rn([4, 5]), rn([4])])],
  ["softmax dim 0", () => check("softmax", (a) => T.softmax(a, 0), [rn([4, 3], { lo: -3, hi: 3 })])],
  ["logSoftmax", () => check("logSoftmax", (a) => T.logSoftmax(a, -1), [rn([3, 7], { lo: -3, hi: 3 })])],
  ["layerNorm", () => check("layerNorm", (x, w, b) => T.layerNorm(x, [6], w, b, 1e-5), [rn([3, 6], { lo: -2, hi: 2 }), rn([6]), rn([6])])],
  ["rmsNorm", () => check("rmsNorm", (x, w) => T.rmsNorm(x, [2, 3], w, 1e-6), [rn([4, 2, 3], { lo: -2, hi: 2 }), rn([2, 3])])],
  ["embedding", () => check("embedding", (w) => T.embedding(ids([3, 1, 3, 0], [2, 2]), w), [rn([5, 4])])],
  [
    "crossEntropy smoothing + ignore",
    () => check("crossEntropy", (x) => T.crossEntropy(x, ids([2, -100, 0, 4]), { labelSmoothing: 0.1 }), [rn([4, 5], { lo: -2, hi: 2 })]),
  ],
  ["crossEntropy none", () => check("crossEntropy", (x) => T.crossEntropy(x, ids([1, 3]), { reduction: "none" }), [rn([2, 6], { lo: -2, hi: 2 })])],
  ["where", () => check("where", (a, b) => T.where(ids([1, 0, 1], [3, 1]), a, b), [rn([3, 2]), rn([2])])],
  ["maskedFill", () => check("maskedFill", (a) => T.maskedFill(a, ids([0, 1, 0]), -5), [rn([2, 3])])],
  [
    "attention fused causal + padding mask",
    () =>
      check(
        "sdpa",
        (q, k, v) => T.scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: ids([1, 1, 1, 1, 1, 0, 1, 1], [2, 1, 1, 4]) }),
        [rn([2, 2, 4, 3]), rn([2, 2, 4, 3]), rn([2, 2, 4, 5])],
      ),
  ],
  [
    "attention decode step (Tq < Tk, float mask)",
    () => check("sdpa", (q, k, v) => T.scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: T.tensor([0, -1, 0.5, 0, 0.2, -0.3], [1, 6]) }), [rn([3, 1, 4]), rn([3, 6, 4]), rn([3, 6, 4])]),
  ],
  ["attention composed (mask with grad)", () => check("sdpa", (q, k, v, m) => T.scaledDotProductAttention(q, k, v, { attnMask: m }), [rn([1, 2, 3, 4]), rn([1, 2, 5, 4]), rn([1, 2, 5, 4]), rn([3, 5])])],
  [
    "dropout (fixed generator)",
    () => check("dropout", (a) => T.dropout(a, 0.3, true, new Generator(5)), [rn([20])]),
  ],
  ["cat stack split", () => check("cat", (a, b) => T.mul(T.stack(T.split(T.cat([a, b], 1), 2, 1), 0), T.tensor([1, 2], [2, 1, 1])), [rn([2, 1]), rn([2, 3])])],
  ["narrow slice permute", () => check("views", (a) => T.permute(T.slice(T.narrow(a, 0, 1, 3), 2, 0, 5, 2), [2, 0, 1]), [rn([4, 3, 5])])],
  ["expand reshape", () => check("expand", (a) => T.reshape(T.expand(a, [2, 3, 4]), [6, -1]), [rn([3, 1])])],
  ["indexSelect gather", () => check("index", (a) => T.gather(T.indexSelect(a, 0, ids([2, 0, 2])), 1, ids([1, 0, 1, 1, 2, 0], [3, 2])), [rn([3, 3])])],
];

for (const kernelSet of KERNEL_SETS) {
  describe(`gradcheck (${kernelSet} kernels)`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });
    for (const [name, fn] of cases) it(name, fn);
  });
}
