// `tslm finetune`: adapt a pretrained model to labeled data, fully or parameter-efficiently, as a run
// directory (the same layout as `tslm train`: train_config.json, log.jsonl, loss.svg, checkpoints,
// latest), ending with `final/` (a model directory `tslm classify` / `tslm eval` / `tslm generate`
// load) and eval_results.json (metrics on the validation and test splits).
//
//   tslm finetune --task classify --model runs/pretrain/checkpoint-1000 --data imdb/ --steps 300
//   tslm finetune --task classify ... --lora r=8,alpha=16,targets=c_attn,c_proj
//   tslm finetune --task seq2seq --model t5dir --data zh-en/
//   tslm finetune --task sft --model gpt2dir --data chat.jsonl --prompt-tuning 16
//
// Data: a file (split here with --validation / --test, seeded) or a folder with train / validation
// / test files (`tslm data prepare` writes those). Every record is checked before the model is
// loaded (src/finetune/data.ts); PEFT flags are checked before it too, and the adapter is attached
// (targets resolved) before the first step.
// PEFT runs: the optimizer holds only the adapter's parameters (and the classification head, as
// peft's modules_to_save); each checkpoint and final/ hold the frozen base model plus
// adapter_config.json + adapter_model.safetensors in peft's format; LoRA runs also write merged/
// (the adapter folded into a plain model). --resume DIR continues any run from its latest
// checkpoint with the same batches.
// The config is tslm's own (camelCase, strict: unknown keys are errors), as `tslm train`'s.
import { failer, intArg, numArg, resolveRunConfig, resumeRun, stopOnSignal, zodMessage } from "./common.js";
import { Command, CommanderError, Option } from "commander";
import cliProgress from "cli-progress";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { atomicWriteFile, atomicWriteJSON } from "../io/atomic.js";
import { fromPretrained, savePretrained, TOKENIZER_FILES } from "../io/pretrained.js";
import { saveSafetensors } from "../io/safetensors.js";
import { loadPeftModel, savePeftModel } from "../io/peft.js";
import { OPTIMIZER_NAME, RunDirectory, TRAINER_STATE_NAME } from "../io/run.js";
import { kernels, setThreads } from "../kernels/index.js";
import { loadModel, type PretrainedModel } from "../models/registry.js";
import type { Module } from "../nn/module.js";
import { PeftModel, type PeftConfig } from "../peft/index.js";
import { manualSeed } from "../tensor/rng.js";
import { Tokenizer } from "../tokenizers/index.js";
import { AdamW } from "../train/optim.js";
import { renderLossPlot } from "../train/plot.js";
import { lrSchedule } from "../train/schedule.js";
import { Trainer, weightDecayGroups, type BatchSource, type LogRecord, type TrainerState } from "../train/trainer.js";
import { LabelSet, loadRecords, resolveDataSplits, splitSeeded, TASKS, type ClassifyRecord, type SFTRecord, type Seq2SeqRecord, type Task, type TaskRecord } from "../finetune/data.js";
import { formatConfusion } from "../finetune/metrics.js";
import { peftConfigFromFlags, plainStateDict } from "../finetune/peft_flags.js";
import {
  CLASSIFIER_HEAD,
  ExampleBatches,
  buildTaskModel,
  chatTemplateFor,
  classifyCollate,
  encodeClassify,
  encodeSFT,
  encodeSeq2Seq,
  evaluateClassify,
  evaluateSFT,
  evaluateSeq2Seq,
  readConfigJSON,
  seq2seqCollate,
  sftCollate,
  tokenizerIds,
} from "../finetune/tasks.js";

// ---------------------------------------------------------------------------------------------
// The config

export const FinetuneConfigSchema = z
  .object({
    task: z.enum(TASKS as unknown as ["classify", "seq2seq", "sft"]),
    model: z.string(),
    data: z.string(),
    textField: z.string().optional(),
    labelField: z.string().optional(),
    sourceField: z.string().optional(),
    targetField: z.string().optional(),
    promptField: z.string().optional(),
    responseField: z.string().optional(),
    /** Held-out shares when --data is one file: a fraction in (0, 1) or a count. */
    validation: z.number().min(0).default(0.1),
    test: z.number().min(0).default(0),
    fromScratch: z.boolean().default(false),
    lora: z.string().optional(),
    adapter: z.string().optional(),
    prefix: z.number().int().optional(),
    promptTuning: z.number().int().optional(),
    steps: z.number().int().nonnegative().default(200),
    batchSize: z.number().int().positive().default(16),
    maxLength: z.number().int().min(2).default(128),
    maxTargetLength: z.number().int().min(2).default(64),
    /** classify: which end of a long text is cut (HF truncation_side). */
    truncationSide: z.enum(["left", "right"]).default("right"),
    lr: z.number().positive().optional(),
    warmupSteps: z.number().int().nonnegative().optional(),
    weightDecay: z.number().min(0).default(0.01),
    gradClip: z.number().min(0).default(1),
    dropout: z.number().min(0).lt(1).optional(),
    evalEvery: z.number().int().nonnegative().default(0),
    evalBatches: z.number().int().positive().default(10),
    saveEvery: z.number().int().nonnegative().default(0),
    keepCheckpoints: z.number().int().positive().default(1),
    /** Validation / test examples scored at the end (0 = all). */
    evalLimit: z.number().int().nonnegative().default(0),
    bleuTokenize: z.enum(["auto", "13a", "zh", "none"]).default("auto"),
    maxNewTokens: z.number().int().positive().default(64),
    seed: z.number().int().default(1337),
    threads: z.number().int().positive().optional(),
    out: z.string().optional(),
  })
  .strict();
export type FinetuneConfig = z.infer<typeof FinetuneConfigSchema>;

const fail: (message: string) => never = failer("finetune");

const TASK_TYPE: Record<Task, string> = { classify: "SEQ_CLS", seq2seq: "SEQ_2_SEQ_LM", sft: "CAUSAL_LM" };

// ---------------------------------------------------------------------------------------------
// Data

export interface LoadedData {
  train: TaskRecord[];
  validation: TaskRecord[];
  test: TaskRecord[];
  source: string;
}

/** Reads --data for a task: a folder's split files, or one file split seeded. */
export function loadTaskData(cfg: Pick<FinetuneConfig, "task" | "data" | "validation" | "test" | "seed" | "textField" | "labelField" | "sourceField" | "targetField" | "promptField" | "responseField">): LoadedData {
  const fields = { text: cfg.textField, label: cfg.labelField, source: cfg.sourceField, target: cfg.targetField, prompt: cfg.promptField, response: cfg.responseField };
  const s = resolveDataSplits(cfg.data);
  if (s.single) {
    const all = loadRecords(cfg.task, s.single, fields);
    const parts = splitSeeded(all, { validation: cfg.validation, test: cfg.test }, cfg.seed);
    return { ...parts, source: `${s.single} (seeded split, seed ${cfg.seed}: ${parts.train.length} train / ${parts.validation.length} validation / ${parts.test.length} test)` };
  }
  const train = loadRecords(cfg.task, s.train!, fields);
  const validation = s.validation ? loadRecords(cfg.task, s.validation, fields) : [];
  const test = s.test ? loadRecords(cfg.task, s.test, fields) : [];
  return { train, validation, test, source: `${cfg.data} (${train.length} train / ${validation.length} validation / ${test.length} test)` };
}

/** A BLEU tokenizer for the targets: "zh" when they contain CJK characters (sacrebleu's advice for Chinese). */
export function autoBleuTokenizer(targets: string[]): "13a" | "zh" {
  return targets.some((t) => /[\u3400-\u9fff]/.test(t)) ? "zh" : "13a";
}

// ---------------------------------------------------------------------------------------------
// PEFT checkpoints: the frozen base as a plain model directory + the adapter files.

function savePlain(model: Module, config: Record<string, unknown>, dir: string, tokenizerDir: string, trained: boolean): void {
  const plain = loadModel(config, plainStateDict(model, { trained }), { adopt: false });
  savePretrained(plain, dir, { tokenizer: tokenizerDir });
}

function tokenizerSource(dir: string): string {
  if (!TOKENIZER_FILES.some((f) => existsSync(join(dir, f)))) throw new Error(`${dir}: no tokenizer files (${TOKENIZER_FILES.join(", ")})`);
  return dir;
}

/** Loads a model directory for inference: plain, or base + adapter when adapter_config.json is there (`base` overrides the base). */
export function loadFinetuned(dir: string, base?: string): { model: PretrainedModel; peft: PeftModel | null } {
  if (!existsSync(join(dir, "adapter_config.json"))) {
    if (base) throw new Error(`--base is for adapter directories; ${dir} has no adapter_config.json`);
    return { model: fromPretrained(dir), peft: null };
  }
  let baseDir = base ?? (existsSync(join(dir, "config.json")) ? dir : null);
  if (!baseDir) {
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    baseDir = typeof cfg.base_model_name_or_path === "string" ? cfg.base_model_name_or_path : null;
  }
  if (!baseDir) throw new Error(`${dir} holds an adapter without its base model: pass --base DIR`);
  const peft = loadPeftModel(fromPretrained(baseDir) as never, dir);
  return { model: peft as unknown as PretrainedModel, peft };
}

// ---------------------------------------------------------------------------------------------
// The command

interface Flags {
  config?: string;
  resume?: string;
  overwrite?: boolean;
  json?: boolean;
  progress: boolean;
  [key: string]: unknown;
}
const FLAG_KEYS = Object.keys(FinetuneConfigSchema.shape) as (keyof FinetuneConfig)[];

export async function runFinetune(o: Flags): Promise<void> {
  const out = o.json ? (s: string) => process.stderr.write(s + "\n") : (s: string) => process.stdout.write(s + "\n");
  const flags: Record<string, unknown> = {};
  for (const k of FLAG_KEYS) if (o[k] !== undefined) flags[k] = o[k];
  const parse = (raw: Record<string, unknown>, source: string): FinetuneConfig => {
    const r = FinetuneConfigSchema.safeParse(raw);
    if (!r.success) throw new Error(zodMessage(r.error, source));
    return r.data;
  };
  const resolved = resolveRunConfig(o, flags, ["steps", "threads"], parse, fail);
  const cfg: FinetuneConfig = resolved.cfg;
  const resumeFrom = resolved.resumeFrom;
  let run: RunDirectory = resolved.run!; // created below when not resuming
  if (cfg.threads) setThreads(cfg.threads);
  manualSeed(cfg.seed);

  // 1. Everything that can be checked without the model: flags, data, labels.
  let modelConfig: Record<string, unknown>;
  try {
    modelConfig = readConfigJSON(cfg.model);
  } catch (e) {
    fail(`--model: ${(e as Error).message}`);
  }
  const mt = String(modelConfig.model_type);
  let peftCfg: PeftConfig | null;
  try {
    peftCfg = peftConfigFromFlags(cfg, { task: cfg.task, head: cfg.task === "classify" ? (CLASSIFIER_HEAD[mt] ?? null) : null, taskType: TASK_TYPE[cfg.task] });
  } catch (e) {
    fail((e as Error).message);
  }
  if (cfg.truncationSide === "left" && cfg.task !== "classify") fail("--truncation-side left: only --task classify cuts on the left (seq2seq and sft keep the start of each text)");
  if (peftCfg?.peft_type === "TSLM_BOTTLENECK" && cfg.task === "seq2seq") fail("--adapter: bottleneck adapters have default locations for gpt2 / llama only in tslm; use --lora for seq2seq");
  // Inputs are cut to fit the model: its context length, less the virtual tokens of prompt learning.
  const ctxRaw = modelConfig.n_positions ?? modelConfig.max_position_embeddings;
  const virtual = peftCfg && (peftCfg.peft_type === "PREFIX_TUNING" || peftCfg.peft_type === "PROMPT_TUNING") ? peftCfg.num_virtual_tokens : 0;
  const ctx = typeof ctxRaw === "number" ? ctxRaw - virtual : Infinity;
  if (ctx < 2) fail(`--model ${cfg.model}: a context of ${String(ctxRaw)} leaves no room after ${virtual} virtual tokens`);
  const maxLen = Math.min(cfg.maxLength, ctx);
  const maxTargetLen = Math.min(cfg.maxTargetLength, ctx);
  let data: LoadedData;
  try {
    data = loadTaskData(cfg);
  } catch (e) {
    fail(`--data: ${(e as Error).message}`);
  }
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromDirectory(cfg.model);
  } catch (e) {
    fail(`--model ${cfg.model}: no usable tokenizer (${(e as Error).message})`);
  }
  const ids = tokenizerIds(tok);
  let labels: LabelSet | undefined;
  if (cfg.task === "classify") {
    try {
      const archs = Array.isArray(modelConfig.architectures) ? modelConfig.architectures : [];
      labels = /ForSequenceClassification$/.test(String(archs[0])) && modelConfig.id2label ? LabelSet.fromConfig(modelConfig.id2label as Record<string, string>) : LabelSet.fromRecords(data.train as ClassifyRecord[]);
    } catch (e) {
      fail(`--data: ${(e as Error).message}`);
    }
  }
  const padId = ids.pad ?? ids.eos;
  if (padId === null) fail(`--model ${cfg.model}: the tokenizer has neither a pad nor an EOS token`);
  const eos = ids.eos;
  const template = cfg.task === "sft" ? chatTemplateFor(cfg.model) : null;
  const decoderStart = typeof modelConfig.decoder_start_token_id === "number" ? modelConfig.decoder_start_token_id : padId;
  if (cfg.task === "seq2seq" && eos === null) fail(`--model ${cfg.model}: seq2seq needs an EOS token (</s>) in the tokenizer`);
  const encode = (recs: TaskRecord[]): unknown[] => {
    if (cfg.task === "classify") return encodeClassify(tok, recs as ClassifyRecord[], labels!, maxLen, cfg.truncationSide);
    if (cfg.task === "seq2seq") return encodeSeq2Seq(tok, recs as Seq2SeqRecord[], maxLen, maxTargetLen, eos!);
    return encodeSFT(tok, recs as SFTRecord[], template!.template);
  };
  let enc: { train: unknown[]; validation: unknown[]; test: unknown[] };
  try {
    enc = { train: encode(data.train), validation: encode(data.validation.length ? data.validation : []), test: data.test.length ? encode(data.test) : [] };
  } catch (e) {
    fail(`--data: ${(e as Error).message}`);
  }

  // 2. The model (and the adapter, whose targets are resolved here, before any step).
  let model: PretrainedModel;
  let base: PretrainedModel;
  let peft: PeftModel | null = null;
  let newly: string[] = [];
  let baseConfig: Record<string, unknown>;
  try {
    if (resumeFrom) {
      const l = loadFinetuned(resumeFrom);
      base = l.peft ? (l.peft.getBaseModel() as unknown as PretrainedModel) : l.model;
      if (l.peft) {
        // Re-attach trainable: fromPretrained loaded it for inference.
        peft = loadPeftModel(fromPretrained(resumeFrom) as never, resumeFrom, { isTrainable: true });
        base = peft.getBaseModel() as unknown as PretrainedModel;
      }
      baseConfig = readConfigJSON(resumeFrom);
    } else {
      const built = buildTaskModel(cfg.task, cfg.model, { labels, padId, fromScratch: cfg.fromScratch, seed: cfg.seed, dropout: cfg.dropout });
      base = built.model;
      newly = built.newlyInitialized;
      baseConfig = built.config;
      if (peftCfg) peft = PeftModel.create(base as never, peftCfg, { tokenizer: { encode: (t: string) => tok.encode(t).ids } });
    }
    if (peft && peftCfg?.peft_type === "TSLM_BOTTLENECK" && cfg.task === "classify") {
      // peft has no bottleneck type, so no modules_to_save: train the new head directly (it is saved with the base).
      for (const [k, p] of base.namedParameters()) if (k.startsWith(`${CLASSIFIER_HEAD[mt]}.`)) p.requiresGrad = true;
    }
    model = peft ? (peft as unknown as PretrainedModel) : base;
  } catch (e) {
    fail(`${resumeFrom ?? cfg.model}: ${(e as Error).message}`);
  }
  const uniq = [...new Set(model.namedParameters().map(([, p]) => p))];
  const nTotal = uniq.reduce((n, p) => n + p.size, 0);
  const nTrain = uniq.filter((p) => p.requiresGrad).reduce((n, p) => n + p.size, 0);

  if (!resumeFrom) {
    cfg.out = cfg.out ?? join("runs", `finetune-${cfg.task}-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-")}`);
    try {
      run = RunDirectory.create(cfg.out, cfg, { overwrite: o.overwrite });
    } catch (e) {
      fail((e as Error).message);
    }
  }

  // 3. Batches, optimizer, schedule.
  const collate = cfg.task === "classify" ? classifyCollate(padId) : cfg.task === "seq2seq" ? seq2seqCollate(padId, decoderStart) : sftCollate(padId, template!.isDefault ? eos : null, maxLen);
  const trainSrc = new ExampleBatches(enc.train as never[], cfg.batchSize, cfg.seed, collate as never);
  const valSrc: BatchSource | null = enc.validation.length ? new ExampleBatches(enc.validation as never[], cfg.batchSize, 0, collate as never, false) : null;
  const lr = cfg.lr ?? (peft ? 1e-3 : 3e-4);
  const warmup = cfg.warmupSteps ?? Math.round(0.06 * cfg.steps);
  const opt = new AdamW(weightDecayGroups(model.namedParameters(), cfg.weightDecay), { lr, betas: [0.9, 0.999], eps: 1e-8 });
  const schedule = lrSchedule({ name: "linear", warmupSteps: warmup, totalSteps: Math.max(cfg.steps, 1), minLrRate: 0 });

  const signals = stopOnSignal("finetune");
  const bar =
    !o.json && o.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, format: "step {value}/{total} |{bar}| loss {loss} | val {val} | ETA {eta_formatted}", hideCursor: false, etaBuffer: 20 }, cliProgress.Presets.shades_classic)
      : null;
  const plotPoints: { step: number; loss?: number; valLoss?: number }[] = [];
  for (const r of run!.readLog()) if (typeof r.step === "number") plotPoints.push({ step: r.step, loss: r.loss as number | undefined, valLoss: r.valLoss as number | undefined });
  let lastVal = "-";
  // The tokenizer files are copied into the run once, so every checkpoint and final/ can take them
  // from there even after --model or an old checkpoint is gone.
  const tokDir = run!.path("tokenizer");
  if (!existsSync(tokDir)) {
    const from = tokenizerSource(resumeFrom ?? cfg.model);
    mkdirSync(tokDir, { recursive: true });
    for (const f of TOKENIZER_FILES) if (existsSync(join(from, f))) copyFileSync(join(from, f), join(tokDir, f));
  }

  /** A PEFT checkpoint: plain base + adapter + optimizer + trainer state, written whole then renamed (atomic like RunDirectory's). */
  const savePeftCheckpoint = (step: number, optimizer: { tensors: Map<string, unknown>; meta: Record<string, unknown> }, state: TrainerState): string => {
    const name = `checkpoint-${step}`;
    const final = run.path(name);
    const tmp = run.path(`.${name}.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    savePlain(base, baseConfig, tmp, tokDir, false);
    savePeftModel(peft!, tmp);
    saveSafetensors(join(tmp, OPTIMIZER_NAME), optimizer.tensors as never, { tslm_optimizer: JSON.stringify(optimizer.meta) });
    atomicWriteJSON(join(tmp, TRAINER_STATE_NAME), state);
    if (existsSync(final)) rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    atomicWriteFile(run.path("latest"), name + "\n");
    const all = run.checkpoints();
    for (const old of all.slice(0, Math.max(0, all.length - cfg.keepCheckpoints))) if (old.name !== name) rmSync(run.path(old.name), { recursive: true, force: true });
    return final;
  };

  const trainer = new Trainer(
    model,
    opt,
    trainSrc,
    valSrc,
    { steps: cfg.steps, lr, schedule, maxGradNorm: cfg.gradClip, evalEvery: cfg.evalEvery, evalBatches: cfg.evalBatches, saveEvery: cfg.saveEvery, logEvery: 10 },
    {
      onLog(rec: LogRecord) {
        run.appendLog(rec);
        plotPoints.push({ step: rec.step, loss: rec.loss, valLoss: rec.valLoss });
        if (rec.valLoss !== undefined) lastVal = rec.valLoss.toFixed(3);
        if (rec.valLoss !== undefined || rec.step % 50 === 0) run.writePlot(renderLossPlot(plotPoints, { title: run.dir }));
        if (o.json) process.stdout.write(JSON.stringify({ event: "log", ...rec }) + "\n");
        bar?.update(rec.step, { loss: rec.loss?.toFixed(3) ?? "-", val: lastVal });
        if (!bar && !o.json && (rec.valLoss !== undefined || rec.step % 50 === 0)) out(`step ${rec.step}: loss ${rec.loss?.toFixed(4)}${rec.valLoss !== undefined ? `, val loss ${rec.valLoss.toFixed(4)}` : ""}`);
      },
      onCheckpoint(c) {
        const dir = peft
          ? savePeftCheckpoint(c.step, c.optimizer, c.state)
          : run.saveCheckpoint({ step: c.step, model, tokenizer: tokDir, optimizer: c.optimizer, trainerState: c.state }, cfg.keepCheckpoints);
        if (o.json) process.stdout.write(JSON.stringify({ event: "checkpoint", step: c.step, dir, reason: c.reason }) + "\n");
      },
      shouldStop: signals.stopped,
    },
  );
  if (resumeFrom) resumeRun(trainer, run, resumeFrom, out);
  out(`data: ${data.source}`);
  if (labels) out(`labels: ${labels.names.map((n, i) => `${i}=${n}`).join(", ")}`);
  if (newly.length) out(`newly initialized (not in the checkpoint): ${newly.join(", ")}`);
  if (template?.isDefault) out("sft: the tokenizer has no chat template; using tslm's default (docs/finetuning.md)");
  const method = peftCfg ? peftCfg.peft_type : cfg.fromScratch ? "full (from scratch)" : "full";
  out(`fine-tuning ${mt} for ${cfg.task} (${method}): ${nTrain.toLocaleString("en-US")} trainable of ${nTotal.toLocaleString("en-US")} parameters (${((100 * nTrain) / nTotal).toFixed(2)}%), batch ${cfg.batchSize}, ${cfg.steps} steps, lr ${lr}, kernels ${kernels().name} -> ${run!.dir}`);
  if (o.json) process.stdout.write(JSON.stringify({ event: "start", run: run!.dir, config: cfg, parameters: nTotal, trainable: nTrain, method, labels: labels?.names ?? null }) + "\n");
  bar?.start(cfg.steps, trainer.state.step, { loss: "-", val: "-" });
  const t0 = performance.now();
  try {
    await trainer.train();
  } finally {
    bar?.stop();
    signals.dispose();
  }
  run.writePlot(renderLossPlot(plotPoints, { title: run.dir }));
  const secs = (performance.now() - t0) / 1000;
  if (signals.stopped()) {
    if (o.json) process.stdout.write(JSON.stringify({ event: "interrupted", run: run.dir, step: trainer.state.step, checkpoint: run.latestCheckpoint() }) + "\n");
    else out(`stopped at step ${trainer.state.step}; resume with: tslm finetune --resume ${run.dir}`);
    process.exitCode = 130;
    return;
  }

  // 4. final/ (and merged/ for LoRA), then metrics on the held-out splits.
  const finalDir = run.path("final");
  rmSync(finalDir, { recursive: true, force: true });
  if (peft) {
    savePlain(base, baseConfig, finalDir, tokDir, false);
    savePeftModel(peft!, finalDir);
    if (peftCfg?.peft_type === "LORA") {
      peft.mergeAdapter();
      savePlain(base, baseConfig, run.path("merged"), tokDir, true);
      peft.unmergeAdapter();
    }
  } else savePretrained(model, finalDir, { tokenizer: tokDir });
  model.eval();
  const limit = <T>(xs: T[]) => (cfg.evalLimit > 0 ? xs.slice(0, cfg.evalLimit) : xs);
  const results: Record<string, unknown> = { task: cfg.task, method, trainable: nTrain, parameters: nTotal, steps: trainer.state.step, seconds: Number(secs.toFixed(1)) };
  for (const split of ["validation", "test"] as const) {
    const ex = limit(enc[split]);
    if (!ex.length) continue;
    const recs = limit(data[split]);
    if (cfg.task === "classify") {
      const r = evaluateClassify(model as never, ex as never, labels!, padId);
      results[split] = { n: r.n, accuracy: r.accuracy, macroF1: r.macroF1, confusion: r.confusion, labels: r.labels };
      out(`${split}: accuracy ${(100 * r.accuracy).toFixed(2)}%  macro-F1 ${(100 * r.macroF1).toFixed(2)}  (${r.n} examples)\n${formatConfusion(r)}`);
    } else if (cfg.task === "seq2seq") {
      const bt = cfg.bleuTokenize === "auto" ? autoBleuTokenizer((recs as Seq2SeqRecord[]).map((r) => r.target)) : cfg.bleuTokenize;
      const r = evaluateSeq2Seq(model, tok, recs as Seq2SeqRecord[], ex as never, { padId, decoderStart, eos: eos!, maxNewTokens: Math.min(cfg.maxNewTokens, ctx - 1), bleuTokenizer: bt });
      results[split] = r;
      out(`${split}: BLEU ${r.bleu.toFixed(2)} (tokenize ${r.tokenizer})  chrF2 ${r.chrf.toFixed(2)}  loss ${r.loss.toFixed(4)}  (${r.n} examples)`);
    } else {
      const r = evaluateSFT(model as never, ex as never, { padId, eos: template!.isDefault ? eos : null, maxLength: maxLen });
      results[split] = r;
      out(`${split}: response loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(2)}  (${r.tokens} response tokens)`);
    }
  }
  atomicWriteJSON(run.path("eval_results.json"), results);
  const summary = { event: "done", run: run.dir, final: finalDir, step: trainer.state.step, seconds: Number(secs.toFixed(1)), results };
  if (o.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else out(`done: ${trainer.state.step} steps in ${secs.toFixed(0)} s; model in ${finalDir}${peft ? " (base + adapter)" : ""}`);
}

export function registerFinetune(program: Command): void {
  const int = intArg;
  const num = numArg;
  program
    .command("finetune")
    .description("fine-tune a pretrained model on labeled data: classification, seq2seq or instruction tuning; full or LoRA / adapter / prefix / prompt tuning")
    .option("--config <file>", "a JSON config with any of the settings below (camelCase keys; flags win)")
    .addOption(new Option("--task <task>", "classify ({text, label}), seq2seq ({source, target}) or sft ({prompt, response} / {messages})").choices([...TASKS]))
    .option("--model <dir>", "pretrained model directory (config.json, weights, tokenizer)")
    .option("--data <path>", "a .jsonl / .csv / .json file, or a folder with train / validation / test files")
    .option("--text-field <name>", "classify: the text field (default text)")
    .option("--label-field <name>", "classify: the label field (default label)")
    .option("--source-field <name>", "seq2seq: the source field (default source)")
    .option("--target-field <name>", "seq2seq: the target field (default target)")
    .option("--prompt-field <name>", "sft: the prompt field (default prompt)")
    .option("--response-field <name>", "sft: the response field (default response)")
    .option("--validation <x>", "one-file data: validation share, fraction or count (default 0.1)", num)
    .option("--test <x>", "one-file data: test share, fraction or count (default 0)", num)
    .option("--from-scratch", "same architecture, every weight freshly initialised (the no-pretraining baseline)")
    .option("--lora <spec>", "LoRA: r=8,alpha=16,targets=c_attn,c_proj[,dropout=0.05][,rslora]")
    .option("--adapter <spec>", "bottleneck adapters: size=64[,locations=attn+mlp][,act=relu]")
    .option("--prefix <n>", "prefix tuning with N virtual tokens (sft)", int)
    .option("--prompt-tuning <n>", "prompt tuning with N virtual tokens (sft)", int)
    .option("--steps <n>", "optimizer steps (default 200)", int)
    .option("--batch-size <n>", "examples per step (default 16)", int)
    .option("--max-length <n>", "tokens per input (longer inputs are cut; default 128)", int)
    .option("--max-target-length <n>", "seq2seq: tokens per target (default 64)", int)
    .addOption(new Option("--truncation-side <side>", "classify: cut long texts on the right (keep the start, default) or the left (keep the end), as HF's truncation_side").choices(["left", "right"]))
    .option("--lr <x>", "peak learning rate (default 3e-4 full, 1e-3 PEFT)", num)
    .option("--warmup-steps <n>", "linear warmup (default 6% of the steps), then linear decay to 0", int)
    .option("--weight-decay <x>", "AdamW weight decay on matrices (default 0.01)", num)
    .option("--grad-clip <x>", "gradient-norm clipping, 0 = off (default 1)", num)
    .option("--dropout <p>", "override the model's dropout probabilities")
    .option("--eval-every <n>", "validation loss every N steps, 0 = off (default 0)", int)
    .option("--eval-batches <n>", "validation batches per evaluation (default 10)", int)
    .option("--save-every <n>", "checkpoint every N steps, 0 = only at the end (default 0)", int)
    .option("--keep-checkpoints <n>", "checkpoints kept (default 1)", int)
    .option("--eval-limit <n>", "score at most N validation / test examples at the end, 0 = all (default 0)", int)
    .addOption(new Option("--bleu-tokenize <name>", "seq2seq BLEU tokenizer (default auto: zh for Chinese targets, else 13a)").choices(["auto", "13a", "zh", "none"]))
    .option("--max-new-tokens <n>", "seq2seq: longest generated target when scoring (default 64)", int)
    .option("--seed <n>", "seed for the split, the head's init, data order and dropout (default 1337)", int)
    .option("--threads <n>", "threads for the native kernels (default: all cores)", int)
    .option("--out <dir>", "run directory (default runs/finetune-<task>-<time>)")
    .option("--resume <dir>", "continue the run in DIR from its latest checkpoint")
    .option("--overwrite", "replace an existing run in --out")
    .option("--json", "machine-readable progress: one JSON object per line on stdout")
    .option("--no-progress", "no progress bar")
    .action((o: Flags) => {
      if (o.dropout !== undefined) o.dropout = Number(o.dropout);
      if (!o.resume && (!o.task || !o.model || !o.data) && !o.config) fail("--task, --model and --data are required (or --config, or --resume DIR)");
      return runFinetune(o);
    });
}


