// nn layers: positional encodings (sinusoidal formula, rotary inverse frequencies vs transformers,
// rotate_half), attention (gradcheck, masks, grouped-query heads vs an explicit reference, KV
// cache), dropout modes, feed-forward shapes. Runs on both kernel sets.
import { beforeAll, describe, expect, it } from "vitest";
import {
  DynamicCache,
  Dropout,
  GatedFeedForward,
  Generator,
  KVCache,
  LayerNorm,
  MASK_MIN,
  MultiHeadAttention,
  ParamSource,
  RotaryEmbedding,
  applyRotary,
  gradcheck,
  matmul,
  noGrad,
  ones,
  paddingMask,
  postNormResidual,
  preNormResidual,
  randn,
  relativePositionBucket,
  repeatKV,
  ropeInvFreq,
  rotateHalf,
  sinusoidalTable,
  softmax,
  tensor,
  useKernels,
  type RopeParameters,
  type Tensor,
} from "../../src/index.js";
import { KERNEL_SETS, assertClose, readJSON } from "../helpers.js";

interface RopeCase {
  config: { head_dim: number; max_position_embeddings: number; rope_parameters: RopeParameters };
  seq_len: number | null;
  inv_freq: number[];
}

describe("positions (kernel-independent)", () => {
  it("sinusoidal: PE[i,2k] = sin(i/10000^(2k/d)), PE[i,2k+1] = cos(i/10000^(2k/d))", () => {
    const n = 50;
    const d = 16;
    const pe = sinusoidalTable(n, d).toTypedArray();
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d / 2; k++) {
        const w = i / Math.pow(10000, (2 * k) / d);
        expect(pe[i * d + 2 * k]).toBe(Math.fround(Math.sin(w)));
        expect(pe[i * d + 2 * k + 1]).toBe(Math.fround(Math.cos(w)));
      }
    }
  });

  // inv_freq from transformers' ROPE_INIT_FUNCTIONS (fixtures/models/rope.json). Tolerance: 2
  // float32 ulps relative (torch's powf vs V8's pow, rounded at the same steps).
  const rope = readJSON<{ cases: Record<string, RopeCase> }>("fixtures/models/rope.json").cases;
  for (const [name, c] of Object.entries(rope)) {
    it(`rotary inv_freq matches transformers: ${name}`, () => {
      const inv = ropeInvFreq(c.config.rope_parameters, c.config.head_dim, c.config.max_position_embeddings, c.seq_len ?? undefined);
      assertClose(`inv_freq ${name}`, inv, Float32Array.from(c.inv_freq), { atol: 0, rtol: 2.5e-7 });
    });
  }

  it("rotate_half maps [x1, x2] to [-x2, x1]", () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 1, 1, 6]);
    expect(Array.from(rotateHalf(x).toTypedArray())).toEqual([-4, -5, -6, 1, 2, 3]);
  });

  it("rotary at position 0 is the identity and preserves norms elsewhere", () => {
    const rot = new RotaryEmbedding(8, { rope_type: "default", rope_theta: 10000 }, 64);
    const { cos, sin } = rot.cosSin(tensor([0, 5, 17], [1, 3], { dtype: "int32" }));
    const x = randn([1, 2, 3, 8], { generator: new Generator(1) });
    const y = applyRotary(x, cos, sin).toTypedArray();
    const xd = x.toTypedArray();
    for (let h = 0; h < 2; h++) {
      for (let t = 0; t < 3; t++) {
        let nx = 0;
        let ny = 0;
        for (let d = 0; d < 8; d++) {
          const i = (h * 3 + t) * 8 + d;
          nx += xd[i] ** 2;
          ny += y[i] ** 2;
          if (t === 0) expect(y[i]).toBeCloseTo(xd[i], 6);
        }
        expect(ny).toBeCloseTo(nx, 4);
      }
    }
  });

  it("T5 relative position buckets equal transformers' _relative_position_bucket over -300..300", () => {
    const fx = readJSON<{ relative_position: number[]; cases: { bidirectional: boolean; num_buckets: number; max_distance: number; buckets: number[] }[] }>("fixtures/models/t5_buckets.json");
    for (const c of fx.cases) {
      const got = fx.relative_position.map((r) => relativePositionBucket(r, c.bidirectional, c.num_buckets, c.max_distance));
      expect(got, JSON.stringify({ ...c, buckets: undefined })).toEqual(c.buckets);
    }
  });
});

for (const kernelSet of KERNEL_SETS) {
  describe(`nn layers [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    it("gradcheck: rotary embedding (input gradient through cos/sin mixing)", () => {
      const rot = new RotaryEmbedding(6, { rope_type: "llama3", rope_theta: 100, factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 }, 32);
      const { cos, sin } = rot.cosSin(tensor([0, 3, 9, 30], [1, 4], { dtype: "int32" }));
      const x = randn([2, 2, 4, 6], { generator: new Generator(3), requiresGrad: true });
      const r = gradcheck((a) => applyRotary(a, cos, sin), [x]);
      expect(r.mismatches).toEqual([]);
    });

    it("gradcheck: causal grouped-query attention with a padding mask, all projections", () => {
      const src = ParamSource.init({ seed: 5, std: 0.3 });
      const attn = new MultiHeadAttention(src, { dModel: 8, nHeads: 4, nKvHeads: 2, causal: true, bias: true });
      const x = randn([2, 3, 8], { generator: new Generator(6), requiresGrad: true });
      const mask = paddingMask(tensor([1, 1, 1, 1, 1, 0], [2, 3], { dtype: "int32" }));
      const ps = attn.parameters();
      const r = gradcheck((a) => attn.forward(a, { mask }), [x, ...ps], { maxElements: 24 });
      expect(r.mismatches).toEqual([]);
    });

    it("gradcheck: non-causal grouped-query attention (query groups stacked against shared keys) equals the repeat_kv path", () => {
      const src = ParamSource.init({ seed: 22, std: 0.3 });
      const attn = new MultiHeadAttention(src, { dModel: 8, nHeads: 4, nKvHeads: 1, causal: false, bias: false });
      const x = randn([2, 3, 8], { generator: new Generator(23), requiresGrad: true });
      const mask = paddingMask(tensor([1, 1, 1, 0, 1, 1], [2, 3], { dtype: "int32" }));
      const r = gradcheck((a) => attn.forward(a, { mask }), [x, ...attn.parameters()], { maxElements: 24 });
      expect(r.mismatches).toEqual([]);
      // Against explicit repeated heads: an additive bias of zeros forces the repeat_kv path.
      const zeroBias = new (x.constructor as typeof Tensor)(new Float32Array(2 * 4 * 3 * 3), [2, 4, 3, 3]);
      noGrad(() => {
        const a = attn.forward(x, { mask }).toTypedArray();
        const b = attn.forward(x, { mask, bias: zeroBias }).toTypedArray();
        assertClose("folded vs repeated GQA", a, b, { atol: 1e-6, rtol: 1e-5 });
      });
    });

    it("gradcheck: cross-attention with an additive bias that requires grad (T5 relative bias path)", () => {
      const src = ParamSource.init({ seed: 7, std: 0.3 });
      const attn = new MultiHeadAttention(src, { dModel: 8, nHeads: 2, bias: false, scale: 1, names: { q: "q", k: "k", v: "v", o: "o" } });
      expect(attn.namedParameters().map(([k]) => k)).toEqual(["q.weight", "k.weight", "v.weight", "o.weight"]);
      const x = randn([1, 3, 8], { generator: new Generator(8), requiresGrad: true });
      const enc = randn([1, 5, 8], { generator: new Generator(9), requiresGrad: true });
      const bias = randn([1, 2, 3, 5], { generator: new Generator(10), requiresGrad: true });
      const r = gradcheck((a, e, b) => attn.forward(a, { kv: e, bias: b }), [x, enc, bias]);
      expect(r.mismatches).toEqual([]);
    });

    it("projection names may be dotted paths (BERT nests q/k/v under self, o under output)", () => {
      const names = { q: "self.query", k: "self.key", v: "self.value", o: "output.dense" };
      const attn = new MultiHeadAttention(ParamSource.init({ seed: 17 }).at("bert.encoder.layer.0.attention"), { dModel: 8, nHeads: 2, names });
      expect(attn.namedParameters().map(([k]) => k)).toEqual([
        "self.query.weight", "self.query.bias", "self.key.weight", "self.key.bias",
        "self.value.weight", "self.value.bias", "output.dense.weight", "output.dense.bias",
      ]);
      expect(attn.parameters()[0].name).toBe("bert.encoder.layer.0.attention.self.query.weight");
      const again = new MultiHeadAttention(ParamSource.load(attn.stateDict()), { dModel: 8, nHeads: 2, names });
      expect(Array.from(again.parameters()[6].toTypedArray())).toEqual(Array.from(attn.parameters()[6].toTypedArray()));
    });

    it("cross-attention with a cache projects the encoder states once and reuses them", () => {
      const attn = new MultiHeadAttention(ParamSource.init({ seed: 18, std: 0.3 }), { dModel: 8, nHeads: 2 });
      const g = new Generator(19);
      const enc = randn([2, 5, 8], { generator: g });
      const x = randn([2, 3, 8], { generator: g });
      noGrad(() => {
        const full = attn.forward(x, { kv: enc }).toTypedArray();
        const cache = new KVCache();
        const first = attn.forward(x.narrow(1, 0, 2).contiguous(), { kv: enc, cache });
        expect(cache.length).toBe(5);
        const second = attn.forward(x.narrow(1, 2, 1).contiguous(), { kv: enc, cache });
        expect(cache.length).toBe(5);
        const a = first.toTypedArray();
        const b = second.toTypedArray();
        const inc = new Float32Array(full.length);
        for (let bb = 0; bb < 2; bb++) {
          inc.set(a.subarray(bb * 16, bb * 16 + 16), bb * 24);
          inc.set(b.subarray(bb * 8, bb * 8 + 8), bb * 24 + 16);
        }
        assertClose("cross-attention with cache", inc, full, { atol: 1e-6, rtol: 1e-5 });
      });
    });

    it("pre-LN and post-LN residual wiring", () => {
      const src = ParamSource.init({ seed: 20 });
      const ln = new LayerNorm(src.at("ln"), 4);
      const x = randn([2, 4], { generator: new Generator(21) });
      const f = (h: Tensor) => h.mul(2);
      assertClose("pre-LN", preNormResidual(x, ln, f).toTypedArray(), x.add(ln.forward(x).mul(2)).toTypedArray(), { atol: 0, rtol: 0 });
      assertClose("post-LN", postNormResidual(x, ln, f).toTypedArray(), ln.forward(x.add(x.mul(2))).toTypedArray(), { atol: 0, rtol: 0 });
    });

    it("grouped-query attention equals explicit softmax(q k^T / sqrt(D)) v with repeated heads", () => {
      const src = ParamSource.init({ seed: 11 });
      const attn = new MultiHeadAttention(src, { dModel: 16, nHeads: 4, nKvHeads: 1, bias: false });
      const g = new Generator(12);
      const q = randn([2, 4, 5, 4], { generator: g });
      const k = randn([2, 1, 5, 4], { generator: g });
      const v = randn([2, 1, 5, 4], { generator: g });
      void attn;
      const kr = repeatKV(k, 4);
      const vr = repeatKV(v, 4);
      expect(kr.shape).toEqual([2, 4, 5, 4]);
      const ref = matmul(softmax(matmul(q, kr.transpose(-1, -2)).mul(0.5), -1), vr);
      // attend() through the module's core
      const out = noGrad(() => attendCore(q, k, v));
      assertClose("gqa attention", out.toTypedArray(), ref.toTypedArray(), { atol: 1e-5, rtol: 1e-4 });
    });

    it("padding mask: padded keys get float32's most negative value, no mask when nothing is padded", () => {
      expect(paddingMask(ones([2, 3], { dtype: "int32" }))).toBeNull();
      const m = paddingMask(tensor([1, 0, 1, 1], [2, 2], { dtype: "int32" }))!;
      expect(m.shape).toEqual([2, 1, 1, 2]);
      expect(Array.from(m.toTypedArray())).toEqual([0, Math.fround(MASK_MIN), 0, 0]);
    });

    it("KV cache: cached incremental attention equals full causal attention", () => {
      const src = ParamSource.init({ seed: 13, std: 0.2 });
      const attn = new MultiHeadAttention(src, { dModel: 12, nHeads: 3, nKvHeads: 1, causal: true }).eval();
      const x = randn([2, 7, 12], { generator: new Generator(14) });
      noGrad(() => {
        const full = attn.forward(x).toTypedArray();
        const cache = new KVCache();
        const a = attn.forward(x.narrow(1, 0, 3).contiguous(), { cache });
        const b = attn.forward(x.narrow(1, 3, 1).contiguous(), { cache });
        const c = attn.forward(x.narrow(1, 4, 3).contiguous(), { cache });
        expect(cache.length).toBe(7);
        const inc = new Float32Array(full.length);
        const put = (t: ReturnType<typeof attn.forward>, start: number) => {
          const [B, T, C] = t.shape;
          const d = t.toTypedArray();
          for (let bb = 0; bb < B; bb++) for (let tt = 0; tt < T; tt++) for (let cc = 0; cc < C; cc++) inc[(bb * 7 + start + tt) * C + cc] = d[(bb * T + tt) * C + cc];
        };
        put(a, 0);
        put(b, 3);
        put(c, 4);
        assertClose("cached attention", inc, full, { atol: 1e-6, rtol: 1e-5 });
      });
      const dc = new DynamicCache(3);
      expect(dc.layers.length).toBe(3);
      expect(dc.length).toBe(0);
    });

    it("dropout: seeded in training, identity in eval; train()/eval() reach nested modules", () => {
      const d = new Dropout(0.5, new Generator(1));
      const x = ones([1000]);
      const y = d.forward(x).toTypedArray();
      const kept = y.filter((v) => v !== 0);
      expect(kept.every((v) => v === 2)).toBe(true);
      expect(kept.length).toBeGreaterThan(400);
      expect(kept.length).toBeLessThan(600);
      const again = new Dropout(0.5, new Generator(1)).forward(x).toTypedArray();
      expect(Array.from(again)).toEqual(Array.from(y));
      d.eval();
      expect(d.forward(x)).toBe(x);
    });

    it("SwiGLU feed-forward: down(silu(gate(x)) * up(x))", () => {
      const src = ParamSource.init({ seed: 15, std: 0.5 });
      const ff = new GatedFeedForward(src, { dModel: 4, dFF: 6, act: "silu" });
      expect(ff.namedParameters().map(([k]) => k)).toEqual(["gate_proj.weight", "up_proj.weight", "down_proj.weight"]);
      const x = randn([2, 4], { generator: new Generator(16) });
      const [g, u, dn] = ff.parameters();
      const h = matmul(x, g.T).silu().mul(matmul(x, u.T));
      const ref = matmul(h, dn.T);
      assertClose("swiglu", ff.forward(x).toTypedArray(), ref.toTypedArray(), { atol: 1e-6, rtol: 1e-5 });
    });
  });
}

import { attend } from "../../src/nn/attention.js";
function attendCore(q: Parameters<typeof attend>[0], k: Parameters<typeof attend>[1], v: Parameters<typeof attend>[2]) {
  return attend(q, k, v, {});
}
