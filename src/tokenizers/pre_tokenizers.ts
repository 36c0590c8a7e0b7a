// Pre-tokenizers: split the normalized text into words (and, for ByteLevel, map bytes to chars).
//
// Mirrors HF tokenizers/src/pre_tokenizers/*: ByteLevel (GPT-2 regex, add_prefix_space,
// use_regex), Whitespace (`\w+|[^\w\s]+`), WhitespaceSplit, BertPreTokenizer, Metaspace
// (replacement, prepend_scheme always/first/never, split), Split (string or regex pattern, the five
// delimiter behaviours, invert), Digits, Punctuation, CharDelimiterSplit, FixedLength,
// UnicodeScripts, Sequence. Regex patterns from tokenizer.json
// are Oniguruma patterns; regex.ts translates them to JavaScript.

import {
  NormalizedString, PreTokenizedString, SplitBehavior, charMatches, invertMatches, isWhitespace, regexMatches,
  stringMatches, charAt,
} from "./normalized.js";
import {
  JsonObject, asArray, asObject, checkKeys, getBool, getInt, getString, getType, join, TokenizerJsonError, Json,
} from "./json.js";
import { compileRegex, escapeRegex, rangesClass, WORD } from "./regex.js";
import { PatternJson, readPattern } from "./normalizers.js";
import { BERT_PUNCTUATION, RUST_WORD_GAP, inRanges, scriptClass } from "./unicode_tables.js";

export interface PreTokenizer {
  preTokenize(p: PreTokenizedString): void;
  toJSON(): JsonObject;
}

import { BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN, byteLevelTransform } from "./byte_level.js";
export { BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN, byteLevelTransform };

export class ByteLevel implements PreTokenizer {
  private readonly re: RegExp;
  constructor(readonly addPrefixSpace: boolean, readonly trimOffsets: boolean, readonly useRegex: boolean) {
    this.re = compileRegex(GPT2_PATTERN);
  }
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => {
      if (this.addPrefixSpace && !n.normalized.startsWith(" ")) n.prepend(" ");
      return this.useRegex ? n.split(regexMatches(this.re, n.normalized), "Isolated") : [n];
    });
    p.normalize(byteLevelTransform);
  }
  toJSON(): JsonObject {
    return { type: "ByteLevel", add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

/** HF Whitespace's `\\w+|[^\\w\\s]+` (Rust regex), with the chars its older tables do not count as \\w. */
function whitespaceRegex(): RegExp {
  const g = rangesClass(RUST_WORD_GAP);
  const word = g ? `(?:(?!${g})[${WORD}])` : `[${WORD}]`;
  const other = g ? `(?:[^${WORD}\\p{White_Space}]|${g})` : `[^${WORD}\\p{White_Space}]`;
  return new RegExp(`${word}+|${other}+`, "gu");
}

class Whitespace implements PreTokenizer {
  private readonly re = whitespaceRegex();
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => n.split(invertMatches(regexMatches(this.re, n.normalized)), "Removed"));
  }
  toJSON(): JsonObject {
    return { type: "Whitespace" };
  }
}

class WhitespaceSplit implements PreTokenizer {
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => n.split(charMatches(isWhitespace, n.normalized), "Removed"));
  }
  toJSON(): JsonObject {
    return { type: "WhitespaceSplit" };
  }
}

/**
 * HF `is_bert_punc` / `is_punc`: ASCII punctuation (which includes symbols like $ + <) or Unicode
 * punctuation by HF's own tables (unicode_tables.ts).
 */
export function isPunctuation(c: string): boolean {
  return inRanges(BERT_PUNCTUATION, c.codePointAt(0)!);
}

class BertPreTokenizer implements PreTokenizer {
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => n.split(charMatches(isWhitespace, n.normalized), "Removed"));
    p.split((_, n) => n.split(charMatches(isPunctuation, n.normalized), "Isolated"));
  }
  toJSON(): JsonObject {
    return { type: "BertPreTokenizer" };
  }
}

export type PrependScheme = "always" | "first" | "never";

export class Metaspace implements PreTokenizer {
  constructor(readonly replacement: string, readonly prependScheme: PrependScheme, readonly splitWords: boolean) {}
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => {
      n.replace(stringMatches(" ", n.normalized), this.replacement);
      if (this.prependScheme === "always") {
        if (!n.normalized.startsWith(this.replacement)) n.prepend(this.replacement);
      } else if (this.prependScheme === "first") {
        if (!n.normalized.startsWith(this.replacement) && n.originalShift === 0) n.prepend(this.replacement);
      }
      if (this.splitWords) return n.split(stringMatches(this.replacement, n.normalized), "MergedWithNext");
      return [n];
    });
  }
  toJSON(): JsonObject {
    return { type: "Metaspace", replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.splitWords };
  }
}

const BEHAVIORS: readonly SplitBehavior[] = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"];

class Split implements PreTokenizer {
  private readonly re: RegExp;
  constructor(readonly pattern: PatternJson, readonly behavior: SplitBehavior, readonly invert: boolean) {
    // HF compiles a String pattern as an escaped regex; the matches equal a literal search.
    this.re = "Regex" in pattern ? compileRegex(pattern.Regex) : new RegExp(escapeRegex(pattern.String), "gu");
  }
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => {
      let m = "String" in this.pattern ? stringMatches(this.pattern.String, n.normalized) : regexMatches(this.re, n.normalized);
      if (this.invert) m = invertMatches(m);
      return n.split(m, this.behavior);
    });
  }
  toJSON(): JsonObject {
    return { type: "Split", pattern: this.pattern as unknown as Json, behavior: this.behavior, invert: this.invert };
  }
}

const NUMERIC = /^\p{N}$/u;

class Digits implements PreTokenizer {
  constructor(readonly individualDigits: boolean) {}
  preTokenize(p: PreTokenizedString): void {
    const behavior: SplitBehavior = this.individualDigits ? "Isolated" : "Contiguous";
    p.split((_, n) => n.split(charMatches((c) => NUMERIC.test(c), n.normalized), behavior));
  }
  toJSON(): JsonObject {
    return { type: "Digits", individual_digits: this.individualDigits };
  }
}

class Punctuation implements PreTokenizer {
  constructor(readonly behavior: SplitBehavior) {}
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => n.split(charMatches(isPunctuation, n.normalized), this.behavior));
  }
  toJSON(): JsonObject {
    return { type: "Punctuation", behavior: this.behavior };
  }
}

/** HF `CharDelimiterSplit`: split on one char, removing it. */
class CharDelimiterSplit implements PreTokenizer {
  constructor(readonly delimiter: string) {}
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => n.split(charMatches((c) => c === this.delimiter, n.normalized), "Removed"));
  }
  toJSON(): JsonObject {
    return { type: "CharDelimiterSplit", delimiter: this.delimiter };
  }
}

/** HF `FixedLength`: pieces of `length` chars. */
class FixedLength implements PreTokenizer {
  constructor(readonly length: number) {}
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => {
      const s = n.normalized;
      const out: NormalizedString[] = [];
      let start = 0;
      let count = 0;
      let i = 0;
      while (i < s.length) {
        i += charAt(s, i).length;
        if (++count === this.length) {
          out.push(n.slice(start, i));
          start = i;
          count = 0;
        }
      }
      if (start < s.length) out.push(n.slice(start, s.length));
      return out;
    });
  }
  toJSON(): JsonObject {
    return { type: "FixedLength", length: this.length };
  }
}

/**
 * HF `UnicodeScripts`: split where the script changes (Hiragana, Katakana and U+30FC count as Han;
 * space is "Any" and never splits). As in HF, text before the first non-Any char is dropped, and a
 * piece made only of Any chars disappears. Script classes come from unicode_tables.ts (measured
 * from Python `tokenizers`, whose table is SentencePiece's).
 */
class UnicodeScripts implements PreTokenizer {
  preTokenize(p: PreTokenizedString): void {
    p.split((_, n) => {
      const s = n.normalized;
      const cuts: number[] = [];
      let last = -1;
      let offset = 0;
      for (const c of s) {
        const sc = scriptClass(c.codePointAt(0)!);
        if (sc !== 0 && last !== sc) cuts.push(offset);
        offset += c.length;
        if (sc !== 0) last = sc;
      }
      cuts.push(s.length);
      const out: NormalizedString[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) out.push(n.slice(cuts[i]!, cuts[i + 1]!));
      return out;
    });
  }
  toJSON(): JsonObject {
    return { type: "UnicodeScripts" };
  }
}

class Sequence implements PreTokenizer {
  constructor(readonly pretokenizers: PreTokenizer[]) {}
  preTokenize(p: PreTokenizedString): void {
    for (const x of this.pretokenizers) x.preTokenize(p);
  }
  toJSON(): JsonObject {
    return { type: "Sequence", pretokenizers: this.pretokenizers.map((x) => x.toJSON()) };
  }
}

function readBehavior(o: JsonObject, path: string, def?: SplitBehavior): SplitBehavior {
  const b = o["behavior"] === undefined && def ? def : getString(o, "behavior", path);
  if (!BEHAVIORS.includes(b as SplitBehavior)) {
    throw new TokenizerJsonError(join(path, "behavior"), `unknown behavior "${b}" (supported: ${BEHAVIORS.join(", ")})`);
  }
  return b as SplitBehavior;
}

export function readPrependScheme(o: JsonObject, path: string): PrependScheme {
  // Old files have `add_prefix_space: bool` instead of `prepend_scheme`.
  if (o["prepend_scheme"] === undefined) {
    return getBool(o, "add_prefix_space", path, true) ? "always" : "never";
  }
  const s = getString(o, "prepend_scheme", path);
  if (s !== "always" && s !== "first" && s !== "never") {
    throw new TokenizerJsonError(join(path, "prepend_scheme"), `expected "always", "first" or "never", got "${s}"`);
  }
  return s;
}

export const PRE_TOKENIZER_TYPES = [
  "ByteLevel", "Whitespace", "WhitespaceSplit", "BertPreTokenizer", "Metaspace", "Split", "Digits", "Punctuation",
  "CharDelimiterSplit", "FixedLength", "UnicodeScripts", "Sequence",
] as const;

export function preTokenizerFromJSON(v: unknown, path: string): PreTokenizer {
  const o = asObject(v, path);
  const t = getType(o, path, "pre-tokenizer", PRE_TOKENIZER_TYPES);
  switch (t) {
    case "ByteLevel":
      checkKeys(o, ["type", "add_prefix_space", "trim_offsets", "use_regex"], path);
      return new ByteLevel(getBool(o, "add_prefix_space", path, true), getBool(o, "trim_offsets", path, true), getBool(o, "use_regex", path, true));
    case "Whitespace":
      checkKeys(o, ["type"], path);
      return new Whitespace();
    case "WhitespaceSplit":
      checkKeys(o, ["type"], path);
      return new WhitespaceSplit();
    case "BertPreTokenizer":
      checkKeys(o, ["type"], path);
      return new BertPreTokenizer();
    case "Metaspace": {
      checkKeys(o, ["type", "replacement", "add_prefix_space", "prepend_scheme", "split", "str_rep"], path);
      const rep = getString(o, "replacement", path, "\u2581");
      if ([...rep].length !== 1) throw new TokenizerJsonError(join(path, "replacement"), "expected a single character");
      return new Metaspace(rep, readPrependScheme(o, path), getBool(o, "split", path, true));
    }
    case "Split":
      checkKeys(o, ["type", "pattern", "behavior", "invert"], path);
      return new Split(readPattern(o["pattern"], join(path, "pattern")), readBehavior(o, path), getBool(o, "invert", path, false));
    case "Digits":
      checkKeys(o, ["type", "individual_digits"], path);
      return new Digits(getBool(o, "individual_digits", path, false));
    case "Punctuation":
      checkKeys(o, ["type", "behavior"], path);
      return new Punctuation(readBehavior(o, path, "Isolated"));
    case "CharDelimiterSplit": {
      checkKeys(o, ["type", "delimiter"], path);
      const d = getString(o, "delimiter", path);
      if ([...d].length !== 1) throw new TokenizerJsonError(join(path, "delimiter"), "expected a single character");
      return new CharDelimiterSplit(d);
    }
    case "FixedLength": {
      checkKeys(o, ["type", "length"], path);
      const len = getInt(o, "length", path, 5);
      if (len < 1) throw new TokenizerJsonError(join(path, "length"), "expected a positive length");
      return new FixedLength(len);
    }
    case "UnicodeScripts":
      checkKeys(o, ["type"], path);
      return new UnicodeScripts();
    case "Sequence": {
      checkKeys(o, ["type", "pretokenizers"], path);
      const p = join(path, "pretokenizers");
      return new Sequence(asArray(o["pretokenizers"], p).map((x, i) => preTokenizerFromJSON(x, join(p, i))));
    }
  }
  throw new TokenizerJsonError(path, "unreachable");
}

export { Whitespace, WhitespaceSplit, BertPreTokenizer, Split, Digits, Punctuation, CharDelimiterSplit, FixedLength, UnicodeScripts, Sequence as PreTokenizerSequence };
