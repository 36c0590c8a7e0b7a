// T5 against Hugging Face transformers on tiny random checkpoints (fixtures/models_encdec/t5_*,
// tools/golden/models_encdec.py): v1.0 (ReLU, tied lm_head, decoder output scaled by d_model^-0.5)
// and v1.1 (gated-GELU, untied lm_head, no scaling); 2 encoder and 3 decoder layers, 8 buckets with
// max_distance 12 over 14 encoder positions (exact, logarithmic and clamped buckets), a padded
// encoder batch and -100 labels. Metrics in transformer_family_helpers.ts (logits <= 1e-4
// max-abs, loss <= 1e-5, every gradient <= 1e-3 relative), on both kernel sets. Then: cached
// greedy decoding equals uncached decoding and reproduces transformers' generate() ids.
import { beforeAll, describe, expect, it } from "vitest";
import { argmax, loadModel, noGrad, useKernels } from "../../src/index.js";
import { T5ForConditionalGeneration, parseT5Config, shiftRight } from "../../src/models/t5.js";
import { ParamSource } from "../../src/nn/module.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS } from "../helpers.js";
import { checkAgainstReference, checkSGDTrajectory, fixture, maxAbsDiff } from "./transformer_family_helpers.js";

const CASES = ["t5_v1_0", "t5_v1_1"];

function load(name: string) {
  const { config, weights, ref } = fixture(name);
  const model = loadModel(config, weights, { origin: `fixtures/models_encdec/${name}` }) as unknown as T5ForConditionalGeneration;
  return { model: model.eval(), ref };
}

/** Greedy decoding for `steps` tokens from decoder_start; with or without the KV cache. */
function greedy(model: T5ForConditionalGeneration, ids: Tensor, mask: Tensor, steps: number, cached: boolean): { tokens: number[][]; logits: Float32Array[] } {
  const B = ids.shape[0];
  const enc = model.encode(ids, mask);
  const tokens = Array.from({ length: B }, () => [model.config.decoder_start_token_id]);
  const cache = cached ? model.newCache() : undefined;
  const logits: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const T = tokens[0].length;
    const dec = cached ? new Tensor(Int32Array.from(tokens.map((t) => t[T - 1])), [B, 1]) : new Tensor(Int32Array.from(tokens.flat()), [B, T]);
    const out = model.forward({ encoderHiddenStates: enc, attentionMask: mask, decoderInputIds: dec, cache });
    const n = dec.shape[1];
    const last = out.logits.narrow(1, n - 1, 1).contiguous(); // (B, 1, V)
    logits.push(last.toTypedArray() as Float32Array);
    const next = argmax(last, -1).toTypedArray();
    for (let b = 0; b < B; b++) tokens[b].push(next[b]);
  }
  return { tokens, logits };
}

for (const kernelSet of KERNEL_SETS) {
  describe(`t5 vs transformers [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    for (const name of CASES) {
      it(`${name}: logits, loss and every parameter gradient`, () => {
        const { model, ref } = load(name);
        const out = model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! });
        checkAgainstReference(`[${kernelSet}] ${name}`, model, out, ref);
      });

      it(`${name}: a 6-step SGD loss trajectory`, () => {
        const { model, ref } = load(name);
        const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! };
        checkSGDTrajectory(`[${kernelSet}] ${name}`, model, () => model.forward(input).loss!, ref);
      });

      it(`${name}: a decoder padding mask (decoderAttentionMask) as transformers applies it`, () => {
        const { model, ref } = load(name);
        const logits = noGrad(() =>
          model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, decoderInputIds: ref.get("decoder_input_ids")!, decoderAttentionMask: ref.get("decoder_attention_mask")! }).logits,
        );
        expect(maxAbsDiff(logits.toTypedArray(), ref.get("dec_masked_logits")!.toTypedArray()), "logits max |diff|").toBeLessThanOrEqual(1e-4);
      });

      it(`${name}: cached greedy decoding equals uncached, and equals transformers' generate()`, () => {
        const { model, ref } = load(name);
        noGrad(() => {
          const ids = ref.get("input_ids")!;
          const mask = ref.get("attention_mask")!;
          const a = greedy(model, ids, mask, 6, true);
          const b = greedy(model, ids, mask, 6, false);
          expect(a.tokens).toEqual(b.tokens);
          const d = Math.max(...a.logits.map((l, i) => maxAbsDiff(l, b.logits[i])));
          expect(d, "cached vs uncached logits max |diff|").toBeLessThanOrEqual(1e-5);
          const gen = ref.get("generated")!;
          const want = Array.from({ length: gen.shape[0] }, (_, r) => Array.from(gen.toTypedArray().subarray(r * gen.shape[1], (r + 1) * gen.shape[1])));
          expect(a.tokens).toEqual(want);
        });
      });
    }
  });
}

describe("t5 pieces", () => {
  it("shiftRight: decoder start, labels shifted, -100 -> pad", () => {
    const l = new Tensor(new Int32Array([5, 6, 7, 8, 9, -100]), [2, 3]);
    expect(Array.from(shiftRight(l, 0, 3).toTypedArray())).toEqual([0, 5, 6, 0, 8, 9]);
    const { ref } = load("t5_v1_0");
    expect(Array.from(shiftRight(ref.get("labels")!, 0, 0).toTypedArray())).toEqual(Array.from(ref.get("decoder_input_ids")!.toTypedArray()));
  });

  it("config: feed_forward_proj variants and the v1.0 / v1.1 output scaling", () => {
    expect(parseT5Config({ feed_forward_proj: "gated-gelu" })).toMatchObject({ dense_act_fn: "gelu_new", is_gated_act: true, scale_decoder_outputs: true });
    expect(parseT5Config({ feed_forward_proj: "gated-silu", tie_word_embeddings: false })).toMatchObject({ dense_act_fn: "silu", is_gated_act: true, scale_decoder_outputs: false, tie_word_embeddings: false });
    // transformers 5 writes tie_word_embeddings true with scale_decoder_outputs false for v1.1.
    expect(parseT5Config({ tie_word_embeddings: true, scale_decoder_outputs: false })).toMatchObject({ tie_word_embeddings: true, scale_decoder_outputs: false });
    expect(() => parseT5Config({ feed_forward_proj: "gated-gelu-x" })).toThrow(/feed_forward_proj/);
    expect(() => parseT5Config({ feed_forward_proj: "swoosh" })).toThrow(/swoosh/);
  });

  it("fresh init has the reference parameter set and decodes (one KV step at a time)", () => {
    const m = new T5ForConditionalGeneration({ vocab_size: 30, d_model: 16, d_kv: 4, d_ff: 24, num_layers: 1, num_decoder_layers: 2, num_heads: 2, feed_forward_proj: "gated-gelu", tie_word_embeddings: false }, ParamSource.init({ seed: 5 })).eval();
    const names = m.namedParameters().map(([k]) => k);
    expect(names).toContain("lm_head.weight");
    expect(names).toContain("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    expect(names).not.toContain("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight");
    expect(names.filter((n) => n.includes("embed_tokens"))).toEqual([]);
    const ids = new Tensor(new Int32Array([3, 4, 5, 6]), [1, 4]);
    const mask = new Tensor(new Int32Array([1, 1, 1, 1]), [1, 4]);
    noGrad(() => expect(greedy(m, ids, mask, 4, true).tokens).toEqual(greedy(m, ids, mask, 4, false).tokens));
  });
});

describe("t5 checkpoints", () => {
  it("accepts the tied embed_tokens copies and the old cross-attention bias table; rejects a wrong shape", () => {
    const { config, weights } = fixture("t5_v1_0");
    const old = new Map(weights);
    old.set("encoder.embed_tokens.weight", weights.get("shared.weight")!);
    old.set("decoder.embed_tokens.weight", weights.get("shared.weight")!);
    old.set("lm_head.weight", weights.get("shared.weight")!);
    old.set("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", new Tensor(new Float32Array(8 * 4), [8, 4]));
    expect(() => loadModel(config, old)).not.toThrow();
    old.set("decoder.embed_tokens.weight", new Tensor(new Float32Array(4), [2, 2]));
    expect(() => loadModel(config, old)).toThrow(/tied key "decoder\.embed_tokens\.weight"/);
  });

  it("an untied checkpoint without lm_head.weight is an error naming it", () => {
    const { config, weights } = fixture("t5_v1_1");
    const w = new Map(weights);
    w.delete("lm_head.weight");
    expect(() => loadModel(config, w)).toThrow(/missing key "lm_head\.weight"/);
  });
});
