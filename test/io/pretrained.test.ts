// fromPretrained / savePretrained against transformers (fixtures made by
// tools/golden/io_pretrained.py): HF-saved directories (one sharded) load in tslm with transformers'
// logits, and tslm-saved directories loaded in transformers gave the logits tslm computes.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, fromPretrained, loadSafetensors, readConfig, readGenerationConfig, savePretrained, saveSafetensors } from "../../src/io/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { assertClose, readJSON, repoRoot } from "../helpers.js";
import { TINY_CASES, TINY_INPUT_IDS, tinyModel } from "./tiny_models.js";

const fx = (name: string): string => join(repoRoot, "fixtures/io", name);
const reference = loadSafetensors(fx("pretrained_reference.safetensors"));
const check = readJSON<{ cases: Record<string, { loading_info?: Record<string, string[]>; architectures?: string[]; num_parameters?: number }> }>("fixtures/io/pretrained_check.json");
const tmp = mkdtempSync(join(tmpdir(), "tslm-io-pretrained-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Logits: float32 forward of tiny models; summation order differs from PyTorch's.
const LOGITS_TOL = { atol: 1e-4, rtol: 0 };

const inputIds = (): Tensor => new Tensor(Int32Array.from(TINY_INPUT_IDS.flat()), [TINY_INPUT_IDS.length, TINY_INPUT_IDS[0].length]);

describe("fromPretrained on directories saved by transformers", () => {
  for (const name of ["hf_gpt2_sharded", "hf_llama"]) {
    it(`${name}: loads and reproduces transformers' logits`, () => {
      const ids = reference.get(`${name}.input_ids`)!;
      expect(Array.from(ids.toTypedArray())).toEqual(TINY_INPUT_IDS.flat());
      const model = fromPretrained(fx(name));
      model.eval();
      const logits = model.forward({ inputIds: inputIds() }).logits;
      const want = reference.get(`${name}.logits`)!;
      expect([...logits.shape]).toEqual([...want.shape]);
      assertClose(`${name} logits`, logits.toTypedArray(), want.toTypedArray(), LOGITS_TOL);
    });
  }

  it("errors name the directory, the config and the supported model types", () => {
    expect(() => fromPretrained(join(tmp, "missing"))).toThrow(/fromPretrained: .*missing does not exist/);
    const d = join(tmp, "bad_type");
    mkdirSync(d);
    writeFileSync(join(d, "config.json"), JSON.stringify({ model_type: "mamba" }));
    expect(() => fromPretrained(d)).toThrow(/bad_type\/config\.json: unsupported model_type "mamba" \(supported: .*gpt2.*llama/);
    const e = join(tmp, "no_weights");
    mkdirSync(e);
    cpSync(fx("hf_llama/config.json"), join(e, "config.json"));
    expect(() => fromPretrained(e)).toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
    expect(() => fromPretrained(tmp)).toThrow(/has no config\.json/);
  });

  it("a missing key or a wrong shape names the key, the shapes and the weights file", () => {
    const tensors = loadSafetensors(fx("hf_llama/model.safetensors"));
    const missing = join(tmp, "missing_key");
    mkdirSync(missing);
    cpSync(fx("hf_llama/config.json"), join(missing, "config.json"));
    const less = new Map(tensors);
    less.delete("model.layers.1.mlp.up_proj.weight");
    saveSafetensors(join(missing, "model.safetensors"), less);
    expect(() => fromPretrained(missing)).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
    expect(() => fromPretrained(missing)).toThrow(/missing_key\/model\.safetensors/);
    const wrong = join(tmp, "wrong_shape");
    mkdirSync(wrong);
    cpSync(fx("hf_llama/config.json"), join(wrong, "config.json"));
    const bad = new Map(tensors);
    bad.set("model.norm.weight", new Tensor(new Float32Array(8), [8]));
    saveSafetensors(join(wrong, "model.safetensors"), bad);
    expect(() => fromPretrained(wrong)).toThrow(/model\.norm\.weight.*\[8\].*\[16\]|model\.norm\.weight.*\[16\].*\[8\]/);
  });
});

describe("savePretrained directories load in transformers", () => {
  for (const name of Object.keys(TINY_CASES)) {
    it(`${name}: transformers loaded it with no missing/unexpected keys and computed tslm's logits`, () => {
      const info = check.cases[name];
      expect(info.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
      const model = tinyModel(name);
      expect(model.numParameters()).toBe(info.num_parameters);
      const logits = model.forward({ inputIds: inputIds() }).logits;
      assertClose(`${name} logits (tslm vs transformers loading tslm's save)`, logits.toTypedArray(), reference.get(`${name}.logits`)!.toTypedArray(), LOGITS_TOL);
    });
  }

  it("round-trips through tslm: same parameters, same files, config fields transformers needs", () => {
    for (const [name, c] of Object.entries(TINY_CASES)) {
      const model = tinyModel(name);
      const dir = join(tmp, `rt_${name}`);
      const res = savePretrained(model, dir, { maxShardSize: c.maxShardSize, generationConfig: { bos_token_id: 1, eos_token_id: 2 } });
      expect(res.written[res.written.length - 1]).toBe("config.json");
      expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
      const cfg = readConfig(dir);
      expect(cfg.architectures).toEqual(check.cases[name].architectures);
      expect(cfg.torch_dtype).toBe("float32");
      expect(cfg).not.toHaveProperty("transformers_version");
      expect(readGenerationConfig(dir)).toEqual({ bos_token_id: 1, eos_token_id: 2 });
      const again = fromPretrained(dir);
      const a = model.stateDict();
      const b = again.stateDict();
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [k, t] of a) expect(Array.from(b.get(k)!.toTypedArray()), k).toEqual(Array.from(t.toTypedArray()));
      // Saving the reloaded model again gives byte-identical weights.
      const dir2 = join(tmp, `rt2_${name}`);
      savePretrained(again, dir2, { maxShardSize: c.maxShardSize });
      for (const f of res.files) expect(Buffer.compare(readFileSync(join(dir, f)), readFileSync(join(dir2, f))), f).toBe(0);
    }
  });

  it("dtype bfloat16 / float16: half-size weights, torch_dtype set, values rounded like PyTorch", () => {
    const model = tinyModel("tslm_llama");
    for (const [dtype, conv, back] of [
      ["bfloat16", f32ToBf16, bf16ToF32],
      ["float16", f32ToF16, f16ToF32],
    ] as const) {
      const dir = join(tmp, `half_${dtype}`);
      savePretrained(model, dir, { dtype });
      expect(readConfig(dir).torch_dtype).toBe(dtype);
      const again = fromPretrained(dir);
      for (const [k, t] of model.stateDict()) {
        const want = back(conv(Float32Array.from(t.toTypedArray() as Float32Array)));
        expect(Array.from(again.stateDict().get(k)!.toTypedArray()), k).toEqual(Array.from(want));
      }
    }
    expect(() => savePretrained(model, join(tmp, "bad_dtype"), { dtype: "int8" as "float16" })).toThrow(/dtype must be "float32", "float16" or "bfloat16"/);
  });

  it("writes or copies the tokenizer", () => {
    const model = tinyModel("tslm_llama");
    const src = join(tmp, "tok_src");
    mkdirSync(src);
    writeFileSync(join(src, "tokenizer.json"), '{"version": "1.0"}');
    writeFileSync(join(src, "tokenizer_config.json"), "{}");
    const d1 = join(tmp, "tok1");
    expect(savePretrained(model, d1, { tokenizer: src }).written).toEqual(expect.arrayContaining(["tokenizer.json", "tokenizer_config.json"]));
    expect(readFileSync(join(d1, "tokenizer.json"), "utf8")).toBe('{"version": "1.0"}');
    const d2 = join(tmp, "tok2");
    savePretrained(model, d2, { tokenizer: { toJSON: () => ({ version: "1.0", model: { type: "BPE" } }) } });
    expect(JSON.parse(readFileSync(join(d2, "tokenizer.json"), "utf8"))).toEqual({ version: "1.0", model: { type: "BPE" } });
  });
});
