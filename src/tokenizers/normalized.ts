// NormalizedString and PreTokenizedString: a string being normalized and split, with an alignment
// from every unit of the normalized text back to a range of the original text.
//
// Mirrors Hugging Face tokenizers' `NormalizedString` / `PreTokenizedString`
// (tokenizers/src/tokenizer/normalizer.rs and pre_tokenizer.rs). HF keeps one alignment per UTF-8
// byte of the normalized string, in bytes of the original; we keep one per UTF-16 code unit, in
// UTF-16 code units of the original. Every alignment covers whole characters on both sides, so the
// two bookkeepings give the same character ranges; the only place units matter is the final
// conversion of offsets to code-point indices (what Python `tokenizers` returns), done by
// `OffsetConverter` with HF's `BytesToCharOffsetConverter` rules.
//
// Transformations are described as HF does: a list of (char, change) where change is
//   0  the char replaces the next char of the old text,
//   1  the char is newly inserted (it inherits the alignment of the unit before it),
//  -N  the char replaces the next char and the N chars after it are removed.

export type Offsets = [number, number];

/** A token produced by a model for one split: offsets are code units of that split's normalized text. */
export interface Token {
  id: number;
  value: string;
  offsets: Offsets;
}

/** Ways a split delimiter is kept (HF `SplitDelimiterBehavior`). */
export type SplitBehavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";

/** A match list covering the whole input: [start, end, isMatch] in code units. */
export type Matches = Array<[number, number, boolean]>;

/** One code point of `s` at code unit `i` (a lone surrogate counts as one char). */
export function charAt(s: string, i: number): string {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return s.slice(i, i + 2);
  }
  return s[i]!;
}

/** Split a string into code points (as strings). */
export function chars(s: string): string[] {
  return Array.from(s);
}

export class NormalizedString {
  /** Text before any change (the slice of the input this split comes from). */
  original: string;
  /** Text after the changes so far. */
  normalized: string;
  /**
   * For each code unit of `normalized`: [start, end) in code units of `original`. Null while the
   * alignment is the identity (unit i of `normalized` stands for the char at unit i of `original`),
   * which is the common case and keeps slicing words out of plain text allocation-free.
   */
  private aS: number[] | null;
  private aE: number[] | null;
  /** Where `original` starts inside the whole input (code units). */
  originalShift: number;

  constructor(original: string, normalized: string, alignStart: number[] | null, alignEnd: number[] | null, originalShift: number) {
    this.original = original;
    this.normalized = normalized;
    this.aS = alignStart;
    this.aE = alignEnd;
    this.originalShift = originalShift;
  }

  static from(s: string): NormalizedString {
    return new NormalizedString(s, s, null, null, 0);
  }

  /** Alignment arrays, materialized from the identity when needed. */
  get alignStart(): number[] {
    if (!this.aS) this.materialize();
    return this.aS!;
  }
  get alignEnd(): number[] {
    if (!this.aE) this.materialize();
    return this.aE!;
  }
  set alignStart(v: number[]) {
    this.aS = v;
  }
  set alignEnd(v: number[]) {
    this.aE = v;
  }

  private materialize(): void {
    // Each char aligns with itself (both units of a surrogate pair with the whole pair).
    const s = this.original;
    const n = s.length;
    const as = new Array<number>(n);
    const ae = new Array<number>(n);
    for (let i = 0; i < n; ) {
      const w = charAt(s, i).length;
      for (let k = 0; k < w; k++) {
        as[i + k] = i;
        ae[i + k] = i + w;
      }
      i += w;
    }
    this.aS = as;
    this.aE = ae;
  }

  /** True while nothing changed the text: normalized === original, unit for unit. */
  isIdentity(): boolean {
    return this.aS === null && this.normalized === this.original;
  }

  /** Replace the normalized text by one of the same length whose units align as before. */
  setSameShape(normalized: string): void {
    if (normalized.length !== this.normalized.length) throw new Error("NormalizedString.setSameShape: length differs");
    this.normalized = normalized;
  }

  get(): string {
    return this.normalized;
  }

  get length(): number {
    return this.normalized.length;
  }

  isEmpty(): boolean {
    return this.normalized.length === 0;
  }

  offsetsOriginal(): Offsets {
    return [this.originalShift, this.originalShift + this.original.length];
  }

  /** Normalized range -> original range (relative to `original`); null when out of range. */
  normalizedToOriginal(start: number, end: number): Offsets | null {
    if (start === end) return [start, end];
    if (start > end) return null;
    if (this.normalized.length === 0 && start === 0 && end === 0) return [0, this.original.length];
    if (start < 0 || end > this.normalized.length) return null;
    if (!this.aS) {
      // Identity: the unit range is the char range (cuts are always on char boundaries).
      return [start, end];
    }
    return [this.aS[start]!, this.aE![end - 1]!];
  }

  /** Original range -> normalized range, with HF's rules for zero-width alignments. */
  originalToNormalized(start: number, end: number): Offsets | null {
    if (start === end) return [start, end];
    if (start > end) return null;
    if (this.original.length === 0 && start === 0 && end === 0) return [0, this.normalized.length];
    if (!this.aS) return [start, end];
    let s = -1;
    let e = -1;
    for (let i = 0; i < this.alignStart.length; i++) {
      const a0 = this.alignStart[i]!;
      const a1 = this.alignEnd[i]!;
      if (!(end >= a1)) break;
      if (s < 0 && start <= a0 && a0 !== a1) s = i;
      e = i + 1;
    }
    if (s >= 0 && e >= 0) return [s, e];
    if (s >= 0) return [s, s];
    if (e >= 0) return [e, e];
    return null;
  }

  /** A new NormalizedString for the normalized range [start, end). */
  slice(start: number, end: number): NormalizedString {
    const orig = this.normalizedToOriginal(start, end);
    if (!orig) throw new Error(`NormalizedString: bad slice ${start}..${end}`);
    const shift = orig[0];
    if (!this.aS) {
      return new NormalizedString(
        this.original.slice(orig[0], orig[1]),
        this.normalized.slice(start, end),
        null,
        null,
        this.originalShift + shift,
      );
    }
    const as = this.alignStart.slice(start, end);
    const ae = this.alignEnd.slice(start, end);
    for (let i = 0; i < as.length; i++) {
      as[i] = as[i]! - shift;
      ae[i] = ae[i]! - shift;
    }
    return new NormalizedString(
      this.original.slice(orig[0], orig[1]),
      this.normalized.slice(start, end),
      as,
      ae,
      this.originalShift + shift,
    );
  }

  /**
   * Replace the normalized range [start, end) by `dest` (chars with changes, see the file header).
   * `initialOffset` chars at the start of the range are removed before the first new char.
   */
  transformRange(start: number, end: number, dest: string[], changes: number[], initialOffset: number): void {
    const old = this.normalized;
    const AS = this.alignStart;
    const AE = this.alignEnd;
    let offset = start;
    // Walk the replaced chars of the old text with `offset` (code units).
    for (let k = 0; k < initialOffset && offset < end; k++) offset += charAt(old, offset).length;
    const newAs: number[] = [];
    const newAe: number[] = [];
    for (let j = 0; j < dest.length; j++) {
      const c = dest[j]!;
      const change = changes[j]!;
      let a0: number;
      let a1: number;
      if (change > 0) {
        // An inserted char shares the alignment of the unit before it (HF: (0, 0) at the very start).
        if (offset < 1) {
          a0 = 0;
          a1 = 0;
        } else {
          a0 = AS[offset - 1]!;
          a1 = AE[offset - 1]!;
        }
      } else {
        a0 = AS[offset]!;
        a1 = AE[offset]!;
        if (offset < end) offset += charAt(old, offset).length;
        for (let r = 0; r < -change && offset < end; r++) offset += charAt(old, offset).length;
      }
      for (let k = 0; k < c.length; k++) {
        newAs.push(a0);
        newAe.push(a1);
      }
    }
    // (No spread into splice: inputs can be millions of units long.)
    this.alignStart = AS.slice(0, start).concat(newAs, AS.slice(end));
    this.alignEnd = AE.slice(0, start).concat(newAe, AE.slice(end));
    this.normalized = old.slice(0, start) + dest.join("") + old.slice(end);
  }

  /** Transform the whole string (HF `transform`, i.e. `transform_range(Range::Original(..))`). */
  transform(dest: string[], changes: number[], initialOffset: number): void {
    const r = this.originalToNormalized(0, this.original.length);
    if (!r) return;
    this.transformRange(r[0], r[1], dest, changes, initialOffset);
  }

  /** Map every char (one char in, one char out). */
  map(fn: (c: string) => string): void {
    const dest: string[] = [];
    const changes: number[] = [];
    for (const c of this.normalized) {
      dest.push(fn(c));
      changes.push(0);
    }
    this.transform(dest, changes, 0);
  }

  /** Keep only the chars for which `keep` holds (HF `filter`). */
  filter(keep: (c: string) => boolean): void {
    const dest: string[] = [];
    const changes: number[] = [];
    let removed = 0;
    let removedStart = 0;
    let last: string | null = null;
    for (const c of this.normalized) {
      if (keep(c)) {
        if (last !== null) {
          dest.push(last);
          changes.push(-removed);
        } else {
          removedStart = removed;
        }
        last = c;
        removed = 0;
      } else {
        removed++;
      }
    }
    if (last !== null) {
      dest.push(last);
      changes.push(-removed);
    }
    if (last === null) {
      // Everything removed.
      this.transform([], [], removed);
      return;
    }
    this.transform(dest, changes, removedStart);
  }

  /** Each char maps to zero or more chars; the first replaces, the rest are inserted (HF `lowercase`). */
  flatMap(fn: (c: string) => string): void {
    const dest: string[] = [];
    const changes: number[] = [];
    for (const c of this.normalized) {
      const out = fn(c);
      let k = 0;
      for (const o of out) {
        dest.push(o);
        changes.push(k > 0 ? 1 : 0);
        k++;
      }
      if (k === 0) {
        // A char mapping to nothing: express as removal attached to the previous char is not
        // possible here; callers use `filter` for removal.
        throw new Error("NormalizedString.flatMap: mapping to an empty string is not supported");
      }
    }
    this.transform(dest, changes, 0);
  }

  prepend(s: string): void {
    if (this.normalized.length === 0) return;
    const first = charAt(this.normalized, 0);
    const dest = [...chars(s), first];
    const changes = dest.map((_, i) => (i === 0 ? 0 : 1));
    this.transformRange(0, first.length, dest, changes, 0);
  }

  append(s: string): void {
    const n = this.normalized;
    if (n.length === 0) {
      const dest = chars(s);
      this.transformRange(0, 0, dest, dest.map(() => 1), 0);
      return;
    }
    const cs = chars(n);
    const last = cs[cs.length - 1]!;
    const dest = [last, ...chars(s)];
    this.transformRange(n.length - last.length, n.length, dest, dest.map((_, i) => (i === 0 ? 0 : 1)), 0);
  }

  /** Replace every match of `matches` (from a Pattern) with `content` (HF `replace`). */
  replace(matches: Matches, content: string): void {
    const contentChars = chars(content);
    const old = this.normalized;
    let out = "";
    const as: number[] = [];
    const ae: number[] = [];
    let lastEnd = 0;
    for (const [start, end, isMatch] of matches) {
      if (!isMatch) continue;
      out += old.slice(lastEnd, start);
      for (let i = lastEnd; i < start; i++) {
        as.push(this.alignStart[i]!);
        ae.push(this.alignEnd[i]!);
      }
      // Every content char is an insertion after the removed match: it inherits the alignment of
      // the last unit of the match (or (0, 0) when the match starts the string and is empty).
      const idx = end;
      let a0 = 0;
      let a1 = 0;
      if (idx >= 1) {
        a0 = this.alignStart[idx - 1]!;
        a1 = this.alignEnd[idx - 1]!;
      }
      for (const c of contentChars) {
        for (let k = 0; k < c.length; k++) {
          as.push(a0);
          ae.push(a1);
        }
      }
      out += content;
      lastEnd = end;
    }
    out += old.slice(lastEnd);
    for (let i = lastEnd; i < old.length; i++) {
      as.push(this.alignStart[i]!);
      ae.push(this.alignEnd[i]!);
    }
    this.normalized = out;
    this.alignStart = as;
    this.alignEnd = ae;
  }

  /** Strip whitespace (Unicode White_Space) on the chosen sides (HF `lrstrip`). */
  strip(left: boolean, right: boolean): void {
    const cs = chars(this.normalized);
    let lead = 0;
    if (left) while (lead < cs.length && isWhitespace(cs[lead]!)) lead++;
    let trail = 0;
    if (right) while (trail < cs.length && isWhitespace(cs[cs.length - 1 - trail]!)) trail++;
    if (lead === 0 && trail === 0) return;
    const dest: string[] = [];
    const changes: number[] = [];
    const count = cs.length;
    // HF compares the char index against the byte length for the "last kept char" test; with
    // trailing spaces that branch only fires on single-unit text. We attach the trailing removal
    // to the last kept char, which yields the same alignments (removed chars vanish either way).
    for (let i = 0; i < count; i++) {
      if (i < lead || i >= count - trail) continue;
      dest.push(cs[i]!);
      changes.push(i === count - trail - 1 ? -trail : 0);
    }
    if (dest.length === 0) {
      this.transform([], [], count);
      return;
    }
    this.transform(dest, changes, lead);
  }

  /** Split on pattern matches with the given delimiter behaviour (HF `NormalizedString::split`). */
  split(matches: Matches, behavior: SplitBehavior): NormalizedString[] {
    let splits: Array<[number, number, boolean]>; // [start, end, remove]
    if (behavior === "Isolated") {
      splits = matches.map(([s, e]) => [s, e, false]);
    } else if (behavior === "Removed") {
      splits = matches.map(([s, e, m]) => [s, e, m]);
    } else if (behavior === "Contiguous") {
      splits = [];
      let prev = false;
      for (const [s, e, m] of matches) {
        const last = splits[splits.length - 1];
        if (m === prev && last) last[1] = e;
        else splits.push([s, e, false]);
        prev = m;
      }
    } else if (behavior === "MergedWithPrevious") {
      splits = [];
      let prev = false;
      for (const [s, e, m] of matches) {
        const last = splits[splits.length - 1];
        if (m && !prev && last) last[1] = e;
        else splits.push([s, e, false]);
        prev = m;
      }
    } else {
      splits = [];
      let prev = false;
      for (let i = matches.length - 1; i >= 0; i--) {
        const [s, e, m] = matches[i]!;
        const last = splits[splits.length - 1];
        if (m && !prev && last) last[0] = s;
        else splits.push([s, e, false]);
        prev = m;
      }
      splits.reverse();
    }
    const out: NormalizedString[] = [];
    for (const [s, e, remove] of splits) if (!remove) out.push(this.slice(s, e));
    return out;
  }
}

const WS = /^\p{White_Space}$/u;
/** Rust `char::is_whitespace` (the Unicode White_Space property). */
export function isWhitespace(c: string): boolean {
  const cp = c.charCodeAt(0);
  if (cp < 0x80) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d);
  return WS.test(c);
}

/** Matches of a JS global regex over `s`, covering all of `s` (HF `Pattern::find_matches`). */
export function regexMatches(re: RegExp, s: string): Matches {
  if (s.length === 0) return [[0, 0, false]];
  const out: Matches = [];
  let prev = 0;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    if (end === start) {
      // Empty match: HF's find_iter yields it as an empty split that is later dropped; advance.
      re.lastIndex = start + (charAt(s, start)?.length || 1);
      if (start >= s.length) break;
      continue;
    }
    if (prev !== start) out.push([prev, start, false]);
    out.push([start, end, true]);
    prev = end;
  }
  if (prev !== s.length) out.push([prev, s.length, false]);
  return out;
}

/** Matches of a literal string (HF `&str` pattern: an escaped regex). */
export function stringMatches(pattern: string, s: string): Matches {
  if (pattern.length === 0) return [[0, s.length, false]];
  if (s.length === 0) return [[0, 0, false]];
  const out: Matches = [];
  let prev = 0;
  let i = s.indexOf(pattern);
  while (i >= 0) {
    if (prev !== i) out.push([prev, i, false]);
    out.push([i, i + pattern.length, true]);
    prev = i + pattern.length;
    i = s.indexOf(pattern, prev);
  }
  if (prev !== s.length) out.push([prev, s.length, false]);
  return out;
}

/** Matches of a per-char predicate (HF `Fn(char) -> bool` pattern). */
export function charMatches(pred: (c: string) => boolean, s: string): Matches {
  if (s.length === 0) return [[0, 0, false]];
  const out: Matches = [];
  let lastOffset = 0;
  let i = 0;
  for (const c of s) {
    const e = i + c.length;
    if (pred(c)) {
      if (lastOffset < i) out.push([lastOffset, i, false]);
      out.push([i, e, true]);
      lastOffset = e;
    }
    i = e;
  }
  if (i > lastOffset) out.push([lastOffset, i, false]);
  return out;
}

export function invertMatches(m: Matches): Matches {
  return m.map(([s, e, f]) => [s, e, !f]);
}

export interface Split {
  normalized: NormalizedString;
  tokens: Token[] | null;
}

/** A token placed in the whole input: offsets in code units of the original input. */
export interface PlacedToken {
  id: number;
  value: string;
  offsets: Offsets;
  wordId: number | null;
}

export class PreTokenizedString {
  original: string;
  splits: Split[];

  constructor(original: string, splits: Split[]) {
    this.original = original;
    this.splits = splits;
  }

  static from(n: NormalizedString): PreTokenizedString {
    return new PreTokenizedString(n.original, [{ normalized: n, tokens: null }]);
  }

  /** Replace every not-yet-tokenized split by the pieces `fn` returns; empty pieces are dropped. */
  split(fn: (i: number, n: NormalizedString) => Array<NormalizedString | Split>): void {
    const out: Split[] = [];
    for (let i = 0; i < this.splits.length; i++) {
      const sp = this.splits[i]!;
      if (sp.tokens) {
        out.push(sp);
        continue;
      }
      for (const piece of fn(i, sp.normalized)) {
        const s: Split = piece instanceof NormalizedString ? { normalized: piece, tokens: null } : piece;
        if (s.normalized.normalized.length > 0) out.push(s);
      }
    }
    this.splits = out;
  }

  normalize(fn: (n: NormalizedString) => void): void {
    for (const sp of this.splits) if (!sp.tokens) fn(sp.normalized);
  }

  tokenize(fn: (s: string) => Token[]): void {
    for (const sp of this.splits) if (!sp.tokens) sp.tokens = fn(sp.normalized.normalized);
  }

  /**
   * HF `tokenize_with_limit`: tokenize splits (from the start, or from the end for left
   * truncation) until `max` tokens exist, then drop the splits never reached. Splits that already
   * hold tokens (added tokens) count but do not stop the walk.
   */
  tokenizeWithLimit(fn: (s: string) => Token[], max: number, direction: "left" | "right"): void {
    let total = 0;
    if (direction === "right") {
      let last = 0;
      for (let i = 0; i < this.splits.length; i++) {
        const sp = this.splits[i]!;
        if (sp.tokens) {
          total += sp.tokens.length;
          last = i + 1;
          continue;
        }
        sp.tokens = fn(sp.normalized.normalized);
        total += sp.tokens.length;
        last = i + 1;
        if (total >= max) break;
      }
      this.splits.length = last;
    } else {
      let first = this.splits.length;
      for (let i = this.splits.length - 1; i >= 0; i--) {
        const sp = this.splits[i]!;
        if (sp.tokens) {
          total += sp.tokens.length;
          first = i;
          continue;
        }
        sp.tokens = fn(sp.normalized.normalized);
        total += sp.tokens.length;
        first = i;
        if (total >= max) break;
      }
      this.splits = this.splits.slice(first);
    }
  }

  /** Tokens with offsets in code units of the original input (before code-point conversion). */
  placedTokens(): PlacedToken[] {
    const out: PlacedToken[] = [];
    for (let idx = 0; idx < this.splits.length; idx++) {
      const sp = this.splits[idx]!;
      const n = sp.normalized;
      const shift = n.originalShift;
      for (const t of sp.tokens ?? []) {
        const r = n.normalizedToOriginal(t.offsets[0], t.offsets[1]);
        const offsets: Offsets = r ? [shift + r[0], shift + r[1]] : [t.offsets[0], t.offsets[1]];
        out.push({ id: t.id, value: t.value, offsets, wordId: idx });
      }
    }
    return out;
  }
}

/**
 * Converts code-unit offsets in `s` to code-point offsets, with the rules of HF's
 * `BytesToCharOffsetConverter` (an end past the string maps to the last char + 1; a start past the
 * string leaves the offsets unconverted).
 */
export class OffsetConverter {
  private readonly map: Int32Array | null;
  private readonly len: number;

  constructor(s: string) {
    this.len = s.length;
    let hasPairs = false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) {
        hasPairs = true;
        break;
      }
    }
    if (!hasPairs) {
      this.map = null;
      return;
    }
    const m = new Int32Array(s.length);
    let cp = 0;
    for (let i = 0; i < s.length; ) {
      const w = charAt(s, i).length;
      for (let k = 0; k < w; k++) m[i + k] = cp;
      cp++;
      i += w;
    }
    this.map = m;
  }

  private at(i: number): number {
    return this.map ? this.map[i]! : i;
  }

  convert(o: Offsets): Offsets {
    const [s, e] = o;
    if (s < 0 || s >= this.len) return [s, e];
    const start = this.at(s);
    if (e >= 0 && e < this.len) return [start, this.at(e)];
    const last = e - 1 >= 0 && e - 1 < this.len ? this.at(e - 1) : start + 1;
    return [start, last + 1];
  }
}

/** Code-point offsets (what Python returns) -> UTF-16 code-unit offsets (what JS `slice` wants). */
export function codePointToCodeUnitOffsets(text: string, offsets: Offsets): Offsets {
  let cp = 0;
  let start = -1;
  let i = 0;
  for (; i <= text.length; ) {
    if (cp === offsets[0] && start < 0) start = i;
    if (cp === offsets[1]) return [start < 0 ? i : start, i];
    if (i === text.length) break;
    i += charAt(text, i).length;
    cp++;
  }
  return [start < 0 ? text.length : start, text.length];
}
