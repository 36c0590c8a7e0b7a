// Unigram language model (SentencePiece): the segmentation of a word that maximizes the sum of
// piece log-probabilities, found by Viterbi over every vocabulary piece starting at every char.
// A char no piece covers costs `min_score - 10` and becomes `unk` (fused with its neighbours);
// with `byte_fallback`, pieces that end up unknown are spelled as `<0xXX>` byte tokens instead.
//
// Mirrors HF tokenizers/src/models/unigram/model.rs (`encode_optimized` and `tokenize`).

import type { Token } from "../normalized.js";
import { charAt } from "../normalized.js";
import { TokenizerJsonError } from "../json.js";

const K_UNK_PENALTY = 10.0;
const utf8 = new TextEncoder();

export interface UnigramOptions {
  /** [piece, score] in id order. */
  vocab: Array<[string, number]>;
  unkId?: number | null;
  byteFallback?: boolean;
}

export class Unigram {
  readonly type = "Unigram";
  readonly pieces: Array<[string, number]>;
  readonly vocab: Map<string, number>;
  readonly unkId: number | null;
  readonly byteFallback: boolean;
  private readonly minScore: number;
  private readonly maxPieceUnits: number;
  private readonly cache = new Map<string, Token[]>();

  constructor(o: UnigramOptions, path = "model") {
    this.pieces = o.vocab;
    this.vocab = new Map();
    let min = Infinity;
    let maxLen = 1;
    o.vocab.forEach(([p, s], i) => {
      if (!this.vocab.has(p)) this.vocab.set(p, i);
      if (s < min) min = s;
      if (p.length > maxLen) maxLen = p.length;
    });
    this.minScore = min;
    this.maxPieceUnits = maxLen;
    this.unkId = o.unkId ?? null;
    this.byteFallback = o.byteFallback ?? false;
    if (this.unkId !== null && (this.unkId < 0 || this.unkId >= o.vocab.length)) {
      throw new TokenizerJsonError(`${path}.unk_id`, `unk_id ${this.unkId} is outside the vocabulary (size ${o.vocab.length})`);
    }
  }

  tokenToId(t: string): number | undefined {
    return this.vocab.get(t);
  }
  idToToken(id: number): string | undefined {
    return this.pieces[id]?.[0];
  }
  getVocabSize(): number {
    return this.pieces.length;
  }

  /** Best segmentation as strings (unknown runs fused, as HF's fuse_unk default). */
  encodeStrings(s: string): string[] {
    const n = s.length;
    if (n === 0) return [];
    const unkScore = this.minScore - K_UNK_PENALTY;
    const bestScore = new Float64Array(n + 1);
    const startsAt = new Int32Array(n + 1).fill(-1);
    const nodeId = new Int32Array(n + 1);
    for (let start = 0; start < n; ) {
      const base = bestScore[start]!;
      const mblen = charAt(s, start).length;
      let single = false;
      const maxEnd = Math.min(n, start + this.maxPieceUnits);
      for (let end = start + 1; end <= maxEnd; end++) {
        // Do not cut inside a surrogate pair.
        const c = s.charCodeAt(end - 1);
        if (c >= 0xd800 && c <= 0xdbff && end < n) continue;
        const id = this.vocab.get(s.slice(start, end));
        if (id === undefined) continue;
        const cand = this.pieces[id]![1] + base;
        if (startsAt[end]! < 0 || cand > bestScore[end]!) {
          bestScore[end] = cand;
          startsAt[end] = start;
          nodeId[end] = id;
        }
        if (end - start === mblen) single = true;
      }
      if (!single) {
        if (this.unkId === null) throw new Error("Unigram: a char is not in the vocabulary and the model has no unk_id");
        const end = start + mblen;
        const cand = unkScore + base;
        if (startsAt[end]! < 0 || cand > bestScore[end]!) {
          bestScore[end] = cand;
          startsAt[end] = start;
          nodeId[end] = this.unkId;
        }
      }
      start += mblen;
    }
    const out: string[] = [];
    let pending: string[] = [];
    for (let end = n; end > 0; ) {
      const st = startsAt[end]!;
      if (nodeId[end] === this.unkId) {
        pending.push(s.slice(st, end));
      } else {
        if (pending.length) {
          out.push(pending.reverse().join(""));
          pending = [];
        }
        out.push(s.slice(st, end));
      }
      end = st;
    }
    if (pending.length) out.push(pending.reverse().join(""));
    return out.reverse();
  }

  tokenize(s: string): Token[] {
    const hit = this.cache.get(s);
    if (hit) return hit.map((t) => ({ ...t, offsets: [t.offsets[0], t.offsets[1]] }));
    const tokens: Token[] = [];
    let offset = 0;
    for (const piece of this.encodeStrings(s)) {
      const len = piece.length;
      const id = this.vocab.get(piece);
      if (id !== undefined) tokens.push({ id, value: piece, offsets: [offset, offset + len] });
      else {
        let done = false;
        if (this.byteFallback) {
          const bytes = utf8.encode(piece);
          const ids: number[] = [];
          for (const b of bytes) {
            const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
            if (bid === undefined) break;
            ids.push(bid);
          }
          if (ids.length === bytes.length) {
            ids.forEach((bid) => tokens.push({ id: bid, value: this.pieces[bid]![0], offsets: [offset, offset + len] }));
            done = true;
          }
        }
        if (!done) tokens.push({ id: this.unkId!, value: piece, offsets: [offset, offset + len] });
      }
      offset += len;
    }
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(s, tokens);
    return tokens.map((t) => ({ ...t, offsets: [t.offsets[0], t.offsets[1]] }));
  }

  toJSON(): Record<string, unknown> {
    return { type: "Unigram", unk_id: this.unkId, vocab: this.pieces.map(([p, s]) => [p, s]), byte_fallback: this.byteFallback };
  }
}
