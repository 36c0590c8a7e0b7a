// Byte-Pair Encoding model: turns one pre-tokenized word into tokens by applying learned merges.
//
// Mirrors HF tokenizers/src/models/bpe/{model.rs,word.rs}: the word starts as one symbol per char
// (with `continuing_subword_prefix` on non-first chars and `end_of_word_suffix` on the last), chars
// missing from the vocabulary become `<0xXX>` byte tokens when `byte_fallback` is on, else the
// `unk_token` (fused across runs when `fuse_unk`). Then the lowest-ranked adjacent pair is merged,
// leftmost first, until no pair has a merge. `ignore_merges` (LLaMA-3) first looks the whole word up
// in the vocabulary. Dropout is rejected: HF draws it from an unseeded RNG, so no seeded
// reimplementation could match it, and silently ignoring it would be a quiet gap.
//
// Speed: merges live in an open-addressing hash table keyed by the pair of ids (two Int32Arrays);
// the merge loop uses a doubly linked list over the symbols and a binary heap of candidate pairs
// (O(n log n) per word); results are cached per word.

import type { Offsets, Token } from "../normalized.js";
import { charAt } from "../normalized.js";
import { TokenizerJsonError } from "../json.js";

/** Pair (a, b) -> (rank, new id), open addressing with linear probing. */
export class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private ranks: Int32Array;
  private newIds: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.newIds = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 0;
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Insert or overwrite (a duplicated merge keeps its last rank, as HF's HashMap collect does). */
  set(a: number, b: number, rank: number, newId: number): boolean {
    let i = this.slot(a, b);
    for (;;) {
      const ka = this.keysA[i]!;
      if (ka === -1) {
        this.keysA[i] = a;
        this.keysB[i] = b;
        this.ranks[i] = rank;
        this.newIds[i] = newId;
        this.size++;
        return true;
      }
      if (ka === a && this.keysB[i] === b) {
        this.ranks[i] = rank;
        this.newIds[i] = newId;
        return false;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Slot index of (a, b), or -1. */
  find(a: number, b: number): number {
    let i = this.slot(a, b);
    for (;;) {
      const ka = this.keysA[i]!;
      if (ka === -1) return -1;
      if (ka === a && this.keysB[i] === b) return i;
      i = (i + 1) & this.mask;
    }
  }

  rankAt(slot: number): number {
    return this.ranks[slot]!;
  }
  newIdAt(slot: number): number {
    return this.newIds[slot]!;
  }
}

export interface BPEOptions {
  vocab: Map<string, number>;
  /** Merges in rank order, as token pairs. */
  merges: Array<[string, string]>;
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
  dropout?: number | null;
  /** Max cached words (default 100,000; HF uses 10,000); 0 disables the cache. */
  cacheCapacity?: number;
}

interface CachedWord {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
}

/** Positions in a word are packed with the merge rank into one double: rank * POS_LIMIT + pos. */
const POS_LIMIT = 2 ** 26;

const BYTE_TOKENS = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
const utf8 = new TextEncoder();

export class BPE {
  readonly type = "BPE";
  readonly vocab: Map<string, number>;
  readonly vocabR: string[];
  readonly merges: Array<[string, string]>;
  readonly unkToken: string | null;
  readonly continuingSubwordPrefix: string | null;
  readonly endOfWordSuffix: string | null;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
  readonly dropout: number | null;
  private readonly table: PairTable;
  private readonly cache = new Map<string, CachedWord>();
  private readonly cacheCapacity: number;
  private readonly byteIds: Int32Array | null;

  constructor(o: BPEOptions, path = "model") {
    if (o.dropout != null && o.dropout !== 0) {
      throw new TokenizerJsonError(
        `${path}.dropout`,
        `BPE dropout ${o.dropout} is not supported: Hugging Face samples it from an unseeded RNG, so results could never match; set it to null for encoding`,
      );
    }
    this.vocab = o.vocab;
    this.vocabR = [];
    for (const [tok, id] of o.vocab) this.vocabR[id] = tok;
    this.merges = o.merges;
    this.unkToken = o.unkToken ?? null;
    this.continuingSubwordPrefix = o.continuingSubwordPrefix ?? null;
    this.endOfWordSuffix = o.endOfWordSuffix ?? null;
    this.fuseUnk = o.fuseUnk ?? false;
    this.byteFallback = o.byteFallback ?? false;
    this.ignoreMerges = o.ignoreMerges ?? false;
    this.dropout = o.dropout ?? null;
    this.cacheCapacity = o.cacheCapacity ?? 100_000;
    this.table = new PairTable(o.merges.length);
    const prefixLen = this.continuingSubwordPrefix?.length ?? 0;
    for (let r = 0; r < o.merges.length; r++) {
      const [a, b] = o.merges[r]!;
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      if (ia === undefined) throw new TokenizerJsonError(`${path}.merges[${r}]`, `token "${a}" of merge "${a} ${b}" is not in the vocabulary`);
      if (ib === undefined) throw new TokenizerJsonError(`${path}.merges[${r}]`, `token "${b}" of merge "${a} ${b}" is not in the vocabulary`);
      // The merged token drops the continuing prefix of the right part (HF: `b[prefix_len..]`,
      // unconditionally).
      const merged = a + b.slice(prefixLen);
      const nid = this.vocab.get(merged);
      if (nid === undefined) throw new TokenizerJsonError(`${path}.merges[${r}]`, `merged token "${merged}" is not in the vocabulary`);
      this.table.set(ia, ib, r, nid);
    }
    if (this.byteFallback) {
      const ids = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) ids[b] = this.vocab.get(BYTE_TOKENS[b]!) ?? -1;
      this.byteIds = ids;
    } else this.byteIds = null;
    if (this.unkToken !== null && !this.vocab.has(this.unkToken)) {
      // HF fails lazily (on the first unknown char); we say so at load time.
      throw new TokenizerJsonError(`${path}.unk_token`, `unk_token "${this.unkToken}" is not in the vocabulary`);
    }
  }

  tokenToId(t: string): number | undefined {
    return this.vocab.get(t);
  }
  idToToken(id: number): string | undefined {
    return this.vocabR[id];
  }
  getVocabSize(): number {
    return this.vocab.size;
  }

  tokenize(word: string): Token[] {
    if (word.length === 0) return [];
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, value: word, offsets: [0, word.length] }];
    }
    let w = this.cache.get(word);
    if (!w) {
      w = this.mergeWord(word);
      if (this.cacheCapacity > 0 && word.length < 256) {
        if (this.cache.size >= this.cacheCapacity) this.cache.clear();
        this.cache.set(word, w);
      }
    }
    const out: Token[] = new Array(w.ids.length);
    for (let i = 0; i < w.ids.length; i++) {
      const id = w.ids[i]!;
      out[i] = { id, value: this.vocabR[id]!, offsets: [w.starts[i]!, w.ends[i]!] as Offsets };
    }
    return out;
  }

  /** Initial symbols of a word, then the merge loop. */
  private mergeWord(word: string): CachedWord {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let unkId = -1;
    let unkStart = 0;
    let unkEnd = 0;
    const flushUnk = () => {
      if (unkId >= 0) {
        ids.push(unkId);
        starts.push(unkStart);
        ends.push(unkEnd);
        unkId = -1;
      }
    };
    const prefix = this.continuingSubwordPrefix;
    const suffix = this.endOfWordSuffix;
    for (let i = 0; i < word.length; ) {
      const ch = charAt(word, i);
      const end = i + ch.length;
      let s = ch;
      if (i > 0 && prefix) s = prefix + s;
      if (end === word.length && suffix) s = s + suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        starts.push(i);
        ends.push(end);
      } else {
        let done = false;
        if (this.byteIds) {
          const bytes = utf8.encode(s);
          let ok = true;
          for (const b of bytes) if (this.byteIds[b]! < 0) ok = false;
          if (ok) {
            // Byte tokens of one char all point at that char (HF: 1-byte offsets inside it).
            for (const b of bytes) {
              ids.push(this.byteIds[b]!);
              starts.push(i);
              ends.push(end);
            }
            done = true;
          }
        }
        if (!done && this.unkToken !== null) {
          const uid = this.vocab.get(this.unkToken)!;
          if (unkId >= 0 && this.fuseUnk) {
            unkEnd = end;
          } else {
            flushUnk();
            unkId = uid;
            unkStart = i;
            unkEnd = end;
          }
        }
        // With neither byte fallback nor unk_token the char is dropped, as in HF.
      }
      i = end;
    }
    flushUnk();
    return this.applyMerges(ids, starts, ends);
  }

  private applyMerges(idsIn: number[], startsIn: number[], endsIn: number[]): CachedWord {
    const n = idsIn.length;
    if (n < 2) return { ids: Int32Array.from(idsIn), starts: Int32Array.from(startsIn), ends: Int32Array.from(endsIn) };
    if (n >= POS_LIMIT) throw new RangeError(`BPE: a single word of ${n} symbols is too long (limit ${POS_LIMIT})`);
    const ids = Int32Array.from(idsIn);
    const starts = Int32Array.from(startsIn);
    const ends = Int32Array.from(endsIn);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    // Binary min-heap of candidate merges, each packed in one double as rank * POS_LIMIT + position
    // (so ties on rank go to the leftmost pair, as HF). Entries can go stale; they are re-checked.
    let heap = new Float64Array(Math.max(16, n));
    let size = 0;
    const push = (key: number) => {
      if (size === heap.length) {
        const h2 = new Float64Array(heap.length * 2);
        h2.set(heap);
        heap = h2;
      }
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pk = heap[p]!;
        if (pk <= key) break;
        heap[i] = pk;
        i = p;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap[--size]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
      return top;
    };
    const t = this.table;
    for (let i = 0; i + 1 < n; i++) {
      const slot = t.find(ids[i]!, ids[i + 1]!);
      if (slot >= 0) push(t.rankAt(slot) * POS_LIMIT + i);
    }
    let count = n;
    while (size > 0) {
      const key = pop();
      const pos = key % POS_LIMIT;
      const rank = (key - pos) / POS_LIMIT;
      if (!alive[pos]) continue;
      const right = next[pos]!;
      if (right < 0) continue;
      // Stale entry check: the pair at pos must still be the one this entry was made for.
      const slot = t.find(ids[pos]!, ids[right]!);
      if (slot < 0 || t.rankAt(slot) !== rank) continue;
      const nid = t.newIdAt(slot);
      ids[pos] = nid;
      ends[pos] = ends[right]!;
      alive[right] = 0;
      const rn = next[right]!;
      next[pos] = rn;
      if (rn >= 0) prev[rn] = pos;
      count--;
      const p = prev[pos]!;
      if (p >= 0) {
        const s2 = t.find(ids[p]!, nid);
        if (s2 >= 0) push(t.rankAt(s2) * POS_LIMIT + p);
      }
      if (rn >= 0) {
        const s3 = t.find(nid, ids[rn]!);
        if (s3 >= 0) push(t.rankAt(s3) * POS_LIMIT + pos);
      }
    }
    const oIds = new Int32Array(count);
    const oS = new Int32Array(count);
    const oE = new Int32Array(count);
    let k = 0;
    for (let i = 0; i >= 0 && i < n; i = next[i]!) {
      oIds[k] = ids[i]!;
      oS[k] = starts[i]!;
      oE[k] = ends[i]!;
      k++;
    }
    return { ids: oIds, starts: oS, ends: oE };
  }

  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of this.vocab) vocab[t] = id;
    return {
      type: "BPE",
      dropout: this.dropout,
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      end_of_word_suffix: this.endOfWordSuffix,
      fuse_unk: this.fuseUnk,
      byte_fallback: this.byteFallback,
      ignore_merges: this.ignoreMerges,
      vocab,
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }
}
