// linearCrossEntropy (the fused, row-chunked LM head + loss) against the composed
// crossEntropy(linear(h, W), t) on both kernel sets: loss and gradients of h and W, with ignored
// rows, label smoothing, "sum", chunk sizes that do and do not divide the rows, a transposed weight
// view, an upstream gradient other than 1, retainGraph, and no-grad mode.
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { Tensor, useKernels } from "../../src/index.js";
import { KERNEL_SETS, assertClose } from "../helpers.js";

function setup(rows: number, C: number, V: number, ignoreEvery: number, seed: number) {
  const g = new T.Generator(seed);
  const h = T.randn([2, rows / 2, C], { generator: g, requiresGrad: true });
  const w = T.randn([V, C], { generator: g, std: 0.5, requiresGrad: true });
  const t = T.randint(0, V, [2, rows / 2], { generator: g });
  const td = t.data as Int32Array;
  if (ignoreEvery > 0) for (let i = 0; i < td.length; i += ignoreEvery) td[i] = -100;
  return { h, w, t };
}

function reference(h: Tensor, w: Tensor, t: Tensor, opts: T.CrossEntropyOptions, upstream: number) {
  h.grad = w.grad = null;
  const loss = T.crossEntropy(T.linear(h, w), t, opts);
  loss.mul(upstream).backward();
  return { loss: loss.item(), gh: h.grad!.toTypedArray(), gw: w.grad!.toTypedArray() };
}

for (const ks of KERNEL_SETS) {
  describe(`linearCrossEntropy [${ks}]`, () => {
    const cases: { name: string; ignore: number; opts: T.LinearCrossEntropyOptions; up: number }[] = [
      { name: "mean, no ignored rows, one chunk", ignore: 0, opts: {}, up: 1 },
      { name: "mean, ignored rows, chunks of 5", ignore: 3, opts: { chunkRows: 5 }, up: 1 },
      { name: "sum, smoothing 0.1, chunks of 7, upstream 0.25", ignore: 4, opts: { chunkRows: 7, reduction: "sum", labelSmoothing: 0.1 }, up: 0.25 },
      { name: "mean, chunks of 1", ignore: 5, opts: { chunkRows: 1 }, up: 2 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        useKernels(ks);
        const { h, w, t } = setup(24, 16, 37, c.ignore, 7);
        const ref = reference(h, w, t, { ignoreIndex: -100, labelSmoothing: c.opts.labelSmoothing, reduction: c.opts.reduction }, c.up);
        h.grad = w.grad = null;
        const loss = T.linearCrossEntropy(h, w, t, c.opts);
        expect(loss.shape).toEqual([]);
        expect(Math.abs(loss.item() - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
        loss.mul(c.up).backward();
        assertClose("dh", h.grad!.toTypedArray(), ref.gh, { atol: 1e-6, rtol: 1e-4 });
        assertClose("dW", w.grad!.toTypedArray(), ref.gw, { atol: 1e-6, rtol: 1e-4 });
      });
    }

    it("a transposed weight view (W stored [C, V]), retainGraph, and no-grad mode", () => {
      useKernels(ks);
      const { h, t } = setup(12, 8, 11, 4, 3);
      const wt = T.randn([8, 11], { generator: new T.Generator(5), requiresGrad: true }); // [C, V]
      wt.grad = null;
      const refLoss = T.crossEntropy(T.linear(h, wt.T), t);
      refLoss.backward();
      const refGw = wt.grad!.toTypedArray();
      const refGh = h.grad!.toTypedArray();
      h.grad = wt.grad = null;
      const w = wt.T; // [V, C], a transposed view
      const loss = T.linearCrossEntropy(h, w, t, { chunkRows: 4 });
      expect(Math.abs(loss.item() - refLoss.item())).toBeLessThanOrEqual(1e-5);
      loss.backward(undefined, { retainGraph: true });
      assertClose("dW^T", wt.grad!.toTypedArray(), refGw, { atol: 1e-6, rtol: 1e-4 });
      // Scale the handed-out gradient in place (as clipping does); a second backward must not see it.
      (h.grad!.data as Float32Array).fill(0);
      h.grad = null;
      loss.backward();
      assertClose("dh (second backward)", h.grad!.toTypedArray(), refGh, { atol: 1e-6, rtol: 1e-4 });
      const ng = T.noGrad(() => T.linearCrossEntropy(h, w, t));
      expect(ng.requiresGrad).toBe(false);
      expect(Math.abs(ng.item() - refLoss.item())).toBeLessThanOrEqual(1e-5);
    });

    it("all targets ignored: NaN mean, zero gradients; bad targets and shapes are errors", () => {
      useKernels(ks);
      const { h, w } = setup(4, 4, 5, 0, 1);
      const t = T.full([2, 2], -100, { dtype: "int32" });
      const loss = T.linearCrossEntropy(h, w, t);
      expect(Number.isNaN(loss.item())).toBe(true);
      const s = T.linearCrossEntropy(h, w, t, { reduction: "sum" });
      expect(s.item()).toBe(0);
      s.backward();
      expect([...h.grad!.toTypedArray()].every((x) => x === 0)).toBe(true);
      expect([...w.grad!.toTypedArray()].every((x) => x === 0)).toBe(true);
      expect(() => T.linearCrossEntropy(h, w, T.full([2, 2], 5, { dtype: "int32" }))).toThrow(/out of range/);
      expect(() => T.linearCrossEntropy(h, w, T.full([4], 1, { dtype: "int32" }))).toThrow(/must match/);
    });
  });
}
