/* Cross-entropy over rows of logits [rows, V] with integer targets, forward and backward, with
 * ignoreIndex and PyTorch's label smoothing. Contracts: src/kernels/types.ts.
 *
 *   lse      = max + log(sum exp(x - max))                    (written for the backward pass)
 *   loss[r]  = (1 - eps) (lse - x[t]) + eps (lse - mean(x))   (0 when t == ignoreIndex)
 *   gx[r, j] = gLoss[r] (exp(x[j] - lse) - eps/V - (1 - eps)[j == t])
 * The per-row combination is done in double: lse - x[t] cancels when the model is confident, and
 * doing it in float would lose the small loss to rounding. Threads split rows.
 */
#ifndef OPS_PASS
#include "ops_common.h"

typedef struct {
  const float *x;
  const int32_t *t;
  const float *lse_in, *gloss;
  float *loss, *lse, *gx;
  int64_t rows, V;
  int32_t ignore;
  float smoothing;
} ce_ctx;

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_loss.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_loss.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_loss.c"
#include "ops_vec_end.h"

static void ce_fwd_task(void *vctx, int task, int ntasks) {
  const ce_ctx *c = (const ce_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->rows, &lo, &hi);
  if (lo < hi) OPS_DISPATCH(ce_fwd, c, (int64_t)lo, (int64_t)hi);
}

static void ce_bwd_task(void *vctx, int task, int ntasks) {
  const ce_ctx *c = (const ce_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->rows, &lo, &hi);
  if (lo < hi) OPS_DISPATCH(ce_bwd, c, (int64_t)lo, (int64_t)hi);
}

static napi_value js_cross_entropy(napi_env env, napi_callback_info info) {
  OPS_ARGS(8);
  OPS_F32(0, logits);
  OPS_I32(1, targets);
  OPS_F32(2, loss);
  OPS_F32(3, lse);
  OPS_INT(4, rows);
  OPS_INT(5, V);
  OPS_INT(6, ignoreIndex);
  OPS_NUM(7, smoothing);
  const char *fn = "crossEntropy";
  OPS_NEED(fn, logits, (double)rows * V);
  OPS_NEED(fn, targets, rows);
  OPS_NEED(fn, loss, rows);
  OPS_NEED(fn, lse, rows);
  ce_ctx c = {logits, targets, NULL, NULL, loss, lse, NULL, rows, V, (int32_t)ignoreIndex, (float)smoothing};
  int nt = ops_tasks((double)rows * V * 4.0, (size_t)rows);
  if (nt <= 1) OPS_DISPATCH(ce_fwd, &c, 0, rows);
  else tslm_parallel_for(nt, ce_fwd_task, &c);
  return NULL;
}

static napi_value js_cross_entropy_backward(napi_env env, napi_callback_info info) {
  OPS_ARGS(9);
  OPS_F32(0, logits);
  OPS_I32(1, targets);
  OPS_F32(2, lse);
  OPS_F32(3, gLoss);
  OPS_F32(4, gLogits);
  OPS_INT(5, rows);
  OPS_INT(6, V);
  OPS_INT(7, ignoreIndex);
  OPS_NUM(8, smoothing);
  const char *fn = "crossEntropyBackward";
  OPS_NEED(fn, logits, (double)rows * V);
  OPS_NEED(fn, gLogits, (double)rows * V);
  OPS_NEED(fn, targets, rows);
  OPS_NEED(fn, lse, rows);
  OPS_NEED(fn, gLoss, rows);
  ce_ctx c = {logits, targets, lse, gLoss, NULL, NULL, gLogits, rows, V, (int32_t)ignoreIndex, (float)smoothing};
  int nt = ops_tasks((double)rows * V * 4.0, (size_t)rows);
  if (nt <= 1) OPS_DISPATCH(ce_bwd, &c, 0, rows);
  else tslm_parallel_for(nt, ce_bwd_task, &c);
  return NULL;
}

void tslm_register_loss(napi_env env, napi_value exports) {
  tslm_export(env, exports, "crossEntropy", js_cross_entropy);
  tslm_export(env, exports, "crossEntropyBackward", js_cross_entropy_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

static TGT void K(ce_fwd)(const ce_ctx *c, int64_t r0, int64_t r1) {
  const int64_t V = c->V;
  const double eps = c->smoothing;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = c->x + r * V;
    const float m = K(row_max)(x, V);
    const double lse = (double)m + log((double)K(row_exp_sum)(x, m, NULL, V));
    c->lse[r] = (float)lse;
    const int32_t t = c->t[r];
    if (t == c->ignore) {
      c->loss[r] = 0.0f;
      continue;
    }
    if (t < 0 || t >= V) { /* an unchecked bad target: poison the loss rather than read outside */
      c->loss[r] = NAN;
      continue;
    }
    double l = lse - x[t];
    if (eps != 0.0) l = (1.0 - eps) * l + eps * (lse - (double)K(row_sum)(x, V) / (double)V);
    c->loss[r] = (float)l;
  }
}

static TGT void K(ce_bwd)(const ce_ctx *c, int64_t r0, int64_t r1) {
  const int64_t V = c->V;
  const float eps = c->smoothing;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = c->x + r * V;
    float *gx = c->gx + r * V;
    const int32_t t = c->t[r];
    if (t == c->ignore || t < 0 || t >= V) {
      memset(gx, 0, (size_t)V * sizeof(float));
      continue;
    }
    const float g = c->gloss[r], l = c->lse_in[r], u = eps / (float)V;
    const vf vg = vset1(g), vl = vset1(l), vu = vset1(u);
    int64_t j = 0;
    for (; j + VL <= V; j += VL) vstore(gx + j, vmul(vg, vsub(vexp(vsub(vload(x + j), vl)), vu)));
    if (j < V) {
      float buf[VL];
      for (int k = 0; k < VL; k++) buf[k] = j + k < V ? x[j + k] - l : 0.0f;
      vstore(buf, vexp(vload(buf)));
      for (int k = 0; j + k < V; k++) gx[j + k] = g * (buf[k] - u);
    }
    gx[t] -= g * (1.0f - eps);
  }
}

#endif
