// PEFT behaviour that needs no Python at test time: merge / unmerge, adapter switching and
// disabling, the frozen base and the optimizer, file key names equal to peft's, the round trip
// outcome recorded by tools/golden/peft.py, errors before training, and the bottleneck adapter
// against its PyTorch re-implementation (fixtures/peft/gpt2_bottleneck) and finite differences.
import { describe, expect, it, beforeAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSafetensors } from "../../src/io/index.js";
import { AdamW, Generator, Linear, ParamSource, createModel, generate, gradcheck, noGrad, useKernels } from "../../src/index.js";
import { BottleneckAdapter, LoraLayer, PeftModel, bottleneckConfig, loraConfig, textInitIds, type PeftBaseModel } from "../../src/peft/index.js";
import { loadPeftAdapter, loadPeftModel, readAdapterConfig, savePeftModel } from "../../src/io/peft.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS, repoRoot } from "../helpers.js";
import { loadBase, maxAbsDiff } from "./helpers.js";

const DIR = join(repoRoot, "fixtures", "peft");
const batch = () => {
  const ref = loadSafetensors(join(DIR, "gpt2_lora", "reference.safetensors"));
  return { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")! };
};
const gpt2 = () => loadBase(join(DIR, "gpt2_lora", "base"));
const llama = () => loadBase(join(DIR, "llama_lora", "base"));
const snapshot = (m: { namedParameters(): [string, Tensor][] }) => new Map(m.namedParameters().map(([k, p]) => [k, Float32Array.from(p.toTypedArray())]));

describe("peft round trip (tslm-saved adapters loaded by Python peft)", () => {
  it("every case loaded in peft with identical logits (fixtures/peft/roundtrip.json, written by tools/golden/peft.py)", () => {
    const rt = JSON.parse(readFileSync(join(DIR, "roundtrip.json"), "utf8")) as { tolerance: number; cases: Record<string, { ok: boolean; loaded: boolean; max_abs_diff?: number; peft_type: string }> };
    const types = new Set(Object.values(rt.cases).map((c) => c.peft_type));
    expect([...types].sort()).toEqual(["IA3", "LORA", "PREFIX_TUNING", "PROMPT_TUNING"]);
    for (const [name, c] of Object.entries(rt.cases)) {
      expect(c.loaded, `${name} loaded by peft`).toBe(true);
      expect(c.max_abs_diff!, `${name} logits`).toBeLessThanOrEqual(rt.tolerance);
      expect(c.ok).toBe(true);
    }
  });
});

for (const kernelSet of KERNEL_SETS) {
  describe(`peft behaviour [${kernelSet}]`, () => {
    beforeAll(() => useKernels(kernelSet));

    it("LoRA merge equals unmerged logits; unmerge restores the base weights", () => {
      for (const [make, targets] of [
        [gpt2, ["c_attn", "c_proj", "c_fc"]],
        [llama, ["q_proj", "v_proj", "o_proj", "embed_tokens", "gate_proj"]],
      ] as const) {
        const base = make();
        const before = snapshot(base);
        const m = PeftModel.create(base, loraConfig({ r: 4, lora_alpha: 8, target_modules: [...targets], init_lora_weights: false }), { generator: new Generator(3) });
        m.eval();
        const x = batch();
        const unmerged = noGrad(() => m.forward(x).logits.toTypedArray());
        const plain = noGrad(() => m.withAdaptersDisabled(() => m.forward(x).logits.toTypedArray()));
        expect(maxAbsDiff(unmerged, plain)).toBeGreaterThan(1e-3); // the adapter does something
        m.mergeAdapter();
        const merged = noGrad(() => m.forward(x).logits.toTypedArray());
        expect(maxAbsDiff(merged, unmerged)).toBeLessThan(1e-5);
        expect(() => m.withAdaptersDisabled(() => m.forward(x))).toThrow(/merged/);
        m.unmergeAdapter();
        const after = noGrad(() => m.forward(x).logits.toTypedArray());
        expect(maxAbsDiff(after, unmerged)).toBeLessThan(1e-5);
        for (const [k, v] of snapshot(base)) {
          const orig = before.get(k.replace(".base_layer", ""));
          if (orig) expect(maxAbsDiff(v, orig), k).toBeLessThan(1e-6);
        }
      }
    });

    it("IA3 merge equals unmerged logits, unmerge restores the weights, mergeAndUnload gives the plain model", () => {
      for (const [make, cfg] of [
        [gpt2, { peft_type: "IA3", target_modules: ["c_attn", "mlp.c_proj"], feedforward_modules: ["mlp.c_proj"], fan_in_fan_out: true, init_ia3_weights: false }],
        [llama, { peft_type: "IA3", target_modules: ["k_proj", "v_proj", "down_proj"], feedforward_modules: ["down_proj"], init_ia3_weights: false }],
      ] as const) {
        const base = make();
        const names = base.namedParameters().map(([k]) => k);
        const before = snapshot(base);
        const m = PeftModel.create(base, { ...cfg }, { generator: new Generator(12) });
        m.eval();
        const x = batch();
        const want = noGrad(() => m.forward(x).logits.toTypedArray());
        m.mergeAdapter();
        expect(maxAbsDiff(noGrad(() => m.forward(x).logits.toTypedArray()), want)).toBeLessThan(1e-5);
        m.unmergeAdapter();
        for (const [k, v] of snapshot(base)) {
          const orig = before.get(k.replace(".base_layer", ""));
          if (orig) expect(maxAbsDiff(v, orig) / Math.max(1e-6, ...Array.from(orig, Math.abs)), k).toBeLessThan(1e-5);
        }
        const plain = m.mergeAndUnload();
        expect(plain.namedParameters().map(([k]) => k)).toEqual(names);
        expect(maxAbsDiff(noGrad(() => plain.forward(x).logits.toTypedArray()), want)).toBeLessThan(1e-5);
      }
    });

    it("mergeAndUnload gives the plain base model (original parameter names) with the adapter's logits", () => {
      for (const [make, targets, save] of [
        [gpt2, ["c_attn", "c_fc"], ["ln_f"]],
        [llama, ["q_proj", "v_proj", "embed_tokens"], null],
      ] as const) {
        const base = make();
        const names = base.namedParameters().map(([k]) => k);
        const m = PeftModel.create(base, loraConfig({ r: 4, target_modules: [...targets], modules_to_save: save ? [...save] : null, init_lora_weights: false }), { generator: new Generator(6) });
        for (const [k, p] of m.namedParameters()) if (k.includes(".modules_to_save.")) (p.data as Float32Array).fill(0.5);
        m.eval();
        const x = batch();
        const want = noGrad(() => m.forward(x).logits.toTypedArray());
        const plain = m.mergeAndUnload();
        expect(plain.namedParameters().map(([k]) => k)).toEqual(names);
        expect(plain.namedModules().some(([, mod]) => mod instanceof LoraLayer)).toBe(false);
        expect(maxAbsDiff(noGrad(() => plain.forward(x).logits.toTypedArray()), want)).toBeLessThan(1e-5);
      }
    });

    it("several adapters: setAdapter switches the output and which parameters train; disabled = base", () => {
      const base = gpt2();
      const x = batch();
      const ref = noGrad(() => base.forward(x).logits.toTypedArray());
      const m = PeftModel.create(base, loraConfig({ r: 2, target_modules: ["c_attn"], init_lora_weights: false }), { generator: new Generator(1) });
      m.addAdapter("other", loraConfig({ r: 3, target_modules: ["c_fc"], init_lora_weights: false }), { generator: new Generator(2) });
      m.eval();
      const a = noGrad(() => m.forward(x).logits.toTypedArray());
      m.setAdapter("other");
      const b = noGrad(() => m.forward(x).logits.toTypedArray());
      expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
      const trainable = m.namedParameters().filter(([, p]) => p.requiresGrad).map(([k]) => k);
      expect(trainable.length).toBe(4); // lora_A/B of c_fc in two layers
      expect(trainable.every((k) => k.includes(".other."))).toBe(true);
      expect(maxAbsDiff(noGrad(() => m.withAdaptersDisabled(() => m.forward(x).logits.toTypedArray())), ref)).toBe(0);
      expect(() => m.setAdapter("nope")).toThrow(/no adapter named "nope".*default, other/);
    });

    it("the base is frozen; the optimizer holds only adapter parameters and training moves only them", () => {
      const base = gpt2();
      const m = PeftModel.create(base, loraConfig({ r: 4, target_modules: ["c_attn"] }), { generator: new Generator(5) });
      const before = snapshot(m);
      const opt = new AdamW(m.trainableParameters(), { lr: 1e-2 });
      expect(() => new AdamW(m.parameters())).toThrow(/does not require grad/); // frozen base weights are refused
      const held = opt.paramGroups.flatMap((g) => g.params);
      expect(new Set(held)).toEqual(new Set(m.trainableParameters()));
      expect(held.reduce((s, p) => s + p.size, 0)).toBe(m.getNbTrainableParameters()[0]);
      const ref = loadSafetensors(join(DIR, "gpt2_lora", "reference.safetensors"));
      for (let step = 0; step < 2; step++) {
        opt.zeroGrad();
        m.forward({ ...batch(), labels: ref.get("labels")! }).loss!.backward();
        for (const p of m.parameters()) if (!p.requiresGrad) expect(p.grad, p.name).toBeFalsy();
        opt.step();
      }
      for (const [k, v] of snapshot(m)) {
        const moved = maxAbsDiff(v, before.get(k)!) > 0;
        expect(moved, k).toBe(k.includes("lora_")); // lora_B starts at zero, so both A and B move after two steps
      }
    });

    it("tslm writes peft's key names and config fields (same keys as peft's own file for the same config, every golden case)", () => {
      const meta = JSON.parse(readFileSync(join(DIR, "gpt2_lora", "meta.json"), "utf8"));
      const cfg = readAdapterConfig(join(DIR, "gpt2_lora", "adapter"));
      const m = PeftModel.create(gpt2(), { ...cfg, inference_mode: false });
      const dir = mkdtempSync(join(tmpdir(), "tslm-peft-"));
      try {
        savePeftModel(m, dir);
        expect([...loadSafetensors(join(dir, "adapter_model.safetensors")).keys()].sort()).toEqual(meta.adapters.default.saved_keys);
        const json = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
        for (const k of ["peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules", "bias", "fan_in_fan_out", "modules_to_save", "use_rslora", "inference_mode", "base_model_name_or_path", "revision"]) {
          expect(json, k).toHaveProperty(k);
        }
        expect(json.inference_mode).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // Every golden case: the keys tslm would save equal the keys in peft's own file.
      for (const name of readdirSync(DIR).filter((d) => existsSync(join(DIR, d, "meta.json")))) {
        const meta2 = JSON.parse(readFileSync(join(DIR, name, "meta.json"), "utf8"));
        if (!meta2.adapters) continue;
        const entries = Object.entries(meta2.adapters) as [string, { dir: string; saved_keys: string[] }][];
        const pm = PeftModel.create(loadBase(join(DIR, name, "base")), { ...readAdapterConfig(join(DIR, name, entries[0][1].dir)), inference_mode: false }, { adapterName: entries[0][0] });
        for (const [an, a] of entries.slice(1)) pm.addAdapter(an, { ...readAdapterConfig(join(DIR, name, a.dir)), inference_mode: false });
        for (const [an, a] of entries) expect([...pm.adapterStateDict(an).keys()].sort(), `${name}/${an}`).toEqual(a.saved_keys);
      }
    });

    it("bad input is an error before training: r, alpha, targets that match nothing, a different base model", () => {
      expect(() => loraConfig({ r: 0, target_modules: ["c_attn"] })).toThrow(/"r" must be a positive integer/);
      expect(() => loraConfig({ r: 4, lora_alpha: -1, target_modules: ["c_attn"] })).toThrow(/"lora_alpha" must be a number > 0/);
      expect(() => loraConfig({ r: 4, target_modules: ["c_attn"], use_dora: true } as never)).toThrow(/use_dora.*not implemented/);
      expect(() => loraConfig({ r: 4, target_modules: ["c_attn"], lora_rank: 3 } as never)).toThrow(/unknown key "lora_rank"/);
      expect(() => PeftModel.create(gpt2(), loraConfig({ target_modules: ["q_proj"] }))).toThrow(/match no module.*transformer\.h\.N\.attn\.c_attn/);
      expect(() => PeftModel.create(gpt2(), loraConfig({ target_modules: ["attn"] }))).toThrow(/"transformer.h.0.attn" \(GPT2Attention\).* are not supported/);
      // An adapter for another base: the LLaMA adapter's file loaded onto a wider LLaMA.
      const dir = mkdtempSync(join(tmpdir(), "tslm-peft-"));
      try {
        const src = join(DIR, "llama_lora", "adapter");
        const cfg = JSON.parse(readFileSync(join(src, "adapter_config.json"), "utf8"));
        writeFileSync(join(dir, "adapter_config.json"), JSON.stringify(cfg));
        writeFileSync(join(dir, "adapter_model.safetensors"), readFileSync(join(src, "adapter_model.safetensors")));
        const baseCfg = JSON.parse(readFileSync(join(DIR, "llama_lora", "base", "config.json"), "utf8"));
        const wide = createModel({ ...baseCfg, hidden_size: 48 }, ParamSource.init({ seed: 1 })) as unknown as PeftBaseModel;
        expect(() => loadPeftModel(wide, dir)).toThrow(/module "model\.layers\.0\.self_attn\.q_proj": the adapter's "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight" has shape \[8, 32\], this base model needs \[8, 48\]/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("prompt tuning TEXT init repeats the text's ids to num_virtual_tokens like peft", () => {
      expect(textInitIds([5, 6, 7], 8)).toEqual([5, 6, 7, 5, 6, 7, 5, 6]);
      expect(textInitIds([5, 6, 7], 2)).toEqual([5, 6]);
      const base = gpt2();
      const W = base.namedParameters().find(([k]) => k === "transformer.wte.weight")![1].toTypedArray();
      const m = PeftModel.create(base, { peft_type: "PROMPT_TUNING", num_virtual_tokens: 3, prompt_tuning_init: "TEXT", prompt_tuning_init_text: "hi" }, { tokenizer: { encode: () => [7, 9] } });
      const P = m.namedParameters().find(([k]) => k === "prompt_encoder.default.embedding.weight")![1].toTypedArray();
      const C = 32;
      for (const [i, id] of [7, 9, 7].entries()) expect(maxAbsDiff(P.subarray(i * C, (i + 1) * C), W.subarray(id * C, (id + 1) * C))).toBe(0);
    });

    it("bottleneck adapters (TSLM_BOTTLENECK) match the PyTorch re-implementation in tools/golden/peft.py", () => {
      const dir = join(DIR, "gpt2_bottleneck");
      const ref = loadSafetensors(join(dir, "reference.safetensors"));
      const m = loadPeftModel(loadBase(join(dir, "base")), join(dir, "adapter"), { isTrainable: true });
      m.eval();
      const out = m.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, labels: ref.get("labels")! });
      expect(maxAbsDiff(out.logits.toTypedArray(), ref.get("logits")!.toTypedArray())).toBeLessThan(1e-4);
      out.loss!.backward();
      const trainable = m.namedParameters().filter(([, p]) => p.requiresGrad);
      expect(trainable.length).toBe(16);
      for (const [k, p] of trainable) {
        const g = ref.get(`grad.${k}`)!.toTypedArray();
        let mx = 0;
        for (const v of g) mx = Math.max(mx, Math.abs(v));
        expect(maxAbsDiff(p.grad!.toTypedArray(), g) / mx, k).toBeLessThan(1e-3);
      }
      expect(m.getNbTrainableParameters()[0]).toBe(JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")).trainable);
    });

    it("bottleneck adapters: Pfeiffer placement (after the FFN only), identity at init, LLaMA sublayers, save / load", () => {
      const x = batch();
      const base = gpt2();
      const ref = noGrad(() => base.forward(x).logits.toTypedArray());
      const m = PeftModel.create(base, bottleneckConfig({ bottleneck_size: 4, non_linearity: "relu", adapter_locations: ["mlp"] }), { generator: new Generator(2) });
      const names = m.trainableParameters().map((p) => p.name);
      expect(m.namedParameters().filter(([, p]) => p.requiresGrad).map(([k]) => k)).toEqual([
        "base_model.model.transformer.h.0.mlp.adapter.down.weight", "base_model.model.transformer.h.0.mlp.adapter.down.bias",
        "base_model.model.transformer.h.0.mlp.adapter.up.weight", "base_model.model.transformer.h.0.mlp.adapter.up.bias",
        "base_model.model.transformer.h.1.mlp.adapter.down.weight", "base_model.model.transformer.h.1.mlp.adapter.down.bias",
        "base_model.model.transformer.h.1.mlp.adapter.up.weight", "base_model.model.transformer.h.1.mlp.adapter.up.bias",
      ]);
      expect(names.length).toBe(8);
      m.eval();
      expect(maxAbsDiff(noGrad(() => m.forward(x).logits.toTypedArray()), ref)).toBe(0); // up = 0: the identity
      for (const p of m.trainableParameters()) (p.data as Float32Array).forEach((_, i, a) => (a[i] = 0.1 * Math.sin(i + p.size)));
      const adapted = noGrad(() => m.forward(x).logits.toTypedArray());
      const dir = mkdtempSync(join(tmpdir(), "tslm-peft-"));
      try {
        savePeftModel(m, dir);
        expect(JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")).peft_type).toBe("TSLM_BOTTLENECK");
        const back = loadPeftModel(gpt2(), dir);
        expect(maxAbsDiff(noGrad(() => back.forward(x).logits.toTypedArray()), adapted)).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const l = PeftModel.create(llama(), bottleneckConfig({ bottleneck_size: 3 }));
      expect(l.getNbTrainableParameters()[0]).toBe(2 * 2 * (32 * 3 + 3 + 3 * 32 + 32)); // 2 layers x (self_attn, mlp)
    });

    it("bottleneck adapter and LoRA layer gradients agree with finite differences", () => {
      const src = ParamSource.init({ seed: 4 });
      const down = new Linear(src.at("d"), 6, 3);
      const up = new Linear(src.at("u"), 3, 6);
      const a = new BottleneckAdapter(down, up, "gelu_new");
      const x = new Tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), [2, 6]);
      x.requiresGrad = true;
      expect(gradcheck((h) => a.forward(h), [x], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 }).ok).toBe(true);
      const lin = new Linear(src.at("l"), 6, 5);
      const l = new LoraLayer(lin, "l");
      l.addAdapter("default", { r: 2, alpha: 4, dropout: 0, useRslora: false, init: false, generator: new Generator(8) });
      const A = l.lora_A.get("default")!.weight;
      const B = l.lora_B.get("default")!.weight;
      const res = gradcheck((h, _a, _b) => l.forward(h), [x, A, B], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
      expect(res.ok).toBe(true);
    });
  });
}

describe("peft with generate() and dropout", () => {
  it("greedy generation through a LoRA adapter equals generation with the adapter merged", () => {
    const m = PeftModel.create(loadBase(join(DIR, "gpt2_lora", "base")), loraConfig({ r: 4, lora_alpha: 16, target_modules: ["c_attn", "c_fc"], init_lora_weights: false }), { generator: new Generator(9) });
    m.eval();
    const prompts = [[5, 6, 7, 8], [9, 10, 11, 12]];
    const a = generate(m, prompts, { maxNewTokens: 6, doSample: false }).sequences;
    const plain = m.withAdaptersDisabled(() => generate(m, prompts, { maxNewTokens: 6, doSample: false }).sequences);
    m.mergeAdapter();
    const merged = generate(m.getBaseModel(), prompts, { maxNewTokens: 6, doSample: false }).sequences;
    expect(merged).toEqual(a);
    expect(plain).not.toEqual(a);
  });

  it("beam search runs through prefix and prompt tuning caches (beams reorder the virtual positions too)", () => {
    for (const c of [{ peft_type: "PREFIX_TUNING", num_virtual_tokens: 3 }, { peft_type: "PROMPT_TUNING", num_virtual_tokens: 2 }]) {
      const m = PeftModel.create(loadBase(join(DIR, "gpt2_lora", "base")), c, { generator: new Generator(4) });
      m.eval();
      const out = generate(m, [[5, 6, 7]], { maxNewTokens: 4, numBeams: 3, doSample: false, eosTokenId: 98, padTokenId: 0 });
      expect(out.sequences[0].length).toBeGreaterThan(3);
      expect(out.sequences[0].slice(0, 3)).toEqual([5, 6, 7]);
    }
  });

  it("lora_dropout drops in training mode only (inverted dropout on the LoRA input)", () => {
    const lin = new Linear(ParamSource.init({ seed: 2 }).at("l"), 64, 8);
    const l = new LoraLayer(lin, "l");
    l.addAdapter("default", { r: 4, alpha: 4, dropout: 0.5, useRslora: false, init: false, generator: new Generator(8) });
    const x = new Tensor(Float32Array.from({ length: 4 * 64 }, (_, i) => Math.cos(i)), [4, 64]);
    l.eval();
    const e1 = noGrad(() => l.forward(x).toTypedArray());
    const e2 = noGrad(() => l.forward(x).toTypedArray());
    expect(maxAbsDiff(e1, e2)).toBe(0);
    l.train();
    const t1 = noGrad(() => l.forward(x).toTypedArray());
    const t2 = noGrad(() => l.forward(x).toTypedArray());
    expect(maxAbsDiff(t1, t2)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(t1, e1)).toBeGreaterThan(1e-4);
  });
});
