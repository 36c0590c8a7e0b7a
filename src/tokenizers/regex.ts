// Translate the regular expressions found in tokenizer.json (written for Oniguruma, which HF
// `tokenizers` uses for `Split` and `Replace` patterns) into JavaScript `u`-flag regexes.
//
// What differs between the two dialects and is handled here:
// - `\s` / `\S`: Oniguruma means the Unicode White_Space property (it includes U+0085 and excludes
//   U+FEFF); JavaScript's `\s` is the reverse on both. We emit `\p{White_Space}`.
// - `\w`, `\d`: Unicode-aware in Oniguruma (letters, marks, digits, connector punctuation / Nd).
// - `(?i:...)`: inline flag groups are not supported by Node 20. Inside such a group every ASCII
//   letter becomes a class of all the characters Unicode simple case folding equates with it
//   (`s` also matches U+017F LONG S, `k` the KELVIN SIGN), which is what Oniguruma does.
// - possessive quantifiers `*+ ++ ?+` and atomic groups `(?>...)`: emulated with a lookahead and a
//   back-reference, which forbids backtracking into the group exactly as possessive matching does.
// - Unicode versions: chars newer than Oniguruma's tables are unassigned there (not letters,
//   not numbers); property escapes and classes are adjusted so they match as in Oniguruma.
// - `\p{Han}`-style script names become `\p{Script=Han}`; `\x{HHHH}` becomes `\u{HHHH}`;
//   `\A` / `\z` / `\Z` become `^` / `$`.
// Anything we cannot translate raises an error naming the pattern and the position.

/** Unicode `\\w` as Rust regex and Oniguruma define it. */
export const WORD = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}";

import { ONIG_UNASSIGNED } from "./unicode_tables.js";

const GENERAL_CATEGORIES = new Set([
  "L", "Lu", "Ll", "Lt", "Lm", "Lo", "LC", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe",
  "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn",
  "Letter", "Mark", "Number", "Punctuation", "Symbol", "Separator", "Other",
  "Alphabetic", "White_Space", "Uppercase", "Lowercase", "Any", "ASCII",
]);

function caseClass(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  let out = lower === upper ? lower : lower + upper;
  if (lower === "s") out += "\u017f";
  if (lower === "k") out += "\u212a";
  return out.length > 1 ? `[${out}]` : out;
}

function caseClassInside(ch: string): string {
  const c = caseClass(ch);
  return c.startsWith("[") ? c.slice(1, -1) : c;
}

/** Translate an Oniguruma / Rust-regex pattern to JavaScript source for `new RegExp(src, "gu")`. */
export function translateRegex(pattern: string): string {
  let out = "";
  let i = 0;
  let inClass = 0; // depth of [...]
  const ciStack: boolean[] = [false]; // case-insensitive state per group
  // Possessive / atomic emulation adds capturing groups; back-references to them are numbered by
  // counting the capturing groups already emitted (tokenizer patterns have no back-references).
  const atomicStack: Array<number | null> = []; // per open paren: the back-ref number if atomic
  const ci = () => ciStack[ciStack.length - 1]!;
  const n = pattern.length;
  // Current class: where it starts in `out`, whether negated, and what its members say about the
  // chars Oniguruma sees as unassigned (see GAP below).
  let classStart = 0;
  let classNegated = false;
  let classAssignedOnly = false; // has members that never match an unassigned char (\p{L}, \w, ...)
  let classMatchesUnassigned = false; // has members that do (\P{L}, \p{Cn}, \S, ...)

  while (i < n) {
    const c = pattern[i]!;
    if (c === "\\") {
      const d = pattern[i + 1];
      if (d === undefined) throw new Error(`regex ${JSON.stringify(pattern)}: trailing backslash`);
      if (d === "s") out += "\\p{White_Space}";
      else if (d === "S") {
        out += "\\P{White_Space}";
        if (inClass) classMatchesUnassigned = true;
      } else if (d === "w") {
        if (inClass) {
          out += WORD;
          classAssignedOnly = true;
        } else out += assignedOnly(`[${WORD}]`);
      } else if (d === "W") {
        if (inClass) throw new Error(`regex ${JSON.stringify(pattern)}: \\W inside a class at ${i} is not supported`);
        out += orUnassigned(`[^${WORD}]`);
      } else if (d === "d") {
        if (inClass) {
          out += "\\p{Nd}";
          classAssignedOnly = true;
        } else out += assignedOnly("\\p{Nd}");
      } else if (d === "D") {
        if (inClass) {
          out += "\\P{Nd}";
          classMatchesUnassigned = true;
        } else out += orUnassigned("\\P{Nd}");
      }
      else if (d === "A") out += "^";
      else if (d === "z" || d === "Z") out += "$";
      else if (d === "p" || d === "P") {
        let name: string;
        let len: number;
        if (pattern[i + 2] === "{") {
          const close = pattern.indexOf("}", i + 3);
          if (close < 0) throw new Error(`regex ${JSON.stringify(pattern)}: unclosed \\p{ at ${i}`);
          name = pattern.slice(i + 3, close);
          len = close + 1 - i;
        } else {
          name = pattern[i + 2]!;
          len = 3;
        }
        let neg = d === "P";
        if (name.startsWith("^")) {
          neg = !neg;
          name = name.slice(1);
        }
        const jsName = GENERAL_CATEGORIES.has(name) || name.includes("=") ? name : `Script=${name}`;
        const esc = `\\${neg ? "P" : "p"}{${jsName}}`;
        // Does this escape match a char Oniguruma considers unassigned?
        const unassignedKind = UNASSIGNED_PROPS.has(name);
        const neutral = name === "Any" || name === "ASCII" || name === "White_Space";
        const matchesUnassigned = neg !== unassignedKind;
        if (inClass) {
          out += esc;
          if (!neutral) {
            if (matchesUnassigned) classMatchesUnassigned = true;
            else classAssignedOnly = true;
          }
        } else if (neutral) out += esc;
        else out += matchesUnassigned ? orUnassigned(esc) : assignedOnly(esc);
        i += len;
        continue;
      } else if (d === "x" && pattern[i + 2] === "{") {
        const close = pattern.indexOf("}", i + 3);
        out += `\\u{${pattern.slice(i + 3, close)}}`;
        i = close + 1;
        continue;
      } else if (/[a-zA-Z]/.test(d) && ci() && !"nrtfvbB0xuc".includes(d)) {
        throw new Error(`regex ${JSON.stringify(pattern)}: unsupported escape \\${d} at ${i}`);
      } else out += "\\" + d;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "[") {
        // Nested class (Oniguruma union): JS `u` mode has no nesting; flatten when not negated.
        if (pattern[i + 1] === "^") throw new Error(`regex ${JSON.stringify(pattern)}: nested negated class at ${i}`);
        inClass++;
        i++;
        continue;
      }
      if (c === "]") {
        inClass--;
        if (inClass === 0) {
          out += "]";
          // Oniguruma: an unassigned char matches a class of assigned-only members only when it is
          // negated. Fix JavaScript's view of the chars it assigns and Oniguruma does not.
          if (classAssignedOnly && !classMatchesUnassigned) {
            const cls = out.slice(classStart);
            out = out.slice(0, classStart) + (classNegated ? orUnassigned(cls) : assignedOnly(cls));
          }
        }
        i++;
        continue;
      }
      out += ci() && /[a-zA-Z]/.test(c) ? caseClassInside(c) : c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = 1;
      classStart = out.length;
      classNegated = false;
      classAssignedOnly = false;
      classMatchesUnassigned = false;
      out += "[";
      i++;
      if (pattern[i] === "^") {
        out += "^";
        classNegated = true;
        i++;
      }
      if (pattern[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(") {
      if (pattern.startsWith("(?i:", i)) {
        ciStack.push(true);
        atomicStack.push(null);
        out += "(?:";
        i += 4;
        continue;
      }
      if (pattern.startsWith("(?-i:", i)) {
        ciStack.push(false);
        atomicStack.push(null);
        out += "(?:";
        i += 5;
        continue;
      }
      if (pattern.startsWith("(?>", i)) {
        const ref = countGroups(out) + 1;
        ciStack.push(ci());
        atomicStack.push(ref);
        out += "(?=(";
        i += 3;
        continue;
      }
      if (pattern.startsWith("(?:", i) || pattern.startsWith("(?=", i) || pattern.startsWith("(?!", i)) {
        ciStack.push(ci());
        atomicStack.push(null);
        out += pattern.slice(i, i + 3);
        i += 3;
        continue;
      }
      if (pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i)) {
        ciStack.push(ci());
        atomicStack.push(null);
        out += pattern.slice(i, i + 4);
        i += 4;
        continue;
      }
      if (pattern[i + 1] === "?") {
        throw new Error(`regex ${JSON.stringify(pattern)}: unsupported group syntax at ${i}`);
      }
      ciStack.push(ci());
      atomicStack.push(null);
      out += "(";
      i++;
      continue;
    }
    if (c === ")") {
      ciStack.pop();
      const ref = atomicStack.pop();
      if (ref != null) out += `))\\${ref}`;
      else out += ")";
      i++;
      continue;
    }
    if ((c === "*" || c === "+" || c === "?" || c === "}") && pattern[i + 1] === "+") {
      // Possessive quantifier: wrap the preceding atom. We find it in `out` (last char, class,
      // escape or group) and rewrite `atom q` as `(?=(atom q))\N`.
      let quant = c;
      if (c === "}") {
        // The `{m,n}` is already in `out`; move it into the wrapper.
        const open = out.lastIndexOf("{");
        quant = out.slice(open);
        out = out.slice(0, open);
      }
      const atom = out.slice(findAtomStart(out));
      out = out.slice(0, out.length - atom.length);
      // The new group opens before any group inside the atom, so it takes the next number here.
      const ref = countGroups(out) + 1;
      out += `(?=(${atom}${quant}))\\${ref}`;
      i += 2;
      continue;
    }
    out += ci() && /[a-zA-Z]/.test(c) ? caseClass(c) : c;
    i++;
  }
  return out;
}

/** Properties that match unassigned code points (Cn is part of C / Other). */
const UNASSIGNED_PROPS = new Set(["C", "Cn", "Other", "Unassigned", "Script=Unknown", "Unknown", "Zzzz"]);

/**
 * Chars JavaScript assigns (current Unicode) but Oniguruma, with its older tables, sees as
 * unassigned: `\p{L}` must not match them, `[^\p{L}]` must. Measured from Python `tokenizers`.
 */
let gapClass: string | null = null;
function gap(): string {
  if (gapClass === null) gapClass = rangesClass(onigGap());
  return gapClass;
}

let onigGapTable: Uint32Array | null = null;
/**
 * Chars Oniguruma sees as unassigned that this JavaScript engine assigns, as a range table. Computed
 * once from the generated Oniguruma table, so a newer Node with newer Unicode is handled too.
 */
export function onigGap(): Uint32Array {
  if (onigGapTable) return onigGapTable;
  const cn = /^\p{Cn}$/u;
  const out: number[] = [];
  for (let k = 0; k < ONIG_UNASSIGNED.length; k += 2) {
    const a = ONIG_UNASSIGNED[k]!;
    const b = ONIG_UNASSIGNED[k + 1]!;
    // Planes 4-13 have no assignments in any Unicode version so far: skip the million-char scan.
    const lo = a;
    const hi = b >= 0x40000 && b < 0xe0000 ? Math.max(a, 0x3ffff) : b;
    for (let cp = lo; cp <= hi && !(cp >= 0x40000 && cp < 0xe0000); cp++) {
      if (!cn.test(String.fromCodePoint(cp))) {
        const last = out.length - 1;
        if (last >= 1 && out[last] === cp - 1) out[last] = cp;
        else out.push(cp, cp);
      }
    }
  }
  onigGapTable = Uint32Array.from(out);
  return onigGapTable;
}

/** A JS `u` character class for a flat [first, last, ...] range table ("" when empty). */
export function rangesClass(table: Uint32Array): string {
  let body = "";
  for (let k = 0; k < table.length; k += 2) {
    const a = table[k]!.toString(16);
    const b = table[k + 1]!.toString(16);
    body += a === b ? `\\u{${a}}` : `\\u{${a}}-\\u{${b}}`;
  }
  return body ? `[${body}]` : "";
}

/** `atom` restricted to chars Oniguruma also sees as assigned. */
function assignedOnly(atom: string): string {
  return gap() ? `(?:(?!${gap()})${atom})` : atom;
}

/** `atom` extended with the chars Oniguruma sees as unassigned (and JavaScript does not). */
function orUnassigned(atom: string): string {
  return gap() ? `(?:${atom}|${gap()})` : atom;
}

/** Number of capturing groups opened in JS regex source `src`. */
function countGroups(src: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(" && src[i + 1] !== "?") n++;
  }
  return n;
}

/** Index in `src` where the last atom starts (a char, an escape, a class or a group). */
function findAtomStart(src: string): number {
  const last = src.length - 1;
  const c = src[last];
  if (c === "]") {
    // Walk back to the matching unescaped '['.
    for (let j = last - 1; j >= 0; j--) if (src[j] === "[" && src[j - 1] !== "\\") return j;
  }
  if (c === ")") {
    let depth = 0;
    for (let j = last; j >= 0; j--) {
      if (src[j - 1] === "\\") continue;
      if (src[j] === ")") depth++;
      else if (src[j] === "(") {
        depth--;
        if (depth === 0) return j;
      }
    }
  }
  if (c === "}") {
    // \p{..} or \u{..}
    const j = src.lastIndexOf("\\", last);
    if (j >= 0) return j;
  }
  if (last >= 1 && src[last - 1] === "\\") return last - 1;
  // Surrogate pair literal.
  if (last >= 1 && /[\udc00-\udfff]/.test(c ?? "")) return last - 1;
  return last;
}

const cache = new Map<string, RegExp>();

/** A global, unicode JS RegExp for an Oniguruma pattern (cached by source). */
export function compileRegex(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const src = translateRegex(pattern);
    try {
      re = new RegExp(src, "gu");
    } catch (e) {
      throw new Error(`regex ${JSON.stringify(pattern)} could not be translated (JS source ${JSON.stringify(src)}): ${(e as Error).message}`);
    }
    cache.set(pattern, re);
  }
  // Each caller gets its own lastIndex state.
  return new RegExp(re.source, re.flags);
}

/** Escape a literal string for use in a JS `u` regex. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}
