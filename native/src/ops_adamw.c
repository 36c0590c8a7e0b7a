/* One AdamW step over a flat parameter array (torch.optim.AdamW semantics, step counted from 1).
 * Contract: src/kernels/types.ts. The operation order is PyTorch's (single-tensor, non-fused path):
 *   p *= 1 - lr * wd
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),   bc_k = 1 - beta_k^step
 * Scalars are formed in double once, then the loop runs in float. Threads split the array in
 * cache-line-aligned slices.
 */
#ifndef OPS_PASS
#include "ops_common.h"

typedef struct {
  float *p, *m, *v;
  const float *g;
  int64_t n;
  float decay, b1, omb1, b2, omb2, step_size, bc2_sqrt, eps;
} adamw_ctx;

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_adamw.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_adamw.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_adamw.c"
#include "ops_vec_end.h"

static void adamw_task(void *vctx, int task, int ntasks) {
  const adamw_ctx *c = (const adamw_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->n, &lo, &hi);
  lo = task == 0 ? 0 : (lo + 15) & ~(size_t)15;
  hi = task == ntasks - 1 ? (size_t)c->n : (hi + 15) & ~(size_t)15;
  if (lo < hi) OPS_DISPATCH(adamw_range, c, (int64_t)lo, (int64_t)hi);
}

static napi_value js_adamw(napi_env env, napi_callback_info info) {
  OPS_ARGS(11);
  OPS_F32(0, p);
  OPS_F32(1, g);
  OPS_F32(2, m);
  OPS_F32(3, v);
  OPS_INT(4, n);
  OPS_NUM(5, lr);
  OPS_NUM(6, beta1);
  OPS_NUM(7, beta2);
  OPS_NUM(8, eps);
  OPS_NUM(9, weightDecay);
  OPS_NUM(10, step);
  OPS_NEED("adamw", p, n);
  OPS_NEED("adamw", g, n);
  OPS_NEED("adamw", m, n);
  OPS_NEED("adamw", v, n);
  const double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step);
  adamw_ctx c = {p, m, v, g, n,
                 (float)(1.0 - lr * weightDecay), (float)beta1, (float)(1.0 - beta1), (float)beta2,
                 (float)(1.0 - beta2), (float)(lr / bc1), (float)sqrt(bc2), (float)eps};
  int nt = ops_tasks((double)n * 4.0, (size_t)(n / 16 + 1));
  if (nt <= 1) OPS_DISPATCH(adamw_range, &c, 0, n);
  else tslm_parallel_for(nt, adamw_task, &c);
  return NULL;
}

void tslm_register_adamw(napi_env env, napi_value exports) {
  tslm_export(env, exports, "adamw", js_adamw);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

static TGT void K(adamw_range)(const adamw_ctx *c, int64_t lo, int64_t hi) {
  float *p = c->p, *m = c->m, *v = c->v;
  const float *g = c->g;
  const vf decay = vset1(c->decay), b1 = vset1(c->b1), omb1 = vset1(c->omb1), b2 = vset1(c->b2),
           omb2 = vset1(c->omb2), ss = vset1(c->step_size), bc2s = vset1(c->bc2_sqrt), eps = vset1(c->eps);
  int64_t i = lo;
  for (; i + VL <= hi; i += VL) {
    vf gi = vload(g + i);
    vf pi = vmul(vload(p + i), decay);
    vf mi = vfma(b1, vload(m + i), vmul(omb1, gi));
    vf vi = vfma(b2, vload(v + i), vmul(vmul(omb2, gi), gi));
    vf denom = vadd(vdiv(vsqrt(vi), bc2s), eps);
    pi = vsub(pi, vdiv(vmul(ss, mi), denom));
    vstore(p + i, pi);
    vstore(m + i, mi);
    vstore(v + i, vi);
  }
  for (; i < hi; i++) {
    float gi = g[i];
    float pi = p[i] * c->decay;
    float mi = c->b1 * m[i] + c->omb1 * gi;
    float vi = c->b2 * v[i] + c->omb2 * gi * gi;
    pi -= c->step_size * mi / (sqrtf(vi) / c->bc2_sqrt + c->eps);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}

#endif
