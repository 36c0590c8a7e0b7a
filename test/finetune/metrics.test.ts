// Metrics against golden values: BLEU and chrF vs Python sacrebleu 2.6.0 (fixtures/finetune/metrics.json,
// written by tools/golden/finetune.py), the 13a and zh tokenizers string for string, and the
// classification report on a hand-computed case.
import { describe, expect, it } from "vitest";
import { classificationReport, corpusBleu, corpusChrf, formatConfusion, sentenceBleu, tokenize13a, tokenizeZh, type BleuTokenizer } from "../../src/finetune/metrics.js";
import { readJSON } from "../helpers.js";

interface Case {
  name: string;
  hypotheses: string[];
  references: string[][];
  tokenize: BleuTokenizer;
  bleu: number;
  bleu_counts: number[];
  bleu_totals: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
  chrf: number;
  sentence_bleu: number[];
}
const golden = readJSON<{ sacrebleu: string; cases: Case[]; tokenizers: { text: string; "13a": string; zh: string }[] }>("fixtures/finetune/metrics.json");

describe("BLEU / chrF vs sacrebleu " + golden.sacrebleu, () => {
  it("tokenizers 13a and zh give sacrebleu's strings", () => {
    for (const t of golden.tokenizers) {
      expect(tokenize13a(t.text), t.text).toBe(t["13a"]);
      expect(tokenizeZh(t.text), t.text).toBe(t.zh);
    }
  });
  for (const c of golden.cases) {
    it(`${c.name}: corpus BLEU (${c.tokenize}), counts, chrF and sentence BLEU`, () => {
      const b = corpusBleu(c.hypotheses, c.references, { tokenize: c.tokenize });
      expect(b.counts).toEqual(c.bleu_counts);
      expect(b.totals).toEqual(c.bleu_totals);
      expect([b.sysLen, b.refLen]).toEqual([c.sys_len, c.ref_len]);
      expect(b.bp).toBeCloseTo(c.bp, 12);
      expect(b.score).toBeCloseTo(c.bleu, 10);
      expect(corpusChrf(c.hypotheses, c.references).score).toBeCloseTo(c.chrf, 10);
      c.sentence_bleu.forEach((s, i) => expect(sentenceBleu(c.hypotheses[i]!, c.references.map((r) => r[i]!), { tokenize: c.tokenize }).score).toBeCloseTo(s, 10));
    });
  }
  it("a hypothesis with no match scores 0; mismatched stream lengths are errors", () => {
    expect(corpusBleu(["x y z"], [["a b c"]]).score).toBe(0);
    expect(() => corpusBleu(["a", "b"], [["a"]])).toThrow(/reference stream 0 has 1 segments but there are 2/);
  });
});

describe("classification report", () => {
  it("accuracy, macro-F1 and the confusion matrix on a hand-computed case", () => {
    // true: a a a b b c ; pred: a a b b c c
    const r = classificationReport([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"]);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.confusion).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    // F1: a = 2*1*(2/3)/(5/3) = 0.8; b = p 1/2 r 1/2 -> 0.5; c = p 1/2 r 1 -> 2/3
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(formatConfusion(r)).toContain("true\\pred");
  });
  it("rejects predictions outside the label set", () => {
    expect(() => classificationReport([0], [3], ["a", "b"])).toThrow(/outside \[0, 2\)/);
  });
});
