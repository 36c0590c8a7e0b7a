// Train / validation splits and packing.
//
//   splitByDocuments  a seeded choice of whole documents goes to validation (no document is cut
//                     in two, so no validation text leaks into training); both sides keep the
//                     corpus order of their documents. Views over the same stream, no copies.
//   splitByTokens     the last `fraction` of the token stream is validation (nanoGPT's
//                     train.bin / val.bin split); deterministic, no randomness involved.
//   packDocuments     documents (id arrays) -> one flat stream with an EOS after each, the layout a
//                     token cache already has on disk.
//   groupIntoBlocks   a stream -> consecutive blocks of `blockSize` ids, the remainder dropped
//                     (Hugging Face run_clm's group_texts).
//   wrapRows          rows -> prefix + row + suffix, e.g. [CLS] ... [SEP] around windows of T - 2
//                     tokens for BERT-style masked-LM pretraining on a packed stream.
import { Generator } from "../tensor/rng.js";
import { SegmentedTokens, type TokenStream } from "./tokens.js";

export interface Split {
  train: TokenStream;
  validation: TokenStream;
}

function checkFraction(fraction: number, what: string): void {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`${what}: the validation fraction must be in [0, 1), got ${fraction}`);
}

/**
 * Splits a stream made of documents [start, end) by documents: round(fraction * documents) of them
 * (at least one when fraction > 0 and there are two or more), chosen by a seeded shuffle.
 */
export function splitByDocuments(stream: TokenStream, documents: ReadonlyArray<readonly [number, number]>, fraction: number, seed = 0): Split {
  checkFraction(fraction, "splitByDocuments");
  const n = documents.length;
  if (n === 0) throw new Error("splitByDocuments: no documents");
  let nVal = Math.round(fraction * n);
  if (fraction > 0 && nVal === 0 && n >= 2) nVal = 1;
  if (nVal >= n) throw new Error(`splitByDocuments: ${n} document(s) cannot leave any for training with fraction ${fraction}; use splitByTokens`);
  // Fisher-Yates with the seeded generator: the first nVal indices of the permutation go to validation.
  const g = new Generator(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const isVal = new Uint8Array(n);
  for (let i = 0; i < nVal; i++) isVal[perm[i]!] = 1;
  const train: Array<[number, number]> = [];
  const val: Array<[number, number]> = [];
  documents.forEach(([s, e], i) => (isVal[i] ? val : train).push([s, e]));
  return { train: new SegmentedTokens(stream, train), validation: new SegmentedTokens(stream, val) };
}

/** The last `fraction` of the tokens (rounded down to whole tokens) become validation. */
export function splitByTokens(stream: TokenStream, fraction: number): Split {
  checkFraction(fraction, "splitByTokens");
  const nVal = Math.floor(stream.length * fraction);
  const cut = stream.length - nVal;
  return { train: new SegmentedTokens(stream, [[0, cut]]), validation: new SegmentedTokens(stream, [[cut, stream.length]]) };
}

/** Concatenates documents with `eosId` after each one (null: no separator). */
export function packDocuments(docs: ReadonlyArray<ArrayLike<number>>, eosId: number | null): Int32Array {
  const total = docs.reduce((s, d) => s + d.length + (eosId === null ? 0 : 1), 0);
  const out = new Int32Array(total);
  let p = 0;
  for (const d of docs) {
    for (let i = 0; i < d.length; i++) out[p++] = d[i]!;
    if (eosId !== null) out[p++] = eosId;
  }
  return out;
}

/** Consecutive blocks of `blockSize` ids; the tail shorter than a block is dropped (as HF group_texts). */
export function groupIntoBlocks(stream: TokenStream, blockSize: number): Int32Array[] {
  if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new Error(`groupIntoBlocks: blockSize must be a positive integer, got ${blockSize}`);
  const out: Int32Array[] = [];
  for (let s = 0; s + blockSize <= stream.length; s += blockSize) {
    const b = new Int32Array(blockSize);
    stream.read(s, blockSize, b, 0);
    out.push(b);
  }
  return out;
}

/** Each row with `prefix` before and `suffix` after it (new arrays). */
export function wrapRows(rows: ReadonlyArray<ArrayLike<number>>, prefix: ArrayLike<number>, suffix: ArrayLike<number>): Int32Array[] {
  return rows.map((r) => {
    const out = new Int32Array(prefix.length + r.length + suffix.length);
    out.set(prefix, 0);
    out.set(r, prefix.length);
    out.set(suffix, prefix.length + r.length);
    return out;
  });
}
