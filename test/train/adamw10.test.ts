// Issue 5's oracle: from one Hugging Face random initialisation and the same token batches, ten
// AdamW steps of tslm (weight-decay groups, clipping at 1.0, cosine schedule with warmup) give
// PyTorch's losses and final weights (fixtures/train/adamw10 from tools/golden/train_steps.py).
import { beforeAll, describe, expect, it } from "vitest";
import { Tensor, useKernels } from "../../src/index.js";
import { fromPretrained, loadSafetensors } from "../../src/io/index.js";
import { AdamW } from "../../src/train/optim.js";
import { lrSchedule } from "../../src/train/schedule.js";
import { Trainer, weightDecayGroups, type BatchSource } from "../../src/train/trainer.js";
import { KERNEL_SETS, assertClose, readJSON, repoRoot } from "../helpers.js";
import { join } from "node:path";

const dir = join(repoRoot, "fixtures", "train", "adamw10");
const fx = readJSON<{ batches: number[][][]; losses: number[]; grad_norms: number[]; lrs: number[]; lr: number; betas: [number, number]; eps: number; weight_decay: number; warmup: number; total: number; max_grad_norm: number }>(
  "fixtures/train/adamw10/batches.json",
);

class Fixed implements BatchSource {
  i = 0;
  next() {
    const b = fx.batches[this.i++];
    const ids = new Tensor(Int32Array.from(b.flat()), [b.length, b[0].length]);
    return { input: { inputIds: ids, labels: ids }, tokens: ids.size };
  }
  getState() {
    return this.i;
  }
  setState(s: unknown) {
    this.i = s as number;
  }
}

for (const kernelSet of KERNEL_SETS) {
  describe(`10 AdamW steps vs PyTorch (${kernelSet} kernels)`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });
    it("gives the same losses (1e-4) and final weights (1e-4)", async () => {
      const model = fromPretrained(dir);
      const opt = new AdamW(weightDecayGroups(model.namedParameters(), fx.weight_decay), { lr: fx.lr, betas: fx.betas, eps: fx.eps });
      const losses: number[] = [];
      const norms: number[] = [];
      const trainer = new Trainer(
        model,
        opt,
        new Fixed(),
        null,
        { steps: 10, lr: fx.lr, schedule: lrSchedule({ name: "cosine", warmupSteps: fx.warmup, totalSteps: fx.total }), maxGradNorm: fx.max_grad_norm, logEvery: 1 },
        {
          onLog: (r) => {
            losses.push(r.loss!);
            norms.push(r.gradNorm!);
          },
        },
      );
      await trainer.train();
      assertClose("losses", losses, fx.losses, { atol: 1e-4, rtol: 0 });
      assertClose("grad norms", norms, fx.grad_norms, { atol: 1e-4, rtol: 1e-4 });
      const final = loadSafetensors(join(dir, "final.safetensors"));
      const mine = new Map(model.namedParameters() as Iterable<[string, Tensor]>);
      expect(final.size).toBeGreaterThan(10);
      for (const [name, want] of final) {
        const got = mine.get(name);
        if (!got) throw new Error(`tslm has no parameter ${name}`);
        assertClose(`final ${name}`, got.toTypedArray(), want.toTypedArray(), { atol: 1e-4, rtol: 0 });
      }
    });
  });
}
