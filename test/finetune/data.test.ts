// Fine-tuning data: JSONL / CSV / JSON loaders and their errors (file:line and field), label sets
// (deterministic ids, values outside the set), seeded splits, PEFT flag validation, and the SFT
// masks (labels -100 exactly on prompt tokens and padding).
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InstructionCollator } from "../../src/data/index.js";
import { LabelSet, loadRecords, parseCSV, permutation, resolveDataSplits, splitSeeded, type ClassifyRecord } from "../../src/finetune/data.js";
import { peftConfigFromFlags, plainStateDict } from "../../src/finetune/peft_flags.js";
import { DEFAULT_CHAT_TEMPLATE, encodeSFT } from "../../src/finetune/tasks.js";
import { ChatTemplate } from "../../src/prompting/chat_template.js";
import { sentimentTexts, tinyGpt2Dir } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "tslm-ftdata-"));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe("loaders", () => {
  it("reads JSONL, CSV (quotes, commas, newlines in fields) and JSON arrays", () => {
    const j = loadRecords("classify", file("a.jsonl", '{"text":"good","label":"pos"}\n\n{"text":"bad","label":"neg"}\n'));
    expect(j.map((r) => [(r as ClassifyRecord).text, (r as ClassifyRecord).label, r.origin.line])).toEqual([["good", "pos", 1], ["bad", "neg", 3]]);
    const c = loadRecords("seq2seq", file("b.csv", 'source,target\n"Hello, world","你好，世界"\n"two\nlines","say ""hi"""\n'));
    expect(c).toMatchObject([{ source: "Hello, world", target: "你好，世界", origin: { line: 2 } }, { source: "two\nlines", target: 'say "hi"', origin: { line: 3 } }]);
    const s = loadRecords("sft", file("c.json", JSON.stringify([{ prompt: "p", response: "r" }, { messages: [{ role: "user", content: "u" }, { role: "assistant", content: "a" }] }])));
    expect(s).toHaveLength(2);
    expect(parseCSV("a,b\r\n1,2\r\n", "x.csv")).toEqual([{ row: { a: "1", b: "2" }, line: 2 }]);
  });

  it("names the file, line and field of a bad record", () => {
    expect(() => loadRecords("classify", file("d.jsonl", '{"text":"ok","label":"a"}\n{"txt":"x","label":"a"}\n'))).toThrow(/d\.jsonl:2: missing field "text"/);
    expect(() => loadRecords("classify", file("e.jsonl", '{"text":"  ","label":"a"}\n'))).toThrow(/e\.jsonl:1: field "text" is empty/);
    expect(() => loadRecords("classify", file("f.jsonl", '{"text":"x"}\n'))).toThrow(/f\.jsonl:1: missing field "label"/);
    expect(() => loadRecords("seq2seq", file("g.jsonl", '{"source":"x","target":3}\n'))).toThrow(/g\.jsonl:1: field "target" must be a string/);
    expect(() => loadRecords("classify", file("h.jsonl", '{"text":"x","label":"a"}\n{oops\n'))).toThrow(/h\.jsonl:2: invalid JSON/);
    expect(() => loadRecords("sft", file("i.jsonl", '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}\n'))).toThrow(/i\.jsonl:1: the last message .* assistant/);
    expect(() => loadRecords("classify", file("j.csv", "text,label\nx,a,extra\n"))).toThrow(/j\.csv:2: 3 fields, but the header has 2/);
    expect(() => loadRecords("classify", file("k.jsonl", "\n"))).toThrow(/no examples/);
    expect(() => loadRecords("classify", file("l.txt", "x"))).toThrow(/unsupported data file type/);
  });

  it("finds train / validation / test files in a folder", () => {
    const d = join(tmp, "set");
    mkdirSync(d);
    writeFileSync(join(d, "train.jsonl"), "");
    writeFileSync(join(d, "dev.csv"), "");
    expect(resolveDataSplits(d)).toEqual({ train: join(d, "train.jsonl"), validation: join(d, "dev.csv"), test: undefined });
    expect(() => resolveDataSplits(join(tmp, "none"))).toThrow(/no such file or folder/);
  });
});

describe("label sets", () => {
  const rec = (label: string | number, line = 1): ClassifyRecord => ({ text: "t", label, origin: { file: "x.jsonl", line } });
  it("sorts names (numbers numerically) so ids do not depend on file order", () => {
    expect(LabelSet.fromRecords([rec("pos"), rec("neg"), rec("pos")]).names).toEqual(["neg", "pos"]);
    expect(LabelSet.fromRecords([rec("10"), rec("9"), rec("1")]).names).toEqual(["1", "9", "10"]);
    expect(LabelSet.fromRecords([rec(2), rec(0)]).names).toEqual(["LABEL_0", "LABEL_1", "LABEL_2"]);
    const l = new LabelSet(["neg", "pos"]);
    expect(l.id2label).toEqual({ "0": "neg", "1": "pos" });
    expect(l.label2id).toEqual({ neg: 0, pos: 1 });
    expect(LabelSet.fromConfig({ "1": "b", "0": "a" }).names).toEqual(["a", "b"]);
  });
  it("rejects labels outside the set, naming the line", () => {
    const l = new LabelSet(["neg", "pos"]);
    expect(() => l.idOf(rec("neutral", 7))).toThrow(/x\.jsonl:7: label "neutral" is not in the label set \("neg", "pos"\)/);
    expect(() => l.idOf(rec(2, 9))).toThrow(/x\.jsonl:9: label id 2 is outside the label set/);
    expect(() => LabelSet.fromRecords([rec(1), rec("a", 4)])).toThrow(/x\.jsonl:4: .*use one kind/);
  });
});

describe("seeded splits", () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  it("are deterministic, disjoint, complete, and keep input order inside each part", () => {
    const a = splitSeeded(items, { validation: 0.1, test: 20 }, 42);
    expect(splitSeeded(items, { validation: 0.1, test: 20 }, 42)).toEqual(a);
    expect([a.train.length, a.validation.length, a.test.length]).toEqual([70, 10, 20]);
    expect([...a.train, ...a.validation, ...a.test].sort((x, y) => x - y)).toEqual(items);
    for (const part of [a.train, a.validation, a.test]) expect([...part].sort((x, y) => x - y)).toEqual(part);
    expect(splitSeeded(items, { validation: 0.1, test: 20 }, 43).test).not.toEqual(a.test);
    // The permutation is pinned (tslm's Generator): a change would silently change every prepared split.
    expect(permutation(8, 1)).toEqual(permutation(8, 1));
    expect(() => splitSeeded([1, 2], { test: 2 }, 0)).toThrow(/leave some for training/);
  });
});

describe("PEFT flags", () => {
  const o = { task: "classify", head: "score", taskType: "SEQ_CLS" };
  it("builds peft configs", () => {
    const c = peftConfigFromFlags({ lora: "r=4,alpha=8,targets=c_attn,c_proj,dropout=0.05" }, o)!;
    expect(c).toMatchObject({ peft_type: "LORA", r: 4, lora_alpha: 8, lora_dropout: 0.05, target_modules: ["c_attn", "c_proj"], modules_to_save: ["score"], task_type: "SEQ_CLS" });
    expect(peftConfigFromFlags({}, o)).toBeNull();
    expect(peftConfigFromFlags({ prefix: 4 }, { ...o, task: "sft", head: null, taskType: "CAUSAL_LM" })).toMatchObject({ peft_type: "PREFIX_TUNING", num_virtual_tokens: 4 });
    expect(peftConfigFromFlags({ adapter: "size=8,locations=mlp" }, o)).toMatchObject({ peft_type: "TSLM_BOTTLENECK", bottleneck_size: 8, adapter_locations: ["mlp"] });
  });
  it("rejects bad values before a model is loaded", () => {
    expect(() => peftConfigFromFlags({ lora: "r=0,targets=c_attn" }, o)).toThrow(/--lora: r must be a positive integer, got "0"/);
    expect(() => peftConfigFromFlags({ lora: "r=-2,targets=c_attn" }, o)).toThrow(/r must be a positive integer/);
    expect(() => peftConfigFromFlags({ lora: "r=8" }, o)).toThrow(/targets=\.\.\. is required/);
    expect(() => peftConfigFromFlags({ lora: "r=8,rank=3,targets=x" }, o)).toThrow(/unknown key "rank"/);
    expect(() => peftConfigFromFlags({ lora: "r=8,targets=x", prefix: 3 }, o)).toThrow(/choose one of/);
    expect(() => peftConfigFromFlags({ prefix: 3 }, o)).toThrow(/--prefix is available for --task sft only/);
    expect(() => peftConfigFromFlags({ promptTuning: 0 }, { ...o, task: "sft" })).toThrow(/positive integer/);
  });
});

describe("SFT masking", () => {
  it("labels are -100 exactly on the prompt tokens and on padding", () => {
    const { tok } = tinyGpt2Dir(join(tmp, "sft-model"), [...sentimentTexts(), "### Instruction:", "### Response:"]);
    const recs = [
      { prompt: "the movie was great", response: "pos", origin: { file: "s", line: 1 } },
      { messages: [{ role: "user", content: "the acting felt dull and the music was boring" }, { role: "assistant", content: "neg" }, { role: "user", content: "and the story?" }, { role: "assistant", content: "the story was tedious" }], origin: { file: "s", line: 2 } },
    ];
    const t = new ChatTemplate(DEFAULT_CHAT_TEMPLATE);
    const ex = encodeSFT(tok, recs, t);
    // The prompt is the rendered conversation up to the last reply, with the generation header.
    expect(tok.decode(Array.from(ex[0]!.prompt))).toBe("### Instruction:\nthe movie was great\n\n### Response:\n");
    expect(tok.decode(Array.from(ex[0]!.response))).toBe("pos");
    expect(tok.decode(Array.from(ex[1]!.response))).toBe("the story was tedious");
    const eos = tok.tokenToId("<|endoftext|>")!;
    const b = new InstructionCollator({ padId: eos, eosId: eos }).collate(ex);
    const [B, T] = b.labels.shape as [number, number];
    const lab = b.labels.toTypedArray();
    const ids = b.input_ids.toTypedArray();
    for (let r = 0; r < B; r++) {
      const P = ex[r]!.prompt.length;
      const R = ex[r]!.response.length + 1; // + EOS
      for (let i = 0; i < T; i++) {
        if (i < P || i >= P + R) expect(lab[r * T + i], `row ${r} pos ${i}`).toBe(-100);
        else expect(lab[r * T + i], `row ${r} pos ${i}`).toBe(ids[r * T + i]);
      }
      expect(ids[r * T + P + R - 1]).toBe(eos);
    }
  });
});

describe("plainStateDict", () => {
  it("drops adapter tensors and restores wrapped names", async () => {
    const { PeftModel } = await import("../../src/peft/index.js");
    const { fromPretrained } = await import("../../src/io/pretrained.js");
    const { dir } = tinyGpt2Dir(join(tmp, "peft-model"), sentimentTexts());
    const base = fromPretrained(dir);
    const names = base.namedParameters().map(([k]) => k).sort();
    const peft = PeftModel.create(base as never, peftConfigFromFlags({ lora: "r=2,targets=c_attn" }, { task: "sft", head: null, taskType: "CAUSAL_LM" })!);
    expect([...plainStateDict(peft.getBaseModel(), { trained: false }).keys()].sort()).toEqual(names);
    expect(() => PeftModel.create(fromPretrained(dir) as never, peftConfigFromFlags({ lora: "r=2,targets=q_proj" }, { task: "sft", head: null, taskType: "CAUSAL_LM" })!)).toThrow(/match no module/);
  });
});
