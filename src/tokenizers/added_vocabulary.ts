// Added tokens: strings matched in the input before the model runs, each becoming one token.
//
// Mirrors HF tokenizers/src/tokenizer/added_vocabulary.rs. Tokens with `normalized: false` are
// searched in the raw input first; the text between them is normalized; tokens with
// `normalized: true` are then searched in that normalized text (as their own normalized form).
// Matching is leftmost-longest; a `single_word` token must not touch a word char on either side;
// `lstrip` / `rstrip` make the token swallow the whitespace before / after it. A match that fails
// the single_word test is skipped and the search resumes after it, as HF's Aho-Corasick iterator.

import { NormalizedString, PreTokenizedString, Split, isWhitespace } from "./normalized.js";
import type { Normalizer } from "./normalizers.js";
import { escapeRegex, WORD } from "./regex.js";
import type { JsonObject } from "./json.js";

export interface AddedToken {
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export function addedToken(content: string, special: boolean, o: Partial<AddedToken> = {}): AddedToken {
  return {
    content,
    special,
    singleWord: o.singleWord ?? false,
    lstrip: o.lstrip ?? false,
    rstrip: o.rstrip ?? false,
    // HF: special tokens default to normalized = false, others to true.
    normalized: o.normalized ?? !special,
  };
}

const WORD_END = new RegExp(`[${WORD}]$`, "u");
const WORD_START = new RegExp(`^[${WORD}]`, "u");

interface Matcher {
  re: RegExp;
  /** matched text -> id */
  ids: Map<string, number>;
}

export class AddedVocabulary {
  /** id -> token */
  readonly byId = new Map<number, AddedToken>();
  /** content -> id */
  readonly byContent = new Map<string, number>();
  readonly specialSet = new Set<string>();
  /** For normalized tokens whose normalized form differs: id -> normalized form (used by decode). */
  private readonly normalizedCache = new Map<number, string>();
  private rawMatcher: Matcher | null = null;
  private normMatcher: Matcher | null = null;
  /** When true, special tokens are not matched in the input (HF `encode_special_tokens`). */
  encodeSpecialTokens = false;

  /** Add tokens with known ids (from tokenizer.json or a model's vocabulary). */
  add(tokens: Array<{ id: number; token: AddedToken }>, normalizer: Normalizer | null): void {
    for (const { id, token } of tokens) {
      if (token.content.length === 0) continue;
      // A content added again keeps its id; the later flags win (HF add_tokens).
      const old = this.byContent.get(token.content);
      if (old !== undefined && old !== id) this.byId.delete(old);
      this.byId.set(id, token);
      this.byContent.set(token.content, id);
      if (token.special) this.specialSet.add(token.content);
    }
    this.refresh(normalizer);
  }

  refresh(normalizer: Normalizer | null): void {
    this.normalizedCache.clear();
    const raw: Array<[string, number]> = [];
    const norm: Array<[string, number]> = [];
    for (const [id, t] of this.byId) {
      if (t.normalized) {
        let form = t.content;
        if (normalizer) {
          const n = NormalizedString.from(t.content);
          normalizer.normalize(n);
          form = n.normalized;
          if (form !== t.content) this.normalizedCache.set(id, form);
        }
        norm.push([form, id]);
      } else raw.push([t.content, id]);
    }
    this.rawMatcher = buildMatcher(raw);
    this.normMatcher = buildMatcher(norm);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The string an id decodes from (the normalized form for normalized tokens, as HF 0.23). */
  decodeForm(id: number): string | undefined {
    const t = this.byId.get(id);
    if (!t) return undefined;
    return this.normalizedCache.get(id) ?? t.content;
  }

  isSpecial(content: string): boolean {
    return this.specialSet.has(content);
  }

  /** Split `n` around added tokens found by `m`. */
  private splitWith(n: NormalizedString, m: Matcher | null): Split[] {
    const s = n.normalized;
    if (!m || s.length === 0) return [{ normalized: n, tokens: null }];
    const pieces: Array<[number, number, number | null]> = [];
    let startOffset = 0;
    m.re.lastIndex = 0;
    for (;;) {
      const mm = m.re.exec(s);
      if (!mm) break;
      let start = mm.index;
      let stop = start + mm[0].length;
      m.re.lastIndex = stop;
      const id = m.ids.get(mm[0])!;
      const tok = this.byId.get(id)!;
      if (this.encodeSpecialTokens && this.specialSet.has(tok.content)) continue;
      if (tok.singleWord) {
        const startSpace = start === 0 || !WORD_END.test(s.slice(0, start));
        const stopSpace = stop === s.length || !WORD_START.test(s.slice(stop));
        if (!startSpace || !stopSpace) continue;
      }
      if (tok.lstrip) {
        let ns = start;
        while (ns > 0) {
          const c = s.charCodeAt(ns - 1);
          // Whitespace is BMP; a low surrogate is never whitespace.
          if (c >= 0xdc00 && c <= 0xdfff) break;
          if (!isWhitespace(s[ns - 1]!)) break;
          ns--;
        }
        start = Math.max(ns, startOffset);
      }
      if (tok.rstrip) {
        while (stop < s.length && isWhitespace(s[stop]!) && !(s.charCodeAt(stop) >= 0xd800 && s.charCodeAt(stop) <= 0xdfff)) stop++;
        m.re.lastIndex = stop;
      }
      if (startOffset < start) pieces.push([startOffset, start, null]);
      pieces.push([start, stop, id]);
      startOffset = stop;
    }
    if (startOffset !== s.length) pieces.push([startOffset, s.length, null]);
    return pieces.map(([a, b, id]) => {
      const slice = n.slice(a, b);
      if (id === null) return { normalized: slice, tokens: null };
      const value = slice.normalized;
      return { normalized: slice, tokens: [{ id, value, offsets: [0, value.length] }] };
    });
  }

  /** HF `extract_and_normalize`. */
  extractAndNormalize(normalizer: Normalizer | null, text: string): PreTokenizedString {
    const p = PreTokenizedString.from(NormalizedString.from(text));
    p.split((_, n) => this.splitWith(n, this.rawMatcher));
    p.split((_, n) => {
      if (normalizer) normalizer.normalize(n);
      return this.splitWith(n, this.normMatcher);
    });
    return p;
  }

  toJSON(): JsonObject[] {
    return [...this.byId.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, t]) => ({
        id,
        content: t.content,
        single_word: t.singleWord,
        lstrip: t.lstrip,
        rstrip: t.rstrip,
        normalized: t.normalized,
        special: t.special,
      }));
  }
}

function buildMatcher(entries: Array<[string, number]>): Matcher | null {
  if (entries.length === 0) return null;
  const ids = new Map<string, number>();
  for (const [s, id] of entries) if (s.length > 0) ids.set(s, id);
  if (ids.size === 0) return null;
  // Longest first, so that at a given start the alternation picks the longest token; the regex
  // scan itself gives the leftmost start: together, leftmost-longest.
  const alts = [...ids.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
  return { re: new RegExp(alts.join("|"), "gu"), ids };
}
