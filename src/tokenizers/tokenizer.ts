// Tokenizer: the full Hugging Face pipeline, text <-> ids.
//
//   text -> added tokens split out -> normalizer -> pre-tokenizer -> model -> post-processor -> ids
//   ids -> tokens -> decoder -> text
//
// Mirrors HF tokenizers/src/tokenizer/mod.rs (`TokenizerImpl::encode_char_offsets`, `decode`,
// `DecodeStream`) and serialization.rs (tokenizer.json). Output is id-identical to Python
// `tokenizers` 0.23; offsets are code-point indices into the input string, exactly as Python returns
// them (see `codePointToCodeUnitOffsets` to slice JS strings).
//
// Lone surrogates: a Python `str` holding one cannot be passed to `tokenizers` at all (PyO3 refuses
// to convert it to UTF-8). tslm accepts such strings and treats every lone surrogate as U+FFFD, the
// character TextEncoder writes for it; the replacement keeps string length, so offsets still index
// the caller's string.

import { readFileSync, writeFileSync, existsSync, renameSync } from "node:fs";
import { join as joinPath } from "node:path";
import { OffsetConverter, Offsets } from "./normalized.js";
import { AddedVocabulary, AddedToken, addedToken } from "./added_vocabulary.js";
import { Normalizer, normalizerFromJSON } from "./normalizers.js";
import { PreTokenizer, preTokenizerFromJSON } from "./pre_tokenizers.js";
import { Model, modelFromJSON } from "./models/index.js";
import { PostProcessor, postProcess, postProcessorFromJSON } from "./post_processors.js";
import { Decoder, decodeWith, decoderFromJSON } from "./decoders.js";
import { FastBert, FastByteLevelBPE, TokenColumns } from "./fast_paths.js";
import {
  Encoding, PadOptions, Side, TruncationOptions, TruncationStrategy, concatEncodings, emptyEncoding, padEncoding, truncatePair,
} from "./encoding.js";
import {
  Json, JsonObject, asArray, asObject, checkKeys, getBool, getInt, getString, join, TokenizerJsonError,
} from "./json.js";

/**
 * Text to encode: a string, or an array of words already split (HF `is_pretokenized=True`: each
 * word goes through the pipeline on its own, word ids are the array indices, and offsets are
 * relative to each word, as in Python).
 */
export type Input = string | readonly string[];

export interface EncodeOptions {
  /** Add the post-processor's special tokens (HF `add_special_tokens`, default true). */
  addSpecialTokens?: boolean;
  /** Second sequence of a pair. */
  pair?: Input;
}

export interface BatchEncodeOptions {
  addSpecialTokens?: boolean;
  /**
   * Pad to the longest in the batch, to `maxLength`, or not at all. Default: the tokenizer.json
   * `padding` setting if it has one, else no padding.
   */
  padding?: "longest" | "max_length" | false;
  paddingSide?: Side;
  maxLength?: number;
  /** Truncate to `maxLength` (true = longest_first); false turns off the tokenizer.json setting. */
  truncation?: boolean | TruncationStrategy;
  truncationSide?: Side;
  /** Overlap between the overflowing windows truncation produces (HF `stride`). */
  stride?: number;
  padToMultipleOf?: number;
  /** Second sequences, one per text. */
  pairs?: Input[];
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** What tokenizer_config.json adds (special tokens, chat template, length, padding side). */
export interface TokenizerConfig {
  bosToken?: string | null;
  eosToken?: string | null;
  unkToken?: string | null;
  padToken?: string | null;
  sepToken?: string | null;
  clsToken?: string | null;
  maskToken?: string | null;
  chatTemplate?: string | null;
  modelMaxLength?: number | null;
  paddingSide?: Side;
  /** tokenizer_config.json as read, for fields tslm does not interpret. */
  raw?: JsonObject;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export class Tokenizer {
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  model: Model;
  postProcessor: PostProcessor | null;
  decoder: Decoder | null;
  readonly addedVocabulary: AddedVocabulary;
  /** Oddities found while loading that HF accepts with a log warning (e.g. added-token id mismatches). */
  loadWarnings: string[] = [];
  /** From tokenizer_config.json when loaded from a directory. */
  config: TokenizerConfig = {};
  /** tokenizer.json `truncation`: applied by `encode` and `encodeBatch` (as HF does) unless overridden. */
  truncation: TruncationSettings | null = null;
  /** tokenizer.json `padding`: applied by `encode` and `encodeBatch` (as HF does) unless overridden. */
  padding: PaddingSettings | null = null;

  constructor(parts: {
    model: Model;
    normalizer?: Normalizer | null;
    preTokenizer?: PreTokenizer | null;
    postProcessor?: PostProcessor | null;
    decoder?: Decoder | null;
    addedTokens?: Array<{ id: number; token: AddedToken }>;
  }) {
    this.model = parts.model;
    this.normalizer = parts.normalizer ?? null;
    this.preTokenizer = parts.preTokenizer ?? null;
    this.postProcessor = parts.postProcessor ?? null;
    this.decoder = parts.decoder ?? null;
    this.addedVocabulary = new AddedVocabulary();
    this.addedVocabulary.add(parts.addedTokens ?? [], this.normalizer);
  }

  // ---------------------------------------------------------------- loading and saving

  /** Build from a parsed tokenizer.json; errors name the JSON path of the bad value. */
  static fromJSON(obj: unknown): Tokenizer {
    const o = asObject(obj, "");
    checkKeys(o, ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "model", "post_processor", "decoder"], "");
    const model = modelFromJSON(o["model"], "model");
    const normalizer = o["normalizer"] == null ? null : normalizerFromJSON(o["normalizer"], "normalizer");
    const preTokenizer = o["pre_tokenizer"] == null ? null : preTokenizerFromJSON(o["pre_tokenizer"], "pre_tokenizer");
    const postProcessor = o["post_processor"] == null ? null : postProcessorFromJSON(o["post_processor"], "post_processor");
    const decoder = o["decoder"] == null ? null : decoderFromJSON(o["decoder"], "decoder");
    const declared = asArray(o["added_tokens"] ?? [], "added_tokens").map((v, i) => {
      const p = join("added_tokens", i);
      const t = asObject(v, p);
      checkKeys(t, ["id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"], p);
      const id = t["id"];
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new TokenizerJsonError(join(p, "id"), `expected a non-negative integer, got ${JSON.stringify(id)}`);
      const special = getBool(t, "special", p, false);
      return {
        id,
        token: addedToken(getString(t, "content", p), special, {
          singleWord: getBool(t, "single_word", p, false),
          lstrip: getBool(t, "lstrip", p, false),
          rstrip: getBool(t, "rstrip", p, false),
          normalized: getBool(t, "normalized", p, !special),
        }),
      };
    });
    // Ids as HF assigns them on load (serialization.rs + AddedVocabulary::add_tokens): a content the
    // model knows keeps the model's id, a new content takes the next free id after the model's
    // vocabulary; the id written in the file is only compared (HF logs a warning on a mismatch).
    const warnings: string[] = [];
    const assigned = new Map<string, number>();
    let nextId = model.getVocabSize();
    const added: Array<{ id: number; token: AddedToken }> = [];
    for (const d of declared) {
      if (d.token.content.length === 0) continue;
      let id = assigned.get(d.token.content) ?? model.tokenToId(d.token.content);
      if (id === undefined) id = nextId++;
      if (id !== d.id) warnings.push(`added token ${JSON.stringify(d.token.content)} is declared with id ${d.id} but gets id ${id} (as in HF)`);
      assigned.set(d.token.content, id);
      added.push({ id, token: d.token });
    }
    const tok = new Tokenizer({ model, normalizer, preTokenizer, postProcessor, decoder, addedTokens: added });
    tok.loadWarnings = warnings;
    tok.truncation = o["truncation"] == null ? null : readTruncation(o["truncation"], "truncation");
    tok.padding = o["padding"] == null ? null : readPadding(o["padding"], "padding");
    return tok;
  }

  /** Load a tokenizer.json file. */
  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new Error(`cannot read tokenizer file ${path}: ${(e as Error).message}`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
    }
    try {
      return Tokenizer.fromJSON(obj);
    } catch (e) {
      if (e instanceof TokenizerJsonError) e.message = `${path}: ${e.message}`;
      throw e;
    }
  }

  /** tokenizer.json content that Python `tokenizers` can load. */
  toJSON(): JsonObject {
    return {
      version: "1.0",
      truncation: this.truncation ? truncationToJSON(this.truncation) : null,
      padding: this.padding ? paddingToJSON(this.padding) : null,
      added_tokens: this.addedVocabulary.toJSON() as unknown as Json,
      normalizer: this.normalizer ? this.normalizer.toJSON() : null,
      pre_tokenizer: this.preTokenizer ? this.preTokenizer.toJSON() : null,
      model: this.model.toJSON() as unknown as Json,
      post_processor: this.postProcessor ? this.postProcessor.toJSON() : null,
      decoder: this.decoder ? this.decoder.toJSON() : null,
    };
  }

  /** Write tokenizer.json atomically (temp file + rename). */
  save(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.toJSON(), null, 2));
    renameSync(tmp, path);
  }

  // ---------------------------------------------------------------- vocabulary

  tokenToId(token: string): number | undefined {
    return this.addedVocabulary.byContent.get(token) ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedVocabulary.byId.get(id)?.content ?? this.model.idToToken(id);
  }

  /** Model vocabulary plus added tokens not in it (HF `get_vocab_size(with_added_tokens=True)`). */
  get vocabSize(): number {
    let n = this.model.getVocabSize();
    for (const t of this.addedVocabulary.byContent.keys()) if (this.model.tokenToId(t) === undefined) n++;
    return n;
  }

  // ---------------------------------------------------------------- encoding

  /**
   * Use the byte-level BPE fast path when the pipeline allows (same output; tests switch it off to
   * check the general path against the same fixtures).
   */
  useFastPath = true;

  /** The fast path for the current pre-tokenizer and model (or null). */
  private fastPath(): FastByteLevelBPE | FastBert | null {
    if (!this.useFastPath) return null;
    if (this.fastFor?.pre !== this.preTokenizer || this.fastFor?.model !== this.model) {
      const fast = FastByteLevelBPE.detect(this.preTokenizer, this.model) ?? FastBert.detect(this.preTokenizer, this.model);
      this.fastFor = { pre: this.preTokenizer, model: this.model, fast };
    }
    return this.fastFor.fast;
  }
  private fastFor: { pre: PreTokenizer | null; model: Model; fast: FastByteLevelBPE | FastBert | null } | null = null;

  /**
   * Encode one sequence without post-processing; typeId as HF: 0 first, 1 pair. With truncation on,
   * HF stops tokenizing once `max` tokens exist (from the end for left truncation): the words past
   * that point are never tokenized, which bounds the overflowing windows. We do the same.
   */
  private encodeSequence(text: string, typeId: number, limit: { max: number; direction: Side } | null = null): Encoding {
    const clean = text.replace(LONE_SURROGATE, "\ufffd");
    const pre = this.addedVocabulary.extractAndNormalize(this.normalizer, clean);
    const cols: TokenColumns = { ids: [], tokens: [], starts: [], ends: [], wordIds: [] };
    const fast = this.fastPath();
    const max = limit ? limit.max : Infinity;
    if (fast && (!limit || limit.direction === "right") && pre.splits.every((sp) => sp.tokens !== null || sp.normalized.isIdentity())) {
      // Same result as the general path below, without per-word NormalizedStrings.
      let wordId = 0;
      for (const sp of pre.splits) {
        const n = sp.normalized;
        if (sp.tokens) {
          for (const t of sp.tokens) {
            const r = n.normalizedToOriginal(t.offsets[0], t.offsets[1]);
            const o: Offsets = r ? [n.originalShift + r[0], n.originalShift + r[1]] : t.offsets;
            cols.ids.push(t.id);
            cols.tokens.push(t.value);
            cols.starts.push(o[0]);
            cols.ends.push(o[1]);
            cols.wordIds.push(wordId);
          }
          wordId++;
        } else {
          wordId = fast.encode(n.normalized, n.originalShift, wordId, cols, max);
          if (cols.ids.length >= max) break;
        }
      }
    } else {
      if (this.preTokenizer) this.preTokenizer.preTokenize(pre);
      if (limit) pre.tokenizeWithLimit((w) => this.model.tokenize(w), limit.max, limit.direction);
      else pre.tokenize((w) => this.model.tokenize(w));
      for (const t of pre.placedTokens()) {
        cols.ids.push(t.id);
        cols.tokens.push(t.value);
        cols.starts.push(t.offsets[0]);
        cols.ends.push(t.offsets[1]);
        cols.wordIds.push(t.wordId);
      }
    }
    const n = cols.ids.length;
    const conv = new OffsetConverter(clean);
    const offsets = new Array<Offsets>(n);
    for (let i = 0; i < n; i++) offsets[i] = conv.convert([cols.starts[i]!, cols.ends[i]!]);
    return {
      ids: cols.ids,
      tokens: cols.tokens,
      offsets,
      attentionMask: new Array<number>(n).fill(1),
      typeIds: new Array<number>(n).fill(typeId),
      specialTokensMask: new Array<number>(n).fill(0),
      wordIds: cols.wordIds,
      sequenceIds: new Array<number | null>(n).fill(null),
    };
  }

  /** Encode one input (string or pre-split words) without post-processing. */
  private encodeInput(input: Input, typeId: number, what: string, trunc: TruncationOptions | null = null): Encoding {
    // HF's early stop applies with truncation on, except to the first sequence under only_second.
    const limit = trunc && !(trunc.strategy === "only_second" && typeId === 0) ? { max: trunc.maxLength, direction: trunc.direction ?? "right" } : null;
    if (typeof input === "string") return this.encodeSequence(input, typeId, limit);
    if (!Array.isArray(input)) throw new TypeError(`Tokenizer.${what}: expected a string or an array of strings, got ${typeof input}`);
    const parts = input.map((w, i) => {
      if (typeof w !== "string") throw new TypeError(`Tokenizer.${what}: word ${i} is ${typeof w}, not a string`);
      const e = this.encodeSequence(w, typeId, limit);
      e.wordIds.fill(i);
      return e;
    });
    return parts.length === 0 ? emptyEncoding() : concatEncodings(parts);
  }

  encode(text: Input, opts: EncodeOptions = {}): Encoding {
    const add = opts.addSpecialTokens ?? true;
    let a = this.encodeInput(text, 0, "encode", this.truncation);
    let b = opts.pair === undefined ? null : this.encodeInput(opts.pair, 1, "encode (pair)", this.truncation);
    // The tokenizer.json settings apply, as in HF's `post_process`: truncate, process, pad.
    if (this.truncation) [a, b] = this.truncate(a, b, this.truncation, add);
    const e = postProcess(this.postProcessor, a, b, add);
    if (!this.padding) return e;
    const p = this.padding;
    let len = p.strategy === "batch_longest" ? e.ids.length : p.strategy.fixed;
    if (p.padToMultipleOf && len % p.padToMultipleOf > 0) len += p.padToMultipleOf - (len % p.padToMultipleOf);
    return padEncoding(e, { length: len, side: p.direction, padId: p.padId, padTypeId: p.padTypeId, padToken: p.padToken });
  }

  /** Truncate before post-processing, leaving room for the special tokens it adds (HF). */
  private truncate(a: Encoding, b: Encoding | null, t: TruncationOptions, add: boolean): [Encoding, Encoding | null] {
    const added = add ? this.numSpecialTokensToAdd(b !== null) : 0;
    if (added > 0 && t.maxLength < added) {
      throw new Error(`truncation: maxLength ${t.maxLength} is smaller than the ${added} special tokens the post-processor adds`);
    }
    return truncatePair(a, b, { ...t, maxLength: t.maxLength - added });
  }

  /** Number of special tokens the post-processor adds. */
  numSpecialTokensToAdd(isPair: boolean): number {
    return this.postProcessor ? this.postProcessor.addedTokens(isPair) : 0;
  }

  encodeBatch(texts: Input[], opts: BatchEncodeOptions = {}): Encoding[] {
    const add = opts.addSpecialTokens ?? true;
    // Explicit options win; otherwise the tokenizer.json settings apply (as HF's encode_batch).
    const padding = opts.padding ?? (this.padding ? "json" : false);
    if (opts.pairs && opts.pairs.length !== texts.length) {
      throw new Error(`encodeBatch: ${texts.length} texts but ${opts.pairs.length} pairs`);
    }
    if (padding === "max_length" && opts.maxLength === undefined) throw new Error("encodeBatch: padding 'max_length' needs maxLength");
    if (opts.truncation && opts.maxLength === undefined) throw new Error("encodeBatch: truncation needs maxLength");
    if (opts.padToMultipleOf !== undefined && !(opts.padToMultipleOf > 0)) throw new Error("encodeBatch: padToMultipleOf must be positive");
    let trunc: TruncationOptions | null = this.truncation;
    if (opts.truncation === false) trunc = null;
    else if (opts.truncation !== undefined) {
      trunc = {
        maxLength: opts.maxLength!,
        strategy: opts.truncation === true ? "longest_first" : opts.truncation,
        direction: opts.truncationSide ?? "right",
        stride: opts.stride ?? 0,
      };
    }
    const out = texts.map((t, i) => {
      let a = this.encodeInput(t, 0, "encodeBatch", trunc);
      let b = opts.pairs ? this.encodeInput(opts.pairs[i]!, 1, "encodeBatch (pair)", trunc) : null;
      if (trunc) [a, b] = this.truncate(a, b, trunc, add);
      return postProcess(this.postProcessor, a, b, add);
    });
    if (padding === "json") {
      const p = this.padding!;
      let len = p.strategy === "batch_longest" ? out.reduce((m, e) => Math.max(m, e.ids.length), 0) : p.strategy.fixed;
      if (p.padToMultipleOf && len % p.padToMultipleOf > 0) len += p.padToMultipleOf - (len % p.padToMultipleOf);
      return out.map((e) => padEncoding(e, { length: len, side: p.direction, padId: p.padId, padTypeId: p.padTypeId, padToken: p.padToken }));
    }
    if (padding) {
      let len = padding === "longest" ? out.reduce((m, e) => Math.max(m, e.ids.length), 0) : opts.maxLength!;
      if (opts.padToMultipleOf) len = Math.ceil(len / opts.padToMultipleOf) * opts.padToMultipleOf;
      const pad = this.padSpec(len, opts.paddingSide ?? this.padding?.direction ?? this.config.paddingSide ?? "right");
      return out.map((e) => padEncoding(e, pad));
    }
    return out;
  }

  private padSpec(length: number, side: Side): PadOptions {
    if (this.padding) {
      const p = this.padding;
      return { length, side, padId: p.padId, padTypeId: p.padTypeId, padToken: p.padToken };
    }
    const candidates = [this.config.padToken, "[PAD]", "<pad>", "<|endoftext|>", "<|finetune_right_pad_id|>"];
    for (const c of candidates) {
      if (!c) continue;
      const id = this.tokenToId(c);
      if (id !== undefined) return { length, side, padId: id, padTypeId: 0, padToken: c };
    }
    throw new Error("padding: this tokenizer has no pad token (set tokenizer.config.padToken to one of its tokens)");
  }

  // ---------------------------------------------------------------- decoding

  /** Token strings for ids, as HF decode sees them (added tokens in their decode form). */
  private tokensForDecode(ids: ArrayLike<number>, skipSpecial: boolean): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const t = this.addedVocabulary.decodeForm(id) ?? this.model.idToToken(id);
      if (t === undefined) throw new RangeError(`decode: id ${id} (position ${i}) is not in the vocabulary`);
      if (skipSpecial && this.addedVocabulary.isSpecial(t)) continue;
      out.push(t);
    }
    return out;
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const tokens = this.tokensForDecode(ids, opts.skipSpecialTokens ?? false);
    return this.decoder ? decodeWith(this.decoder, tokens) : tokens.join(" ");
  }

  decodeBatch(batch: Array<ArrayLike<number>>, opts: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, opts));
  }

  /** An incremental decoder for streaming generation. */
  decodeStream(opts: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder(this, opts);
  }

  // ---------------------------------------------------------------- directories

  /**
   * Load a Hugging Face tokenizer directory: tokenizer.json, else vocab.json + merges.txt (GPT-2
   * style), else encoder.json + vocab.bpe (OpenAI's GPT-2 files), else vocab.txt (BERT WordPiece);
   * plus tokenizer_config.json when present.
   */
  static fromDirectory(dir: string): Tokenizer {
    const p = (f: string) => joinPath(dir, f);
    const config = existsSync(p("tokenizer_config.json")) ? readConfig(p("tokenizer_config.json")) : {};
    let tok: Tokenizer;
    if (existsSync(p("tokenizer.json"))) tok = Tokenizer.fromFile(p("tokenizer.json"));
    else if (existsSync(p("vocab.json")) && existsSync(p("merges.txt"))) tok = gpt2FromFiles(p("vocab.json"), p("merges.txt"));
    else if (existsSync(p("encoder.json")) && existsSync(p("vocab.bpe"))) tok = gpt2FromFiles(p("encoder.json"), p("vocab.bpe"));
    else if (existsSync(p("vocab.txt"))) tok = bertFromVocab(readFileSync(p("vocab.txt"), "utf8"), { lowercase: config.raw?.["do_lower_case"] !== false });
    else {
      throw new Error(`${dir}: no tokenizer found (looked for tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, vocab.txt)`);
    }
    tok.config = config;
    return tok;
  }
}

/** tokenizer.json `truncation`; what is cut off goes to `Encoding.overflowing`. */
export interface TruncationSettings extends TruncationOptions {
  maxLength: number;
  strategy: TruncationStrategy;
  direction: Side;
}

/** tokenizer.json `padding`. */
export interface PaddingSettings {
  strategy: "batch_longest" | { fixed: number };
  direction: Side;
  padToMultipleOf: number | null;
  padId: number;
  padTypeId: number;
  padToken: string;
}

const STRATEGIES: Record<string, TruncationStrategy> = { LongestFirst: "longest_first", OnlyFirst: "only_first", OnlySecond: "only_second" };

function readSide(o: JsonObject, path: string): Side {
  const d = getString(o, "direction", path, "Right");
  if (d !== "Left" && d !== "Right") throw new TokenizerJsonError(join(path, "direction"), `expected "Left" or "Right", got "${d}"`);
  return d === "Left" ? "left" : "right";
}

function readTruncation(v: unknown, path: string): TruncationSettings {
  const o = asObject(v, path);
  checkKeys(o, ["direction", "max_length", "strategy", "stride"], path);
  const st = getString(o, "strategy", path, "LongestFirst");
  if (!(st in STRATEGIES)) throw new TokenizerJsonError(join(path, "strategy"), `expected LongestFirst, OnlyFirst or OnlySecond, got "${st}"`);
  return {
    maxLength: getInt(o, "max_length", path, 512),
    strategy: STRATEGIES[st]!,
    direction: readSide(o, path),
    stride: getInt(o, "stride", path, 0),
  };
}

function truncationToJSON(t: TruncationSettings): JsonObject {
  const st = Object.entries(STRATEGIES).find(([, v]) => v === t.strategy)![0];
  return { direction: t.direction === "left" ? "Left" : "Right", max_length: t.maxLength, strategy: st, stride: t.stride ?? 0 };
}

function readPadding(v: unknown, path: string): PaddingSettings {
  const o = asObject(v, path);
  checkKeys(o, ["strategy", "direction", "pad_to_multiple_of", "pad_id", "pad_type_id", "pad_token"], path);
  const st = o["strategy"] ?? "BatchLongest";
  let strategy: PaddingSettings["strategy"];
  if (st === "BatchLongest") strategy = "batch_longest";
  else if (st && typeof st === "object" && !Array.isArray(st) && typeof st["Fixed"] === "number") strategy = { fixed: st["Fixed"] };
  else throw new TokenizerJsonError(join(path, "strategy"), `expected "BatchLongest" or {"Fixed": n}, got ${JSON.stringify(st)}`);
  const m = o["pad_to_multiple_of"];
  if (m != null && (typeof m !== "number" || !Number.isInteger(m) || m < 0)) {
    throw new TokenizerJsonError(join(path, "pad_to_multiple_of"), `expected a non-negative integer or null, got ${JSON.stringify(m)}`);
  }
  return {
    strategy,
    direction: readSide(o, path),
    padToMultipleOf: (m as number | null | undefined) || null,
    padId: getInt(o, "pad_id", path, 0),
    padTypeId: getInt(o, "pad_type_id", path, 0),
    padToken: getString(o, "pad_token", path, "[PAD]"),
  };
}

function paddingToJSON(p: PaddingSettings): JsonObject {
  return {
    strategy: p.strategy === "batch_longest" ? "BatchLongest" : { Fixed: p.strategy.fixed },
    direction: p.direction === "left" ? "Left" : "Right",
    pad_to_multiple_of: p.padToMultipleOf,
    pad_id: p.padId,
    pad_type_id: p.padTypeId,
    pad_token: p.padToken,
  };
}

function tokenString(v: Json | undefined): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v["content"] === "string") return v["content"];
  return null;
}

function readConfig(path: string): TokenizerConfig {
  let raw: JsonObject;
  try {
    raw = asObject(JSON.parse(readFileSync(path, "utf8")), "");
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const ct = raw["chat_template"];
  let chatTemplate: string | null = null;
  if (typeof ct === "string") chatTemplate = ct;
  else if (Array.isArray(ct)) {
    // A list of named templates: the "default" one is the chat template.
    const d = ct.find((x) => x && typeof x === "object" && !Array.isArray(x) && x["name"] === "default") as JsonObject | undefined;
    chatTemplate = d && typeof d["template"] === "string" ? d["template"] : null;
  }
  const side = raw["padding_side"];
  if (side !== undefined && side !== "left" && side !== "right") throw new Error(`${path}: padding_side must be "left" or "right", got ${JSON.stringify(side)}`);
  const mml = raw["model_max_length"];
  return {
    bosToken: tokenString(raw["bos_token"]),
    eosToken: tokenString(raw["eos_token"]),
    unkToken: tokenString(raw["unk_token"]),
    padToken: tokenString(raw["pad_token"]),
    sepToken: tokenString(raw["sep_token"]),
    clsToken: tokenString(raw["cls_token"]),
    maskToken: tokenString(raw["mask_token"]),
    chatTemplate,
    // Python writes a huge sentinel (1e30) for "no limit".
    modelMaxLength: typeof mml === "number" && mml < 1e18 ? mml : null,
    paddingSide: (side as Side | undefined) ?? "right",
    raw,
  };
}

/**
 * GPT-2 from vocab.json / encoder.json + merges.txt / vocab.bpe, with the pipeline that
 * `transformers` builds for GPT2TokenizerFast: byte-level pre-tokenizer without prefix space,
 * byte-level decoder, `<|endoftext|>` as special token.
 */
export function gpt2FromFiles(vocabPath: string, mergesPath: string): Tokenizer {
  const vocab = JSON.parse(readFileSync(vocabPath, "utf8"));
  const lines = readFileSync(mergesPath, "utf8").split("\n");
  const merges = lines.filter((l, i) => !(i === 0 && l.startsWith("#version")) && l.length > 0);
  return Tokenizer.fromJSON(gpt2Json(vocab, merges));
}

export function gpt2Json(vocab: Record<string, number>, merges: string[]): JsonObject {
  const added: JsonObject[] = [];
  if (vocab["<|endoftext|>"] !== undefined) {
    added.push({ id: vocab["<|endoftext|>"], content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ Sequence: { id: "A", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: {},
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * BERT from vocab.txt (one token per line, id = line number), with the pipeline of
 * `transformers`' BertTokenizerFast: BertNormalizer, BertPreTokenizer, WordPiece (##, [UNK]),
 * [CLS] A [SEP] (B [SEP]) template, WordPiece decoder.
 */
export function bertFromVocab(vocabTxt: string, o: { lowercase?: boolean } = {}): Tokenizer {
  const lines = vocabTxt.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const vocab: Record<string, number> = {};
  lines.forEach((l, i) => {
    const t = l.replace(/\r$/, "");
    if (!(t in vocab)) vocab[t] = i;
  });
  return Tokenizer.fromJSON(bertJson(vocab, o.lowercase ?? true));
}

export function bertJson(vocab: Record<string, number>, lowercase: boolean): JsonObject {
  const specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter((t) => vocab[t] !== undefined);
  for (const t of ["[UNK]", "[CLS]", "[SEP]"]) if (vocab[t] === undefined) throw new Error(`BERT vocab.txt has no ${t} token`);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({ id: vocab[t]!, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [vocab["[CLS]"]!], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [vocab["[SEP]"]!], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
}

/**
 * Incremental decoding for streaming: push ids one at a time, get the new text (or "" while the
 * text so far ends in an incomplete character). Mirrors HF `DecodeStream::step`: the text is
 * decoded from a short window of recent ids, and nothing is emitted while it ends in U+FFFD, so a
 * multi-byte character split across tokens (Chinese, emoji) is never emitted broken.
 */
export class StreamDecoder {
  private ids: number[] = [];
  private prefix = "";
  private prefixIndex = 0;

  constructor(private readonly tok: Tokenizer, private readonly opts: DecodeOptions = {}) {}

  /** Add one id; returns the newly completed text ("" when none). */
  push(id: number): string {
    if (this.prefix === "" && this.ids.length > 0) {
      const p = this.tok.decode(this.ids, this.opts);
      if (!p.endsWith("\ufffd")) {
        this.prefix = p;
        this.prefixIndex = this.ids.length;
      }
    }
    this.ids.push(id);
    const s = this.tok.decode(this.ids, this.opts);
    if (s.length > this.prefix.length && !s.endsWith("\ufffd")) {
      if (!s.startsWith(this.prefix)) {
        throw new Error(`StreamDecoder: decoded text ${JSON.stringify(s)} does not extend ${JSON.stringify(this.prefix)} (id ${id})`);
      }
      const text = s.slice(this.prefix.length);
      const newPrefixIndex = this.ids.length - this.prefixIndex;
      this.ids = this.ids.slice(this.prefixIndex);
      this.prefix = this.tok.decode(this.ids, this.opts);
      this.prefixIndex = newPrefixIndex;
      return text;
    }
    return "";
  }

  /** Text still held back at the end (an incomplete character decodes as U+FFFD). */
  flush(): string {
    const s = this.tok.decode(this.ids, this.opts);
    const rest = s.length > this.prefix.length && s.startsWith(this.prefix) ? s.slice(this.prefix.length) : "";
    this.ids = [];
    this.prefix = "";
    this.prefixIndex = 0;
    return rest;
  }
}
