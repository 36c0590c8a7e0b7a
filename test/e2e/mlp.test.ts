// A small network learns, and a long training loop holds steady memory — using only the public API.
import { describe, expect, it, beforeAll } from "vitest";
import v8 from "node:v8";
import vm from "node:vm";
import * as tslm from "../../src/index.js";
import { KERNEL_SETS } from "../helpers.js";

/** Two interleaved spirals (a classic non-linear task), seeded. */
function spirals(n: number, seed: number): { x: tslm.Tensor; y: tslm.Tensor } {
  const g = new tslm.Generator(seed);
  const xs = new Float32Array(2 * n);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const r = (i / n) * 3 + 0.3;
    const th = r * 2.2 + cls * Math.PI + (g.uniform() - 0.5) * 0.2;
    xs[2 * i] = r * Math.cos(th) / 3;
    xs[2 * i + 1] = r * Math.sin(th) / 3;
    ys[i] = cls;
  }
  return { x: tslm.tensor(xs, [n, 2]), y: tslm.tensor(ys, [n]) };
}

function mlp(seed: number, hidden: number) {
  const g = new tslm.Generator(seed);
  const w1 = tslm.randn([hidden, 2], { generator: g, std: 1 / Math.sqrt(2), requiresGrad: true });
  const b1 = tslm.zeros([hidden], { requiresGrad: true });
  const w2 = tslm.randn([2, hidden], { generator: g, std: 1 / Math.sqrt(hidden), requiresGrad: true });
  const b2 = tslm.zeros([2], { requiresGrad: true });
  const forward = (x: tslm.Tensor) => tslm.linear(tslm.linear(x, w1, b1).tanh(), w2, b2);
  return { params: [w1, b1, w2, b2], forward };
}

for (const kernelSet of KERNEL_SETS) {
  describe(`a 2-layer MLP trained with SGD (${kernelSet} kernels)`, () => {
    beforeAll(() => {
      tslm.useKernels(kernelSet);
    });
    it("separates two spirals", () => {
      const { x, y } = spirals(400, 1);
      const net = mlp(2, 64);
      const opt = new tslm.SGD(net.params, { lr: 0.2, momentum: 0.9 });
      let first = 0;
      let last = 0;
      for (let step = 0; step < 1500; step++) {
        const loss = tslm.crossEntropy(net.forward(x), y);
        if (step === 0) first = loss.item();
        last = loss.item();
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      const pred = tslm.noGrad(() => net.forward(x).argmax(-1)).toTypedArray();
      const acc = Array.from(pred).reduce((a: number, p: number, i: number) => a + (p === y.get(i) ? 1 : 0), 0) / pred.length;
      expect(first).toBeGreaterThan(0.6);
      expect(last).toBeLessThan(0.15);
      expect(acc).toBeGreaterThan(0.95);
    });
  });
}

describe("memory over thousands of steps", () => {
  it("stays flat after warm-up (no growth from the tape, grads or kernels)", () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const used = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const { x, y } = spirals(256, 3);
    const net = mlp(4, 128);
    const opt = new tslm.AdamW(net.params, { lr: 1e-3 });
    const step = () => {
      const loss = tslm.crossEntropy(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    };
    for (let i = 0; i < 300; i++) step();
    const base = used();
    for (let i = 0; i < 3000; i++) step();
    const after = used();
    // One step allocates ~0.5 MB of activations and gradients; a leak of one step's tensors per
    // step would add > 1 GB. Allow a little noise from JIT and GC bookkeeping.
    expect(after - base).toBeLessThan(4 * 1024 * 1024);
  });
});
