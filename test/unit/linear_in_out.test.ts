// linearInOut (weight stored [in, out], GPT-2's Conv1D) equals linear(x, W.T, b): output and the
// gradients of x, W and b, on both kernel sets; W's gradient comes back in W's own layout.
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { useKernels } from "../../src/index.js";
import { KERNEL_SETS, assertClose } from "../helpers.js";

for (const ks of KERNEL_SETS) {
  describe(`linearInOut [${ks}]`, () => {
    it("matches linear with the transposed weight", () => {
      useKernels(ks);
      const g = new T.Generator(2);
      const x = T.randn([3, 5, 7], { generator: g, requiresGrad: true });
      const w = T.randn([7, 11], { generator: g, requiresGrad: true }); // [in, out]
      const b = T.randn([11], { generator: g, requiresGrad: true });
      const gOut = T.randn([3, 5, 11], { generator: g });
      const want = T.linear(x, w.T, b);
      want.backward(gOut);
      const [gx, gw, gb] = [x.grad!.toTypedArray(), w.grad!.toTypedArray(), b.grad!.toTypedArray()];
      x.grad = w.grad = b.grad = null;
      const got = T.linearInOut(x, w, b);
      expect(got.shape).toEqual([3, 5, 11]);
      assertClose("y", got.toTypedArray(), want.toTypedArray(), { atol: 1e-5, rtol: 1e-5 });
      got.backward(gOut);
      expect(w.grad!.shape).toEqual([7, 11]);
      assertClose("gx", x.grad!.toTypedArray(), gx, { atol: 1e-5, rtol: 1e-5 });
      assertClose("gw", w.grad!.toTypedArray(), gw, { atol: 1e-5, rtol: 1e-5 });
      assertClose("gb", b.grad!.toTypedArray(), gb, { atol: 1e-5, rtol: 1e-5 });
      expect(() => T.linearInOut(x, T.randn([11, 7]))).toThrow(/last dim must be 11/);
    });
  });
}
