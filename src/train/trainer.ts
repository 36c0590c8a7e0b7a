// The training loop: gradient accumulation, clipping, schedules, periodic evaluation and
// checkpoints, exact resumption, and a clean stop on request (Ctrl-C).
//
// The trainer knows models only through `TrainableModel` (forward returns a loss; parameters; train
// and eval modes) and data only through `BatchSource` (next batch; savable sampler state). It does
// no file I/O: checkpoints and logs go to hooks, which the CLI implements with src/io (run
// directories, safetensors, atomic writes). That keeps this layer below io, as DESIGN.md requires.
//
// Determinism: the model's dropout draws from the default Generator (or its own), the batch source
// from its own; the trainer saves both states in every checkpoint, so a resumed run replays the
// same batches and dropout masks as an uninterrupted one and ends with bit-identical weights.
import { noGrad } from "../autograd/engine.js";
import { defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { AdamW, type AdamWOptions } from "./optim.js";
import { clipGradNorm } from "./clip.js";

export interface TrainableModel {
  /**
   * The trainer reads only `loss`, and passes `lossOnly: true` in object inputs to say so: causal
   * LMs then skip the logits (the fused linear cross-entropy); other models ignore the flag.
   */
  forward(input: any): { loss?: Tensor };
  train(on?: boolean): unknown;
  eval(): unknown;
  namedParameters(): Iterable<[string, Tensor]> | [string, Tensor][];
}

/** A batch input that asks the model for its loss only (see TrainableModel.forward). */
function lossOnly(input: unknown): unknown {
  return input !== null && typeof input === "object" && !Array.isArray(input) && !(input instanceof Tensor) ? { ...input, lossOnly: true } : input;
}

export interface Batch {
  /** What model.forward receives (e.g. { inputIds, labels, attentionMask }). */
  input: unknown;
  /** Tokens in the batch that count for throughput (e.g. B * T). */
  tokens: number;
}

export interface BatchSource {
  next(): Batch;
  /** JSON-serialisable sampler state, for exact resumption. */
  getState(): unknown;
  setState(state: unknown): void;
}

export interface TrainerOptions {
  steps: number;
  /** Peak learning rate; the schedule multiplies it. */
  lr: number;
  schedule: (step: number) => number;
  gradAccumSteps?: number;
  /** Global-norm clipping (0 or undefined: off). */
  maxGradNorm?: number;
  evalEvery?: number;
  evalBatches?: number;
  saveEvery?: number;
  logEvery?: number;
}

export interface LogRecord {
  step: number;
  /** Training loss averaged over the accumulation micro-batches of this step. */
  loss?: number;
  lr?: number;
  gradNorm?: number;
  tokens: number;
  tokensPerSec?: number;
  elapsedSec: number;
  valLoss?: number;
  valPerplexity?: number;
}

/** Everything a checkpoint needs beyond the model's weights. */
export interface TrainerState {
  step: number;
  tokens: number;
  elapsedSec: number;
  defaultGenerator: (number | null)[];
  sampler: unknown;
  bestValLoss: number | null;
  log: LogRecord[];
}

export interface CheckpointPayload {
  step: number;
  state: TrainerState;
  /** Optimizer moments keyed `<param>.exp_avg` / `<param>.exp_avg_sq`, plus the step counts. */
  optimizer: { tensors: Map<string, Tensor>; meta: Record<string, unknown> };
  /** "periodic", "final" or "interrupt". */
  reason: "periodic" | "final" | "interrupt";
}

export interface TrainerHooks {
  onLog?(record: LogRecord): void;
  onCheckpoint?(ckpt: CheckpointPayload): void | Promise<void>;
  /** Polled between steps; true stops the run after saving a checkpoint. */
  shouldStop?(): boolean;
}

/**
 * Parameter groups with decoupled weight decay on matrices only: biases, norm weights (1-D) and
 * embedding tables (names matching /embed|wte|wpe|shared/) get no decay, as in nanoGPT / HF
 * practice. Tied parameters appear once.
 */
export function weightDecayGroups(named: Iterable<[string, Tensor]>, weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  const seen = new Set<Tensor>();
  for (const [name, p] of named) {
    if (!p.requiresGrad || seen.has(p)) continue;
    seen.add(p);
    if (p.ndim < 2 || /(^|\.)(embed|wte|wpe|shared)|embeddings?\./.test(name)) noDecay.push(p);
    else decay.push(p);
  }
  const groups = [];
  if (decay.length) groups.push({ params: decay, weightDecay });
  if (noDecay.length) groups.push({ params: noDecay, weightDecay: 0 });
  return groups;
}

export class Trainer {
  readonly model: TrainableModel;
  readonly optimizer: AdamW;
  private readonly names: Map<Tensor, string>;
  private readonly params: Tensor[];
  /** Every evaluation starts the validation source from here, so results do not depend on history. */
  private readonly valStart: unknown;
  state: TrainerState;

  constructor(
    model: TrainableModel,
    optimizer: AdamW,
    private readonly trainData: BatchSource,
    private readonly valData: BatchSource | null,
    private readonly opts: TrainerOptions,
    private readonly hooks: TrainerHooks = {},
  ) {
    if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new Error(`Trainer: steps must be a non-negative integer, got ${opts.steps}`);
    if (!(opts.lr > 0)) throw new Error(`Trainer: lr must be > 0, got ${opts.lr}`);
    const acc = opts.gradAccumSteps ?? 1;
    if (!Number.isInteger(acc) || acc < 1) throw new Error(`Trainer: gradAccumSteps must be a positive integer, got ${acc}`);
    this.model = model;
    this.optimizer = optimizer;
    this.names = new Map();
    this.params = [];
    for (const [name, p] of model.namedParameters()) {
      if (this.names.has(p)) continue;
      this.names.set(p, name);
      if (p.requiresGrad) this.params.push(p);
    }
    this.valStart = valData ? structuredClone(valData.getState()) : null;
    this.state = { step: 0, tokens: 0, elapsedSec: 0, defaultGenerator: defaultGenerator.getState(), sampler: trainData.getState(), bestValLoss: null, log: [] };
  }

  /** Mean loss and perplexity over `batches` batches of the validation source (eval mode, no grad). */
  evaluate(batches = this.opts.evalBatches ?? 20): { loss: number; perplexity: number } {
    if (!this.valData) throw new Error("Trainer.evaluate: no validation data");
    this.valData.setState(structuredClone(this.valStart));
    this.model.eval();
    let sum = 0;
    try {
      noGrad(() => {
        for (let i = 0; i < batches; i++) {
          const out = this.model.forward(lossOnly(this.valData!.next().input));
          if (!out.loss) throw new Error("Trainer.evaluate: the model returned no loss (are labels in the batch?)");
          sum += out.loss.item();
        }
      });
    } finally {
      this.model.train();
    }
    const loss = sum / batches;
    return { loss, perplexity: Math.exp(loss) };
  }

  /** One optimizer step over gradAccumSteps micro-batches; returns the mean loss and grad norm. */
  step(): { loss: number; gradNorm?: number; tokens: number; lr: number } {
    const acc = this.opts.gradAccumSteps ?? 1;
    const lr = this.opts.lr * this.opts.schedule(this.state.step);
    for (const g of this.optimizer.paramGroups) g.options.lr = lr;
    this.optimizer.zeroGrad();
    let lossSum = 0;
    let tokens = 0;
    for (let m = 0; m < acc; m++) {
      const batch = this.trainData.next();
      const out = this.model.forward(lossOnly(batch.input));
      if (!out.loss) throw new Error("Trainer: the model returned no loss (are labels in the batch?)");
      const l = acc === 1 ? out.loss : out.loss.mul(1 / acc);
      l.backward();
      lossSum += out.loss.item();
      tokens += batch.tokens;
    }
    const loss = lossSum / acc;
    if (!Number.isFinite(loss)) {
      throw new Error(`Trainer: the loss is ${loss} at step ${this.state.step + 1}; stopping before the weights are corrupted (try a lower lr or gradient clipping)`);
    }
    let gradNorm: number | undefined;
    if (this.opts.maxGradNorm && this.opts.maxGradNorm > 0) gradNorm = clipGradNorm(this.params, this.opts.maxGradNorm);
    this.optimizer.step();
    this.state.step++;
    this.state.tokens += tokens;
    return { loss, gradNorm, tokens, lr };
  }

  /** Runs until opts.steps (continuing from the current state) or a stop request. */
  async train(): Promise<TrainerState> {
    this.model.train();
    const logEvery = this.opts.logEvery ?? 1;
    let windowStart = performance.now();
    let windowTokens = 0;
    const lastElapsed = this.state.elapsedSec;
    const t0 = performance.now();
    let reason: CheckpointPayload["reason"] = "final";
    while (this.state.step < this.opts.steps) {
      // Yield to the event loop so that signal handlers (Ctrl-C) and I/O callbacks run.
      await new Promise((r) => setImmediate(r));
      if (this.hooks.shouldStop?.()) {
        reason = "interrupt";
        break;
      }
      const r = this.step();
      windowTokens += r.tokens;
      this.state.elapsedSec = lastElapsed + (performance.now() - t0) / 1000;
      const step = this.state.step;
      const rec: LogRecord = { step, loss: r.loss, lr: r.lr, tokens: this.state.tokens, elapsedSec: this.state.elapsedSec };
      if (r.gradNorm !== undefined) rec.gradNorm = r.gradNorm;
      if (step % logEvery === 0 || step === this.opts.steps) {
        const now = performance.now();
        rec.tokensPerSec = windowTokens / ((now - windowStart) / 1000);
        windowStart = now;
        windowTokens = 0;
      }
      const evalEvery = this.opts.evalEvery ?? 0;
      if (this.valData && evalEvery > 0 && (step % evalEvery === 0 || step === this.opts.steps)) {
        const e = this.evaluate();
        rec.valLoss = e.loss;
        rec.valPerplexity = e.perplexity;
        if (this.state.bestValLoss === null || e.loss < this.state.bestValLoss) this.state.bestValLoss = e.loss;
      }
      if (rec.tokensPerSec !== undefined || rec.valLoss !== undefined) {
        this.state.log.push(rec);
        this.hooks.onLog?.(rec);
      }
      const saveEvery = this.opts.saveEvery ?? 0;
      if (saveEvery > 0 && step % saveEvery === 0 && step !== this.opts.steps) await this.checkpoint("periodic");
    }
    await this.checkpoint(reason);
    return this.state;
  }

  /** Builds the checkpoint payload (state snapshot) and hands it to the hook. */
  async checkpoint(reason: CheckpointPayload["reason"]): Promise<void> {
    this.state.defaultGenerator = defaultGenerator.getState();
    this.state.sampler = this.trainData.getState();
    if (!this.hooks.onCheckpoint) return;
    await this.hooks.onCheckpoint({ step: this.state.step, state: structuredClone(this.state), optimizer: this.optimizerState(), reason });
  }

  /** AdamW moments as tensors keyed by parameter name (PyTorch's exp_avg / exp_avg_sq). */
  optimizerState(): CheckpointPayload["optimizer"] {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const p of this.params) {
      const name = this.names.get(p)!;
      const s = this.optimizer.getState(p);
      if (!s) continue;
      tensors.set(`${name}.exp_avg`, new Tensor(s.m, p.shape));
      tensors.set(`${name}.exp_avg_sq`, new Tensor(s.v, p.shape));
      steps[name] = s.step;
    }
    return { tensors, meta: { optimizer: "AdamW", steps } };
  }

  /** Restores a checkpoint's trainer and optimizer state (weights are loaded by the caller). */
  loadState(state: TrainerState, optimizer: CheckpointPayload["optimizer"]): void {
    const steps = (optimizer.meta.steps ?? {}) as Record<string, number>;
    for (const p of this.params) {
      const name = this.names.get(p)!;
      const m = optimizer.tensors.get(`${name}.exp_avg`);
      const v = optimizer.tensors.get(`${name}.exp_avg_sq`);
      if (!m || !v || steps[name] === undefined) {
        throw new Error(`resume: the optimizer state has no moments for parameter ${name} (was the checkpoint written for another model?)`);
      }
      if (m.size !== p.size || v.size !== p.size) throw new Error(`resume: optimizer moments for ${name} have ${m.size} elements, the parameter ${p.size}`);
      this.optimizer.setState(p, { step: steps[name], m: Float32Array.from(m.toTypedArray()), v: Float32Array.from(v.toTypedArray()) });
    }
    this.state = structuredClone(state);
    defaultGenerator.setState(state.defaultGenerator);
    this.trainData.setState(state.sampler);
  }
}

export type { AdamWOptions };
