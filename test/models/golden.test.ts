// Decoder-only models against Hugging Face transformers on tiny random checkpoints
// (fixtures/models/<case>/, written by tools/golden/models.py): tslm loads config.json and
// model.safetensors through the registry and the load ParamSource, runs the same padded batch,
// and must reproduce transformers' logits, loss and the gradient of the loss for every parameter.
//
// Metrics (float32 on both sides; differences are summation order and transcendental rounding):
//   logits    max |tslm - hf| over all elements <= 1e-5                     (absolute)
//   loss      |tslm - hf| <= 1e-5                                            (absolute)
//   gradients max |tslm - hf| / max |hf| <= 1e-4 per parameter tensor      (relative to the tensor's scale)
// Issue 4 asks for 1e-4 (logits) and 1e-3 (gradients); the measured errors are about 1e-7 and 1e-6
// (printed per case), so the bounds here are 10x tighter than asked and still ~100x above the noise.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../../src/io/index.js";
import { DynamicCache, loadModel, noGrad, useKernels, cat, type PretrainedModel } from "../../src/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS, repoRoot } from "../helpers.js";

const DIR = join(repoRoot, "fixtures", "models");
const CASES = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const TOL = { logits: 1e-5, loss: 1e-5, gradRel: 1e-4 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function load(name: string): { model: PretrainedModel; ref: Map<string, Tensor> } {
  const dir = join(DIR, name);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const weights = loadSafetensors(join(dir, "model.safetensors"));
  const model = loadModel(config, weights, { origin: join("fixtures/models", name, "model.safetensors") });
  return { model: model.eval(), ref: loadSafetensors(join(dir, "reference.safetensors")) };
}

for (const kernelSet of KERNEL_SETS) {
  describe(`models vs transformers [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    for (const name of CASES) {
      it(`${name}: logits, loss and every parameter gradient`, () => {
        const { model, ref } = load(name);
        const out = model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! });
        const hfLogits = ref.get("logits")!;
        expect(out.logits.shape).toEqual(hfLogits.shape);
        const dLogits = maxAbsDiff(out.logits.toTypedArray(), hfLogits.toTypedArray());
        const dLoss = Math.abs(out.loss!.item() - ref.get("loss")!.item());
        out.loss!.backward();
        const params = model.namedParameters();
        const gradKeys = [...ref.keys()].filter((k) => k.startsWith("grad.")).map((k) => k.slice(5));
        expect(params.map(([k]) => k).sort()).toEqual(gradKeys.sort());
        let worst = { name: "", rel: 0 };
        const bad: string[] = [];
        for (const [pname, p] of params) {
          const hf = ref.get(`grad.${pname}`)!.toTypedArray();
          const g = p.grad ? p.grad.toTypedArray() : new Float32Array(p.size);
          const rel = maxAbsDiff(g, hf) / Math.max(maxAbs(hf), 1e-12);
          if (rel > worst.rel) worst = { name: pname, rel };
          if (!(rel <= TOL.gradRel)) bad.push(`${pname}: max rel diff ${rel.toExponential(2)}`);
        }
        console.log(`[${kernelSet}] ${name}: logits max|diff| ${dLogits.toExponential(2)}, loss |diff| ${dLoss.toExponential(2)}, worst grad ${worst.name} rel ${worst.rel.toExponential(2)}`);
        expect(dLogits, "logits max |diff|").toBeLessThanOrEqual(TOL.logits);
        expect(dLoss, "loss |diff|").toBeLessThanOrEqual(TOL.loss);
        expect(bad, "gradients over tolerance").toEqual([]);
      });

      // The trainer's path: lossOnly runs the fused, row-chunked linearCrossEntropy (no logits);
      // the same loss and gradients within the same tolerances (chunking: test/unit/linear_cross_entropy).
      it(`${name}: lossOnly (fused linear cross-entropy): loss and every parameter gradient`, () => {
        const { model, ref } = load(name);
        const out = (model as unknown as { forward(i: object): { loss: Tensor; logits?: Tensor } }).forward({
          inputIds: ref.get("input_ids")!,
          attentionMask: ref.get("attention_mask")!,
          labels: ref.get("labels")!,
          lossOnly: true,
        });
        expect(out.logits).toBeUndefined();
        const dLoss = Math.abs(out.loss.item() - ref.get("loss")!.item());
        out.loss.mul(0.5).backward(); // an upstream gradient other than 1 (as gradient accumulation gives)
        let worst = { name: "", rel: 0 };
        const bad: string[] = [];
        for (const [pname, p] of model.namedParameters()) {
          const hf = ref.get(`grad.${pname}`)!.toTypedArray().map((x) => x * 0.5);
          const g = p.grad ? p.grad.toTypedArray() : new Float32Array(p.size);
          const rel = maxAbsDiff(g, hf) / Math.max(maxAbs(hf), 1e-12);
          if (rel > worst.rel) worst = { name: pname, rel };
          if (!(rel <= TOL.gradRel)) bad.push(`${pname}: max rel diff ${rel.toExponential(2)}`);
        }
        console.log(`[${kernelSet}] ${name} lossOnly: loss |diff| ${dLoss.toExponential(2)}, worst grad ${worst.name} rel ${worst.rel.toExponential(2)}`);
        expect(dLoss, "loss |diff|").toBeLessThanOrEqual(TOL.loss);
        expect(bad, "gradients over tolerance").toEqual([]);
      });

      // Left padding with generate()-style position ids: logits at real positions within 1e-5
      // max-abs (padding query rows attend to no real key; their values are a masking convention).
      it(`${name}: left-padded batch with explicit position ids (real positions)`, () => {
        const { model, ref } = load(name);
        const mask = ref.get("left_attention_mask")!;
        const logits = noGrad(() => model.forward({ inputIds: ref.get("left_input_ids")!, attentionMask: mask, positionIds: ref.get("left_position_ids")! }).logits);
        const want = ref.get("left_logits")!.toTypedArray();
        const got = logits.toTypedArray();
        const m = mask.toTypedArray();
        const V = logits.shape[2];
        let worst = 0;
        for (let r = 0; r < m.length; r++) if (m[r]) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[r * V + v] - want[r * V + v]));
        expect(worst, "left-padded logits max |diff|").toBeLessThanOrEqual(1e-5);
      });

      // (Skipped for dynamic NTK RoPE, whose full forward here runs past max_position_embeddings: see
      // the cached-decoding test below.)
      it.skipIf(name === "llama_dynamic")(`${name}: cached decoding of the left-padded batch (mask grows with the cache) equals the full forward`, () => {
        const { model, ref } = load(name);
        const ids = ref.get("left_input_ids")!;
        const mask = ref.get("left_attention_mask")!;
        const pos = ref.get("left_position_ids")!;
        const [B, T] = ids.shape;
        noGrad(() => {
          const full = model.forward({ inputIds: ids, attentionMask: mask, positionIds: pos }).logits.toTypedArray();
          const cache = (model as unknown as { newCache(): DynamicCache }).newCache();
          const V = ref.get("left_logits")!.shape[2];
          const inc = new Float32Array(B * T * V);
          const steps = [[0, 5], ...Array.from({ length: T - 5 }, (_, i) => [5 + i, 1])];
          for (const [s, n] of steps) {
            const o = model.forward({ inputIds: ids.narrow(1, s, n).contiguous(), attentionMask: mask.narrow(1, 0, s + n).contiguous(), positionIds: pos.narrow(1, s, n).contiguous(), cache });
            const l = o.logits.toTypedArray();
            for (let b = 0; b < B; b++) inc.set(l.subarray(b * n * V, (b + 1) * n * V), (b * T + s) * V);
          }
          const m = mask.toTypedArray();
          let worst = 0;
          for (let r = 0; r < B * T; r++) if (m[r]) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(inc[r * V + v] - full[r * V + v]));
          expect(worst, "cached vs full (left-padded) max |diff|").toBeLessThanOrEqual(1e-5);
        });
      });

      // Six plain SGD steps (p -= lr * grad) on the fixture batch, as transformers + torch took
      // them: exercises repeated forward/backward, in-place updates and tied parameters.
      // Tolerance: |loss_tslm - loss_hf| <= 1e-5 at every step (measured <= 1e-6; errors compound).
      it(`${name}: a 6-step SGD loss trajectory`, () => {
        const { model, ref } = load(name);
        const lr = ref.get("sgd_lr")!.item();
        const want = ref.get("sgd_losses")!.toTypedArray();
        const got: number[] = [];
        for (let step = 0; step < want.length; step++) {
          model.zeroGrad();
          const loss = model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! }).loss!;
          got.push(loss.item());
          loss.backward();
          for (const p of model.parameters()) {
            const g = p.grad!.toTypedArray();
            const d = p.data as Float32Array;
            for (let i = 0; i < g.length; i++) d[i] -= lr * g[i];
          }
        }
        const worst = maxAbsDiff(got, want);
        console.log(`[${kernelSet}] ${name}: SGD losses ${got.map((x) => x.toFixed(4)).join(" ")}, max |diff| ${worst.toExponential(2)}`);
        expect(worst).toBeLessThanOrEqual(1e-5);
      });

      it(`${name}: KV-cached incremental decoding equals the full forward`, () => {
        const { model, ref } = load(name);
        // Row 0 of the fixture (unpadded): prefill 4 tokens, then feed 1, then the rest at once.
        // Dynamic NTK RoPE rescales its base from the longest position seen, so a full forward past
        // max_position_embeddings rotates even early positions differently from a cache filled
        // before the limit (transformers behaves the same): that case decodes within the limit.
        const T = name === "llama_dynamic" ? 8 : ref.get("input_ids")!.shape[1];
        const ids = ref.get("input_ids")!.narrow(0, 0, 1).narrow(1, 0, T).contiguous(); // (1, T)
        noGrad(() => {
          const full = model.forward({ inputIds: ids }).logits; // (1, T, V)
          const cache = new DynamicCache(model.config.model_type === "gpt2" ? (model.config.n_layer as number) : (model.config.num_hidden_layers as number));
          const parts: Tensor[] = [];
          for (const [s, n] of [
            [0, 4],
            [4, 1],
            [5, T - 5],
          ]) {
            const o = model.forward({ inputIds: ids.narrow(1, s, n).contiguous(), cache });
            expect(o.cache).toBe(cache);
            expect(cache.length).toBe(s + n);
            parts.push(o.logits);
          }
          const d = maxAbsDiff(cat(parts, 1).toTypedArray(), full.toTypedArray());
          expect(d, "cached vs full logits max |diff|").toBeLessThanOrEqual(1e-5);
        });
      });
    }
  });
}
