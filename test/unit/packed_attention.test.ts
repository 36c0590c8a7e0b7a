// packedAttention (q, k, v read in place from a fused [B, T, 3, H, D] projection, output written
// with the heads merged) against the composed split -> scaledDotProductAttention -> merge, on both
// kernel sets: outputs and the gradient of qkv, causal and not, with a padding mask, long and short
// sequences (the native kernel's direct path for T < 8 packs strided keys), odd head dims; plus the
// native kernel with a layout against the reference kernel with the same layout.
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { Tensor, kernels, useKernels } from "../../src/index.js";
import { refKernels } from "../../src/kernels/index.js";
import { KERNEL_SETS, assertClose } from "../helpers.js";

function composed(qkv: Tensor, H: number, opts: { mask?: Tensor | null; causal: boolean; scale: number }): Tensor {
  const [B, Tn, C3] = qkv.shape;
  const C = C3 / 3;
  const head = (i: number) => T.transpose(T.reshape(T.narrow(qkv, 2, i * C, C), [B, Tn, H, C / H]), 1, 2);
  const y = T.scaledDotProductAttention(head(0), head(1), head(2), { attnMask: opts.mask ?? null, isCausal: opts.causal, scale: opts.scale });
  return T.reshape(T.transpose(y, 1, 2), [B, Tn, C]);
}

for (const ks of KERNEL_SETS) {
  describe(`packedAttention [${ks}]`, () => {
    const cases = [
      { name: "causal, T 37, D 8", B: 2, Tn: 37, H: 3, D: 8, causal: true, mask: false },
      { name: "causal with a padding mask, T 20, D 5", B: 2, Tn: 20, H: 2, D: 5, causal: true, mask: true },
      { name: "not causal, T 5 (short), D 16", B: 3, Tn: 5, H: 2, D: 16, causal: false, mask: false },
      { name: "causal, T 3 (short) with a mask, D 7", B: 2, Tn: 3, H: 4, D: 7, causal: true, mask: true },
    ];
    for (const c of cases) {
      it(c.name, () => {
        useKernels(ks);
        const g = new T.Generator(11);
        const C = c.H * c.D;
        const qkv = T.randn([c.B, c.Tn, 3 * C], { generator: g, requiresGrad: true });
        let mask: Tensor | null = null;
        if (c.mask) {
          const m = new Float32Array(c.B * c.Tn);
          m[1] = -3.4028234663852886e38; // batch 0 cannot see key 1
          m[c.Tn + 0] = -3.4028234663852886e38; // batch 1 cannot see key 0
          mask = new Tensor(m, [c.B, 1, 1, c.Tn]);
        }
        const scale = 0.37;
        const gOut = T.randn([c.B, c.Tn, C], { generator: g });
        const want = composed(qkv, c.H, { mask, causal: c.causal, scale });
        want.backward(gOut);
        const wantG = qkv.grad!.toTypedArray();
        qkv.grad = null;
        const got = T.packedAttention(qkv, c.H, { attnMask: mask, isCausal: c.causal, scale });
        expect(got.shape).toEqual([c.B, c.Tn, C]);
        assertClose("out", got.toTypedArray(), want.toTypedArray(), { atol: 1e-5, rtol: 1e-4 });
        got.backward(gOut);
        assertClose("dqkv", qkv.grad!.toTypedArray(), wantG, { atol: 1e-5, rtol: 1e-4 });
      });
    }

    it("kernel with a layout (rows in interleaved, offset storage) equals the reference kernel", () => {
      useKernels(ks);
      const k = kernels();
      const [B, H, Tn, D] = [2, 3, 29, 12];
      const C = H * D;
      const g = new T.Generator(3);
      const pad = 5;
      const x = T.randn([pad + B * Tn * 3 * C], { generator: g }).data as Float32Array;
      const gOut = T.randn([B * Tn * C], { generator: g }).data as Float32Array;
      const inLay = [pad, Tn * 3 * C, D, 3 * C, pad + C, Tn * 3 * C, D, 3 * C, pad + 2 * C, Tn * 3 * C, D, 3 * C];
      const outLay = [0, Tn * C, D, C];
      const run = (kk: typeof k) => {
        const out = new Float32Array(B * Tn * C);
        const lse = new Float32Array(B * H * Tn);
        kk.attention(x, x, x, out, lse, B * H, H, Tn, Tn, D, D, 0.3, true, null, 0, null, Int32Array.from([...inLay, ...outLay]));
        const gx = new Float32Array(x.length).fill(7); // only the rows are written: the pad stays 7
        kk.attentionBackward(x, x, x, out, lse, gOut, gx, gx, gx, B * H, H, Tn, Tn, D, D, 0.3, true, null, 0, null, Int32Array.from([...inLay, ...outLay, ...outLay, ...inLay]));
        return { out, lse, gx };
      };
      const a = run(k);
      const r = run(refKernels);
      assertClose("out", a.out, r.out, { atol: 1e-5, rtol: 1e-4 });
      assertClose("lse", a.lse, r.lse, { atol: 1e-5, rtol: 1e-4 });
      assertClose("gx", a.gx, r.gx, { atol: 1e-5, rtol: 1e-4 });
      expect([...a.gx.subarray(0, pad)]).toEqual([7, 7, 7, 7, 7]);
      if (k.name === "native") {
        expect(() => k.attention(x, x, x, new Float32Array(B * Tn * C), new Float32Array(B * H * Tn), B * H, H, Tn, Tn, D, D, 0.3, true, null, 0, null, Int32Array.from([...inLay.slice(0, 8), pad + 3 * C, Tn * 3 * C, D, 3 * C, ...outLay]))).toThrow(/outside/);
      }
    });
  });
}
