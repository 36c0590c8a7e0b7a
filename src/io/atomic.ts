// Atomic file writes: a reader sees either the old file or the complete new one, never a prefix.
//
// Contract:
//   - atomicWrite(path, fill) creates a temporary file in the SAME directory as `path` (a rename is
//     only atomic within one filesystem), lets `fill(fd)` write it, fsyncs it, renames it over
//     `path`, then fsyncs the directory so the rename itself survives a power loss.
//   - If `fill` (or any step before the rename) throws, the temporary file is closed and removed and
//     the error is rethrown: nothing appears under `path`, and an existing file there is untouched.
//   - Temporary names start with ".<name>.tmp-" so a crash (SIGKILL, power loss) leaves only a
//     recognisable dot-file beside the target, never a half-written file under the final name.
//   - Everything is synchronous: checkpoint writes happen between training steps, and a sync write
//     keeps the order "data durable, then renamed" obvious.
// This mirrors what DESIGN.md asks of runs ("temp file + rename") and what careful writers such as
// transformers' `save_pretrained` callers and git do for their own files.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { stringifyHF, stringifyPretty } from "./json.js";

/** The prefix of temporary files that atomicWrite creates beside `path`. */
export function tempPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}

/** A fresh temporary path in the directory of `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${tempPrefix(path)}${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** Writes all of `bytes` at the file's current position (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array, path: string): void {
  // Node caps one write at 2 GiB - 1; 1 GiB chunks stay well inside that.
  const CHUNK = 1 << 30;
  let done = 0;
  while (done < bytes.length) {
    const len = Math.min(CHUNK, bytes.length - done);
    const w = writeSync(fd, bytes, done, len);
    if (w <= 0) throw new Error(`${path}: write returned ${w} after ${done} of ${bytes.length} bytes`);
    done += w;
  }
}

/** fsync of a directory; some platforms (Windows) cannot open directories, which is harmless there. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not supported here: the rename is still atomic, only its durability across power loss is weaker.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file atomically: `fill` writes the content through `fd` (sequential writes), then the file
 * replaces `path` in one rename. On any error the temporary file is removed and the error rethrown.
 */
export function atomicWrite(path: string, fill: (fd: number, tempPath: string) => void): void {
  const tmp = tempPathFor(path);
  // "wx": fail rather than reuse an existing file; mode 0o666 & umask like any normal file.
  let fd: number;
  try {
    fd = openSync(tmp, "wx");
  } catch (e) {
    // Name the file the caller asked for, not our temporary name.
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${path}: cannot create (${err.code ?? err.message}${err.code === "ENOENT" ? `: directory ${dirname(path)} does not exist` : ""})`);
  }
  let closed = false;
  try {
    fill(fd, tmp);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(tmp, path);
  } catch (e) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        // Already failing; the original error is the one to report.
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // The rename may have happened before a later failure; nothing left to clean.
    }
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Writes a string (as UTF-8) or bytes to `path` atomically. */
export function atomicWriteFile(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  atomicWrite(path, (fd) => writeAll(fd, bytes, path));
}

export interface WriteJSONOptions {
  /**
   * "hf" (default): Python's `json.dumps(indent=2, sort_keys=True) + "\n"`, as transformers writes
   * config.json; "insertion": 2-space indent, keys in insertion order, UTF-8 kept, trailing newline.
   */
  style?: "hf" | "insertion";
  /** "hf" style: keys whose whole-number values are written as floats (1.0). */
  floatKeys?: ReadonlySet<string>;
}

/** Writes `value` as pretty JSON atomically (Hugging Face style by default). */
export function atomicWriteJSON(path: string, value: unknown, opts: WriteJSONOptions = {}): void {
  const text = (opts.style ?? "hf") === "hf" ? stringifyHF(value, opts.floatKeys) : stringifyPretty(value, { sortKeys: false, asciiOnly: false }) + "\n";
  atomicWriteFile(path, text);
}
