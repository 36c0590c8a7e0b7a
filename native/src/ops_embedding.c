/* Embedding lookup and its scatter-add backward. Contracts: src/kernels/types.ts.
 *
 * Forward copies rows (memcpy) and threads split rows. Backward adds gOut rows into gWeight rows
 * chosen by ids, where ids repeat (the same token several times in a batch): threads therefore
 * split the *columns* of C, never the rows, so no two threads touch the same float, and within a
 * column slice rows are added in order i = 0..n-1 exactly as the reference does (same rounding,
 * independent of the number of threads).
 */
#ifndef OPS_PASS
#include "ops_common.h"

typedef struct {
  const float *w;
  const int32_t *ids;
  float *out;
  const float *gout;
  float *gw;
  int64_t n, C;
} emb_ctx;

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_embedding.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_embedding.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_embedding.c"
#include "ops_vec_end.h"

static void emb_fwd_rows(const emb_ctx *c, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; i++)
    memcpy(c->out + i * c->C, c->w + (int64_t)c->ids[i] * c->C, (size_t)c->C * sizeof(float));
}

static void emb_fwd_task(void *vctx, int task, int ntasks) {
  const emb_ctx *c = (const emb_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->n, &lo, &hi);
  emb_fwd_rows(c, (int64_t)lo, (int64_t)hi);
}

static void emb_bwd_task(void *vctx, int task, int ntasks) {
  const emb_ctx *c = (const emb_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->C, &lo, &hi);
  /* Column slices on 16-float (64-byte) boundaries: no cache line is written by two threads. */
  lo = task == 0 ? 0 : (lo + 15) & ~(size_t)15;
  hi = task == ntasks - 1 ? (size_t)c->C : (hi + 15) & ~(size_t)15;
  if (lo < hi) OPS_DISPATCH(emb_bwd, c, (int64_t)lo, (int64_t)hi);
}

/* ids must index rows of weight: checked here (O(n)) because a bad id would read or write outside
 * the JS buffer. */
static int emb_check_ids(napi_env env, const char *fn, const int32_t *ids, int64_t n, int64_t rowsW) {
  for (int64_t i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= rowsW) {
      char msg[200];
      snprintf(msg, sizeof msg, "%s: ids[%lld] = %d is outside [0, %lld)", fn, (long long)i, ids[i], (long long)rowsW);
      napi_throw_range_error(env, NULL, msg);
      return 1;
    }
  }
  return 0;
}

static napi_value js_embedding(napi_env env, napi_callback_info info) {
  OPS_ARGS(5);
  OPS_F32(0, weight);
  OPS_I32(1, ids);
  OPS_F32(2, out);
  OPS_INT(3, n);
  OPS_INT(4, C);
  OPS_NEED("embedding", ids, n);
  OPS_NEED("embedding", out, (double)n * C);
  if (C <= 0 || n <= 0) return NULL;
  if (emb_check_ids(env, "embedding", ids, n, (int64_t)(weight_len / (size_t)C))) return NULL;
  emb_ctx c = {weight, ids, out, NULL, NULL, n, C};
  int nt = ops_tasks((double)n * C, (size_t)n);
  if (nt <= 1) emb_fwd_rows(&c, 0, n);
  else tslm_parallel_for(nt, emb_fwd_task, &c);
  return NULL;
}

static napi_value js_embedding_backward(napi_env env, napi_callback_info info) {
  OPS_ARGS(5);
  OPS_F32(0, gOut);
  OPS_I32(1, ids);
  OPS_F32(2, gWeight);
  OPS_INT(3, n);
  OPS_INT(4, C);
  OPS_NEED("embeddingBackward", ids, n);
  OPS_NEED("embeddingBackward", gOut, (double)n * C);
  if (C <= 0 || n <= 0) return NULL;
  if (emb_check_ids(env, "embeddingBackward", ids, n, (int64_t)(gWeight_len / (size_t)C))) return NULL;
  emb_ctx c = {NULL, ids, NULL, gOut, gWeight, n, C};
  int nt = ops_tasks((double)n * C, (size_t)(C / 64));
  if (nt <= 1) OPS_DISPATCH(emb_bwd, &c, 0, C);
  else tslm_parallel_for(nt, emb_bwd_task, &c);
  return NULL;
}

void tslm_register_embedding(napi_env env, napi_value exports) {
  tslm_export(env, exports, "embedding", js_embedding);
  tslm_export(env, exports, "embeddingBackward", js_embedding_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

/* gWeight[ids[i], c0:c1] += gOut[i, c0:c1] for every i, in order. */
static TGT void K(emb_bwd)(const emb_ctx *c, int64_t c0, int64_t c1) {
  const int64_t C = c->C;
  for (int64_t i = 0; i < c->n; i++) {
    float *dst = c->gw + (int64_t)c->ids[i] * C;
    const float *src = c->gout + i * C;
    int64_t j = c0;
    for (; j + VL <= c1; j += VL) vstore(dst + j, vadd(vload(dst + j), vload(src + j)));
    for (; j < c1; j++) dst[j] += src[j];
  }
}

#endif
