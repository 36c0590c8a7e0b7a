// Model dispatch: read the `model` section of tokenizer.json into BPE, WordPiece, WordLevel or Unigram.
// Mirrors HF tokenizers/src/models/mod.rs (`ModelWrapper` deserialization), including BPE merges
// written either as "a b" strings (older files, merges.txt) or as ["a", "b"] pairs (newer files).

import {
  asArray, asObject, checkKeys, getBool, getInt, getOptString, getString, join, JsonObject, TokenizerJsonError,
} from "../json.js";
import { BPE } from "./bpe.js";
import { WordPiece } from "./wordpiece.js";
import { Unigram } from "./unigram.js";
import { WordLevel } from "./wordlevel.js";

export { BPE, WordPiece, Unigram, WordLevel };
export type Model = BPE | WordPiece | Unigram | WordLevel;

export const MODEL_TYPES = ["BPE", "WordPiece", "WordLevel", "Unigram"] as const;

export function readVocab(v: unknown, path: string): Map<string, number> {
  const o = asObject(v, path);
  const m = new Map<string, number>();
  for (const k of Object.keys(o)) {
    const id = o[k];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new TokenizerJsonError(join(path, k), `expected a non-negative integer id, got ${JSON.stringify(id)}`);
    }
    m.set(k, id);
  }
  return m;
}

/** Merges as pairs, from "a b" strings or ["a", "b"] arrays; `#version` lines are skipped. */
export function readMerges(v: unknown, path: string): Array<[string, string]> {
  const arr = asArray(v, path);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < arr.length; i++) {
    const m = arr[i];
    if (typeof m === "string") {
      if (m.charCodeAt(0) === 0x23 && m.startsWith("#version")) continue;
      const sp = m.indexOf(" ");
      // (indexOf + slice: three times faster than split on LLaMA-3's 280k merges.)
      if (sp < 0 || m.indexOf(" ", sp + 1) >= 0) {
        throw new TokenizerJsonError(join(path, i), `expected a merge "a b" with exactly one space, got ${JSON.stringify(m)}`);
      }
      out.push([m.slice(0, sp), m.slice(sp + 1)]);
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") {
      out.push([m[0], m[1]]);
    } else {
      throw new TokenizerJsonError(join(path, i), `expected a string "a b" or a pair ["a", "b"], got ${JSON.stringify(m)}`);
    }
  }
  return out;
}

function getOptNumber(o: JsonObject, key: string, path: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number") throw new TokenizerJsonError(join(path, key), `expected a number or null, got ${JSON.stringify(v)}`);
  return v;
}

export function modelFromJSON(v: unknown, path = "model"): Model {
  const o = asObject(v, path);
  // HF infers the model from its fields when `type` is missing (very old files); we require it
  // only when the fields are ambiguous.
  let t = o["type"];
  if (t === undefined) {
    if (o["merges"] !== undefined) t = "BPE";
    else if (Array.isArray(o["vocab"])) t = "Unigram";
    else if (o["vocab"] !== undefined) t = "WordPiece";
  }
  if (typeof t !== "string" || !(MODEL_TYPES as readonly string[]).includes(t)) {
    throw new TokenizerJsonError(join(path, "type"), `unknown model type ${JSON.stringify(t)} (supported: ${MODEL_TYPES.join(", ")})`);
  }
  if (t === "BPE") {
    checkKeys(o, ["type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges", "vocab", "merges"], path);
    return new BPE(
      {
        vocab: readVocab(o["vocab"], join(path, "vocab")),
        merges: readMerges(o["merges"], join(path, "merges")),
        unkToken: getOptString(o, "unk_token", path),
        continuingSubwordPrefix: getOptString(o, "continuing_subword_prefix", path),
        endOfWordSuffix: getOptString(o, "end_of_word_suffix", path),
        fuseUnk: o["fuse_unk"] == null ? false : getBool(o, "fuse_unk", path),
        byteFallback: o["byte_fallback"] == null ? false : getBool(o, "byte_fallback", path),
        ignoreMerges: o["ignore_merges"] == null ? false : getBool(o, "ignore_merges", path),
        dropout: getOptNumber(o, "dropout", path),
      },
      path,
    );
  }
  if (t === "WordPiece") {
    checkKeys(o, ["type", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "vocab"], path);
    return new WordPiece(
      {
        vocab: readVocab(o["vocab"], join(path, "vocab")),
        unkToken: getString(o, "unk_token", path, "[UNK]"),
        continuingSubwordPrefix: getString(o, "continuing_subword_prefix", path, "##"),
        maxInputCharsPerWord: getInt(o, "max_input_chars_per_word", path, 100),
      },
      path,
    );
  }
  if (t === "WordLevel") {
    checkKeys(o, ["type", "vocab", "unk_token"], path);
    return new WordLevel({ vocab: readVocab(o["vocab"], join(path, "vocab")), unkToken: getString(o, "unk_token", path, "<unk>") });
  }
  checkKeys(o, ["type", "unk_id", "vocab", "byte_fallback"], path);
  const vp = join(path, "vocab");
  const vocab = asArray(o["vocab"], vp).map((e, i): [string, number] => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string" || typeof e[1] !== "number") {
      throw new TokenizerJsonError(join(vp, i), `expected [piece, score], got ${JSON.stringify(e)}`);
    }
    return [e[0], e[1]];
  });
  const unk = o["unk_id"];
  if (unk !== undefined && unk !== null && (typeof unk !== "number" || !Number.isInteger(unk))) {
    throw new TokenizerJsonError(join(path, "unk_id"), `expected an integer or null, got ${JSON.stringify(unk)}`);
  }
  return new Unigram({ vocab, unkId: (unk as number | null | undefined) ?? null, byteFallback: o["byte_fallback"] == null ? false : getBool(o, "byte_fallback", path) }, path);
}
