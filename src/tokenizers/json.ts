// Typed reading of tokenizer.json with errors that name the JSON path of the bad value, e.g.
// `tokenizer.json: model.merges[12]: expected a string "a b" or a pair ["a", "b"], got 42`.
// Every component constructor reads its fields through these helpers, so a malformed file fails
// where it is loaded, never later inside encoding.

export class TokenizerJsonError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`tokenizer.json: ${path || "(root)"}: ${message}`);
    this.name = "TokenizerJsonError";
    this.path = path;
  }
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

function describe(v: unknown): string {
  if (v === undefined) return "nothing (missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function asObject(v: unknown, path: string): JsonObject {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TokenizerJsonError(path, `expected an object, got ${describe(v)}`);
  }
  return v as JsonObject;
}

export function asArray(v: unknown, path: string): Json[] {
  if (!Array.isArray(v)) throw new TokenizerJsonError(path, `expected an array, got ${describe(v)}`);
  return v as Json[];
}

export function getString(o: JsonObject, key: string, path: string, def?: string): string {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "string") throw new TokenizerJsonError(join(path, key), `expected a string, got ${describe(v)}`);
  return v;
}

export function getOptString(o: JsonObject, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new TokenizerJsonError(join(path, key), `expected a string or null, got ${describe(v)}`);
  return v;
}

export function getBool(o: JsonObject, key: string, path: string, def?: boolean): boolean {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "boolean") throw new TokenizerJsonError(join(path, key), `expected true or false, got ${describe(v)}`);
  return v;
}

export function getOptBool(o: JsonObject, key: string, path: string): boolean | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "boolean") throw new TokenizerJsonError(join(path, key), `expected true, false or null, got ${describe(v)}`);
  return v;
}

export function getNumber(o: JsonObject, key: string, path: string, def?: number): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TokenizerJsonError(join(path, key), `expected a number, got ${describe(v)}`);
  }
  return v;
}

export function getInt(o: JsonObject, key: string, path: string, def?: number): number {
  const v = getNumber(o, key, path, def);
  if (!Number.isInteger(v) || v < 0) throw new TokenizerJsonError(join(path, key), `expected a non-negative integer, got ${v}`);
  return v;
}

/** Reject keys the component does not know, so a typo is an error rather than a silent default. */
export function checkKeys(o: JsonObject, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new TokenizerJsonError(join(path, k), `unknown field (known fields: ${allowed.join(", ")})`);
    }
  }
}

/** The `type` of a component, with a clear error listing the supported types. */
export function getType(o: JsonObject, path: string, kind: string, supported: readonly string[]): string {
  const t = o["type"];
  if (typeof t !== "string") throw new TokenizerJsonError(join(path, "type"), `expected the ${kind} type name, got ${describe(t)}`);
  if (!supported.includes(t)) {
    throw new TokenizerJsonError(join(path, "type"), `unknown ${kind} type "${t}" (supported: ${supported.join(", ")})`);
  }
  return t;
}
