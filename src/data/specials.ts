// Special-token ids a collator needs, read from a tokenizer: its added tokens marked "special" in
// tokenizer.json, the names in tokenizer_config.json when it was loaded from a directory, and the
// usual names of each role otherwise (BERT's [PAD]/[MASK], RoBERTa's <pad>/<mask>, GPT-2's
// <|endoftext|>, T5's <pad>, </s> and <extra_id_N>).
import type { CorpusTokenizer } from "./cache.js";

export interface TokenizerWithConfig extends CorpusTokenizer {
  tokenToId(token: string): number | undefined;
  config?: { eosToken?: string | null; padToken?: string | null; maskToken?: string | null; bosToken?: string | null };
}

export interface SpecialIds {
  vocabSize: number;
  /** Ids of every added token marked special. */
  specialIds: number[];
  padId: number | null;
  maskId: number | null;
  eosId: number | null;
}

function firstId(tok: TokenizerWithConfig, names: Array<string | null | undefined>): number | null {
  for (const n of names) {
    if (typeof n !== "string") continue;
    const id = tok.tokenToId(n);
    if (id !== undefined) return id;
  }
  return null;
}

export function specialIdsOf(tok: TokenizerWithConfig): SpecialIds {
  // tslm's Tokenizer exposes its added vocabulary: read it there rather than serialising the whole
  // tokenizer (a GPT-2 toJSON() builds the 50k-entry vocabulary just to reach added_tokens).
  const added = (tok as { addedVocabulary?: { toJSON(): unknown } }).addedVocabulary;
  const list = (added ? added.toJSON() : (tok.toJSON() as { added_tokens?: unknown }).added_tokens) as Array<{ id: number; special?: boolean }> | undefined;
  const specialIds = (list ?? []).filter((t) => t.special).map((t) => t.id);
  const c = tok.config ?? {};
  return {
    vocabSize: tok.vocabSize,
    specialIds,
    padId: firstId(tok, [c.padToken, "[PAD]", "<pad>", "<|pad|>"]),
    maskId: firstId(tok, [c.maskToken, "[MASK]", "<mask>"]),
    eosId: firstId(tok, [c.eosToken, "<|endoftext|>", "</s>", "<eos>", "[SEP]"]),
  };
}

/** Ids of <extra_id_0> ... <extra_id_{n-1}> (T5 sentinels); an error names the first missing one. */
export function t5SentinelIds(tok: TokenizerWithConfig, n = 100): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const id = tok.tokenToId(`<extra_id_${k}>`);
    if (id === undefined) throw new Error(`t5SentinelIds: the tokenizer has no <extra_id_${k}> token (asked for ${n})`);
    out.push(id);
  }
  return out;
}
