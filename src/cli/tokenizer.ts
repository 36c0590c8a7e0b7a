// `tslm tokenizer train | encode | decode`: train a tokenizer on text files into a Hugging Face
// tokenizer directory (tokenizer.json + tokenizer_config.json), and encode / decode with one.
// The work is in src/tokenizers (trainers/ and the core Tokenizer); this file parses options,
// shows progress on stderr and prints results on stdout. A failure is one line on stderr naming
// the argument or file, and exit code 1 — no stack trace.

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "../tokenizers/tokenizer.js";
import { TRAINER_TYPES, trainTokenizerFromFiles, type TokenizerJson, type TrainerType } from "../tokenizers/trainers/index.js";

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

function tokenList(v: string): string[] {
  const list = v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new InvalidArgumentError("expected a comma-separated list of tokens, e.g. [PAD],[UNK]");
  return list;
}

/** Prints one line and ends the command with exit code 1 (main() returns the code). */
function fail(command: string, message: string): never {
  process.stderr.write(`tslm tokenizer ${command}: ${message}\n`);
  throw new CommanderError(1, "tslm.tokenizer", message);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Writes a file atomically: a crash never leaves a half-written tokenizer.json behind. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A tokenizer directory, or a tokenizer.json file. */
function loadTokenizer(command: string, path: string): Tokenizer {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    fail(command, `--tokenizer ${path}: no such file or directory`);
  }
  try {
    return isDir ? Tokenizer.fromDirectory(path) : Tokenizer.fromFile(path);
  } catch (err) {
    fail(command, `--tokenizer ${path}: ${errorMessage(err)}`);
  }
}

/** tokenizer_config.json: which special token plays which role, for `transformers` and tslm. */
export function tokenizerConfig(type: TrainerType, specials: string[]): Record<string, unknown> {
  const role = (names: string[]): string | undefined => specials.find((s) => names.includes(s.toLowerCase()));
  const config: Record<string, unknown> = { tokenizer_class: "PreTrainedTokenizerFast" };
  const set = (key: string, names: string[]) => {
    const t = role(names);
    if (t !== undefined) config[key] = t;
  };
  set("bos_token", ["<s>", "[bos]", "<bos>", "<|endoftext|>"]);
  set("eos_token", ["</s>", "[eos]", "<eos>", "<|endoftext|>"]);
  set("unk_token", ["<unk>", "[unk]"]);
  set("pad_token", ["<pad>", "[pad]"]);
  set("sep_token", ["[sep]", "<sep>"]);
  set("cls_token", ["[cls]", "<cls>"]);
  set("mask_token", ["[mask]", "<mask>"]);
  if (type === "wordpiece") config["do_lower_case"] = true;
  // GPT-2 style: one <|endoftext|> is bos, eos and unk.
  if (type === "bpe" && config["unk_token"] === undefined && config["eos_token"] !== undefined) config["unk_token"] = config["eos_token"];
  return config;
}

/** One cli-progress bar per training stage, on stderr. */
function progressReporter(): { onProgress: (stage: string, done: number, total: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  let current = "";
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    onProgress(stage, done, total) {
      if (stage !== current) {
        stop();
        current = stage;
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${stage.padEnd(16)} |{bar}| {percentage}% {value}/{total}`, hideCursor: false, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar!.setTotal(total);
      bar!.update(done);
    },
    stop,
  };
}

interface TrainOpts {
  type: string;
  vocabSize: number;
  minFrequency?: number;
  specialTokens?: string[];
  limitAlphabet?: number;
  unkToken?: string;
  invalidUtf8: "error" | "replace";
  out: string;
  progress: boolean;
  json?: boolean;
}

function train(files: string[], o: TrainOpts): void {
  if (!(TRAINER_TYPES as readonly string[]).includes(o.type)) {
    fail("train", `--type must be one of ${TRAINER_TYPES.join(", ")}, got "${o.type}"`);
  }
  const type = o.type as TrainerType;
  for (const f of files) {
    let ok = false;
    try {
      ok = statSync(f).isFile();
    } catch {
      fail("train", `training file ${f}: no such file`);
    }
    if (!ok) fail("train", `training file ${f}: not a regular file`);
  }
  const show = o.progress && process.stderr.isTTY === true;
  const reporter = show ? progressReporter() : null;
  let tj: TokenizerJson;
  const t0 = performance.now();
  try {
    tj = trainTokenizerFromFiles(files, {
      type,
      vocabSize: o.vocabSize,
      minFrequency: o.minFrequency,
      specialTokens: o.specialTokens,
      limitAlphabet: o.limitAlphabet,
      unkToken: o.unkToken,
      invalidUtf8: o.invalidUtf8,
      onProgress: reporter?.onProgress,
    });
  } catch (err) {
    reporter?.stop();
    fail("train", errorMessage(err));
  }
  reporter?.stop();
  try {
    mkdirSync(o.out, { recursive: true });
    writeAtomic(join(o.out, "tokenizer.json"), JSON.stringify(tj, null, 2) + "\n");
    const specials = tj.added_tokens.map((t) => t.content);
    writeAtomic(join(o.out, "tokenizer_config.json"), JSON.stringify(tokenizerConfig(type, specials), null, 2) + "\n");
  } catch (err) {
    fail("train", `--out ${o.out}: ${errorMessage(err)}`);
  }
  const size = Array.isArray(tj.model.vocab) ? tj.model.vocab.length : Object.keys(tj.model.vocab as object).length;
  const secs = (performance.now() - t0) / 1000;
  const path = join(o.out, "tokenizer.json");
  if (o.json) {
    const merges = Array.isArray(tj.model.merges) ? tj.model.merges.length : undefined;
    process.stdout.write(JSON.stringify({ type, vocab_size: size, merges, seconds: Number(secs.toFixed(3)), tokenizer: path }) + "\n");
  } else {
    process.stderr.write(`trained ${type} tokenizer: ${size} tokens in ${secs.toFixed(1)} s -> ${path}\n`);
  }
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}

function encode(text: string | undefined, o: { tokenizer: string; specialTokens: boolean; json: boolean }): void {
  const tok = loadTokenizer("encode", o.tokenizer);
  // From stdin, one final line ending is dropped (what `echo text |` adds), as a shell user means.
  const input = text ?? readStdin().replace(/\r?\n$/, "");
  let enc;
  try {
    enc = tok.encode(input, { addSpecialTokens: o.specialTokens });
  } catch (err) {
    fail("encode", errorMessage(err));
  }
  if (o.json) process.stdout.write(JSON.stringify({ ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets }) + "\n");
  else process.stdout.write(enc.ids.join(" ") + "\n");
}

function decode(idArgs: string[], o: { tokenizer: string; skipSpecialTokens: boolean; json: boolean }): void {
  // Ids as separate arguments or one argument "1 2 3" / "1,2,3".
  const parts = idArgs.flatMap((a) => a.split(/[\s,]+/)).filter((s) => s.length > 0);
  const ids = parts.map((p, i) => {
    if (!/^\d+$/.test(p)) fail("decode", `id #${i + 1} "${p}" is not a non-negative integer`);
    return Number(p);
  });
  const tok = loadTokenizer("decode", o.tokenizer);
  let text: string;
  try {
    text = tok.decode(ids, { skipSpecialTokens: o.skipSpecialTokens });
  } catch (err) {
    fail("decode", errorMessage(err));
  }
  process.stdout.write((o.json ? JSON.stringify({ text }) : text) + "\n");
}

export function registerTokenizer(program: Command): void {
  // Usage errors stay one line (the program-wide help-after-error would print the whole help).
  const cmd = program.command("tokenizer").description("train a tokenizer, or encode / decode text with one").showHelpAfterError(false);

  cmd
    .command("train")
    .description("train a tokenizer on text files; writes OUT/tokenizer.json and OUT/tokenizer_config.json")
    .addOption(new Option("--type <type>", "bpe (byte-level, GPT-2 style), wordpiece (BERT style) or unigram (SentencePiece style)").choices([...TRAINER_TYPES]).makeOptionMandatory())
    .requiredOption("--vocab-size <n>", "vocabulary size, special tokens included", positiveInt("--vocab-size"))
    .option("--min-frequency <n>", "bpe / wordpiece: minimum count of a merged pair", nonNegativeInt("--min-frequency"))
    .option("--special-tokens <list>", "comma-separated special tokens, given the first ids (defaults per type)", tokenList)
    .option("--limit-alphabet <n>", "bpe / wordpiece: keep at most this many initial characters", positiveInt("--limit-alphabet"))
    .option("--unk-token <token>", "wordpiece / unigram: the unknown token")
    .addOption(new Option("--invalid-utf8 <mode>", "bytes that are not UTF-8: stop with an error (as HF) or read them as U+FFFD").choices(["error", "replace"]).default("error"))
    .requiredOption("--out <dir>", "output directory")
    .option("--no-progress", "no progress bar on stderr")
    .option("--json", "print a JSON summary on stdout (type, vocab_size, merges, seconds, tokenizer)")
    .argument("<files...>", "training text files (UTF-8), read line by line")
    .action((files: string[], o: TrainOpts) => train(files, o));

  cmd
    .command("encode")
    .description("print the ids of TEXT (or of stdin), special tokens added as the post-processor says")
    .requiredOption("--tokenizer <dir>", "tokenizer directory (or a tokenizer.json file)")
    .option("--no-special-tokens", "do not add special tokens ([CLS], [SEP], ...)")
    .option("--json", "print {ids, tokens, offsets}; offsets are code point indices, as in Python")
    .argument("[text]", "text to encode; read from stdin when absent (without its final newline)")
    .action((text: string | undefined, o: { tokenizer: string; specialTokens: boolean; json?: boolean }) =>
      encode(text, { tokenizer: o.tokenizer, specialTokens: o.specialTokens, json: o.json === true }),
    );

  cmd
    .command("decode")
    .description("print the text of IDS")
    .requiredOption("--tokenizer <dir>", "tokenizer directory (or a tokenizer.json file)")
    .option("--skip-special-tokens", "leave special tokens out")
    .option("--json", 'print {"text": ...}')
    .argument("<ids...>", "token ids, as separate arguments or one space- or comma-separated list")
    .action((ids: string[], o: { tokenizer: string; skipSpecialTokens?: boolean; json?: boolean }) =>
      decode(ids, { tokenizer: o.tokenizer, skipSpecialTokens: o.skipSpecialTokens === true, json: o.json === true }),
    );
}
