// Safetensors files: a lazy reader over a file descriptor and an atomic, reference-identical writer.
//
// Format (https://github.com/huggingface/safetensors, "Format" section of its README):
//   [8 bytes: N, little-endian u64][N bytes: JSON header][data]
//   header = { "__metadata__"?: {string: string}, "<key>": {"dtype", "shape", "data_offsets": [b, e]} }
//   offsets are relative to the start of the data section; tensors are row-major, little-endian.
//
// Reader contract (openSafetensors / loadSafetensors):
//   - Reads only the 8-byte prefix and the header up front, with positioned reads on a file
//     descriptor; each tensor's bytes are read into their own typed array when asked for. Offsets are
//     JavaScript Numbers (exact to 2^53), never 32-bit, so files over 2 GB and 4 GB work; single
//     reads are chunked at 1 GiB because Node caps one read at 2 GiB - 1.
//   - Validation mirrors the reference's `Metadata::validate` and adds names to every message:
//     header length past the end of the file or over 100 MB (the reference's limit) -> error before
//     any allocation; header not UTF-8 / not JSON / not an object -> error with the file offset;
//     every entry needs a known dtype, an integer shape and [begin, end] offsets with
//     end - begin == numel * itemsize; sorted by begin, entries must tile the data section exactly
//     (no gap, no overlap, the last one ends at the end of the file).
//   - F32, F16, BF16 (and F64) become float32; I64, I32, U8, BOOL (and the other integer types)
//     become int32, with an error naming the key when a value does not fit.
//   - The file descriptor is held until close(): an atomic rename of a new checkpoint over the path
//     does not change what an open reader sees. A FinalizationRegistry closes forgotten readers.
//
// Writer contract (saveSafetensors):
//   - float32 tensors are written as F32 (or F16 / BF16 with { floatDtype }, rounded to nearest
//     even like PyTorch), int32 tensors as I32 (or I64 with { intDtype: "I64" }, which is what
//     PyTorch checkpoints use for integer buffers).
//   - Byte-identical to Python `safetensors.torch.save_file` for the same tensors (safetensors 0.8):
//     tensors sorted by dtype (reference enum order, descending) then by key (UTF-8 byte order),
//     compact JSON header with "__metadata__" first, padded with spaces so the data starts at a
//     multiple of 8. Metadata keys are written in insertion order; the reference writes them in
//     HashMap order (random per process), so files are identical whenever metadata has at most one
//     key (transformers writes exactly {"format": "pt"}).
//   - Non-contiguous tensors are written in logical row-major order. The write is atomic
//     (temp file in the same directory + rename, see atomic.ts).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { atomicWrite, writeAll } from "./atomic.js";
import { SAFETENSORS_DTYPES, convertToStorage, dtypeRank, f32ToBf16, f32ToF16, IS_LITTLE_ENDIAN } from "./dtype.js";
import { locateJSONError } from "./json.js";

/** The reference implementation refuses headers over 100 MB (MAX_HEADER_SIZE); so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  /** The dtype string in the file ("F32", "BF16", "I64", ...). */
  dtype: string;
  shape: number[];
  /** Absolute byte range [start, end) of the tensor's data in the file. */
  byteRange: [number, number];
}

export interface SafetensorsFile {
  readonly path: string;
  /** Tensor keys in file (data offset) order. */
  readonly keys: readonly string[];
  /** The header's "__metadata__" map ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset in the file where the data section starts (8 + header length). */
  readonly dataStart: number;
  has(key: string): boolean;
  info(key: string): TensorInfo;
  /** Reads one tensor (float32 or int32) into its own storage. */
  read(key: string): Tensor;
  /** Releases the file descriptor; reads after close() are errors. Idempotent. */
  close(): void;
}

// Closes descriptors of readers that were dropped without close().
const finalizer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed or invalid: nothing to release.
  }
});

/** Reads exactly `length` bytes at `position` into `dst` (chunked; positions are Numbers). */
function readExact(fd: number, dst: Uint8Array, position: number, path: string): void {
  const CHUNK = 1 << 30;
  let done = 0;
  while (done < dst.length) {
    const len = Math.min(CHUNK, dst.length - done);
    const got = readSync(fd, dst, done, len, position + done);
    if (got === 0) throw new Error(`${path}: unexpected end of file at byte offset ${position + done} (wanted ${dst.length - done} more bytes)`);
    done += got;
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + "..." : s;
}

/** Validates one header entry; returns its parsed form. `where` = "file: tensor "key"". */
function parseEntry(raw: unknown, where: string, dataStart: number): { dtype: string; shape: number[]; begin: number; end: number } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${where}: header entry must be an object, got ${describe(raw)}`);
  const e = raw as Record<string, unknown>;
  const dtype = e.dtype;
  if (typeof dtype !== "string") throw new Error(`${where}: "dtype" must be a string, got ${describe(dtype)}`);
  const info = SAFETENSORS_DTYPES[dtype];
  if (!info) throw new Error(`${where}: unknown dtype "${dtype}" (known: ${Object.keys(SAFETENSORS_DTYPES).join(", ")})`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: "shape" must be a list of non-negative integers, got ${describe(shape)}`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${describe(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw new Error(`${where}: data_offsets [${begin}, ${end}] end before they begin (file bytes ${dataStart + begin}..${dataStart + end})`);
  let numel = 1;
  for (const d of shape as number[]) numel *= d;
  const bits = numel * info.bits;
  if (!Number.isSafeInteger(bits)) throw new Error(`${where}: shape ${formatShape(shape as number[])} is too large`);
  const span = end - begin;
  if (bits % 8 !== 0 || span * 8 !== bits) {
    const needed = bits / 8;
    const unaligned = span % Math.max(1, info.bits / 8) !== 0 ? ` (${span} is not a multiple of the ${dtype} element size)` : "";
    throw new Error(
      `${where}: data_offsets [${begin}, ${end}] span ${span} bytes${unaligned}, but ${dtype} shape ${formatShape(shape as number[])} needs ${needed} bytes (at file byte offset ${dataStart + begin})`,
    );
  }
  return { dtype, shape: shape as number[], begin, end };
}

/** Opens a safetensors file lazily: reads and validates the header; tensors are read on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${path}: cannot open safetensors file (${err.code ?? err.message})`);
  }
  try {
    return openFromFd(fd, path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function openFromFd(fd: number, path: string): SafetensorsFile {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new Error(`${path}: file is ${fileSize} bytes, too short for the 8-byte safetensors header length`);
  const prefix = new Uint8Array(8);
  readExact(fd, prefix, 0, path);
  const n64 = new DataView(prefix.buffer).getBigUint64(0, true);
  // Check against the file size BEFORE allocating, so a corrupt length cannot ask for terabytes.
  if (n64 > BigInt(fileSize - 8)) {
    throw new Error(`${path}: header length ${n64} (bytes 0..8) runs past the end of the file (${fileSize} bytes; at most ${fileSize - 8} available after byte offset 8)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) throw new Error(`${path}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit of the safetensors format`);
  if (n < 2) throw new Error(`${path}: header length ${n} is too small for a JSON object (byte offset 0)`);
  const headerBytes = new Uint8Array(n);
  readExact(fd, headerBytes, 8, path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw new Error(`${path}: header (bytes 8..${8 + n}) is not valid UTF-8`);
  }
  // The reference writer pads with spaces; JSON.parse accepts trailing whitespace.
  if (text[0] !== "{") throw new Error(`${path}: header must start with '{' (byte offset 8), found ${describe(text[0])}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const loc = locateJSONError(text);
    // Character offsets equal byte offsets up to the first non-ASCII character; report bytes exactly.
    const byteAt = loc ? 8 + Buffer.byteLength(text.slice(0, loc.offset), "utf8") : 8;
    throw new Error(`${path}: header is not valid JSON at byte offset ${byteAt}: ${loc ? loc.message : (e as Error).message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) throw new Error(`${path}: header (byte offset 8) must be a JSON object`);

  const dataStart = 8 + n;
  const dataLength = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { key: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${path}: "__metadata__" must be an object of strings`);
      for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof mv !== "string") throw new Error(`${path}: "__metadata__" value for "${mk}" must be a string, got ${describe(mv)}`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    entries.push({ key, ...parseEntry(raw, `${path}: tensor "${key}"`, dataStart) });
  }
  // The entries must tile [0, dataLength) exactly, like the reference's validate(): sort by begin
  // (ties: empty tensors first) and walk.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prevKey = "";
  for (const e of entries) {
    if (e.begin < pos) {
      throw new Error(
        `${path}: tensor "${e.key}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prevKey}" which ends at ${pos} (file byte offset ${dataStart + e.begin})`,
      );
    }
    if (e.begin > pos) {
      throw new Error(
        `${path}: gap in the data section before tensor "${e.key}": bytes ${pos}..${e.begin} belong to no tensor (file byte offset ${dataStart + pos})`,
      );
    }
    if (e.end > dataLength) {
      throw new Error(
        `${path}: tensor "${e.key}" data_offsets [${e.begin}, ${e.end}] run past the end of the file (data section is ${dataLength} bytes; file byte offset ${dataStart + e.end} > ${fileSize})`,
      );
    }
    pos = e.end;
    prevKey = e.key;
  }
  if (pos !== dataLength) {
    throw new Error(`${path}: ${dataLength - pos} bytes after the last tensor belong to no tensor (file byte offset ${dataStart + pos}; the file may be corrupt)`);
  }

  const byKey = new Map(entries.map((e) => [e.key, e]));
  const keys = Object.freeze(entries.map((e) => e.key));
  let open = true;
  const token = {};
  const file: SafetensorsFile = {
    path,
    keys,
    metadata: Object.freeze({ ...metadata }),
    dataStart,
    has: (key) => byKey.has(key),
    info(key) {
      const e = byKey.get(key);
      if (!e) throw new Error(`${path}: no tensor "${key}" (the file has ${keys.length} tensors${keys.length ? `, e.g. "${keys[0]}"` : ""})`);
      return { dtype: e.dtype, shape: [...e.shape], byteRange: [dataStart + e.begin, dataStart + e.end] };
    },
    read(key) {
      // Referencing `file` keeps it (and so its descriptor) alive while this method is reachable:
      // without it the finalizer could close the fd under a detached `const read = f.read`.
      if (!open || !file) throw new Error(`${path}: read("${key}") after close()`);
      const e = byKey.get(key);
      if (!e) throw new Error(`${path}: no tensor "${key}" (the file has ${keys.length} tensors${keys.length ? `, e.g. "${keys[0]}"` : ""})`);
      const what = `${path}: tensor "${key}" (file byte offset ${dataStart + e.begin})`;
      if (!SAFETENSORS_DTYPES[e.dtype].to) throw new Error(`${what}: dtype ${e.dtype} is not supported by tslm (supported: F32, F16, BF16, F64 and integer/bool types)`);
      const numel = e.shape.reduce((a, b) => a * b, 1);
      // A fresh ArrayBuffer per tensor: aligned for any typed view, and owned by that tensor alone.
      let buf: ArrayBuffer;
      try {
        buf = new ArrayBuffer(e.end - e.begin);
      } catch {
        throw new Error(`${what}: cannot allocate ${e.end - e.begin} bytes for ${e.dtype} ${formatShape(e.shape)} (over this JavaScript engine's typed-array limit or out of memory)`);
      }
      readExact(fd, new Uint8Array(buf), dataStart + e.begin, path);
      const storage = convertToStorage(e.dtype, buf, numel, what);
      // Zero-size tensors keep their shape; a 0-d tensor has one element and shape [].
      return new Tensor(storage, e.shape);
    },
    close() {
      if (!open) return;
      open = false;
      finalizer.unregister(token);
      closeSync(fd);
    },
  };
  finalizer.register(file, fd, token);
  return file;
}

/** Reads every tensor of a safetensors file (in file order). */
export function loadSafetensors(path: string): Map<string, Tensor> {
  const f = openSafetensors(path);
  try {
    const out = new Map<string, Tensor>();
    for (const k of f.keys) out.set(k, f.read(k));
    return out;
  } finally {
    f.close();
  }
}

/** Reads only the header: keys, dtypes, shapes, byte ranges and metadata. */
export function readSafetensorsHeader(path: string): { metadata: Record<string, string>; tensors: Map<string, TensorInfo> } {
  const f = openSafetensors(path);
  try {
    return { metadata: { ...f.metadata }, tensors: new Map(f.keys.map((k) => [k, f.info(k)])) };
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

export type TensorMap = Record<string, Tensor> | Map<string, Tensor> | Iterable<[string, Tensor]>;

export interface SaveSafetensorsOptions {
  /** File dtype for int32 tensors: "I32" (default) or "I64" (PyTorch's usual integer type). */
  intDtype?: "I32" | "I64";
  /**
   * File dtype for float32 tensors: "F32" (default, exact) or "F16" / "BF16", rounded to nearest
   * even like PyTorch's `.half()` / `.bfloat16()` (half the size; lossy).
   */
  floatDtype?: "F32" | "F16" | "BF16";
}

/** [key, tensor] pairs from any of the accepted containers, keys checked. */
export function tensorEntries(tensors: TensorMap, what: string): [string, Tensor][] {
  const pairs: [string, Tensor][] =
    tensors instanceof Map ? [...tensors.entries()] : Symbol.iterator in Object(tensors) ? [...(tensors as Iterable<[string, Tensor]>)] : Object.entries(tensors as Record<string, Tensor>);
  const seen = new Set<string>();
  for (const [k, t] of pairs) {
    if (typeof k !== "string" || k.length === 0) throw new Error(`${what}: tensor keys must be non-empty strings, got ${describe(k)}`);
    if (k === "__metadata__") throw new Error(`${what}: "__metadata__" is reserved for metadata and cannot name a tensor`);
    if (seen.has(k)) throw new Error(`${what}: duplicate tensor key "${k}"`);
    seen.add(k);
    if (!(t instanceof Tensor)) throw new Error(`${what}: value for "${k}" is not a Tensor`);
  }
  return pairs;
}

/** UTF-8 byte order (Rust's String ordering), which differs from JS's UTF-16 order above U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

type WriteDType = "F32" | "F16" | "BF16" | "I32" | "I64";

interface PlannedTensor {
  key: string;
  tensor: Tensor;
  dtype: WriteDType;
  bytes: number;
}

const WRITE_BYTES: Record<WriteDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

/** The file dtype saveSafetensors uses for a tensor under these options (checked). */
function writeDtype(t: Tensor, opts: SaveSafetensorsOptions): WriteDType {
  const intDtype = opts.intDtype ?? "I32";
  const floatDtype = opts.floatDtype ?? "F32";
  if (intDtype !== "I32" && intDtype !== "I64") throw new Error(`saveSafetensors: intDtype must be "I32" or "I64", got ${describe(intDtype)}`);
  if (floatDtype !== "F32" && floatDtype !== "F16" && floatDtype !== "BF16") throw new Error(`saveSafetensors: floatDtype must be "F32", "F16" or "BF16", got ${describe(floatDtype)}`);
  return t.dtype === "float32" ? floatDtype : intDtype;
}

/** The file dtype and size of each tensor, in the reference's order. */
function plan(pairs: [string, Tensor][], opts: SaveSafetensorsOptions): PlannedTensor[] {
  const planned = pairs.map(([key, tensor]): PlannedTensor => {
    const dtype = writeDtype(tensor, opts);
    return { key, tensor, dtype, bytes: tensor.size * WRITE_BYTES[dtype] };
  });
  const keyBytes = new Map(planned.map((p) => [p.key, Buffer.from(p.key, "utf8")]));
  planned.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || Buffer.compare(keyBytes.get(a.key)!, keyBytes.get(b.key)!));
  return planned;
}

/**
 * The header bytes (8-byte length + padded JSON) for planned tensors. Built by hand rather than with
 * JSON.stringify of an object, because JS objects move integer-like keys ("0", "1") to the front.
 */
function headerBytes(planned: PlannedTensor[], metadata: Record<string, string> | undefined): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) {
    const m = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== "string") throw new Error(`saveSafetensors: metadata value for "${k}" must be a string, got ${describe(v)}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${m.join(",")}}`);
  }
  let offset = 0;
  for (const p of planned) {
    parts.push(`${JSON.stringify(p.key)}:{"dtype":"${p.dtype}","shape":[${p.tensor.shape.join(",")}],"data_offsets":[${offset},${offset + p.bytes}]}`);
    offset += p.bytes;
  }
  const json = Buffer.from(`{${parts.join(",")}}`, "utf8");
  // Pad with spaces so that 8 + header length is a multiple of 8 (the reference's alignment).
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length);
  return out;
}

/** Writes one tensor's elements in row-major order as `dtype` to the fd's current position. */
function writeTensorData(fd: number, p: PlannedTensor, path: string): void {
  const t = p.tensor;
  const n = t.size;
  if (n === 0) return;
  // Contiguous tensors are written straight from their storage; others are gathered first.
  const flat = t.isContiguous() ? t.data.subarray(t.offset, t.offset + n) : t.toTypedArray();
  if (flat.length !== n) throw new Error(`${path}: tensor "${p.key}" storage holds ${flat.length} elements, shape ${formatShape(t.shape)} needs ${n}`);
  if (p.dtype === "F32" || p.dtype === "I32") {
    writeAll(fd, new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength), path);
    return;
  }
  // Converted dtypes go through a bounded buffer, 1 Mi elements at a time.
  const CHUNK = 1 << 20;
  if (p.dtype === "F16" || p.dtype === "BF16") {
    const conv = p.dtype === "F16" ? f32ToF16 : f32ToBf16;
    for (let s = 0; s < n; s += CHUNK) {
      const half = conv((flat as Float32Array).subarray(s, Math.min(n, s + CHUNK)));
      writeAll(fd, new Uint8Array(half.buffer, 0, half.byteLength), path);
    }
    return;
  }
  // int32 -> int64: low word the value, high word its sign extension.
  const words = new Int32Array(2 * Math.min(CHUNK, n));
  for (let s = 0; s < n; s += CHUNK) {
    const m = Math.min(CHUNK, n - s);
    for (let i = 0; i < m; i++) {
      const v = flat[s + i];
      words[2 * i] = v;
      words[2 * i + 1] = v >> 31;
    }
    writeAll(fd, new Uint8Array(words.buffer, 0, 8 * m), path);
  }
}

/**
 * Writes tensors to a safetensors file atomically. float32 -> F32, int32 -> I32 (or I64 with
 * `opts.intDtype`). Same bytes as Python's `safetensors.torch.save_file` for the same tensors.
 */
export function saveSafetensors(path: string, tensors: TensorMap, metadata?: Record<string, string>, opts: SaveSafetensorsOptions = {}): void {
  if (!IS_LITTLE_ENDIAN) throw new Error(`${path}: writing safetensors on a big-endian machine is not supported`);
  const planned = plan(tensorEntries(tensors, `saveSafetensors ${path}`), opts);
  // Everything that can be checked is checked before the temporary file exists.
  const header = headerBytes(planned, metadata);
  atomicWrite(path, (fd) => {
    writeAll(fd, header, path);
    for (const p of planned) writeTensorData(fd, p, path);
  });
}

/** Bytes a tensor occupies in a file written by saveSafetensors with these options. */
export function storedSize(t: Tensor, opts: SaveSafetensorsOptions = {}): number {
  return t.size * WRITE_BYTES[writeDtype(t, opts)];
}
