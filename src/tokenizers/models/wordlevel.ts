// WordLevel model: each pre-tokenized word is one token if it is in the vocabulary, else the
// `unk_token`. Mirrors HF tokenizers/src/models/wordlevel/mod.rs.

import type { Token } from "../normalized.js";

export interface WordLevelOptions {
  vocab: Map<string, number>;
  unkToken?: string;
}

export class WordLevel {
  readonly type = "WordLevel";
  readonly vocab: Map<string, number>;
  readonly vocabR: string[];
  readonly unkToken: string;

  constructor(o: WordLevelOptions) {
    this.vocab = o.vocab;
    this.vocabR = [];
    for (const [t, id] of o.vocab) this.vocabR[id] = t;
    this.unkToken = o.unkToken ?? "<unk>";
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
    const id = this.vocab.get(word);
    if (id !== undefined) return [{ id, value: word, offsets: [0, word.length] }];
    const unk = this.vocab.get(this.unkToken);
    // HF fails here too (MissingUnkToken): say which word and which token.
    if (unk === undefined) throw new Error(`WordLevel: "${word}" is not in the vocabulary and unk_token "${this.unkToken}" is not either`);
    return [{ id: unk, value: this.unkToken, offsets: [0, word.length] }];
  }

  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of this.vocab) vocab[t] = id;
    return { type: "WordLevel", vocab, unk_token: this.unkToken };
  }
}
