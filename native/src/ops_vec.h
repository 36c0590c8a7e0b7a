/* One instruction set's vector vocabulary for the ISA-generic kernel bodies in ops_*.c.
 *
 * Included once per pass, with OPS_PASS set by the including file:
 *   2  AVX-512 (F, DQ, BW, VL) + FMA, 16 lanes
 *   1  AVX2 + FMA, 8 lanes
 *   0  scalar, "1 lane": the vector type is float and the math functions are libm's
 * It defines TGT (the function-level target attribute every kernel of the pass carries), K(name)
 * (the pass's name suffix), the type vf with VL lanes, and operations on it as macros. Kernel
 * bodies write loops as `for (; j + VL <= n; j += VL)` plus a scalar tail; in the scalar pass the
 * tail never runs. vacc is the type of long-sum accumulators (vf, but double in the scalar pass).
 * ops_vec_end.h undefines everything so the next pass can redefine it.
 *
 * Vector exp/tanh/erf are our own polynomial approximations (coefficients fitted by least squares
 * at Chebyshev nodes, relative weighting, then checked in float32 over the whole range):
 *   exp   Cody-Waite reduction x = n ln2 + r, e^r = 1 + r + r^2 q(r), deg-4 q: polynomial error
 *         8e-8, measured <= 1.2e-7 relative (1 ulp) over [-87, 88]
 *   tanh  |x| < 0.625: x p(x^2) (deg 5); else 1 - 2/(e^{2|x|} + 1): measured <= 1.4e-7 relative
 *   erfc  e^{-x^2} g(1/(1 + x/2)) (deg 9) on [0, 13], x^2 split exactly by FMA: ~3e-7 relative
 * NaN propagates through all of them; exp(-inf) = 0, exp(+inf) = inf.
 */
#ifndef OPS_PASS
#error "define OPS_PASS before including ops_vec.h"
#endif

#if OPS_PASS == 2 /* ------------------------------------------------------------- AVX-512 */

#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define K(name) name##_avx512
#define VL 16
#define vf __m512
#define vacc __m512 /* accumulator of long sums */
#define vm __mmask16
#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, a) _mm512_storeu_ps((p), (a))
#define vset1(x) _mm512_set1_ps(x)
#define vzero() _mm512_setzero_ps()
#define vadd(a, b) _mm512_add_ps((a), (b))
#define vsub(a, b) _mm512_sub_ps((a), (b))
#define vmul(a, b) _mm512_mul_ps((a), (b))
#define vdiv(a, b) _mm512_div_ps((a), (b))
#define vfma(a, b, c) _mm512_fmadd_ps((a), (b), (c))  /* a*b + c */
#define vfnma(a, b, c) _mm512_fnmadd_ps((a), (b), (c)) /* c - a*b */
#define vmax(a, b) _mm512_max_ps((a), (b))             /* b when either is NaN (x86 rule) */
#define vmin(a, b) _mm512_min_ps((a), (b))
#define vsqrt(a) _mm512_sqrt_ps(a)
#define vabs(a) _mm512_abs_ps(a)
#define vand(a, b) _mm512_and_ps((a), (b))
#define vor(a, b) _mm512_or_ps((a), (b))
#define vlt(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define vle(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LE_OQ)
#define vgt(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define veq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define visnan(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
#define vmor(m1, m2) ((vm)((m1) | (m2)))
#define vsel(m, a, b) _mm512_mask_blend_ps((m), (b), (a)) /* m ? a : b, per lane */
#define vhsum(a) _mm512_reduce_add_ps(a)
#define vhmax(a) _mm512_reduce_max_ps(a)
#define vhmin(a) _mm512_reduce_min_ps(a)

/* e^x for 16 lanes; 2^n is applied with scalef, which handles overflow to inf and gradual
 * underflow itself, so only the reduction's range needs clamping. */
static inline TGT __m512 exp_avx512(__m512 x) {
  /* min/max with the constant first: NaN lanes pass through (x86 returns the second operand). */
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 q = _mm512_set1_ps(0.0013751407386735082f);
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.008368915878236294f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.04166953265666962f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.166665181517601f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.49999988079071045f));
  __m512 p = _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}
#define vexp(a) exp_avx512(a)
#define vcopysign(mag, sgn) \
  _mm512_or_ps(_mm512_abs_ps(mag), _mm512_and_ps((sgn), _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u))))

#elif OPS_PASS == 1 /* ------------------------------------------------------------- AVX2 */

#define TGT __attribute__((target("avx2,fma")))
#define K(name) name##_avx2
#define VL 8
#define vf __m256
#define vacc __m256
#define vm __m256
#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, a) _mm256_storeu_ps((p), (a))
#define vset1(x) _mm256_set1_ps(x)
#define vzero() _mm256_setzero_ps()
#define vadd(a, b) _mm256_add_ps((a), (b))
#define vsub(a, b) _mm256_sub_ps((a), (b))
#define vmul(a, b) _mm256_mul_ps((a), (b))
#define vdiv(a, b) _mm256_div_ps((a), (b))
#define vfma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define vfnma(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define vmax(a, b) _mm256_max_ps((a), (b))
#define vmin(a, b) _mm256_min_ps((a), (b))
#define vsqrt(a) _mm256_sqrt_ps(a)
#define vabs(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define vand(a, b) _mm256_and_ps((a), (b))
#define vor(a, b) _mm256_or_ps((a), (b))
#define vlt(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define vle(a, b) _mm256_cmp_ps((a), (b), _CMP_LE_OQ)
#define vgt(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define veq(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define visnan(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define vmor(m1, m2) _mm256_or_ps((m1), (m2))
#define vsel(m, a, b) _mm256_blendv_ps((b), (a), (m))

static inline TGT float hsum_avx2(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline TGT float hmax_avx2(__m256 a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline TGT float hmin_avx2(__m256 a) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#define vhsum(a) hsum_avx2(a)
#define vhmax(a) hmax_avx2(a)
#define vhmin(a) hmin_avx2(a)

/* e^x for 8 lanes. Without scalef, 2^n is built in the exponent bits; splitting it into two
 * factors 2^(n/2) * 2^(n - n/2) keeps each a normal float over the whole clamped range, so the
 * final multiplies give inf and gradual underflow with IEEE rounding, with no special cases. */
static inline TGT __m256 exp_avx2(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 q = _mm256_set1_ps(0.0013751407386735082f);
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.008368915878236294f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.04166953265666962f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.166665181517601f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.49999988079071045f));
  __m256 p = _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
#define vexp(a) exp_avx2(a)
#define vcopysign(mag, sgn) \
  _mm256_or_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), (mag)), _mm256_and_ps((sgn), _mm256_set1_ps(-0.0f)))

#else /* ----------------------------------------------------------------------------- scalar */

#define TGT
#define K(name) name##_scalar
#define VL 1
#define vf float
/* Long sums accumulate in double here: one sequential float sum over thousands of terms would lose
 * digits that the vector passes keep through their many lanes. */
#define vacc double
#define vm int
#define vload(p) (*(p))
#define vstore(p, a) (*(p) = (a))
#define vset1(x) ((float)(x))
#define vzero() 0.0f
#define vadd(a, b) ((a) + (b))
#define vsub(a, b) ((a) - (b))
#define vmul(a, b) ((a) * (b))
#define vdiv(a, b) ((a) / (b))
#define vfma(a, b, c) ((a) * (b) + (c))
#define vfnma(a, b, c) ((c) - (a) * (b))
/* Same operand rule as the x86 instructions: the second operand when either is NaN. */
#define vmax(a, b) ((a) > (b) ? (a) : (b))
#define vmin(a, b) ((a) < (b) ? (a) : (b))
#define vsqrt(a) sqrtf(a)
#define vabs(a) fabsf(a)
#define vlt(a, b) ((a) < (b))
#define vle(a, b) ((a) <= (b))
#define vgt(a, b) ((a) > (b))
#define veq(a, b) ((a) == (b))
#define visnan(a) ((a) != (a))
#define vmor(m1, m2) ((m1) || (m2))
#define vsel(m, a, b) ((m) ? (a) : (b))
#define vhsum(a) (a)
#define vhmax(a) (a)
#define vhmin(a) (a)
#define vexp(a) expf(a)
#define vcopysign(mag, sgn) copysignf((mag), (sgn))

#endif

/* ---- math built on the pass's primitives (vector passes), or libm (scalar pass) ---- */
#if OPS_PASS > 0

static inline TGT vf K(vtanh)(vf x) {
  vf ax = vabs(x);
  vf z = vmul(x, x);
  vf p = vset1(-0.005697522312402725f);
  p = vfma(p, z, vset1(0.020630307495594025f));
  p = vfma(p, z, vset1(-0.05373586341738701f));
  p = vfma(p, z, vset1(0.13331365585327148f));
  p = vfma(p, z, vset1(-0.33333274722099304f));
  vf small = vfma(vmul(p, z), x, x); /* x + x z p(z) */
  vf e = vexp(vadd(ax, ax));
  vf big = vcopysign(vsub(vset1(1.0f), vdiv(vset1(2.0f), vadd(e, vset1(1.0f)))), x);
  return vsel(vlt(ax, vset1(0.625f)), small, big);
}

/* 1 + erf(x) for exact GELU, with one formula for every lane (no branch to blend):
 *   erfc(|x|) = e^{-x^2} g(t),  t = 1 / (1 + |x|/2),  g a degree-9 polynomial fitted on |x| in [0, 13]
 *   1 + erf(x) = erfc(-x) = x < 0 ? erfc(|x|) : 2 - erfc(|x|)
 * so it is accurate in relative terms for negative x too (no cancellation in 1 + erf), which keeps
 * GELU accurate far into its negative tail; ~3e-7 relative error over the whole range. e^{-x^2} is
 * formed as e^{-h} (1 - l) with h + l = x^2 exactly (FMA), so the rounding of x^2 costs nothing. */
static inline TGT vf K(v1p_erf)(vf x) {
  /* Past 13, erfc is 0 in float; clamping also keeps x^2 finite (inf - inf would be NaN). NaN
   * passes through min (x86 returns the second operand) and so propagates. */
  const vf ax = vmin(vset1(13.0f), vabs(x));
  const vf h = vmul(ax, ax);
  const vf l = vfma(ax, ax, vsub(vzero(), h)); /* x*x - h, exact */
  const vf e = vmul(vexp(vsub(vzero(), h)), vsub(vset1(1.0f), l));
  const vf t = vdiv(vset1(1.0f), vfma(vset1(0.5f), ax, vset1(1.0f)));
  vf g = vset1(-0.05945451185107231f);
  g = vfma(g, t, vset1(0.28628602623939514f));
  g = vfma(g, t, vset1(-0.49032697081565857f));
  g = vfma(g, t, vset1(0.28106918931007385f));
  g = vfma(g, t, vset1(-0.028196657076478004f));
  g = vfma(g, t, vset1(0.20307213068008423f));
  g = vfma(g, t, vset1(0.24311015009880066f));
  g = vfma(g, t, vset1(0.2823491096496582f));
  g = vfma(g, t, vset1(0.2820918560028076f));
  g = vfma(g, t, vset1(-3.600196123443311e-07f));
  const vf c = vmul(e, g);
  return vsel(vlt(x, vzero()), c, vsub(vset1(2.0f), c));
}

#else /* scalar pass: libm */

static inline float vtanh_scalar(float x) { return tanhf(x); }
static inline float v1p_erf_scalar(float x) { return x < 0 ? erfcf(-x) : 1.0f + erff(x); }

#endif

/* ---- row helpers shared by the row-wise kernels (softmax, norms, losses) ---- */

/* max over a row; NaN lanes follow the x86 rule (a NaN may or may not win), and either way a NaN
 * in the row makes the whole softmax row NaN, as in the reference. */
static inline TGT float K(row_max)(const float *x, int64_t n) {
  int64_t j = 0;
  float m = -INFINITY;
  if (n >= VL) {
    vf m0 = vset1(-INFINITY), m1 = m0;
    for (; j + 2 * VL <= n; j += 2 * VL) {
      m0 = vmax(m0, vload(x + j));
      m1 = vmax(m1, vload(x + j + VL));
    }
    for (; j + VL <= n; j += VL) m0 = vmax(m0, vload(x + j));
    m = vhmax(vmax(m0, m1));
  }
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

static inline TGT float K(row_sum)(const float *x, int64_t n) {
  int64_t j = 0;
  vacc s0 = vzero(), s1 = vzero();
  for (; j + 2 * VL <= n; j += 2 * VL) {
    s0 = vadd(s0, vload(x + j));
    s1 = vadd(s1, vload(x + j + VL));
  }
  for (; j + VL <= n; j += VL) s0 = vadd(s0, vload(x + j));
  float s = (float)vhsum(vadd(s0, s1));
  for (; j < n; j++) s += x[j];
  return s;
}

static inline TGT float K(row_dot)(const float *x, const float *y, int64_t n) {
  int64_t j = 0;
  vacc s0 = vzero(), s1 = vzero();
  for (; j + 2 * VL <= n; j += 2 * VL) {
    s0 = vfma(vload(x + j), vload(y + j), s0);
    s1 = vfma(vload(x + j + VL), vload(y + j + VL), s1);
  }
  for (; j + VL <= n; j += VL) s0 = vfma(vload(x + j), vload(y + j), s0);
  float s = (float)vhsum(vadd(s0, s1));
  for (; j < n; j++) s += x[j] * y[j];
  return s;
}

/* out[j] = exp(x[j] - m) (out may be NULL: only the sum is wanted); returns the sum. The tail goes
 * through a padded vector so every element uses the same exp. */
static inline TGT float K(row_exp_sum)(const float *x, float m, float *out, int64_t n) {
  int64_t j = 0;
  const vf vmx = vset1(m);
  vacc s = vzero();
  for (; j + VL <= n; j += VL) {
    vf e = vexp(vsub(vload(x + j), vmx));
    if (out) vstore(out + j, e);
    s = vadd(s, e);
  }
  float sum = (float)vhsum(s);
  if (j < n) {
    float buf[VL];
    for (int t = 0; t < VL; t++) buf[t] = j + t < n ? x[j + t] - m : -INFINITY;
    vstore(buf, vexp(vload(buf)));
    for (int t = 0; j + t < n; t++) {
      if (out) out[j + t] = buf[t];
      sum += buf[t];
    }
  }
  return sum;
}
