// Golden test: tslm's tokenizers against Python `tokenizers` on the committed string table, for
// GPT-2, BERT uncased, LLaMA-2, LLaMA-3 and Qwen3. Ids, tokens, offsets (code points, as Python),
// masks, type ids and decode results must all be identical. Failures list the string and the
// first differing field for up to 10 strings.

import { describe, expect, it } from "vitest";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { TOKENIZER_NAMES, loadTokenizer, readGolden, readStrings, type GoldenCase } from "./helpers.js";

const { strings, pairs } = readStrings();

function firstDiff(name: string, got: unknown, want: unknown): string | null {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g === w) return null;
  return `${name}: got ${g.slice(0, 300)} want ${w.slice(0, 300)}`;
}

describe.each(TOKENIZER_NAMES)("%s matches Python tokenizers", (name) => {
  const golden = readGolden(name);

  it(`encodes and decodes all ${strings.length} table strings identically`, () => {
    expect(golden.cases.length).toBe(strings.length);
    const tok = loadTokenizer(name);
    const failures: string[] = [];
    strings.forEach((s, i) => {
      const want: GoldenCase = golden.cases[i]!;
      const e = tok.encode(s);
      const n = tok.encode(s, { addSpecialTokens: false });
      const half = n.ids.slice(0, Math.floor(n.ids.length / 2));
      const diffs = [
        firstDiff("ids", e.ids, want.ids),
        firstDiff("tokens", e.tokens, want.tokens),
        firstDiff("offsets", e.offsets, want.offsets),
        firstDiff("special", e.specialTokensMask, want.special),
        firstDiff("type_ids", e.typeIds, want.type_ids),
        firstDiff("word_ids", e.wordIds, want.word_ids),
        firstDiff("ids_ns", n.ids, want.ids_ns),
        firstDiff("offsets_ns", n.offsets, want.offsets_ns),
        firstDiff("decode", tok.decode(want.ids), want.decode),
        firstDiff("decode_skip", tok.decode(want.ids, { skipSpecialTokens: true }), want.decode_skip),
        firstDiff("decode_half", tok.decode(half), want.decode_half),
      ].filter((d): d is string => d !== null);
      if (diffs.length) failures.push(`#${i} ${JSON.stringify(s).slice(0, 80)}: ${diffs[0]}`);
    });
    if (failures.length) {
      throw new Error(`${name}: ${failures.length} of ${strings.length} strings differ from Python:\n${failures.slice(0, 10).join("\n")}`);
    }
  });

  it("gives the same output through the general pipeline (fast path off)", () => {
    const tok = loadTokenizer(name);
    const slow = Tokenizer.fromJSON(tok.toJSON());
    slow.useFastPath = false;
    const bad: number[] = [];
    strings.forEach((s, i) => {
      const want = golden.cases[i]!;
      const e = slow.encode(s);
      if (JSON.stringify([e.ids, e.offsets]) !== JSON.stringify([want.ids, want.offsets])) bad.push(i);
    });
    expect(bad, `strings differing through the general path`).toEqual([]);
  });

  it("encodes pre-split words like HF's is_pretokenized (per-word offsets, word ids)", () => {
    const tok = loadTokenizer(name);
    for (const c of golden.pretokenized) {
      const e = c.pair ? tok.encode(c.words, { pair: c.pair }) : tok.encode(c.words);
      const got = { ids: e.ids, offsets: e.offsets, word_ids: e.wordIds, type_ids: e.typeIds, special: e.specialTokensMask };
      expect(got, JSON.stringify(c.words)).toEqual({ ids: c.ids, offsets: c.offsets, word_ids: c.word_ids, type_ids: c.type_ids, special: c.special });
    }
  });

  it(`encodes ${pairs.length} sequence pairs identically (type ids, special tokens)`, () => {
    const tok = loadTokenizer(name);
    pairs.forEach(([a, b], i) => {
      const e = tok.encode(a, { pair: b });
      const want = golden.pairs[i]!;
      const got = { ids: e.ids, type_ids: e.typeIds, offsets: e.offsets, special: e.specialTokensMask, word_ids: e.wordIds, sequence_ids: e.sequenceIds };
      expect(got, `pair #${i}`).toEqual(want);
    });
  });
});
