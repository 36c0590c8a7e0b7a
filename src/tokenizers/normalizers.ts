// Normalizers: in-place edits of a NormalizedString that keep the alignment to the original text.
//
// Mirrors HF tokenizers/src/normalizers/*: NFC, NFD, NFKC, NFKD, Lowercase, StripAccents,
// BertNormalizer, Replace, Prepend, Strip, Nmt, ByteLevel, Precompiled (SentencePiece charsmap),
// Sequence.
//
// Unicode normalization: HF uses the `unicode-normalization-alignments` crate, which reports for
// every output char whether it replaces, is inserted after, or absorbs input chars. JavaScript's
// String.prototype.normalize gives only the result, so we normalize one "cluster" at a time (a
// char that is not a combining mark, with the marks that follow it): a cluster that decomposes char
// by char gets exactly HF's changes; a cluster that composes gets "replace, then absorb the rest".
// Chars that HF's (older) tables leave alone although current Unicode normalizes them are kept
// as they are (unicode_tables.ts lists them). Text is identical to HF; offsets can differ only on
// exotic canonical reorderings.

import { NormalizedString, chars, stringMatches, regexMatches, isWhitespace } from "./normalized.js";
import {
  JsonObject, asArray, asObject, checkKeys, getBool, getOptBool, getString, getType, join, TokenizerJsonError, Json,
} from "./json.js";
import { compileRegex, onigGap } from "./regex.js";
import { byteLevelTransform } from "./byte_level.js";
import {
  CLEAN_TEXT_REMOVED, COMBINING_MARK, NONSPACING_MARK, NORMALIZATION_GAP_NFC, NORMALIZATION_GAP_NFD, NORMALIZATION_GAP_NFKC,
  NORMALIZATION_GAP_NFKD, inRanges,
} from "./unicode_tables.js";

const GAPS = { NFC: NORMALIZATION_GAP_NFC, NFD: NORMALIZATION_GAP_NFD, NFKC: NORMALIZATION_GAP_NFKC, NFKD: NORMALIZATION_GAP_NFKD };

export interface Normalizer {
  normalize(n: NormalizedString): void;
  toJSON(): JsonObject;
}

/** A pattern as tokenizer.json writes it: {"String": "..."} or {"Regex": "..."}. */
export type PatternJson = { String: string } | { Regex: string };

export function readPattern(v: unknown, path: string): PatternJson {
  const o = asObject(v, path);
  if (typeof o["String"] === "string") return { String: o["String"] };
  if (typeof o["Regex"] === "string") return { Regex: o["Regex"] };
  throw new TokenizerJsonError(path, `expected {"String": "..."} or {"Regex": "..."}`);
}

export function patternMatches(p: PatternJson, re: RegExp | null, s: string) {
  return "String" in p ? stringMatches(p.String, s) : regexMatches(re!, s);
}

const MARK = /^[\p{M}\u1161-\u1175\u11a8-\u11c2]$/u;

type Form = "NFC" | "NFD" | "NFKC" | "NFKD";

/** Normalize with alignment, cluster by cluster (see the file header). */
export function unicodeNormalize(n: NormalizedString, form: Form): void {
  const s = n.normalized;
  if (s.normalize(form) === s) return; // Nothing changes: alignments stay.
  const dest: string[] = [];
  const changes: number[] = [];
  const cs = chars(s);
  const gap = GAPS[form];
  // Chars HF's older tables do not know stay as they are and block composition around them.
  // Also the chars newer than HF's Unicode altogether (unknown to its regex engine too): with a newer
  // Node they may gain decompositions HF cannot know.
  const newer = onigGap();
  const lo = Math.min(gap.length > 0 ? gap[0]! : Infinity, newer.length > 0 ? newer[0]! : Infinity);
  const isGap = (c: string) => {
    const cp = c.codePointAt(0)!;
    return cp >= lo && (inRanges(gap, cp) || inRanges(newer, cp));
  };
  let i = 0;
  while (i < cs.length) {
    if (isGap(cs[i]!)) {
      dest.push(cs[i]!);
      changes.push(0);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < cs.length && MARK.test(cs[j]!) && !isGap(cs[j]!)) j++;
    const cluster = cs.slice(i, j);
    const joined = cluster.join("");
    const out = chars(joined.normalize(form));
    if (out.join("") === joined) {
      for (const c of cluster) {
        dest.push(c);
        changes.push(0);
      }
    } else {
      // Char-by-char decomposition, as the crate reports it: the first char of each expansion
      // replaces its source char, the others are inserted after it.
      const per: Array<[string, number]> = [];
      for (const c of cluster) chars(c.normalize(form)).forEach((d, k) => per.push([d, k === 0 ? 0 : 1]));
      const perText = per.map((p) => p[0]).join("");
      if (perText === out.join("")) {
        for (const [c, ch] of per) {
          dest.push(c);
          changes.push(ch);
        }
      } else if (out.length === per.length && [...out].sort().join("") === per.map((p) => p[0]).sort().join("")) {
        // Canonical reordering of marks: each char keeps its change as it moves.
        const used = new Array<boolean>(per.length).fill(false);
        for (const c of out) {
          const k = per.findIndex((p, idx) => !used[idx] && p[0] === c);
          used[k] = true;
          dest.push(c);
          changes.push(per[k]![1]);
        }
      } else if (out.length <= cluster.length) {
        // Composition: the composed first char absorbs the surplus input chars; the marks left
        // uncomposed keep their own (positional) alignment.
        out.forEach((c, k) => {
          dest.push(c);
          changes.push(k === 0 ? -(cluster.length - out.length) : 0);
        });
      } else {
        // Expansion we cannot attribute char by char: replace one for one, insert the rest.
        out.forEach((c, k) => {
          dest.push(c);
          changes.push(k < cluster.length ? 0 : 1);
        });
      }
    }
    i = j;
  }
  n.transform(dest, changes, 0);
}

class UnicodeNormalizer implements Normalizer {
  constructor(readonly form: Form) {}
  normalize(n: NormalizedString): void {
    unicodeNormalize(n, this.form);
  }
  toJSON(): JsonObject {
    return { type: this.form };
  }
}

export function lowercase(n: NormalizedString): void {
  // Char by char, as Rust's char::to_lowercase (no context rules such as Greek final sigma).
  n.flatMap((c) => c.toLowerCase());
}

class Lowercase implements Normalizer {
  normalize(n: NormalizedString): void {
    lowercase(n);
  }
  toJSON(): JsonObject {
    return { type: "Lowercase" };
  }
}

/** BertNormalizer's `is_mark_nonspacing` (HF's own, older tables: see unicode_tables.ts). */
function isNonspacingMark(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp >= 0x300 && inRanges(NONSPACING_MARK, cp);
}

/** StripAccents' `is_combining_mark` (a different, wider predicate than BertNormalizer's). */
function isCombiningMark(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp >= 0x300 && inRanges(COMBINING_MARK, cp);
}

class StripAccents implements Normalizer {
  normalize(n: NormalizedString): void {
    // HF's StripAccents only filters combining marks; it expects a prior NFD / NFKD.
    n.filter((c) => !isCombiningMark(c));
  }
  toJSON(): JsonObject {
    return { type: "StripAccents" };
  }
}



function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class BertNormalizer implements Normalizer {
  constructor(
    readonly cleanText: boolean,
    readonly handleChineseChars: boolean,
    readonly stripAccents: boolean | null,
    readonly lowercase: boolean,
  ) {}

  normalize(n: NormalizedString): void {
    if (this.asciiFast(n)) return;
    if (this.cleanText) {
      // Remove NUL, U+FFFD and "other" chars (Cc/Cf/Cn/Co/Cs) except \t \n \r; whitespace -> ' '.
      n.filter((c) => !inRanges(CLEAN_TEXT_REMOVED, c.codePointAt(0)!));
      n.map((c) => (c === "\t" || c === "\n" || c === "\r" || isWhitespace(c) ? " " : c));
    }
    if (this.handleChineseChars) {
      const dest: string[] = [];
      const changes: number[] = [];
      let any = false;
      for (const c of n.normalized) {
        if (isChineseChar(c.codePointAt(0)!)) {
          dest.push(" ", c, " ");
          changes.push(0, 1, 1);
          any = true;
        } else {
          dest.push(c);
          changes.push(0);
        }
      }
      if (any) n.transform(dest, changes, 0);
    }
    const strip = this.stripAccents ?? this.lowercase;
    if (strip) {
      unicodeNormalize(n, "NFD");
      n.filter((c) => !isNonspacingMark(c));
    }
    if (this.lowercase) lowercase(n);
  }

  /**
   * Printable ASCII plus tab / newline / carriage return: every step maps one char to one char
   * (whitespace to ' ', A-Z to a-z, nothing to strip or pad), so the alignment is unchanged.
   */
  private asciiFast(n: NormalizedString): boolean {
    const s = n.normalized;
    let changed = false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x7f) {
        if (this.lowercase && c >= 0x41 && c <= 0x5a) changed = true;
      } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
        if (this.cleanText) changed = true;
      } else return false;
    }
    if (!changed) return true;
    let out = "";
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.cleanText && (c === 0x09 || c === 0x0a || c === 0x0d)) out += " ";
      else if (this.lowercase && c >= 0x41 && c <= 0x5a) out += String.fromCharCode(c + 32);
      else out += s[i];
    }
    n.setSameShape(out);
    return true;
  }

  toJSON(): JsonObject {
    return {
      type: "BertNormalizer",
      clean_text: this.cleanText,
      handle_chinese_chars: this.handleChineseChars,
      strip_accents: this.stripAccents,
      lowercase: this.lowercase,
    };
  }
}

class Replace implements Normalizer {
  private readonly re: RegExp | null;
  constructor(readonly pattern: PatternJson, readonly content: string) {
    this.re = "Regex" in pattern ? compileRegex(pattern.Regex) : null;
  }
  normalize(n: NormalizedString): void {
    n.replace(patternMatches(this.pattern, this.re, n.normalized), this.content);
  }
  toJSON(): JsonObject {
    return { type: "Replace", pattern: this.pattern as unknown as Json, content: this.content };
  }
}

class Prepend implements Normalizer {
  constructor(readonly prepend: string) {}
  normalize(n: NormalizedString): void {
    n.prepend(this.prepend);
  }
  toJSON(): JsonObject {
    return { type: "Prepend", prepend: this.prepend };
  }
}

class Strip implements Normalizer {
  constructor(readonly left: boolean, readonly right: boolean) {}
  normalize(n: NormalizedString): void {
    n.strip(this.left, this.right);
  }
  toJSON(): JsonObject {
    return { type: "Strip", strip_left: this.left, strip_right: this.right };
  }
}

/** HF `Nmt`: drop ASCII control chars, map other whitespace-like code points to ' '. */
class Nmt implements Normalizer {
  normalize(n: NormalizedString): void {
    n.filter((c) => {
      const cp = c.codePointAt(0)!;
      return !((cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || cp === 0x7f || cp === 0x8f || cp === 0x9f);
    });
    n.map((c) => {
      const cp = c.codePointAt(0)!;
      const space =
        cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d || cp === 0x1680 || (cp >= 0x200b && cp <= 0x200f) ||
        cp === 0x2028 || cp === 0x2029 || cp === 0x2581 || cp === 0xfeff || cp === 0xfffd;
      return space ? " " : c;
    });
  }
  toJSON(): JsonObject {
    return { type: "Nmt" };
  }
}

/** HF `ByteLevel` normalizer: every char becomes the GPT-2 chars of its UTF-8 bytes. */
class ByteLevelNormalizer implements Normalizer {
  normalize(n: NormalizedString): void {
    if (n.normalized.length > 0) byteLevelTransform(n);
  }
  toJSON(): JsonObject {
    return { type: "ByteLevel" };
  }
}

/**
 * HF `Precompiled`: SentencePiece's compiled normalization rules (T5, ALBERT, XLM-R files).
 * `precompiled_charsmap` (base64) is a little-endian u32 trie size, a darts-clone double-array
 * trie over UTF-8 bytes, then NUL-terminated replacement strings. Mirrors HF precompiled.rs and the
 * spm_precompiled crate, quirks included: each grapheme (shorter than 6 UTF-8 bytes) is looked up
 * whole and, if any prefix of it is a key, replaced by the SHORTEST prefix's replacement; otherwise
 * each char is looked up alone.
 */
class Precompiled implements Normalizer {
  private readonly trie: Uint32Array;
  private readonly blob: Uint8Array;
  private readonly cache = new Map<string, string | null>();

  constructor(readonly charsmapBase64: string, path: string) {
    const bytes = Buffer.from(charsmapBase64, "base64");
    if (bytes.length < 4) throw new TokenizerJsonError(join(path, "precompiled_charsmap"), "too short to hold a charsmap");
    const trieSize = bytes.readUInt32LE(0);
    if (trieSize % 4 !== 0 || 4 + trieSize > bytes.length) {
      throw new TokenizerJsonError(join(path, "precompiled_charsmap"), `trie size ${trieSize} does not fit the ${bytes.length}-byte charsmap`);
    }
    this.trie = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.trie.length; i++) this.trie[i] = bytes.readUInt32LE(4 + 4 * i);
    this.blob = new Uint8Array(bytes.subarray(4 + trieSize));
  }

  /** Replacement of the shortest key that prefixes `chunk`, or null. */
  transform(chunk: string): string | null {
    const hit = this.cache.get(chunk);
    if (hit !== undefined) return hit;
    const key = utf8.encode(chunk);
    const t = this.trie;
    let node = 0;
    let unit = t[0]!;
    node ^= offsetOf(unit);
    let value = -1;
    for (const c of key) {
      if (c === 0) break;
      node ^= c;
      unit = t[node]!;
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        value = t[node]! & 0x7fffffff;
        break; // the first (shortest) match is the one used
      }
    }
    let out: string | null = null;
    if (value >= 0) {
      let end = value;
      while (end < this.blob.length && this.blob[end] !== 0) end++;
      out = utf8d.decode(this.blob.subarray(value, end));
    }
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(chunk, out);
    return out;
  }

  normalize(n: NormalizedString): void {
    const dest: string[] = [];
    const changes: number[] = [];
    let modified = false;
    const replace = (oldPart: string, newPart: string) => {
      const oldCount = chars(oldPart).length;
      const newChars = chars(newPart);
      const diff = newChars.length - oldCount;
      for (const c of newChars) {
        dest.push(c);
        changes.push(0);
      }
      if (diff > 0) for (let k = 0; k < diff; k++) changes[changes.length - 1 - k] = 1;
      else if (diff < 0 && changes.length > 0) changes[changes.length - 1] += diff;
    };
    for (const { segment: g } of graphemes.segment(n.normalized)) {
      if (utf8.encode(g).length < 6) {
        const norm = this.transform(g);
        if (norm !== null) {
          modified = true;
          replace(g, norm);
          continue;
        }
      }
      for (const c of g) {
        const norm = this.transform(c);
        if (norm !== null) {
          modified = true;
          replace(c, norm);
        } else {
          dest.push(c);
          changes.push(0);
        }
      }
    }
    if (modified) n.transform(dest, changes, 0);
  }

  toJSON(): JsonObject {
    return { type: "Precompiled", precompiled_charsmap: this.charsmapBase64 };
  }
}

/** darts-clone unit offset: (unit >> 10) << ((unit & (1 << 9)) >> 6). */
function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & 0x200) >>> 6);
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

class Sequence implements Normalizer {
  constructor(readonly normalizers: Normalizer[]) {}
  normalize(n: NormalizedString): void {
    for (const x of this.normalizers) x.normalize(n);
  }
  toJSON(): JsonObject {
    return { type: "Sequence", normalizers: this.normalizers.map((x) => x.toJSON()) };
  }
}

export const NORMALIZER_TYPES = [
  "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents", "BertNormalizer", "Replace", "Prepend", "Strip", "Nmt", "ByteLevel",
  "Precompiled", "Sequence",
] as const;

export function normalizerFromJSON(v: unknown, path: string): Normalizer {
  const o = asObject(v, path);
  const t = getType(o, path, "normalizer", NORMALIZER_TYPES);
  switch (t) {
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      checkKeys(o, ["type"], path);
      return new UnicodeNormalizer(t);
    case "Lowercase":
      checkKeys(o, ["type"], path);
      return new Lowercase();
    case "StripAccents":
      checkKeys(o, ["type"], path);
      return new StripAccents();
    case "BertNormalizer":
      checkKeys(o, ["type", "clean_text", "handle_chinese_chars", "strip_accents", "lowercase"], path);
      return new BertNormalizer(
        getBool(o, "clean_text", path, true),
        getBool(o, "handle_chinese_chars", path, true),
        getOptBool(o, "strip_accents", path),
        getBool(o, "lowercase", path, true),
      );
    case "Replace":
      checkKeys(o, ["type", "pattern", "content"], path);
      return new Replace(readPattern(o["pattern"], join(path, "pattern")), getString(o, "content", path));
    case "Prepend":
      checkKeys(o, ["type", "prepend"], path);
      return new Prepend(getString(o, "prepend", path));
    case "Strip":
      checkKeys(o, ["type", "strip_left", "strip_right"], path);
      return new Strip(getBool(o, "strip_left", path, true), getBool(o, "strip_right", path, true));
    case "Nmt":
      checkKeys(o, ["type"], path);
      return new Nmt();
    case "Precompiled":
      checkKeys(o, ["type", "precompiled_charsmap"], path);
      return new Precompiled(getString(o, "precompiled_charsmap", path), path);
    case "ByteLevel":
      checkKeys(o, ["type"], path);
      return new ByteLevelNormalizer();
    case "Sequence": {
      checkKeys(o, ["type", "normalizers"], path);
      const p = join(path, "normalizers");
      return new Sequence(asArray(o["normalizers"], p).map((x, i) => normalizerFromJSON(x, join(p, i))));
    }
  }
  throw new TokenizerJsonError(path, "unreachable");
}

export { Lowercase, StripAccents, Replace, Prepend, Strip, Nmt, ByteLevelNormalizer, Precompiled, Sequence as NormalizerSequence, UnicodeNormalizer };
