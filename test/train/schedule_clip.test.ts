// Learning-rate schedules vs Hugging Face transformers, gradient clipping vs
// torch.nn.utils.clip_grad_norm_ (fixtures from tools/golden/train_utils.py).
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/index.js";
import { clipGradNorm } from "../../src/train/clip.js";
import { lrSchedule, type ScheduleOptions } from "../../src/train/schedule.js";
import { assertClose, readJSON } from "../helpers.js";

describe("learning-rate schedules vs transformers", () => {
  const fx = readJSON<{ cases: { name: string; options: ScheduleOptions; lr: number[] }[] }>("fixtures/train/schedules.json");
  for (const c of fx.cases) {
    it(c.name, () => {
      const f = lrSchedule(c.options);
      assertClose(c.name, c.lr.map((_v, s) => f(s)), c.lr, { atol: 1e-12, rtol: 1e-12 });
    });
  }
  it("the original Transformer's inverse-sqrt schedule peaks at the end of warmup", () => {
    const f = lrSchedule({ name: "inverse_sqrt", warmupSteps: 4000 });
    // Vaswani et al.: lr ∝ min(step^-0.5, step * warmup^-1.5), 1-based steps.
    expect(f(3999)).toBeCloseTo(1, 12);
    expect(f(1999)).toBeCloseTo(0.5, 12);
    expect(f(15999)).toBeCloseTo(0.5, 12);
  });
  it("rejects bad options by name", () => {
    expect(() => lrSchedule({ name: "cosine" })).toThrow(/"cosine" needs totalSteps/);
    expect(() => lrSchedule({ name: "exp" as never })).toThrow(/unknown schedule "exp" \(supported: constant, linear, cosine, inverse_sqrt\)/);
    expect(() => lrSchedule({ name: "constant", warmupSteps: -1 })).toThrow(/warmupSteps must be a non-negative integer/);
  });
});

describe("clipGradNorm vs torch.nn.utils.clip_grad_norm_", () => {
  const fx = readJSON<{ cases: { name: string; max_norm: number; norm_type: 2 | "inf"; shapes: number[][]; grads: number[][]; total_norm: number; clipped: number[][] }[] }>(
    "fixtures/train/clip.json",
  );
  for (const c of fx.cases) {
    it(c.name, () => {
      const params = c.shapes.map((s, i) => {
        const p = new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
        p.requiresGrad = true;
        p.grad = new Tensor(Float32Array.from(c.grads[i]), s);
        return p;
      });
      const total = clipGradNorm(params, c.max_norm, c.norm_type);
      expect(Math.abs(total - c.total_norm) / c.total_norm).toBeLessThan(1e-6);
      params.forEach((p, i) => assertClose(`${c.name} grad ${i}`, p.grad!.toTypedArray(), c.clipped[i], { atol: 1e-9, rtol: 1e-6 }));
    });
  }
});
