/* AVX-512 GEMM kernels: the 14 x 32 microkernel, A and B packing, and the small-M (GEMV) kernels.
 *
 * Compiled with function-level target attributes (no global -mavx512f), so the file links into the
 * baseline binary and is only called when cpu.c reports AVX-512 with OS support.
 *
 * Why 14 x 32: the tile is 14 rows x two 16-float ZMM vectors = 28 accumulators; with the 2 vectors
 * of B and 1 broadcast of A that is 31 of the 32 ZMM registers. Each k step issues 28 FMAs for
 * 2 vector loads and 14 broadcasts (folded into the FMAs as {1to16} memory operands), so loads
 * never limit it, and 28 independent accumulators cover the FMA latency (4 cycles) times the FMA
 * throughput many times over. Zen 4 executes a ZMM FMA as two 256-bit halves, so peak is
 * 32 flops/cycle per core, the same as AVX2 with two FMA pipes, but with half the instructions.
 * Blocks (BLIS-style, for Zen 4's 32 KB L1D / 1 MB L2 / 32 MB L3):
 *   KC = 384: a B strip (384 x 32 x 4 B = 48 KB) streams from L2 while being reused by all slivers
 *             (measured: 256 is 4% slower, 512 no faster);
 *   MC = 224 = 16 x 14: the A block (224 x 384 x 4 B = 336 KB) stays in L2;
 *   NC = 4096: the B panel (384 x 4096 x 4 B = 6 MB) stays in L3.
 */
#include <immintrin.h>
#include <string.h>
#include "gemm_internal.h"

#define TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define MR 14
#define NR 32

/* Accumulators c<i>_0 (columns 0-15) and c<i>_1 (16-31) for rows i = 0..13. */
#define DECL(i) __m512 c##i##_0 = _mm512_setzero_ps(), c##i##_1 = _mm512_setzero_ps();
#define FMA_ROW(i)                                  \
  {                                                 \
    const __m512 a = _mm512_set1_ps(Ap[i]);         \
    c##i##_0 = _mm512_fmadd_ps(a, b0, c##i##_0);    \
    c##i##_1 = _mm512_fmadd_ps(a, b1, c##i##_1);    \
  }
/* Full-width row store: C = alpha * acc (+ beta * C). */
#define STORE_FULL(i)                                                                      \
  {                                                                                        \
    float *cr = C + (i) * ldc;                                                             \
    __m512 r0 = _mm512_mul_ps(va, c##i##_0), r1 = _mm512_mul_ps(va, c##i##_1);             \
    if (beta != 0.0f) {                                                                    \
      r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), r0);                                   \
      r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), r1);                              \
    }                                                                                      \
    if (bias) {                                                                            \
      r0 = _mm512_add_ps(r0, bias0);                                                       \
      r1 = _mm512_add_ps(r1, bias1);                                                       \
    }                                                                                      \
    _mm512_storeu_ps(cr, r0);                                                              \
    _mm512_storeu_ps(cr + 16, r1);                                                         \
  }
/* Edge row store: only rows < mr, only columns < nr (masked; masked-off lanes are not touched,
 * so reading and writing past the end of C is safe). */
#define STORE_EDGE(i)                                                                      \
  if ((i) < mr) {                                                                          \
    float *cr = C + (i) * ldc;                                                             \
    __m512 r0 = _mm512_mul_ps(va, c##i##_0), r1 = _mm512_mul_ps(va, c##i##_1);             \
    if (beta != 0.0f) {                                                                    \
      r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), r0);                         \
      r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), r1);                    \
    }                                                                                      \
    if (bias) {                                                                            \
      r0 = _mm512_add_ps(r0, bias0);                                                       \
      r1 = _mm512_add_ps(r1, bias1);                                                       \
    }                                                                                      \
    _mm512_mask_storeu_ps(cr, m0, r0);                                                     \
    _mm512_mask_storeu_ps(cr + 16, m1, r1);                                                \
  }
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

TARGET static void ukr_14x32(long kc, const float *Ap, const float *Bp, float *C, long ldc, float alpha, float beta,
                             int mr, int nr, const float *bias) {
  ROWS(DECL)
  /* Touch the C tile early so its lines are on their way while the k loop runs. (Fetching it into
   * L2 here and into L1 16 steps before the end won 4% in a microkernel-only test with C in
   * memory, but lost 1% in whole products, where the next tiles are already being fetched.) */
  for (int i = 0; i < mr; i++) {
    _mm_prefetch((const char *)(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char *)(C + i * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (long k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
    /* The strip ahead: B is read at 128 B per k step; fetch 8 steps ahead. */
    _mm_prefetch((const char *)(Bp + 8 * NR), _MM_HINT_T0);
    ROWS(FMA_ROW)
    Ap += MR;
    Bp += NR;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (mr == MR && nr == NR) {
    const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    ROWS(STORE_FULL)
  } else {
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    ROWS(STORE_EDGE)
  }
}

/* B packing. Untransposed: each k row of a strip is two vector copies. Transposed (B stored N x K,
 * e.g. a Linear weight [out, in]): 16 x 16 blocks are loaded row by row and transposed in
 * registers, so both reads and writes stay contiguous. */
/* In-register 16 x 16 transpose: on return r[k] holds element k of the 16 input rows r[0..15]
 * (r[k][j] = in[j][k]). Standard three-stage shuffle network: 32-bit interleave, 64-bit
 * interleave, then 128-bit lane moves. */
TARGET static inline __attribute__((always_inline)) void transpose16_regs(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  /* Now r[4q + p] holds, in each 128-bit lane L, elements k = 4L + p of rows 4q..4q+3. Output row
   * k = 4L + p is lane L of r[p], r[4+p], r[8+p], r[12+p]: two rounds of 128-bit shuffles. */
  for (int p = 0; p < 4; p++) {
    const __m512 a = r[p], b = r[4 + p], c = r[8 + p], d = r[12 + p];
    /* ab_lo = [a.L0 a.L1 b.L0 b.L1], ab_hi = [a.L2 a.L3 b.L2 b.L3]; same for cd. */
    const __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44), ab_hi = _mm512_shuffle_f32x4(a, b, 0xEE);
    const __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x44), cd_hi = _mm512_shuffle_f32x4(c, d, 0xEE);
    t[0 + p] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);  /* [a.L0 b.L0 c.L0 d.L0] */
    t[4 + p] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);  /* lanes L1 */
    t[8 + p] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);  /* lanes L2 */
    t[12 + p] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD); /* lanes L3 */
  }
  for (int k = 0; k < 16; k++) r[k] = t[k];
}

/* src: 16 rows (stride ld) of 16 floats -> dst: 16 rows (stride dld), dst[k][j] = src[j][k]. */
TARGET static void transpose16(const float *src, long ld, float *dst, long dld) {
  __m512 r[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * ld);
  transpose16_regs(r);
  for (int k = 0; k < 16; k++) _mm512_storeu_ps(dst + k * dld, r[k]);
}

/* A packing into 14-row slivers (layout in gemm_internal.h). Untransposed A (row-major M x K) is
 * read 16 k at a time from each of the 14 rows and transposed in registers (rows 14 and 15 of the
 * 16 x 16 block are zero and never stored), so reads and writes are both full vectors; the scalar
 * version of this loop was 7% of a 2048x768x768 product. Transposed A (stored K x M) is a
 * 14-float copy per k and sliver, row by row. */
TARGET static void pack_a_avx512(long mc, long kc, const float *src, long ld, int tr, float *dst) {
  const __mmask16 m14 = (__mmask16)((1u << MR) - 1);
  if (tr) {
    /* Transposed A (stored K x M): row k of the block is mc contiguous floats, cut into 14-float
     * pieces, one per sliver. Walking k outermost reads each row once as one contiguous run (the
     * prefetcher follows it; the next rows are fetched ahead), where a sliver at a time read 56 B
     * from each of kc rows a whole row stride apart (a 4 KB or 32 KB stride for the weight
     * gradients of a 1024-wide layer or of an 8192-token vocabulary: 20% slower than NN). */
    const long ns = (mc + MR - 1) / MR, full = mc / MR;
    const __mmask16 mlast = (__mmask16)((1u << (mc - full * MR)) - 1);
    for (long k = 0; k < kc; k++) {
      const float *a = src + k * ld;
      if (k + 4 < kc)
        for (long o = 0; o < mc; o += 16) _mm_prefetch((const char *)(a + 4 * ld + o), _MM_HINT_T0);
      float *d = dst + k * MR;
      long s = 0;
      for (; s < full; s++) _mm512_mask_storeu_ps(d + s * MR * kc, m14, _mm512_maskz_loadu_ps(m14, a + s * MR));
      if (s < ns) _mm512_mask_storeu_ps(d + s * MR * kc, m14, _mm512_maskz_loadu_ps(mlast, a + s * MR));
    }
    return;
  }
  for (long s = 0; s < mc; s += MR) {
    const int rows = mc - s < MR ? (int)(mc - s) : MR;
    float *d = dst + s * kc;
    const float *a = src + s * ld;
    long k = 0;
    for (; k + 16 <= kc; k += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(a + i * ld + k) : _mm512_setzero_ps();
      transpose16_regs(r);
      for (int kk = 0; kk < 16; kk++) _mm512_mask_storeu_ps(d + (k + kk) * MR, m14, r[kk]);
    }
    for (; k < kc; k++) {
      int i = 0;
      for (; i < rows; i++) d[k * MR + i] = a[i * ld + k];
      for (; i < MR; i++) d[k * MR + i] = 0.0f;
    }
  }
}

TARGET static void pack_b_avx512(long kc, long nc, const float *src, long ld, int tr, float *dst) {
  long s = 0;
  if (!tr) {
    /* Full strips in groups of 8: for each k, one contiguous 1 KB run of the B row feeds 8 strips.
     * Walking one strip at a time instead reads 128 B per row and jumps a whole row (often many
     * pages) each time, which the prefetchers cannot follow: 10% of a 256x768x50257 product. */
    const int G = 8;
    for (; s + G * NR <= nc; s += G * NR) {
      for (long k = 0; k < kc; k++) {
        const float *b = src + k * ld + s;
        float *d = dst + s * kc + k * NR;
        for (int g = 0; g < G; g++) {
          /* rows are far apart: fetch the same run 6 rows ahead */
          _mm_prefetch((const char *)(b + 6 * ld + g * NR), _MM_HINT_T0);
          _mm_prefetch((const char *)(b + 6 * ld + g * NR + 16), _MM_HINT_T0);
          _mm512_store_ps(d + g * kc * NR, _mm512_loadu_ps(b + g * NR));
          _mm512_store_ps(d + g * kc * NR + 16, _mm512_loadu_ps(b + g * NR + 16));
        }
      }
    }
  }
  for (; s < nc; s += NR) {
    const int cols = nc - s < NR ? (int)(nc - s) : NR;
    float *d = dst + s * kc;
    if (!tr) {
      const float *b = src + s;
      if (cols == NR) {
        /* One strip alone (the fused path packs strip by strip): 128 B per row, rows far apart,
         * so each row is a new miss; keep 8 rows in flight. */
        for (long k = 0; k < kc; k++) {
          _mm_prefetch((const char *)(b + (k + 8) * ld), _MM_HINT_T0);
          _mm_prefetch((const char *)(b + (k + 8) * ld + 16), _MM_HINT_T0);
          _mm512_store_ps(d + k * NR, _mm512_loadu_ps(b + k * ld));
          _mm512_store_ps(d + k * NR + 16, _mm512_loadu_ps(b + k * ld + 16));
        }
      } else {
        const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
        const __mmask16 m1 = cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1);
        for (long k = 0; k < kc; k++) {
          _mm512_store_ps(d + k * NR, _mm512_maskz_loadu_ps(m0, b + k * ld));
          _mm512_store_ps(d + k * NR + 16, _mm512_maskz_loadu_ps(m1, b + k * ld + 16));
        }
      }
    } else {
      const float *b = src + s * ld; /* row j of the strip: b + j * ld, K along the row */
      long k = 0; /* partial strips skip the transposes and take the scalar loop for every k */
      if (cols == NR) {
        for (; k + 16 <= kc; k += 16) {
          /* 32 rows are read side by side, more streams than the hardware prefetchers follow:
           * fetch 64 floats (4 lines) ahead on each row, continuing into the next strip's rows
           * near the end (prefetches never fault, so running past the matrix is harmless). */
          const long kp = k + 64 < kc ? k + 64 : k + 64 - kc;
          const float *pb = k + 64 < kc ? b : b + NR * ld;
          for (int j = 0; j < NR; j++) _mm_prefetch((const char *)(pb + j * ld + kp), _MM_HINT_T0);
          transpose16(b + k, ld, d + k * NR, NR);
          transpose16(b + 16 * ld + k, ld, d + k * NR + 16, NR);
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

/* GEMV (m = 1), rows mode: out[j] = sum_k x[k] * B[k*ldb + j] for j < n (n <= 1024: out stays
 * in L1). Eight rows of B are streamed at once (eight sequential streams the prefetcher follows) and
 * added into out, so out is loaded and stored once per eight rows. Memory-bound by design. */
TARGET static void gemv_row1(long K, long n, const float *x, const float *B, long ldb, float *out, int acc) {
  const long nv = n & ~15L;
  const __mmask16 mt = (__mmask16)((1u << (n - nv)) - 1);
  if (!acc) memset(out, 0, (size_t)n * sizeof(float));
  if (ldb == n && n < 2048) {
    /* Short rows packed back to back (a K range of a 768-wide Conv1D weight): one row at a time,
     * so the block is read as a single linear stream. Eight rows side by side are eight streams
     * of 3 KB each, too short for the hardware prefetcher to ramp up: 1x768x3072 read 17.4
     * against 14.5 GB/s on one thread. Long or strided rows keep the eight-row loop below (more
     * streams in flight: 1x3072x768 22 against 20 GB/s). */
    for (long k = 0; k < K; k++) {
      const float *b = B + k * ldb;
      const __m512 xk = _mm512_set1_ps(x[k]);
      long j = 0;
      for (; j + 64 <= nv; j += 64) {
        _mm512_storeu_ps(out + j, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j), _mm512_loadu_ps(out + j)));
        _mm512_storeu_ps(out + j + 16, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j + 16), _mm512_loadu_ps(out + j + 16)));
        _mm512_storeu_ps(out + j + 32, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j + 32), _mm512_loadu_ps(out + j + 32)));
        _mm512_storeu_ps(out + j + 48, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j + 48), _mm512_loadu_ps(out + j + 48)));
      }
      for (; j < nv; j += 16) _mm512_storeu_ps(out + j, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j), _mm512_loadu_ps(out + j)));
      if (mt) _mm512_mask_storeu_ps(out + j, mt, _mm512_fmadd_ps(xk, _mm512_maskz_loadu_ps(mt, b + j), _mm512_maskz_loadu_ps(mt, out + j)));
    }
    return;
  }
  long k = 0;
  for (; k + 8 <= K; k += 8) {
    const float *b0 = B + k * ldb;
    const __m512 x0 = _mm512_set1_ps(x[k]), x1 = _mm512_set1_ps(x[k + 1]), x2 = _mm512_set1_ps(x[k + 2]),
                 x3 = _mm512_set1_ps(x[k + 3]), x4 = _mm512_set1_ps(x[k + 4]), x5 = _mm512_set1_ps(x[k + 5]),
                 x6 = _mm512_set1_ps(x[k + 6]), x7 = _mm512_set1_ps(x[k + 7]);
    long j = 0;
    for (; j < nv; j += 16) {
      const float *b = b0 + j;
      __m512 o = _mm512_loadu_ps(out + j);
      __m512 p = _mm512_mul_ps(x1, _mm512_loadu_ps(b + ldb));
      o = _mm512_fmadd_ps(x0, _mm512_loadu_ps(b), o);
      o = _mm512_fmadd_ps(x2, _mm512_loadu_ps(b + 2 * ldb), o);
      p = _mm512_fmadd_ps(x3, _mm512_loadu_ps(b + 3 * ldb), p);
      o = _mm512_fmadd_ps(x4, _mm512_loadu_ps(b + 4 * ldb), o);
      p = _mm512_fmadd_ps(x5, _mm512_loadu_ps(b + 5 * ldb), p);
      o = _mm512_fmadd_ps(x6, _mm512_loadu_ps(b + 6 * ldb), o);
      p = _mm512_fmadd_ps(x7, _mm512_loadu_ps(b + 7 * ldb), p);
      _mm512_storeu_ps(out + j, _mm512_add_ps(o, p));
    }
    if (mt) {
      const float *b = b0 + j;
      __m512 o = _mm512_maskz_loadu_ps(mt, out + j);
      o = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(mt, b), o);
      o = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(mt, b + ldb), o);
      o = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(mt, b + 2 * ldb), o);
      o = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(mt, b + 3 * ldb), o);
      o = _mm512_fmadd_ps(x4, _mm512_maskz_loadu_ps(mt, b + 4 * ldb), o);
      o = _mm512_fmadd_ps(x5, _mm512_maskz_loadu_ps(mt, b + 5 * ldb), o);
      o = _mm512_fmadd_ps(x6, _mm512_maskz_loadu_ps(mt, b + 6 * ldb), o);
      o = _mm512_fmadd_ps(x7, _mm512_maskz_loadu_ps(mt, b + 7 * ldb), o);
      _mm512_mask_storeu_ps(out + j, mt, o);
    }
  }
  for (; k < K; k++) {
    const float *b = B + k * ldb;
    const __m512 xk = _mm512_set1_ps(x[k]);
    long j = 0;
    for (; j < nv; j += 16) _mm512_storeu_ps(out + j, _mm512_fmadd_ps(xk, _mm512_loadu_ps(b + j), _mm512_loadu_ps(out + j)));
    if (mt)
      _mm512_mask_storeu_ps(out + j, mt,
                            _mm512_fmadd_ps(xk, _mm512_maskz_loadu_ps(mt, b + j), _mm512_maskz_loadu_ps(mt, out + j)));
  }
}

/* Small-M rows mode for m > 1: four rows of B per pass over the m output rows (in L1); each B
 * vector is loaded once and used by all m rows. */
TARGET static void gemv_rows_avx512(long K, long n, int m, const float *X, long ldx, const float *B, long ldb,
                                    float *out, long ldo, int acc) {
  if (m == 1) {
    gemv_row1(K, n, X, B, ldb, out, acc);
    return;
  }
  const long nv = n & ~15L;
  const __mmask16 mt = (__mmask16)((1u << (n - nv)) - 1);
  if (!acc)
    for (int i = 0; i < m; i++) memset(out + i * ldo, 0, (size_t)n * sizeof(float));
  long k = 0;
  /* Software prefetch 8 rows ahead (two passes): each pass reads 4 rows in runs of at most n
   * floats, jumping a row each time, which the hardware prefetchers follow poorly; at m = 8 the
   * kernel then waited on memory most of the time (1x768x3072 at batch 8: 8.7 against 13 ms on
   * one thread with it). */
  const int pfr = 8;
  float xt[GEMM_SMALL_M * 4];
  for (; k + 4 <= K; k += 4) {
    const float *b = B + k * ldb;
    const float *pb = b + (k + pfr + 4 <= K ? pfr : 0) * ldb;
    /* x[i][k..k+3] of every row side by side: the rows of X are K floats apart, and with K a
     * multiple of 1024 (GPT-2's c_proj, K = 3072) they all fall in one L1 set: 32 rows thrashed
     * its 8 ways on every j (32x768x3072 ran at 36 GFLOP/s against 100 for 32x3072x768). */
    for (int i = 0; i < m; i++)
      for (int q = 0; q < 4; q++) xt[i * 4 + q] = X[i * ldx + k + q];
    for (long j = 0; j < n; j += 16) {
      const __mmask16 mk = j < nv ? (__mmask16)0xFFFF : mt;
      {
        _mm_prefetch((const char *)(pb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(pb + ldb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(pb + 2 * ldb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(pb + 3 * ldb + j), _MM_HINT_T0);
      }
      const __m512 b0 = _mm512_maskz_loadu_ps(mk, b + j), b1 = _mm512_maskz_loadu_ps(mk, b + ldb + j);
      const __m512 b2 = _mm512_maskz_loadu_ps(mk, b + 2 * ldb + j), b3 = _mm512_maskz_loadu_ps(mk, b + 3 * ldb + j);
      for (int i = 0; i < m; i++) {
        const float *x = xt + i * 4;
        float *o = out + i * ldo + j;
        __m512 p = _mm512_mul_ps(_mm512_set1_ps(x[1]), b1);
        __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(x[0]), b0, _mm512_maskz_loadu_ps(mk, o));
        p = _mm512_fmadd_ps(_mm512_set1_ps(x[3]), b3, p);
        q = _mm512_fmadd_ps(_mm512_set1_ps(x[2]), b2, q);
        _mm512_mask_storeu_ps(o, mk, _mm512_add_ps(p, q));
      }
    }
  }
  for (; k < K; k++) {
    const float *b = B + k * ldb;
    for (int i = 0; i < m; i++) {
      const __m512 xk = _mm512_set1_ps(X[i * ldx + k]);
      float *o = out + i * ldo;
      for (long j = 0; j < n; j += 16) {
        const __mmask16 mk = j < nv ? (__mmask16)0xFFFF : mt;
        _mm512_mask_storeu_ps(o + j, mk, _mm512_fmadd_ps(xk, _mm512_maskz_loadu_ps(mk, b + j), _mm512_maskz_loadu_ps(mk, o + j)));
      }
    }
  }
}

/* Dot products of IB rows of X with JB rows of B: IB x JB accumulators (registers once the
 * constant loops are unrolled), K in 16-float steps with a masked tail. */
#define COLS_BLOCK(IB, JB)                                                                            \
  {                                                                                                   \
    __m512 acc[IB][JB];                                                                               \
    for (int ii = 0; ii < IB; ii++)                                                                   \
      for (int jj = 0; jj < JB; jj++) acc[ii][jj] = _mm512_setzero_ps();                              \
    for (long k = 0; k < K; k += 16) {                                                                \
      const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);        \
      __m512 bv[JB];                                                                                  \
      for (int jj = 0; jj < JB; jj++) bv[jj] = _mm512_maskz_loadu_ps(mk, B + (j + jj) * ldb + k);     \
      for (int ii = 0; ii < IB; ii++) {                                                               \
        const __m512 xv = _mm512_maskz_loadu_ps(mk, X + (i + ii) * ldx + k);                          \
        for (int jj = 0; jj < JB; jj++) acc[ii][jj] = _mm512_fmadd_ps(xv, bv[jj], acc[ii][jj]);       \
      }                                                                                               \
    }                                                                                                 \
    for (int ii = 0; ii < IB; ii++)                                                                   \
      for (int jj = 0; jj < JB; jj++) out[(i + ii) * ldo + j + jj] = _mm512_reduce_add_ps(acc[ii][jj]); \
  }

/* COLS_BLOCK(IB, 4) that also fetches the next 4 rows of B (one line per row per step): B rows
 * are read 4 side by side, 4 short streams the hardware prefetchers ramp up on too late (the LM
 * head at batch 8: 15 against 21-25 ms on one thread with it). */
#define COLS_BLOCK_PF(IB)                                                                             \
  {                                                                                                   \
    __m512 acc[IB][4];                                                                                \
    for (int ii = 0; ii < IB; ii++)                                                                   \
      for (int jj = 0; jj < 4; jj++) acc[ii][jj] = _mm512_setzero_ps();                               \
    const float *pf = B + (j + 4 < n ? j + 4 : j) * ldb;                                              \
    for (long k = 0; k < K; k += 16) {                                                                \
      const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);        \
      for (int jj = 0; jj < 4; jj++) _mm_prefetch((const char *)(pf + jj * ldb + k), _MM_HINT_T0);  \
      __m512 bv[4];                                                                                   \
      for (int jj = 0; jj < 4; jj++) bv[jj] = _mm512_maskz_loadu_ps(mk, B + (j + jj) * ldb + k);      \
      for (int ii = 0; ii < IB; ii++) {                                                               \
        const __m512 xv = _mm512_maskz_loadu_ps(mk, X + (i + ii) * ldx + k);                          \
        for (int jj = 0; jj < 4; jj++) acc[ii][jj] = _mm512_fmadd_ps(xv, bv[jj], acc[ii][jj]);        \
      }                                                                                               \
    }                                                                                                 \
    for (int ii = 0; ii < IB; ii++)                                                                   \
      for (int jj = 0; jj < 4; jj++) out[(i + ii) * ldo + j + jj] = _mm512_reduce_add_ps(acc[ii][jj]); \
  }

/* Small-M cols mode (B stored N x K: a Linear weight, or the tied LM head): blocks of up to 4 rows
 * of X x 4 rows of B, so each B row is read from memory once and reused from L1 by every block of
 * X rows. With m = 1, one row of B at a time (below). */
TARGET static void gemv_cols_avx512(long K, long n, int m, const float *X, long ldx, const float *B, long ldb,
                                    float *out, long ldo) {
  long j = 0;
  if (m == 1) {
    /* One row at a time, four accumulators: the task's rows are one contiguous region read
     * front to back, a single stream (8 rows side by side, 8 streams of 3 KB, read the LM head
     * 10-30% slower here). */
    const long kv = K & ~63L;
    for (; j < n; j++) {
      const float *b = B + j * ldb;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      long k = 0;
      for (; k < kv; k += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(X + k), _mm512_loadu_ps(b + k), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(X + k + 16), _mm512_loadu_ps(b + k + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(X + k + 32), _mm512_loadu_ps(b + k + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(X + k + 48), _mm512_loadu_ps(b + k + 48), a3);
      }
      for (; k < K; k += 16) {
        const __mmask16 mk = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, X + k), _mm512_maskz_loadu_ps(mk, b + k), a0);
      }
      out[j] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
  }
  for (; j + 4 <= n; j += 4) {
    int i = 0;
    if (m >= 4) {
      COLS_BLOCK_PF(4)
      i = 4;
    }
    for (; i + 4 <= m; i += 4) COLS_BLOCK(4, 4)
    for (; i + 2 <= m; i += 2) COLS_BLOCK(2, 4)
    for (; i < m; i++) COLS_BLOCK(1, 4)
  }
  for (; j < n; j++) {
    for (int i = 0; i < m; i++) COLS_BLOCK(1, 1)
  }
}

static const gemm_arch arch = {
    .name = "avx512-14x32",
    .mr = MR,
    .nr = NR,
    .mc = 224,
    .kc = 384,
    .nc = 4096,
    .ukr = ukr_14x32,
    .pack_a = pack_a_avx512,
    .pack_b = pack_b_avx512,
    .gemv_rows = gemv_rows_avx512,
    .gemv_cols = gemv_cols_avx512,
};

const gemm_arch *tslm_gemm_arch_avx512(void) { return &arch; }
