/* Fused scaled dot-product attention, forward and backward, over BH independent heads.
 * Contract: src/kernels/types.ts (q [BH, Tq, D], k [BH, Tk, D], v [BH, Tk, Dv], out [BH, Tq, Dv],
 * lse [BH, Tq]; optional additive mask with strides over (b, h, i, j), bh = b*H + h; causal hides
 * keys j > i + (Tk - Tq), the KV-cache offset).
 *
 * Forward (flash-attention style): queries in blocks of AT_BQ rows, keys in blocks of AT_BK. For
 * each key block, every row of the query block computes its AT_BK scores, updates its running max
 * m and sum l (online softmax: O and l are rescaled by exp(m_old - m_new) when the max grows), and
 * accumulates P V into its output row. Only an AT_BQ x AT_BK score tile ever exists; K is packed
 * transposed (D x Tk) once per head so that a row's scores are a broadcast-FMA loop over whole
 * vectors of keys, and that block of K and V stays in L1/L2 while the query block reuses it.
 * A row that sees no key (causal with Tq > Tk, or a mask of -inf) ends with l = 0: out = 0 and
 * lse = -inf.
 *
 * Backward (flash-attention-2): P is recomputed from lse, never stored. With D_i = dO_i . O_i:
 *   dV_j += P_ij dO_i,  dP_ij = dO_i . V_j,  dS_ij = P_ij (dP_ij - D_i),
 *   dQ_i += scale dS_ij K_j,  dK_j += scale dS_ij Q_i.
 * Key blocks are the outer loop: a block's dK and dV accumulate in a small tile over all query
 * rows, then are written once; dQ accumulates in a per-head buffer. Heads are independent, so
 * threads split heads (never a head, whose dK/dV would then race).
 *
 * Two small loops do all the arithmetic: at_dot_row (scores: a row times a transposed block) and
 * at_axpy_rows (accumulate a coefficient-weighted sum of rows into one row), both register-blocked
 * over 4 vectors. Feature dims are padded to whole vectors in the packed copies.
 *
 * Layout: an optional Int32Array gives, per array, (offset, batch stride, head stride, row stride)
 * with bh = b*H + h, so that row i of head bh of that array starts at
 *   off + b*sb + h*sh + i*st   (features contiguous)
 * for q, k, v, out (forward) and also gOut, gq, gk, gv (backward). Training reads q, k and v
 * straight from a fused projection [B, T, 3, H, D] and writes [B, T, H, D], so no head split or
 * merge is ever copied. Rows are read through that formula or packed per head into the scratch
 * copies the kernels make anyway; without a layout every array is the contiguous [BH, T, D].
 */
#ifndef OPS_PASS
#include "ops_common.h"

#define AT_BQ 32 /* query rows per block (32 against 16: backward 6% faster, forward the same) */
#define AT_BK 64 /* keys per block: a multiple of 4 vectors of every ISA */

typedef struct {
  const float *q, *k, *v, *o, *lse_in, *go, *mask;
  const int32_t *ms;
  float *out, *lse, *gq, *gk, *gv;
  int64_t BH, H, Tq, Tk, D, Dv, mOff;
  float scale;
  int causal;
  int64_t lay[8][4]; /* per array (q, k, v, out, gOut, gq, gk, gv): off, sb, sh, st */
  int64_t nqc; /* forward: query chunks per head (items = BH * nqc) */
  int64_t items;
  int failed;  /* a task could not allocate its scratch */
} at_ctx;

static inline int64_t at_round(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/* Element index of row i of head bh of array a (0 q, 1 k, 2 v, 3 out, 4 gOut, 5 gq, 6 gk, 7 gv). */
static inline int64_t at_row(const at_ctx *c, int a, int64_t bh, int64_t i) {
  const int64_t b = bh / c->H, h = bh - b * c->H;
  return c->lay[a][0] + b * c->lay[a][1] + h * c->lay[a][2] + i * c->lay[a][3];
}

/* Fills c->lay from a layout array (8 or 4 entries of 4, or NULL for the contiguous defaults) and
 * checks that every row of every array lies inside it (lens[a] elements, width widths[a]). */
static int at_read_layout(napi_env env, napi_value v, int idx, const char *fn, at_ctx *c, int narrays, const size_t *lens) {
  int32_t *l;
  size_t ll;
  if (tslm_arg_i32_or_null(env, v, idx, &l, &ll)) return 1;
  const int64_t T[8] = {c->Tq, c->Tk, c->Tk, c->Tq, c->Tq, c->Tq, c->Tk, c->Tk};
  const int64_t W[8] = {c->D, c->D, c->Dv, c->Dv, c->Dv, c->D, c->D, c->Dv};
  if (l && ll < (size_t)(4 * narrays)) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: layout needs %d entries (offset and 3 strides per array), got %zu", fn, 4 * narrays, ll);
    napi_throw_range_error(env, NULL, msg);
    return 1;
  }
  const int64_t B = (c->BH + c->H - 1) / c->H, Hm = c->BH < c->H ? c->BH : c->H;
  for (int a = 0; a < narrays; a++) {
    if (l) {
      for (int j = 0; j < 4; j++) c->lay[a][j] = l[4 * a + j];
    } else {
      c->lay[a][0] = 0;
      c->lay[a][1] = c->H * T[a] * W[a];
      c->lay[a][2] = T[a] * W[a];
      c->lay[a][3] = W[a];
    }
    if (c->BH == 0 || T[a] == 0 || W[a] == 0) continue;
    const int64_t *q = c->lay[a];
    if (q[0] < 0 || q[1] < 0 || q[2] < 0 || q[3] < 0 ||
        (double)q[0] + (double)q[1] * (B - 1) + (double)q[2] * (Hm - 1) + (double)q[3] * (T[a] - 1) + W[a] > (double)lens[a]) {
      char msg[200];
      snprintf(msg, sizeof msg, "%s: the layout of array %d reaches outside it (%zu elements) or has a negative stride", fn, a, lens[a]);
      napi_throw_range_error(env, NULL, msg);
      return 1;
    }
  }
  return 0;
}

/* The mask row for (bh, i), or NULL. */
static inline const float *at_mask_row(const at_ctx *c, int64_t bh, int64_t i) {
  if (!c->mask) return NULL;
  const int64_t b = bh / c->H, h = bh - b * c->H;
  return c->mask + c->mOff + b * (int64_t)c->ms[0] + h * (int64_t)c->ms[1] + i * (int64_t)c->ms[2];
}

#define OPS_PASS 2
#include "ops_vec.h"
#include "ops_attention.c"
#include "ops_vec_end.h"
#define OPS_PASS 1
#include "ops_vec.h"
#include "ops_attention.c"
#include "ops_vec_end.h"
#define OPS_PASS 0
#include "ops_vec.h"
#include "ops_attention.c"
#include "ops_vec_end.h"

/* Task t takes items t, t + ntasks, ...: interleaving balances causal attention, whose later query
 * chunks see more keys than the early ones. */
static void at_fwd_task(void *vctx, int task, int ntasks) {
  at_ctx *c = (at_ctx *)vctx;
  int ok = 1;
  switch (tslm_isa()) {
    case TSLM_ISA_AVX512: ok = at_fwd_items_avx512(c, task, ntasks); break;
    case TSLM_ISA_AVX2: ok = at_fwd_items_avx2(c, task, ntasks); break;
    default: ok = at_fwd_items_scalar(c, task, ntasks); break;
  }
  if (!ok) c->failed = 1; /* benign race: every writer stores 1 */
}

static void at_bwd_task(void *vctx, int task, int ntasks) {
  at_ctx *c = (at_ctx *)vctx;
  size_t lo, hi;
  ops_range(task, ntasks, (size_t)c->BH, &lo, &hi);
  int ok = 1;
  if (lo < hi) {
    switch (tslm_isa()) {
      case TSLM_ISA_AVX512: ok = at_bwd_heads_avx512(c, (int64_t)lo, (int64_t)hi); break;
      case TSLM_ISA_AVX2: ok = at_bwd_heads_avx2(c, (int64_t)lo, (int64_t)hi); break;
      default: ok = at_bwd_heads_scalar(c, (int64_t)lo, (int64_t)hi); break;
    }
  }
  if (!ok) c->failed = 1;
}

/* Reads the 16 arguments shared by attention and attentionBackward, starting at argv[first]
 * (BH ... mStrides), checks the array sizes and fills c. Returns 0, or 1 after throwing. */
static int at_read_common(napi_env env, napi_value *argv, int first, const char *fn, at_ctx *c) {
  int64_t BH, H, Tq, Tk, D, Dv, mOff;
  double scale;
  int causal;
  float *mask;
  int32_t *ms;
  size_t mask_len, ms_len;
  if (tslm_arg_int(env, argv[first], first, &BH) || tslm_arg_int(env, argv[first + 1], first + 1, &H) ||
      tslm_arg_int(env, argv[first + 2], first + 2, &Tq) || tslm_arg_int(env, argv[first + 3], first + 3, &Tk) ||
      tslm_arg_int(env, argv[first + 4], first + 4, &D) || tslm_arg_int(env, argv[first + 5], first + 5, &Dv) ||
      tslm_arg_double(env, argv[first + 6], first + 6, &scale) ||
      tslm_arg_bool(env, argv[first + 7], first + 7, &causal) ||
      tslm_arg_f32_or_null(env, argv[first + 8], first + 8, &mask, &mask_len) ||
      tslm_arg_int(env, argv[first + 9], first + 9, &mOff) ||
      tslm_arg_i32_or_null(env, argv[first + 10], first + 10, &ms, &ms_len))
    return 1;
  if (BH < 0 || Tq < 0 || Tk < 0 || D < 0 || Dv < 0 || H <= 0 || (mask && (!ms || ms_len < 4))) {
    napi_throw_range_error(env, NULL, "attention: bad sizes, or a mask without 4 strides");
    return 1;
  }
  if (mask && BH > 0 && Tq > 0 && Tk > 0) {
    /* The extreme positions the mask is read at. */
    const int64_t B = (BH + H - 1) / H;
    const int64_t ext[4] = {B - 1, (BH < H ? BH : H) - 1, Tq - 1, Tk - 1};
    double lo = (double)mOff, hi = (double)mOff;
    for (int d = 0; d < 4; d++) {
      double e = (double)ms[d] * (double)ext[d];
      if (e < 0) lo += e; else hi += e;
    }
    if (lo < 0 || hi >= (double)mask_len) {
      char msg[200];
      snprintf(msg, sizeof msg, "%s: mask strides reach outside the mask (%zu elements)", fn, mask_len);
      napi_throw_range_error(env, NULL, msg);
      return 1;
    }
  }
  c->BH = BH; c->H = H; c->Tq = Tq; c->Tk = Tk; c->D = D; c->Dv = Dv; c->mOff = mOff;
  c->scale = (float)scale; c->causal = causal; c->mask = mask; c->ms = ms;
  return 0;
}

static napi_value js_attention(napi_env env, napi_callback_info info) {
  napi_value argv[17];
  size_t argc = 17;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 16) {
    napi_throw_type_error(env, NULL, "attention: expected 16 or 17 arguments");
    return NULL;
  }
  OPS_F32(0, q);
  OPS_F32(1, k);
  OPS_F32(2, v);
  OPS_F32(3, out);
  OPS_F32(4, lse);
  at_ctx c;
  memset(&c, 0, sizeof c);
  if (at_read_common(env, argv, 5, "attention", &c)) return NULL;
  const char *fn = "attention";
  const size_t lens[4] = {q_len, k_len, v_len, out_len};
  if (at_read_layout(env, argv[16], 16, fn, &c, 4, lens)) return NULL;
  OPS_NEED(fn, lse, (double)c.BH * c.Tq);
  if (c.BH == 0 || c.Tq == 0) return NULL;
  c.q = q; c.k = k; c.v = v; c.out = out; c.lse = lse;
  const double work = (double)c.BH * c.Tq * c.Tk * (double)(c.D + c.Dv);
  int nt = ops_tasks(work, (size_t)(c.BH * ((c.Tq + AT_BQ - 1) / AT_BQ)));
  /* Split heads into query chunks only when there are fewer heads than threads. */
  c.nqc = 1;
  if (nt > 1 && c.BH < 2 * nt) {
    int64_t qblocks = (c.Tq + AT_BQ - 1) / AT_BQ;
    c.nqc = (2 * nt + c.BH - 1) / c.BH;
    if (c.nqc > qblocks) c.nqc = qblocks;
  }
  c.items = c.BH * c.nqc;
  if (nt <= 1) at_fwd_task(&c, 0, 1);
  else tslm_parallel_for(nt, at_fwd_task, &c);
  if (c.failed) napi_throw_error(env, NULL, "attention: out of memory for scratch buffers");
  return NULL;
}

static napi_value js_attention_backward(napi_env env, napi_callback_info info) {
  napi_value argv[21];
  size_t argc = 21;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 20) {
    napi_throw_type_error(env, NULL, "attentionBackward: expected 20 or 21 arguments");
    return NULL;
  }
  OPS_F32(0, q);
  OPS_F32(1, k);
  OPS_F32(2, v);
  OPS_F32(3, out);
  OPS_F32(4, lse);
  OPS_F32(5, gOut);
  OPS_F32(6, gq);
  OPS_F32(7, gk);
  OPS_F32(8, gv);
  at_ctx c;
  memset(&c, 0, sizeof c);
  if (at_read_common(env, argv, 9, "attentionBackward", &c)) return NULL;
  const char *fn = "attentionBackward";
  const size_t lens[8] = {q_len, k_len, v_len, out_len, gOut_len, gq_len, gk_len, gv_len};
  if (at_read_layout(env, argv[20], 20, fn, &c, 8, lens)) return NULL;
  OPS_NEED(fn, lse, (double)c.BH * c.Tq);
  c.q = q; c.k = k; c.v = v; c.o = out; c.lse_in = lse; c.go = gOut; c.gq = gq; c.gk = gk; c.gv = gv;
  if (c.BH == 0) return NULL;
  const double work = 2.0 * (double)c.BH * c.Tq * c.Tk * (double)(c.D + c.Dv);
  int nt = ops_tasks(work, (size_t)c.BH);
  if (nt <= 1) at_bwd_task(&c, 0, 1);
  else tslm_parallel_for(nt, at_bwd_task, &c);
  if (c.failed) napi_throw_error(env, NULL, "attentionBackward: out of memory for scratch buffers");
  return NULL;
}

void tslm_register_attention(napi_env env, napi_value exports) {
  tslm_export(env, exports, "attention", js_attention);
  tslm_export(env, exports, "attentionBackward", js_attention_backward);
}

#else /* ================================================ ISA-generic bodies (one copy per pass) */

/* s[j] = sum_d a[d] * Bt[d*ldb + j] for j in [0, n); n is a multiple of VL. Four vectors of keys
 * share each broadcast of a[d]. */
static inline TGT void K(at_dot_row)(const float *a, int64_t D, const float *Bt, int64_t ldb, int64_t n, float *s) {
  int64_t j = 0;
  for (; j + 4 * VL <= n; j += 4 * VL) {
    vf s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) {
      const vf ad = vset1(a[d]);
      s0 = vfma(ad, vload(b), s0);
      s1 = vfma(ad, vload(b + VL), s1);
      s2 = vfma(ad, vload(b + 2 * VL), s2);
      s3 = vfma(ad, vload(b + 3 * VL), s3);
    }
    vstore(s + j, s0);
    vstore(s + j + VL, s1);
    vstore(s + j + 2 * VL, s2);
    vstore(s + j + 3 * VL, s3);
  }
  for (; j + VL <= n; j += VL) {
    vf s0 = vzero();
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) s0 = vfma(vset1(a[d]), vload(b), s0);
    vstore(s + j, s0);
  }
}

/* o[0:Dp] += sum_{j<n} coef[j*cs] * M[j*ldm : j*ldm + Dp]; Dp is a multiple of VL. The output
 * slice stays in four registers across all n rows. */
static inline TGT void K(at_axpy_rows)(float *o, int64_t Dp, const float *coef, int64_t cs, const float *M,
                                       int64_t ldm, int64_t n) {
  int64_t c = 0;
  for (; c + 4 * VL <= Dp; c += 4 * VL) {
    vf o0 = vload(o + c), o1 = vload(o + c + VL), o2 = vload(o + c + 2 * VL), o3 = vload(o + c + 3 * VL);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) {
      const vf p = vset1(coef[j * cs]);
      o0 = vfma(p, vload(m), o0);
      o1 = vfma(p, vload(m + VL), o1);
      o2 = vfma(p, vload(m + 2 * VL), o2);
      o3 = vfma(p, vload(m + 3 * VL), o3);
    }
    vstore(o + c, o0);
    vstore(o + c + VL, o1);
    vstore(o + c + 2 * VL, o2);
    vstore(o + c + 3 * VL, o3);
  }
  for (; c + VL <= Dp; c += VL) {
    vf o0 = vload(o + c);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) o0 = vfma(vset1(coef[j * cs]), vload(m), o0);
    vstore(o + c, o0);
  }
}

/* Two rows at once: the same as at_dot_row for (a0 -> s0) and (a1 -> s1), sharing every load of
 * Bt. Eight independent accumulators cover the FMA latency (four would leave half the FMA issue
 * slots idle). */
static inline TGT void K(at_dot_row2)(const float *a0, const float *a1, int64_t D, const float *Bt, int64_t ldb,
                                      int64_t n, float *s0, float *s1) {
  int64_t j = 0;
  for (; j + 4 * VL <= n; j += 4 * VL) {
    vf x0 = vzero(), x1 = vzero(), x2 = vzero(), x3 = vzero();
    vf y0 = vzero(), y1 = vzero(), y2 = vzero(), y3 = vzero();
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) {
      const vf p = vset1(a0[d]), q = vset1(a1[d]);
      const vf b0 = vload(b), b1 = vload(b + VL), b2 = vload(b + 2 * VL), b3 = vload(b + 3 * VL);
      x0 = vfma(p, b0, x0);
      x1 = vfma(p, b1, x1);
      x2 = vfma(p, b2, x2);
      x3 = vfma(p, b3, x3);
      y0 = vfma(q, b0, y0);
      y1 = vfma(q, b1, y1);
      y2 = vfma(q, b2, y2);
      y3 = vfma(q, b3, y3);
    }
    vstore(s0 + j, x0);
    vstore(s0 + j + VL, x1);
    vstore(s0 + j + 2 * VL, x2);
    vstore(s0 + j + 3 * VL, x3);
    vstore(s1 + j, y0);
    vstore(s1 + j + VL, y1);
    vstore(s1 + j + 2 * VL, y2);
    vstore(s1 + j + 3 * VL, y3);
  }
  for (; j + VL <= n; j += VL) {
    vf x0 = vzero(), y0 = vzero();
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) {
      const vf b0 = vload(b);
      x0 = vfma(vset1(a0[d]), b0, x0);
      y0 = vfma(vset1(a1[d]), b0, y0);
    }
    vstore(s0 + j, x0);
    vstore(s1 + j, y0);
  }
}

/* Two output rows at once: o0 += sum_j c0[j*cs] M_j and o1 += sum_j c1[j*cs] M_j, sharing every
 * load of M. */
static inline TGT void K(at_axpy_rows2)(float *o0, float *o1, int64_t Dp, const float *c0, const float *c1, int64_t cs,
                                        const float *M, int64_t ldm, int64_t n) {
  int64_t c = 0;
  for (; c + 4 * VL <= Dp; c += 4 * VL) {
    vf x0 = vload(o0 + c), x1 = vload(o0 + c + VL), x2 = vload(o0 + c + 2 * VL), x3 = vload(o0 + c + 3 * VL);
    vf y0 = vload(o1 + c), y1 = vload(o1 + c + VL), y2 = vload(o1 + c + 2 * VL), y3 = vload(o1 + c + 3 * VL);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) {
      const vf p = vset1(c0[j * cs]), q = vset1(c1[j * cs]);
      const vf m0 = vload(m), m1 = vload(m + VL), m2 = vload(m + 2 * VL), m3 = vload(m + 3 * VL);
      x0 = vfma(p, m0, x0);
      x1 = vfma(p, m1, x1);
      x2 = vfma(p, m2, x2);
      x3 = vfma(p, m3, x3);
      y0 = vfma(q, m0, y0);
      y1 = vfma(q, m1, y1);
      y2 = vfma(q, m2, y2);
      y3 = vfma(q, m3, y3);
    }
    vstore(o0 + c, x0);
    vstore(o0 + c + VL, x1);
    vstore(o0 + c + 2 * VL, x2);
    vstore(o0 + c + 3 * VL, x3);
    vstore(o1 + c, y0);
    vstore(o1 + c + VL, y1);
    vstore(o1 + c + 2 * VL, y2);
    vstore(o1 + c + 3 * VL, y3);
  }
  for (; c + VL <= Dp; c += VL) {
    vf x0 = vload(o0 + c), y0 = vload(o1 + c);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) {
      const vf m0 = vload(m);
      x0 = vfma(vset1(c0[j * cs]), m0, x0);
      y0 = vfma(vset1(c1[j * cs]), m0, y0);
    }
    vstore(o0 + c, x0);
    vstore(o1 + c, y0);
  }
}

/* Four rows at once (AVX-512 and the scalar pass, whose register files hold the 16 accumulators):
 * per step 4 loads of Bt and 4 broadcasts feed 16 FMAs, against 6 loads per 8 FMAs for two rows,
 * which matters because loads, not FMAs, bound these loops. */
static inline TGT void K(at_dot_row4)(const float *const *a, int64_t D, const float *Bt, int64_t ldb, int64_t n,
                                      float *const *s) {
  int64_t j = 0;
  for (; j + 4 * VL <= n; j += 4 * VL) {
    vf acc[4][4];
    for (int r = 0; r < 4; r++)
      for (int u = 0; u < 4; u++) acc[r][u] = vzero();
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) {
      const vf b0 = vload(b), b1 = vload(b + VL), b2 = vload(b + 2 * VL), b3 = vload(b + 3 * VL);
      for (int r = 0; r < 4; r++) {
        const vf p = vset1(a[r][d]);
        acc[r][0] = vfma(p, b0, acc[r][0]);
        acc[r][1] = vfma(p, b1, acc[r][1]);
        acc[r][2] = vfma(p, b2, acc[r][2]);
        acc[r][3] = vfma(p, b3, acc[r][3]);
      }
    }
    for (int r = 0; r < 4; r++)
      for (int u = 0; u < 4; u++) vstore(s[r] + j + u * VL, acc[r][u]);
  }
  for (; j + VL <= n; j += VL) {
    vf acc[4] = {vzero(), vzero(), vzero(), vzero()};
    const float *b = Bt + j;
    for (int64_t d = 0; d < D; d++, b += ldb) {
      const vf b0 = vload(b);
      for (int r = 0; r < 4; r++) acc[r] = vfma(vset1(a[r][d]), b0, acc[r]);
    }
    for (int r = 0; r < 4; r++) vstore(s[r] + j, acc[r]);
  }
}

static inline TGT void K(at_axpy_rows4)(float *const *o, int64_t Dp, const float *const *cf, int64_t cs,
                                        const float *M, int64_t ldm, int64_t n) {
  int64_t c = 0;
  for (; c + 4 * VL <= Dp; c += 4 * VL) {
    vf acc[4][4];
    for (int r = 0; r < 4; r++)
      for (int u = 0; u < 4; u++) acc[r][u] = vload(o[r] + c + u * VL);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) {
      const vf m0 = vload(m), m1 = vload(m + VL), m2 = vload(m + 2 * VL), m3 = vload(m + 3 * VL);
      for (int r = 0; r < 4; r++) {
        const vf p = vset1(cf[r][j * cs]);
        acc[r][0] = vfma(p, m0, acc[r][0]);
        acc[r][1] = vfma(p, m1, acc[r][1]);
        acc[r][2] = vfma(p, m2, acc[r][2]);
        acc[r][3] = vfma(p, m3, acc[r][3]);
      }
    }
    for (int r = 0; r < 4; r++)
      for (int u = 0; u < 4; u++) vstore(o[r] + c + u * VL, acc[r][u]);
  }
  for (; c + VL <= Dp; c += VL) {
    vf acc[4];
    for (int r = 0; r < 4; r++) acc[r] = vload(o[r] + c);
    const float *m = M + c;
    for (int64_t j = 0; j < n; j++, m += ldm) {
      const vf m0 = vload(m);
      for (int r = 0; r < 4; r++) acc[r] = vfma(vset1(cf[r][j * cs]), m0, acc[r]);
    }
    for (int r = 0; r < 4; r++) vstore(o[r] + c, acc[r]);
  }
}

/* Rows handled together by the two loops below: 4 where the register file holds 16 accumulators
 * (AVX-512: 32 zmm; scalar), 2 with AVX2's 16 ymm registers. */
#if OPS_PASS == 1
#define AT_RG 2
#else
#define AT_RG 4
#endif

/* s[r] = a[r] . Bt for nr <= AT_RG rows, in groups of 4, 2 and 1. */
static inline TGT void K(at_dot_rows)(const float *const *a, int nr, int64_t D, const float *Bt, int64_t ldb,
                                      int64_t n, float *const *s) {
  int r = 0;
#if AT_RG == 4
  for (; r + 4 <= nr; r += 4) K(at_dot_row4)(a + r, D, Bt, ldb, n, s + r);
#endif
  for (; r + 2 <= nr; r += 2) K(at_dot_row2)(a[r], a[r + 1], D, Bt, ldb, n, s[r], s[r + 1]);
  for (; r < nr; r++) K(at_dot_row)(a[r], D, Bt, ldb, n, s[r]);
}

/* o[r] += sum_j cf[r][j*cs] M_j for nr <= AT_RG rows, in groups of 4, 2 and 1. */
static inline TGT void K(at_axpy_rowsn)(float *const *o, const float *const *cf, int nr, int64_t Dp, int64_t cs,
                                        const float *M, int64_t ldm, int64_t n) {
  int r = 0;
#if AT_RG == 4
  for (; r + 4 <= nr; r += 4) K(at_axpy_rows4)(o + r, Dp, cf + r, cs, M, ldm, n);
#endif
  for (; r + 2 <= nr; r += 2) K(at_axpy_rows2)(o[r], o[r + 1], Dp, cf[r], cf[r + 1], cs, M, ldm, n);
  for (; r < nr; r++) K(at_axpy_rows)(o[r], Dp, cf[r], cs, M, ldm, n);
}

/* s[j] = a . K_j for j in [0, n), K rows of length D with leading dimension D: one horizontal sum
 * per key. Used instead of the transposed layout when there are too few query rows (decoding with a
 * KV cache) to pay for transposing K. */
static inline TGT void K(at_dot_keys)(const float *a, int64_t D, const float *Kr, int64_t n, float *s) {
  for (int64_t j = 0; j < n; j++) {
    const float *kj = Kr + j * D;
    vacc acc = vzero();
    int64_t d = 0;
    for (; d + VL <= D; d += VL) acc = vfma(vload(a + d), vload(kj + d), acc);
    float t = (float)vhsum(acc);
    for (; d < D; d++) t += a[d] * kj[d];
    s[j] = t;
  }
}

/* Finishes query row i's raw dot products with keys [kb, kb + nkp) in s: scaled, masked, causal
 * and padding positions (j >= Tk) set to -inf. Returns the row max over the block. */
static inline TGT float K(at_finish)(const at_ctx *c, int64_t bh, int64_t i, int64_t kb, int64_t nkp, float *s) {
  const vf vs = vset1(c->scale);
  for (int64_t j = 0; j < nkp; j += VL) vstore(s + j, vmul(vload(s + j), vs));
  const float *mrow = at_mask_row(c, bh, i);
  /* Visible keys of this row in the block: [kb, kend). */
  int64_t kend = c->Tk;
  if (c->causal && i + (c->Tk - c->Tq) + 1 < kend) kend = i + (c->Tk - c->Tq) + 1;
  int64_t nvis = kend - kb;
  if (nvis < 0) nvis = 0;
  if (nvis > nkp) nvis = nkp;
  if (mrow) {
    const int64_t s3 = c->ms[3];
    const float *mk = mrow + kb * s3;
    int64_t j = 0;
    if (s3 == 1)
      for (; j + VL <= nvis; j += VL) vstore(s + j, vadd(vload(s + j), vload(mk + j)));
    for (; j < nvis; j++) s[j] += mk[j * s3];
  }
  for (int64_t j = nvis; j < nkp; j++) s[j] = -INFINITY;
  /* Hidden positions are -inf now, so the max can run over whole vectors. */
  vf m = vset1(-INFINITY);
  for (int64_t j = 0; j < nkp; j += VL) m = vmax(m, vload(s + j));
  return vhmax(m);
}

/* Packs src rows [n][d] (leading dim lds) transposed into dst [d][ldt], zero-filling columns n..ldt.
 * Sixteen source rows at a time: their d floats stay in L1 while every output row takes its 16
 * contiguous values. Column by column over all n rows instead re-read n lines per output row, and
 * at the strides of a fused projection (768 floats: 48 lines) those lines fall into 4 of L1's 64
 * sets, so every read missed: the transpose was about a tenth of the attention forward. */
static void K(at_transpose)(const float *src, int64_t n, int64_t d, int64_t lds, float *dst, int64_t ldt) {
  int64_t j0 = 0;
  for (; j0 + 16 <= n; j0 += 16) {
    const float *s = src + j0 * lds;
    for (int64_t r = 0; r < d; r++) {
      float *row = dst + r * ldt + j0;
      for (int j = 0; j < 16; j++) row[j] = s[j * lds + r];
    }
  }
  for (int64_t r = 0; r < d; r++) {
    float *row = dst + r * ldt;
    for (int64_t j = j0; j < n; j++) row[j] = src[j * lds + r];
    for (int64_t j = n; j < ldt; j++) row[j] = 0.0f;
  }
}

/* Copies rows [n][d] (leading dim lds) into [n][dp] with zero padding. */
static void K(at_pad_rows)(const float *src, int64_t n, int64_t d, int64_t lds, float *dst, int64_t dp) {
  for (int64_t r = 0; r < n; r++) {
    memcpy(dst + r * dp, src + r * lds, (size_t)d * sizeof(float));
    for (int64_t j = d; j < dp; j++) dst[r * dp + j] = 0.0f;
  }
}

/* Forward for work items first, first + step, ... < c->items, where item = bh * nqc + chunk.
 * Returns 0 when out of memory. */
static TGT int K(at_fwd_items)(const at_ctx *c, int64_t first, int64_t step) {
  if (first >= c->items) return 1; /* more tasks than items */
  const int64_t Tq = c->Tq, Tk = c->Tk, D = c->D, Dv = c->Dv;
  const int64_t Tkp = at_round(Tk > 0 ? Tk : 1, VL), Dvp = at_round(Dv > 0 ? Dv : 1, VL);
  const int64_t kst = c->lay[1][3], vst = c->lay[2][3], qst = c->lay[0][3];
  /* V is read in place when its rows are whole vectors one after another; else packed per head. */
  const int pad_v = Dv % VL != 0 || vst != Dv;
  /* Few query rows per head (decoding): transposing K would cost more than the scores themselves.
   * The direct path reads K's rows in place, or a packed copy when they are not back to back. */
  const int direct = Tq < 8;
  const int pack_k = direct && kst != D;
  float *Kt = (float *)malloc(sizeof(float) * (size_t)((direct ? (pack_k ? Tk * D : 0) : D * Tkp) + (pad_v ? Tk * Dvp : 0) + AT_BQ * (AT_BK + Dvp + 2)));
  if (!Kt) return 0;
  float *Vp = Kt + (direct ? (pack_k ? Tk * D : 0) : D * Tkp);
  float *S = Vp + (pad_v ? Tk * Dvp : 0); /* [AT_BQ][AT_BK] */
  float *O = S + AT_BQ * AT_BK;           /* [AT_BQ][Dvp] */
  float *M = O + AT_BQ * Dvp, *L = M + AT_BQ;
  /* The direct path fills only the first nk scores of a row; the rest of the vector is overwritten
   * by at_finish, but must not be read uninitialised before that. */
  memset(S, 0, sizeof(float) * AT_BQ * AT_BK);
  const int64_t shift = Tk - Tq, qchunk = (Tq + c->nqc - 1) / c->nqc;
  int64_t packed = -1;
  for (int64_t it = first; it < c->items; it += step) {
    const int64_t bh = it / c->nqc, ch = it % c->nqc;
    const int64_t i0 = ch * qchunk, i1 = i0 + qchunk < Tq ? i0 + qchunk : Tq;
    if (i0 >= i1) continue;
    const float *q = c->q + at_row(c, 0, bh, 0), *v = c->v + at_row(c, 2, bh, 0), *kh = c->k + at_row(c, 1, bh, 0);
    if (packed != bh) {
      if (!direct) K(at_transpose)(kh, Tk, D, kst, Kt, Tkp);
      else if (pack_k) K(at_pad_rows)(kh, Tk, D, kst, Kt, D);
      if (pad_v) K(at_pad_rows)(v, Tk, Dv, vst, Vp, Dvp);
      packed = bh;
    }
    if (pack_k) kh = Kt;
    const float *V = pad_v ? Vp : v;
    for (int64_t qb = i0; qb < i1; qb += AT_BQ) {
      const int64_t nq = qb + AT_BQ <= i1 ? AT_BQ : i1 - qb;
      for (int64_t r = 0; r < nq; r++) {
        M[r] = -INFINITY;
        L[r] = 0.0f;
      }
      memset(O, 0, sizeof(float) * (size_t)(nq * Dvp));
      /* Keys any row of the block may see. */
      int64_t kmax = Tk;
      if (c->causal && qb + nq - 1 + shift + 1 < kmax) kmax = qb + nq - 1 + shift + 1;
      for (int64_t kb = 0; kb < kmax; kb += AT_BK) {
        const int64_t nk = kb + AT_BK <= kmax ? AT_BK : kmax - kb, nkp = at_round(nk, VL);
        for (int64_t r = 0; r < nq; r += AT_RG) {
          /* Up to AT_RG rows share every load of K and V. */
          const int nr = (int)(r + AT_RG <= nq ? AT_RG : nq - r);
          const float *qs[AT_RG];
          float *ss[AT_RG], *os[AT_RG];
          for (int t = 0; t < nr; t++) {
            qs[t] = q + (qb + r + t) * qst;
            ss[t] = S + (r + t) * AT_BK;
            os[t] = O + (r + t) * Dvp;
          }
          if (direct)
            for (int t = 0; t < nr; t++) K(at_dot_keys)(qs[t], D, kh + kb * D, nk, ss[t]);
          else
            K(at_dot_rows)(qs, nr, D, Kt + kb, Tkp, nkp, ss);
          for (int t = 0; t < nr; t++) {
            const int64_t rr = r + t;
            float *s = ss[t];
            const float mb = K(at_finish)(c, bh, qb + rr, kb, nkp, s);
            const float mnew = mb > M[rr] ? mb : M[rr];
            if (mnew == -INFINITY) { /* nothing visible yet in this row: contributes nothing */
              memset(s, 0, sizeof(float) * (size_t)nkp);
              continue;
            }
            /* Online softmax: rescale what was accumulated under the old max. */
            const float alpha = expf(M[rr] - mnew);
            float *o = os[t];
            if (alpha != 1.0f) {
              const vf va = vset1(alpha);
              for (int64_t d = 0; d < Dvp; d += VL) vstore(o + d, vmul(vload(o + d), va));
            }
            const vf vmx = vset1(mnew);
            vacc ps = vzero();
            for (int64_t j = 0; j < nkp; j += VL) {
              vf p = vexp(vsub(vload(s + j), vmx));
              vstore(s + j, p);
              ps = vadd(ps, p);
            }
            L[rr] = L[rr] * alpha + (float)vhsum(ps);
            M[rr] = mnew;
          }
          K(at_axpy_rowsn)(os, (const float *const *)ss, nr, Dvp, 1, V + kb * Dvp, Dvp, nk);
        }
      }
      for (int64_t r = 0; r < nq; r++) {
        const int64_t i = qb + r;
        float *out = c->out + at_row(c, 3, bh, i);
        if (L[r] == 0.0f) {
          memset(out, 0, sizeof(float) * (size_t)Dv);
          c->lse[bh * Tq + i] = -INFINITY;
          continue;
        }
        const float inv = 1.0f / L[r];
        for (int64_t d = 0; d < Dv; d++) out[d] = O[r * Dvp + d] * inv;
        c->lse[bh * Tq + i] = M[r] + logf(L[r]);
      }
    }
  }
  free(Kt);
  return 1;
}

/* Backward for heads [h0, h1). Returns 0 when out of memory. */
static TGT int K(at_bwd_heads)(const at_ctx *c, int64_t h0, int64_t h1) {
  const int64_t Tq = c->Tq, Tk = c->Tk, D = c->D, Dv = c->Dv;
  const int64_t Tkp = at_round(Tk > 0 ? Tk : 1, VL), Dp = at_round(D > 0 ? D : 1, VL), Dvp = at_round(Dv > 0 ? Dv : 1, VL);
  const size_t need = (size_t)(Tq * Dp      /* Qp */
                               + Tkp * Dp   /* Kp */
                               + D * Tkp    /* Kt */
                               + Dv * Tkp   /* Vt */
                               + Tq * Dvp   /* dOp */
                               + Tq * Dp    /* dQ */
                               + Tq         /* Drow */
                               + 2 * AT_BQ * AT_BK  /* P, dS */
                               + AT_BK * Dp + AT_BK * Dvp /* dK, dV block tiles */
                               + 4 * AT_BK); /* dP, up to 4 rows */
  float *Qp = (float *)malloc(sizeof(float) * need);
  if (!Qp) return 0;
  float *Kp = Qp + Tq * Dp, *Kt = Kp + Tkp * Dp, *Vt = Kt + D * Tkp, *dOp = Vt + Dv * Tkp;
  float *dQ = dOp + Tq * Dvp, *Drow = dQ + Tq * Dp, *P = Drow + Tq, *dS = P + AT_BQ * AT_BK;
  float *dKb = dS + AT_BQ * AT_BK, *dVb = dKb + AT_BK * Dp, *dP = dVb + AT_BK * Dvp;
  const int64_t shift = Tk - Tq;
  const float scale = c->scale;
  for (int64_t bh = h0; bh < h1; bh++) {
    const float *q = c->q + at_row(c, 0, bh, 0), *k = c->k + at_row(c, 1, bh, 0), *v = c->v + at_row(c, 2, bh, 0);
    const float *o = c->o + at_row(c, 3, bh, 0), *go = c->go + at_row(c, 4, bh, 0), *lse = c->lse_in + bh * Tq;
    const int64_t qst = c->lay[0][3], kst = c->lay[1][3], vst = c->lay[2][3], ost = c->lay[3][3], gost = c->lay[4][3];
    K(at_pad_rows)(q, Tq, D, qst, Qp, Dp);
    K(at_pad_rows)(k, Tk, D, kst, Kp, Dp);
    memset(Kp + Tk * Dp, 0, sizeof(float) * (size_t)((Tkp - Tk) * Dp));
    K(at_transpose)(k, Tk, D, kst, Kt, Tkp);
    K(at_transpose)(v, Tk, Dv, vst, Vt, Tkp);
    K(at_pad_rows)(go, Tq, Dv, gost, dOp, Dvp);
    memset(dQ, 0, sizeof(float) * (size_t)(Tq * Dp));
    for (int64_t i = 0; i < Tq; i++) Drow[i] = K(row_dot)(go + i * gost, o + i * ost, Dv);

    for (int64_t kb = 0; kb < Tk; kb += AT_BK) {
      const int64_t nk = kb + AT_BK <= Tk ? AT_BK : Tk - kb, nkp = at_round(nk, VL);
      memset(dKb, 0, sizeof(float) * (size_t)(AT_BK * Dp));
      memset(dVb, 0, sizeof(float) * (size_t)(AT_BK * Dvp));
      /* Causal: rows before qstart see none of this block's keys. */
      int64_t qstart = 0;
      if (c->causal && kb - shift > 0) qstart = kb - shift;
      for (int64_t qb = qstart; qb < Tq; qb += AT_BQ) {
        const int64_t nq = qb + AT_BQ <= Tq ? AT_BQ : Tq - qb;
        for (int64_t r = 0; r < nq; r += AT_RG) {
          /* Up to AT_RG rows share every load of K^T, V^T and K. */
          const int nr = (int)(r + AT_RG <= nq ? AT_RG : nq - r);
          const int64_t i = qb + r;
          const float *qs[AT_RG], *gos[AT_RG];
          float *ps[AT_RG], *dss[AT_RG], *dps[AT_RG], *dqs[AT_RG];
          for (int t = 0; t < nr; t++) {
            qs[t] = Qp + (i + t) * Dp;
            gos[t] = dOp + (i + t) * Dvp;
            ps[t] = P + (r + t) * AT_BK;
            dss[t] = dS + (r + t) * AT_BK;
            dps[t] = dP + t * AT_BK;
            dqs[t] = dQ + (i + t) * Dp;
          }
          K(at_dot_rows)(qs, nr, D, Kt + kb, Tkp, nkp, ps);
          K(at_dot_rows)(gos, nr, Dv, Vt + kb, Tkp, nkp, dps);
          for (int t = 0; t < nr; t++) {
            float *p = ps[t], *ds = dss[t], *dp = dps[t];
            const float l = lse[i + t];
            if (l == -INFINITY) { /* a row that saw no key has no gradient */
              memset(p, 0, sizeof(float) * AT_BK);
              memset(ds, 0, sizeof(float) * AT_BK);
              continue;
            }
            K(at_finish)(c, bh, i + t, kb, nkp, p);
            /* P recomputed from lse; dS = P (dP - D_i), with the softmax scale folded in. */
            const vf vl = vset1(l), vd = vset1(Drow[i + t]), vs = vset1(scale);
            for (int64_t j = 0; j < nkp; j += VL) {
              const vf pj = vexp(vsub(vload(p + j), vl));
              vstore(p + j, pj);
              vstore(ds + j, vmul(vmul(pj, vsub(vload(dp + j), vd)), vs));
            }
          }
          K(at_axpy_rowsn)(dqs, (const float *const *)dss, nr, Dp, 1, Kp + kb * Dp, Dp, nk);
        }
        /* The block's dV and dK rows gather over the nq query rows (coefficients down a column of
         * P and dS), AT_RG key rows at a time sharing the loads of dO and Q. */
        for (int64_t j = 0; j < nk; j += AT_RG) {
          const int nj = (int)(j + AT_RG <= nk ? AT_RG : nk - j);
          float *dvs[AT_RG], *dks[AT_RG];
          const float *pc[AT_RG], *dsc[AT_RG];
          for (int t = 0; t < nj; t++) {
            dvs[t] = dVb + (j + t) * Dvp;
            dks[t] = dKb + (j + t) * Dp;
            pc[t] = P + j + t;
            dsc[t] = dS + j + t;
          }
          K(at_axpy_rowsn)(dvs, pc, nj, Dvp, AT_BK, dOp + qb * Dvp, Dvp, nq);
          K(at_axpy_rowsn)(dks, dsc, nj, Dp, AT_BK, Qp + qb * Dp, Dp, nq);
        }
      }
      for (int64_t j = 0; j < nk; j++) {
        memcpy(c->gk + at_row(c, 6, bh, kb + j), dKb + j * Dp, sizeof(float) * (size_t)D);
        memcpy(c->gv + at_row(c, 7, bh, kb + j), dVb + j * Dvp, sizeof(float) * (size_t)Dv);
      }
    }
    for (int64_t i = 0; i < Tq; i++) memcpy(c->gq + at_row(c, 5, bh, i), dQ + i * Dp, sizeof(float) * (size_t)D);
  }
  free(Qp);
  return 1;
}

#undef AT_RG

#endif
