// Reference kernels: the obvious loops, in plain TypeScript.
//
// These are the oracle the native kernels are tested against and the fallback when the addon is
// unavailable. They favour clarity over speed, but avoid gratuitous slowness (no per-element
// allocation, innermost loops over contiguous memory) so that the test suite stays quick.
// Semantics of every method are documented on the Kernels interface in ../types.ts.
import { BinaryOp, ReduceOp, UnaryOp, type F32, type I32, type Kernels } from "../types.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf(x) to near double precision (the exact-GELU oracle must be far more accurate than float32):
 * the Maclaurin series for |x| < 2.5, and erfc's continued fraction (evaluated from its tail) above.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); converges fast for |x| < 2.5.
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))) (Lentz).
  if (ax > 6) return x > 0 ? 1 : -1;
  // erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + ...)))).
  let t = ax;
  for (let n = 60; n >= 1; n--) t = ax + n / 2 / t;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
  return x > 0 ? 1 - erfc : erfc - 1;
}

function unaryFn(op: UnaryOp, param: number): (x: number) => number {
  switch (op) {
    case UnaryOp.Neg:
      return (x) => -x;
    case UnaryOp.Exp:
      return Math.exp;
    case UnaryOp.Log:
      return Math.log;
    case UnaryOp.Sqrt:
      return Math.sqrt;
    case UnaryOp.Rsqrt:
      return (x) => 1 / Math.sqrt(x);
    case UnaryOp.Tanh:
      return Math.tanh;
    case UnaryOp.Sigmoid:
      return (x) => 1 / (1 + Math.exp(-x));
    case UnaryOp.Relu:
      return (x) => (x > 0 ? x : x === x ? 0 : x);
    case UnaryOp.GeluTanh:
      return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case UnaryOp.GeluErf:
      return (x) => 0.5 * x * (1 + erf(x * INV_SQRT_2));
    case UnaryOp.Silu:
      return (x) => x / (1 + Math.exp(-x));
    case UnaryOp.Abs:
      return Math.abs;
    case UnaryOp.PowScalar:
      return (x) => Math.pow(x, param);
    case UnaryOp.Scale:
      return (x) => x * param;
    case UnaryOp.AddScalar:
      return (x) => x + param;
    case UnaryOp.Square:
      return (x) => x * x;
  }
  throw new Error(`unary: unknown op code ${op}`);
}

/** d f(x) / dx as a function of x and y = f(x). */
function unaryDeriv(op: UnaryOp, param: number): (x: number, y: number) => number {
  switch (op) {
    case UnaryOp.Neg:
      return () => -1;
    case UnaryOp.Exp:
      return (_x, y) => y;
    case UnaryOp.Log:
      return (x) => 1 / x;
    case UnaryOp.Sqrt:
      return (_x, y) => 0.5 / y;
    case UnaryOp.Rsqrt:
      return (x, y) => (-0.5 * y) / x;
    case UnaryOp.Tanh:
      return (_x, y) => 1 - y * y;
    case UnaryOp.Sigmoid:
      return (_x, y) => y * (1 - y);
    case UnaryOp.Relu:
      return (x) => (x > 0 ? 1 : 0);
    case UnaryOp.GeluTanh:
      return (x) => {
        const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        const t = Math.tanh(inner);
        const dInner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dInner;
      };
    case UnaryOp.GeluErf:
      return (x) => 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case UnaryOp.Silu:
      return (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
      };
    case UnaryOp.Abs:
      return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case UnaryOp.PowScalar:
      return (x) => (param === 0 ? 0 : param * Math.pow(x, param - 1));
    case UnaryOp.Scale:
      return () => param;
    case UnaryOp.AddScalar:
      return () => 1;
    case UnaryOp.Square:
      return (x) => 2 * x;
  }
  throw new Error(`unaryBackward: unknown op code ${op}`);
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case BinaryOp.Add:
      return (a, b) => a + b;
    case BinaryOp.Sub:
      return (a, b) => a - b;
    case BinaryOp.Mul:
      return (a, b) => a * b;
    case BinaryOp.Div:
      return (a, b) => a / b;
    case BinaryOp.Pow:
      return Math.pow;
    case BinaryOp.Max:
      return (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b);
    case BinaryOp.Min:
      return (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b);
  }
  throw new Error(`binary: unknown op code ${op}`);
}

/**
 * Visits every index of `shape` in row-major order, calling inner(aPos, bPos, outPos, n) once per
 * innermost row with the starting positions of two strided operands; the innermost loop runs in the
 * callback. Iterative odometer, no allocation per row.
 */
function forEachRow(
  shape: I32,
  aOff: number,
  aStrides: I32,
  bOff: number,
  bStrides: I32,
  inner: (aPos: number, bPos: number, outPos: number, n: number, aStep: number, bStep: number) => void,
): void {
  const nd = shape.length;
  if (nd === 0) {
    inner(aOff, bOff, 0, 1, 0, 0);
    return;
  }
  for (let d = 0; d < nd; d++) if (shape[d] === 0) return;
  const n = shape[nd - 1];
  const aStep = aStrides[nd - 1];
  const bStep = bStrides[nd - 1];
  const idx = new Int32Array(nd);
  let aPos = aOff;
  let bPos = bOff;
  let outPos = 0;
  for (;;) {
    inner(aPos, bPos, outPos, n, aStep, bStep);
    outPos += n;
    // Advance the odometer over dims [0, nd-1).
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      aPos += aStrides[d];
      bPos += bStrides[d];
      if (idx[d] < shape[d]) break;
      aPos -= aStrides[d] * shape[d];
      bPos -= bStrides[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * Row addressing of the attention kernels' arrays (0 q, 1 k, 2 v, 3 out, 4 gOut, 5 gq, 6 gk, 7 gv):
 * row i of head bh = b*H + h starts at off + b*sb + h*sh + i*st from the layout (4 entries per
 * array), or in the contiguous [BH, T, width] layout without one.
 */
function attentionRows(layout: Int32Array | null | undefined, H: number, Tq: number, Tk: number, D: number, Dv: number): (a: number, bh: number, i: number) => number {
  const T = [Tq, Tk, Tk, Tq, Tq, Tq, Tk, Tk];
  const W = [D, D, Dv, Dv, Dv, D, D, Dv];
  const L = T.map((t, a) => (layout && 4 * a + 3 < layout.length ? [layout[4 * a], layout[4 * a + 1], layout[4 * a + 2], layout[4 * a + 3]] : [0, H * t * W[a], t * W[a], W[a]]));
  return (a, bh, i) => {
    const b = Math.floor(bh / H);
    const l = L[a];
    return l[0] + b * l[1] + (bh - b * H) * l[2] + i * l[3];
  };
}

function maskIndexer(H: number, mask: F32 | null, mOff: number, mStrides: I32 | null) {
  if (!mask || !mStrides) return null;
  return (bh: number, i: number, j: number) => {
    const b = Math.floor(bh / H);
    const h = bh - b * H;
    return mask[mOff + b * mStrides[0] + h * mStrides[1] + i * mStrides[2] + j * mStrides[3]];
  };
}

export const refKernels: Kernels = {
  name: "ref",

  gemm(transA, transB, M, N, K, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB, beta, C, cOff, ldc, strideC, batch, bias, biasOff = 0) {
    const row = new Float64Array(N);
    for (let bi = 0; bi < batch; bi++) {
      const a0 = aOff + bi * strideA;
      const b0 = bOff + bi * strideB;
      const c0 = cOff + bi * strideC;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        if (!transB) {
          // row += a[i,k] * B[k,:]  (B rows contiguous)
          for (let k = 0; k < K; k++) {
            const aik = transA ? A[a0 + k * lda + i] : A[a0 + i * lda + k];
            if (aik === 0) continue;
            const bRow = b0 + k * ldb;
            for (let j = 0; j < N; j++) row[j] += aik * B[bRow + j];
          }
        } else {
          // row[j] = dot(a[i,:], B[j,:])  (B stored N x K)
          for (let j = 0; j < N; j++) {
            const bRow = b0 + j * ldb;
            let s = 0;
            if (!transA) {
              const aRow = a0 + i * lda;
              for (let k = 0; k < K; k++) s += A[aRow + k] * B[bRow + k];
            } else {
              for (let k = 0; k < K; k++) s += A[a0 + k * lda + i] * B[bRow + k];
            }
            row[j] = s;
          }
        }
        const cRow = c0 + i * ldc;
        if (beta === 0) for (let j = 0; j < N; j++) C[cRow + j] = alpha * row[j];
        else for (let j = 0; j < N; j++) C[cRow + j] = alpha * row[j] + beta * C[cRow + j];
        if (bias) for (let j = 0; j < N; j++) C[cRow + j] += bias[biasOff + j];
      }
    }
  },

  copyStrided(shape, src, sOff, sStrides, out, dOff) {
    forEachRow(shape, sOff, sStrides, 0, new Int32Array(shape.length), (aPos, _b, outPos, n, aStep) => {
      const o = dOff + outPos;
      if (aStep === 1) {
        for (let j = 0; j < n; j++) out[o + j] = src[aPos + j];
      } else {
        for (let j = 0; j < n; j++) out[o + j] = src[aPos + j * aStep];
      }
    });
  },

  binary(op, shape, a, aOff, aStrides, b, bOff, bStrides, out) {
    const f = binaryFn(op);
    forEachRow(shape, aOff, aStrides, bOff, bStrides, (aPos, bPos, outPos, n, aStep, bStep) => {
      if (op === BinaryOp.Add && aStep === 1 && bStep === 1) {
        for (let j = 0; j < n; j++) out[outPos + j] = a[aPos + j] + b[bPos + j];
        return;
      }
      for (let j = 0; j < n; j++) out[outPos + j] = f(a[aPos + j * aStep], b[bPos + j * bStep]);
    });
  },

  unary(op, x, out, n, param) {
    const f = unaryFn(op, param);
    for (let i = 0; i < n; i++) out[i] = f(x[i]);
  },

  unaryBackward(op, x, y, gy, gx, n, param) {
    const d = unaryDeriv(op, param);
    for (let i = 0; i < n; i++) gx[i] = gy[i] * d(x[i], y[i]);
  },

  reduce(op, x, out, outer, dim, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * dim * inner + i;
        let acc: number;
        if (op === ReduceOp.Sum) {
          acc = 0;
          for (let d = 0; d < dim; d++) acc += x[base + d * inner];
        } else if (op === ReduceOp.Max) {
          acc = -Infinity;
          for (let d = 0; d < dim; d++) {
            const v = x[base + d * inner];
            if (v > acc || v !== v) acc = v;
            if (acc !== acc) break;
          }
        } else {
          acc = Infinity;
          for (let d = 0; d < dim; d++) {
            const v = x[base + d * inner];
            if (v < acc || v !== v) acc = v;
            if (acc !== acc) break;
          }
        }
        out[o * inner + i] = acc;
      }
    }
  },

  argmax(x, out, outer, dim, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * dim * inner + i;
        let best = 0;
        let bv = x[base];
        for (let d = 1; d < dim && bv === bv; d++) {
          const v = x[base + d * inner];
          if (v > bv || v !== v) {
            bv = v;
            best = d;
          }
        }
        out[o * inner + i] = best;
      }
    }
  },

  softmax(x, y, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      if (mx === -Infinity) mx = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[o + j] - mx);
        y[o + j] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let j = 0; j < cols; j++) y[o + j] *= inv;
    }
  },

  softmaxBackward(y, gy, gx, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) gx[o + j] = y[o + j] * (gy[o + j] - dot);
    }
  },

  logSoftmax(x, y, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      if (mx === -Infinity) mx = 0;
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[o + j] - mx);
      const lse = mx + Math.log(s);
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j] - lse;
    }
  },

  logSoftmaxBackward(y, gy, gx, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += gy[o + j];
      for (let j = 0; j < cols; j++) gx[o + j] = gy[o + j] - Math.exp(y[o + j]) * s;
    }
  },

  layerNorm(x, w, b, y, mean, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let m = 0;
      for (let j = 0; j < cols; j++) m += x[o + j];
      m /= cols;
      let v = 0;
      for (let j = 0; j < cols; j++) {
        const d = x[o + j] - m;
        v += d * d;
      }
      v /= cols;
      const rs = 1 / Math.sqrt(v + eps);
      mean[r] = m;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) {
        let t = (x[o + j] - m) * rs;
        if (w) t *= w[j];
        if (b) t += b[j];
        y[o + j] = t;
      }
    }
  },

  layerNormBackward(x, w, mean, rstd, gy, gx, gw, gb, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const m = mean[r];
      const rs = rstd[r];
      // xhat = (x - m) * rs; g = gy * w; gx = rs * (g - mean(g) - xhat * mean(g * xhat))
      let sumG = 0;
      let sumGX = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - m) * rs;
        const g = w ? gy[o + j] * w[j] : gy[o + j];
        sumG += g;
        sumGX += g * xhat;
        if (gw) gw[j] += gy[o + j] * xhat;
        if (gb) gb[j] += gy[o + j];
      }
      const mg = sumG / cols;
      const mgx = sumGX / cols;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - m) * rs;
        const g = w ? gy[o + j] * w[j] : gy[o + j];
        gx[o + j] = rs * (g - mg - xhat * mgx);
      }
    }
  },

  rmsNorm(x, w, y, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let ss = 0;
      for (let j = 0; j < cols; j++) ss += x[o + j] * x[o + j];
      const rs = 1 / Math.sqrt(ss / cols + eps);
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[o + j] = w ? x[o + j] * rs * w[j] : x[o + j] * rs;
    }
  },

  rmsNormBackward(x, w, rstd, gy, gx, gw, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const rs = rstd[r];
      // y = x * rs * w; gx = rs * (g - xhat * mean(g * xhat)) with g = gy * w, xhat = x * rs
      let sumGX = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = x[o + j] * rs;
        const g = w ? gy[o + j] * w[j] : gy[o + j];
        sumGX += g * xhat;
        if (gw) gw[j] += gy[o + j] * xhat;
      }
      const mgx = sumGX / cols;
      for (let j = 0; j < cols; j++) {
        const xhat = x[o + j] * rs;
        const g = w ? gy[o + j] * w[j] : gy[o + j];
        gx[o + j] = rs * (g - xhat * mgx);
      }
    }
  },

  crossEntropy(logits, targets, loss, lse, rows, V, ignoreIndex, smoothing) {
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      let mx = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j] > mx) mx = logits[o + j];
      let s = 0;
      let sumX = 0;
      for (let j = 0; j < V; j++) {
        s += Math.exp(logits[o + j] - mx);
        sumX += logits[o + j];
      }
      const l = mx + Math.log(s);
      lse[r] = l;
      const t = targets[r];
      if (t === ignoreIndex) {
        loss[r] = 0;
        continue;
      }
      const nll = l - logits[o + t];
      loss[r] = smoothing === 0 ? nll : (1 - smoothing) * nll + smoothing * (l - sumX / V);
    }
  },

  crossEntropyBackward(logits, targets, lse, gLoss, gLogits, rows, V, ignoreIndex, smoothing) {
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      const t = targets[r];
      if (t === ignoreIndex) {
        for (let j = 0; j < V; j++) gLogits[o + j] = 0;
        continue;
      }
      const g = gLoss[r];
      const l = lse[r];
      const u = smoothing / V;
      for (let j = 0; j < V; j++) gLogits[o + j] = g * (Math.exp(logits[o + j] - l) - u);
      gLogits[o + t] -= g * (1 - smoothing);
    }
  },

  embedding(weight, ids, out, n, C) {
    for (let i = 0; i < n; i++) {
      const src = ids[i] * C;
      out.set(weight.subarray(src, src + C), i * C);
    }
  },

  embeddingBackward(gOut, ids, gWeight, n, C) {
    for (let i = 0; i < n; i++) {
      const dst = ids[i] * C;
      const src = i * C;
      for (let j = 0; j < C; j++) gWeight[dst + j] += gOut[src + j];
    }
  },

  attention(q, k, v, out, lse, BH, H, Tq, Tk, D, Dv, scale, causal, mask, mOff, mStrides, layout) {
    const maskAt = maskIndexer(H, mask, mOff, mStrides);
    const row = attentionRows(layout, H, Tq, Tk, D, Dv);
    const s = new Float64Array(Tk);
    const acc = new Float64Array(Dv);
    const shift = Tk - Tq;
    for (let bh = 0; bh < BH; bh++) {
      for (let i = 0; i < Tq; i++) {
        const qo = row(0, bh, i);
        let mx = -Infinity;
        for (let j = 0; j < Tk; j++) {
          if (causal && j > i + shift) {
            s[j] = -Infinity;
            continue;
          }
          const ko = row(1, bh, j);
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
          let sc = dot * scale;
          if (maskAt) sc += maskAt(bh, i, j);
          s[j] = sc;
          if (sc > mx) mx = sc;
        }
        const oo = row(3, bh, i);
        if (mx === -Infinity) {
          for (let d = 0; d < Dv; d++) out[oo + d] = 0;
          lse[bh * Tq + i] = -Infinity;
          continue;
        }
        acc.fill(0);
        let sum = 0;
        for (let j = 0; j < Tk; j++) {
          if (s[j] === -Infinity) continue;
          const p = Math.exp(s[j] - mx);
          sum += p;
          const vo = row(2, bh, j);
          for (let d = 0; d < Dv; d++) acc[d] += p * v[vo + d];
        }
        for (let d = 0; d < Dv; d++) out[oo + d] = acc[d] / sum;
        lse[bh * Tq + i] = mx + Math.log(sum);
      }
    }
  },

  attentionBackward(q, k, v, out, lse, gOut, gq, gk, gv, BH, H, Tq, Tk, D, Dv, scale, causal, mask, mOff, mStrides, layout) {
    const maskAt = maskIndexer(H, mask, mOff, mStrides);
    const row = attentionRows(layout, H, Tq, Tk, D, Dv);
    const shift = Tk - Tq;
    for (let bh = 0; bh < BH; bh++) {
      for (let i = 0; i < Tq; i++) gq.fill(0, row(5, bh, i), row(5, bh, i) + D);
      for (let j = 0; j < Tk; j++) {
        gk.fill(0, row(6, bh, j), row(6, bh, j) + D);
        gv.fill(0, row(7, bh, j), row(7, bh, j) + Dv);
      }
    }
    for (let bh = 0; bh < BH; bh++) {
      for (let i = 0; i < Tq; i++) {
        const l = lse[bh * Tq + i];
        if (l === -Infinity) continue;
        const qo = row(0, bh, i);
        const oo = row(3, bh, i);
        const go = row(4, bh, i);
        const gqo = row(5, bh, i);
        // Di = sum_d gOut[i,d] * out[i,d]
        let Di = 0;
        for (let d = 0; d < Dv; d++) Di += gOut[go + d] * out[oo + d];
        for (let j = 0; j < Tk; j++) {
          if (causal && j > i + shift) continue;
          const ko = row(1, bh, j);
          const vo = row(2, bh, j);
          const gko = row(6, bh, j);
          const gvo = row(7, bh, j);
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
          let sc = dot * scale;
          if (maskAt) sc += maskAt(bh, i, j);
          if (sc === -Infinity) continue;
          const p = Math.exp(sc - l);
          // dV[j] += p * dO[i];  dP = dO[i] . V[j];  dS = p * (dP - Di)
          let dP = 0;
          for (let d = 0; d < Dv; d++) {
            gv[gvo + d] += p * gOut[go + d];
            dP += gOut[go + d] * v[vo + d];
          }
          const dS = p * (dP - Di) * scale;
          for (let d = 0; d < D; d++) {
            gq[gqo + d] += dS * k[ko + d];
            gk[gko + d] += dS * q[qo + d];
          }
        }
      }
    }
  },

  adamw(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, step) {
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    const stepSize = lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const decay = 1 - lr * weightDecay;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      p[i] *= decay;
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
  },
};
