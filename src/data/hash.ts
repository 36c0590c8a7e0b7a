// Content hashes for cache keys: a stable JSON encoding (object keys sorted at every level, so two
// equal values always hash alike whatever their key order) fed to SHA-256 from node:crypto.
import { createHash } from "node:crypto";

/** JSON with object keys sorted recursively; arrays keep their order; undefined fields are dropped. */
export function stableStringify(value: unknown): string {
  const parts: string[] = [];
  writeStable(value, parts);
  return parts.join("");
}

/**
 * The stable encoding, appended piece by piece to `out` (one pass, no intermediate strings per
 * object: a GPT-2 tokenizer.json has 50k vocabulary keys and 50k merges, and the naive recursive
 * version took most of a second).
 */
function writeStable(v: unknown, out: string[]): void {
  if (v === null || v === undefined) {
    out.push("null");
    return;
  }
  switch (typeof v) {
    case "string":
      out.push(JSON.stringify(v));
      return;
    case "number":
      out.push(Number.isFinite(v) ? String(v) : "null");
      return;
    case "boolean":
      out.push(v ? "true" : "false");
      return;
    case "object":
      break;
    default:
      out.push("null"); // functions, symbols, bigints: as JSON.stringify inside arrays
      return;
  }
  if (Array.isArray(v)) {
    out.push("[");
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(",");
      writeStable(v[i], out);
    }
    out.push("]");
    return;
  }
  const obj = v as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
    writeStable((obj as { toJSON: () => unknown }).toJSON(), out);
    return;
  }
  const keys = Object.keys(obj).sort();
  out.push("{");
  let first = true;
  for (const k of keys) {
    const x = obj[k];
    if (x === undefined) continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(k), ":");
    writeStable(x, out);
  }
  out.push("}");
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Something that can describe itself as JSON (tslm's Tokenizer: its tokenizer.json content). */
export interface Serializable {
  toJSON(): unknown;
}

/**
 * SHA-256 of a tokenizer's tokenizer.json content in stable key order: two tokenizers with equal
 * pipelines and vocabularies hash alike, whatever file they were loaded from.
 */
export function tokenizerHash(tokenizer: Serializable): string {
  return sha256Hex(stableStringify(tokenizer.toJSON()));
}
