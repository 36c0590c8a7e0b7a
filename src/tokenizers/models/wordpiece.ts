// WordPiece model (BERT): greedy longest-match-first over each word, non-initial pieces carry the
// `continuing_subword_prefix` ("##"); a word longer than `max_input_chars_per_word` chars, or one
// with any part not in the vocabulary, becomes a single `unk_token` covering the whole word.
//
// Mirrors HF tokenizers/src/models/wordpiece/mod.rs (`WordPiece::tokenize`).

import type { Token } from "../normalized.js";
import { charAt } from "../normalized.js";
import { TokenizerJsonError } from "../json.js";

export interface WordPieceOptions {
  vocab: Map<string, number>;
  unkToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPiece {
  readonly type = "WordPiece";
  readonly vocab: Map<string, number>;
  readonly vocabR: string[];
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;

  constructor(o: WordPieceOptions, path = "model") {
    this.vocab = o.vocab;
    this.vocabR = [];
    for (const [t, id] of o.vocab) this.vocabR[id] = t;
    this.unkToken = o.unkToken ?? "[UNK]";
    this.continuingSubwordPrefix = o.continuingSubwordPrefix ?? "##";
    this.maxInputCharsPerWord = o.maxInputCharsPerWord ?? 100;
    if (!this.vocab.has(this.unkToken)) {
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

  private unk(word: string): Token[] {
    return [{ id: this.vocab.get(this.unkToken)!, value: this.unkToken, offsets: [0, word.length] }];
  }

  private readonly cache = new Map<string, Token[]>();

  /** Tokens of one word. The array may be shared with a cache: callers read it, never mutate it. */
  tokenize(word: string): Token[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const out = this.tokenizeUncached(word);
    if (word.length < 256) {
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(word, out);
    }
    return out;
  }

  private tokenizeUncached(word: string): Token[] {
    let nChars = 0;
    for (const _ of word) nChars++;
    if (nChars > this.maxInputCharsPerWord) return this.unk(word);
    const out: Token[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: Token | null = null;
      while (start < end) {
        let sub = word.slice(start, end);
        if (start > 0) sub = this.continuingSubwordPrefix + sub;
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = { id, value: sub, offsets: [start, end] };
          break;
        }
        // Step back by one char (a surrogate pair is one char).
        const lastLow = word.charCodeAt(end - 1);
        end -= lastLow >= 0xdc00 && lastLow <= 0xdfff && end - 2 >= start && charAt(word, end - 2).length === 2 ? 2 : 1;
      }
      if (!found) return this.unk(word);
      out.push(found);
      start = end;
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of this.vocab) vocab[t] = id;
    return {
      type: "WordPiece",
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      max_input_chars_per_word: this.maxInputCharsPerWord,
      vocab,
    };
  }
}
