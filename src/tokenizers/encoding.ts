// Encoding: the result of tokenizing one sequence (or a pair): ids and their companions, all the
// same length. Offsets are code-point indices into the input string, exactly what Python
// `tokenizers` returns (use `codePointToCodeUnitOffsets` to slice a JS string with them).
//
// Mirrors HF tokenizers/src/tokenizer/encoding.rs for the fields tslm uses; also holds truncation
// (tokenizers/src/utils/truncation.rs) and padding (utils/padding.rs).

import type { Offsets } from "./normalized.js";

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** [start, end) in code points of the input (of the sequence the token belongs to). */
  offsets: Offsets[];
  attentionMask: number[];
  typeIds: number[];
  specialTokensMask: number[];
  /** Index of the pre-tokenized word each token comes from (null for special tokens / padding). */
  wordIds: Array<number | null>;
  /** 0 for the first sequence, 1 for the pair, null for special tokens and padding. */
  sequenceIds: Array<number | null>;
  /**
   * What truncation cut off, as further encodings (HF `overflowing`): windows of `maxLength`
   * tokens overlapping by `stride`, each post-processed and padded like the main one.
   */
  overflowing?: Encoding[];
}

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], offsets: [], attentionMask: [], typeIds: [], specialTokensMask: [], wordIds: [], sequenceIds: [] };
}

export function concatEncodings(parts: Encoding[]): Encoding {
  if (parts.length === 1) return parts[0]!;
  // Array.prototype.concat, not push(...x): encodings can be far longer than the call stack allows.
  const pick = (k: Exclude<keyof Encoding, "overflowing">): unknown[] => ([] as unknown[]).concat(...parts.map((p) => p[k] as unknown[]));
  return {
    ids: pick("ids") as number[],
    tokens: pick("tokens") as string[],
    offsets: pick("offsets") as Offsets[],
    attentionMask: pick("attentionMask") as number[],
    typeIds: pick("typeIds") as number[],
    specialTokensMask: pick("specialTokensMask") as number[],
    wordIds: pick("wordIds") as Array<number | null>,
    sequenceIds: pick("sequenceIds") as Array<number | null>,
  };
}

export function setTypeIds(e: Encoding, typeId: number): void {
  e.typeIds.fill(typeId);
}

export function setSequenceId(e: Encoding, seq: number): void {
  e.sequenceIds.fill(seq);
}

/** A run of special tokens (from a post-processor template). */
export function specialEncoding(ids: number[], tokens: string[], typeId: number): Encoding {
  return {
    ids: [...ids],
    tokens: [...tokens],
    offsets: ids.map(() => [0, 0] as Offsets),
    attentionMask: ids.map(() => 1),
    typeIds: ids.map(() => typeId),
    specialTokensMask: ids.map(() => 1),
    wordIds: ids.map(() => null),
    sequenceIds: ids.map(() => null),
  };
}

function sliceEncoding(e: Encoding, start: number, end: number): Encoding {
  return {
    ids: e.ids.slice(start, end),
    tokens: e.tokens.slice(start, end),
    // Own copies: overlapping windows must not share the tuples post-processors adjust in place.
    offsets: e.offsets.slice(start, end).map((o) => [o[0], o[1]] as Offsets),
    attentionMask: e.attentionMask.slice(start, end),
    typeIds: e.typeIds.slice(start, end),
    specialTokensMask: e.specialTokensMask.slice(start, end),
    wordIds: e.wordIds.slice(start, end),
    sequenceIds: e.sequenceIds.slice(start, end),
  };
}

export type TruncationStrategy = "longest_first" | "only_first" | "only_second";
export type Side = "left" | "right";

export interface TruncationOptions {
  maxLength: number;
  strategy?: TruncationStrategy;
  direction?: Side;
  /** Overlap between consecutive overflowing windows (HF `stride`, default 0). */
  stride?: number;
}

/**
 * Keep `maxLen` tokens from the chosen side; the rest become `overflowing` windows of `maxLen`
 * tokens that overlap by `stride` (HF `Encoding::truncate`).
 */
export function truncateEncoding(e: Encoding, maxLen: number, direction: Side, stride = 0): Encoding {
  const len = e.ids.length;
  if (maxLen >= len) return e;
  if (maxLen === 0) return { ...emptyEncoding(), overflowing: [{ ...e, overflowing: [] }] };
  if (stride >= maxLen) {
    throw new Error(`truncation: stride ${stride} must be strictly less than the length kept (${maxLen}, after the special tokens)`);
  }
  const step = maxLen - stride;
  const ranges: Array<[number, number]> = [];
  if (direction === "right") {
    for (let start = 0; start < len; start += step) {
      const stop = Math.min(start + maxLen, len);
      ranges.push([start, stop]);
      if (stop === len) break;
    }
  } else {
    for (let last = len - 1; last >= 0; last -= step) {
      const stop = last + 1;
      const start = Math.max(0, stop - maxLen);
      ranges.push([start, stop]);
      if (start === 0) break;
    }
  }
  const parts = ranges.map(([a, b]) => sliceEncoding(e, a, b));
  return { ...parts[0]!, overflowing: parts.slice(1) };
}

/**
 * HF `Encoding::merge_with` (offsets not shifted): append `pair` to `self`, and combine their
 * overflowing windows: each of ours with `pair` and with each of its windows, then ourself with
 * each of its windows.
 */
export function mergeWith(self: Encoding, pair: Encoding): Encoding {
  const so = self.overflowing ?? [];
  const po = pair.overflowing ?? [];
  const over: Encoding[] = [];
  const plain = (x: Encoding): Encoding => ({ ...x, overflowing: [] });
  for (const o of so) {
    over.push(mergeWith(plain(o), plain(pair)));
    for (const p of po) over.push(mergeWith(plain(o), plain(p)));
  }
  for (const p of po) over.push(mergeWith(plain(self), plain(p)));
  const out = concatEncodings([plain(self), plain(pair)]);
  return { ...out, overflowing: over };
}

/** HF `Encoding::merge`: fold `mergeWith` over the parts. */
export function mergeEncodings(parts: Encoding[]): Encoding {
  if (parts.length === 1) return parts[0]!;
  if (!parts.some((p) => p.overflowing && p.overflowing.length > 0)) return concatEncodings(parts);
  let acc: Encoding = emptyEncoding();
  for (const p of parts) acc = mergeWith(acc, p);
  return acc;
}

/** HF `truncate_encodings`: trims a single sequence or a pair to `maxLength` tokens in total. */
export function truncatePair(a: Encoding, b: Encoding | null, opts: TruncationOptions): [Encoding, Encoding | null] {
  const dir = opts.direction ?? "right";
  const strategy = opts.strategy ?? "longest_first";
  const max = opts.maxLength;
  const stride = opts.stride ?? 0;
  if (max === 0) return [truncateEncoding(a, 0, dir, stride), b ? truncateEncoding(b, 0, dir, stride) : null];
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= max) return [a, b];
  const toRemove = total - max;
  if (strategy === "longest_first") {
    if (!b) return [truncateEncoding(a, total - toRemove, dir, stride), null];
    // HF: the shorter keeps its length if the longer can absorb the cut; otherwise both get half,
    // the longer one the odd token.
    let n1 = a.ids.length;
    let n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > max ? n1 : Math.max(n1, max - n1);
    if (n1 + n2 > max) {
      n1 = Math.floor(max / 2);
      n2 = n1 + (max % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [truncateEncoding(a, n1, dir, stride), truncateEncoding(b, n2, dir, stride)];
  }
  if (strategy === "only_second" && !b) throw new Error("truncation: strategy only_second needs a pair of sequences");
  const target = strategy === "only_first" ? a : b!;
  if (target.ids.length <= toRemove) {
    throw new Error(
      `truncation: the ${strategy === "only_first" ? "first" : "second"} sequence has ${target.ids.length} tokens, cannot remove ${toRemove} (HF: SequenceTooShort)`,
    );
  }
  const cut = truncateEncoding(target, target.ids.length - toRemove, dir, stride);
  return strategy === "only_first" ? [cut, b] : [a, cut];
}

export interface PadOptions {
  length: number;
  side: Side;
  padId: number;
  padTypeId: number;
  padToken: string;
}

export function padEncoding(e: Encoding, o: PadOptions): Encoding {
  // Overflowing windows are padded too (HF pads them first).
  if (e.overflowing && e.overflowing.length > 0) {
    e = { ...e, overflowing: e.overflowing.map((x) => padEncoding(x, o)) };
  }
  const n = o.length - e.ids.length;
  if (n <= 0) return e;
  const rep = <T>(v: T): T[] => Array.from({ length: n }, () => v);
  const pad: Encoding = {
    ids: rep(o.padId),
    tokens: rep(o.padToken),
    offsets: Array.from({ length: n }, () => [0, 0] as Offsets),
    attentionMask: rep(0),
    typeIds: rep(o.padTypeId),
    specialTokensMask: rep(1),
    wordIds: rep<number | null>(null),
    sequenceIds: rep<number | null>(null),
  };
  const out = o.side === "right" ? concatEncodings([e, pad]) : concatEncodings([pad, e]);
  if (e.overflowing) out.overflowing = e.overflowing;
  return out;
}
