/* Batched, strided GEMM: C_b = alpha * op(A_b) @ op(B_b) + beta * C_b (semantics in
 * src/kernels/types.ts, Kernels.gemm). This file is the driver: argument checks, the choice of path
 * and threads, packing, and the Goto/BLIS loop nests. The register-tile microkernels, vector packing
 * and small-M kernels live per instruction set in gemm_avx512.c, gemm_avx2.c and gemm_scalar.c
 * (table: gemm_internal.h).
 *
 * Paths for one matrix:
 *   small M (M <= 32) or N = 1   no packing; the matrix is streamed once for all rows (decoding)
 *   fused   (packed A <= 640 KB) A packed whole per K block (once, shared by the threads); each
 *                                task packs one B strip at a time into its own L2 buffer and runs
 *                                every sliver over it (prefill, the LM head)
 *   regular (everything else)    the BLIS loop nest below
 *
 * The regular loop nest (BLIS naming):
 *   for jc in N by NC:                       B panel of NC columns
 *     for pc in K by KC:                     K block; beta applies on the first only
 *       pack op(B)[pc:+KC, jc:+NC] into KC x NR strips   (shared by all threads, packed by all)
 *       tasks (row block of <= MC rows, range of strips), taken dynamically by the threads:
 *         pack op(A)[ic:+MC, pc:+KC] into MR-row slivers (per thread, reused across its tasks)
 *         for each strip (NR columns):       the strip (KC x NR) streams from L2
 *           for each sliver (MR rows):       microkernel: MR x NR tile of C, KC rank-1 updates
 * Transposes only change how the packing reads memory; the microkernel always sees the same layout.
 * The A block (MC x KC) is sized for L2, a B strip for L1/L2, the B panel (KC x NC) for L3.
 *
 * Threads: one matrix is cut into about 6 tasks per thread (see schedule), which the threads take
 * from an atomic counter, so a core busy with another process just takes fewer. Batched products
 * of small matrices run one matrix per task instead (attention heads). A product under 2^19
 * multiply-adds stays on the calling thread.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign under -std=c11 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tslm.h"
#include "gemm_internal.h"

#define MAX_THREADS 256
/* Minimum work (multiply-adds; see work_units) per thread before a product is split: below this
 * the fork-join (a few microseconds) costs more than it saves. 2^18 FMAs is about 5 us on one core. */
#define MIN_WORK_PER_THREAD (1L << 18)

typedef struct {
  int ta, tb;
  long M, N, K;
  float alpha, beta;
  const float *A;
  long lda;
  const float *B;
  long ldb;
  float *C;
  long ldc;
  const float *bias; /* NULL, or N floats added to every row of C (after alpha and beta) */
} gemm_prob;

/* ---- buffers ----------------------------------------------------------------------------------
 * Packing buffers per thread, grown on demand and kept (allocation on every call would cost more
 * than the packing of small matrices). Guarded by gemm_lock: one GEMM at a time per process. */
static pthread_mutex_t gemm_lock = PTHREAD_MUTEX_INITIALIZER;
/* Per thread (index tslm_worker_id()): the packed A block (or the small-M output block), and a
 * private B block (batch tasks, fused strips) or a copy of strided small-M rows. */
static float *abuf[MAX_THREADS], *bbuf[MAX_THREADS];
static size_t acap[MAX_THREADS], bcap[MAX_THREADS];
/* Shared by the threads working on one matrix: the packed B panel (regular path) or the packed A
 * (fused path). */
static float *bshared;
static size_t bshared_cap;

static int reserve(float **buf, size_t *cap, size_t n) {
  if (*cap >= n) return 0;
  free(*buf);
  *buf = NULL;
  *cap = 0;
  void *p = NULL;
  /* 64-byte alignment: packed strips are read with aligned full-cache-line vector loads. */
  if (posix_memalign(&p, 64, n * sizeof(float) + 64) != 0) return 1;
  *buf = (float *)p;
  *cap = n;
  return 0;
}

static const gemm_arch *pick_arch(void) {
  switch (tslm_isa()) {
    case TSLM_ISA_AVX512: return tslm_gemm_arch_avx512();
    case TSLM_ISA_AVX2: return tslm_gemm_arch_avx2();
    default: return tslm_gemm_arch_scalar();
  }
}

static inline long min_l(long a, long b) { return a < b ? a : b; }
static inline long max_l(long a, long b) { return a > b ? a : b; }
static inline long round_up(long a, long m) { return (a + m - 1) / m * m; }

/* ---- packing -------------------------------------------------------------------------------- */

/* op(A)[i0:+mc, k0:+kc] -> MR-row slivers (layout in gemm_internal.h). */
static void pack_a(const gemm_prob *p, long i0, long mc, long k0, long kc, int MR, float *dst) {
  const long lda = p->lda;
  for (long s = 0; s < mc; s += MR) {
    const int rows = (int)min_l(MR, mc - s);
    float *d = dst + s * kc;
    if (!p->ta) {
      /* A row-major M x K: walk each row contiguously, write with stride MR. */
      const float *src = p->A + (i0 + s) * lda + k0;
      for (int i = 0; i < rows; i++) {
        const float *a = src + i * lda;
        for (long k = 0; k < kc; k++) d[k * MR + i] = a[k];
      }
      for (int i = rows; i < MR; i++)
        for (long k = 0; k < kc; k++) d[k * MR + i] = 0.0f;
    } else {
      /* A stored K x M: each k gives MR contiguous values, a plain copy. */
      const float *src = p->A + k0 * lda + i0 + s;
      for (long k = 0; k < kc; k++) {
        const float *a = src + k * lda;
        int i = 0;
        for (; i < rows; i++) d[k * MR + i] = a[i];
        for (; i < MR; i++) d[k * MR + i] = 0.0f;
      }
    }
  }
}

/* A kc x nc block of op(B) at src -> NR-column strips (layout in gemm_internal.h). */
static void pack_b_generic(long kc, long nc, const float *src, long ld, int tr, int NR, float *dst) {
  for (long s = 0; s < nc; s += NR) {
    const int cols = (int)min_l(NR, nc - s);
    float *d = dst + s * kc;
    if (!tr) {
      const float *b = src + s;
      for (long k = 0; k < kc; k++) {
        const float *bk = b + k * ld;
        int j = 0;
        for (; j < cols; j++) d[k * NR + j] = bk[j];
        for (; j < NR; j++) d[k * NR + j] = 0.0f;
      }
    } else {
      const float *b = src + s * ld;
      for (int j = 0; j < cols; j++) {
        const float *bj = b + j * ld;
        for (long k = 0; k < kc; k++) d[k * NR + j] = bj[k];
      }
      for (int j = cols; j < NR; j++)
        for (long k = 0; k < kc; k++) d[k * NR + j] = 0.0f;
    }
  }
}

/* Packs strips [s0, s1) of the block op(B)[k0:+kc, j0:+nc] into dst (whole-block layout). */
static void pack_b_strips(const gemm_arch *ar, const gemm_prob *p, long k0, long kc, long j0, long nc, long s0, long s1,
                          float *dst) {
  const int NR = ar->nr;
  if (s1 <= s0) return;
  const long jj = j0 + s0 * NR;
  const long ncols = min_l(nc - s0 * NR, (s1 - s0) * NR);
  const float *src = p->tb ? p->B + jj * p->ldb + k0 : p->B + k0 * p->ldb + jj;
  float *d = dst + s0 * NR * kc;
  if (ar->pack_b)
    ar->pack_b(kc, ncols, src, p->ldb, p->tb, d);
  else
    pack_b_generic(kc, ncols, src, p->ldb, p->tb, NR, d);
}

/* ---- the packed path ------------------------------------------------------------------------ */

/* Which A block each thread's buffer holds, so that consecutive tasks on the same rows (when
 * columns are split too) pack it once. stamp identifies one (call, jc, pc) block. */
static unsigned long a_stamp[MAX_THREADS];
static long a_rowblock[MAX_THREADS];
static unsigned long block_stamp = 0;

typedef struct {
  const gemm_arch *ar;
  const gemm_prob *p;
  long jc, nc, pc, kc;
  float beta;          /* beta for this K block: the user's on the first, 1 afterwards */
  long ns;             /* NR-column strips in this NC block */
  long mcb, nrb;       /* rows per row block (multiple of MR), row blocks */
  long spc, ncb;       /* strips per column chunk, column chunks */
  int npack;           /* B packing tasks */
  unsigned long stamp; /* this (call, jc, pc) block */
  float *bpack;        /* the shared packed B block */
} block_ctx;

static void pack_b_task(void *vctx, int t, int nt) {
  block_ctx *c = (block_ctx *)vctx;
  pack_b_strips(c->ar, c->p, c->pc, c->kc, c->jc, c->nc, c->ns * t / nt, c->ns * (t + 1) / nt, c->bpack);
}

/* Task t = (row block rb, column chunk cb), row-block-major so that the column chunks of one row
 * block tend to follow each other on a thread and reuse its packed A. */
static void compute_task(void *vctx, int t, int nt) {
  (void)nt;
  block_ctx *c = (block_ctx *)vctx;
  const gemm_arch *ar = c->ar;
  const gemm_prob *p = c->p;
  const int MR = ar->mr, NR = ar->nr;
  const long rb = t / c->ncb, cb = t % c->ncb;
  const long ic = rb * c->mcb, mc = min_l(c->mcb, p->M - ic);
  const long s0 = cb * c->spc, s1 = min_l(c->ns, s0 + c->spc);
  const int w = tslm_worker_id();
  float *ap = abuf[w];
  if (a_stamp[w] != c->stamp || a_rowblock[w] != rb) {
    if (ar->pack_a)
      ar->pack_a(mc, c->kc, p->ta ? p->A + c->pc * p->lda + ic : p->A + ic * p->lda + c->pc, p->lda, p->ta, ap);
    else
      pack_a(p, ic, mc, c->pc, c->kc, MR, ap);
    a_stamp[w] = c->stamp;
    a_rowblock[w] = rb;
  }
  for (long s = s0; s < s1; s++) {
    const long j = c->jc + s * NR;
    const int nr = (int)min_l(NR, c->jc + c->nc - j);
    const float *bias = p->bias && c->pc == 0 ? p->bias + j : NULL; /* added once: on the first K block */
    const float *bp = c->bpack + s * NR * c->kc;
    float *crow = p->C + ic * p->ldc + j;
    for (long ir = 0; ir < mc; ir += MR) {
      const int mr = (int)min_l(MR, mc - ir);
      ar->ukr(c->kc, ap + ir * c->kc, bp, crow + ir * p->ldc, p->ldc, p->alpha, c->beta, mr, nr, bias);
    }
  }
}

/* Cuts one NC block of C into tasks. One thread: A blocks of up to MC rows, all columns. Several:
 * tasks are taken dynamically, so that a thread slowed by another process simply takes fewer;
 * we aim at about TASKS_PER_THREAD per thread. Rows are cut into full A blocks (up to MC rows:
 * each row block streams the whole B panel from L3 again, so small row blocks starve the
 * microkernel); when that gives too few tasks (M small, e.g. 256 x 50257), the columns are cut
 * into chunks of at least 4 strips, at the price of packing an A block once per chunk a thread
 * takes (skipped when it takes consecutive chunks of one row block). Only when even that is not
 * enough (small M and N) are the row blocks made smaller. */
#define TASKS_PER_THREAD 6
static void schedule(const gemm_arch *ar, long M, long ns, int nt, block_ctx *c) {
  const long MR = ar->mr, mt = (M + MR - 1) / MR, max_spb = ar->mc / MR;
  /* balanced row blocks: 600 rows in blocks of <= 224 -> 3 x 200, not 224 + 224 + 152 */
  long nrb = (mt + max_spb - 1) / max_spb;
  long ncb = 1;
  c->ns = ns;
  if (nt > 1) {
    const long target = (long)TASKS_PER_THREAD * nt;
    const long max_ncb = ns / 4 > 1 ? ns / 4 : 1; /* at least 4 strips (128 columns) per chunk */
    if (nrb < 4L * nt) ncb = min_l((target + nrb - 1) / nrb, max_ncb);
    if (nrb * ncb < 2L * nt) nrb = min_l(mt, (2L * nt + ncb - 1) / ncb);
    /* A task count that is a multiple of the threads: 15 equal tasks on 2 threads leave one
     * thread idle for a fifteenth of every K block (1024^3 ran at 0.9x torch on 2 threads). */
    if (ncb > 1)
      while ((nrb * ncb) % nt && ncb < max_ncb) ncb++;
    else
      while (nrb % nt && nrb < mt) nrb++;
  }
  long spb = (mt + nrb - 1) / nrb;
  c->nrb = (mt + spb - 1) / spb;
  c->mcb = spb * MR;
  c->spc = (ns + ncb - 1) / ncb;
  c->ncb = (ns + c->spc - 1) / c->spc;
  c->npack = nt == 1 ? 1 : (int)min_l(ns, 4L * nt);
}

/* ---- the fused path (moderate M) -------------------------------------------------------------
 * When all of A's rows fit in L2 as one packed block (M x kc floats <= 640 KB: M up to about 420
 * with K >= 768, 640 with K = 512; prefill, the LM head over a few hundred tokens), B is not packed
 * into a shared panel at all. Per K block, A is packed whole (by all threads together into a shared
 * buffer, or by the one thread); then each task, a range of strips over all of N, packs one strip
 * at a time (48 KB, stays in L1/L2) and immediately runs every sliver over it. Packing B into a
 * 6 MB panel written to L3 and read back cost 5-15% at these sizes (most with B stored N x K);
 * here B goes from memory straight to L2 once. */
#define FUSED_A_BYTES (640L * 1024)
#define FUSED_M 640 /* the largest M that can qualify (with a short K) */

/* Equal K blocks of at most KC (K = 512 -> 2 x 256, not 384 + 128: a short block wastes the C
 * loads and stores it costs). Multiples of 16 keep the packing on its vector path. */
static long k_block(const gemm_arch *ar, long K) {
  const long nkb = (K + ar->kc - 1) / ar->kc;
  return min_l(ar->kc, round_up((K + nkb - 1) / nkb, 16));
}

/* The fused path applies when the whole packed A block (M x kc) fits in about 2/3 of L2. */
static int use_fused(const gemm_arch *ar, const gemm_prob *p) {
  return p->M <= FUSED_M && round_up(p->M, ar->mr) * k_block(ar, p->K) * (long)sizeof(float) <= FUSED_A_BYTES;
}

typedef struct {
  const gemm_arch *ar;
  const gemm_prob *p;
  long pc, kc;
  float beta;
  long ns, spt;  /* strips over all of N, strips per task */
  unsigned long stamp;
  float *ashared; /* A packed once for all threads (several threads), or NULL: per thread */
} fused_ctx;

/* Several threads: A is packed once, into a shared buffer, by all of them (slivers split evenly),
 * before the strips are computed: each thread packing all of A itself cost ~8% at 512^3. */
static void fused_pack_a_task(void *vctx, int t, int nt) {
  fused_ctx *c = (fused_ctx *)vctx;
  const gemm_arch *ar = c->ar;
  const gemm_prob *p = c->p;
  const long mt = (p->M + ar->mr - 1) / ar->mr;
  const long i0 = mt * t / nt * ar->mr, i1 = min_l(p->M, mt * (t + 1) / nt * ar->mr);
  if (i1 <= i0) return;
  float *dst = c->ashared + i0 * c->kc;
  if (ar->pack_a)
    ar->pack_a(i1 - i0, c->kc, p->ta ? p->A + c->pc * p->lda + i0 : p->A + i0 * p->lda + c->pc, p->lda, p->ta, dst);
  else
    pack_a(p, i0, i1 - i0, c->pc, c->kc, ar->mr, dst);
}

static void fused_task(void *vctx, int t, int nt) {
  (void)nt;
  fused_ctx *c = (fused_ctx *)vctx;
  const gemm_arch *ar = c->ar;
  const gemm_prob *p = c->p;
  const int MR = ar->mr, NR = ar->nr;
  const int w = tslm_worker_id();
  float *ap = c->ashared ? c->ashared : abuf[w], *bp = bbuf[w];
  if (!c->ashared && (a_stamp[w] != c->stamp || a_rowblock[w] != -1)) {
    if (ar->pack_a)
      ar->pack_a(p->M, c->kc, p->ta ? p->A + c->pc * p->lda : p->A + c->pc, p->lda, p->ta, ap);
    else
      pack_a(p, 0, p->M, c->pc, c->kc, MR, ap);
    a_stamp[w] = c->stamp;
    a_rowblock[w] = -1;
  }
  const long s0 = t * c->spt, s1 = min_l(c->ns, s0 + c->spt);
  for (long s = s0; s < s1; s++) {
    const long j = s * NR;
    const int nr = (int)min_l(NR, p->N - j);
    const float *bias = p->bias && c->pc == 0 ? p->bias + j : NULL;
    pack_b_strips(ar, p, c->pc, c->kc, j, nr, 0, 1, bp);
    for (long ir = 0; ir < p->M; ir += MR) {
      const int mr = (int)min_l(MR, p->M - ir);
      ar->ukr(c->kc, ap + ir * c->kc, bp, p->C + ir * p->ldc + j, p->ldc, p->alpha, c->beta, mr, nr, bias);
    }
  }
}

static void gemm_fused(const gemm_arch *ar, const gemm_prob *p, int nt, float *ashared) {
  fused_ctx c;
  c.ar = ar;
  c.p = p;
  c.ashared = nt > 1 ? ashared : NULL;
  const int npack = (int)min_l((p->M + ar->mr - 1) / ar->mr, 2L * nt);
  c.ns = (p->N + ar->nr - 1) / ar->nr;
  const long ntasks = nt == 1 ? 1 : min_l(c.ns, (long)TASKS_PER_THREAD * nt);
  c.spt = (c.ns + ntasks - 1) / ntasks;
  const int nts = (int)((c.ns + c.spt - 1) / c.spt);
  const long kcb = k_block(ar, p->K);
  for (long pc = 0; pc < p->K; pc += kcb) {
    c.pc = pc;
    c.kc = min_l(kcb, p->K - pc);
    c.beta = pc == 0 ? p->beta : 1.0f;
    c.stamp = __atomic_add_fetch(&block_stamp, 1, __ATOMIC_RELAXED);
    if (nt > 1) {
      tslm_parallel_for(npack, fused_pack_a_task, &c);
      tslm_parallel_for(nts, fused_task, &c);
    } else
      for (int t = 0; t < nts; t++) fused_task(&c, t, nts);
  }
}

/* One matrix through the packed path (nt = 1: on the calling thread only); bpack receives B. */
static void gemm_packed(const gemm_arch *ar, const gemm_prob *p, int nt, float *bpack) {
  if (use_fused(ar, p)) {
    gemm_fused(ar, p, nt, bpack); /* bpack (the shared buffer) holds the shared packed A */
    return;
  }
  block_ctx c;
  c.ar = ar;
  c.p = p;
  c.bpack = bpack;
  for (long jc = 0; jc < p->N; jc += ar->nc) {
    c.jc = jc;
    c.nc = min_l(ar->nc, p->N - jc);
    schedule(ar, p->M, (c.nc + ar->nr - 1) / ar->nr, nt, &c);
    const long kcb = k_block(ar, p->K);
    for (long pc = 0; pc < p->K; pc += kcb) {
      c.pc = pc;
      c.kc = min_l(kcb, p->K - pc);
      c.beta = pc == 0 ? p->beta : 1.0f;
      c.stamp = __atomic_add_fetch(&block_stamp, 1, __ATOMIC_RELAXED); /* batch tasks run this concurrently */
      const int ntasks = (int)(c.nrb * c.ncb);
      if (nt > 1) {
        tslm_parallel_for(c.npack, pack_b_task, &c);
        tslm_parallel_for(ntasks, compute_task, &c);
      } else {
        pack_b_task(&c, 0, 1);
        for (int t = 0; t < ntasks; t++) compute_task(&c, t, ntasks);
      }
    }
  }
}

/* ---- the small-M / GEMV path ----------------------------------------------------------------
 * M <= GEMM_SMALL_M = 32 (decoding a batch of a few sequences), or N = 1 (computed as its transpose,
 * C^T = op(B)^T op(A)^T, so that it is again one row times a matrix). No packing: these products
 * are bound by reading the matrix from memory, so the only goals are to read each byte once, in
 * long contiguous runs, with both cores pulling. Two ways to split the work over threads:
 *   K split  (rows mode, x times a row-major K x n matrix: a Conv1D weight [in, out], with an output
 *            of at most KSPLIT_MAX floats): tasks are ranges of the matrix's rows, each writing its
 *            own m x n partial sum; the caller adds the partials into C in task order (so the
 *            result does not depend on which thread ran which task: training runs reproduce bit
 *            for bit). A task reads whole rows: one contiguous region of the matrix (three runs of
 *            3 KB in every 9 KB when it is a column block of GPT-2's fused c_attn). Splitting the
 *            columns instead read 384 B of every row, a new DRAM page each time (8.7 GB/s at
 *            768 x 768 from [768, 2304], where the whole-row split reads at the streaming rate).
 *   N split  (cols mode: dot products with the rows of an N x K matrix, a Linear weight or the LM
 *            head; rows mode with a large output): tasks are ranges of output columns; in cols
 *            mode a task's rows are again one contiguous region.
 * Tasks are taken dynamically, several per thread, so that a core busy with another process takes
 * fewer. */
#define KSPLIT_MAX 32768 /* floats of output (m x n) for which the K split is used */
#define KSPLIT_TASKS_PER_THREAD 4

typedef struct {
  gemv_rows_fn rows_fn;
  gemv_fn cols_fn;
  int cols_mode;       /* 1: output j uses row j of the matrix; 0: column j */
  int m;               /* rows of X (and of the output) */
  long K, n, chunk;    /* chunk: output columns per kernel call (m x chunk floats stay in L1) */
  const float *xs;     /* X[i][k] = xs[i*xs_i + k*xs_k] */
  long xs_i, xs_k;
  const float *mat;
  long ld;
  float *y;            /* output (i, j) at y[i*y_i + j*y_j] */
  long y_i, y_j;
  float alpha, beta;
  long kstep;          /* K split: matrix rows per task (a multiple of 8) */
} gemv_ctx;

/* K split: the tasks' partial sums, m x n floats each, side by side (task t at t * m * n). */
static float *kparts;
static size_t kparts_cap;

/* X rows [k0, k0 + len) as contiguous rows (ldx = len) in buf when X is strided (transposed A, or a
 * column of B); otherwise X itself. */
static const float *gemv_x(const gemv_ctx *g, long k0, long len, float *buf, long *ldx) {
  if (g->xs_k == 1) {
    *ldx = g->xs_i;
    return g->xs + k0;
  }
  for (int i = 0; i < g->m; i++)
    for (long k = 0; k < len; k++) buf[i * len + k] = g->xs[i * g->xs_i + (k0 + k) * g->xs_k];
  *ldx = len;
  return buf;
}

/* N split: output columns [j0, j1) of task t, 16-aligned so that vector loops stay aligned. */
static void gemv_task(void *vctx, int t, int nt) {
  gemv_ctx *g = (gemv_ctx *)vctx;
  const long units = (g->n + 15) / 16;
  const long j0 = min_l(g->n, units * t / nt * 16), j1 = min_l(g->n, units * (t + 1) / nt * 16);
  if (j1 <= j0) return;
  const int w = tslm_worker_id();
  long ldx;
  const float *X = gemv_x(g, 0, g->K, bbuf[w], &ldx);
  float *out = abuf[w];
  const float alpha = g->alpha, beta = g->beta;
  for (long j = j0; j < j1; j += g->chunk) {
    const long len = min_l(g->chunk, j1 - j);
    if (g->cols_mode)
      g->cols_fn(g->K, len, g->m, X, ldx, g->mat + j * g->ld, g->ld, out, g->chunk);
    else
      g->rows_fn(g->K, len, g->m, X, ldx, g->mat + j, g->ld, out, g->chunk, 0);
    for (int i = 0; i < g->m; i++) {
      float *y = g->y + i * g->y_i + j * g->y_j;
      const float *o = out + i * g->chunk;
      const long yj = g->y_j;
      if (beta == 0.0f)
        for (long q = 0; q < len; q++) y[q * yj] = alpha * o[q];
      else
        for (long q = 0; q < len; q++) y[q * yj] = alpha * o[q] + beta * y[q * yj];
    }
  }
}

/* K split: matrix rows [k0, k1) of task t into the task's own m x n partial sum. */
static void gemv_ksplit_task(void *vctx, int t, int nt) {
  (void)nt;
  gemv_ctx *g = (gemv_ctx *)vctx;
  const long k0 = t * g->kstep, k1 = min_l(g->K, k0 + g->kstep);
  float *P = kparts + (size_t)t * (size_t)g->m * (size_t)g->n;
  if (k1 <= k0) { /* no rows (only when K is tiny): a zero partial */
    memset(P, 0, (size_t)g->m * (size_t)g->n * sizeof(float));
    return;
  }
  long ldx;
  const float *X = gemv_x(g, k0, k1 - k0, bbuf[tslm_worker_id()], &ldx);
  for (long j = 0; j < g->n; j += g->chunk)
    g->rows_fn(k1 - k0, min_l(g->chunk, g->n - j), g->m, X, ldx, g->mat + k0 * g->ld + j, g->ld, P + j, g->n, 0);
}

/* K split, after the tasks: C = alpha * (sum of the task partials, in task order) + beta * C. The
 * order is fixed, whichever thread ran which task, so results are reproducible bit for bit (a
 * resumed training run must equal an uninterrupted one). */
static void gemv_ksplit_reduce(const gemv_ctx *g, int ntasks) {
  const size_t mn = (size_t)g->m * (size_t)g->n;
  float *P0 = kparts;
  for (int t = 1; t < ntasks; t++) {
    const float *Pt = kparts + (size_t)t * mn;
    for (size_t q = 0; q < mn; q++) P0[q] += Pt[q];
  }
  const float alpha = g->alpha, beta = g->beta;
  for (int i = 0; i < g->m; i++) {
    float *y = g->y + i * g->y_i;
    const float *s = P0 + (size_t)i * (size_t)g->n;
    const long yj = g->y_j;
    if (beta == 0.0f)
      for (long j = 0; j < g->n; j++) y[j * yj] = alpha * s[j];
    else
      for (long j = 0; j < g->n; j++) y[j * yj] = alpha * s[j] + beta * y[j * yj];
  }
}

static int is_small(const gemm_prob *p) { return p->M <= GEMM_SMALL_M || p->N == 1; }

/* Output columns per kernel call: the m x chunk output block stays in L1 (16 KB). */
static long small_chunk(int m) {
  long c = 4096 / m / 16 * 16;
  return c < 16 ? 16 : c > 4096 ? 4096 : c;
}

static void gemv_setup(const gemm_arch *ar, const gemm_prob *p, gemv_ctx *g) {
  g->K = p->K;
  g->alpha = p->alpha;
  g->beta = p->beta;
  if (p->M <= GEMM_SMALL_M) {
    /* X = op(A) (M rows);  output = C;  C[i, j] = sum_k X[i, k] op(B)[k, j] */
    g->m = (int)p->M;
    g->xs = p->A;
    g->xs_i = p->ta ? 1 : p->lda;
    g->xs_k = p->ta ? p->lda : 1;
    g->mat = p->B;
    g->ld = p->ldb;
    g->cols_mode = p->tb; /* B stored N x K: C[i, j] = dot(X row i, B row j) */
    g->n = p->N;
    g->y = p->C;
    g->y_i = p->ldc;
    g->y_j = 1;
  } else {
    /* N == 1: x = op(B)[:, 0];  C[i, 0] = sum_k op(A)[i, k] x[k] */
    g->m = 1;
    g->xs = p->B;
    g->xs_i = 0;
    g->xs_k = p->tb ? 1 : p->ldb;
    g->mat = p->A;
    g->ld = p->lda;
    g->cols_mode = !p->ta; /* A row-major M x K: C[i, 0] = dot(A row i, x) */
    g->n = p->M;
    g->y = p->C;
    g->y_i = 0;
    g->y_j = p->ldc;
  }
  g->chunk = small_chunk(g->m);
  g->rows_fn = ar->gemv_rows;
  g->cols_fn = ar->gemv_cols;
  g->kstep = 0;
}

/* K-split tasks: 4 per thread (taken dynamically), each at least 16 rows; every task has rows
 * (kstep is rounded up to 8 rows, so fewer tasks may be needed: recomputed from kstep). */
static int ksplit_tasks(long K, int nt) {
  const long want = max_l(1, min_l(KSPLIT_TASKS_PER_THREAD * (long)nt, K / 16));
  const long kstep = round_up((K + want - 1) / want, 8);
  return (int)((K + kstep - 1) / kstep);
}

/* Whether the K split applies (see above): rows mode, several threads, a small output. */
static int use_ksplit(const gemv_ctx *g, int nt) {
  /* The partials (tasks x m x n floats, written, read back and added on the caller) must stay
   * small next to the matrix (K x n): at most a sixteenth of it. A 32-row prefill with K = 256
   * (tiny's q/k/v) spent more time adding 8 partials of 32 x 768 than multiplying; at batch 8,
   * 8x3072x768 took 0.91 ms split over K against 0.61 over columns, 8x768x3072 0.51 against 0.64. */
  return nt > 1 && !g->cols_mode && (long)g->m * g->n <= KSPLIT_MAX && g->K >= 64 &&
         16L * g->m * ksplit_tasks(g->K, nt) <= g->K;
}

/* Runs the small-M product described by g on nt threads. */
static void gemv_run(gemv_ctx *g, int nt) {
  if (nt <= 1) {
    gemv_task(g, 0, 1);
    return;
  }
  if (use_ksplit(g, nt)) {
    const int ntasks = ksplit_tasks(g->K, nt);
    g->kstep = round_up((g->K + ntasks - 1) / ntasks, 8);
    tslm_parallel_for(ntasks, gemv_ksplit_task, g);
    gemv_ksplit_reduce(g, ntasks);
    return;
  }
  /* about 8 ranges per thread (dynamic), each at least 64 outputs */
  const int ntasks = (int)min_l(8L * nt, max_l(1, g->n / 64));
  tslm_parallel_for(ntasks, gemv_task, g);
}

/* ---- one matrix ---------------------------------------------------------------------------- */

/* C = beta * C (+ bias): the whole product when it is zero, and the small-M path's start when
 * there is a bias (that path then adds the product with beta 1; it is bound by reading the matrix,
 * so one more pass over a C of a few rows costs nothing). */
static void scale_c(const gemm_prob *p) {
  for (long i = 0; i < p->M; i++) {
    float *c = p->C + i * p->ldc;
    if (p->beta == 0.0f)
      for (long j = 0; j < p->N; j++) c[j] = 0.0f;
    else if (p->beta != 1.0f)
      for (long j = 0; j < p->N; j++) c[j] *= p->beta;
    if (p->bias)
      for (long j = 0; j < p->N; j++) c[j] += p->bias[j];
  }
}

/* Work of one matrix in units where MIN_WORK_PER_THREAD is worth a thread. */
static double work_units(const gemm_prob *p) {
  if (is_small(p)) /* memory-bound: count matrix elements read as 8 FMAs each */
    return (8.0 + (double)(p->N == 1 ? 1 : p->M)) * (double)p->K * (double)(p->N == 1 ? p->M : p->N);
  return (double)p->M * (double)p->N * (double)p->K;
}

/* Runs one matrix product on the calling thread (nt = 1) or on the pool (nt > 1); the packed
 * path packs B into bpack. */
static void gemm_one(const gemm_arch *ar, const gemm_prob *p, int nt, float *bpack) {
  if (p->M <= 0 || p->N <= 0) return;
  if (p->K <= 0 || p->alpha == 0.0f) {
    scale_c(p);
    return;
  }
  if (is_small(p)) {
    gemm_prob q = *p;
    if (p->bias) {
      scale_c(p);
      q.beta = 1.0f;
      q.bias = NULL;
    }
    gemv_ctx g;
    gemv_setup(ar, &q, &g);
    gemv_run(&g, nt);
    return;
  }
  gemm_packed(ar, p, nt, bpack);
}

/* ---- batches -------------------------------------------------------------------------------- */

typedef struct {
  const gemm_arch *ar;
  gemm_prob base; /* batch item 0 */
  long sa, sb, sc, batch;
} batch_ctx;

/* One batch item per task, on the calling thread's buffers; packed B goes to the thread's own
 * buffer (bshared is for one matrix split over threads). */
static void batch_task(void *vctx, int t, int nt) {
  (void)nt;
  batch_ctx *c = (batch_ctx *)vctx;
  gemm_prob p = c->base;
  p.A += t * c->sa;
  p.B += t * c->sb;
  p.C += t * c->sc;
  gemm_one(c->ar, &p, 1, bbuf[tslm_worker_id()]);
}

/* Buffer sizes per thread for p: the A block (or the GEMV output chunk), and the B block (or a
 * copy of a strided GEMV x). */
static void buffer_needs(const gemm_arch *ar, const gemm_prob *p, size_t *an, size_t *bn) {
  if (is_small(p)) {
    const int m = p->N == 1 && p->M > GEMM_SMALL_M ? 1 : (int)p->M;
    *an = (size_t)(m * small_chunk(m)); /* the output chunk (K-split partials: kparts) */
    *bn = (size_t)(m * max_l(p->K, 1));
    return;
  }
  const long kc = min_l(ar->kc, p->K);
  if (use_fused(ar, p)) { /* all of A; one B strip */
    *an = (size_t)(round_up(p->M, ar->mr) * kc);
    *bn = (size_t)(ar->nr * kc);
    return;
  }
  *an = (size_t)(min_l(round_up(p->M, ar->mr), ar->mc) * kc);
  *bn = (size_t)(min_l(round_up(p->N, ar->nr), ar->nc) * kc);
}

/* The whole call; returns nonzero when buffers could not be allocated. Caller holds gemm_lock. */
static int gemm_run(const gemm_prob *p, long sa, long sb, long sc, long batch) {
  const gemm_arch *ar = pick_arch();
  int threads = tslm_num_threads();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  size_t an, bn;
  buffer_needs(ar, p, &an, &bn);
  const double per = work_units(p);

  /* One matrix per task when the batch is large enough and the matrices small enough that
   * splitting each one would be inefficient (attention heads: 12 x 256x256x64). C must not be
   * broadcast (strideC = 0 accumulates into one C, which needs the batch order). */
  if (batch > 1 && sc != 0 && threads > 1 && per * batch >= 2.0 * MIN_WORK_PER_THREAD &&
      (batch >= 4L * threads || per < 16.0 * MIN_WORK_PER_THREAD)) {
    for (int w = 0; w < threads; w++)
      if (reserve(&abuf[w], &acap[w], an) || reserve(&bbuf[w], &bcap[w], bn)) return 1;
    batch_ctx c = {ar, *p, sa, sb, sc, batch};
    tslm_parallel_for((int)batch, batch_task, &c);
    return 0;
  }

  const int nt = per >= 2.0 * MIN_WORK_PER_THREAD ? threads : 1;
  const int fused = !is_small(p) && use_fused(ar, p);
  for (int w = 0; w < nt; w++) {
    if (reserve(&abuf[w], &acap[w], an)) return 1;
    /* small M: each thread may copy strided rows of X; fused: each thread packs its own strips */
    if ((is_small(p) || fused) && reserve(&bbuf[w], &bcap[w], bn)) return 1;
  }
  /* the shared packed B panel, or with the fused path on several threads the shared packed A */
  if (!is_small(p) && reserve(&bshared, &bshared_cap, fused ? an : bn)) return 1;
  if (is_small(p) && nt > 1) { /* the K split's task partials */
    gemv_ctx g;
    gemv_setup(ar, p, &g);
    if (use_ksplit(&g, nt) && reserve(&kparts, &kparts_cap, (size_t)ksplit_tasks(g.K, nt) * (size_t)g.m * (size_t)g.n))
      return 1;
  }
  for (long b = 0; b < batch; b++) {
    gemm_prob q = *p;
    q.A += b * sa;
    q.B += b * sb;
    q.C += b * sc;
    gemm_one(ar, &q, nt, bshared);
  }
  return 0;
}

/* ---- N-API ------------------------------------------------------------------------------------ */

static const char *const gemm_arg_names[] = {"transA", "transB", "M",    "N",   "K",       "alpha", "A",
                                             "aOff",   "lda",    "strideA", "B", "bOff",    "ldb",   "strideB",
                                             "beta",   "C",      "cOff", "ldc", "strideC", "batch", "bias",
                                             "biasOff", NULL};

/* Last element index an operand touches: off + (batch-1)*stride + (rows-1)*ld + (cols-1). */
static double last_index(long off, long stride, long batch, long rows, long cols, long ld) {
  return (double)off + (double)(batch - 1) * (double)stride + (double)(rows - 1) * (double)ld + (double)(cols - 1);
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  napi_value argv[22];
  size_t argc = 22;
  tslm_arg_names(gemm_arg_names);
  if (tslm_get_args(env, info, 20, argv)) return NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *bias = NULL;
  size_t lenBias = 0;
  int64_t biasOff = 0;
  if ((argc > 20 && tslm_arg_f32_or_null(env, argv[20], 20, &bias, &lenBias)) ||
      (argc > 21 && tslm_arg_int(env, argv[21], 21, &biasOff)))
    return NULL;
  int ta, tb;
  int64_t M, N, K, aOff, lda, sA, bOff, ldb, sB, cOff, ldc, sC, batch;
  double alpha, beta;
  float *A, *B, *C;
  size_t lenA, lenB, lenC;
  if (tslm_arg_bool(env, argv[0], 0, &ta) || tslm_arg_bool(env, argv[1], 1, &tb) ||
      tslm_arg_int(env, argv[2], 2, &M) || tslm_arg_int(env, argv[3], 3, &N) || tslm_arg_int(env, argv[4], 4, &K) ||
      tslm_arg_double(env, argv[5], 5, &alpha) || tslm_arg_f32(env, argv[6], 6, &A, &lenA) ||
      tslm_arg_int(env, argv[7], 7, &aOff) || tslm_arg_int(env, argv[8], 8, &lda) ||
      tslm_arg_int(env, argv[9], 9, &sA) || tslm_arg_f32(env, argv[10], 10, &B, &lenB) ||
      tslm_arg_int(env, argv[11], 11, &bOff) || tslm_arg_int(env, argv[12], 12, &ldb) ||
      tslm_arg_int(env, argv[13], 13, &sB) || tslm_arg_double(env, argv[14], 14, &beta) ||
      tslm_arg_f32(env, argv[15], 15, &C, &lenC) || tslm_arg_int(env, argv[16], 16, &cOff) ||
      tslm_arg_int(env, argv[17], 17, &ldc) || tslm_arg_int(env, argv[18], 18, &sC) ||
      tslm_arg_int(env, argv[19], 19, &batch))
    return NULL;

  /* Cheap O(1) bounds checks: callers validate shapes, but a wrong index here would be a crash of
   * the whole process instead of an exception. */
  char msg[300];
  if (M < 0 || N < 0 || K < 0 || batch < 0) {
    snprintf(msg, sizeof msg, "gemm: M, N, K and batch must be >= 0 (got M=%lld N=%lld K=%lld batch=%lld)",
             (long long)M, (long long)N, (long long)K, (long long)batch);
    return throw_range(env, msg);
  }
  if (aOff < 0 || bOff < 0 || cOff < 0 || lda < 0 || ldb < 0 || ldc < 0 || sA < 0 || sB < 0 || sC < 0) {
    snprintf(msg, sizeof msg, "gemm: offsets, leading dimensions and strides must be >= 0");
    return throw_range(env, msg);
  }
  if (M == 0 || N == 0 || batch == 0) return NULL;
  if (K > 0) {
    const double la = ta ? last_index(aOff, sA, batch, K, M, lda) : last_index(aOff, sA, batch, M, K, lda);
    const double lb = tb ? last_index(bOff, sB, batch, N, K, ldb) : last_index(bOff, sB, batch, K, N, ldb);
    if (la >= (double)lenA) {
      snprintf(msg, sizeof msg, "gemm: A (length %zu) is too short: the product reads element %.0f", lenA, la);
      return throw_range(env, msg);
    }
    if (lb >= (double)lenB) {
      snprintf(msg, sizeof msg, "gemm: B (length %zu) is too short: the product reads element %.0f", lenB, lb);
      return throw_range(env, msg);
    }
  }
  const double lc = last_index(cOff, sC, batch, M, N, ldc);
  if (lc >= (double)lenC) {
    snprintf(msg, sizeof msg, "gemm: C (length %zu) is too short: the product writes element %.0f", lenC, lc);
    return throw_range(env, msg);
  }

  if (bias && (biasOff < 0 || (double)biasOff + (double)N > (double)lenBias)) {
    snprintf(msg, sizeof msg, "gemm: bias (length %zu) is too short: needs N = %lld floats from offset %lld", lenBias,
             (long long)N, (long long)biasOff);
    return throw_range(env, msg);
  }
  gemm_prob p = {ta, tb, (long)M, (long)N, (long)K, (float)alpha, (float)beta, A + aOff, (long)lda,
                 B + bOff, (long)ldb, C + cOff, (long)ldc, bias ? bias + biasOff : NULL};
  pthread_mutex_lock(&gemm_lock);
  int err = gemm_run(&p, (long)sA, (long)sB, (long)sC, (long)batch);
  pthread_mutex_unlock(&gemm_lock);
  if (err) napi_throw_error(env, NULL, "gemm: out of memory for the packing buffers");
  return NULL;
}

/* setIsa(name): caps the instruction set for every kernel (tests run each path this way); returns
 * the ISA now in effect. Registered here because GEMM is where the paths differ most. */
static napi_value js_set_isa(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"isa", NULL};
  napi_value argv[1];
  tslm_arg_names(names);
  if (tslm_get_args(env, info, 1, argv)) return NULL;
  char buf[16];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) != napi_ok || tslm_isa_parse(buf) < 0) {
    napi_throw_type_error(env, NULL, "setIsa: argument 1 (isa) must be \"scalar\", \"avx2\" or \"avx512\"");
    return NULL;
  }
  napi_value out;
  napi_create_string_utf8(env, tslm_isa_name(tslm_set_isa(tslm_isa_parse(buf))), NAPI_AUTO_LENGTH, &out);
  return out;
}

/* gemmInfo(): the active kernel's register tile and cache blocks, for benchmarks and debugging. */
static napi_value js_gemm_info(napi_env env, napi_callback_info info) {
  (void)info;
  const gemm_arch *ar = pick_arch();
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, ar->name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "kernel", v);
  const char *keys[] = {"mr", "nr", "mc", "kc", "nc"};
  const long vals[] = {ar->mr, ar->nr, ar->mc, ar->kc, ar->nc};
  for (int i = 0; i < 5; i++) {
    napi_create_int64(env, vals[i], &v);
    napi_set_named_property(env, o, keys[i], v);
  }
  return o;
}

void tslm_register_gemm(napi_env env, napi_value exports) {
  tslm_export(env, exports, "gemm", js_gemm);
  tslm_export(env, exports, "setIsa", js_set_isa);
  tslm_export(env, exports, "gemmInfo", js_gemm_info);
}
