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
    if (bias) {                                                                \
      r0 = _mm256_add_ps(r0, bias0);                                           \
      r1 = _mm256_add_ps(r1, bias1);                                           \
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
                            int mr, int nr, const float *bias) {
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
    const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    ROWS(STORE_FULL)
  } else {
    float tmp[MR * NR];
    ROWS(STORE_TMP)
    for (int i = 0; i < mr; i++) {
      float *cr = C + i * ldc;
      for (int j = 0; j < nr; j++) {
        float r = beta == 0.0f ? alpha * tmp[i * NR + j] : alpha * tmp[i * NR + j] + beta * cr[j];
        cr[j] = bias ? r + bias[j] : r;
      }
    }
  }
}

/* B packing into 16-column strips. Untransposed: two vector copies per k row, with the row 8
 * steps ahead prefetched (rows are far apart, each one a new miss; the generic scalar loop was 22%
 * of a 256x768x3072 product). Transposed (B stored N x K): 8 x 8 blocks transposed in registers. */
/* In-register 8 x 8 transpose: on return r[k][j] = (input r[j])[k]. 32-bit and 64-bit interleaves
 * within 128-bit lanes, then a 128-bit lane exchange. */
TARGET static inline __attribute__((always_inline)) void transpose8_regs(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44); /* k = 0 (and 4 in the high lane) of rows 0-3 */
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xEE); /* k = 1, 5 */
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44); /* k = 2, 6 */
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xEE); /* k = 3, 7 */
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44); /* same for rows 4-7 */
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44);
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* dst[k][j] = src[j][k] for an 8 x 8 block (row strides ld and dld). */
TARGET static void transpose8(const float *src, long ld, float *dst, long dld) {
  __m256 r[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ld);
  transpose8_regs(r);
  for (int k = 0; k < 8; k++) _mm256_storeu_ps(dst + k * dld, r[k]);
}

/* A packing into 6-row slivers. Untransposed A: 8 k at a time from each of the 6 rows, transposed
 * in registers (rows 6 and 7 zero), each k written as 4 + 2 floats (exactly the sliver: threads
 * pack neighbouring slivers concurrently in the fused path); the scalar loop was 8% of a
 * 2048x768x768 product. Transposed A (stored K x M): a 6-float copy per k. */
TARGET static void pack_a_avx2(long mc, long kc, const float *src, long ld, int tr, float *dst) {
  for (long s = 0; s < mc; s += MR) {
    const int rows = mc - s < MR ? (int)(mc - s) : MR;
    float *d = dst + s * kc;
    long k = 0;
    if (!tr) {
      const float *a = src + s * ld;
      for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(a + i * ld + k) : _mm256_setzero_ps();
        transpose8_regs(r);
        for (int kk = 0; kk < 8; kk++) {
          float *o = d + (k + kk) * MR;
          _mm_storeu_ps(o, _mm256_castps256_ps128(r[kk]));
          _mm_storel_pi((__m64 *)(o + 4), _mm256_extractf128_ps(r[kk], 1));
        }
      }
      for (; k < kc; k++) {
        int i = 0;
        for (; i < rows; i++) d[k * MR + i] = a[i * ld + k];
        for (; i < MR; i++) d[k * MR + i] = 0.0f;
      }
    } else {
      const float *a = src + s;
      for (; k < kc; k++) {
        int i = 0;
        for (; i < rows; i++) d[k * MR + i] = a[k * ld + i];
        for (; i < MR; i++) d[k * MR + i] = 0.0f;
      }
    }
  }
}

TARGET static void pack_b_avx2(long kc, long nc, const float *src, long ld, int tr, float *dst) {
  for (long s = 0; s < nc; s += NR) {
    const int cols = nc - s < NR ? (int)(nc - s) : NR;
    float *d = dst + s * kc;
    long k = 0;
    if (!tr) {
      const float *b = src + s;
      if (cols == NR) {
        for (; k < kc; k++) {
          _mm_prefetch((const char *)(b + (k + 8) * ld), _MM_HINT_T0);
          _mm256_store_ps(d + k * NR, _mm256_loadu_ps(b + k * ld));
          _mm256_store_ps(d + k * NR + 8, _mm256_loadu_ps(b + k * ld + 8));
        }
      } else {
        for (; k < kc; k++) {
          int j = 0;
          for (; j < cols; j++) d[k * NR + j] = b[k * ld + j];
          for (; j < NR; j++) d[k * NR + j] = 0.0f;
        }
      }
    } else {
      const float *b = src + s * ld; /* row j of the strip: b + j * ld, K along the row */
      if (cols == NR) {
        for (; k + 8 <= kc; k += 8) {
          transpose8(b + k, ld, d + k * NR, NR);
          transpose8(b + 8 * ld + k, ld, d + k * NR + 8, NR);
        }
      }
      for (; k < kc; k++) {
        int j = 0;
        for (; j < cols; j++) d[k * NR + j] = b[j * ld + k];
        for (; j < NR; j++) d[k * NR + j] = 0.0f;
      }
    }
  }
}

/* Small-M rows mode (see gemm_internal.h): four rows of B per pass over the m output rows, which
 * stay in L1 (the driver sizes n for that). */
TARGET static void gemv_rows_avx2(long K, long n, int m, const float *X, long ldx, const float *B, long ldb,
                                  float *out, long ldo, int acc) {
  const long nv = n & ~7L;
  if (!acc)
    for (int i = 0; i < m; i++) memset(out + i * ldo, 0, (size_t)n * sizeof(float));
  long k = 0;
  float xt[GEMM_SMALL_M * 4];
  for (; k + 4 <= K; k += 4) {
    const float *b = B + k * ldb;
    /* x[i][k..k+3] side by side (rows K floats apart alias in L1 when K is a multiple of 1024;
     * see gemm_avx512.c) */
    for (int i = 0; i < m; i++)
      for (int q = 0; q < 4; q++) xt[i * 4 + q] = X[i * ldx + k + q];
    long j = 0;
    for (; j < nv; j += 8) {
      const __m256 b0 = _mm256_loadu_ps(b + j), b1 = _mm256_loadu_ps(b + ldb + j);
      const __m256 b2 = _mm256_loadu_ps(b + 2 * ldb + j), b3 = _mm256_loadu_ps(b + 3 * ldb + j);
      for (int i = 0; i < m; i++) {
        const float *x = xt + i * 4;
        float *o = out + i * ldo + j;
        __m256 p = _mm256_mul_ps(_mm256_broadcast_ss(x + 1), b1);
        __m256 q = _mm256_fmadd_ps(_mm256_broadcast_ss(x), b0, _mm256_loadu_ps(o));
        p = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 3), b3, p);
        q = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 2), b2, q);
        _mm256_storeu_ps(o, _mm256_add_ps(p, q));
      }
    }
    for (; j < n; j++)
      for (int i = 0; i < m; i++) {
        const float *x = X + i * ldx + k;
        out[i * ldo + j] += x[0] * b[j] + x[1] * b[ldb + j] + x[2] * b[2 * ldb + j] + x[3] * b[3 * ldb + j];
      }
  }
  for (; k < K; k++) {
    const float *b = B + k * ldb;
    for (int i = 0; i < m; i++) {
      const float xk = X[i * ldx + k];
      const __m256 vx = _mm256_set1_ps(xk);
      float *o = out + i * ldo;
      long j = 0;
      for (; j < nv; j += 8) _mm256_storeu_ps(o + j, _mm256_fmadd_ps(vx, _mm256_loadu_ps(b + j), _mm256_loadu_ps(o + j)));
      for (; j < n; j++) o[j] += xk * b[j];
    }
  }
}

TARGET static float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Dot products of IB rows of X with JB rows of B; IB x JB accumulators (constant after inlining). */
#define COLS_BLOCK(IB, JB)                                                                          \
  {                                                                                                 \
    __m256 acc[IB][JB];                                                                             \
    for (int ii = 0; ii < IB; ii++)                                                                 \
      for (int jj = 0; jj < JB; jj++) acc[ii][jj] = _mm256_setzero_ps();                            \
    long k = 0;                                                                                     \
    for (; k < kv; k += 8) {                                                                        \
      __m256 bv[JB];                                                                                \
      for (int jj = 0; jj < JB; jj++) bv[jj] = _mm256_loadu_ps(B + (j + jj) * ldb + k);             \
      for (int ii = 0; ii < IB; ii++) {                                                             \
        const __m256 xv = _mm256_loadu_ps(X + (i + ii) * ldx + k);                                  \
        for (int jj = 0; jj < JB; jj++) acc[ii][jj] = _mm256_fmadd_ps(xv, bv[jj], acc[ii][jj]);     \
      }                                                                                             \
    }                                                                                               \
    for (int ii = 0; ii < IB; ii++)                                                                 \
      for (int jj = 0; jj < JB; jj++) {                                                             \
        float sum = hsum256(acc[ii][jj]);                                                           \
        const float *x = X + (i + ii) * ldx, *b = B + (j + jj) * ldb;                               \
        for (long kk = k; kk < K; kk++) sum += x[kk] * b[kk];                                       \
        out[(i + ii) * ldo + j + jj] = sum;                                                         \
      }                                                                                             \
  }

/* Small-M cols mode: blocks of 2 rows of X x 4 rows of B (8 accumulators, 8 independent FMA
 * chains); the 4 B rows are reused from L1 by every pair of X rows. */
TARGET static void gemv_cols_avx2(long K, long n, int m, const float *X, long ldx, const float *B, long ldb,
                                  float *out, long ldo) {
  const long kv = K & ~7L;
  long j = 0;
  for (; j + 4 <= n; j += 4) {
    int i = 0;
    for (; i + 2 <= m; i += 2) COLS_BLOCK(2, 4)
    for (; i < m; i++) COLS_BLOCK(1, 4)
  }
  for (; j < n; j++) {
    for (int i = 0; i < m; i++) COLS_BLOCK(1, 1)
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
    .pack_a = pack_a_avx2,
    .pack_b = pack_b_avx2,
    .gemv_rows = gemv_rows_avx2,
    .gemv_cols = gemv_cols_avx2,
};

const gemm_arch *tslm_gemm_arch_avx2(void) { return &arch; }
