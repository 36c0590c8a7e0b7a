// Stopping criteria: after each step, which rows are done (HF transformers.generation.stopping_criteria).
//
// Contract: `isDone(inputIds)` gets B rows of T ids (the sequences including the token just chosen)
// and returns B booleans. The decoding loop ORs the criteria (StoppingCriteriaList) and stops a row
// for good once it is done (HF's unfinished_sequences).
//
// Stop strings differ from HF's StopStringCriteria on purpose, in a simpler and still exact way:
// HF precomputes, per vocabulary token, where it could overlap the end of a stop string; here each
// row's continuation (the ids after the prompt) is decoded and searched for the strings. A row is
// done once its decoded continuation contains a stop string, and `trimmedText(b)` gives the text
// before the first occurrence (what an OpenAI server returns). The prompt is never searched, so a
// stop string inside the prompt does not end generation at once.
import type { InputIds } from "./logits_process.js";

export interface StoppingCriteria {
  isDone(inputIds: InputIds): boolean[];
}

/** HF MaxLengthCriteria: done when T >= max_length (T includes the prompt). */
export class MaxLengthCriteria implements StoppingCriteria {
  constructor(readonly maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`MaxLengthCriteria: max_length must be a positive integer, got ${maxLength}`);
  }
  isDone(inputIds: InputIds): boolean[] {
    return inputIds.map((ids) => ids.length >= this.maxLength);
  }
}

/** Done when T - promptLength >= max_new_tokens (HF turns this into max_length = prompt + max_new_tokens). */
export class MaxNewTokensCriteria implements StoppingCriteria {
  constructor(readonly promptLength: number, readonly maxNewTokens: number) {
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new Error(`MaxNewTokensCriteria: max_new_tokens must be a positive integer, got ${maxNewTokens}`);
  }
  isDone(inputIds: InputIds): boolean[] {
    return inputIds.map((ids) => ids.length - this.promptLength >= this.maxNewTokens);
  }
}

/** HF EosTokenCriteria: done when the last id is one of the EOS ids. */
export class EosTokenCriteria implements StoppingCriteria {
  private readonly eos: Set<number>;
  constructor(eosTokenId: number | readonly number[]) {
    const list = typeof eosTokenId === "number" ? [eosTokenId] : [...eosTokenId];
    if (list.length === 0 || list.some((e) => !Number.isInteger(e) || e < 0)) {
      throw new Error(`EosTokenCriteria: eos_token_id must be a non-negative integer or a non-empty list of them, got ${JSON.stringify(eosTokenId)}`);
    }
    this.eos = new Set(list);
  }
  isDone(inputIds: InputIds): boolean[] {
    return inputIds.map((ids) => ids.length > 0 && this.eos.has(ids[ids.length - 1]));
  }
}

/** HF MaxTimeCriteria: done for every row once more than maxTime seconds passed since construction (or `start`). */
export class MaxTimeCriteria implements StoppingCriteria {
  private t0: number;
  constructor(readonly maxTime: number, private readonly now: () => number = () => performance.now() / 1000) {
    if (!(maxTime > 0)) throw new Error(`MaxTimeCriteria: max_time must be a positive number of seconds, got ${maxTime}`);
    this.t0 = now();
  }
  /** Restarts the clock (call when generation starts, if the criteria were built earlier). */
  start(): void {
    this.t0 = this.now();
  }
  isDone(inputIds: InputIds): boolean[] {
    const done = this.now() - this.t0 > this.maxTime;
    return inputIds.map(() => done);
  }
}

/** What StopStringCriteria needs of a tokenizer. */
export interface TokenTextDecoder {
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
}

/** Done when the decoded continuation (ids at positions >= promptLength) contains one of the stop strings. */
export class StopStringCriteria implements StoppingCriteria {
  readonly stopStrings: string[];
  private readonly texts: string[] = [];
  private readonly stopAt: Array<number | null> = [];
  private readonly maxStop: number;

  constructor(
    private readonly tokenizer: TokenTextDecoder,
    stopStrings: string | readonly string[],
    readonly promptLength: number,
    private readonly decodeOptions: { skipSpecialTokens?: boolean } = { skipSpecialTokens: true },
  ) {
    this.stopStrings = typeof stopStrings === "string" ? [stopStrings] : [...stopStrings];
    if (this.stopStrings.length === 0 || this.stopStrings.some((s) => typeof s !== "string" || s.length === 0)) {
      throw new Error(`StopStringCriteria: stop strings must be non-empty strings, got ${JSON.stringify(stopStrings)}`);
    }
    this.maxStop = Math.max(...this.stopStrings.map((s) => s.length));
  }

  isDone(inputIds: InputIds): boolean[] {
    return inputIds.map((ids, b) => {
      if (this.stopAt[b] != null) return true;
      const prev = this.texts[b] ?? "";
      const cont = Array.prototype.slice.call(ids, this.promptLength) as number[];
      // A full decode each step (not a streaming decoder): streaming holds back bytes that do not
      // form a character yet, which would delay or miss a match next to invalid UTF-8, and some
      // decoders (SentencePiece's leading space) do not decode pieces independently.
      const text = this.tokenizer.decode(cont, this.decodeOptions);
      this.texts[b] = text;
      // Only text near the end can hold a new match: the unchanged prefix of the previous text
      // was already searched (the last characters may change as bytes complete, so back off).
      let common = 0;
      const lim = Math.min(prev.length, text.length);
      while (common < lim && prev.charCodeAt(common) === text.charCodeAt(common)) common++;
      const from = Math.max(0, common - this.maxStop);
      let first: number | null = null;
      for (const s of this.stopStrings) {
        const at = text.indexOf(s, from);
        if (at >= 0 && (first === null || at < first)) first = at;
      }
      this.stopAt[b] = first;
      return first !== null;
    });
  }

  /** The decoded continuation of row b so far. */
  text(b: number): string {
    return this.texts[b] ?? "";
  }

  /** Row b's continuation cut before its first stop string (the whole text when none matched). */
  trimmedText(b: number): string {
    const t = this.texts[b] ?? "";
    const at = this.stopAt[b];
    return at == null ? t : t.slice(0, at);
  }

  /** The stop string that ended row b, or null. */
  matched(b: number): string | null {
    const at = this.stopAt[b];
    if (at == null) return null;
    const t = this.texts[b] ?? "";
    return this.stopStrings.find((s) => t.startsWith(s, at)) ?? null;
  }
}

/**
 * Stop strings for beam search, where rows are different candidates at every step: each call
 * decodes every row's continuation afresh (no per-row memory) and reports whether it contains a
 * stop string. `cut(text)` trims a decoded continuation before its first stop string.
 */
export class StatelessStopStringCriteria implements StoppingCriteria {
  readonly stopStrings: string[];
  constructor(
    private readonly tokenizer: TokenTextDecoder,
    stopStrings: string | readonly string[],
    readonly promptLength: number,
    private readonly decodeOptions: { skipSpecialTokens?: boolean } = { skipSpecialTokens: true },
  ) {
    this.stopStrings = typeof stopStrings === "string" ? [stopStrings] : [...stopStrings];
    if (this.stopStrings.length === 0 || this.stopStrings.some((s) => typeof s !== "string" || s.length === 0)) {
      throw new Error(`StatelessStopStringCriteria: stop strings must be non-empty strings, got ${JSON.stringify(stopStrings)}`);
    }
  }
  isDone(inputIds: InputIds): boolean[] {
    return inputIds.map((ids) => {
      const text = this.tokenizer.decode(Array.prototype.slice.call(ids, this.promptLength) as number[], this.decodeOptions);
      return this.stopStrings.some((s) => text.includes(s));
    });
  }
  /** `text` cut before its first stop string (unchanged when none occurs). */
  cut(text: string): string {
    let first = -1;
    for (const s of this.stopStrings) {
      const at = text.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first < 0 ? text : text.slice(0, first);
  }
}

/** ORs its criteria (HF StoppingCriteriaList). */
export class StoppingCriteriaList implements StoppingCriteria {
  readonly criteria: StoppingCriteria[];
  constructor(criteria: StoppingCriteria[] = []) {
    this.criteria = [...criteria];
  }
  push(c: StoppingCriteria): this {
    this.criteria.push(c);
    return this;
  }
  isDone(inputIds: InputIds): boolean[] {
    const out = inputIds.map(() => false);
    for (const c of this.criteria) {
      const d = c.isDone(inputIds);
      for (let b = 0; b < out.length; b++) out[b] = out[b] || d[b];
    }
    return out;
  }
  /** The max_length of a MaxLengthCriteria in the list, if any. */
  get maxLength(): number | null {
    for (const c of this.criteria) if (c instanceof MaxLengthCriteria) return c.maxLength;
    return null;
  }
}
