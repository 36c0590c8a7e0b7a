// Content hashes for cache keys: a stable JSON encoding (object keys sorted at every level, so two
// equal values always hash alike whatever their key order) fed to SHA-256 from node:crypto.
import { createHash } from "node:crypto";

/** JSON with object keys sorted recursively; arrays keep their order; undefined fields are dropped. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined: encode it as null, as inside arrays.
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value)) return "[" + value.map((v) => stableStringify(v)).join(",") + "]";
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function") return stableStringify((obj as { toJSON: () => unknown }).toJSON());
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + stableStringify(obj[k])).join(",") + "}";
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
