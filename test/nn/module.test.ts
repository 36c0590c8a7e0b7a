// Module tree, ParamSource and checkpoint handling: paths equal Hugging Face keys, strict loading
// errors name full paths and shapes, fresh init follows the reference schemes, configs validate.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../../src/io/index.js";
import {
  GPT2LMHeadModel,
  Linear,
  LlamaForCausalLM,
  Module,
  ParamSource,
  createModel,
  loadModel,
  parseLlamaConfig,
  parseGPT2Config,
  zeros,
  type Parameter,
  type Tensor,
} from "../../src/index.js";
import { repoRoot } from "../helpers.js";

const fixture = (name: string) => {
  const dir = join(repoRoot, "fixtures", "models", name);
  return { config: JSON.parse(readFileSync(join(dir, "config.json"), "utf8")), weights: loadSafetensors(join(dir, "model.safetensors")) };
};

const gpt2Small = { model_type: "gpt2", vocab_size: 50, n_positions: 32, n_embd: 16, n_layer: 3, n_head: 2 };

describe("Module paths and state dicts", () => {
  it("parameter paths equal the checkpoint keys transformers wrote (GPT-2 and LLaMA, tied and untied)", () => {
    for (const name of ["gpt2_tiny", "llama_gqa", "llama_rope3_tied", "llama_linear_bias"]) {
      const { config, weights } = fixture(name);
      const m = createModel(config, ParamSource.init({ seed: 1 }));
      expect([...m.stateDict().keys()].sort(), name).toEqual([...weights.keys()].sort());
    }
  });

  it("tied lm_head shares the embedding's Parameter and is listed once", () => {
    const m = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 2 }));
    expect(m.lm_head.weight).toBe(m.transformer.wte.weight);
    const names = m.namedParameters().map(([k]) => k);
    expect(names).not.toContain("lm_head.weight");
    expect(names[0]).toBe("transformer.wte.weight");
    expect(names).toContain("transformer.h.2.mlp.c_proj.bias");
    expect(m.numParameters()).toBe(50 * 16 + 32 * 16 + 3 * (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 2 * 16);
  });

  it("train() / eval() reach every nested module", () => {
    const m = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 3 }));
    m.eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, x]) => x.training)).toBe(true);
    expect(m.transformer.h[1].attn.resid_dropout.training).toBe(true);
  });

  it("loadStateDict round-trips and copies in place (tied parameters stay tied)", () => {
    const a = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 4 }));
    const b = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 5 }));
    const wte = b.transformer.wte.weight;
    b.loadStateDict(a.stateDict());
    expect(b.transformer.wte.weight).toBe(wte);
    expect(b.lm_head.weight).toBe(wte);
    for (const [k, p] of a.namedParameters()) expect(Array.from(b.stateDict().get(k)!.toTypedArray()), k).toEqual(Array.from(p.toTypedArray()));
  });
});

describe("strict loading errors name full paths and shapes", () => {
  const model = () => new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 6 }));

  it("loadStateDict: missing key", () => {
    const sd = model().stateDict();
    sd.delete("transformer.h.1.attn.c_attn.weight");
    expect(() => model().loadStateDict(sd)).toThrow(/missing key\(s\): "transformer\.h\.1\.attn\.c_attn\.weight" \[16, 48\]/);
  });

  it("loadStateDict: unexpected key", () => {
    const sd = model().stateDict();
    sd.set("transformer.h.9.mlp.c_fc.weight", zeros([16, 64]));
    expect(() => model().loadStateDict(sd)).toThrow(/unexpected key\(s\): "transformer\.h\.9\.mlp\.c_fc\.weight" \[16, 64\]/);
  });

  it("loadStateDict: shape mismatch names both shapes; nothing is copied", () => {
    const m = model();
    const before = m.transformer.ln_f.weight.toTypedArray();
    const sd = model().stateDict();
    sd.set("transformer.h.0.mlp.c_proj.weight", zeros([16, 64]));
    expect(() => m.loadStateDict(sd)).toThrow(/shape mismatch for "transformer\.h\.0\.mlp\.c_proj\.weight": checkpoint \[16, 64\], model \[64, 16\]/);
    expect(Array.from(m.transformer.ln_f.weight.toTypedArray())).toEqual(Array.from(before));
  });

  it("loadStateDict: known buffers (attn.bias, attn.masked_bias) and a tied lm_head copy are accepted", () => {
    const sd = model().stateDict();
    sd.set("transformer.h.0.attn.bias", zeros([1, 1, 32, 32]));
    sd.set("transformer.h.0.attn.masked_bias", zeros([]));
    sd.set("lm_head.weight", zeros([50, 16]));
    expect(() => model().loadStateDict(sd)).not.toThrow();
  });

  it("load ParamSource: a missing key is an error naming the path, shape, mode and file", () => {
    const { config, weights } = fixture("llama_gqa");
    weights.delete("model.layers.1.mlp.up_proj.weight");
    expect(() => loadModel(config, weights, { origin: "x/model.safetensors" })).toThrow(
      /loading from x\/model\.safetensors\): missing key "model\.layers\.1\.mlp\.up_proj\.weight" \(expected shape \[64, 32\]\)/,
    );
  });

  it("load ParamSource: shape mismatch and unexpected keys", () => {
    const { config, weights } = fixture("llama_gqa");
    const w2 = new Map(weights);
    w2.set("model.norm.weight", zeros([31]));
    expect(() => loadModel(config, w2)).toThrow(/shape mismatch for "model\.norm\.weight": checkpoint has \[31\], the model expects \[32\]/);
    const w3 = new Map(weights);
    w3.set("model.layers.0.self_attn.extra.weight", zeros([2]));
    expect(() => loadModel(config, w3)).toThrow(/unexpected key\(s\) in the checkpoint: "model\.layers\.0\.self_attn\.extra\.weight" \[2\]/);
  });

  it("GPT-2 checkpoints without the transformer. prefix (GPT2Model saves) load through the key table", () => {
    const { config, weights } = fixture("gpt2_tiny");
    const bare = new Map<string, Tensor>([...weights].map(([k, v]) => [k.replace(/^transformer\./, ""), v]));
    bare.set("h.0.attn.bias", zeros([1, 1, 64, 64]));
    const m = loadModel(config, bare);
    expect(Array.from((m as GPT2LMHeadModel).transformer.wpe.weight.toTypedArray())).toEqual(Array.from(weights.get("transformer.wpe.weight")!.toTypedArray()));
  });

  it("the source's mode is visible in types and messages", () => {
    const init = ParamSource.init({ seed: 1 });
    const load = ParamSource.load(new Map());
    expect(init.mode).toBe("init");
    expect(load.mode).toBe("load");
    class One extends Module {
      readonly lin: Linear;
      constructor(src: ParamSource) {
        super();
        this.lin = new Linear(src.at("lin"), 2, 3);
      }
    }
    expect(() => new One(load.at("encoder"))).toThrow(/ParamSource \(loading from a checkpoint\): missing key "encoder\.lin\.weight" \(expected shape \[3, 2\]\)/);
    expect(new One(init).namedParameters().map(([k]) => k)).toEqual(["lin.weight", "lin.bias"]);
  });
});

function stats(p: Parameter): { mean: number; std: number; n: number } {
  const d = p.toTypedArray();
  let s = 0;
  let s2 = 0;
  for (const v of d) {
    s += v;
    s2 += v * v;
  }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(s2 / d.length - mean * mean), n: d.length };
}

/** Sampling error: |mean| < 5 std / sqrt(n), |std - want| < 5 want / sqrt(2n). */
function expectNormal(name: string, p: Parameter, want: number): void {
  const { mean, std, n } = stats(p);
  expect(Math.abs(mean), `${name} mean`).toBeLessThan((5 * want) / Math.sqrt(n));
  expect(Math.abs(std - want), `${name} std ${std} vs ${want}`).toBeLessThan((5 * want) / Math.sqrt(2 * n));
}

function expectConst(name: string, p: Parameter, v: number): void {
  expect(p.toTypedArray().every((x) => x === v), `${name} all ${v}`).toBe(true);
}

describe("fresh initialisation follows the reference schemes", () => {
  it("GPT-2: normal(0, 0.02), residual projections 0.02/sqrt(2 n_layer), zero biases, unit norms", () => {
    const cfg = { ...gpt2Small, n_embd: 64, n_layer: 4, n_head: 4, vocab_size: 500, initializer_range: 0.02 };
    const m = new GPT2LMHeadModel(cfg, ParamSource.init({ seed: 7 }));
    const resid = 0.02 / Math.sqrt(2 * 4);
    for (const [k, p] of m.namedParameters()) {
      if (/c_proj\.weight$/.test(k)) expectNormal(k, p, resid);
      else if (/(c_attn|c_fc)\.weight$|wte|wpe/.test(k)) expectNormal(k, p, 0.02);
      else if (/ln_.*\.weight$/.test(k)) expectConst(k, p, 1);
      else if (/bias$/.test(k)) expectConst(k, p, 0);
      else throw new Error(`unclassified parameter ${k}`);
    }
  });

  it("LLaMA: normal(0, initializer_range) for every Linear and the embedding, zero padding row, unit norms", () => {
    const cfg = { model_type: "llama", vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, initializer_range: 0.05, pad_token_id: 7 };
    const m = new LlamaForCausalLM(cfg, ParamSource.init({ seed: 8 }));
    for (const [k, p] of m.namedParameters()) {
      if (/norm\.weight$/.test(k)) expectConst(k, p, 1);
      else expectNormal(k, p, 0.05);
    }
    const row = m.model.embed_tokens.weight.toTypedArray().subarray(7 * 64, 8 * 64);
    expect(row.every((x) => x === 0)).toBe(true);
  });

  it("the same seed gives the same model; another seed another", () => {
    const a = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 9 })).transformer.h[0].attn.c_attn.weight.toTypedArray();
    const b = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 9 })).transformer.h[0].attn.c_attn.weight.toTypedArray();
    const c = new GPT2LMHeadModel(gpt2Small, ParamSource.init({ seed: 10 })).transformer.h[0].attn.c_attn.weight.toTypedArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe("configs: HF field names, validated, unknown keys kept", () => {
  it("unknown keys are kept for round-trip; defaults follow transformers", () => {
    const c = parseGPT2Config({ model_type: "gpt2", n_embd: 32, n_head: 4, my_extra: [1, 2], architectures: ["GPT2LMHeadModel"] });
    expect(c.my_extra).toEqual([1, 2]);
    expect(c.architectures).toEqual(["GPT2LMHeadModel"]);
    expect(c.activation_function).toBe("gelu_new");
    expect(c.n_layer).toBe(12);
    const l = parseLlamaConfig({ model_type: "llama", hidden_size: 64, num_attention_heads: 8, rope_theta: 500000, rope_scaling: { type: "linear", factor: 2 } });
    expect(l.num_key_value_heads).toBe(8);
    expect(l.head_dim).toBe(8);
    expect(l.rope_parameters).toEqual({ rope_type: "linear", rope_theta: 500000, factor: 2 });
  });

  it("math-changing features tslm does not implement are errors", () => {
    expect(() => parseLlamaConfig({ hidden_size: 64, num_attention_heads: 8, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/rope type "yarn" is not supported by tslm \(supported: default, linear, dynamic, llama3\)/);
    expect(() => parseLlamaConfig({ hidden_size: 64, num_attention_heads: 8, rope_parameters: { rope_type: "default", rope_theta: 1e4, partial_rotary_factor: 0.5 } })).toThrow(/partial_rotary_factor/);
    expect(() => parseGPT2Config({ add_cross_attention: true })).toThrow(/add_cross_attention/);
    expect(() => parseGPT2Config({ activation_function: "mish" })).toThrow(/"activation_function" = "mish" is not supported/);
    expect(() => parseGPT2Config({ n_embd: 30, n_head: 4 })).toThrow(/divisible/);
    expect(() => parseLlamaConfig({ hidden_size: 64, num_attention_heads: 8, num_key_value_heads: 3 })).toThrow(/multiple of num_key_value_heads/);
    expect(() => parseLlamaConfig({ vocab_size: "big" })).toThrow(/"vocab_size" must be an integer/);
  });

  it("an unknown model_type lists the supported ones", () => {
    expect(() => createModel({ model_type: "mamba" }, ParamSource.init())).toThrow(/unsupported model_type "mamba" \(supported: gpt2, llama/);
  });
});
