/* AVX2 + FMA GEMM kernels: the 6 x 16 microkernel and the GEMV kernels.
 *
 * For CPUs without AVX-512 (and TSLM_ISA=avx2). Function-level target attributes keep the rest of
 * the binary at baseline x86-64.
 *
 * Why 6 x 16: 6 rows x two 8-float YMM vectors = 12 accumulators, plus 2 B vectors and 1 A
 * broadcast = 15 of the 16 YMM registers. 12 FMAs per k step for 2 loads and 6 broadcasts; 12
 * independent chains cover 2 FMA pipes x 4 cycles of latency. Blocks: KC = 384 (a 6 x 384 A sliver
 * and a 384 x 16 B strip fit L1 + L2 comfortably), MC = 168 = 28 x 6 (A block 258 KB in L2),
 * NC = 4096 (B panel in L3).
 */
#include <immintrin.h>
#include <string.h>
#include "gemm_internal.h"

#define TARGET __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16

#define DECL(i) __m256 c##i##_0 = _mm256_setzero_ps(), c##i##_1 = _mm256_setzero_ps();
#define FMA_ROW(i)                               \
  {                                              \
    const __m256 a = _mm256_broadcast_ss(Ap + i); \
    c##i##_0 = _mm256_fmadd_ps(a, b0, c##i##_0); \
    c##i##_1 = _mm256_fmadd_ps(a, b1, c##i##_1); \
  }
#define STORE_FULL(i)                                                          \
  {                                                                            \
    float *cr = C + (i) * ldc;                                                 \
    __m256 r0 = _mm256_mul_ps(va, c##i##_0), r1 = _mm256_mul_ps(va, c##i##_1); \
    if (beta != 0.0f) {                                                        \
      r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), r0);                       \
      r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), r1);                   \
    }                                                                          \
    _mm256_storeu_ps(cr, r0);                                                  \
    _mm256_storeu_ps(cr + 8, r1);                                              \
  }
/* Edge tiles go through a small buffer: rare for large matrices, and AVX2 masked stores are slow
 * on some CPUs anyway. */
#define STORE_TMP(i)                                    \
  {                                                     \
    _mm256_storeu_ps(tmp + (i) * NR, c##i##_0);         \
    _mm256_storeu_ps(tmp + (i) * NR + 8, c##i##_1);     \
  }
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

TARGET static void ukr_6x16(long kc, const float *Ap, const float *Bp, float *C, long ldc, float alpha, float beta,
                            int mr, int nr) {
  ROWS(DECL)
  for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(C + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (long k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
    _mm_prefetch((const char *)(Bp + 8 * NR), _MM_HINT_T0);
    ROWS(FMA_ROW)
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    ROWS(STORE_FULL)
  } else {
    float tmp[MR * NR];
    ROWS(STORE_TMP)
    for (int i = 0; i < mr; i++) {
      float *cr = C + i * ldc;
      for (int j = 0; j < nr; j++)
        cr[j] = beta == 0.0f ? alpha * tmp[i * NR + j] : alpha * tmp[i * NR + j] + beta * cr[j];
    }
  }
}

/* GEMV rows mode (see gemm_avx512.c): four rows of B per pass over out. */
TARGET static void gemv_rows_avx2(long K, long n, const float *x, const float *B, long ldb, float *out) {
  const long nv = n & ~7L;
  memset(out, 0, (size_t)n * sizeof(float));
  long k = 0;
  for (; k + 4 <= K; k += 4) {
    const float *b = B + k * ldb;
    const __m256 x0 = _mm256_set1_ps(x[k]), x1 = _mm256_set1_ps(x[k + 1]), x2 = _mm256_set1_ps(x[k + 2]),
                 x3 = _mm256_set1_ps(x[k + 3]);
    long j = 0;
    for (; j < nv; j += 8) {
      __m256 o = _mm256_loadu_ps(out + j);
      __m256 p = _mm256_mul_ps(x1, _mm256_loadu_ps(b + ldb + j));
      o = _mm256_fmadd_ps(x0, _mm256_loadu_ps(b + j), o);
      o = _mm256_fmadd_ps(x2, _mm256_loadu_ps(b + 2 * ldb + j), o);
      p = _mm256_fmadd_ps(x3, _mm256_loadu_ps(b + 3 * ldb + j), p);
      _mm256_storeu_ps(out + j, _mm256_add_ps(o, p));
    }
    for (; j < n; j++) out[j] += x[k] * b[j] + x[k + 1] * b[ldb + j] + x[k + 2] * b[2 * ldb + j] + x[k + 3] * b[3 * ldb + j];
  }
  for (; k < K; k++) {
    const float *b = B + k * ldb;
    const __m256 xk = _mm256_set1_ps(x[k]);
    long j = 0;
    for (; j < nv; j += 8) _mm256_storeu_ps(out + j, _mm256_fmadd_ps(xk, _mm256_loadu_ps(b + j), _mm256_loadu_ps(out + j)));
    for (; j < n; j++) out[j] += x[k] * b[j];
  }
}

TARGET static float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* GEMV cols mode: four dot products at a time, two accumulators each. */
TARGET static void gemv_cols_avx2(long K, long n, const float *x, const float *B, long ldb, float *out) {
  const long kv = K & ~15L;
  long j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *b0 = B + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
    long k = 0;
    for (; k < kv; k += 16) {
      const __m256 xa = _mm256_loadu_ps(x + k), xb = _mm256_loadu_ps(x + k + 8);
      a0 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(b0 + k), a0);
      e0 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(b0 + k + 8), e0);
      a1 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(b1 + k), a1);
      e1 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(b1 + k + 8), e1);
      a2 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(b2 + k), a2);
      e2 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(b2 + k + 8), e2);
      a3 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(b3 + k), a3);
      e3 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(b3 + k + 8), e3);
    }
    float s0 = hsum256(_mm256_add_ps(a0, e0)), s1 = hsum256(_mm256_add_ps(a1, e1));
    float s2 = hsum256(_mm256_add_ps(a2, e2)), s3 = hsum256(_mm256_add_ps(a3, e3));
    for (; k < K; k++) {
      s0 += x[k] * b0[k];
      s1 += x[k] * b1[k];
      s2 += x[k] * b2[k];
      s3 += x[k] * b3[k];
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < n; j++) {
    const float *b = B + j * ldb;
    __m256 a = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= K; k += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(b + k), a);
    float s = hsum256(a);
    for (; k < K; k++) s += x[k] * b[k];
    out[j] = s;
  }
}

static const gemm_arch arch = {
    .name = "avx2-6x16",
    .mr = MR,
    .nr = NR,
    .mc = 168,
    .kc = 384,
    .nc = 4096,
    .ukr = ukr_6x16,
    .pack_b = 0,
    .gemv_rows = gemv_rows_avx2,
    .gemv_cols = gemv_cols_avx2,
};

const gemm_arch *tslm_gemm_arch_avx2(void) { return &arch; }
