/* Row-wise softmax and log-softmax over the last axis of a contiguous [rows, cols] block, and their
 * backward passes. Contracts: src/kernels/types.ts.
 *
 * Softmax subtracts the row maximum before exp (no overflow; a row of all -inf uses 0 as its max,
 * exactly like the reference). Each row is a few vector passes: max, exp-and-sum (exp written to y
 * and rescaled in place), so y is written once and re-read from L1/L2. Threads split rows.
 */
#ifndef OPS_PASS
#include "ops_common.h"

enum { SM_SOFTMAX, SM_LOG_SOFTMAX, SM_SOFTMAX_BWD, SM_LOG_SOFTMAX_BWD };

typedef struct {
  int kind;
  const float *a, *b; /* forward: x; backward: y, gy */
  float *out;
  int64_t rows, cols;
} sm_ctx;

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_softmax.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_softmax.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_softmax.c"
#include "ops_vec_end.h"

static void sm_task(void *vctx, int task, int ntasks) {
  const sm_ctx *c = (const sm_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->rows, &lo, &hi);
  if (lo < hi) OPS_DISPATCH(sm_rows, c, (int64_t)lo, (int64_t)hi);
}

static void sm_run(sm_ctx *c) {
  int nt = ops_tasks((double)c->rows * c->cols * 4.0, (size_t)c->rows);
  if (nt <= 1) OPS_DISPATCH(sm_rows, c, 0, c->rows);
  else tslm_parallel_for(nt, sm_task, c);
}

static napi_value sm_forward(napi_env env, napi_callback_info info, int kind, const char *name) {
  OPS_ARGS(4);
  OPS_F32(0, x);
  OPS_F32(1, y);
  OPS_INT(2, rows);
  OPS_INT(3, cols);
  OPS_NEED(name, x, (double)rows * cols);
  OPS_NEED(name, y, (double)rows * cols);
  sm_ctx c = {kind, x, NULL, y, rows, cols};
  sm_run(&c);
  return NULL;
}

static napi_value sm_backward(napi_env env, napi_callback_info info, int kind, const char *name) {
  OPS_ARGS(5);
  OPS_F32(0, y);
  OPS_F32(1, gy);
  OPS_F32(2, gx);
  OPS_INT(3, rows);
  OPS_INT(4, cols);
  OPS_NEED(name, y, (double)rows * cols);
  OPS_NEED(name, gy, (double)rows * cols);
  OPS_NEED(name, gx, (double)rows * cols);
  sm_ctx c = {kind, y, gy, gx, rows, cols};
  sm_run(&c);
  return NULL;
}

static napi_value js_softmax(napi_env env, napi_callback_info info) {
  return sm_forward(env, info, SM_SOFTMAX, "softmax");
}
static napi_value js_log_softmax(napi_env env, napi_callback_info info) {
  return sm_forward(env, info, SM_LOG_SOFTMAX, "logSoftmax");
}
static napi_value js_softmax_backward(napi_env env, napi_callback_info info) {
  return sm_backward(env, info, SM_SOFTMAX_BWD, "softmaxBackward");
}
static napi_value js_log_softmax_backward(napi_env env, napi_callback_info info) {
  return sm_backward(env, info, SM_LOG_SOFTMAX_BWD, "logSoftmaxBackward");
}

void tslm_register_softmax(napi_env env, napi_value exports) {
  tslm_export(env, exports, "softmax", js_softmax);
  tslm_export(env, exports, "softmaxBackward", js_softmax_backward);
  tslm_export(env, exports, "logSoftmax", js_log_softmax);
  tslm_export(env, exports, "logSoftmaxBackward", js_log_softmax_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

static TGT void K(sm_rows)(const sm_ctx *c, int64_t r0, int64_t r1) {
  const int64_t n = c->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *a = c->a + r * n;
    float *out = c->out + r * n;
    int64_t j = 0;
    switch (c->kind) {
      case SM_SOFTMAX: {
        float m = K(row_max)(a, n);
        if (m == -INFINITY) m = 0.0f;
        const float invs = 1.0f / K(row_exp_sum)(a, m, out, n);
        const vf inv = vset1(invs);
        for (; j + VL <= n; j += VL) vstore(out + j, vmul(vload(out + j), inv));
        for (; j < n; j++) out[j] *= invs;
        break;
      }
      case SM_LOG_SOFTMAX: {
        float m = K(row_max)(a, n);
        if (m == -INFINITY) m = 0.0f;
        const float lse = m + logf(K(row_exp_sum)(a, m, NULL, n));
        const vf vl = vset1(lse);
        for (; j + VL <= n; j += VL) vstore(out + j, vsub(vload(a + j), vl));
        for (; j < n; j++) out[j] = a[j] - lse;
        break;
      }
      case SM_SOFTMAX_BWD: { /* gx = y * (gy - sum(gy * y)) */
        const float *y = a, *gy = c->b + r * n;
        const float dot = K(row_dot)(gy, y, n);
        const vf vd = vset1(dot);
        for (; j + VL <= n; j += VL) vstore(out + j, vmul(vload(y + j), vsub(vload(gy + j), vd)));
        for (; j < n; j++) out[j] = y[j] * (gy[j] - dot);
        break;
      }
      case SM_LOG_SOFTMAX_BWD: { /* gx = gy - exp(y) * sum(gy) */
        const float *y = a, *gy = c->b + r * n;
        const float s = K(row_sum)(gy, n);
        const vf vs = vset1(s);
        for (; j + VL <= n; j += VL) vstore(out + j, vfnma(vexp(vload(y + j)), vs, vload(gy + j)));
        if (j < n) {
          float buf[VL];
          for (int t = 0; t < VL; t++) buf[t] = j + t < n ? y[j + t] : 0.0f;
          vstore(buf, vexp(vload(buf)));
          for (int t = 0; j + t < n; t++) out[j + t] = gy[j + t] - buf[t] * s;
        }
        break;
      }
    }
  }
}

#endif
