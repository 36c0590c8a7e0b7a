// Unit tests of the trainer parts: expected values from Hugging Face `tokenizers`' own Rust unit
// tests (bpe/trainer.rs test_train and bpe_test_max_token_length_direct_assert,
// unigram/trainer.rs test_unigram_chars), plus the streaming reader, the heap, the suffix array
// and the training front ends.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MaxHeap } from "../../src/tokenizers/trainers/heap.js";
import { trainBpe } from "../../src/tokenizers/trainers/bpe.js";
import {
  bertNormalize,
  bertPreTokenize,
  byteLevelPipeline,
  metaspacePipeline,
  toByteLevel,
} from "../../src/tokenizers/trainers/pipelines.js";
import { forEachLcpInterval, lcpArray, seedPieces, suffixArray, toCodePoints } from "../../src/tokenizers/trainers/unigram.js";
import { countWords, forEachLine } from "../../src/tokenizers/trainers/words.js";
import { mapWords, pipelineFor, trainTokenizerFromFiles, trainTokenizerFromTexts, TRAINER_TYPES } from "../../src/tokenizers/trainers/index.js";
import { NormalizedString, PreTokenizedString } from "../../src/tokenizers/normalized.js";
import { normalizerFromJSON } from "../../src/tokenizers/normalizers.js";
import { preTokenizerFromJSON } from "../../src/tokenizers/pre_tokenizers.js";
import { readFileSync } from "node:fs";

const counts = (entries: [string, number][]) => new Map(entries);

describe("trainBpe on HF's unit-test word counts", () => {
  it("test_train: min_frequency 2 gives 're', 'are', 'is' after the sorted alphabet", () => {
    const wc = counts([
      ["roses", 1], ["are", 2], ["red", 1], ["voilets", 1], ["blue", 1], ["BERT", 1],
      ["is", 2], ["big", 1], ["and", 1], ["so", 1], ["GPT-2", 1],
    ]);
    const r = trainBpe(wc, { vocabSize: 30000, minFrequency: 2 });
    expect(r.vocab).toEqual([
      "-", "2", "B", "E", "G", "P", "R", "T", "a", "b", "d", "e", "g", "i", "l", "n", "o", "r", "s",
      "t", "u", "v", "re", "are", "is",
    ]);
    expect(r.merges).toEqual([["r", "e"], ["a", "re"], ["i", "s"]]);
  });

  it("bpe_test_max_token_length_direct_assert: max_token_length 2", () => {
    const words = ["sin", "Sin", "Lon", "Ano", "짧은한", "긴한글", "短字符", "长字符", "短い文", "長い文", "so", "GP"];
    const r = trainBpe(counts(words.map((w) => [w, 2])), { vocabSize: 30000, maxTokenLength: 2 });
    const expected: Record<string, number> = {
      "短": 12, n: 6, i: 5, s: 8, "字符": 23, "長": 14, "긴": 17, "い文": 22, L: 2, in: 21, o: 7, "은한": 29,
      S: 4, P: 3, so: 27, "符": 13, "文": 11, "字": 10, "짧": 19, GP: 25, "글": 16, G: 1, An: 24, "长": 15,
      A: 0, Lo: 26, "긴한": 28, "い": 9, "한": 20, "은": 18,
    };
    expect(Object.fromEntries(r.vocab.map((t, i) => [t, i]))).toEqual(expected);
  });

  it("breaks count ties by the smaller pair of ids", () => {
    // "ab" and "cd" both occur 3 times; (a, b) has the smaller ids, so it merges first.
    const r = trainBpe(counts([["cd", 3], ["ab", 3]]), { vocabSize: 6 });
    expect(r.merges).toEqual([["a", "b"], ["c", "d"]]);
  });

  it("merges a run left to right without overlap ('aaaa' -> 'aa aa')", () => {
    const r = trainBpe(counts([["aaaa", 1]]), { vocabSize: 3 });
    expect(r.vocab).toEqual(["a", "aa", "aaaa"]);
    expect(r.merges).toEqual([["a", "a"], ["aa", "aa"]]);
  });

  it("drops characters beyond limitAlphabet and never merges below minFrequency", () => {
    const r = trainBpe(counts([["xy", 5], ["z", 1]]), { vocabSize: 100, limitAlphabet: 2, minFrequency: 6 });
    expect(r.vocab).toEqual(["x", "y"]);
    expect(r.merges).toEqual([]);
  });

  it("prefixes non-initial characters with continuingSubwordPrefix and strips it when merging", () => {
    const r = trainBpe(counts([["abc", 4]]), { vocabSize: 100, continuingSubwordPrefix: "##" });
    expect(r.vocab).toEqual(["a", "b", "c", "##b", "##c", "ab", "abc"]);
  });
});

describe("streaming lines", () => {
  const dir = mkdtempSync(join(tmpdir(), "tslm-train-"));

  it("keeps line endings (\\n and \\r\\n) and a last line without one", () => {
    const f = join(dir, "a.txt");
    writeFileSync(f, "one\r\ntwo\n\nthree");
    const lines: string[] = [];
    forEachLine([f], (l) => lines.push(l));
    expect(lines).toEqual(["one\r\n", "two\n", "\n", "three"]);
  });

  it("gives the same lines whatever the chunk size, with multi-byte characters cut by chunks", () => {
    const f = join(dir, "b.txt");
    const text = "中文分词 😀👍🏽\nnaïve café\n\n第三行 🇫🇷 end\n";
    writeFileSync(f, text);
    for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
      const lines: string[] = [];
      forEachLine([f], (l) => lines.push(l), { chunkBytes });
      expect(lines.join("")).toBe(text);
      expect(lines).toEqual(["中文分词 😀👍🏽\n", "naïve café\n", "\n", "第三行 🇫🇷 end\n"]);
    }
  });

  it("counts words over several files", () => {
    const f1 = join(dir, "c1.txt");
    const f2 = join(dir, "c2.txt");
    writeFileSync(f1, "a b a\n");
    writeFileSync(f2, "b a\n");
    const wc = countWords([f1, f2], (l) => l.trim().split(" "));
    expect([...wc.entries()].sort()).toEqual([["a", 3], ["b", 2]]);
  });

  it("stops at bytes that are not UTF-8, naming the file and byte offset (as HF refuses them)", () => {
    const cases: [string, Buffer, number][] = [
      ["latin1.txt", Buffer.from([0x61, 0x62, 0x0a, 0x63, 0xe8, 0x64, 0x0a]), 4],
      ["overlong.txt", Buffer.from([0x61, 0xc0, 0x80]), 1],
      ["surrogate.txt", Buffer.from([0x61, 0xed, 0xa0, 0x80]), 1],
      ["truncated.txt", Buffer.from([0x61, 0xe4, 0xb8]), 1],
      ["cut.txt", Buffer.from([0x61, 0x62, 0xf0, 0x9f, 0x98, 0x61]), 2],
    ];
    for (const [name, bytes, offset] of cases) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      for (const chunkBytes of [1, 2, 1 << 20]) {
        expect(() => forEachLine([f], () => {}, { chunkBytes }), `${name} chunk ${chunkBytes}`).toThrow(
          new RegExp(`${name.replace(".", "\\.")}: invalid UTF-8 at byte ${offset}`),
        );
      }
    }
    const lines: string[] = [];
    forEachLine([join(dir, "latin1.txt")], (l) => lines.push(l), { invalidUtf8: "replace" });
    expect(lines).toEqual(["ab\n", "c\ufffdd\n"]);
  });

  it("names a missing training file", () => {
    expect(() => countWords([join(dir, "nope.txt")], (l) => [l])).toThrow(/nope\.txt/);
  });
});

describe("training front ends", () => {
  it("byte-level: GPT-2 split and byte characters", () => {
    const p = byteLevelPipeline();
    expect([...p.split("Hello world's  end\n")]).toEqual(["Hello", " world", "'s", " ", " end", "\n"]);
    expect(toByteLevel(" héllo\n")).toBe("ĠhÃ©lloĊ");
  });

  it("bert: clean text, Chinese characters apart, accents stripped, lowercase, punctuation alone", () => {
    expect(bertPreTokenize(bertNormalize("Héllo,\tWORLD!中文\u200b ok"))).toEqual([
      "hello", ",", "world", "!", "中", "文", "ok",
    ]);
  });

  it("metaspace: whitespace split, ▁ before every word", () => {
    expect([...metaspacePipeline().split("Hello  world\n")]).toEqual(["▁Hello", "▁world"]);
  });
});

describe("training front ends agree with the core's components", () => {
  // The trainers cut text with small fast splitters; the trained tokenizer.json names the real
  // components, which the core's Tokenizer runs at encode time. They must give the same words.
  const corpus = readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "tokenizers_train", "corpus.txt"), "utf8");
  const tricky = [
    "Héllo,\tWORLD!中文\u200b ok", "ΣΊΣΥΦΟΣ ΌΔΟΣ", "naïve café Zürich Ångström ﬁ ＦＵＬＬ", "a\u00a0b\u2003c\u3000d\u0085e",
    "\u0000x\ufffdy\u00adz", "👨‍👩‍👧‍👦 🇫🇷 ❤️ 👍🏽", "日本語のテキスト、東京。", "don't I'll we've", "  leading\n\n\ttabs  ",
    "x▁y ▁▁z", "\u0e01\u0e34 \u0915\u093f \u1b34", "⁅brackets⁆ ‐dash‐ ¿qué? ¡sí!", "1,234.5e-6 0x1F", "",
  ];
  const lines = [...corpus.split(/(?<=\n)/).slice(0, 4000), ...tricky];
  for (const type of TRAINER_TYPES) {
    it(type, () => {
      const p = pipelineFor(type);
      const normalizer = p.normalizer === null ? null : normalizerFromJSON(p.normalizer, "normalizer");
      const preTokenizer = preTokenizerFromJSON(p.pre_tokenizer, "pre_tokenizer");
      for (const line of lines) {
        const n = NormalizedString.from(line);
        normalizer?.normalize(n);
        const pts = PreTokenizedString.from(n);
        preTokenizer.preTokenize(pts);
        const core = pts.splits.map((sp) => sp.normalized.normalized).filter((w) => w.length > 0);
        const mine = [...mapWords(new Map([...p.split(line)].map((w, i) => [w, i])), p).keys()];
        // compare as sequences (the Map above keeps order; duplicates within a line collapse)
        expect(mine, JSON.stringify(line)).toEqual([...new Map(core.map((w, i) => [w, i])).keys()]);
      }
    });
  }
});

describe("unigram seeds", () => {
  it("test_unigram_chars: seed strings and scores as HF", () => {
    const sentences = [
      { text: "This is a", cps: toCodePoints("This is a"), count: 1 },
      { text: "こんにちは友達", cps: toCodePoints("こんにちは友達"), count: 1 },
    ];
    const seeds = seedPieces(sentences, 16, 1_000_000);
    expect(seeds.map(([s]) => s)).toEqual(["s", "i", " ", "達", "友", "ん", "は", "に", "ち", "こ", "h", "a", "T", "is ", "s "]);
    const target = [-2.5649493574615367, -2.5649493574615367, -2.5649493574615367];
    for (let i = 0; i < 3; i++) expect(seeds[i]![1]).toBeCloseTo(target[i]!, 2);
    expect(seeds[13]![1]).toBeCloseTo(-1.4663370687934272, 2);
    expect(seeds[14]![1]).toBeCloseTo(-1.8718021769015916, 2);
  });

  it("suffix array and LCP intervals agree with brute force", () => {
    const text = toCodePoints("banana\0bandana\0ananas\0");
    const sa = suffixArray(text);
    const naive = [...Array(text.length).keys()].sort((a, b) => {
      for (let k = 0; ; k++) {
        if (a + k >= text.length) return -1;
        if (b + k >= text.length) return 1;
        if (text[a + k] !== text[b + k]) return text[a + k]! - text[b + k]!;
      }
    });
    expect([...sa]).toEqual(naive);
    // Every repeated substring that is an internal node: occurrences counted by brute force.
    const s = "banana\0bandana\0ananas\0";
    forEachLcpInterval(lcpArray(text, sa), (len, lb, rb) => {
      const sub = s.slice(sa[lb]!, sa[lb]! + len);
      let occ = 0;
      for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + 1)) occ++; // overlapping too
      expect(occ, sub).toBe(rb - lb + 1);
    });
  });
});

describe("MaxHeap", () => {
  it("pops in order of the given comparison", () => {
    const h = new MaxHeap<number>((a, b) => a > b);
    for (const x of [5, 1, 9, 3, 9, 7, 0]) h.push(x);
    const out: number[] = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
    expect(out).toEqual([9, 9, 7, 5, 3, 1, 0]);
  });
});

describe("trainTokenizerFromTexts", () => {
  it("trains on in-memory texts exactly as on the same text in a file", () => {
    const text = "one two three\ntwo three\n\nthree  four\r\nfive";
    const f = join(mkdtempSync(join(tmpdir(), "tslm-texts-")), "t.txt");
    writeFileSync(f, text);
    for (const type of TRAINER_TYPES) {
      const a = trainTokenizerFromTexts([text], { type, vocabSize: 300 });
      const b = trainTokenizerFromFiles([f], { type, vocabSize: 300 });
      expect(a, type).toEqual(b);
    }
  });

  it("rejects an unknown type and a bad vocabulary size by name", () => {
    expect(() => trainTokenizerFromTexts(["a"], { type: "sentencepiece" as never, vocabSize: 10 })).toThrow(
      /unknown tokenizer type "sentencepiece"; supported: bpe, wordpiece, unigram/,
    );
    expect(() => trainTokenizerFromTexts(["a"], { type: "bpe", vocabSize: 0 })).toThrow(/vocabSize/);
  });

  it("unigram refuses a vocabulary smaller than the alphabet", () => {
    expect(() => trainTokenizerFromTexts(["abcdefghij"], { type: "unigram", vocabSize: 5 })).toThrow(/too small/);
  });
});
