// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ with the 2-norm or the max norm).
//
// total = ||(||g_1||, ..., ||g_n||)||  over the parameters that have gradients;
// if total > maxNorm, every gradient is scaled by maxNorm / (total + 1e-6) (PyTorch's epsilon).
// Returns the total norm before clipping (NaN/inf propagate, as in PyTorch with
// error_if_nonfinite = false).
import type { Tensor } from "../tensor/tensor.js";

export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType: 2 | "inf" = 2): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const grads: Float32Array[] = [];
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad;
    if (!g.isContiguous()) throw new Error(`clipGradNorm: the gradient of ${p.name ?? "a parameter"} is not contiguous`);
    const d = g.data as Float32Array;
    grads.push(d.subarray(g.offset, g.offset + g.size));
  }
  let total = 0;
  if (normType === "inf") {
    for (const d of grads) for (let i = 0; i < d.length; i++) total = Math.max(total, Math.abs(d[i]));
  } else if (normType === 2) {
    for (const d of grads) {
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i] * d[i];
      total += s;
    }
    total = Math.sqrt(total);
  } else throw new Error(`clipGradNorm: normType must be 2 or "inf", got ${String(normType)}`);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    const c = Math.fround(coef);
    for (const d of grads) for (let i = 0; i < d.length; i++) d[i] *= c;
  }
  return total;
}
