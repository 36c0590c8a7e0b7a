// Binary token caches: a corpus is tokenized once, and later runs read the ids from disk.
//
// Files, in `cacheDir`, named by a key (see cacheKey):
//   tokens-<key>.bin   little-endian: `count` ids (uint16 when the vocabulary has <= 65536 ids,
//                      else uint32), then `documents` uint64 document end offsets (exclusive, in
//                      tokens; an EOS separator, when used, belongs to the document before it)
//   tokens-<key>.json  the header: format and version, tokenizer hash, sources (absolute path, encoding, size,
//                      mtime), dtype, count, documents, eos_id, byte sizes, SHA-256 of the .bin
// The key hashes the tokenizer, the source paths and the options, but NOT the sizes and mtimes:
// a changed source file therefore lands on the same name and replaces the stale cache instead of
// leaving it behind, while caches for different tokenizers coexist.
//
// Loading checks, in order: the header parses and has this format; the tokenizer hash and every
// source's size and mtime match (else: stale, rebuilt with a note); the .bin size equals what the
// header says and (verify: "checksum", the default) its SHA-256 matches (else: corrupt, rebuilt with
// a warning). A cache that fails a check is never used.
//
// Writes are atomic: the old header is removed, the .bin goes to a temporary file beside it that is
// renamed into place, then the header the same way. A reader accepts a .bin only through a header
// whose size and checksum match, so a crash at any point leaves no header or a consistent pair.
//
// Reading: by default the whole .bin is read into a typed array with positioned reads (fine up to a
// few hundred MB, i.e. ~100-200 M tokens as uint16); `inMemory: false` leaves the ids on disk and
// reads each window on demand (FileTokens). Documents: the end offsets are always read.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { endianness } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { sha256Hex, stableStringify, tokenizerHash } from "./hash.js";
import { resolveProgress, type ProgressOption } from "./progress.js";
import { checkEncodings, readDocuments, resolveSources, type SourceFile, type SourceInput } from "./sources.js";
import { ArrayTokens, FileTokens, bytesPerToken, type TokenArray, type TokenDType, type TokenStream } from "./tokens.js";

export const TOKEN_CACHE_FORMAT = "tslm-token-cache";
export const TOKEN_CACHE_VERSION = 1;

/** What the cache needs of a tokenizer; tslm's Tokenizer has all of it. */
export interface CorpusTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): { ids: ArrayLike<number> };
  toJSON(): unknown;
  readonly vocabSize: number;
  tokenToId?(token: string): number | undefined;
  config?: { eosToken?: string | null };
}

export interface TokenCacheHeader {
  format: string;
  version: number;
  key: string;
  tokenizer_hash: string;
  /** encoding: as read ("auto" sources settled to "utf-8" or "latin1"). */
  sources: Array<{ path: string; format: string; field?: string; encoding: string; size: number; mtime_ms: number }>;
  dtype: TokenDType;
  count: number;
  documents: number;
  eos_id: number | null;
  ids_bytes: number;
  total_bytes: number;
  sha256: string;
}

export interface TokenCacheOptions {
  sources: SourceInput | SourceInput[];
  tokenizer: CorpusTokenizer;
  /** Folder of cache files (created if missing). */
  cacheDir: string;
  /**
   * Separator appended after every document. Default: the tokenizer's EOS (config eos_token, else
   * one of <|endoftext|>, </s>, <eos>, [SEP]); null: no separator (boundaries are still recorded).
   */
  eosId?: number | null;
  /** Bytes read at a time, and about the text handed to one encode() call (default 64 KiB). */
  chunkBytes?: number;
  progress?: ProgressOption;
  /** "checksum" (default) hashes the .bin on load; "size" only compares sizes. */
  verify?: "checksum" | "size";
  /** Read ids into memory (default) or leave them on disk (FileTokens). */
  inMemory?: boolean;
  /** Where notes about stale or corrupt caches go (default: console.warn). */
  warn?: (message: string) => void;
}

/** A loaded token cache. */
export class TokenCache {
  constructor(
    readonly header: TokenCacheHeader,
    readonly binPath: string,
    readonly tokens: TokenStream,
    /** Exclusive end offset of each document (tokens). */
    readonly docEnds: Float64Array,
    /** True when this call tokenized the corpus, false when it reused a cache. */
    readonly built: boolean,
  ) {}

  get length(): number {
    return this.tokens.length;
  }

  /** The ids in memory (throws for a cache opened with inMemory: false). */
  get ids(): TokenArray {
    if (!(this.tokens instanceof ArrayTokens)) throw new Error(`TokenCache ${this.binPath}: ids are on disk (inMemory: false); use .tokens.read()`);
    return this.tokens.ids;
  }

  /** [start, end) of every document. */
  documentRanges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let s = 0;
    for (const e of this.docEnds) {
      out.push([s, e]);
      s = e;
    }
    return out;
  }

  close(): void {
    if (this.tokens instanceof FileTokens) this.tokens.close();
  }
}

/** The EOS id to separate documents with, from the tokenizer's config or its usual names. */
export function defaultEosId(tokenizer: CorpusTokenizer): number | null {
  const names = [tokenizer.config?.eosToken, "<|endoftext|>", "</s>", "<eos>", "[SEP]"];
  for (const n of names) {
    if (typeof n !== "string" || !tokenizer.tokenToId) continue;
    const id = tokenizer.tokenToId(n);
    if (id !== undefined) return id;
  }
  return null;
}

function dtypeFor(vocabSize: number): TokenDType {
  return vocabSize <= 65536 ? "uint16" : "uint32";
}

/** The cache key: tokenizer hash, source identities (not sizes or mtimes) and options. */
export function cacheKey(tokHash: string, files: SourceFile[], eosId: number | null): string {
  // The encoding as asked ("auto" included): a settled "auto" must not change the name.
  const ident = files.map((f) => ({ path: f.path, format: f.format, field: f.field, encoding: f.encoding }));
  return sha256Hex(stableStringify({ format: TOKEN_CACHE_FORMAT, version: TOKEN_CACHE_VERSION, tokenizer: tokHash, sources: ident, eos_id: eosId })).slice(0, 20);
}

function sourcesRecord(files: SourceFile[]): TokenCacheHeader["sources"] {
  return files.map((f) => ({ path: f.path, format: f.format, ...(f.field !== undefined ? { field: f.field } : {}), encoding: f.encoding, size: f.size, mtime_ms: f.mtimeMs }));
}

/** Positioned reads of a whole range into `dst` (readSync may return less than asked). */
function readFully(fd: number, dst: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < dst.length) {
    const n = readSync(fd, dst, done, dst.length - done, position + done);
    if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function writeFully(fd: number, src: Uint8Array, path: string): void {
  let done = 0;
  while (done < src.length) {
    const n = writeSync(fd, src, done, src.length - done);
    if (n <= 0) throw new Error(`${path}: write failed after ${done} of ${src.length} bytes`);
    done += n;
  }
}

/** Temp file beside `path`, filled by `fill`, fsynced and renamed over `path`; removed on error. */
function writeAtomically(path: string, fill: (fd: number, tmp: string) => void): void {
  // A local twin of io/atomic.ts: data/ sits before io/ in the layer order and must not import it.
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fd = openSync(tmp, "wx");
  let open = true;
  try {
    fill(fd, tmp);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, path);
  } catch (e) {
    if (open) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing left to remove.
    }
    throw e;
  }
}

/**
 * Removes temporary files of this cache left by processes that died mid-write (SIGKILL, power
 * loss): ".tokens-<key>.{bin,json}.tmp-<pid>-<random>" whose pid no longer runs. Files of live
 * processes (a concurrent build) are left alone.
 */
function removeDeadTemps(dir: string, key: string): void {
  const re = new RegExp(`^\\.tokens-${key}\\.(bin|json)\\.tmp-(\\d+)-[0-9a-f]+$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
      }
    }
    if (!alive) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // Raced with another cleaner: fine.
      }
    }
  }
}

type Check = { ok: true; header: TokenCacheHeader } | { ok: false; kind: "missing" | "stale" | "corrupt"; reason: string };

function checkCache(binPath: string, headerPath: string, tokHash: string, files: SourceFile[], verify: "checksum" | "size"): Check {
  if (!existsSync(headerPath)) return { ok: false, kind: "missing", reason: "no cache yet" };
  let h: TokenCacheHeader;
  try {
    h = JSON.parse(readFileSync(headerPath, "utf8")) as TokenCacheHeader;
  } catch (e) {
    return { ok: false, kind: "corrupt", reason: `header ${headerPath} does not parse (${(e as Error).message})` };
  }
  if (h?.format !== TOKEN_CACHE_FORMAT || h.version !== TOKEN_CACHE_VERSION) return { ok: false, kind: "stale", reason: `header format ${h?.format} v${h?.version}` };
  if (h.tokenizer_hash !== tokHash) return { ok: false, kind: "stale", reason: "the tokenizer changed" };
  const want = sourcesRecord(files);
  if (!Array.isArray(h.sources) || h.sources.length !== want.length) return { ok: false, kind: "stale", reason: "the list of source files changed" };
  for (let i = 0; i < want.length; i++) {
    const a = h.sources[i]!;
    const b = want[i]!;
    if (a.path !== b.path || a.size !== b.size || a.mtime_ms !== b.mtime_ms) return { ok: false, kind: "stale", reason: `${b.path} changed (size or modification time)` };
  }
  if (h.dtype !== "uint16" && h.dtype !== "uint32") return { ok: false, kind: "corrupt", reason: `header dtype ${JSON.stringify(h.dtype)}` };
  const expectBytes = h.count * bytesPerToken(h.dtype) + h.documents * 8;
  if (h.ids_bytes !== h.count * bytesPerToken(h.dtype) || h.total_bytes !== expectBytes) return { ok: false, kind: "corrupt", reason: "header sizes are inconsistent" };
  let size: number;
  try {
    size = statSync(binPath).size;
  } catch {
    return { ok: false, kind: "corrupt", reason: `${binPath} is missing` };
  }
  if (size !== expectBytes) return { ok: false, kind: "corrupt", reason: `${binPath} has ${size} bytes, the header says ${expectBytes}` };
  if (verify === "checksum") {
    const hash = createHash("sha256");
    const fd = openSync(binPath, "r");
    try {
      const buf = new Uint8Array(1 << 22);
      for (let pos = 0; pos < size; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
    if (hash.digest("hex") !== h.sha256) return { ok: false, kind: "corrupt", reason: `${binPath} does not match its checksum` };
  }
  return { ok: true, header: h };
}

function openCache(binPath: string, h: TokenCacheHeader, inMemory: boolean, built: boolean): TokenCache {
  if (endianness() !== "LE") throw new Error("token caches are little-endian; this machine is big-endian (unsupported)");
  const fd = openSync(binPath, "r");
  try {
    const ends = new Uint8Array(h.documents * 8);
    readFully(fd, ends, h.ids_bytes, binPath);
    const dv = new DataView(ends.buffer);
    const docEnds = new Float64Array(h.documents);
    for (let i = 0; i < h.documents; i++) docEnds[i] = Number(dv.getBigUint64(8 * i, true));
    let tokens: TokenStream;
    if (inMemory) {
      // Allocate the typed array first so the read lands in aligned memory without a copy.
      const ids = h.dtype === "uint16" ? new Uint16Array(h.count) : new Uint32Array(h.count);
      readFully(fd, new Uint8Array(ids.buffer, 0, h.ids_bytes), 0, binPath);
      tokens = new ArrayTokens(ids);
    } else tokens = new FileTokens(binPath, h.dtype, h.count, 0);
    return new TokenCache(h, binPath, tokens, docEnds, built);
  } finally {
    closeSync(fd);
  }
}

/** Paths of the cache files for these options (without building anything). */
export function tokenCachePaths(opts: Pick<TokenCacheOptions, "sources" | "tokenizer" | "cacheDir" | "eosId">): { binPath: string; headerPath: string; key: string } {
  const files = resolveSources(opts.sources);
  const eosId = opts.eosId === undefined ? defaultEosId(opts.tokenizer) : opts.eosId;
  const key = cacheKey(tokenizerHash(opts.tokenizer), files, eosId);
  const dir = resolve(opts.cacheDir);
  return { key, binPath: join(dir, `tokens-${key}.bin`), headerPath: join(dir, `tokens-${key}.json`) };
}

/**
 * Returns the token cache for these sources and tokenizer, tokenizing only when no valid cache
 * exists (see the contract at the top of this file).
 */
export function buildTokenCache(opts: TokenCacheOptions): TokenCache {
  for (const k of Object.keys(opts)) {
    if (!["sources", "tokenizer", "cacheDir", "eosId", "chunkBytes", "progress", "verify", "inMemory", "warn"].includes(k)) throw new Error(`buildTokenCache: unknown option "${k}"`);
  }
  const files = resolveSources(opts.sources);
  const tok = opts.tokenizer;
  const tokHash = tokenizerHash(tok);
  let eosId: number | null;
  if (opts.eosId === undefined) {
    eosId = defaultEosId(tok);
    if (eosId === null) throw new Error("buildTokenCache: the tokenizer has no EOS token (<|endoftext|>, </s>, <eos>, [SEP]); pass eosId (a number, or null for no separator)");
  } else eosId = opts.eosId;
  const dtype = dtypeFor(tok.vocabSize);
  const maxId = dtype === "uint16" ? 65535 : 4294967295;
  if (eosId !== null && !(Number.isInteger(eosId) && eosId >= 0 && eosId <= maxId)) throw new Error(`buildTokenCache: eosId ${eosId} is not a valid ${dtype} id`);
  const key = cacheKey(tokHash, files, eosId);
  const dir = resolve(opts.cacheDir);
  mkdirSync(dir, { recursive: true });
  const binPath = join(dir, `tokens-${key}.bin`);
  const headerPath = join(dir, `tokens-${key}.json`);
  const verify = opts.verify ?? "checksum";
  const inMemory = opts.inMemory ?? true;
  const warn = opts.warn ?? ((m: string) => console.warn(m));

  removeDeadTemps(dir, key);
  const check = checkCache(binPath, headerPath, tokHash, files, verify);
  if (check.ok) return openCache(binPath, check.header, inMemory, false);
  if (check.kind === "corrupt") warn(`token cache ${binPath} is corrupt (${check.reason}); rebuilding it`);
  else if (check.kind === "stale") warn(`token cache ${binPath} is stale (${check.reason}); re-tokenizing`);

  // Every file's encoding is checked before any tokenizing: a bad byte in the last file must not
  // cost the time spent on the others.
  const readable = checkEncodings(files, warn);
  // The old header goes first: a crash after the new .bin is renamed in then leaves a .bin without
  // header ("no cache yet"), never an old header next to new ids.
  if (existsSync(headerPath)) unlinkSync(headerPath);

  // Tokenize, streaming ids to a temporary file in blocks, and hash them on the way.
  const bpt = bytesPerToken(dtype);
  const BLOCK = 1 << 18;
  const block = dtype === "uint16" ? new Uint16Array(BLOCK) : new Uint32Array(BLOCK);
  const blockBytes = new Uint8Array(block.buffer);
  const hash = createHash("sha256");
  const docEnds: number[] = [];
  let count = 0;
  let filled = 0;
  const progress = resolveProgress(opts.progress);
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let lastUpdate = 0;
  const header = writeAtomicallyReturning(binPath, (fd, tmp) => {
    const flush = () => {
      const bytes = blockBytes.subarray(0, filled * bpt);
      writeFully(fd, bytes, tmp);
      hash.update(bytes);
      filled = 0;
    };
    const push = (id: number, where: string) => {
      if (!(Number.isInteger(id) && id >= 0 && id <= maxId)) throw new Error(`buildTokenCache: ${where}: the tokenizer returned id ${id}, outside ${dtype}`);
      block[filled++] = id;
      count++;
      if (filled === BLOCK) flush();
    };
    progress.start(totalBytes, "Tokenizing");
    try {
      for (const file of readable) {
        let inDoc = false;
        for (const piece of readDocuments(file, {
          chunkBytes: opts.chunkBytes,
          onBytes: (n) => {
            bytesDone += n;
            // Redraw at most every 1 MB: cli-progress throttles drawing but not the call itself.
            if (bytesDone - lastUpdate >= 1 << 20 || bytesDone === totalBytes) {
              lastUpdate = bytesDone;
              progress.update(bytesDone, { tokens: count });
            }
          },
        })) {
          inDoc = true;
          if (piece.text.length > 0) {
            const ids = tok.encode(piece.text, { addSpecialTokens: false }).ids;
            for (let i = 0; i < ids.length; i++) push(ids[i]!, file.path);
          }
          if (piece.end) {
            if (eosId !== null) push(eosId, file.path);
            docEnds.push(count);
            inDoc = false;
          }
        }
        if (inDoc) throw new Error(`buildTokenCache: ${file.path}: internal error, a document did not end`);
      }
      progress.update(bytesDone, { tokens: count });
    } finally {
      progress.stop();
    }
    flush();
    if (count === 0) throw new Error(`data: the sources hold no text (${files.map((f) => f.path).join(", ")})`);
    const ends = new Uint8Array(docEnds.length * 8);
    const dv = new DataView(ends.buffer);
    docEnds.forEach((e, i) => dv.setBigUint64(8 * i, BigInt(e), true));
    writeFully(fd, ends, tmp);
    hash.update(ends);
    const h: TokenCacheHeader = {
      format: TOKEN_CACHE_FORMAT,
      version: TOKEN_CACHE_VERSION,
      key,
      tokenizer_hash: tokHash,
      sources: sourcesRecord(readable),
      dtype,
      count,
      documents: docEnds.length,
      eos_id: eosId,
      ids_bytes: count * bpt,
      total_bytes: count * bpt + ends.length,
      sha256: hash.digest("hex"),
    };
    return h;
  });
  // Source files that changed while we read them would make the header lie: check before writing it.
  const stamp = (fs: SourceFile[]) => stableStringify(fs.map((f) => [f.path, f.size, f.mtimeMs]));
  if (stamp(resolveSources(opts.sources)) !== stamp(files)) {
    throw new Error("buildTokenCache: a source file changed while it was being tokenized; run again");
  }
  writeAtomically(headerPath, (fd, tmp) => writeFully(fd, Buffer.from(JSON.stringify(header, null, 2) + "\n", "utf8"), tmp));
  return openCache(binPath, header, inMemory, true);
}

function writeAtomicallyReturning<T>(path: string, fill: (fd: number, tmp: string) => T): T {
  let out: T | undefined;
  writeAtomically(path, (fd, tmp) => {
    out = fill(fd, tmp);
  });
  return out as T;
}

/** Loads a cache by its header path, with the size (and checksum) checks but no source checks. */
export function loadTokenCache(headerPath: string, opts: { inMemory?: boolean; verify?: "checksum" | "size" } = {}): TokenCache {
  const h = JSON.parse(readFileSync(headerPath, "utf8")) as TokenCacheHeader;
  if (h?.format !== TOKEN_CACHE_FORMAT) throw new Error(`${headerPath}: not a tslm token cache header`);
  const binPath = headerPath.replace(/\.json$/, ".bin");
  const files: SourceFile[] = h.sources.map((s) => ({ path: s.path, format: s.format as SourceFile["format"], field: s.field, encoding: s.encoding as SourceFile["encoding"], size: s.size, mtimeMs: s.mtime_ms }));
  // Source checks are skipped on purpose (the corpus may be gone); integrity checks are not.
  const c = checkCache(binPath, headerPath, h.tokenizer_hash, files.map((f) => ({ ...f })), opts.verify ?? "checksum");
  if (!c.ok && c.kind === "corrupt") throw new Error(`token cache ${binPath} is corrupt: ${c.reason}`);
  return openCache(binPath, h, opts.inMemory ?? true, false);
}
