// Task models from pretrained directories: a BERT masked-LM checkpoint becomes a
// BertForSequenceClassification whose encoder weights are the checkpoint's and whose pooler and
// classifier are new (as transformers reports them); --from-scratch shares nothing; a classifier
// directory with other labels is refused; the seq2seq batch shapes for T5 follow HF's collator.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { fromPretrained } from "../../src/io/pretrained.js";
import { LabelSet } from "../../src/finetune/data.js";
import { buildTaskModel, encodeClassify, ExampleBatches, seq2seqCollate } from "../../src/finetune/tasks.js";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { repoRoot } from "../helpers.js";

const ENC = join(repoRoot, "fixtures", "models_encdec");

describe("buildTaskModel", () => {
  const labels = new LabelSet(["neg", "neu", "pos"]);
  it("BERT MLM -> BertForSequenceClassification: encoder copied, pooler and classifier new", () => {
    const dir = join(ENC, "bert_mlm");
    const { model, newlyInitialized, config } = buildTaskModel("classify", dir, { labels, seed: 1 });
    expect(config).toMatchObject({ architectures: ["BertForSequenceClassification"], num_labels: 3, id2label: { "0": "neg", "1": "neu", "2": "pos" } });
    expect(newlyInitialized.sort()).toEqual(["bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"]);
    const pre = new Map(fromPretrained(dir).namedParameters());
    const w = model.namedParameters().find(([k]) => k === "bert.encoder.layer.0.attention.self.query.weight")![1];
    expect(Array.from(w.toTypedArray())).toEqual(Array.from(pre.get("bert.encoder.layer.0.attention.self.query.weight")!.toTypedArray()));
    const scratch = buildTaskModel("classify", dir, { labels, seed: 1, fromScratch: true });
    const w2 = scratch.model.namedParameters().find(([k]) => k === "bert.encoder.layer.0.attention.self.query.weight")![1];
    expect(Array.from(w2.toTypedArray())).not.toEqual(Array.from(w.toTypedArray()));
  });
  it("refuses a task the family cannot do, and a classifier with other labels", () => {
    expect(() => buildTaskModel("seq2seq", join(ENC, "bert_mlm"), { seed: 1 })).toThrow(/--task seq2seq needs a t5 or transformer model/);
    expect(() => buildTaskModel("classify", join(ENC, "bert_cls"), { labels: new LabelSet(["a", "b", "c", "d", "e", "f", "g"]), seed: 1 })).toThrow(/is a classifier for labels/);
  });
});

describe("batches", () => {
  it("seq2seq batches: labels padded with -100, decoder inputs shifted right from the start id", () => {
    const src = new ExampleBatches([{ input_ids: [5, 6, 1], labels: [7, 1] }, { input_ids: [8, 1], labels: [9, 10, 1] }], 2, 0, seq2seqCollate(0, 0), false);
    const b = src.next().input as Record<string, { toTypedArray(): ArrayLike<number> }>;
    expect(Array.from(b.inputIds!.toTypedArray())).toEqual([5, 6, 1, 8, 1, 0]);
    expect(Array.from(b.labels!.toTypedArray())).toEqual([7, 1, -100, 9, 10, 1]);
    expect(Array.from(b.decoderInputIds!.toTypedArray())).toEqual([0, 7, 1, 0, 9, 10]);
  });
  it("epoch order is seeded and resumable", () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    const take = (s: ExampleBatches<number>, n: number) => Array.from({ length: n }, () => s.next().input as number[]).flat();
    const collate = (es: number[]) => ({ input: es, tokens: es.length });
    const a = new ExampleBatches(xs, 3, 7, collate);
    const first = take(a, 5);
    const state = a.getState();
    const rest = take(a, 4);
    const b = new ExampleBatches(xs, 3, 7, collate);
    b.setState(state);
    expect(take(b, 4)).toEqual(rest);
    expect([...first.slice(0, 10)].sort((x, y) => x - y)).toEqual(xs);
  });
});

describe("encodeClassify truncation side (HF truncation_side)", () => {
  const labels = new LabelSet(["neg", "pos"]);
  const rec = (text: string) => ({ text, label: "pos", origin: { file: "t.jsonl", line: 1 } });
  it("right keeps the start, left keeps the end; BERT's [CLS] and [SEP] stay in both", () => {
    const tok = Tokenizer.fromDirectory(join(ENC, "bert_mlm"));
    const text = "the plot was slow but the ending was great";
    const full = tok.encode(text).ids; // [CLS] w1 .. wn [SEP]
    expect(full.length).toBeGreaterThan(8);
    const body = full.slice(1, -1);
    const [right] = encodeClassify(tok, [rec(text)] as never, labels, 6);
    const [left] = encodeClassify(tok, [rec(text)] as never, labels, 6, "left");
    expect(right!.input_ids).toEqual([full[0], ...body.slice(0, 4), full.at(-1)]);
    expect(left!.input_ids).toEqual([full[0], ...body.slice(-4), full.at(-1)]);
    expect(left!.label).toBe(1);
    // Short texts are not cut on either side.
    const [short] = encodeClassify(tok, [rec("great")] as never, labels, 16, "left");
    expect(short!.input_ids).toEqual(tok.encode("great").ids);
  });
});
