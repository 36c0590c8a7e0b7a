// The kernel interface: raw loops over typed arrays, nothing else.
//
// Two implementations share this exact interface:
//   kernels/ref/    plain TypeScript, obvious loops: the oracle for tests and the fallback;
//   kernels/native/ the C addon under native/ (AVX-512 / AVX2 / scalar, threaded).
// Kernels know nothing of Tensor, shapes beyond the integers they are given, or autograd. All arrays
// are row-major; every "offset" is an element index into the array. Callers (src/ops) validate
// shapes and ranges before calling, so kernels do not re-check them.
//
// Glossary: M, N, K matrix dims; B batch; T time; C channels; V vocab; D head dim; BH batch*heads.

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Elementwise binary operations (codes shared with the C side). */
export enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Pow = 4,
  Max = 5,
  Min = 6,
}

/**
 * Elementwise unary operations (codes shared with the C side). `param` is used by Pow (exponent),
 * Scale (factor), AddScalar (addend), LeakyRelu is not needed.
 */
export enum UnaryOp {
  Neg = 0,
  Exp = 1,
  Log = 2,
  Sqrt = 3,
  Rsqrt = 4,
  Tanh = 5,
  Sigmoid = 6,
  Relu = 7,
  GeluTanh = 8,
  GeluErf = 9,
  Silu = 10,
  Abs = 11,
  PowScalar = 12,
  Scale = 13,
  AddScalar = 14,
  Square = 15,
}

/** Reductions over the middle axis of a contiguous [outer, dim, inner] block. */
export enum ReduceOp {
  Sum = 0,
  Max = 1,
  Min = 2,
}

export interface Kernels {
  readonly name: "ref" | "native";

  // ---------------------------------------------------------------------------------------------
  // Matrix multiply.
  /**
   * Batched GEMM: for b in [0, batch):
   *   C_b = alpha * op(A_b) @ op(B_b) + beta * C_b
   * where op(A_b) is M x K and op(B_b) is K x N, C_b is M x N.
   *   transA = false: A_b[i, k] = A[aOff + b*strideA + i*lda + k]
   *   transA = true:  A_b[i, k] = A[aOff + b*strideA + k*lda + i]   (A stored K x M)
   *   transB = false: B_b[k, j] = B[bOff + b*strideB + k*ldb + j]
   *   transB = true:  B_b[k, j] = B[bOff + b*strideB + j*ldb + k]   (B stored N x K)
   *   C_b[i, j] = C[cOff + b*strideC + i*ldc + j]
   * A stride of 0 broadcasts that operand over the batch. beta = 0 means C is not read (so NaN in C
   * is overwritten), as in BLAS. An optional bias (N floats from biasOff) is added to every row of
   * every C_b after alpha and beta: C_b[i, j] = alpha * (...) + beta * C_b[i, j] + bias[biasOff + j]
   * (a Linear layer's bias, without a pass over C to preload it).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: F32,
    aOff: number,
    lda: number,
    strideA: number,
    B: F32,
    bOff: number,
    ldb: number,
    strideB: number,
    beta: number,
    C: F32,
    cOff: number,
    ldc: number,
    strideC: number,
    batch: number,
    bias?: F32 | null,
    biasOff?: number,
  ): void;

  // ---------------------------------------------------------------------------------------------
  // Layout and elementwise.
  /**
   * Strided copy into a contiguous destination: out[dOff + linear(idx)] = src[sOff + sum(idx*sStrides)]
   * over all indices idx of `shape` (ndim = shape.length, may be 0 for a scalar). Works for F32 and I32
   * (src and out of the same type).
   */
  copyStrided(shape: I32, src: F32 | I32, sOff: number, sStrides: I32, out: F32 | I32, dOff: number): void;
  /**
   * Broadcasting binary op with strided inputs and a contiguous output of `shape`:
   * out[linear(idx)] = a[aOff + idx.aStrides] (op) b[bOff + idx.bStrides]. Broadcast dims have
   * stride 0. Pow is Math.pow; Max/Min propagate NaN.
   */
  binary(op: BinaryOp, shape: I32, a: F32, aOff: number, aStrides: I32, b: F32, bOff: number, bStrides: I32, out: F32): void;
  /** out[i] = f(x[i]) for i in [0, n), contiguous. */
  unary(op: UnaryOp, x: F32, out: F32, n: number, param: number): void;
  /**
   * Gradient of a unary op: gx[i] = gy[i] * f'(x[i]) (y = f(x) is given too, for ops whose
   * derivative is cheaper from the output: exp, tanh, sigmoid, sqrt, rsqrt).
   */
  unaryBackward(op: UnaryOp, x: F32, y: F32, gy: F32, gx: F32, n: number, param: number): void;
  /** Reduce the middle axis of contiguous x viewed as [outer, dim, inner] into out [outer, inner]. */
  reduce(op: ReduceOp, x: F32, out: F32, outer: number, dim: number, inner: number): void;
  /**
   * Index of the maximum along the middle axis (first one on ties; NaN counts as maximum, as in
   * PyTorch), for max's backward and argmax: x [outer, dim, inner] -> out [outer, inner].
   */
  argmax(x: F32, out: I32, outer: number, dim: number, inner: number): void;

  // ---------------------------------------------------------------------------------------------
  // Row-wise ops over the last axis of a contiguous [rows, cols] block.
  softmax(x: F32, y: F32, rows: number, cols: number): void;
  /** gx = y * (gy - sum(gy * y)) row-wise. */
  softmaxBackward(y: F32, gy: F32, gx: F32, rows: number, cols: number): void;
  logSoftmax(x: F32, y: F32, rows: number, cols: number): void;
  /** gx = gy - exp(y) * sum(gy) row-wise (y is the log-softmax output). */
  logSoftmaxBackward(y: F32, gy: F32, gx: F32, rows: number, cols: number): void;
  /**
   * LayerNorm over the last axis: y = (x - mean) * rstd * w + b (w, b of length cols, or null for
   * no affine). Writes per-row mean and rstd (1/sqrt(var + eps), biased variance) for backward.
   */
  layerNorm(x: F32, w: F32 | null, b: F32 | null, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /**
   * LayerNorm backward. Writes gx (overwrite); ADDS into gw and gb (when non-null) so that callers
   * may accumulate over row chunks.
   */
  layerNormBackward(
    x: F32,
    w: F32 | null,
    mean: F32,
    rstd: F32,
    gy: F32,
    gx: F32,
    gw: F32 | null,
    gb: F32 | null,
    rows: number,
    cols: number,
  ): void;
  /** RMSNorm: y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) per row (w may be null). */
  rmsNorm(x: F32, w: F32 | null, y: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /** RMSNorm backward: writes gx, ADDS into gw when non-null. */
  rmsNormBackward(x: F32, w: F32 | null, rstd: F32, gy: F32, gx: F32, gw: F32 | null, rows: number, cols: number): void;

  // ---------------------------------------------------------------------------------------------
  // Losses, embeddings, attention, optimizer.
  /**
   * Cross-entropy per row of logits [rows, V] against targets [rows]:
   *   loss[r] = (1 - eps) * (lse - x[t]) + eps * (lse - mean_j x[j])   (PyTorch label smoothing)
   * Rows whose target equals ignoreIndex get loss 0. Writes lse[r] (log-sum-exp) for backward.
   */
  crossEntropy(logits: F32, targets: I32, loss: F32, lse: F32, rows: number, V: number, ignoreIndex: number, smoothing: number): void;
  /**
   * gLogits[r, j] = gLoss[r] * (softmax(x)[j] - (1 - eps) * [j == t] - eps / V), 0 for ignored rows.
   */
  crossEntropyBackward(
    logits: F32,
    targets: I32,
    lse: F32,
    gLoss: F32,
    gLogits: F32,
    rows: number,
    V: number,
    ignoreIndex: number,
    smoothing: number,
  ): void;
  /** out[i, :] = weight[ids[i], :] for i in [0, n); weight is [V, C]. ids are already range-checked. */
  embedding(weight: F32, ids: I32, out: F32, n: number, C: number): void;
  /** gWeight[ids[i], :] += gOut[i, :] (scatter-add; repeated ids accumulate). */
  embeddingBackward(gOut: F32, ids: I32, gWeight: F32, n: number, C: number): void;
  /**
   * Fused scaled dot-product attention over BH independent heads (q [BH, Tq, D], k [BH, Tk, D],
   * v [BH, Tk, Dv], out [BH, Tq, Dv], all contiguous):
   *   S = scale * q k^T + mask;  if causal, S[i, j] = -inf for j > i + (Tk - Tq);  P = softmax(S);
   *   out = P v.  Writes lse [BH, Tq] (log-sum-exp of each score row) for the backward pass.
   * mask is an optional additive bias indexed as
   *   mask[mOff + b*mStrides[0] + h*mStrides[1] + i*mStrides[2] + j*mStrides[3]]
   * with bh = b*H + h (strides of 0 broadcast). A row whose every score is -inf produces out = 0
   * and lse = -inf. Implementations may tile over keys (online softmax) so that the T x T score
   * matrix is never materialised.
   *
   * layout (optional) places the rows of q, k, v, out anywhere in their arrays: 4 entries per array
   * in that order, (offset, batch stride, head stride, row stride), so that row i of head
   * bh = b*H + h starts at offset + b*sb + h*sh + i*st, its D (or Dv) features contiguous; strides
   * are non-negative. E.g. q, k, v read in place from a fused projection [B, T, 3, H, D] and out
   * written as [B, T, H, D] (no head split or merge copies). lse stays [BH, Tq]. Without it (null
   * or absent) every array is the contiguous [BH, T, D] described above.
   */
  attention(
    q: F32,
    k: F32,
    v: F32,
    out: F32,
    lse: F32,
    BH: number,
    H: number,
    Tq: number,
    Tk: number,
    D: number,
    Dv: number,
    scale: number,
    causal: boolean,
    mask: F32 | null,
    mOff: number,
    mStrides: I32 | null,
    layout?: I32 | null,
  ): void;
  /**
   * Backward of `attention` given its out and lse: writes (overwrites) the rows of gq, gk, gv.
   * layout as in attention with 8 arrays: q, k, v, out, gOut, gq, gk, gv (gq, gk and gv may be
   * disjoint rows of one array, e.g. the gradient of a fused [B, T, 3, H, D] projection).
   */
  attentionBackward(
    q: F32,
    k: F32,
    v: F32,
    out: F32,
    lse: F32,
    gOut: F32,
    gq: F32,
    gk: F32,
    gv: F32,
    BH: number,
    H: number,
    Tq: number,
    Tk: number,
    D: number,
    Dv: number,
    scale: number,
    causal: boolean,
    mask: F32 | null,
    mOff: number,
    mStrides: I32 | null,
    layout?: I32 | null,
  ): void;
  /**
   * One AdamW step (PyTorch torch.optim.AdamW semantics, `step` counted from 1) over n elements:
   *   p -= lr * weightDecay * p
   *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
   *   p -= (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
   */
  adamw(
    p: F32,
    g: F32,
    m: F32,
    v: F32,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
}
