// `tslm tokenizer train | encode | decode`, run through the CLI's main() in-process with stdout
// and stderr captured (faster than spawning the compiled bin; same code path after argv).
// Expected ids come from Hugging Face `tokenizers` (fixtures/tokenizers_train/hf-*.json).

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { tslm, type Run } from "./info_cli_helpers.js";

const FIX = join(import.meta.dirname, "..", "..", "fixtures", "tokenizers_train");
const CORPUS = join(FIX, "corpus.txt");
const hf = (kind: string) => JSON.parse(readFileSync(join(FIX, `hf-${kind}.json`), "utf8"));


afterEach(() => {
  process.exitCode = undefined;
});

const dir = mkdtempSync(join(tmpdir(), "tslm-tokcli-"));
const bpeDir = join(dir, "bpe");
const wpDir = join(dir, "wp");

describe("tslm tokenizer train", () => {
  let bpe: Run;
  let wp: Run;
  beforeAll(async () => {
    bpe = await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "3000", "--min-frequency", "2",
      "--special-tokens", "<|endoftext|>,<pad>", "--out", bpeDir, CORPUS);
    wp = await tslm("tokenizer", "train", "--type", "wordpiece", "--vocab-size", "3000", "--min-frequency", "2", "--out", wpDir, CORPUS);
  });

  it("writes tokenizer.json (HF's vocabulary and merges) and tokenizer_config.json", () => {
    expect(bpe.code, bpe.stderr).toBe(0);
    expect(bpe.stderr).toMatch(/trained bpe tokenizer: 3000 tokens/);
    const tj = JSON.parse(readFileSync(join(bpeDir, "tokenizer.json"), "utf8"));
    const ref = hf("bpe");
    expect(Object.entries(tj.model.vocab as Record<string, number>).sort((a, b) => a[1] - b[1]).map(([t]) => t)).toEqual(ref.vocab);
    expect(tj.model.merges).toEqual(ref.merges);
    const config = JSON.parse(readFileSync(join(bpeDir, "tokenizer_config.json"), "utf8"));
    expect(config).toMatchObject({ tokenizer_class: "PreTrainedTokenizerFast", eos_token: "<|endoftext|>", pad_token: "<pad>" });
  });

  it("wordpiece: BERT special tokens by default, in tokenizer_config.json too", () => {
    expect(wp.code, wp.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(wpDir, "tokenizer_config.json"), "utf8"));
    expect(config).toMatchObject({ cls_token: "[CLS]", sep_token: "[SEP]", unk_token: "[UNK]", pad_token: "[PAD]", mask_token: "[MASK]", do_lower_case: true });
  });

  it("--json prints a summary on stdout", async () => {
    const r = await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "400", "--json", "--out", join(dir, "j"), CORPUS);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "bpe", vocab_size: 400, merges: 400 - 257, tokenizer: join(dir, "j", "tokenizer.json") });
  });

  it("unigram trains and encodes", async () => {
    const out = join(dir, "uni");
    const r = await tslm("tokenizer", "train", "--type", "unigram", "--vocab-size", "800", "--special-tokens", "<unk>,<s>,</s>", "--out", out, CORPUS);
    expect(r.code, r.stderr).toBe(0);
    const e = await tslm("tokenizer", "encode", "--tokenizer", out, "--json", "Alice was beginning");
    expect(JSON.parse(e.stdout).tokens.join("")).toBe("▁Alice▁was▁beginning");
  });
});

describe("tslm tokenizer encode / decode", () => {
  const line = hf("bpe").encodings[0];

  it("prints the ids HF gives, space-separated", async () => {
    const r = await tslm("tokenizer", "encode", "--tokenizer", bpeDir, line.text);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(line.ids.join(" ") + "\n");
  });

  it("--json prints ids, tokens and offsets", async () => {
    const r = await tslm("tokenizer", "encode", "--tokenizer", bpeDir, "--json", line.text);
    expect(JSON.parse(r.stdout)).toEqual({ ids: line.ids, tokens: line.tokens, offsets: line.offsets });
  });

  it("adds [CLS] / [SEP] unless --no-special-tokens", async () => {
    const withSpecial = (await tslm("tokenizer", "encode", "--tokenizer", wpDir, "Hello, world!")).stdout.trim().split(" ").map(Number);
    const without = (await tslm("tokenizer", "encode", "--tokenizer", wpDir, "--no-special-tokens", "Hello, world!")).stdout.trim().split(" ").map(Number);
    expect(withSpecial[0]).toBe(2); // [CLS]
    expect(withSpecial.at(-1)).toBe(3); // [SEP]
    expect(withSpecial.slice(1, -1)).toEqual(without);
  });

  it("accepts a tokenizer.json path as --tokenizer", async () => {
    const r = await tslm("tokenizer", "encode", "--tokenizer", join(bpeDir, "tokenizer.json"), line.text);
    expect(r.stdout).toBe(line.ids.join(" ") + "\n");
  });

  it("decodes ids back to the text, from separate or listed ids", async () => {
    const text = "Chinese 中文 and emoji 😀 round-trip.";
    const ids = (await tslm("tokenizer", "encode", "--tokenizer", bpeDir, text)).stdout.trim().split(" ");
    expect((await tslm("tokenizer", "decode", "--tokenizer", bpeDir, ...ids)).stdout).toBe(text + "\n");
    expect((await tslm("tokenizer", "decode", "--tokenizer", bpeDir, ids.join(","))).stdout).toBe(text + "\n");
    expect(JSON.parse((await tslm("tokenizer", "decode", "--tokenizer", bpeDir, "--json", ...ids)).stdout)).toEqual({ text });
  });

  it("--skip-special-tokens leaves special tokens out", async () => {
    const ids = (await tslm("tokenizer", "encode", "--tokenizer", wpDir, "hello world")).stdout.trim().split(" ");
    expect((await tslm("tokenizer", "decode", "--tokenizer", wpDir, ...ids)).stdout).toBe("[CLS] hello world [SEP]\n");
    expect((await tslm("tokenizer", "decode", "--tokenizer", wpDir, "--skip-special-tokens", ...ids)).stdout).toBe("hello world\n");
  });
});

describe("tslm tokenizer errors: one line naming the argument or file, exit code 1", () => {
  const oneLine = (r: Run, pattern: RegExp) => {
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it("a missing training file", async () => {
    oneLine(await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", "--out", join(dir, "x"), join(dir, "missing.txt")), /missing\.txt/);
  });

  it("a bad --vocab-size", async () => {
    oneLine(await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "lots", "--out", join(dir, "x"), CORPUS), /--vocab-size/);
  });

  it("an unknown --type lists the supported ones", async () => {
    oneLine(await tslm("tokenizer", "train", "--type", "sentencepiece", "--vocab-size", "300", "--out", join(dir, "x"), CORPUS), /bpe, wordpiece, unigram/);
  });

  it("a training file that is not UTF-8, and --invalid-utf8 replace to read it anyway", async () => {
    const bad = join(dir, "latin1.txt");
    writeFileSync(bad, Buffer.from("caf\xe9 au lait\n", "latin1"));
    oneLine(await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", "--out", join(dir, "l1"), bad), /latin1\.txt: invalid UTF-8 at byte 3/);
    const ok = await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", "--invalid-utf8", "replace", "--out", join(dir, "l1"), bad);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("a missing --out", async () => {
    oneLine(await tslm("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", CORPUS), /--out/);
  });

  it("a tokenizer directory that does not exist", async () => {
    oneLine(await tslm("tokenizer", "encode", "--tokenizer", join(dir, "nope"), "hi"), /--tokenizer .*nope/);
  });

  it("a malformed tokenizer.json names the file", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    oneLine(await tslm("tokenizer", "encode", "--tokenizer", bad, "hi"), /bad\.json/);
  });

  it("a non-numeric id and an id outside the vocabulary", async () => {
    oneLine(await tslm("tokenizer", "decode", "--tokenizer", bpeDir, "12", "x7"), /id #2 "x7"/);
    oneLine(await tslm("tokenizer", "decode", "--tokenizer", bpeDir, "999999"), /999999/);
  });
});
