// The original Transformer (model_type "transformer", src/models/transformer.ts) against an
// independent PyTorch model of the same architecture built on torch.nn.TransformerEncoderLayer /
// TransformerDecoderLayer (norm_first=False, no final norms), with the interleaved sinusoidal
// encoding, embeddings x sqrt(d_model) and the tied output projection; label smoothing 0.1
// (tools/golden/models_encdec.py, fixtures/models_encdec/transformer_base). Metrics in
// transformer_family_helpers.ts (logits <= 1e-4 max-abs, loss <= 1e-5, gradients <= 1e-3
// relative), on both kernel sets; plus cached decoding == uncached and the PE table.
import { beforeAll, describe, expect, it } from "vitest";
import { argmax, loadModel, noGrad, useKernels } from "../../src/index.js";
import { sinusoidalTable } from "../../src/nn/positions.js";
import { ParamSource } from "../../src/nn/module.js";
import { TransformerForConditionalGeneration, parseTransformerConfig } from "../../src/models/transformer.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS } from "../helpers.js";
import { checkAgainstReference, checkSGDTrajectory, fixture, maxAbsDiff } from "./transformer_family_helpers.js";

function load() {
  const { config, weights, ref } = fixture("transformer_base");
  const model = loadModel(config, weights, { origin: "fixtures/models_encdec/transformer_base" }) as unknown as TransformerForConditionalGeneration;
  return { model: model.eval(), ref };
}

for (const kernelSet of KERNEL_SETS) {
  describe(`transformer vs torch.nn.Transformer layers [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    it("transformer_base: logits, label-smoothed loss and every parameter gradient", () => {
      const { model, ref } = load();
      expect(model).toBeInstanceOf(TransformerForConditionalGeneration);
      const out = model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! });
      checkAgainstReference(`[${kernelSet}] transformer_base`, model, out, ref);
    });

    it("transformer_base: a 6-step SGD loss trajectory", () => {
      const { model, ref } = load();
      const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! };
      checkSGDTrajectory(`[${kernelSet}] transformer_base`, model, () => model.forward(input).loss!, ref);
    });

    it("cached greedy decoding equals uncached", () => {
      const { model, ref } = load();
      noGrad(() => {
        const ids = ref.get("input_ids")!;
        const mask = ref.get("attention_mask")!;
        const B = ids.shape[0];
        const enc = model.encode(ids, mask);
        const run = (cached: boolean) => {
          const toks = Array.from({ length: B }, () => [model.config.decoder_start_token_id]);
          const cache = cached ? model.newCache() : undefined;
          const rows: Float32Array[] = [];
          for (let s = 0; s < 6; s++) {
            const T = toks[0].length;
            const dec = cached ? new Tensor(Int32Array.from(toks.map((t) => t[T - 1])), [B, 1]) : new Tensor(Int32Array.from(toks.flat()), [B, T]);
            const l = model.forward({ encoderHiddenStates: enc, attentionMask: mask, decoderInputIds: dec, cache }).logits;
            const last = l.narrow(1, dec.shape[1] - 1, 1).contiguous();
            rows.push(last.toTypedArray() as Float32Array);
            const next = argmax(last, -1).toTypedArray();
            toks.forEach((t, b) => t.push(next[b]));
          }
          return { toks, rows };
        };
        const a = run(true);
        const b = run(false);
        expect(a.toks).toEqual(b.toks);
        expect(Math.max(...a.rows.map((r, i) => maxAbsDiff(r, b.rows[i])))).toBeLessThanOrEqual(1e-5);
      });
    });
  });
}

describe("transformer pieces", () => {
  it("the sinusoidal table is the interleaved PE[i, 2k] = sin, PE[i, 2k+1] = cos of the reference", () => {
    const { ref } = load();
    const pe = ref.get("pe")!;
    const mine = sinusoidalTable(pe.shape[0], pe.shape[1]);
    expect(maxAbsDiff(mine.toTypedArray(), pe.toTypedArray())).toBeLessThanOrEqual(1e-6);
    // Spot values: position 1, dims 0 and 1 are sin(1) and cos(1) (not the half/half layout).
    expect(mine.get(1, 0)).toBeCloseTo(Math.sin(1), 6);
    expect(mine.get(1, 1)).toBeCloseTo(Math.cos(1), 6);
  });

  it("config validation and a fresh model's parameter set (tied: no lm_head / embed_tokens keys)", () => {
    expect(() => parseTransformerConfig({ d_model: 30, encoder_attention_heads: 4 })).toThrow(/divisible/);
    expect(() => parseTransformerConfig({ model_type: "bart" })).toThrow(/model_type/);
    const m = new TransformerForConditionalGeneration({ vocab_size: 20, d_model: 8, encoder_layers: 1, decoder_layers: 1, encoder_attention_heads: 2, decoder_attention_heads: 2, encoder_ffn_dim: 16, decoder_ffn_dim: 16, max_position_embeddings: 16 }, ParamSource.init({ seed: 1 }));
    const names = m.namedParameters().map(([k]) => k);
    expect(names.filter((n) => n.includes("embed_tokens") || n.startsWith("lm_head"))).toEqual([]);
    expect(names).toContain("model.decoder.layers.0.encoder_attn.out_proj.bias");
    expect(names).toContain("model.encoder.layers.0.fc2.weight");
  });
});
