// One call from "these files and this tokenizer" to train / validation token streams: the path the
// trainer and `tslm train` take. It composes the steps of this folder and adds no behaviour of its
// own beyond choosing how to split:
//   by "documents"  a seeded choice of whole documents is held out (no text shared with training)
//   by "tokens"     the last `fraction` of the stream is held out (nanoGPT's split)
//   "auto" (default) documents when the corpus has enough of them for round(fraction x documents)
//                    to be between 1 and documents - 1, else tokens (a single book, for example)
import { buildTokenCache, type CorpusTokenizer, type TokenCache, type TokenCacheOptions } from "./cache.js";
import { splitByDocuments, splitByTokens } from "./split.js";
import type { TokenStream } from "./tokens.js";

export interface ValidationOptions {
  /** Share of the corpus held out, in [0, 1). 0: no validation stream. */
  fraction: number;
  by?: "documents" | "tokens" | "auto";
  /** Seed of the document choice (default 0). */
  seed?: number;
}

export interface CorpusOptions extends TokenCacheOptions {
  validation?: ValidationOptions;
}

export interface Corpus {
  cache: TokenCache;
  train: TokenStream;
  /** null when validation.fraction is 0 or absent. */
  validation: TokenStream | null;
  /** How the split was made ("documents" or "tokens"), or null without validation. */
  splitBy: "documents" | "tokens" | null;
  tokenizer: CorpusTokenizer;
}

export function prepareCorpus(opts: CorpusOptions): Corpus {
  const { validation, ...cacheOpts } = opts;
  if (validation !== undefined) {
    for (const k of Object.keys(validation)) if (!["fraction", "by", "seed"].includes(k)) throw new Error(`prepareCorpus: unknown validation option "${k}"`);
    if (!(validation.fraction >= 0 && validation.fraction < 1)) throw new Error(`prepareCorpus: validation.fraction must be in [0, 1), got ${validation.fraction}`);
    if (validation.by !== undefined && !["documents", "tokens", "auto"].includes(validation.by)) throw new Error(`prepareCorpus: validation.by must be "documents", "tokens" or "auto", got ${JSON.stringify(validation.by)}`);
  }
  const cache = buildTokenCache(cacheOpts);
  const fraction = validation?.fraction ?? 0;
  if (fraction === 0) return { cache, train: cache.tokens, validation: null, splitBy: null, tokenizer: opts.tokenizer };
  const docs = cache.documentRanges();
  let by = validation?.by ?? "auto";
  if (by === "auto") {
    const nVal = Math.round(fraction * docs.length);
    by = nVal >= 1 && nVal < docs.length ? "documents" : "tokens";
  }
  const split = by === "documents" ? splitByDocuments(cache.tokens, docs, fraction, validation?.seed ?? 0) : splitByTokens(cache.tokens, fraction);
  if (split.validation.length === 0) throw new Error(`prepareCorpus: validation fraction ${fraction} of ${cache.length} tokens leaves no validation tokens`);
  return { cache, train: split.train, validation: split.validation, splitBy: by, tokenizer: opts.tokenizer };
}
