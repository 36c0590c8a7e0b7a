// Streaming detokenizer: receives token ids as they are generated and emits only complete text.
//
// A byte-level BPE token can end in the middle of a UTF-8 character (a Chinese character is 3
// bytes, an emoji 4, and tokenizers split them), and decoding such a prefix yields U+FFFD. The
// streamer never emits that: it holds the ids back until the character completes. It uses the
// tokenizer's incremental decoder (`decodeStream`, tslm's StreamDecoder) when there is one, else
// re-decodes all ids with the plain `decode` (IncrementalTextDecoder), which stays correct for
// decoders whose output for a token depends on its neighbours (SentencePiece's leading space).
//
// The concatenation of everything emitted (put + end) equals tokenizer.decode(all ids), except
// that an incomplete character at the very end is emitted as U+FFFD by end(), as decode would.

/** What the streamer needs of a tokenizer (tslm's Tokenizer satisfies it). */
export interface StreamableTokenizer {
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
  decodeStream?(opts?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
}

export interface TextStreamerOptions {
  /** Drop the first put() call's ids (the prompt), as HF TextStreamer's skip_prompt. */
  skipPrompt?: boolean;
  /** Leave special tokens out of the text (default true). */
  skipSpecialTokens?: boolean;
  /** Called with each newly completed piece of text; `final` on the call from end(). */
  onText?: (text: string, final: boolean) => void;
}

/**
 * Fallback incremental decoder over a plain `decode`: decodes all ids so far and emits what extends
 * the text already emitted, holding back while the text ends in an incomplete character. Each push
 * costs a full decode (quadratic over a long stream); tokenizers with `decodeStream` avoid it.
 */
export class IncrementalTextDecoder {
  private ids: number[] = [];
  private emitted = "";

  constructor(
    private readonly tok: { decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string },
    private readonly opts: { skipSpecialTokens?: boolean } = {},
  ) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tok.decode(this.ids, this.opts);
    if (text.endsWith("\ufffd") || text.length <= this.emitted.length) return "";
    if (!text.startsWith(this.emitted)) {
      throw new Error(`IncrementalTextDecoder: decoded text ${JSON.stringify(text)} does not extend the emitted ${JSON.stringify(this.emitted)} (id ${id})`);
    }
    const out = text.slice(this.emitted.length);
    this.emitted = text;
    return out;
  }

  flush(): string {
    const text = this.tok.decode(this.ids, this.opts);
    const out = text.startsWith(this.emitted) ? text.slice(this.emitted.length) : "";
    this.ids = [];
    this.emitted = "";
    return out;
  }
}

/** Receives generated ids (put) and emits complete UTF-8 text (HF TextStreamer without word buffering). */
export class TextStreamer {
  private readonly decoder: { push(id: number): string; flush(): string };
  private promptSkipped: boolean;
  private readonly onText: ((text: string, final: boolean) => void) | undefined;
  private textSoFar = "";

  constructor(tokenizer: StreamableTokenizer, opts: TextStreamerOptions = {}) {
    const dopts = { skipSpecialTokens: opts.skipSpecialTokens ?? true };
    this.decoder = tokenizer.decodeStream ? tokenizer.decodeStream(dopts) : new IncrementalTextDecoder(tokenizer, dopts);
    this.promptSkipped = !(opts.skipPrompt ?? false);
    this.onText = opts.onText;
  }

  /** Adds one id or several; returns the text they completed ("" while a character is split). */
  put(ids: number | ArrayLike<number>): string {
    const list = typeof ids === "number" ? [ids] : Array.from(ids);
    if (!this.promptSkipped) {
      this.promptSkipped = true;
      return "";
    }
    let out = "";
    for (const id of list) out += this.decoder.push(id);
    if (out !== "") {
      this.textSoFar += out;
      this.onText?.(out, false);
    }
    return out;
  }

  /** Ends the stream: returns (and reports, with final=true) whatever text was still held back. */
  end(): string {
    const rest = this.decoder.flush();
    this.textSoFar += rest;
    this.onText?.(rest, true);
    return rest;
  }

  /** Everything emitted so far. */
  get text(): string {
    return this.textSoFar;
  }
}

/**
 * Holds back streamed text that could be the start of a stop string, so a client never sees part
 * of a stop string (what OpenAI-style servers do with `stop`). push(text) returns what is safe to
 * emit; once a stop string appears, it returns the text before it and `stopped` turns true (later
 * pushes return ""). end() releases what was held back when no stop string matched.
 */
export class StopStringFilter {
  private held = "";
  private done = false;
  private matchedStop: string | null = null;
  readonly stopStrings: string[];

  constructor(stopStrings: string | readonly string[]) {
    this.stopStrings = typeof stopStrings === "string" ? [stopStrings] : [...stopStrings];
    if (this.stopStrings.some((s) => typeof s !== "string" || s.length === 0)) throw new Error(`StopStringFilter: stop strings must be non-empty strings, got ${JSON.stringify(stopStrings)}`);
  }

  get stopped(): boolean {
    return this.done;
  }

  /** The stop string that ended the stream, or null. */
  get matched(): string | null {
    return this.matchedStop;
  }

  push(text: string): string {
    if (this.done) return "";
    const buf = this.held + text;
    let first = -1;
    for (const s of this.stopStrings) {
      const at = buf.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        this.matchedStop = s;
      }
    }
    if (first >= 0) {
      this.done = true;
      this.held = "";
      return buf.slice(0, first);
    }
    // Keep the longest suffix of buf that is a proper prefix of some stop string.
    let keep = 0;
    for (const s of this.stopStrings) {
      for (let n = Math.min(s.length - 1, buf.length); n > keep; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    // Never split a surrogate pair between emitted and held text.
    let cut = buf.length - keep;
    if (cut > 0 && cut < buf.length && /[\ud800-\udbff]/.test(buf[cut - 1])) cut--;
    this.held = buf.slice(cut);
    return buf.slice(0, cut);
  }

  end(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }
}
