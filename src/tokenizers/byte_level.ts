// The GPT-2 byte-level mapping: every byte 0-255 is shown as a printable char (printable ASCII
// and Latin-1 map to themselves, the rest to U+0100 and up), so any UTF-8 text becomes a string
// of "byte chars" that BPE can work on. Mirrors HF tokenizers/src/pre_tokenizers/byte_level.rs
// (`bytes_char`, the split regex, and the transform used by the ByteLevel pre-tokenizer and
// normalizer).

import { NormalizedString, charAt } from "./normalized.js";

/** byte -> char used by GPT-2's byte-level BPE (printable bytes map to themselves). */
export const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
})();

export const CHAR_TO_BYTE: Map<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** GPT-2's split regex (HF byte_level.rs), translated from Oniguruma. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const encoder = new TextEncoder();

/** Replace each char by the chars of its UTF-8 bytes (first replaces, the rest are inserted). */
export function byteLevelTransform(n: NormalizedString): void {
  const s = n.normalized;
  // Fast path: ASCII maps one unit to one unit, so the alignment is unchanged.
  let ascii = true;
  let same = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    if (c < 0x21 || c > 0x7e) same = false;
  }
  if (ascii) {
    if (same) return;
    let out = "";
    for (let i = 0; i < s.length; i++) out += BYTE_TO_CHAR[s.charCodeAt(i)]!;
    n.setSameShape(out);
    return;
  }
  const dest: string[] = [];
  const changes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = charAt(s, i);
    i += ch.length;
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code < 0x80) {
      dest.push(BYTE_TO_CHAR[code]!);
      changes.push(0);
      continue;
    }
    const bytes = encoder.encode(ch);
    for (let k = 0; k < bytes.length; k++) {
      dest.push(BYTE_TO_CHAR[bytes[k]!]!);
      changes.push(k > 0 ? 1 : 0);
    }
  }
  n.transform(dest, changes, 0);
}

