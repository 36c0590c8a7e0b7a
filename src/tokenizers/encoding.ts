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
}

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], offsets: [], attentionMask: [], typeIds: [], specialTokensMask: [], wordIds: [], sequenceIds: [] };
}

export function concatEncodings(parts: Encoding[]): Encoding {
  if (parts.length === 1) return parts[0]!;
  // Array.prototype.concat, not push(...x): encodings can be far longer than the call stack allows.
  const pick = <K extends keyof Encoding>(k: K) => ([] as Encoding[K][number][]).concat(...parts.map((p) => p[k] as Encoding[K][number][]));
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
    offsets: e.offsets.slice(start, end),
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
}

/** Keep `n` tokens from the chosen side (HF `Encoding::truncate` without overflow). */
export function truncateEncoding(e: Encoding, n: number, direction: Side): Encoding {
  if (e.ids.length <= n) return e;
  return direction === "right" ? sliceEncoding(e, 0, n) : sliceEncoding(e, e.ids.length - n, e.ids.length);
}

/** HF `truncate_encodings`: trims a single sequence or a pair to `maxLength` tokens in total. */
export function truncatePair(a: Encoding, b: Encoding | null, opts: TruncationOptions): [Encoding, Encoding | null] {
  const dir = opts.direction ?? "right";
  const strategy = opts.strategy ?? "longest_first";
  const max = opts.maxLength;
  if (max === 0) return [truncateEncoding(a, 0, dir), b ? truncateEncoding(b, 0, dir) : null];
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= max) return [a, b];
  const toRemove = total - max;
  if (strategy === "longest_first") {
    if (!b) return [truncateEncoding(a, total - toRemove, dir), null];
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
    return [truncateEncoding(a, n1, dir), truncateEncoding(b, n2, dir)];
  }
  if (strategy === "only_second" && !b) throw new Error("truncation: strategy only_second needs a pair of sequences");
  const target = strategy === "only_first" ? a : b!;
  if (target.ids.length <= toRemove) {
    throw new Error(
      `truncation: the ${strategy === "only_first" ? "first" : "second"} sequence has ${target.ids.length} tokens, cannot remove ${toRemove} (HF: SequenceTooShort)`,
    );
  }
  const cut = truncateEncoding(target, target.ids.length - toRemove, dir);
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
  return o.side === "right" ? concatEncodings([e, pad]) : concatEncodings([pad, e]);
}
