// Parameter-efficient tuning against Hugging Face peft on tiny random GPT-2 / LLaMA checkpoints
// (fixtures/peft/<case>/, written by tools/golden/peft.py with peft 0.21): tslm loads the base and
// the adapter peft saved, runs the same padded batch, and must reproduce peft's logits, loss, the
// gradient of every trainable parameter (same names as peft's named_parameters) and peft's
// get_nb_trainable_parameters counts, and greedy generate() must produce peft's tokens.
//
// Tolerances (issue 7): logits max |diff| <= 1e-4 absolute; gradients max |diff| / max |peft| <= 1e-3
// per tensor. Measured errors are printed per case (about 1e-7 and 1e-6).
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../../src/io/index.js";
import { generate, useKernels, noGrad } from "../../src/index.js";
import { PeftModel } from "../../src/peft/index.js";
import { loadPeftAdapter, loadPeftModel, readAdapterConfig, savePeftModel } from "../../src/io/peft.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS, repoRoot } from "../helpers.js";
import { loadBase, maxAbsDiff } from "./helpers.js";

const DIR = join(repoRoot, "fixtures", "peft");
const CASES = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(DIR, d.name, "meta.json")) && JSON.parse(readFileSync(join(DIR, d.name, "meta.json"), "utf8")).adapters)
  .map((d) => d.name)
  .sort();

const TOL = { logits: 1e-4, loss: 1e-5, gradRel: 1e-3 };

interface Meta {
  adapters: Record<string, { dir: string; trainable: number; total: number; trainable_names: string[] }>;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Gradient check of the active adapter against grad<suffix>.* of the reference. */
function checkGrads(model: PeftModel, ref: Map<string, Tensor>, suffix: string, names: string[]): { worst: string; rel: number; bad: string[] } {
  const params = new Map(model.namedParameters().filter(([, p]) => p.requiresGrad));
  expect([...params.keys()].sort(), "trainable parameter names (peft's named_parameters)").toEqual([...names].sort());
  let worst = { worst: "", rel: 0 };
  const bad: string[] = [];
  for (const [name, p] of params) {
    const hf = ref.get(`grad${suffix}.${name}`);
    if (!hf) throw new Error(`no reference gradient for ${name}`);
    const g = p.grad ? p.grad.toTypedArray() : new Float32Array(p.size);
    const rel = maxAbsDiff(g, hf.toTypedArray()) / Math.max(maxAbs(hf.toTypedArray()), 1e-12);
    if (rel > worst.rel) worst = { worst: name, rel };
    if (!(rel <= TOL.gradRel)) bad.push(`${name}: rel ${rel.toExponential(2)}`);
  }
  return { ...worst, bad };
}

for (const kernelSet of KERNEL_SETS) {
  describe(`peft adapters vs Python peft [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    for (const name of CASES) {
      it(`${name}: logits, loss, trainable gradients and counts`, () => {
        const dir = join(DIR, name);
        const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Meta;
        const ref = loadSafetensors(join(dir, "reference.safetensors"));
        const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! };
        const adapters = Object.entries(meta.adapters);
        const first = adapters[0][0];

        // 1. Inference: the files peft saved, loaded as peft's PeftModel.from_pretrained does.
        const inf = loadPeftModel(loadBase(join(dir, "base")), join(dir, "adapter"), { adapterName: first });
        for (const [an, a] of adapters.slice(1)) loadPeftAdapter(inf, join(dir, a.dir), an);
        for (const [an] of adapters) {
          inf.setAdapter(an);
          const suffix = an === first ? "" : `_${an}`;
          const out = noGrad(() => inf.forward({ inputIds: input.inputIds, attentionMask: input.attentionMask }));
          const hf = ref.get(`logits${suffix}`)!;
          expect(out.logits.shape).toEqual(hf.shape);
          const d = maxAbsDiff(out.logits.toTypedArray(), hf.toTypedArray());
          console.log(`[${kernelSet}] ${name}/${an} (loaded from peft's files): logits max|diff| ${d.toExponential(2)}`);
          expect(d, `${name}/${an} logits`).toBeLessThanOrEqual(TOL.logits);
        }

        // Greedy generation (the first adapter), against peft's generate().
        if (ref.has("gen_sequences")) {
          inf.setAdapter(first);
          const prompts = ref.get("gen_input_ids")!;
          const eos = inf.config.eos_token_id as number;
          const seq = generate(inf, prompts, { maxNewTokens: 5, doSample: false, eosTokenId: eos, padTokenId: 0 }).sequences;
          const want = ref.get("gen_sequences")!.toArray() as number[][];
          expect(seq, `${name}: generate() tokens`).toEqual(want);
        }

        // 2. Training: the adapter made fresh from the same config, its parameters set to peft's
        // values (prefix-projection encoders are not in the adapter file), then loss and gradients.
        const base = loadBase(join(dir, "base"));
        const cfg0 = { ...readAdapterConfig(join(dir, "adapter")), inference_mode: false };
        const model = PeftModel.create(base, cfg0, { adapterName: first });
        for (const [an, a] of adapters.slice(1)) model.addAdapter(an, { ...readAdapterConfig(join(dir, a.dir)), inference_mode: false });
        const params = new Map(model.namedParameters());
        for (const [k, t] of ref) {
          if (!k.startsWith("param")) continue;
          const pname = k.slice(k.indexOf(".") + 1);
          const p = params.get(pname);
          if (!p) throw new Error(`tslm has no parameter "${pname}" (peft's name)`);
          expect(p.shape, pname).toEqual(t.shape);
          (p.data as Float32Array).set(t.toTypedArray() as Float32Array, p.offset);
        }
        for (const [an, a] of adapters) {
          const suffix = an === first ? "" : `_${an}`;
          model.setAdapter(an);
          model.eval();
          model.zeroGrad();
          const [trainable, total] = model.getNbTrainableParameters();
          expect([trainable, total], `${an}: get_nb_trainable_parameters`).toEqual([a.trainable, a.total]);
          const out = model.forward(input);
          const dLogits = maxAbsDiff(out.logits.toTypedArray(), ref.get(`logits${suffix}`)!.toTypedArray());
          const dLoss = Math.abs(out.loss!.item() - ref.get(`loss${suffix}`)!.item());
          out.loss!.backward();
          const g = checkGrads(model, ref, suffix, a.trainable_names);
          console.log(`[${kernelSet}] ${name}/${an}: logits ${dLogits.toExponential(2)}, loss ${dLoss.toExponential(2)}, worst grad ${g.worst} rel ${g.rel.toExponential(2)}, trainable ${trainable}/${total}`);
          expect(dLogits).toBeLessThanOrEqual(TOL.logits);
          expect(dLoss).toBeLessThanOrEqual(TOL.loss);
          expect(g.bad, "gradients over tolerance").toEqual([]);
        }
      });
    }
  });
}
