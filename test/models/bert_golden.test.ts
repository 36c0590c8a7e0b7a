// BERT against Hugging Face transformers on tiny random checkpoints (fixtures/models_encdec/bert_*,
// tools/golden/models_encdec.py): BertForMaskedLM with token_type_ids, a right-padded batch and MLM
// labels, and BertForSequenceClassification (3 labels). Metrics in transformer_family_helpers.ts:
// logits <= 1e-4 max-abs, loss <= 1e-5, every parameter gradient <= 1e-3 relative to its tensor's
// max |value|; on both kernel sets.
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, useKernels } from "../../src/index.js";
import { BertForMaskedLM, BertForSequenceClassification, BertModel, createBert, parseBertConfig } from "../../src/models/bert.js";
import { ParamSource } from "../../src/nn/module.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { KERNEL_SETS } from "../helpers.js";
import { checkAgainstReference, checkSGDTrajectory, fixture } from "./transformer_family_helpers.js";

for (const kernelSet of KERNEL_SETS) {
  describe(`bert vs transformers [${kernelSet}]`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });

    for (const name of ["bert_mlm", "bert_cls"]) {
      it(`${name}: logits, loss and every parameter gradient`, () => {
        const { config, weights, ref } = fixture(name);
        const model = loadModel(config, weights, { origin: `fixtures/models_encdec/${name}` }).eval();
        expect(model).toBeInstanceOf(name === "bert_mlm" ? BertForMaskedLM : BertForSequenceClassification);
        const out = model.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, tokenTypeIds: ref.get("token_type_ids")!, labels: ref.get("labels")! } as never);
        checkAgainstReference(`[${kernelSet}] ${name}`, model, out, ref);
      });

      it(`${name}: a 6-step SGD loss trajectory`, () => {
        const { config, weights, ref } = fixture(name);
        const model = loadModel(config, weights).eval();
        const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, tokenTypeIds: ref.get("token_type_ids")!, labels: ref.get("labels")! } as never;
        checkSGDTrajectory(`[${kernelSet}] ${name}`, model, () => model.forward(input).loss!, ref);
      });
    }
  });
}

describe("bert config and heads", () => {
  it("reads id2label / label2id and infers num_labels", () => {
    const c = parseBertConfig({ model_type: "bert", id2label: { "0": "a", "1": "b", "2": "c" } });
    expect(c.num_labels).toBe(3);
    expect(c.label2id).toEqual({ a: 0, b: 1, c: 2 });
    expect(() => parseBertConfig({ hidden_act: "nope" })).toThrow(/hidden_act/);
    expect(() => parseBertConfig({ hidden_size: 30, num_attention_heads: 4 })).toThrow(/divisible/);
    expect(() => parseBertConfig({ problem_type: "ranking" })).toThrow(/problem_type/);
  });

  it("chooses the class from architectures, and an unknown one is an error", () => {
    const cfg = { model_type: "bert", vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 };
    expect(createBert(cfg, ParamSource.init({ seed: 1 }))).toBeInstanceOf(BertModel);
    expect(createBert({ ...cfg, architectures: ["BertForPreTraining"] }, ParamSource.init({ seed: 1 }))).toBeInstanceOf(BertForMaskedLM);
    expect(() => createBert({ ...cfg, architectures: ["BertForQuestionAnswering"] }, ParamSource.init())).toThrow(/BertForQuestionAnswering.*supported/);
  });

  it("regression and multi-label losses (MSE, BCE with logits)", () => {
    const base = { model_type: "bert", vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 };
    const ids = new Tensor(new Int32Array([2, 5, 6, 3, 2, 7, 3, 0]), [2, 4]);
    const reg = new BertForSequenceClassification({ ...base, num_labels: 1 }, ParamSource.init({ seed: 3 })).eval();
    const y = new Tensor(new Float32Array([0.5, -1]), [2]);
    const o = reg.forward({ inputIds: ids, labels: y });
    const l = o.logits.toTypedArray();
    expect(o.loss!.item()).toBeCloseTo(((l[0] - 0.5) ** 2 + (l[1] + 1) ** 2) / 2, 6);
    const ml = new BertForSequenceClassification({ ...base, num_labels: 2 }, ParamSource.init({ seed: 4 })).eval();
    const t = new Tensor(new Float32Array([1, 0, 0, 1]), [2, 2]);
    const o2 = ml.forward({ inputIds: ids, labels: t });
    const x = o2.logits.toTypedArray();
    const bce = (z: number, v: number) => Math.max(z, 0) - z * v + Math.log1p(Math.exp(-Math.abs(z)));
    expect(o2.loss!.item()).toBeCloseTo((bce(x[0], 1) + bce(x[1], 0) + bce(x[2], 0) + bce(x[3], 1)) / 4, 6);
  });
});

describe("bert checkpoints: strict keys, old-checkpoint extras, dropout", () => {
  it("a missing key names its full path; an unexpected key is listed", () => {
    const { config, weights } = fixture("bert_mlm");
    const missing = new Map(weights);
    missing.delete("bert.encoder.layer.1.output.LayerNorm.bias");
    expect(() => loadModel(config, missing, { origin: "x.safetensors" })).toThrow(/missing key "bert\.encoder\.layer\.1\.output\.LayerNorm\.bias" \(expected shape \[32\]\)/);
    const extra = new Map(weights);
    extra.set("bert.encoder.layer.9.output.dense.weight", new Tensor(new Float32Array(4), [2, 2]));
    expect(() => loadModel(config, extra)).toThrow(/unexpected key.*bert\.encoder\.layer\.9\.output\.dense\.weight/);
  });

  it("accepts what older / pre-training checkpoints carry: tied decoder copies, position_ids, pooler, NSP head", () => {
    const { config, weights, ref } = fixture("bert_mlm");
    const old = new Map(weights);
    const C = config.hidden_size as number;
    old.set("cls.predictions.decoder.weight", weights.get("bert.embeddings.word_embeddings.weight")!);
    old.set("cls.predictions.decoder.bias", weights.get("cls.predictions.bias")!);
    old.set("bert.embeddings.position_ids", new Tensor(new Int32Array(64), [1, 64]));
    old.set("bert.pooler.dense.weight", new Tensor(new Float32Array(C * C), [C, C]));
    old.set("bert.pooler.dense.bias", new Tensor(new Float32Array(C), [C]));
    old.set("cls.seq_relationship.weight", new Tensor(new Float32Array(2 * C), [2, C]));
    old.set("cls.seq_relationship.bias", new Tensor(new Float32Array(2), [2]));
    const m = loadModel({ ...config, architectures: ["BertForPreTraining"] }, old).eval();
    const out = m.forward({ inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, tokenTypeIds: ref.get("token_type_ids")! } as never);
    expect(out.logits.shape).toEqual(ref.get("logits")!.shape);
    // A tied copy with the wrong shape is an error naming both keys.
    old.set("cls.predictions.decoder.weight", new Tensor(new Float32Array(4), [2, 2]));
    expect(() => loadModel(config, old)).toThrow(/tied key "cls\.predictions\.decoder\.weight"/);
  });

  it("dropout is active in train() and off in eval()", () => {
    const { config, weights, ref } = fixture("bert_mlm");
    const m = loadModel(config, weights);
    const input = { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, tokenTypeIds: ref.get("token_type_ids")! } as never;
    const a = m.train().forward(input).logits.toTypedArray();
    const b = m.train().forward(input).logits.toTypedArray();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const c = m.eval().forward(input).logits.toTypedArray();
    const d = m.eval().forward(input).logits.toTypedArray();
    expect(Array.from(c)).toEqual(Array.from(d));
  });
});
