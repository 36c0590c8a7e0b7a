// WordPiece training, as Hugging Face's `WordPieceTrainer` does it: BPE training with the
// continuing-subword prefix "##" on every non-initial character, after which the BPE vocabulary
// (ids unchanged) becomes the WordPiece vocabulary and the merges are dropped
// (tokenizers/src/models/wordpiece/trainer.rs, WordPiece::from_bpe).
//
// One difference from HF, on purpose: HF gives the prefixed characters ("##a", "##b", ...) their ids
// in the iteration order of a randomly seeded hash map, so two HF runs on the same corpus can give
// different ids — and, through the tie-break on pair ids, even different vocabularies (seen with
// tokenizers 0.23.2). tslm numbers them in code point order, which is deterministic. `prefixedOrder`
// replays a given order instead; the golden test uses it to replay the order of the HF run it
// compares with, and then matches that run exactly.

import { trainBpe, type BpeTrainerOptions } from "./bpe.js";

export interface WordPieceTrainerOptions extends Omit<BpeTrainerOptions, "endOfWordSuffix"> {
  /** Default "##". */
  continuingSubwordPrefix?: string;
  /** Prefixed single-character tokens in the id order to use (see the file header). */
  prefixedOrder?: string[];
}

/** Trains a WordPiece vocabulary (id -> token) on pre-tokenized word counts. */
export function trainWordPiece(wordCounts: Map<string, number>, options: WordPieceTrainerOptions): { vocab: string[] } {
  const prefix = options.continuingSubwordPrefix ?? "##";
  const order = options.prefixedOrder ?? defaultPrefixedOrder(wordCounts, prefix);
  const { vocab } = trainBpe(wordCounts, { ...options, continuingSubwordPrefix: prefix, prefixedOrder: order });
  return { vocab };
}

/** Every "##c" a word can produce, ordered by the code point of c. */
function defaultPrefixedOrder(wordCounts: Map<string, number>, prefix: string): string[] {
  const seen = new Set<number>();
  for (const word of wordCounts.keys()) {
    let first = true;
    for (const c of word) {
      if (!first) seen.add(c.codePointAt(0)!);
      first = false;
    }
  }
  return [...seen].sort((a, b) => a - b).map((cp) => prefix + String.fromCodePoint(cp));
}
