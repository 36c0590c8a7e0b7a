// Token streams: a flat sequence of token ids that batch samplers read windows from.
//
// Three kinds, one interface (length + read a range into an Int32Array):
//   ArrayTokens      ids in memory (Uint16Array / Uint32Array / Int32Array), e.g. a loaded cache
//   FileTokens       ids left on disk and fetched with positioned reads (pread) per window: for
//                    caches larger than memory should hold; a batch costs B small reads
//   SegmentedTokens  a view that concatenates ranges of another stream without copying it (the
//                    train / validation split by documents picks ranges of one cache)
// Ids come out as Int32Array because that is the storage of int tensors (src/tensor).
import { closeSync, openSync, readSync } from "node:fs";

export type TokenArray = Uint16Array | Uint32Array | Int32Array;
export type TokenDType = "uint16" | "uint32";

export interface TokenStream {
  readonly length: number;
  /** Copies ids [start, start + len) into out[outOffset ...]. Throws if the range is outside. */
  read(start: number, len: number, out: Int32Array, outOffset?: number): void;
}

function checkRange(what: string, start: number, len: number, length: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 0 || start + len > length) {
    throw new RangeError(`${what}: range [${start}, ${start + len}) is outside the stream of ${length} tokens`);
  }
}

export class ArrayTokens implements TokenStream {
  constructor(readonly ids: TokenArray) {}
  get length(): number {
    return this.ids.length;
  }
  read(start: number, len: number, out: Int32Array, outOffset = 0): void {
    checkRange("ArrayTokens.read", start, len, this.ids.length);
    // TypedArray.set converts element types natively (uint16/uint32 -> int32).
    out.set(this.ids.subarray(start, start + len), outOffset);
  }
}

export function bytesPerToken(dtype: TokenDType): number {
  return dtype === "uint16" ? 2 : 4;
}

/** Ids stored little-endian at `byteOffset` of a file, read on demand. Call close() when done. */
export class FileTokens implements TokenStream {
  private fd: number | null = null;
  private scratch = new Uint8Array(0);
  constructor(readonly path: string, readonly dtype: TokenDType, readonly length: number, readonly byteOffset = 0) {}

  read(start: number, len: number, out: Int32Array, outOffset = 0): void {
    checkRange(`FileTokens.read (${this.path})`, start, len, this.length);
    if (len === 0) return;
    if (this.fd === null) this.fd = openSync(this.path, "r");
    const bpt = bytesPerToken(this.dtype);
    const nbytes = len * bpt;
    if (this.scratch.length < nbytes) this.scratch = new Uint8Array(Math.max(nbytes, 4096));
    let done = 0;
    while (done < nbytes) {
      const n = readSync(this.fd, this.scratch, done, nbytes - done, this.byteOffset + start * bpt + done);
      if (n === 0) throw new Error(`${this.path}: file ends before token ${start + len} (was it truncated after opening?)`);
      done += n;
    }
    const view = new DataView(this.scratch.buffer, this.scratch.byteOffset, nbytes);
    if (bpt === 2) for (let i = 0; i < len; i++) out[outOffset + i] = view.getUint16(2 * i, true);
    else for (let i = 0; i < len; i++) out[outOffset + i] = view.getUint32(4 * i, true);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The concatenation of ranges [start, end) of a base stream, in the given order. */
export class SegmentedTokens implements TokenStream {
  readonly length: number;
  /** Start of each segment in this view; one extra entry = length. */
  private readonly offsets: Float64Array;
  private readonly starts: Float64Array;

  constructor(readonly base: TokenStream, segments: ReadonlyArray<readonly [number, number]>) {
    this.offsets = new Float64Array(segments.length + 1);
    this.starts = new Float64Array(segments.length);
    let total = 0;
    segments.forEach(([s, e], i) => {
      if (!(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= base.length)) {
        throw new RangeError(`SegmentedTokens: segment ${i} [${s}, ${e}) is not inside the base stream of ${base.length} tokens`);
      }
      this.offsets[i] = total;
      this.starts[i] = s;
      total += e - s;
    });
    this.offsets[segments.length] = total;
    this.length = total;
  }

  read(start: number, len: number, out: Int32Array, outOffset = 0): void {
    checkRange("SegmentedTokens.read", start, len, this.length);
    // Binary search for the segment holding `start`, then copy segment by segment.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    let seg = lo;
    let pos = start;
    let done = 0;
    while (done < len) {
      const inSeg = pos - this.offsets[seg]!;
      const avail = this.offsets[seg + 1]! - pos;
      const n = Math.min(avail, len - done);
      if (n > 0) this.base.read(this.starts[seg]! + inSeg, n, out, outOffset + done);
      done += n;
      pos += n;
      seg++;
    }
  }
}

/** All ids of a stream as one Int32Array (for small streams and tests). */
export function readAll(stream: TokenStream): Int32Array {
  const out = new Int32Array(stream.length);
  stream.read(0, stream.length, out, 0);
  return out;
}
