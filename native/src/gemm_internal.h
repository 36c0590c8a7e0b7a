/* Internal contract between the GEMM driver (gemm.c) and its per-ISA kernels (gemm_avx512.c,
 * gemm_avx2.c, gemm_scalar.c). Not part of tslm.h: nothing outside the gemm*.c files uses it.
 *
 * Packed layouts (the driver packs, the microkernel reads):
 *   A block (mc x kc) -> slivers of MR rows; sliver s holds op(A)[s*MR + i, k] at Ap[k*MR + i]
 *                        (rows past the matrix edge are zero).
 *   B block (kc x nc) -> strips of NR columns; strip s holds op(B)[k, s*NR + j] at Bp[k*NR + j]
 *                        (columns past the edge are zero).
 * So at step k the microkernel reads MR consecutive A values (broadcast one by one) and NR
 * consecutive B values (NR/16 vector loads), and accumulates an MR x NR tile in registers.
 */
#ifndef TSLM_GEMM_INTERNAL_H
#define TSLM_GEMM_INTERNAL_H

#include <stddef.h>

/* C[i*ldc + j] = alpha * sum_k Ap[k*MR+i] * Bp[k*NR+j] + beta * C[i*ldc + j] (+ bias[j]) for i < mr,
 * j < nr. beta == 0 means C is not read; bias NULL means none. mr <= MR and nr <= NR (edge tiles). */
typedef void (*gemm_ukr_fn)(long kc, const float *Ap, const float *Bp, float *C, long ldc, float alpha, float beta,
                            int mr, int nr, const float *bias);

/* Small-M kernels (GEMV when m = 1), no packing, over a column range of length n, raw sums (no
 * alpha/beta), for m <= GEMM_SMALL_M rows x_i = X + i*ldx (each K contiguous floats):
 *   rows: out[i*ldo + j] (+)= sum_k x_i[k] * B[k*ldb + j]   (times a row-major K x n matrix; with
 *         acc the sums are added to out, so that a K range at a time can be accumulated)
 *   cols: out[i*ldo + j] = sum_k x_i[k] * B[j*ldb + k]      (dot products with n rows of length K)
 * The matrix is read once for all m rows: these shapes (decoding) are memory-bound, and packing B
 * for so few rows costs more than it saves (measured at 768 x 3072: 2-10x faster than the packed
 * path up to m = 16, 1.4x at 32, even at 64). */
#define GEMM_SMALL_M 32
typedef void (*gemv_fn)(long K, long n, int m, const float *X, long ldx, const float *B, long ldb, float *out,
                        long ldo);
typedef void (*gemv_rows_fn)(long K, long n, int m, const float *X, long ldx, const float *B, long ldb, float *out,
                             long ldo, int acc);

/* Packs B (see layout above) for one kc x nc block whose top-left element is at src:
 * transposed = 0: op(B)[k, j] = src[k*ld + j];  transposed = 1: op(B)[k, j] = src[j*ld + k]. */
typedef void (*gemm_pack_fn)(long kc, long nc, const float *src, long ld, int transposed, float *dst);

/* Packs A for one mc x kc block whose top-left element op(A)[i0, k0] is at src:
 * transposed = 0: op(A)[i, k] = src[i*ld + k];  transposed = 1: op(A)[i, k] = src[k*ld + i]. */
typedef void (*gemm_pack_a_fn)(long mc, long kc, const float *src, long ld, int transposed, float *dst);

typedef struct {
  const char *name;
  int mr, nr;         /* register tile */
  long mc, kc, nc;    /* cache blocks: mc multiple of mr, nc multiple of nr */
  gemm_ukr_fn ukr;
  gemm_pack_a_fn pack_a; /* NULL: the driver's generic packing */
  gemm_pack_fn pack_b;   /* NULL: the driver's generic packing */
  gemv_rows_fn gemv_rows;
  gemv_fn gemv_cols;
} gemm_arch;

const gemm_arch *tslm_gemm_arch_scalar(void);
const gemm_arch *tslm_gemm_arch_avx2(void);
const gemm_arch *tslm_gemm_arch_avx512(void);

#endif
