// Streaming word counting: the first half of every trainer. Files are read in 1 MB chunks and cut
// into lines that keep their "\n" (and any "\r"), because Hugging Face's `train_from_files` feeds
// the trainer one line-with-ending at a time, and line boundaries change what the pre-tokenizer
// sees ("\n\n" across two lines is two words, not one). Only the current chunk and the word-count
// Map are in memory, never the corpus.

import { closeSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** Cuts a line (with its ending) into the words a trainer counts. */
export type WordSplitter = (line: string) => Iterable<string>;

export interface CountOptions {
  /** Called after each chunk with bytes read so far and total bytes. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Bytes that are not UTF-8: "error" (default) stops with the file and byte offset, as Hugging
   * Face's trainer refuses such a file; "replace" reads them as U+FFFD, as TextDecoder does.
   */
  invalidUtf8?: "error" | "replace";
  /** Chunk size in bytes (tests use a small one to exercise chunk boundaries). */
  chunkBytes?: number;
}

/** Calls `onLine` for every line of every file, each with its line ending, in order. */
export function forEachLine(files: string[], onLine: (line: string) => void, options: CountOptions = {}): void {
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  let total = 0;
  for (const f of files) total += fileSize(f);
  let done = 0;
  const buf = Buffer.allocUnsafe(chunkBytes);
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (err) {
      throw new Error(`cannot read training file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      // The decoder holds back a UTF-8 sequence cut by the chunk boundary until the next chunk.
      const decoder = new StringDecoder("utf8");
      const validator = options.invalidUtf8 === "replace" ? null : new Utf8Validator();
      let fileOffset = 0;
      let carry = "";
      for (;;) {
        const n = readSync(fd, buf, 0, chunkBytes, null);
        if (n === 0) break;
        if (validator) {
          const bad = validator.check(buf, n);
          if (bad !== null) throw invalidUtf8Error(file, fileOffset + bad);
        }
        fileOffset += n;
        done += n;
        const text = carry + decoder.write(buf.subarray(0, n));
        let start = 0;
        for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
          onLine(text.slice(start, nl + 1));
          start = nl + 1;
        }
        carry = text.slice(start);
        options.onProgress?.(done, total);
      }
      if (validator && validator.unfinished() > 0) throw invalidUtf8Error(file, fileOffset - validator.unfinished());
      carry += decoder.end();
      if (carry.length > 0) onLine(carry); // last line without "\n"
    } finally {
      closeSync(fd);
    }
  }
}

/** Counts the words of all lines of `files` as cut by `split`. */
export function countWords(files: string[], split: WordSplitter, options: CountOptions = {}): Map<string, number> {
  const counts = new Map<string, number>();
  forEachLine(
    files,
    (line) => {
      for (const w of split(line)) counts.set(w, (counts.get(w) ?? 0) + 1);
    },
    options,
  );
  return counts;
}

/** Counts the words of in-memory texts (each one treated like a file: cut into lines). */
export function countWordsInTexts(texts: Iterable<string>, split: WordSplitter): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      const line = nl === -1 ? text.slice(start) : text.slice(start, nl + 1);
      if (line.length > 0) for (const w of split(line)) counts.set(w, (counts.get(w) ?? 0) + 1);
      if (nl === -1) break;
      start = nl + 1;
    }
  }
  return counts;
}

function invalidUtf8Error(file: string, offset: number): Error {
  return new Error(`training file ${file}: invalid UTF-8 at byte ${offset} (Hugging Face refuses such files too; read them with invalidUtf8 "replace" / --invalid-utf8 replace to get U+FFFD)`);
}

/**
 * Incremental UTF-8 validation (well-formed sequences per Unicode table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF), carrying a sequence cut by a chunk boundary.
 */
export class Utf8Validator {
  private need = 0;
  /** Bytes of the unfinished sequence seen so far. */
  private got = 0;
  private lo = 0x80;
  private hi = 0xbf;

  /**
   * Where the first invalid sequence in buf[0..n) starts, relative to buf (negative when it began
   * in an earlier chunk) — Rust's `Utf8Error::valid_up_to` — or null when all is valid so far.
   */
  check(buf: Uint8Array, n: number): number | null {
    let need = this.need;
    let got = this.got;
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < n; i++) {
      const b = buf[i]!;
      if (need === 0) {
        if (b < 0x80) continue;
        got = 1;
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lo = 0xa0;
          else if (b === 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lo = 0x90;
          else if (b === 0xf4) hi = 0x8f;
        } else return i;
      } else {
        if (b < lo || b > hi) return i - got;
        lo = 0x80;
        hi = 0xbf;
        need--;
        got++;
      }
    }
    this.need = need;
    this.got = got;
    this.lo = lo;
    this.hi = hi;
    return null;
  }

  /** 0 when the input ended on a sequence boundary, else how many bytes the cut sequence has. */
  unfinished(): number {
    return this.need === 0 ? 0 : this.got;
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    throw new Error(`cannot read training file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
