// JSON for checkpoint files: parsing that reports where a malformed file breaks, and Hugging
// Face-style pretty printing.
//
// Contract:
//   - parseJSONText(text, source) returns JSON.parse's value; on a syntax error it throws an Error
//     naming `source` (a file path, or "file.safetensors header") with the line, column and character
//     offset of the first error. Node 20's V8 does not always put a position in its JSON.parse
//     messages, so the position comes from locateJSONError, a small validating scanner that runs only
//     after JSON.parse has failed (the happy path costs nothing extra).
//   - stringifyHF(value) reproduces Python's `json.dumps(value, indent=2, sort_keys=True) + "\n"`,
//     which transformers uses for config.json, generation_config.json and the sharded index
//     (transformers/configuration_utils.py `to_json_string`, modeling_utils.py `save_pretrained`):
//     2-space indent, keys sorted at every level, non-ASCII escaped as \uXXXX (ensure_ascii), empty
//     containers as [] / {}. Non-integer numbers are printed like Python's float repr (1e-05,
//     0.02, 1.5e+20), so the text matches byte for byte; the one difference left is an integer-valued
//     float, which JavaScript cannot tell from an int: Python writes 10000.0, we write 10000 (both
//     read back as the same value). NaN/Infinity have no JSON form: Python writes the non-standard
//     NaN/Infinity, we refuse with an error naming the key path.
import { readFileSync } from "node:fs";

export interface JSONErrorLocation {
  /** 0-based character (UTF-16 code unit) offset into the text. */
  offset: number;
  /** 1-based line and column. */
  line: number;
  column: number;
  message: string;
}

/** Parses JSON text; a syntax error names `source` and the line/column/offset where it breaks. */
export function parseJSONText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const loc = locateJSONError(text);
    if (loc) throw new Error(`${source}: malformed JSON at line ${loc.line}, column ${loc.column} (offset ${loc.offset}): ${loc.message}`);
    throw new Error(`${source}: malformed JSON: ${(e as Error).message}`);
  }
}

/** Reads and parses a UTF-8 JSON file; errors name the file (and the position for bad JSON). */
export function readJSONFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${path}: cannot read (${err.code ?? err.message})`);
  }
  // A UTF-8 byte-order mark is not JSON; Python's json.load rejects it too, but editors add it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseJSONText(text, path);
}

/**
 * Finds the first syntax error in `text` by scanning it as RFC 8259 JSON (what JSON.parse accepts).
 * Returns null when the text is valid. Iterative over nesting, so deep input cannot overflow the stack.
 */
export function locateJSONError(text: string): JSONErrorLocation | null {
  let i = 0;
  const n = text.length;
  const fail = (message: string, at = i): JSONErrorLocation => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < at && k < n; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    const found = at >= n ? "end of input" : `${JSON.stringify(text[at])}`;
    return { offset: at, line, column: at - lineStart + 1, message: `${message} (found ${found})` };
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = (): JSONErrorLocation | null => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fail("control character in string");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail("bad \\u escape", i);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return fail("bad escape", i);
      } else i++;
    }
    return fail("unterminated string");
  };
  const num = (): JSONErrorLocation | null => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "-" || m[0] === "") return fail("bad number");
    i += m[0].length;
    return null;
  };
  // Explicit stack of open containers: "{" or "[".
  const stack: string[] = [];
  // What the scanner expects next.
  let expectValue = true;
  for (;;) {
    ws();
    if (expectValue) {
      if (i >= n) return fail("expected a value");
      const c = text[i];
      if (c === "{" || c === "[") {
        stack.push(c);
        i++;
        ws();
        if (text[i] === (c === "{" ? "}" : "]")) {
          stack.pop();
          i++;
          expectValue = false;
          if (stack.length === 0) break;
          continue;
        }
        if (c === "{") {
          if (text[i] !== '"') return fail("expected a string key");
          const e = str();
          if (e) return e;
          ws();
          if (text[i] !== ":") return fail("expected ':' after key");
          i++;
        }
        continue;
      }
      let e: JSONErrorLocation | null = null;
      if (c === '"') e = str();
      else if (c === "-" || (c >= "0" && c <= "9")) e = num();
      else if (text.startsWith("true", i)) i += 4;
      else if (text.startsWith("false", i)) i += 5;
      else if (text.startsWith("null", i)) i += 4;
      else return fail("expected a value");
      if (e) return e;
      expectValue = false;
      if (stack.length === 0) break;
      continue;
    }
    // After a value inside a container: ',' or the closing bracket.
    const top = stack[stack.length - 1];
    const close = top === "{" ? "}" : "]";
    if (text[i] === ",") {
      i++;
      ws();
      if (top === "{") {
        if (text[i] !== '"') return fail("expected a string key");
        const e = str();
        if (e) return e;
        ws();
        if (text[i] !== ":") return fail("expected ':' after key");
        i++;
      }
      expectValue = true;
    } else if (text[i] === close) {
      i++;
      stack.pop();
      if (stack.length === 0) break;
    } else return fail(`expected ',' or '${close}'`);
  }
  ws();
  if (i < n) return fail("unexpected data after the JSON value");
  return null;
}

/** Python's ensure_ascii: every code unit above 0x7e becomes \uXXXX (lowercase hex, like Python). */
function asciiString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Python `json.dumps(value, indent=2, sort_keys=True) + "\n"`, as transformers writes configs. */
export function stringifyHF(value: unknown, floatKeys?: ReadonlySet<string>): string {
  return stringifyPretty(value, { sortKeys: true, asciiOnly: true, pythonNumbers: true, floatKeys }) + "\n";
}

/**
 * Python's repr() of a float, which json.dumps uses: the shortest round-trip digits (the same digits
 * JavaScript picks), fixed notation for exponents -4..15, otherwise d.ddde+XX with two or more
 * exponent digits. Integers print as integers (see the header about 10000.0).
 */
export function pythonNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return String(x);
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
      const frac = digits.slice(exp + 1);
      body = `${intPart}.${frac || "0"}`;
    } else body = `0.${"0".repeat(-exp - 1)}${digits}`;
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return neg ? `-${body}` : body;
}

export interface PrettyOptions {
  /** Sort object keys (by code unit, like Python's str ordering for BMP text). */
  sortKeys: boolean;
  /** Escape non-ASCII characters as \uXXXX (Python's ensure_ascii=True). */
  asciiOnly: boolean;
  /** Print numbers like Python's json (see pythonNumber) instead of JavaScript's JSON.stringify. */
  pythonNumbers?: boolean;
  /** Keys whose whole-number values print as floats ("1.0"): the config's float-typed fields. */
  floatKeys?: ReadonlySet<string>;
  indent?: number;
}

/** Indented JSON without the trailing newline; see stringifyHF for the HF defaults. */
export function stringifyPretty(value: unknown, opts: PrettyOptions): string {
  const step = " ".repeat(opts.indent ?? 2);
  const q = opts.asciiOnly ? asciiString : (s: string) => JSON.stringify(s);
  const rec = (v: unknown, pad: string, path: string): string => {
    if (v === null) return "null";
    if (typeof v === "string") return q(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Error(`JSON: ${path || "value"} is ${v}, which JSON cannot represent`);
      if (opts.floatKeys && Number.isInteger(v) && opts.floatKeys.has(path.slice(path.lastIndexOf(".") + 1))) {
        // A float field that holds a whole number (1.0): Python writes "1.0", and transformers 5's
        // typed configs reject an int where the class declares a float.
        const t = pythonNumber(v);
        return /[.e]/.test(t) ? t : `${t}.0`;
      }
      return opts.pythonNumbers ? pythonNumber(v) : JSON.stringify(v);
    }
    if (typeof v === "bigint") return v.toString();
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      const inner = pad + step;
      return "[\n" + v.map((x, k) => inner + rec(x === undefined ? null : x, inner, `${path}[${k}]`)).join(",\n") + "\n" + pad + "]";
    }
    if (typeof v === "object") {
      const toJSON = (v as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") return rec(toJSON.call(v), pad, path);
      // Skip undefined and functions as JSON.stringify does.
      let keys = Object.keys(v as object).filter((k) => {
        const x = (v as Record<string, unknown>)[k];
        return x !== undefined && typeof x !== "function";
      });
      if (opts.sortKeys) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (keys.length === 0) return "{}";
      const inner = pad + step;
      return "{\n" + keys.map((k) => `${inner}${q(k)}: ${rec((v as Record<string, unknown>)[k], inner, path ? `${path}.${k}` : k)}`).join(",\n") + "\n" + pad + "}";
    }
    throw new Error(`JSON: ${path || "value"} has type ${typeof v}, which JSON cannot represent`);
  };
  return rec(value, "", "");
}
