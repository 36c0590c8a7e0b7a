/* LayerNorm and RMSNorm over the last axis of a contiguous [rows, cols] block, forward and backward.
 * Contracts: src/kernels/types.ts.
 *
 * Forward: two passes per row for LayerNorm (mean, then the biased variance as the mean of
 * (x - mean)^2, which stays accurate when |mean| >> std, unlike E[x^2] - mean^2), in float with
 * VL-lane partial sums; rstd = 1/sqrt(var + eps). Threads split rows.
 * Backward: gx needs two row sums (mean of g and of g * xhat, g = gy * w); gw and gb need sums over
 * rows. Those are summed in two levels (blocks of NRM_BLOCK rows, then the blocks), so rounding does
 * not grow with the row count, and with several threads each task sums its rows into private
 * buffers that are added into gw/gb at the end (no races; the result does not depend on timing).
 */
#ifndef OPS_PASS
#include "ops_common.h"

typedef struct {
  int rms; /* 0: LayerNorm, 1: RMSNorm */
  const float *x, *w, *b, *gy;
  const float *mean_in, *rstd_in;
  float *y, *mean, *rstd, *gx, *gw, *gb;
  int64_t rows, cols;
  float eps;
  float *partial; /* backward with gw/gb: per task [4][cols] (see nrm_bwd_task) */
} nrm_ctx;

#define NRM_BLOCK 64 /* rows per first-level gw/gb partial sum */

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_norm.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_norm.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_norm.c"
#include "ops_vec_end.h"

static void nrm_fwd_task(void *vctx, int task, int ntasks) {
  const nrm_ctx *c = (const nrm_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->rows, &lo, &hi);
  if (lo < hi) OPS_DISPATCH(nrm_fwd, c, (int64_t)lo, (int64_t)hi);
}

/* Backward with gw/gb: each task owns 4 * cols floats of c->partial: [0, 2 cols) its running gw and
 * gb (unless it writes gw/gb directly), [2 cols, 4 cols) the scratch for one block of rows. */
static void nrm_bwd_task(void *vctx, int task, int ntasks) {
  const nrm_ctx *c = (const nrm_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->rows, &lo, &hi);
  float *mine = c->partial ? c->partial + (size_t)task * 4 * c->cols : NULL;
  float *tw = c->gw, *tb = c->gb;
  if (mine && ntasks > 1) {
    tw = c->gw ? mine : NULL;
    tb = c->gb ? mine + c->cols : NULL;
  }
  if (lo < hi) OPS_DISPATCH(nrm_bwd, c, (int64_t)lo, (int64_t)hi, tw, tb, mine ? mine + 2 * c->cols : NULL);
}

static void nrm_forward(nrm_ctx *c) {
  int nt = ops_tasks((double)c->rows * c->cols * 3.0, (size_t)c->rows);
  if (nt <= 1) OPS_DISPATCH(nrm_fwd, c, 0, c->rows);
  else tslm_parallel_for(nt, nrm_fwd_task, c);
}

/* Returns 0, or 1 after throwing (out of memory). */
static int nrm_backward(napi_env env, nrm_ctx *c) {
  int nt = ops_tasks((double)c->rows * c->cols * 4.0, (size_t)c->rows);
  const size_t n = (size_t)c->cols;
  c->partial = NULL;
  if (c->gw || c->gb) {
    c->partial = (float *)calloc((size_t)nt * 4 * n, sizeof(float));
    if (!c->partial) {
      napi_throw_error(env, NULL, "layerNormBackward/rmsNormBackward: out of memory");
      return 1;
    }
  }
  if (nt <= 1) nrm_bwd_task(c, 0, 1);
  else tslm_parallel_for(nt, nrm_bwd_task, c);
  if (c->partial && nt > 1) {
    for (int t = 0; t < nt; t++) {
      const float *p = c->partial + (size_t)t * 4 * n;
      if (c->gw) for (size_t j = 0; j < n; j++) c->gw[j] += p[j];
      if (c->gb) for (size_t j = 0; j < n; j++) c->gb[j] += p[n + j];
    }
  }
  free(c->partial);
  return 0;
}

static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  OPS_ARGS(9);
  OPS_F32(0, x);
  OPS_F32_OPT(1, w);
  OPS_F32_OPT(2, b);
  OPS_F32(3, y);
  OPS_F32(4, mean);
  OPS_F32(5, rstd);
  OPS_INT(6, rows);
  OPS_INT(7, cols);
  OPS_NUM(8, eps);
  const char *fn = "layerNorm";
  OPS_NEED(fn, x, (double)rows * cols);
  OPS_NEED(fn, y, (double)rows * cols);
  OPS_NEED_OPT(fn, w, cols);
  OPS_NEED_OPT(fn, b, cols);
  OPS_NEED(fn, mean, rows);
  OPS_NEED(fn, rstd, rows);
  nrm_ctx c = {0};
  c.x = x; c.w = w; c.b = b; c.y = y; c.mean = mean; c.rstd = rstd;
  c.rows = rows; c.cols = cols; c.eps = (float)eps;
  nrm_forward(&c);
  return NULL;
}

static napi_value js_layer_norm_backward(napi_env env, napi_callback_info info) {
  OPS_ARGS(10);
  OPS_F32(0, x);
  OPS_F32_OPT(1, w);
  OPS_F32(2, mean);
  OPS_F32(3, rstd);
  OPS_F32(4, gy);
  OPS_F32(5, gx);
  OPS_F32_OPT(6, gw);
  OPS_F32_OPT(7, gb);
  OPS_INT(8, rows);
  OPS_INT(9, cols);
  const char *fn = "layerNormBackward";
  OPS_NEED(fn, x, (double)rows * cols);
  OPS_NEED(fn, gy, (double)rows * cols);
  OPS_NEED(fn, gx, (double)rows * cols);
  OPS_NEED_OPT(fn, w, cols);
  OPS_NEED_OPT(fn, gw, cols);
  OPS_NEED_OPT(fn, gb, cols);
  OPS_NEED(fn, mean, rows);
  OPS_NEED(fn, rstd, rows);
  nrm_ctx c = {0};
  c.x = x; c.w = w; c.mean_in = mean; c.rstd_in = rstd; c.gy = gy; c.gx = gx; c.gw = gw; c.gb = gb;
  c.rows = rows; c.cols = cols;
  nrm_backward(env, &c);
  return NULL;
}

static napi_value js_rms_norm(napi_env env, napi_callback_info info) {
  OPS_ARGS(7);
  OPS_F32(0, x);
  OPS_F32_OPT(1, w);
  OPS_F32(2, y);
  OPS_F32(3, rstd);
  OPS_INT(4, rows);
  OPS_INT(5, cols);
  OPS_NUM(6, eps);
  const char *fn = "rmsNorm";
  OPS_NEED(fn, x, (double)rows * cols);
  OPS_NEED(fn, y, (double)rows * cols);
  OPS_NEED_OPT(fn, w, cols);
  OPS_NEED(fn, rstd, rows);
  nrm_ctx c = {0};
  c.rms = 1; c.x = x; c.w = w; c.y = y; c.rstd = rstd;
  c.rows = rows; c.cols = cols; c.eps = (float)eps;
  nrm_forward(&c);
  return NULL;
}

static napi_value js_rms_norm_backward(napi_env env, napi_callback_info info) {
  OPS_ARGS(8);
  OPS_F32(0, x);
  OPS_F32_OPT(1, w);
  OPS_F32(2, rstd);
  OPS_F32(3, gy);
  OPS_F32(4, gx);
  OPS_F32_OPT(5, gw);
  OPS_INT(6, rows);
  OPS_INT(7, cols);
  const char *fn = "rmsNormBackward";
  OPS_NEED(fn, x, (double)rows * cols);
  OPS_NEED(fn, gy, (double)rows * cols);
  OPS_NEED(fn, gx, (double)rows * cols);
  OPS_NEED_OPT(fn, w, cols);
  OPS_NEED_OPT(fn, gw, cols);
  OPS_NEED(fn, rstd, rows);
  nrm_ctx c = {0};
  c.rms = 1; c.x = x; c.w = w; c.rstd_in = rstd; c.gy = gy; c.gx = gx; c.gw = gw;
  c.rows = rows; c.cols = cols;
  nrm_backward(env, &c);
  return NULL;
}

void tslm_register_norm(napi_env env, napi_value exports) {
  tslm_export(env, exports, "layerNorm", js_layer_norm);
  tslm_export(env, exports, "layerNormBackward", js_layer_norm_backward);
  tslm_export(env, exports, "rmsNorm", js_rms_norm);
  tslm_export(env, exports, "rmsNormBackward", js_rms_norm_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

static TGT void K(nrm_fwd)(const nrm_ctx *c, int64_t r0, int64_t r1) {
  const int64_t n = c->cols;
  const float *w = c->w, *b = c->b;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = c->x + r * n;
    float *y = c->y + r * n;
    float m = 0.0f, rs;
    int64_t j = 0;
    if (c->rms) {
      rs = 1.0f / sqrtf(K(row_dot)(x, x, n) / (float)n + c->eps);
    } else {
      m = K(row_sum)(x, n) / (float)n;
      /* Second pass: sum of squared deviations. */
      const vf vm_ = vset1(m);
      vacc s = vzero();
      for (; j + VL <= n; j += VL) {
        vf d = vsub(vload(x + j), vm_);
        s = vfma(d, d, s);
      }
      float var = (float)vhsum(s);
      for (; j < n; j++) var += (x[j] - m) * (x[j] - m);
      rs = 1.0f / sqrtf(var / (float)n + c->eps);
      c->mean[r] = m;
    }
    c->rstd[r] = rs;
    const vf vmn = vset1(m), vrs = vset1(rs);
    j = 0;
    /* y = (x - m) * rs [* w] [+ b]; one loop per affine variant keeps the loops branch-free. */
    if (w && b) {
      for (; j + VL <= n; j += VL) vstore(y + j, vfma(vmul(vsub(vload(x + j), vmn), vrs), vload(w + j), vload(b + j)));
      for (; j < n; j++) y[j] = (x[j] - m) * rs * w[j] + b[j];
    } else if (w) {
      for (; j + VL <= n; j += VL) vstore(y + j, vmul(vmul(vsub(vload(x + j), vmn), vrs), vload(w + j)));
      for (; j < n; j++) y[j] = (x[j] - m) * rs * w[j];
    } else if (b) {
      for (; j + VL <= n; j += VL) vstore(y + j, vfma(vsub(vload(x + j), vmn), vrs, vload(b + j)));
      for (; j < n; j++) y[j] = (x[j] - m) * rs + b[j];
    } else {
      for (; j + VL <= n; j += VL) vstore(y + j, vmul(vsub(vload(x + j), vmn), vrs));
      for (; j < n; j++) y[j] = (x[j] - m) * rs;
    }
  }
}

/* Rows [r0, r1). The gw / gb contributions (tw, tb: gw and gb themselves or a task's private sums,
 * each possibly NULL) are summed in two levels: NRM_BLOCK rows into the scratch block [2][cols],
 * then the block into tw / tb, so rounding does not grow with the number of rows. */
static TGT void K(nrm_bwd)(const nrm_ctx *c, int64_t r0, int64_t r1, float *tw, float *tb, float *scratch) {
  const int64_t n = c->cols;
  const float *w = c->w;
  const int rms = c->rms;
  float *gw = tw ? scratch : NULL, *gb = tb ? scratch + n : NULL;
  for (int64_t r = r0; r < r1; r++) {
    if ((r - r0) % NRM_BLOCK == 0) {
      if (gw) memset(gw, 0, sizeof(float) * (size_t)n);
      if (gb) memset(gb, 0, sizeof(float) * (size_t)n);
    }
    const float *x = c->x + r * n, *gy = c->gy + r * n;
    float *gx = c->gx + r * n;
    const float m = rms ? 0.0f : c->mean_in[r], rs = c->rstd_in[r];
    const vf vmn = vset1(m), vrs = vset1(rs);
    /* Pass 1: sums of g and g * xhat, and the gw / gb contributions. */
    vacc sg = vzero(), sgx = vzero();
    float sG = 0.0f, sGX = 0.0f;
    int64_t j = 0;
    for (; j + VL <= n; j += VL) {
      vf xh = vmul(vsub(vload(x + j), vmn), vrs);
      vf g0 = vload(gy + j);
      vf g = w ? vmul(g0, vload(w + j)) : g0;
      sg = vadd(sg, g);
      sgx = vfma(g, xh, sgx);
      if (gw) vstore(gw + j, vfma(g0, xh, vload(gw + j)));
      if (gb) vstore(gb + j, vadd(vload(gb + j), g0));
    }
    for (; j < n; j++) {
      float xh = (x[j] - m) * rs, g0 = gy[j], g = w ? g0 * w[j] : g0;
      sG += g;
      sGX += g * xh;
      if (gw) gw[j] += g0 * xh;
      if (gb) gb[j] += g0;
    }
    sG += (float)vhsum(sg);
    sGX += (float)vhsum(sgx);
    /* Pass 2: gx = rs * (g - mean(g) - xhat * mean(g * xhat)); RMSNorm has no mean(g) term. */
    const float mg = rms ? 0.0f : sG / (float)n, mgx = sGX / (float)n;
    const vf vmg = vset1(mg), vmgx = vset1(mgx);
    j = 0;
    for (; j + VL <= n; j += VL) {
      vf xh = vmul(vsub(vload(x + j), vmn), vrs);
      vf g = w ? vmul(vload(gy + j), vload(w + j)) : vload(gy + j);
      vstore(gx + j, vmul(vrs, vfnma(xh, vmgx, vsub(g, vmg))));
    }
    for (; j < n; j++) {
      float xh = (x[j] - m) * rs, g = w ? gy[j] * w[j] : gy[j];
      gx[j] = rs * (g - mg - xh * mgx);
    }
    /* End of a block of rows (or of the range): fold the block's sums into the targets. */
    if ((r - r0) % NRM_BLOCK == NRM_BLOCK - 1 || r == r1 - 1) {
      for (int k = 0; k < 2; k++) {
        float *dst = k ? tb : tw;
        const float *src = k ? gb : gw;
        if (!dst) continue;
        j = 0;
        for (; j + VL <= n; j += VL) vstore(dst + j, vadd(vload(dst + j), vload(src + j)));
        for (; j < n; j++) dst[j] += src[j];
      }
    }
  }
}

#endif
