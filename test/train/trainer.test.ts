// The training loop on a tiny GPT-2: it learns, gradient accumulation equals a bigger batch, and a
// run resumed from a mid-run checkpoint ends with bit-identical weights (dropout on, so the
// generator states must be restored too).
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { Generator, Tensor } from "../../src/index.js";
import { createModel } from "../../src/models/registry.js";
import { ParamSource } from "../../src/nn/module.js";
import { AdamW } from "../../src/train/optim.js";
import { lrSchedule } from "../../src/train/schedule.js";
import { Trainer, weightDecayGroups, type BatchSource, type CheckpointPayload } from "../../src/train/trainer.js";

const V = 32;
const cfg = { model_type: "gpt2", n_layer: 2, n_embd: 32, n_head: 4, vocab_size: V, n_positions: 32, resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 };

/** Random windows over a fixed token stream with a learnable pattern (a repeating sequence). */
class Windows implements BatchSource {
  private gen: Generator;
  constructor(
    private stream: Int32Array,
    private B: number,
    private T: number,
    seed: number,
  ) {
    this.gen = new Generator(seed);
  }
  next() {
    const ids = new Int32Array(this.B * this.T);
    for (let b = 0; b < this.B; b++) {
      const o = this.gen.randint(this.stream.length - this.T);
      ids.set(this.stream.subarray(o, o + this.T), b * this.T);
    }
    const t = new Tensor(ids, [this.B, this.T]);
    return { input: { inputIds: t, labels: t }, tokens: this.B * this.T };
  }
  getState() {
    return this.gen.getState();
  }
  setState(s: unknown) {
    this.gen.setState(s as number[]);
  }
}

function stream(n: number): Int32Array {
  const s = new Int32Array(n);
  const g = new Generator(11);
  for (let i = 0; i < n; i++) s[i] = i % 7 === 0 ? g.randint(V) : (s[i - 1] * 3 + 1) % V;
  return s;
}

function setup(steps: number, opts: { accum?: number; B?: number } = {}) {
  T.manualSeed(123);
  const model = createModel(cfg, ParamSource.init({ seed: 1 })) as any;
  const opt = new AdamW(weightDecayGroups(model.namedParameters(), 0.1), { lr: 3e-3 });
  const data = new Windows(stream(4000), opts.B ?? 4, 16, 5);
  const val = new Windows(stream(4000), 4, 16, 99);
  const saved: CheckpointPayload[] = [];
  const trainer = new Trainer(
    model,
    opt,
    data,
    val,
    { steps, lr: 3e-3, schedule: lrSchedule({ name: "cosine", warmupSteps: 5, totalSteps: 40 }), gradAccumSteps: opts.accum ?? 1, maxGradNorm: 1, evalEvery: 20, evalBatches: 2, saveEvery: 10 },
    { onCheckpoint: (c) => void saved.push(c) },
  );
  return { model, trainer, saved };
}

const weights = (model: any) => [...model.namedParameters()].map(([n, p]: [string, Tensor]) => [n, Array.from(p.toTypedArray())] as const);

describe("Trainer", () => {
  it("learns the pattern: validation loss falls well below log(V)", async () => {
    const { trainer } = setup(40);
    const before = trainer.evaluate(4).loss;
    await trainer.train();
    const after = trainer.evaluate(4).loss;
    expect(before).toBeGreaterThan(Math.log(V) - 0.3);
    expect(after).toBeLessThan(before - 0.8);
    expect(trainer.state.log.filter((r) => r.valLoss !== undefined).length).toBe(2);
  });

  it("resumes from a checkpoint to bit-identical weights", async () => {
    const full = setup(30);
    await full.trainer.train();
    const ref = weights(full.model);

    const first = setup(30);
    let stopAfter = 10;
    const ckpts: CheckpointPayload[] = [];
    // Stop after step 10 through the shouldStop hook (what Ctrl-C does), keeping the checkpoint.
    (first.trainer as any).hooks = { shouldStop: () => first.trainer.state.step >= stopAfter, onCheckpoint: (c: CheckpointPayload) => void ckpts.push(c) };
    await first.trainer.train();
    const ck = ckpts[ckpts.length - 1];
    expect(ck.reason).toBe("interrupt");
    expect(ck.step).toBe(10);
    const w10 = new Map(first.model.namedParameters() as Iterable<[string, Tensor]>);

    // A fresh process would rebuild everything from files; here: a new model from the weights.
    T.manualSeed(999); // the checkpoint must override whatever the global generator holds
    const resumed = setup(30);
    for (const [n, p] of resumed.model.namedParameters() as Iterable<[string, Tensor]>) (p.data as Float32Array).set(w10.get(n)!.toTypedArray());
    resumed.trainer.loadState(ck.state, ck.optimizer);
    await resumed.trainer.train();
    stopAfter = Infinity;
    const got = weights(resumed.model);
    expect(got.length).toBe(ref.length);
    got.forEach(([n, w], i) => {
      expect(n).toBe(ref[i][0]);
      expect(w).toEqual(ref[i][1]);
    });
  });

  it("accumulating 2 micro-batches of 2 equals one batch of 4 (same windows)", () => {
    const a = setup(1, { B: 4 });
    const b = setup(1, { B: 2, accum: 2 });
    a.model.eval();
    b.model.eval(); // no dropout: the comparison is about the gradient arithmetic
    const ra = a.trainer.step();
    const rb = b.trainer.step();
    expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-5);
    const wa = weights(a.model);
    const wb = weights(b.model);
    let maxd = 0;
    wa.forEach(([, w], i) => w.forEach((v, j) => (maxd = Math.max(maxd, Math.abs(v - wb[i][1][j])))));
    expect(maxd).toBeLessThan(1e-6);
  });
});
