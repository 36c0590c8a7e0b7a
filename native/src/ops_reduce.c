/* Reductions over the middle axis of a contiguous [outer, dim, inner] block: reduce (sum, max,
 * min) and argmax. Contracts: src/kernels/types.ts.
 *
 * Two shapes of work: inner == 1 (reduce each contiguous row to one number: vector partial results
 * combined at the end) and inner > 1 (e.g. a bias gradient, [1, rows, C]: each output vector
 * accumulates rows of x, so it vectorises along inner with no horizontal step). Max/min follow
 * the reference: the first NaN met wins and stays. Threads split outer, or inner when outer is
 * too small to share.
 */
#ifndef OPS_PASS
#include "ops_common.h"

enum { RED_SUM, RED_MAX, RED_MIN };

#define RED_BLOCK 64   /* rows per first-level partial sum */
#define RED_COLS 2048  /* columns per partial (8 KB on the stack, stays in L1) */

typedef struct {
  int op;
  const float *x;
  float *out;
  int64_t outer, dim, inner;
  int split_inner; /* 1: tasks split [0, inner), else [0, outer) */
} red_ctx;

/* The reference's update rule for max: take v when larger or NaN; a NaN accumulator stays. */
static inline float red_pick(int op, float acc, float v) {
  if (v != v) return acc != acc ? acc : v;
  if (acc != acc) return acc;
  return op == RED_MAX ? (v > acc ? v : acc) : (v < acc ? v : acc);
}

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_reduce.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_reduce.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_reduce.c"
#include "ops_vec_end.h"

static void red_task(void *vctx, int task, int ntasks) {
  const red_ctx *c = (const red_ctx *)vctx;
  size_t lo, hi;
  if (c->split_inner) {
    ops_range(task, ntasks, (size_t)c->inner, &lo, &hi);
    /* Whole cache lines per task (false sharing on out), except at the end. */
    lo = task == 0 ? 0 : (lo + 15) & ~(size_t)15;
    hi = task == ntasks - 1 ? (size_t)c->inner : (hi + 15) & ~(size_t)15;
    if (lo < hi) OPS_DISPATCH(red_block, c, 0, c->outer, (int64_t)lo, (int64_t)hi);
  } else {
    ops_range(task, ntasks, (size_t)c->outer, &lo, &hi);
    if (lo < hi) OPS_DISPATCH(red_block, c, (int64_t)lo, (int64_t)hi, 0, c->inner);
  }
}

static napi_value js_reduce(napi_env env, napi_callback_info info) {
  OPS_ARGS(6);
  OPS_INT(0, op);
  OPS_F32(1, x);
  OPS_F32(2, out);
  OPS_INT(3, outer);
  OPS_INT(4, dim);
  OPS_INT(5, inner);
  if (op < RED_SUM || op > RED_MIN) {
    napi_throw_range_error(env, NULL, "reduce: unknown op code");
    return NULL;
  }
  OPS_NEED("reduce", x, (double)outer * dim * inner);
  OPS_NEED("reduce", out, (double)outer * inner);
  red_ctx c = {(int)op, x, out, outer, dim, inner, 0};
  const double work = (double)outer * dim * inner;
  int nt = ops_tasks(work, (size_t)outer);
  if (nt < tslm_num_threads() && inner >= 64) {
    c.split_inner = 1;
    nt = ops_tasks(work, (size_t)(inner / 16));
  }
  if (nt <= 1) OPS_DISPATCH(red_block, &c, 0, outer, 0, inner);
  else tslm_parallel_for(nt, red_task, &c);
  return NULL;
}

/* argmax: not hot (sampling and max's backward), so one plain loop; first index on ties, the first
 * NaN counts as the maximum. */
static napi_value js_argmax(napi_env env, napi_callback_info info) {
  OPS_ARGS(5);
  OPS_F32(0, x);
  OPS_I32(1, out);
  OPS_INT(2, outer);
  OPS_INT(3, dim);
  OPS_INT(4, inner);
  OPS_NEED("argmax", x, (double)outer * dim * inner);
  OPS_NEED("argmax", out, (double)outer * inner);
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      const float *p = x + o * dim * inner + i;
      int64_t best = 0;
      float bv = p[0];
      for (int64_t d = 1; d < dim && bv == bv; d++) {
        float v = p[d * inner];
        if (v > bv || v != v) {
          bv = v;
          best = d;
        }
      }
      out[o * inner + i] = (int32_t)best;
    }
  }
  return NULL;
}

void tslm_register_reduce(napi_env env, napi_value exports) {
  tslm_export(env, exports, "reduce", js_reduce);
  tslm_export(env, exports, "argmax", js_argmax);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

/* Vector form of red_pick, lane by lane. */
static inline TGT vf K(red_vpick)(int op, vf acc, vf v) {
  vm take = op == RED_MAX ? vgt(v, acc) : vlt(v, acc);
  take = vmor(take, visnan(v));
  /* A NaN accumulator lane never compares true with anything, and visnan(v) can only make it
   * NaN again, so NaN stays. */
  return vsel(take, v, acc);
}

/* Reduces outer rows [o0, o1) and inner positions [i0, i1). */
static TGT void K(red_block)(const red_ctx *c, int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
  const int op = c->op;
  const int64_t dim = c->dim, inner = c->inner;
  for (int64_t o = o0; o < o1; o++) {
    const float *xo = c->x + o * dim * inner;
    float *out = c->out + o * inner;
    if (inner == 1) {
      /* One contiguous row: VL-wide partial results, then combined. */
      int64_t d = 0;
      if (op == RED_SUM) {
        vacc s0 = vzero(), s1 = vzero();
        for (; d + 2 * VL <= dim; d += 2 * VL) {
          s0 = vadd(s0, vload(xo + d));
          s1 = vadd(s1, vload(xo + d + VL));
        }
        for (; d + VL <= dim; d += VL) s0 = vadd(s0, vload(xo + d));
        float s = (float)vhsum(vadd(s0, s1));
        for (; d < dim; d++) s += xo[d];
        out[0] = s;
      } else {
        float acc = op == RED_MAX ? -INFINITY : INFINITY;
        if (dim >= VL) {
          vf va = vset1(acc);
          for (; d + VL <= dim; d += VL) va = K(red_vpick)(op, va, vload(xo + d));
          float lanes[VL];
          vstore(lanes, va);
          for (int t = 0; t < VL; t++) acc = red_pick(op, acc, lanes[t]);
        }
        for (; d < dim; d++) acc = red_pick(op, acc, xo[d]);
        out[0] = acc;
      }
      continue;
    }
    /* inner > 1: out[i0:i1] accumulates the dim rows of x, read row by row (contiguous streams).
     * Sums run in two levels, blocks of RED_BLOCK rows into a partial that is then added to out,
     * so rounding grows with dim / RED_BLOCK + RED_BLOCK instead of dim (a bias gradient sums
     * tens of thousands of rows). The partial covers at most RED_COLS columns at a time. */
    if (op == RED_SUM) {
      float part[RED_COLS];
      for (int64_t c0 = i0; c0 < i1; c0 += RED_COLS) {
        const int64_t c1 = c0 + RED_COLS < i1 ? c0 + RED_COLS : i1, w = c1 - c0;
        for (int64_t i = 0; i < w; i++) out[c0 + i] = 0.0f;
        for (int64_t d0 = 0; d0 < dim; d0 += RED_BLOCK) {
          const int64_t d1 = d0 + RED_BLOCK < dim ? d0 + RED_BLOCK : dim;
          memcpy(part, xo + d0 * inner + c0, sizeof(float) * (size_t)w);
          for (int64_t d = d0 + 1; d < d1; d++) {
            const float *xr = xo + d * inner + c0;
            int64_t i = 0;
            for (; i + VL <= w; i += VL) vstore(part + i, vadd(vload(part + i), vload(xr + i)));
            for (; i < w; i++) part[i] += xr[i];
          }
          int64_t i = 0;
          for (; i + VL <= w; i += VL) vstore(out + c0 + i, vadd(vload(out + c0 + i), vload(part + i)));
          for (; i < w; i++) out[c0 + i] += part[i];
        }
      }
      continue;
    }
    const float init = op == RED_MAX ? -INFINITY : INFINITY;
    for (int64_t i = i0; i < i1; i++) out[i] = init;
    for (int64_t d = 0; d < dim; d++) {
      const float *xr = xo + d * inner;
      int64_t i = i0;
      for (; i + VL <= i1; i += VL) vstore(out + i, K(red_vpick)(op, vload(out + i), vload(xr + i)));
      for (; i < i1; i++) out[i] = red_pick(op, out[i], xr[i]);
    }
  }
}

#endif
