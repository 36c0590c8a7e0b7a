/* Layout and elementwise kernels: copyStrided, binary, unary, unaryBackward.
 *
 * Contracts: src/kernels/types.ts. All four share one N-d walker: the shape is first simplified
 * (size-1 dims dropped, adjacent dims merged when every operand is contiguous across them), so that
 * typical calls (contiguous tensors, a bias broadcast over rows, a transpose) become a few long
 * rows; each row then runs a vector loop specialised for inner strides 1 and 0 (broadcast).
 * Threads split the flat output range, so that even a single long row is shared.
 *
 * This file is compiled once per ISA (see ops_common.h): the part between #else and #endif is the
 * ISA-generic body, included three times.
 */
#ifndef OPS_PASS
#include "ops_common.h"

#define OPS_MAX_NDIM 32

/* A simplified iteration space: out is contiguous over shape[0..nd); operand k is at
 * off[k] + sum(idx[d] * st[k][d]). nd >= 1 after simplification (a scalar becomes shape [1]). */
typedef struct {
  int nd;
  int64_t shape[OPS_MAX_NDIM];
  int64_t st[2][OPS_MAX_NDIM];
  int64_t off[2];
  int nops;
} ew_space;

/* Builds the simplified space. Returns 0 when the space is empty (a zero-size dim). */
static int ew_simplify(ew_space *s, int nd, const int32_t *shape, int nops, const int64_t *offs,
                       const int32_t *const *strides) {
  s->nops = nops;
  s->nd = 0;
  for (int k = 0; k < nops; k++) s->off[k] = offs[k];
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 0) return 0;
    if (shape[d] == 1) continue; /* its stride never matters */
    int m = s->nd;
    /* Merge into the previous dim when every operand steps across both as one dim. */
    if (m > 0) {
      int ok = 1;
      for (int k = 0; k < nops; k++)
        if (s->st[k][m - 1] != (int64_t)strides[k][d] * shape[d]) ok = 0;
      if (ok) {
        s->shape[m - 1] *= shape[d];
        for (int k = 0; k < nops; k++) s->st[k][m - 1] = strides[k][d];
        continue;
      }
    }
    s->shape[m] = shape[d];
    for (int k = 0; k < nops; k++) s->st[k][m] = strides[k][d];
    s->nd = m + 1;
  }
  if (s->nd == 0) { /* scalar or all-ones shape: one element */
    s->nd = 1;
    s->shape[0] = 1;
    for (int k = 0; k < nops; k++) s->st[k][0] = 0;
  }
  return 1;
}

/* Calls row(ctx, pos[], n, outStart) for the output elements [e0, e1) of the space, split into
 * pieces of innermost rows; pos[k] is operand k's element position of the piece's first element. */
typedef void (*ew_row_fn)(void *ctx, const int64_t *pos, int64_t n, int64_t out0);

static void ew_walk(const ew_space *s, int64_t e0, int64_t e1, ew_row_fn row, void *ctx) {
  const int nd = s->nd;
  const int64_t n = s->shape[nd - 1];
  int64_t idx[OPS_MAX_NDIM];
  int64_t pos[2];
  /* Decompose the first element's row index once; later rows advance like an odometer. */
  int64_t r = e0 / n, c = e0 % n;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = r % s->shape[d];
    r /= s->shape[d];
  }
  for (int k = 0; k < s->nops; k++) {
    pos[k] = s->off[k];
    for (int d = 0; d < nd - 1; d++) pos[k] += idx[d] * s->st[k][d];
  }
  int64_t e = e0;
  while (e < e1) {
    int64_t len = n - c;
    if (len > e1 - e) len = e1 - e;
    int64_t p[2];
    for (int k = 0; k < s->nops; k++) p[k] = pos[k] + c * s->st[k][nd - 1];
    row(ctx, p, len, e);
    e += len;
    c = 0;
    for (int d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (int k = 0; k < s->nops; k++) pos[k] += s->st[k][d];
      if (idx[d] < s->shape[d]) break;
      for (int k = 0; k < s->nops; k++) pos[k] -= s->st[k][d] * s->shape[d];
      idx[d] = 0;
    }
  }
}

/* Runs ew_walk over the whole space, on several threads when it is large. */
typedef struct {
  const ew_space *s;
  int64_t total;
  ew_row_fn row;
  void *ctx;
} ew_par;

static void ew_task(void *vctx, int task, int ntasks) {
  const ew_par *p = (const ew_par *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)p->total, &lo, &hi);
  /* Keep slice boundaries on 64-byte lines of the output to avoid false sharing. */
  lo = task == 0 ? 0 : (lo + 15) & ~(size_t)15;
  hi = task == ntasks - 1 ? (size_t)p->total : (hi + 15) & ~(size_t)15;
  if (lo < hi) ew_walk(p->s, (int64_t)lo, (int64_t)hi, p->row, p->ctx);
}

static void ew_run(const ew_space *s, ew_row_fn row, void *ctx, double cost_per_elem) {
  int64_t total = 1;
  for (int d = 0; d < s->nd; d++) total *= s->shape[d];
  ew_par p = {s, total, row, ctx};
  int nt = ops_tasks((double)total * cost_per_elem, (size_t)(total / 16 + 1));
  if (nt <= 1) ew_walk(s, 0, total, row, ctx);
  else tslm_parallel_for(nt, ew_task, &p);
}

/* Op codes, as in src/kernels/types.ts. */
enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MAX, BIN_MIN };
enum {
  UN_NEG, UN_EXP, UN_LOG, UN_SQRT, UN_RSQRT, UN_TANH, UN_SIGMOID, UN_RELU, UN_GELU_TANH, UN_GELU_ERF,
  UN_SILU, UN_ABS, UN_POW, UN_SCALE, UN_ADD, UN_SQUARE
};
#define GELU_K 0.7978845608028654f   /* sqrt(2/pi) */
#define GELU_C 0.044715f
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

typedef struct {
  int op;
  const float *a, *b;
  int64_t sa, sb; /* innermost strides */
  float *out;
} bin_ctx;

typedef struct {
  int op;
  const float *x, *y, *gy;
  float *out;
  float param;
} un_ctx;

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_elementwise.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_elementwise.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_elementwise.c"
#include "ops_vec_end.h"

/* ---------------------------------------------------------------------------------- copyStrided */

typedef struct {
  const uint32_t *src;
  int64_t step;
  uint32_t *out;
} copy_ctx;

static void copy_row(void *vctx, const int64_t *pos, int64_t n, int64_t out0) {
  const copy_ctx *c = (const copy_ctx *)vctx;
  uint32_t *o = c->out + out0;
  const uint32_t *s = c->src + pos[0];
  if (c->step == 1) {
    memcpy(o, s, (size_t)n * 4);
  } else if (c->step == 0) {
    for (int64_t j = 0; j < n; j++) o[j] = s[0];
  } else {
    const int64_t st = c->step;
    for (int64_t j = 0; j < n; j++) o[j] = s[j * st];
  }
}

static napi_value js_copy_strided(napi_env env, napi_callback_info info) {
  OPS_ARGS(6);
  OPS_I32(0, shape);
  void *src, *out;
  size_t src_len, out_len;
  if (tslm_arg_typed(env, argv[1], 1, &src, &src_len)) return NULL;
  OPS_INT(2, sOff);
  OPS_I32(3, sStrides);
  if (tslm_arg_typed(env, argv[4], 4, &out, &out_len)) return NULL;
  OPS_INT(5, dOff);
  /* The copy moves 4-byte words, so src and out must be the same kind (no int/float conversion). */
  napi_typedarray_type st, dt;
  napi_get_typedarray_info(env, argv[1], &st, NULL, NULL, NULL, NULL);
  napi_get_typedarray_info(env, argv[4], &dt, NULL, NULL, NULL, NULL);
  if (st != dt) {
    napi_throw_type_error(env, NULL, "copyStrided: src and out must both be Float32Array or both Int32Array");
    return NULL;
  }
  if (shape_len > OPS_MAX_NDIM) {
    napi_throw_range_error(env, NULL, "copyStrided: more than 32 dimensions");
    return NULL;
  }
  OPS_NEED("copyStrided", sStrides, shape_len);
  /* Bounds: the output range and the extreme source positions. */
  double total = 1, lo = (double)sOff, hi = (double)sOff;
  for (size_t d = 0; d < shape_len; d++) {
    total *= shape[d];
    if (shape[d] > 0) {
      double ext = (double)sStrides[d] * (shape[d] - 1);
      if (ext < 0) lo += ext; else hi += ext;
    }
  }
  if (total == 0) return NULL;
  if (dOff < 0 || (double)dOff + total > (double)out_len || lo < 0 || hi >= (double)src_len) {
    napi_throw_range_error(env, NULL, "copyStrided: index range outside the arrays");
    return NULL;
  }
  ew_space s;
  int64_t offs[1] = {sOff};
  const int32_t *strides[1] = {sStrides};
  if (!ew_simplify(&s, (int)shape_len, shape, 1, offs, strides)) return NULL;
  copy_ctx c = {(const uint32_t *)src, s.st[0][s.nd - 1], (uint32_t *)out + dOff};
  ew_run(&s, copy_row, &c, 0.5);
  return NULL;
}

/* ---------------------------------------------------------------------------------------- binary */

static void bin_row(void *vctx, const int64_t *pos, int64_t n, int64_t out0) {
  const bin_ctx *c = (const bin_ctx *)vctx;
  OPS_DISPATCH(bin_row, c->op, n, c->a + pos[0], c->sa, c->b + pos[1], c->sb, c->out + out0);
}

static napi_value js_binary(napi_env env, napi_callback_info info) {
  OPS_ARGS(9);
  OPS_INT(0, op);
  OPS_I32(1, shape);
  OPS_F32(2, a);
  OPS_INT(3, aOff);
  OPS_I32(4, aStrides);
  OPS_F32(5, b);
  OPS_INT(6, bOff);
  OPS_I32(7, bStrides);
  OPS_F32(8, out);
  if (op < BIN_ADD || op > BIN_MIN) {
    napi_throw_range_error(env, NULL, "binary: unknown op code");
    return NULL;
  }
  if (shape_len > OPS_MAX_NDIM) {
    napi_throw_range_error(env, NULL, "binary: more than 32 dimensions");
    return NULL;
  }
  OPS_NEED("binary", aStrides, shape_len);
  OPS_NEED("binary", bStrides, shape_len);
  double total = 1, alo = (double)aOff, ahi = (double)aOff, blo = (double)bOff, bhi = (double)bOff;
  for (size_t d = 0; d < shape_len; d++) {
    total *= shape[d];
    if (shape[d] > 0) {
      double ea = (double)aStrides[d] * (shape[d] - 1), eb = (double)bStrides[d] * (shape[d] - 1);
      if (ea < 0) alo += ea; else ahi += ea;
      if (eb < 0) blo += eb; else bhi += eb;
    }
  }
  if (total == 0) return NULL;
  if (total > (double)out_len || alo < 0 || ahi >= (double)a_len || blo < 0 || bhi >= (double)b_len) {
    napi_throw_range_error(env, NULL, "binary: index range outside the arrays");
    return NULL;
  }
  ew_space s;
  int64_t offs[2] = {aOff, bOff};
  const int32_t *strides[2] = {aStrides, bStrides};
  if (!ew_simplify(&s, (int)shape_len, shape, 2, offs, strides)) return NULL;
  bin_ctx c = {(int)op, a, b, s.st[0][s.nd - 1], s.st[1][s.nd - 1], out};
  ew_run(&s, bin_row, &c, op == BIN_POW ? 20.0 : 1.0);
  return NULL;
}

/* ----------------------------------------------------------------------------- unary (+ backward) */

/* Relative cost per element, so that cheap ops are threaded only when large. */
static double un_cost(int op) {
  switch (op) {
    case UN_NEG: case UN_ABS: case UN_SCALE: case UN_ADD: case UN_SQUARE: case UN_RELU: return 1.0;
    default: return 8.0;
  }
}

typedef struct {
  const un_ctx *c;
  int64_t n;
  int backward;
} un_par;

static void un_task(void *vctx, int task, int ntasks) {
  const un_par *p = (const un_par *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)p->n, &lo, &hi);
  lo = task == 0 ? 0 : (lo + 15) & ~(size_t)15;
  hi = task == ntasks - 1 ? (size_t)p->n : (hi + 15) & ~(size_t)15;
  if (lo >= hi) return;
  if (p->backward) OPS_DISPATCH(unary_bwd, p->c, (int64_t)lo, (int64_t)hi);
  else OPS_DISPATCH(unary_fwd, p->c, (int64_t)lo, (int64_t)hi);
}

static void un_run(const un_ctx *c, int64_t n, int backward) {
  un_par p = {c, n, backward};
  int nt = ops_tasks((double)n * un_cost(c->op) * (backward ? 1.5 : 1.0), (size_t)(n / 16 + 1));
  if (nt <= 1) un_task(&p, 0, 1);
  else tslm_parallel_for(nt, un_task, &p);
}

static napi_value js_unary(napi_env env, napi_callback_info info) {
  OPS_ARGS(5);
  OPS_INT(0, op);
  OPS_F32(1, x);
  OPS_F32(2, out);
  OPS_INT(3, n);
  OPS_NUM(4, param);
  if (op < UN_NEG || op > UN_SQUARE) {
    napi_throw_range_error(env, NULL, "unary: unknown op code");
    return NULL;
  }
  OPS_NEED("unary", x, n);
  OPS_NEED("unary", out, n);
  un_ctx c = {(int)op, x, NULL, NULL, out, (float)param};
  un_run(&c, n, 0);
  return NULL;
}

static napi_value js_unary_backward(napi_env env, napi_callback_info info) {
  OPS_ARGS(7);
  OPS_INT(0, op);
  OPS_F32(1, x);
  OPS_F32(2, y);
  OPS_F32(3, gy);
  OPS_F32(4, gx);
  OPS_INT(5, n);
  OPS_NUM(6, param);
  if (op < UN_NEG || op > UN_SQUARE) {
    napi_throw_range_error(env, NULL, "unaryBackward: unknown op code");
    return NULL;
  }
  OPS_NEED("unaryBackward", x, n);
  OPS_NEED("unaryBackward", y, n);
  OPS_NEED("unaryBackward", gy, n);
  OPS_NEED("unaryBackward", gx, n);
  un_ctx c = {(int)op, x, y, gy, gx, (float)param};
  un_run(&c, n, 1);
  return NULL;
}

void tslm_register_elementwise(napi_env env, napi_value exports) {
  tslm_export(env, exports, "copyStrided", js_copy_strided);
  tslm_export(env, exports, "binary", js_binary);
  tslm_export(env, exports, "unary", js_unary);
  tslm_export(env, exports, "unaryBackward", js_unary_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

/* One row of a binary op: out[j] = a[j*sa] (op) b[j*sb]. Vector loops for the stride patterns
 * that matter (both contiguous, one broadcast); anything else runs the scalar loop. */
#define BIN_LOOP(VEXPR, SEXPR)                                                       \
  do {                                                                              \
    if (sa == 1 && sb == 1) {                                                       \
      for (; j + VL <= n; j += VL) {                                                \
        vf va = vload(a + j), vb = vload(b + j);                                    \
        vstore(out + j, VEXPR);                                                     \
      }                                                                             \
    } else if (sa == 1 && sb == 0) {                                                \
      vf vb = vset1(b[0]);                                                          \
      for (; j + VL <= n; j += VL) {                                                \
        vf va = vload(a + j);                                                       \
        vstore(out + j, VEXPR);                                                     \
      }                                                                             \
    } else if (sa == 0 && sb == 1) {                                                \
      vf va = vset1(a[0]);                                                          \
      for (; j + VL <= n; j += VL) {                                                \
        vf vb = vload(b + j);                                                       \
        vstore(out + j, VEXPR);                                                     \
      }                                                                             \
    }                                                                               \
    for (; j < n; j++) {                                                            \
      float x = a[j * sa], y = b[j * sb];                                           \
      out[j] = SEXPR;                                                               \
    }                                                                               \
  } while (0)

static TGT void K(bin_row)(int op, int64_t n, const float *a, int64_t sa, const float *b, int64_t sb,
                           float *out) {
  int64_t j = 0;
  switch (op) {
    case BIN_ADD: BIN_LOOP(vadd(va, vb), x + y); break;
    case BIN_SUB: BIN_LOOP(vsub(va, vb), x - y); break;
    case BIN_MUL: BIN_LOOP(vmul(va, vb), x * y); break;
    case BIN_DIV: BIN_LOOP(vdiv(va, vb), x / y); break;
    case BIN_POW:
      for (; j < n; j++) out[j] = powf(a[j * sa], b[j * sb]);
      break;
    /* max/min return their second operand when either is NaN; a NaN `a` is put back explicitly,
     * so NaN propagates from both sides (as the reference does). */
    case BIN_MAX: BIN_LOOP(vsel(visnan(va), va, vmax(va, vb)), (x != x || y != y) ? NAN : (x > y ? x : y)); break;
    case BIN_MIN: BIN_LOOP(vsel(visnan(va), va, vmin(va, vb)), (x != x || y != y) ? NAN : (x < y ? x : y)); break;
  }
}
#undef BIN_LOOP

/* Forward unary ops as vector expressions of `v`. Log and pow have no vector version here (rare
 * outside losses, where they are not per-element hot) and run libm per element. */
static inline TGT vf K(un_vec)(int op, vf v, float param) {
  switch (op) {
    case UN_NEG: return vsub(vzero(), v);
    case UN_EXP: return vexp(v);
    case UN_SQRT: return vsqrt(v);
    case UN_RSQRT: return vdiv(vset1(1.0f), vsqrt(v));
    case UN_TANH: return K(vtanh)(v);
    case UN_SIGMOID: return vdiv(vset1(1.0f), vadd(vset1(1.0f), vexp(vsub(vzero(), v))));
    case UN_RELU: return vmax(vzero(), v); /* NaN lanes: max returns its second operand, v */
    case UN_GELU_TANH: {
      /* 0.5 (1 + tanh(u)) = sigmoid(2u): same function, but no cancellation in the negative tail. */
      vf u2 = vmul(vset1(-2.0f * GELU_K), vfma(vmul(vset1(GELU_C), vmul(v, v)), v, v));
      return vdiv(v, vadd(vset1(1.0f), vexp(u2)));
    }
    case UN_GELU_ERF: return vmul(vmul(vset1(0.5f), v), K(v1p_erf)(vmul(v, vset1(INV_SQRT2))));
    case UN_SILU: return vdiv(v, vadd(vset1(1.0f), vexp(vsub(vzero(), v))));
    case UN_ABS: return vabs(v);
    case UN_SCALE: return vmul(v, vset1(param));
    case UN_ADD: return vadd(v, vset1(param));
    case UN_SQUARE: return vmul(v, v);
  }
  return v;
}

/* unary over elements [lo, hi). The op switch sits outside the loop: each case is its own loop. */
static TGT void K(unary_fwd)(const un_ctx *c, int64_t lo, int64_t hi) {
  const float *x = c->x;
  float *out = c->out;
  const float param = c->param;
  if (c->op == UN_LOG) {
    for (int64_t i = lo; i < hi; i++) out[i] = logf(x[i]);
    return;
  }
  if (c->op == UN_POW && param != 2.0f) {
    for (int64_t i = lo; i < hi; i++) out[i] = powf(x[i], param);
    return;
  }
  /* x^2 is common (variances, L2 terms) and exact as a product: same as Square. */
  const int op = c->op == UN_POW ? UN_SQUARE : c->op;
#define UN_CASE(OP)                                                         \
  case OP: {                                                                \
    int64_t i = lo;                                                         \
    for (; i + VL <= hi; i += VL) vstore(out + i, K(un_vec)(OP, vload(x + i), param)); \
    /* Tail through a one-vector scratch so that it uses the same approximation. */ \
    if (i < hi) {                                                           \
      float buf[VL];                                                        \
      for (int t = 0; t < VL; t++) buf[t] = i + t < hi ? x[i + t] : 0.0f;    \
      vstore(buf, K(un_vec)(OP, vload(buf), param));                        \
      for (int t = 0; i + t < hi; t++) out[i + t] = buf[t];                 \
    }                                                                       \
    return;                                                                 \
  }
  switch (op) {
    UN_CASE(UN_NEG) UN_CASE(UN_EXP) UN_CASE(UN_SQRT) UN_CASE(UN_RSQRT) UN_CASE(UN_TANH)
    UN_CASE(UN_SIGMOID) UN_CASE(UN_RELU) UN_CASE(UN_GELU_TANH) UN_CASE(UN_GELU_ERF) UN_CASE(UN_SILU)
    UN_CASE(UN_ABS) UN_CASE(UN_SCALE) UN_CASE(UN_ADD) UN_CASE(UN_SQUARE)
  }
#undef UN_CASE
}

/* d f / dx at x (and y = f(x)) as a vector expression. */
static inline TGT vf K(un_dvec)(int op, vf x, vf y, float param) {
  const vf one = vset1(1.0f);
  switch (op) {
    case UN_NEG: return vset1(-1.0f);
    case UN_EXP: return y;
    case UN_LOG: return vdiv(one, x);
    case UN_SQRT: return vdiv(vset1(0.5f), y);
    case UN_RSQRT: return vdiv(vmul(vset1(-0.5f), y), x);
    case UN_TANH: return vfnma(y, y, one);
    case UN_SIGMOID: return vmul(y, vsub(one, y));
    case UN_RELU: return vsel(vgt(x, vzero()), one, vzero());
    case UN_GELU_TANH: {
      /* With s = sigmoid(2u) = 0.5 (1 + tanh(u)): d/dx [x s] = s + 2 x s (1 - s) u'. Written with s
       * rather than tanh, 1 - tanh^2 = 4 s (1 - s) does not cancel in the negative tail. */
      vf x2 = vmul(x, x);
      vf s = vdiv(one, vadd(one, vexp(vmul(vset1(-2.0f * GELU_K), vfma(vmul(vset1(GELU_C), x2), x, x)))));
      vf du = vmul(vset1(2.0f * GELU_K), vfma(vset1(3.0f * GELU_C), x2, one));
      return vfma(vmul(vmul(x, s), vsub(one, s)), du, s);
    }
    case UN_GELU_ERF: {
      vf cdf = vmul(vset1(0.5f), K(v1p_erf)(vmul(x, vset1(INV_SQRT2))));
      vf pdf = vmul(vset1(INV_SQRT_2PI), vexp(vmul(vset1(-0.5f), vmul(x, x))));
      return vfma(x, pdf, cdf);
    }
    case UN_SILU: {
      vf s = vdiv(one, vadd(one, vexp(vsub(vzero(), x))));
      return vmul(s, vfma(x, vsub(one, s), one));
    }
    case UN_ABS: return vsub(vsel(vgt(x, vzero()), one, vzero()), vsel(vlt(x, vzero()), one, vzero()));
    case UN_SCALE: return vset1(param);
    case UN_ADD: return one;
    case UN_SQUARE: return vadd(x, x);
  }
  return one;
}

static TGT void K(unary_bwd)(const un_ctx *c, int64_t lo, int64_t hi) {
  const float *x = c->x, *y = c->y, *gy = c->gy;
  float *gx = c->out;
  const float param = c->param;
  if (c->op == UN_POW && param != 2.0f) {
    for (int64_t i = lo; i < hi; i++) gx[i] = param == 0.0f ? 0.0f * gy[i] : gy[i] * (param * powf(x[i], param - 1.0f));
    return;
  }
  const int op = c->op == UN_POW ? UN_SQUARE : c->op; /* d/dx x^2 = 2x, as for Square */
#define UB_CASE(OP)                                                                         \
  case OP: {                                                                                \
    int64_t i = lo;                                                                         \
    for (; i + VL <= hi; i += VL)                                                           \
      vstore(gx + i, vmul(vload(gy + i), K(un_dvec)(OP, vload(x + i), vload(y + i), param)));  \
    if (i < hi) {                                                                           \
      float bx[VL], by[VL], bg[VL];                                                         \
      for (int t = 0; t < VL; t++) {                                                        \
        int in = i + t < hi;                                                                \
        bx[t] = in ? x[i + t] : 1.0f;                                                       \
        by[t] = in ? y[i + t] : 1.0f;                                                       \
        bg[t] = in ? gy[i + t] : 0.0f;                                                      \
      }                                                                                     \
      vstore(bg, vmul(vload(bg), K(un_dvec)(OP, vload(bx), vload(by), param)));             \
      for (int t = 0; i + t < hi; t++) gx[i + t] = bg[t];                                   \
    }                                                                                       \
    return;                                                                                 \
  }
  switch (op) {
    UB_CASE(UN_NEG) UB_CASE(UN_EXP) UB_CASE(UN_LOG) UB_CASE(UN_SQRT) UB_CASE(UN_RSQRT) UB_CASE(UN_TANH)
    UB_CASE(UN_SIGMOID) UB_CASE(UN_RELU) UB_CASE(UN_GELU_TANH) UB_CASE(UN_GELU_ERF) UB_CASE(UN_SILU)
    UB_CASE(UN_ABS) UB_CASE(UN_SCALE) UB_CASE(UN_ADD) UB_CASE(UN_SQUARE)
  }
#undef UB_CASE
}

#endif
