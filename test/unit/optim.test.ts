// Optimizers against PyTorch trajectories (fixtures/optim/optim.json from tools/golden/optim.py),
// on both kernel sets: the same gradients in, the same parameters out after every step.
import { beforeAll, describe, it } from "vitest";
import { Tensor, useKernels } from "../../src/index.js";
import { AdamW, SGD } from "../../src/train/optim.js";
import { KERNEL_SETS, assertClose, readJSON } from "../helpers.js";

interface Case {
  name: string;
  optimizer: "AdamW" | "SGD";
  options: Record<string, any>;
  shapes: number[][];
  init: number[][];
  grads: number[][][];
  after: number[][][];
}

const fixture = readJSON<{ cases: Case[] }>("fixtures/optim/optim.json");
// Float32 updates; AdamW divides by sqrt(v)+eps, which amplifies last-bit differences early on.
const TOL = { atol: 2e-6, rtol: 2e-6 };

for (const kernelSet of KERNEL_SETS) {
  describe(`optimizers vs PyTorch (${kernelSet} kernels)`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });
    for (const c of fixture.cases) {
      it(c.name, () => {
        const params = c.shapes.map((s, i) => {
          const p = new Tensor(Float32Array.from(c.init[i]), s);
          p.requiresGrad = true;
          return p;
        });
        const o = c.options;
        const opt =
          c.optimizer === "AdamW"
            ? new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay })
            : new SGD(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weight_decay, nesterov: o.nesterov });
        c.grads.forEach((stepGrads, step) => {
          params.forEach((p, i) => (p.grad = new Tensor(Float32Array.from(stepGrads[i]), c.shapes[i])));
          opt.step();
          params.forEach((p, i) => assertClose(`${c.name} step ${step + 1} param ${i}`, p.toTypedArray(), c.after[step][i], TOL));
        });
      });
    }
  });
}
