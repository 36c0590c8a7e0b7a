// Post-processors: add special tokens around the encoded sequence(s) and set type ids.
//
// Mirrors HF tokenizers/src/processors/*: TemplateProcessing (single / pair templates with
// `$A`, `$B`, special tokens and type ids), BertProcessing ([CLS] A [SEP] B [SEP], type ids 0 / 1),
// RobertaProcessing (<s> A </s></s> B </s>, all type ids 0, optional offset trimming), ByteLevel
// (offset trimming only, no tokens added) and Sequence. `process` receives encodings whose type ids
// were set at encode time (0 for the first sequence, 1 for the pair) and returns one merged encoding.

import { Encoding, mergeEncodings, setSequenceId, setTypeIds, specialEncoding } from "./encoding.js";
import { BYTE_TO_CHAR } from "./pre_tokenizers.js";
import { isWhitespace } from "./normalized.js";
import {
  Json, JsonObject, asArray, asObject, checkKeys, getBool, getString, getType, join, TokenizerJsonError,
} from "./json.js";

export interface PostProcessor {
  /** How many tokens `process` adds with special tokens on. */
  addedTokens(isPair: boolean): number;
  processEncodings(encodings: Encoding[], addSpecialTokens: boolean): Encoding[];
  toJSON(): JsonObject;
}

export function postProcess(p: PostProcessor | null, a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding {
  const encs = b ? [a, b] : [a];
  encs.forEach((e, i) => setSequenceId(e, i));
  if (!p) return mergeEncodings(encs);
  return mergeEncodings(p.processEncodings(encs, addSpecialTokens));
}

const SPACE_CHAR = BYTE_TO_CHAR[0x20]!;

/** HF byte_level `process_offsets`: drop leading / trailing spaces (Ġ or whitespace) from offsets. */
export function trimByteLevelOffsets(e: Encoding, addPrefixSpace: boolean): void {
  for (const o of e.overflowing ?? []) trimByteLevelOffsets(o, addPrefixSpace);
  for (let i = 0; i < e.tokens.length; i++) {
    const cs = Array.from(e.tokens[i]!);
    const isSpace = (c: string) => c === SPACE_CHAR || isWhitespace(c);
    let lead = 0;
    while (lead < cs.length && isSpace(cs[lead]!)) lead++;
    let trail = 0;
    while (trail < cs.length && isSpace(cs[cs.length - 1 - trail]!)) trail++;
    if (lead === 0 && trail === 0) continue;
    const o = e.offsets[i]!;
    if (lead > 0) {
      const isFirst = i === 0 || o[0] === 0;
      if (isFirst && addPrefixSpace && lead === 1) lead = 0;
      o[0] = Math.min(o[0] + lead, o[1]);
    }
    if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
  }
}

export class ByteLevelProcessor implements PostProcessor {
  constructor(readonly addPrefixSpace: boolean, readonly trimOffsets: boolean, readonly useRegex: boolean) {}
  addedTokens(): number {
    return 0;
  }
  processEncodings(encodings: Encoding[]): Encoding[] {
    if (this.trimOffsets) for (const e of encodings) trimByteLevelOffsets(e, this.addPrefixSpace);
    return encodings;
  }
  toJSON(): JsonObject {
    return { type: "ByteLevel", add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

export class BertProcessing implements PostProcessor {
  constructor(readonly sep: [string, number], readonly cls: [string, number]) {}
  addedTokens(isPair: boolean): number {
    return isPair ? 3 : 2;
  }
  processEncodings(encodings: Encoding[], add: boolean): Encoding[] {
    if (!add) return encodings;
    const [a, b] = encodings;
    setTypeIds(a!, 0);
    const out = [specialEncoding([this.cls[1]], [this.cls[0]], 0), a!, specialEncoding([this.sep[1]], [this.sep[0]], 0)];
    if (b) {
      setTypeIds(b, 1);
      out.push(b, specialEncoding([this.sep[1]], [this.sep[0]], 1));
    }
    return out;
  }
  toJSON(): JsonObject {
    return { type: "BertProcessing", sep: [this.sep[0], this.sep[1]], cls: [this.cls[0], this.cls[1]] };
  }
}

export class RobertaProcessing implements PostProcessor {
  constructor(
    readonly sep: [string, number],
    readonly cls: [string, number],
    readonly trimOffsets: boolean,
    readonly addPrefixSpace: boolean,
  ) {}
  addedTokens(isPair: boolean): number {
    return isPair ? 4 : 2;
  }
  processEncodings(encodings: Encoding[], add: boolean): Encoding[] {
    if (this.trimOffsets) for (const e of encodings) trimByteLevelOffsets(e, this.addPrefixSpace);
    // RoBERTa gives every token type id 0 (overflowing windows included).
    for (const e of encodings) {
      setTypeIds(e, 0);
      for (const o of e.overflowing ?? []) setTypeIds(o, 0);
    }
    if (!add) return encodings;
    const [a, b] = encodings;
    const out = [specialEncoding([this.cls[1]], [this.cls[0]], 0), a!, specialEncoding([this.sep[1]], [this.sep[0]], 0)];
    if (b) out.push(specialEncoding([this.sep[1]], [this.sep[0]], 0), b, specialEncoding([this.sep[1]], [this.sep[0]], 0));
    return out;
  }
  toJSON(): JsonObject {
    return {
      type: "RobertaProcessing",
      sep: [this.sep[0], this.sep[1]],
      cls: [this.cls[0], this.cls[1]],
      trim_offsets: this.trimOffsets,
      add_prefix_space: this.addPrefixSpace,
    };
  }
}

export type Piece = { Sequence: { id: "A" | "B"; type_id: number } } | { SpecialToken: { id: string; type_id: number } };
export interface SpecialTokenSpec {
  id: string;
  ids: number[];
  tokens: string[];
}

export class TemplateProcessing implements PostProcessor {
  constructor(
    readonly single: Piece[],
    readonly pair: Piece[],
    readonly specialTokens: Map<string, SpecialTokenSpec>,
  ) {
    for (const [name, tpl] of [["single", single], ["pair", pair]] as const) {
      tpl.forEach((p, i) => {
        if ("SpecialToken" in p && !specialTokens.has(p.SpecialToken.id)) {
          throw new TokenizerJsonError(`post_processor.${name}[${i}]`, `special token "${p.SpecialToken.id}" is not in special_tokens`);
        }
      });
    }
  }
  addedTokens(isPair: boolean): number {
    const tpl = isPair ? this.pair : this.single;
    let n = 0;
    for (const p of tpl) if ("SpecialToken" in p) n += this.specialTokens.get(p.SpecialToken.id)!.ids.length;
    return n;
  }
  processEncodings(encodings: Encoding[], add: boolean): Encoding[] {
    const tpl = encodings.length > 1 ? this.pair : this.single;
    const out: Encoding[] = [];
    for (const p of tpl) {
      if ("Sequence" in p) {
        const i = p.Sequence.id === "A" ? 0 : 1;
        const e = encodings[i];
        if (!e) throw new Error(`TemplateProcessing: template uses $${p.Sequence.id} but no such sequence was given`);
        setTypeIds(e, p.Sequence.type_id);
        setSequenceId(e, i);
        out.push(e);
      } else if (add) {
        const st = this.specialTokens.get(p.SpecialToken.id)!;
        out.push(specialEncoding(st.ids, st.tokens, p.SpecialToken.type_id));
      }
    }
    return out;
  }
  toJSON(): JsonObject {
    const special: Record<string, Json> = {};
    for (const [k, v] of this.specialTokens) special[k] = { id: v.id, ids: v.ids, tokens: v.tokens };
    return { type: "TemplateProcessing", single: this.single as unknown as Json, pair: this.pair as unknown as Json, special_tokens: special };
  }
}

export class ProcessorSequence implements PostProcessor {
  constructor(readonly processors: PostProcessor[]) {}
  addedTokens(isPair: boolean): number {
    return this.processors.reduce((n, p) => n + p.addedTokens(isPair), 0);
  }
  processEncodings(encodings: Encoding[], add: boolean): Encoding[] {
    let e = encodings;
    for (const p of this.processors) e = p.processEncodings(e, add);
    return e;
  }
  toJSON(): JsonObject {
    return { type: "Sequence", processors: this.processors.map((p) => p.toJSON()) };
  }
}

function readTokenPair(v: unknown, path: string): [string, number] {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || typeof v[1] !== "number") {
    throw new TokenizerJsonError(path, `expected ["token", id], got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

/** Template pieces from JSON, or from the string form "[CLS] $A [SEP] $B:1 [SEP]:1". */
function readTemplate(v: unknown, path: string): Piece[] {
  if (typeof v === "string") v = v.split(" ").filter((s) => s.length > 0);
  return asArray(v, path).map((p, i): Piece => {
    const pp = join(path, i);
    if (typeof p === "string") {
      const m = /^(.*?)(?::(\d+))?$/.exec(p)!;
      const name = m[1]!;
      const typeId = m[2] ? Number(m[2]) : 0;
      if (name === "$A" || name === "$" || name === "$B") return { Sequence: { id: name === "$B" ? "B" : "A", type_id: typeId } };
      return { SpecialToken: { id: name, type_id: typeId } };
    }
    const o = asObject(p, pp);
    if (o["Sequence"] !== undefined) {
      const s = asObject(o["Sequence"], join(pp, "Sequence"));
      const id = getString(s, "id", join(pp, "Sequence"));
      if (id !== "A" && id !== "B") throw new TokenizerJsonError(join(join(pp, "Sequence"), "id"), `expected "A" or "B", got "${id}"`);
      return { Sequence: { id, type_id: Number(s["type_id"] ?? 0) } };
    }
    if (o["SpecialToken"] !== undefined) {
      const s = asObject(o["SpecialToken"], join(pp, "SpecialToken"));
      return { SpecialToken: { id: getString(s, "id", join(pp, "SpecialToken")), type_id: Number(s["type_id"] ?? 0) } };
    }
    throw new TokenizerJsonError(pp, `expected {"Sequence": ...} or {"SpecialToken": ...}`);
  });
}

export const POST_PROCESSOR_TYPES = ["TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel", "Sequence"] as const;

export function postProcessorFromJSON(v: unknown, path: string): PostProcessor {
  const o = asObject(v, path);
  const t = getType(o, path, "post-processor", POST_PROCESSOR_TYPES);
  switch (t) {
    case "ByteLevel":
      checkKeys(o, ["type", "add_prefix_space", "trim_offsets", "use_regex"], path);
      return new ByteLevelProcessor(getBool(o, "add_prefix_space", path, true), getBool(o, "trim_offsets", path, true), getBool(o, "use_regex", path, true));
    case "BertProcessing":
      checkKeys(o, ["type", "sep", "cls"], path);
      return new BertProcessing(readTokenPair(o["sep"], join(path, "sep")), readTokenPair(o["cls"], join(path, "cls")));
    case "RobertaProcessing":
      checkKeys(o, ["type", "sep", "cls", "trim_offsets", "add_prefix_space"], path);
      return new RobertaProcessing(
        readTokenPair(o["sep"], join(path, "sep")),
        readTokenPair(o["cls"], join(path, "cls")),
        getBool(o, "trim_offsets", path, true),
        getBool(o, "add_prefix_space", path, true),
      );
    case "TemplateProcessing": {
      checkKeys(o, ["type", "single", "pair", "special_tokens"], path);
      const sp = join(path, "special_tokens");
      const specials = new Map<string, SpecialTokenSpec>();
      const so = asObject(o["special_tokens"] ?? {}, sp);
      for (const k of Object.keys(so)) {
        const e = asObject(so[k], join(sp, k));
        const ids = asArray(e["ids"], join(join(sp, k), "ids")).map((x, i) => {
          if (typeof x !== "number") throw new TokenizerJsonError(join(join(join(sp, k), "ids"), i), "expected an id");
          return x;
        });
        const tokens = asArray(e["tokens"], join(join(sp, k), "tokens")).map(String);
        if (ids.length !== tokens.length) throw new TokenizerJsonError(join(sp, k), "ids and tokens have different lengths");
        specials.set(k, { id: getString(e, "id", join(sp, k), k), ids, tokens });
      }
      return new TemplateProcessing(readTemplate(o["single"], join(path, "single")), readTemplate(o["pair"], join(path, "pair")), specials);
    }
    case "Sequence": {
      checkKeys(o, ["type", "processors"], path);
      const p = join(path, "processors");
      return new ProcessorSequence(asArray(o["processors"], p).map((x, i) => postProcessorFromJSON(x, join(p, i))));
    }
  }
  throw new TokenizerJsonError(path, "unreachable");
}
