// Shared by the bert / t5 / transformer golden tests: fixture loading from fixtures/models_encdec/
// (written by tools/golden/models_encdec.py) and the comparison metrics, written down once:
//
//   logits     max |tslm - reference| over all elements                   <= 1e-4 (absolute)
//   loss       |tslm - reference|                                          <= 1e-5 (absolute)
//   gradients  max |tslm - ref| / max(max |ref|, 1e-3 G) per parameter    <= 1e-3 (relative to the tensor's scale)
//              where G is the largest |gradient| over all parameters: a tensor whose exact gradient
//              is zero (BERT's key biases: softmax ignores a per-query constant) holds only rounding
//              noise on both sides, which is compared against 1e-3 of the model's gradient scale.
//
// Both sides compute in float32, so the differences are summation order and transcendental rounding
// (measured about 1e-7 on logits and 1e-6 on gradients, printed by each test).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { loadSafetensors } from "../../src/io/index.js";
import type { Module } from "../../src/nn/module.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { repoRoot } from "../helpers.js";

export const ENCDEC_DIR = join(repoRoot, "fixtures", "models_encdec");
export const TOL = { logits: 1e-4, loss: 1e-5, gradRel: 1e-3 };

export function fixture(name: string): { dir: string; config: Record<string, unknown>; weights: Map<string, Tensor>; ref: Map<string, Tensor> } {
  const dir = join(ENCDEC_DIR, name);
  return {
    dir,
    config: JSON.parse(readFileSync(join(dir, "config.json"), "utf8")),
    weights: loadSafetensors(join(dir, "model.safetensors")),
    ref: loadSafetensors(join(dir, "reference.safetensors")),
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Compares logits and loss, runs backward, and compares every parameter's gradient with the
 * reference's grad.<name> (the key sets must be equal). Returns the measured errors for the log.
 */
export function checkAgainstReference(label: string, model: Module, out: { logits: Tensor; loss?: Tensor }, ref: Map<string, Tensor>): string {
  const want = ref.get("logits")!;
  expect(out.logits.shape).toEqual(want.shape);
  const dLogits = maxAbsDiff(out.logits.toTypedArray(), want.toTypedArray());
  const dLoss = Math.abs(out.loss!.item() - ref.get("loss")!.item());
  out.loss!.backward();
  const params = model.namedParameters();
  const gradKeys = [...ref.keys()].filter((k) => k.startsWith("grad.")).map((k) => k.slice(5));
  expect(params.map(([k]) => k).sort()).toEqual(gradKeys.sort());
  let worst = { name: "", rel: 0 };
  const bad: string[] = [];
  const G = Math.max(...params.map(([pname]) => maxAbs(ref.get(`grad.${pname}`)!.toTypedArray())));
  for (const [pname, p] of params) {
    const hf = ref.get(`grad.${pname}`)!.toTypedArray();
    const g = p.grad ? p.grad.toTypedArray() : new Float32Array(p.size);
    const rel = maxAbsDiff(g, hf) / Math.max(maxAbs(hf), 1e-3 * G);
    if (rel > worst.rel) worst = { name: pname, rel };
    if (!(rel <= TOL.gradRel)) bad.push(`${pname}: max rel diff ${rel.toExponential(2)}`);
  }
  const line = `${label}: logits max|diff| ${dLogits.toExponential(2)}, loss |diff| ${dLoss.toExponential(2)}, worst grad ${worst.name} rel ${worst.rel.toExponential(2)}`;
  console.log(line);
  expect(dLogits, "logits max |diff|").toBeLessThanOrEqual(TOL.logits);
  expect(dLoss, "loss |diff|").toBeLessThanOrEqual(TOL.loss);
  expect(bad, "gradients over tolerance").toEqual([]);
  return line;
}

/**
 * Six plain SGD steps (p -= lr * grad) on the fixture batch, as PyTorch took them (sgd_losses,
 * sgd_lr in the reference): exercises repeated forward/backward, in-place updates and tied
 * parameters. Metric: max over steps of |loss_tslm - loss_ref| <= 1e-4 (errors compound over steps;
 * printed per case).
 */
export function checkSGDTrajectory(label: string, model: Module, lossOf: () => Tensor, ref: Map<string, Tensor>): void {
  const lr = ref.get("sgd_lr")!.item();
  const want = ref.get("sgd_losses")!.toTypedArray();
  const got: number[] = [];
  for (let step = 0; step < want.length; step++) {
    model.zeroGrad();
    const loss = lossOf();
    got.push(loss.item());
    loss.backward();
    for (const p of model.parameters()) {
      if (!p.grad) continue;
      const g = p.grad.toTypedArray();
      const d = p.data as Float32Array;
      for (let i = 0; i < g.length; i++) d[p.offset + i] -= lr * g[i];
    }
  }
  const worst = maxAbsDiff(got, want);
  console.log(`${label}: SGD losses ${got.map((x) => x.toFixed(4)).join(" ")}, max |diff| ${worst.toExponential(2)}`);
  expect(worst, "SGD trajectory max |diff|").toBeLessThanOrEqual(1e-4);
}
