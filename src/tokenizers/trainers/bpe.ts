// BPE training on word counts, step for step the algorithm of Hugging Face `tokenizers`'
// `BpeTrainer` (tokenizers/src/models/bpe/trainer.rs and word.rs), so that the same word counts and
// settings give the same vocabulary ids and the same merges:
//
//   1. special tokens first, in the order given;
//   2. the alphabet: every character seen (weighted by word count) plus the initial alphabet (which
//      counts as infinitely frequent); `limitAlphabet` drops the rarest; the kept characters get ids
//      in code point order;
//   3. each word becomes a list of symbol ids (characters outside the alphabet are dropped; with a
//      `continuingSubwordPrefix` every non-first character is the prefixed token, with an
//      `endOfWordSuffix` the last one carries the suffix);
//   4. pair counts over all words, each pair with the set of words it occurs in;
//   5. repeatedly pop the best pair from a max-heap ordered by (count descending, pair ids
//      ascending) — the tie-break of HF's `Merge` Ord — merge it left to right in the words that
//      entry lists, and push the pairs the merge created. Entries are never removed: a popped entry
//      whose count is stale is re-pushed with the current count (lazy deletion).
//
// Quirks kept on purpose because they decide ids and merges: a popped merge only visits the words
// recorded in *that* heap entry; a merge never subtracts its own pair's count; and a pair whose
// merged string already exists reuses that id and may produce a second merge for the same pair
// (the later rank wins when merges are written, as in HF's HashMap). Where HF itself is
// non-deterministic (ties in `limitAlphabet`'s count sort, the id order of prefixed tokens created
// in HashMap order) we pick a stable order and say so in `trainWordPiece`.

import { MaxHeap } from "./heap.js";

export interface BpeTrainerOptions {
  /** Stop when the vocabulary (special tokens included) has this many entries. */
  vocabSize: number;
  /** A pair must occur at least this often (summed over word counts) to be merged. Default 0. */
  minFrequency?: number;
  /** Added first, in this order, with ids 0.. */
  specialTokens?: string[];
  /** Keep at most this many alphabet characters (the most frequent). */
  limitAlphabet?: number;
  /** Characters always in the alphabet, e.g. the 256 byte-level characters. */
  initialAlphabet?: Iterable<string>;
  /** Prefix for symbols that do not start a word ("##" for WordPiece). */
  continuingSubwordPrefix?: string;
  /** Suffix for symbols that end a word ("</w>" for original BPE). */
  endOfWordSuffix?: string;
  /** Longest merged token, in characters; unlimited by default. */
  maxTokenLength?: number;
  /**
   * Id order for the prefixed / suffixed character tokens step 3 creates. HF creates them in its
   * word hash map's iteration order (random per process); by default tslm uses the order the words
   * come in. Tokens not listed keep that default order, after the listed ones.
   */
  prefixedOrder?: string[];
  /** Called as work advances: stage name, units done, units in the stage. */
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface BpeTrainResult {
  /** id -> token. */
  vocab: string[];
  /** Merges in rank order, as token pairs. */
  merges: [string, string][];
}

// A pair of symbol ids packed in one number: ids stay below 2^26 (67 M), so a * 2^26 + b is exact
// in a double, and numeric order of keys equals the (a, b) lexicographic order HF compares.
const PAIR_SHIFT = 67108864;
const pairKey = (a: number, b: number): number => a * PAIR_SHIFT + b;
const pairFirst = (key: number): number => Math.floor(key / PAIR_SHIFT);
const pairSecond = (key: number): number => key % PAIR_SHIFT;

/** One heap entry: a pair, its count when pushed, and the words to visit when it is merged. */
interface MergeEntry {
  key: number;
  count: number;
  /** Word indices, ascending, without repeats. */
  pos: number[];
}

// HF: higher count first; on equal counts the smaller pair (ids compared lexicographically).
const entryBefore = (a: MergeEntry, b: MergeEntry): boolean =>
  a.count !== b.count ? a.count > b.count : a.key < b.key;

/** Trains BPE on `wordCounts` (pre-tokenized words and how often each occurs). */
export function trainBpe(wordCounts: Map<string, number>, options: BpeTrainerOptions): BpeTrainResult {
  const vocabSize = options.vocabSize;
  const minFrequency = options.minFrequency ?? 0;
  const prefix = options.continuingSubwordPrefix;
  const suffix = options.endOfWordSuffix;
  const maxTokenLength = options.maxTokenLength ?? Number.POSITIVE_INFINITY;
  const progress = options.onProgress ?? (() => {});

  const idToWord: string[] = [];
  const wordToId = new Map<string, number>();
  // Length in original characters of each token (prefix and suffix not counted), for maxTokenLength;
  // HF tracks it per symbol, but a token string always has the same length, so per id is the same.
  const charLen: number[] = [];
  const addToken = (token: string, len: number): number => {
    let id = wordToId.get(token);
    if (id === undefined) {
      id = idToWord.length;
      idToWord.push(token);
      wordToId.set(token, id);
      charLen.push(len);
    }
    return id;
  };

  // 1. Special tokens.
  for (const t of options.specialTokens ?? []) addToken(t, 0);

  // 2. Alphabet.
  const alphabet = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    for (const c of word) alphabet.set(c, (alphabet.get(c) ?? 0) + count);
  }
  for (const c of options.initialAlphabet ?? []) alphabet.set(c, Number.POSITIVE_INFINITY);
  let kept = [...alphabet.entries()];
  const limit = options.limitAlphabet;
  if (limit !== undefined && kept.length > limit) {
    // HF sorts by count with an unstable sort, so its choice among equal counts is arbitrary;
    // we break ties by code point to stay deterministic.
    kept.sort((x, y) => x[1] - y[1] || (x[0].codePointAt(0)! - y[0].codePointAt(0)!));
    kept = kept.slice(kept.length - limit);
  }
  kept.sort((x, y) => x[0].codePointAt(0)! - y[0].codePointAt(0)!);
  for (const [c] of kept) addToken(c, 1);

  // 3. Words as symbol ids. With a prefix or suffix, the decorated character tokens are new
  // vocabulary entries; a first pass finds them so that `prefixedOrder` can fix their ids.
  const decorate = (chars: string[], i: number): string => {
    let s = chars[i]!;
    if (i > 0 && prefix !== undefined) s = prefix + s;
    if (i === chars.length - 1 && suffix !== undefined) s = s + suffix;
    return s;
  };
  if (prefix !== undefined || suffix !== undefined) {
    const created = new Set<string>();
    for (const word of wordCounts.keys()) {
      const chars = [...word];
      for (let i = 0; i < chars.length; i++) {
        if (wordToId.has(chars[i]!)) {
          const s = decorate(chars, i);
          if (!wordToId.has(s)) created.add(s);
        }
      }
    }
    for (const s of options.prefixedOrder ?? []) if (created.delete(s)) addToken(s, 1);
    for (const s of created) addToken(s, 1);
  }
  const words: number[][] = [];
  const counts: number[] = [];
  let done = 0;
  const nWords = wordCounts.size;
  for (const [word, count] of wordCounts) {
    const chars = [...word];
    const symbols: number[] = [];
    for (let i = 0; i < chars.length; i++) {
      // Characters outside the (limited) alphabet are dropped, as HF does.
      if (wordToId.has(chars[i]!)) symbols.push(wordToId.get(decorate(chars, i))!);
    }
    words.push(symbols);
    counts.push(count);
    if (++done % 10000 === 0) progress("Tokenize words", done, nWords);
  }
  progress("Tokenize words", nWords, nWords);

  // 4. Pair counts and where each pair occurs.
  const pairCounts = new Map<number, number>();
  let whereToUpdate = new Map<number, number[]>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const count = counts[i]!;
    for (let j = 0; j + 1 < w.length; j++) {
      const key = pairKey(w[j]!, w[j + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      addPos(whereToUpdate, key, i);
    }
  }
  const queue = new MaxHeap<MergeEntry>(entryBefore);
  for (const [key, pos] of whereToUpdate) {
    const count = pairCounts.get(key)!;
    if (count > 0) queue.push({ key, count, pos });
  }
  whereToUpdate = new Map();
  progress("Count pairs", words.length, words.length);

  // 5. Merges.
  const merges: { key: number; newId: number }[] = [];
  const changes: number[] = []; // flat (pairKey, delta, wordIndex) triples of one step
  for (;;) {
    if (wordToId.size >= vocabSize) break;
    const top = queue.pop();
    if (top === undefined) break;
    const current = pairCounts.get(top.key)!;
    if (top.count !== current) {
      top.count = current;
      queue.push(top);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) break;

    const a = pairFirst(top.key);
    const b = pairSecond(top.key);
    let partB = idToWord[b]!;
    if (prefix !== undefined && partB.startsWith(prefix)) partB = partB.slice(prefix.length);
    const newId = addToken(idToWord[a]! + partB, charLen[a]! + charLen[b]!);
    merges.push({ key: top.key, newId });

    changes.length = 0;
    for (const iw of top.pos) mergeWord(words, iw, a, b, newId, charLen, maxTokenLength, changes);
    for (let k = 0; k < changes.length; k += 3) {
      const key = changes[k]!;
      const delta = changes[k + 1]!;
      const iw = changes[k + 2]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta * counts[iw]!);
      if (delta > 0) addPos(whereToUpdate, key, iw);
    }
    for (const [key, pos] of whereToUpdate) {
      const count = pairCounts.get(key)!;
      if (count > 0) queue.push({ key, count, pos });
    }
    whereToUpdate.clear();
    if (merges.length % 100 === 0) progress("Compute merges", wordToId.size, vocabSize);
  }
  progress("Compute merges", vocabSize, vocabSize);

  // HF stores merges in a HashMap keyed by pair, so a pair merged twice keeps its later rank.
  const rankOf = new Map<number, number>();
  merges.forEach((m, rank) => rankOf.set(m.key, rank));
  const ordered = [...rankOf.entries()].sort((x, y) => x[1] - y[1]);
  return {
    vocab: idToWord,
    merges: ordered.map(([key]) => [idToWord[pairFirst(key)]!, idToWord[pairSecond(key)]!]),
  };
}

/** Appends word index `iw` to the pair's position list unless it is already the last one. */
function addPos(where: Map<number, number[]>, key: number, iw: number): void {
  const pos = where.get(key);
  if (pos === undefined) where.set(key, [iw]);
  else if (pos[pos.length - 1] !== iw) pos.push(iw);
}

/**
 * Replaces every non-overlapping (c1, c2) in words[iw], scanning left to right, with `rep`, and
 * records the pair-count changes as HF's `Word::merge` reports them: for each occurrence, -1 for
 * (previous, c1) and +1 for (previous, rep) when there is a previous symbol, -1 for (c2, next) and
 * +1 for (rep, next) when there is a next one ("previous" is the already-merged left neighbour).
 */
function mergeWord(
  words: number[][],
  iw: number,
  c1: number,
  c2: number,
  rep: number,
  charLen: number[],
  maxTokenLength: number,
  changes: number[],
): void {
  const sym = words[iw]!;
  const n = sym.length;
  let w = 0;
  let r = 0;
  let found = false;
  while (r < n) {
    if (sym[r] === c1 && r + 1 < n && sym[r + 1] === c2) {
      found = true;
      const repLen = charLen[rep]!;
      if (w > 0) {
        const prev = sym[w - 1]!;
        changes.push(pairKey(prev, c1), -1, iw);
        if (charLen[prev]! + repLen < maxTokenLength) changes.push(pairKey(prev, rep), 1, iw);
      }
      sym[w++] = rep;
      r += 2;
      if (r < n) {
        const next = sym[r]!;
        changes.push(pairKey(c2, next), -1, iw);
        if (charLen[next]! + repLen < maxTokenLength) changes.push(pairKey(rep, next), 1, iw);
      }
    } else {
      sym[w++] = sym[r++]!;
    }
  }
  if (found) sym.length = w;
}
