// Pre-tokenizers: split the normalized text into words (and, for ByteLevel, map bytes to chars).
//
// Mirrors HF tokenizers/src/pre_tokenizers/*: ByteLevel (GPT-2 regex, add_prefix_space,
// use_regex), Whitespace (`\w+|[^\w\s]+`), WhitespaceSplit, BertPreTokenizer, Metaspace
// (replacement, prepend_scheme always/first/never, split), Split (string or regex pattern, the five
// delimiter behaviours, invert), Digits, Punctuation, Sequence. Regex patterns from tokenizer.json
// are Oniguruma patterns; regex.ts translates them to JavaScript.

import {
  NormalizedString, PreTokenizedString, SplitBehavior, charMatches, invertMatches, isWhitespace, regexMatches,
  stringMatches, charAt,
} from "./normalized.js";
import {
  JsonObject, asArray, asObject, checkKeys, getBool, getString, getType, join, TokenizerJsonError, Json,
} from "./json.js";
import { compileRegex, escapeRegex, WORD } from "./regex.js";
import { PatternJson, readPattern } from "./normalizers.js";
import { BERT_PUNCTUATION, inRanges } from "./unicode_tables.js";

export interface PreTokenizer {
  preTokenize(p: PreTokenizedString): void;
  toJSON(): JsonObject;
}

// ---- ByteLevel: the GPT-2 byte <-> unicode table ----

/** byte -> char used by GPT-2's byte-level BPE (printable bytes map to themselves). */
export const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
})();

export const CHAR_TO_BYTE: Map<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** GPT-2's split regex (HF byte_level.rs), translated from Oniguruma. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const encoder = new TextEncoder();

/** Replace each char by the chars of its UTF-8 bytes (first replaces, the rest are inserted). */
export function byteLevelTransform(n: NormalizedString): void {
  const s = n.normalized;
  // Fast path: ASCII maps one unit to one unit, so the alignment is unchanged.
  let ascii = true;
  let same = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    if (c < 0x21 || c > 0x7e) same = false;
  }
  if (ascii) {
    if (same) return;
    let out = "";
    for (let i = 0; i < s.length; i++) out += BYTE_TO_CHAR[s.charCodeAt(i)]!;
    n.setSameShape(out);
    return;
  }
  const dest: string[] = [];
  const changes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = charAt(s, i);
    i += ch.length;
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code < 0x80) {
      dest.push(BYTE_TO_CHAR[code]!);
      changes.push(0);
      continue;
    }
    const bytes = encoder.encode(ch);
    for (let k = 0; k < bytes.length; k++) {
      dest.push(BYTE_TO_CHAR[bytes[k]!]!);
      changes.push(k > 0 ? 1 : 0);
    }
  }
  n.transform(dest, changes, 0);
}

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

class Whitespace implements PreTokenizer {
  private readonly re = new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, "gu");
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
  "ByteLevel", "Whitespace", "WhitespaceSplit", "BertPreTokenizer", "Metaspace", "Split", "Digits", "Punctuation", "Sequence",
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
    case "Sequence": {
      checkKeys(o, ["type", "pretokenizers"], path);
      const p = join(path, "pretokenizers");
      return new Sequence(asArray(o["pretokenizers"], p).map((x, i) => preTokenizerFromJSON(x, join(p, i))));
    }
  }
  throw new TokenizerJsonError(path, "unreachable");
}

export { Whitespace, WhitespaceSplit, BertPreTokenizer, Split, Digits, Punctuation, Sequence as PreTokenizerSequence };
