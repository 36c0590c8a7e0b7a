// Cross-entropy over the last axis (the language-model convention), with ignoreIndex and label
// smoothing as in torch.nn.functional.cross_entropy.
//
// logits [..., V] float32 and targets [...] int32. Reduction "mean" divides by the number of
// targets that are not ignoreIndex (NaN when all are ignored, as PyTorch); "sum" adds; "none"
// returns the per-position losses (0 at ignored positions).
import { record } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { checkFloat, checkInt, f32, i32 } from "./util.js";

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: "mean" | "sum" | "none";
}

export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkFloat("crossEntropy", logits, "logits");
  checkInt("crossEntropy", targets, "targets");
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? "mean";
  if (!(smoothing >= 0 && smoothing <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") throw new Error(`crossEntropy: reduction must be "mean", "sum" or "none", got "${String(reduction)}"`);
  const lead = logits.shape.slice(0, -1);
  if (logits.ndim < 1 || targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new Error(`crossEntropy: targets of shape ${formatShape(targets.shape)} must match the logits' shape ${formatShape(logits.shape)} without its last (class) dim`);
  }
  const V = logits.shape[logits.ndim - 1];
  const rows = targets.size;
  const t = i32(targets);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignoreIndex) continue;
    if (t[r] < 0 || t[r] >= V) throw new Error(`crossEntropy: target ${t[r]} at position ${r} is out of range for ${V} classes (ignoreIndex is ${ignoreIndex})`);
    count++;
  }
  const x = f32(logits);
  const loss = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const k = kernels();
  k.crossEntropy(x, t, loss, lse, rows, V, ignoreIndex, smoothing);
  let out: Tensor;
  if (reduction === "none") out = new Tensor(loss, targets.shape);
  else {
    let s = 0;
    for (let r = 0; r < rows; r++) s += loss[r];
    out = new Tensor(new Float32Array([reduction === "sum" ? s : s / count]), []);
  }
  return record("crossEntropy", out, [logits], (g) => {
    const gLoss = new Float32Array(rows);
    if (reduction === "none") gLoss.set(f32(g));
    else gLoss.fill(reduction === "sum" ? g.item() : g.item() / count);
    const gx = new Float32Array(logits.size);
    k.crossEntropyBackward(x, t, lse, gLoss, gx, rows, V, ignoreIndex, smoothing);
    return [new Tensor(gx, logits.shape)];
  });
}
