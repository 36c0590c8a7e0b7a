// Finite-difference gradient checking.
//
// tslm computes in float32, so PyTorch's float64 gradcheck recipe does not transfer as is. We
// project the output on fixed random weights w (L = sum(out * w), accumulated in float64) and
// compare dL/dx from backward() with a fourth-order central difference:
//   D(h) = (L(x+h) - L(x-h)) / 2h,   estimate = (4 D(h/2) - D(h)) / 3   (Richardson; error O(h^4))
// With h = 1e-2 the truncation error is negligible for smooth functions and float32 rounding of L
// contributes about 1e-7 |L| / h. Tolerances: |analytic - numeric| <= atol + rtol * |numeric|.
import { Generator } from "../tensor/rng.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { backward, noGrad } from "./engine.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed for the projection weights. */
  seed?: number;
  /** Check at most this many elements per input (spread evenly); default all. */
  maxElements?: number;
}

export interface GradcheckMismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  mismatches: GradcheckMismatch[];
}

function project(out: Tensor, w: Float64Array): number {
  const d = out.toTypedArray();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * w[i];
  return s;
}

/**
 * Checks the gradients of fn at `inputs` (float32 tensors with requiresGrad, contiguous) against
 * finite differences. Returns the result; throws nothing unless fn does.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  for (const [i, t] of inputs.entries()) {
    if (t.requiresGrad && (!t.isContiguous() || t.dtype !== "float32")) {
      throw new Error(`gradcheck: input ${i} must be a contiguous float32 tensor (shape ${formatShape(t.shape)}, dtype ${t.dtype})`);
    }
  }
  const out = fn(...inputs);
  const gen = new Generator(opts.seed ?? 1234);
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = gen.uniform() * 2 - 1;
  for (const t of inputs) t.grad = null;
  backward(out, new Tensor(Float32Array.from(w), out.shape));

  const mismatches: GradcheckMismatch[] = [];
  let maxAbsError = 0;
  const L = (): number => noGrad(() => project(fn(...inputs), w));
  for (const [ii, t] of inputs.entries()) {
    if (!t.requiresGrad) continue;
    const analytic = t.grad ? t.grad.toTypedArray() : new Float32Array(t.size);
    const n = t.size;
    const step = opts.maxElements && n > opts.maxElements ? n / opts.maxElements : 1;
    for (let f = 0; f < n; f += step) {
      const i = Math.floor(f);
      const pos = t.offset + i;
      const orig = t.data[pos];
      const at = (h: number) => {
        t.data[pos] = orig + h;
        const up = L();
        t.data[pos] = orig - h;
        const down = L();
        t.data[pos] = orig;
        return (up - down) / (2 * h);
      };
      const numeric = (4 * at(eps / 2) - at(eps)) / 3;
      const err = Math.abs(analytic[i] - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      if (!(err <= atol + rtol * Math.abs(numeric))) mismatches.push({ input: ii, index: i, analytic: analytic[i], numeric });
    }
  }
  return { ok: mismatches.length === 0, maxAbsError, mismatches };
}
