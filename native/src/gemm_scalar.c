/* Portable GEMM kernels: the fallback when the CPU has no AVX2/FMA (or TSLM_ISA=scalar), and the
 * only kernels on other architectures.
 *
 * Plain C written so that the compiler can vectorise it with the baseline SIMD (SSE2 on x86-64,
 * NEON on arm64): a 4 x 8 tile of accumulators in a local array that -O3 keeps in 8 XMM registers
 * (4 x 16 spilled out of the 16 XMM registers and ran 4.5x slower: 6.6 against 30 GFLOP/s per core
 * at 512^3 on Zen 4). About 3x slower than the AVX kernels; it exists for portability.
 */
#include "gemm_internal.h"

#define MR 4
#define NR 8

static void ukr_scalar(long kc, const float *Ap, const float *Bp, float *C, long ldc, float alpha, float beta, int mr,
                       int nr, const float *bias) {
  float acc[MR][NR] = {{0}};
  for (long k = 0; k < kc; k++) {
    const float *a = Ap + k * MR;
    const float *b = Bp + k * NR;
    for (int i = 0; i < MR; i++) {
      const float ai = a[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < mr; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j];
    else
      for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j] + beta * c[j];
    if (bias)
      for (int j = 0; j < nr; j++) c[j] += bias[j];
  }
}

static void gemv_rows_scalar(long K, long n, int m, const float *X, long ldx, const float *B, long ldb, float *out,
                             long ldo, int acc) {
  for (int i = 0; i < m; i++) {
    float *o = out + i * ldo;
    const float *x = X + i * ldx;
    if (!acc)
      for (long j = 0; j < n; j++) o[j] = 0.0f;
    for (long k = 0; k < K; k++) {
      const float xk = x[k];
      const float *b = B + k * ldb;
      for (long j = 0; j < n; j++) o[j] += xk * b[j];
    }
  }
}

static void gemv_cols_scalar(long K, long n, int m, const float *X, long ldx, const float *B, long ldb, float *out,
                             long ldo) {
  for (long j = 0; j < n; j++) {
    const float *b = B + j * ldb;
    for (int i = 0; i < m; i++) {
      const float *x = X + i * ldx;
      /* Four partial sums break the dependency chain and let the compiler vectorise. */
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      long k = 0;
      for (; k + 4 <= K; k += 4) {
        s0 += x[k] * b[k];
        s1 += x[k + 1] * b[k + 1];
        s2 += x[k + 2] * b[k + 2];
        s3 += x[k + 3] * b[k + 3];
      }
      for (; k < K; k++) s0 += x[k] * b[k];
      out[i * ldo + j] = (s0 + s1) + (s2 + s3);
    }
  }
}

static const gemm_arch arch = {
    .name = "scalar",
    .mr = MR,
    .nr = NR,
    .mc = 128,
    .kc = 256,
    .nc = 4096,
    .ukr = ukr_scalar,
    .pack_b = 0,
    .gemv_rows = gemv_rows_scalar,
    .gemv_cols = gemv_cols_scalar,
};

const gemm_arch *tslm_gemm_arch_scalar(void) { return &arch; }
