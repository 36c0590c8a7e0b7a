// Decoders: turn a list of token strings back into text. Each decoder maps the token list to a new
// list (`decodeChain`); the final text is the concatenation.
//
// Mirrors HF tokenizers/src/decoders/* and the Decoder impls of ByteLevel, Metaspace and Replace:
// ByteLevel (GPT-2 chars -> bytes -> UTF-8, invalid sequences become U+FFFD as Rust's
// `from_utf8_lossy`), WordPiece (prefix, cleanup), Metaspace, BPEDecoder (suffix), ByteFallback
// (`<0xXX>` runs -> UTF-8, or one U+FFFD per byte when invalid), Fuse, Strip, Replace, CTC, Sequence.

import { CHAR_TO_BYTE, PrependScheme, readPrependScheme } from "./pre_tokenizers.js";
import { PatternJson, patternMatches, readPattern } from "./normalizers.js";
import { compileRegex } from "./regex.js";
import {
  JsonObject, asArray, asObject, checkKeys, getBool, getInt, getString, getType, join, TokenizerJsonError, Json,
} from "./json.js";

export interface Decoder {
  decodeChain(tokens: string[]): string[];
  toJSON(): JsonObject;
}

export function decodeWith(d: Decoder, tokens: string[]): string {
  return d.decodeChain(tokens).join("");
}

// ignoreBOM: keep a leading U+FEFF as text (the default would swallow it; Rust does not).
const lossy = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

export class ByteLevelDecoder implements Decoder {
  constructor(readonly addPrefixSpace = true, readonly trimOffsets = true, readonly useRegex = true) {}
  decodeChain(tokens: string[]): string[] {
    const bytes: number[] = [];
    for (const t of tokens) {
      // A token with a char outside the byte table is taken as its own UTF-8 (HF does the same:
      // added tokens that were not byte-level encoded).
      let ok = true;
      const start = bytes.length;
      for (const c of t) {
        const b = CHAR_TO_BYTE.get(c);
        if (b === undefined) {
          ok = false;
          break;
        }
        bytes.push(b);
      }
      if (!ok) {
        bytes.length = start;
        for (const b of utf8.encode(t)) bytes.push(b);
      }
    }
    return [lossy.decode(Uint8Array.from(bytes))];
  }
  toJSON(): JsonObject {
    return { type: "ByteLevel", add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

export function wordPieceCleanup(s: string): string {
  return s
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" do not", " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

class WordPieceDecoder implements Decoder {
  constructor(readonly prefix: string, readonly cleanup: boolean) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => {
      let tok = t;
      if (i !== 0) tok = tok.startsWith(this.prefix) ? tok.slice(this.prefix.length) : " " + tok;
      return this.cleanup ? wordPieceCleanup(tok) : tok;
    });
  }
  toJSON(): JsonObject {
    return { type: "WordPiece", prefix: this.prefix, cleanup: this.cleanup };
  }
}

class MetaspaceDecoder implements Decoder {
  constructor(readonly replacement: string, readonly prependScheme: PrependScheme, readonly split: boolean) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => {
      let out = "";
      for (const c of t) {
        if (c === this.replacement) {
          if (!(i === 0 && this.prependScheme !== "never")) out += " ";
        } else out += c;
      }
      return out;
    });
  }
  toJSON(): JsonObject {
    return { type: "Metaspace", replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.split };
  }
}

class BPEDecoder implements Decoder {
  constructor(readonly suffix: string) {}
  decodeChain(tokens: string[]): string[] {
    const n = tokens.length - 1;
    return tokens.map((t, i) => (this.suffix === "" ? t : t.replaceAll(this.suffix, i === n ? "" : " ")));
  }
  toJSON(): JsonObject {
    return { type: "BPEDecoder", suffix: this.suffix };
  }
}

class ByteFallback implements Decoder {
  decodeChain(tokens: string[]): string[] {
    const out: string[] = [];
    let pending: number[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      try {
        out.push(strict.decode(Uint8Array.from(pending)));
      } catch {
        for (let k = 0; k < pending.length; k++) out.push("\ufffd");
      }
      pending = [];
    };
    for (const t of tokens) {
      const m = t.length === 6 && t.startsWith("<0x") && t.endsWith(">") ? /^[0-9a-fA-F]{2}$/.exec(t.slice(3, 5)) : null;
      if (m) pending.push(parseInt(t.slice(3, 5), 16));
      else {
        flush();
        out.push(t);
      }
    }
    flush();
    return out;
  }
  toJSON(): JsonObject {
    return { type: "ByteFallback" };
  }
}

class Fuse implements Decoder {
  decodeChain(tokens: string[]): string[] {
    return [tokens.join("")];
  }
  toJSON(): JsonObject {
    return { type: "Fuse" };
  }
}

class Strip implements Decoder {
  constructor(readonly content: string, readonly start: number, readonly stop: number) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => {
      const cs = Array.from(t);
      let startCut = 0;
      for (let i = 0; i < Math.min(this.start, cs.length); i++) {
        if (cs[i] === this.content) startCut = i + 1;
        else break;
      }
      let stopCut = cs.length;
      for (let i = 0; i < this.stop; i++) {
        const idx = cs.length - i - 1;
        if (idx < 0) break;
        if (cs[idx] === this.content) stopCut = idx;
        else break;
      }
      return cs.slice(startCut, Math.max(startCut, stopCut)).join("");
    });
  }
  toJSON(): JsonObject {
    return { type: "Strip", content: this.content, start: this.start, stop: this.stop };
  }
}

class ReplaceDecoder implements Decoder {
  private readonly re: RegExp | null;
  constructor(readonly pattern: PatternJson, readonly content: string) {
    this.re = "Regex" in pattern ? compileRegex(pattern.Regex) : null;
  }
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => {
      let out = "";
      for (const [s, e, m] of patternMatches(this.pattern, this.re, t)) out += m ? this.content : t.slice(s, e);
      return out;
    });
  }
  toJSON(): JsonObject {
    return { type: "Replace", pattern: this.pattern as unknown as Json, content: this.content };
  }
}

/** HF `CTC`: collapse repeats, drop the pad token, optionally clean up and map the delimiter. */
class CTC implements Decoder {
  constructor(readonly padToken: string, readonly wordDelimiterToken: string, readonly cleanup: boolean) {}
  decodeChain(tokens: string[]): string[] {
    const out: string[] = [];
    let prev: string | undefined;
    for (const t of tokens) {
      if (t === prev) continue;
      prev = t;
      let r = t.replaceAll(this.padToken, "");
      if (this.cleanup) r = wordPieceCleanup(r).replaceAll(this.wordDelimiterToken, " ");
      if (r.length > 0) out.push(r);
    }
    return out;
  }
  toJSON(): JsonObject {
    return { type: "CTC", pad_token: this.padToken, word_delimiter_token: this.wordDelimiterToken, cleanup: this.cleanup };
  }
}

class Sequence implements Decoder {
  constructor(readonly decoders: Decoder[]) {}
  decodeChain(tokens: string[]): string[] {
    let t = tokens;
    for (const d of this.decoders) t = d.decodeChain(t);
    return t;
  }
  toJSON(): JsonObject {
    return { type: "Sequence", decoders: this.decoders.map((d) => d.toJSON()) };
  }
}

export const DECODER_TYPES = [
  "ByteLevel", "WordPiece", "Metaspace", "BPEDecoder", "ByteFallback", "Fuse", "Strip", "Replace", "CTC", "Sequence",
] as const;

export function decoderFromJSON(v: unknown, path: string): Decoder {
  const o = asObject(v, path);
  const t = getType(o, path, "decoder", DECODER_TYPES);
  switch (t) {
    case "ByteLevel":
      checkKeys(o, ["type", "add_prefix_space", "trim_offsets", "use_regex"], path);
      return new ByteLevelDecoder(getBool(o, "add_prefix_space", path, true), getBool(o, "trim_offsets", path, true), getBool(o, "use_regex", path, true));
    case "WordPiece":
      checkKeys(o, ["type", "prefix", "cleanup"], path);
      return new WordPieceDecoder(getString(o, "prefix", path, "##"), getBool(o, "cleanup", path, true));
    case "Metaspace": {
      checkKeys(o, ["type", "replacement", "add_prefix_space", "prepend_scheme", "split", "str_rep"], path);
      const rep = getString(o, "replacement", path, "\u2581");
      if ([...rep].length !== 1) throw new TokenizerJsonError(join(path, "replacement"), "expected a single character");
      return new MetaspaceDecoder(rep, readPrependScheme(o, path), getBool(o, "split", path, true));
    }
    case "BPEDecoder":
      checkKeys(o, ["type", "suffix"], path);
      return new BPEDecoder(getString(o, "suffix", path, "</w>"));
    case "ByteFallback":
      checkKeys(o, ["type"], path);
      return new ByteFallback();
    case "Fuse":
      checkKeys(o, ["type"], path);
      return new Fuse();
    case "Strip": {
      checkKeys(o, ["type", "content", "start", "stop"], path);
      const content = getString(o, "content", path);
      if ([...content].length !== 1) throw new TokenizerJsonError(join(path, "content"), "expected a single character");
      return new Strip(content, getInt(o, "start", path), getInt(o, "stop", path));
    }
    case "Replace":
      checkKeys(o, ["type", "pattern", "content"], path);
      return new ReplaceDecoder(readPattern(o["pattern"], join(path, "pattern")), getString(o, "content", path));
    case "CTC":
      checkKeys(o, ["type", "pad_token", "word_delimiter_token", "cleanup"], path);
      return new CTC(getString(o, "pad_token", path, "<pad>"), getString(o, "word_delimiter_token", path, "|"), getBool(o, "cleanup", path, true));
    case "Sequence": {
      checkKeys(o, ["type", "decoders"], path);
      const p = join(path, "decoders");
      return new Sequence(asArray(o["decoders"], p).map((x, i) => decoderFromJSON(x, join(p, i))));
    }
  }
  throw new TokenizerJsonError(path, "unreachable");
}

export { WordPieceDecoder, MetaspaceDecoder, BPEDecoder, ByteFallback, Fuse, Strip as StripDecoder, ReplaceDecoder, CTC, Sequence as DecoderSequence };
