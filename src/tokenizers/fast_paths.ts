// Fast paths for the two common pipelines, taken when the normalizer left every split with an
// identity alignment (unit i of the text is unit i of the input):
//
//   byte-level BPE (GPT-2, LLaMA-3, Qwen3): [Split(regex, Isolated)] + ByteLevel(no prefix space) -> BPE
//   BERT: BertPreTokenizer -> WordPiece (or any model)
//
// The general pipeline builds a NormalizedString (with per-unit alignments) for every word; here a
// word is just a substring, and (byte-level) a cache maps each distinct word straight to its token
// ids and offsets inside the word. The output is identical to the general path (the golden tests
// run through both; whatever a fast path declines goes the general way).

import type { PreTokenizer } from "./pre_tokenizers.js";
import { BertPreTokenizer, ByteLevel, BYTE_TO_CHAR, GPT2_PATTERN, PreTokenizerSequence, Split, isPunctuation } from "./pre_tokenizers.js";
import { isWhitespace } from "./normalized.js";
import type { Model } from "./models/index.js";
import { BPE } from "./models/bpe.js";
import { charAt } from "./normalized.js";
import type { Offsets } from "./normalized.js";
import { compileRegex, escapeRegex } from "./regex.js";

interface WordTokens {
  ids: Int32Array;
  /** Offsets inside the word, in code units of the original word. */
  starts: Int32Array;
  ends: Int32Array;
}

const utf8 = new TextEncoder();

/** Growing output columns (offsets in code units of the whole input). */
export interface TokenColumns {
  ids: number[];
  tokens: string[];
  starts: number[];
  ends: number[];
  wordIds: Array<number | null>;
}

export class FastByteLevelBPE {
  private readonly cache = new Map<string, WordTokens>();
  private readonly cacheCapacity = 100_000;

  private constructor(
    private readonly re: RegExp,
    private readonly model: BPE,
  ) {}

  /** The fast path for this pipeline, or null when it does not apply. */
  static detect(pre: PreTokenizer | null, model: Model): FastByteLevelBPE | null {
    if (!(model instanceof BPE) || !pre) return null;
    if (pre instanceof ByteLevel) {
      if (pre.addPrefixSpace || !pre.useRegex) return null;
      return new FastByteLevelBPE(compileRegex(GPT2_PATTERN), model);
    }
    if (pre instanceof PreTokenizerSequence && pre.pretokenizers.length === 2) {
      const [a, b] = pre.pretokenizers;
      if (!(a instanceof Split) || !(b instanceof ByteLevel)) return null;
      if (a.behavior !== "Isolated" || a.invert || b.addPrefixSpace || b.useRegex) return null;
      const re = "Regex" in a.pattern ? compileRegex(a.pattern.Regex) : new RegExp(escapeRegex(a.pattern.String), "gu");
      return new FastByteLevelBPE(re, model);
    }
    return null;
  }

  /** Tokenize `text` (which sits at `shift` in the input); returns the next word id. */
  /** Emits words until `out` holds `maxTotal` tokens (HF's early stop under truncation). */
  encode(text: string, shift: number, firstWordId: number, out: TokenColumns, maxTotal = Infinity): number {
    let wordId = firstWordId;
    if (text.length === 0) return wordId;
    const vocabR = this.model.vocabR;
    const re = this.re;
    // Isolated split: every match and every gap between matches is a word.
    let prev = 0;
    re.lastIndex = 0;
    for (;;) {
      const m = re.exec(text);
      let s: number;
      let e: number;
      if (m) {
        s = m.index;
        e = s + m[0].length;
        if (e === s) {
          re.lastIndex = s + (s < text.length ? charAt(text, s).length : 1);
          if (s >= text.length) break;
          continue;
        }
        if (prev < s) {
          wordId = this.emit(text, prev, s, shift, wordId, vocabR, out);
          if (out.ids.length >= maxTotal) return wordId;
        }
        prev = e;
      } else break;
      wordId = this.emit(text, s, e, shift, wordId, vocabR, out);
      if (out.ids.length >= maxTotal) return wordId;
    }
    if (prev < text.length) wordId = this.emit(text, prev, text.length, shift, wordId, vocabR, out);
    return wordId;
  }

  private emit(text: string, s: number, e: number, shift: number, wordId: number, vocabR: string[], out: TokenColumns): number {
    const w = this.word(text.slice(s, e));
    const base = shift + s;
    const n = w.ids.length;
    for (let k = 0; k < n; k++) {
      const id = w.ids[k]!;
      out.ids.push(id);
      out.tokens.push(vocabR[id]!);
      out.starts.push(base + w.starts[k]!);
      out.ends.push(base + w.ends[k]!);
      out.wordIds.push(wordId);
    }
    return wordId + 1;
  }

  private word(word: string): WordTokens {
    const hit = this.cache.get(word);
    if (hit) return hit;
    // Byte-level form of the word, with the original char range of every unit.
    let bl = "";
    const aS: number[] = [];
    const aE: number[] = [];
    for (let i = 0; i < word.length; ) {
      const ch = charAt(word, i);
      const end = i + ch.length;
      const c = ch.charCodeAt(0);
      if (ch.length === 1 && c < 0x80) {
        bl += BYTE_TO_CHAR[c]!;
        aS.push(i);
        aE.push(end);
      } else {
        for (const b of utf8.encode(ch)) {
          bl += BYTE_TO_CHAR[b]!;
          aS.push(i);
          aE.push(end);
        }
      }
      i = end;
    }
    const toks = this.model.tokenize(bl);
    const n = toks.length;
    const w: WordTokens = { ids: new Int32Array(n), starts: new Int32Array(n), ends: new Int32Array(n) };
    for (let k = 0; k < n; k++) {
      const t = toks[k]!;
      w.ids[k] = t.id;
      const o: Offsets = t.offsets;
      w.starts[k] = o[0] < o[1] ? aS[o[0]]! : o[0];
      w.ends[k] = o[0] < o[1] ? aE[o[1] - 1]! : o[1];
    }
    if (word.length < 256) {
      if (this.cache.size >= this.cacheCapacity) this.cache.clear();
      this.cache.set(word, w);
    }
    return w;
  }
}

/** BertPreTokenizer (split on whitespace, isolate punctuation) followed by any model. */
export class FastBert {
  private constructor(private readonly model: Model) {}

  static detect(pre: PreTokenizer | null, model: Model): FastBert | null {
    return pre instanceof BertPreTokenizer ? new FastBert(model) : null;
  }

  encode(text: string, shift: number, firstWordId: number, out: TokenColumns, maxTotal = Infinity): number {
    let wordId = firstWordId;
    let start = -1; // start of the current word
    let stop = false;
    const flush = (end: number) => {
      if (stop) return;
      if (start >= 0 && end > start) {
        for (const t of this.model.tokenize(text.slice(start, end))) {
          out.ids.push(t.id);
          out.tokens.push(t.value);
          out.starts.push(shift + start + t.offsets[0]);
          out.ends.push(shift + start + t.offsets[1]);
          out.wordIds.push(wordId);
        }
        wordId++;
        if (out.ids.length >= maxTotal) stop = true;
      }
      start = -1;
    };
    for (let i = 0; i < text.length && !stop; ) {
      const c = text.charCodeAt(i);
      const ch = c >= 0xd800 && c <= 0xdbff ? charAt(text, i) : text[i]!;
      const end = i + ch.length;
      if (isWhitespace(ch)) flush(i);
      else if (isPunctuation(ch)) {
        flush(i);
        start = i;
        flush(end);
      } else if (start < 0) start = i;
      i = end;
    }
    flush(text.length);
    return wordId;
  }
}
