// The normalizer + pre-tokenizer front ends the trainers use to cut training text into words, and
// the tokenizer.json components they stand for. Training only needs the split strings (no offsets),
// so these are small single-purpose versions of the Hugging Face components, written to produce the
// same words as HF's `train_from_files` does through the full normalizer / pre-tokenizer stack:
//
//   byteLevel: pre_tokenizer ByteLevel(add_prefix_space=false, use_regex=true) — GPT-2 regex split,
//              then each piece's UTF-8 bytes mapped to the 256 printable byte-level characters.
//   bert:      normalizer BertNormalizer(clean_text, handle_chinese_chars, lowercase, strip accents)
//              + pre_tokenizer BertPreTokenizer (split on whitespace, isolate punctuation).
//   metaspace: normalizer NFKC + pre_tokenizer Sequence[WhitespaceSplit, Metaspace("▁", always)]
//              — the SentencePiece-style front end used for Unigram.
//
// The trained tokenizer.json names the real components; the golden test checks that HF, running
// those components, splits the corpus into the same words (it trains to the same vocabulary).

import { isWhitespace } from "../normalized.js";
import { BERT_PUNCTUATION, CLEAN_TEXT_REMOVED, NONSPACING_MARK, inRanges } from "../unicode_tables.js";
import type { WordSplitter } from "./words.js";

// Unicode White_Space, which Rust's char::is_whitespace and Oniguruma's \s use. JavaScript's \s
// differs: it adds U+FEFF and lacks U+0085.
const WS = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

// GPT-2's pre-tokenization pattern, as HF's ByteLevel pre-tokenizer uses it, with \s spelled out.
const GPT2_SPLIT = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
  "gu",
);

/** GPT-2's byte -> printable character table (bytes_to_unicode). */
export function byteLevelAlphabet(): string[] {
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCodePoint(printable ? b : 256 + n++);
  }
  return table;
}

const BYTE_CHARS = byteLevelAlphabet();

/** Maps a string's UTF-8 bytes to byte-level characters. */
export function toByteLevel(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_CHARS[bytes[i]!];
  return out;
}

/**
 * A training front end: `split` cuts a line into raw words, `mapWord` turns each distinct raw word
 * into the trainer's word. Keeping the mapping separate lets counting run on the raw pieces and map
 * only the distinct ones (the byte-level mapping is injective, so counts are unchanged).
 */
export interface TrainingPipeline {
  split: WordSplitter;
  mapWord?: (word: string) => string;
  /** tokenizer.json fields this pipeline stands for. */
  normalizer: unknown;
  pre_tokenizer: unknown;
}

export function byteLevelPipeline(): TrainingPipeline {
  return {
    split: (line) => line.match(GPT2_SPLIT) ?? [],
    mapWord: toByteLevel,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  };
}

// BERT's character classes come from HF's own (older) Unicode tables, shared with the core's
// BertNormalizer / BertPreTokenizer: JavaScript's \p{...} classes follow a newer Unicode and differ
// on a few hundred code points (e.g. newly assigned marks and punctuation).
const BERT_WS_RUN = new RegExp(`[${WS}]+`, "u");
const isPunct = (cp: number): boolean => inRanges(BERT_PUNCTUATION, cp);

function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BertNormalizer with its defaults (clean_text, handle_chinese_chars, lowercase, strip accents). */
// ASCII lines (most of an English corpus) take a shortcut with the same result: for ASCII,
// clean_text removes U+0000-0008, 000B, 000C, 000E-001F and 007F, turns \t \n \r into spaces,
// there are no Chinese characters or accents, and lowercasing is the ASCII one.
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_REMOVED = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const ASCII_SPACE = /[\t\n\r]/g;

export function bertNormalize(text: string): string {
  if (!NON_ASCII.test(text)) return text.replace(ASCII_REMOVED, "").replace(ASCII_SPACE, " ").toLowerCase();
  let out = "";
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    // clean_text: drop NUL, U+FFFD and control/format/unassigned/private characters (but not
    // \t \n \r), then turn every whitespace character into a plain space.
    if (inRanges(CLEAN_TEXT_REMOVED, cp) && c !== "\t" && c !== "\n" && c !== "\r") continue;
    if (c === "\t" || c === "\n" || c === "\r" || isWhitespace(c)) out += " ";
    else if (isChineseChar(cp)) out += ` ${c} `;
    else out += c;
  }
  // strip_accents (defaults to lowercase): NFD, then drop non-spacing marks.
  let stripped = "";
  for (const c of out.normalize("NFD")) if (!inRanges(NONSPACING_MARK, c.codePointAt(0)!)) stripped += c;
  // Lowercase one code point at a time, as Rust's char::to_lowercase does (JavaScript's
  // String.prototype.toLowerCase would turn a final capital sigma into "ς").
  let lower = "";
  for (const c of stripped) lower += c.toLowerCase();
  return lower;
}

/** BertPreTokenizer: split on whitespace (dropped), then every punctuation character alone. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(BERT_WS_RUN)) {
    if (chunk.length === 0) continue;
    let start = 0;
    let i = 0;
    for (const c of chunk) {
      if (isPunct(c.codePointAt(0)!)) {
        if (i > start) words.push(chunk.slice(start, i));
        words.push(c);
        start = i + c.length;
      }
      i += c.length;
    }
    if (chunk.length > start) words.push(chunk.slice(start));
  }
  return words;
}

export function bertPipeline(): TrainingPipeline {
  return {
    split: (line) => bertPreTokenize(bertNormalize(line)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
  };
}

export const METASPACE = "\u2581";

export function metaspacePipeline(): TrainingPipeline {
  return {
    // NFKC, split on whitespace, each word prefixed with "▁" (Metaspace with prepend "always"
    // prefixes each split that does not already start with it; spaces are gone after the split).
    split: (line) => {
      const words = line.normalize("NFKC").split(BERT_WS_RUN);
      const out: string[] = [];
      for (const w of words) {
        if (w.length === 0) continue;
        // Metaspace(split=true) then cuts before every "▁" (MergedWithNext), so each piece starts
        // with one: "▁a▁▁b" -> "▁a", "▁", "▁b".
        const s = w.startsWith(METASPACE) ? w : METASPACE + w;
        const pieces = s.split(METASPACE);
        for (let k = 1; k < pieces.length; k++) out.push(METASPACE + pieces[k]!);
      }
      return out;
    },
    normalizer: { type: "NFKC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "WhitespaceSplit" },
        { type: "Metaspace", replacement: METASPACE, prepend_scheme: "always", split: true },
      ],
    },
  };
}
