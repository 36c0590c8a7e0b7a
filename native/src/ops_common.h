/* Shared plumbing for the ops_*.c kernel files (everything except GEMM).
 *
 * Each ops file is written once, ISA-generically, and compiled three times: it includes itself
 * under OPS_PASS = 2 (AVX-512), 1 (AVX2 + FMA) and 0 (scalar), with ops_vec.h supplying that pass's
 * vector type and operations (see ops_vec.h). This header holds what does not depend on the pass:
 * argument reading for the N-API wrappers, work splitting for the thread pool, and the dispatch
 * macro that picks a pass from tslm_isa() on every call (tests switch the ISA at runtime).
 */
#ifndef TSLM_OPS_COMMON_H
#define TSLM_OPS_COMMON_H

#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tslm.h"

/* ---- N-API argument reading ----
 * Wrappers start with OPS_ARGS(n) and read each argument with the tslm_arg_* helpers; on failure a
 * JS error has been thrown and the wrapper returns NULL. */
#define OPS_ARGS(n)                                   \
  napi_value argv[n];                                 \
  if (tslm_get_args(env, info, (n), argv)) return NULL

#define OPS_F32(i, var) float *var; size_t var##_len; if (tslm_arg_f32(env, argv[i], i, &var, &var##_len)) return NULL
#define OPS_F32_OPT(i, var) float *var; size_t var##_len; if (tslm_arg_f32_or_null(env, argv[i], i, &var, &var##_len)) return NULL
#define OPS_I32(i, var) int32_t *var; size_t var##_len; if (tslm_arg_i32(env, argv[i], i, &var, &var##_len)) return NULL
#define OPS_I32_OPT(i, var) int32_t *var; size_t var##_len; if (tslm_arg_i32_or_null(env, argv[i], i, &var, &var##_len)) return NULL
#define OPS_INT(i, var) int64_t var; if (tslm_arg_int(env, argv[i], i, &var)) return NULL
#define OPS_NUM(i, var) double var; if (tslm_arg_double(env, argv[i], i, &var)) return NULL
#define OPS_BOOL(i, var) int var; if (tslm_arg_bool(env, argv[i], i, &var)) return NULL

/* Callers (src/ops) validate shapes, but a wrong length here would read or write outside a JS
 * buffer and take the whole process down, so the wrappers still check array lengths (cheap, once
 * per call) and throw a RangeError naming the argument instead. */
static inline int ops_need(napi_env env, const char *fn, const char *what, size_t have, double need) {
  if (need < 0 || (double)have < need) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s has %zu elements, needs %.0f", fn, what, have, need);
    napi_throw_range_error(env, NULL, msg);
    return 1;
  }
  return 0;
}
#define OPS_NEED(fn, arr, need) if (ops_need(env, fn, #arr, arr##_len, (double)(need))) return NULL
#define OPS_NEED_OPT(fn, arr, need) if (arr && ops_need(env, fn, #arr, arr##_len, (double)(need))) return NULL

/* ---- threading ----
 * Threads only pay off above some tens of microseconds of work: waking the pool costs a few
 * microseconds, so tiny calls (the common case in decoding and in tests) stay on the caller. */
#define OPS_MIN_WORK_PER_TASK 32768 /* elements (~1 "flop-ish" op each) per task */

static inline int ops_tasks(double work, size_t units) {
  int nt = tslm_num_threads();
  if (nt <= 1 || units <= 1 || work < 2.0 * OPS_MIN_WORK_PER_TASK) return 1;
  double by_work = work / OPS_MIN_WORK_PER_TASK;
  if (by_work < nt) nt = (int)by_work;
  if ((size_t)nt > units) nt = (int)units;
  return nt < 1 ? 1 : nt;
}

/* The half-open slice [*lo, *hi) of n units that task `task` of `ntasks` handles. */
static inline void ops_range(int task, int ntasks, size_t n, size_t *lo, size_t *hi) {
  *lo = n * (size_t)task / (size_t)ntasks;
  *hi = n * (size_t)(task + 1) / (size_t)ntasks;
}

/* Calls the AVX-512, AVX2 or scalar twin of a kernel, per the ISA in effect for this call. */
#define OPS_DISPATCH(name, ...)                         \
  do {                                                  \
    switch (tslm_isa()) {                               \
      case TSLM_ISA_AVX512: name##_avx512(__VA_ARGS__); break; \
      case TSLM_ISA_AVX2: name##_avx2(__VA_ARGS__); break;     \
      default: name##_scalar(__VA_ARGS__); break;       \
    }                                                   \
  } while (0)

#endif
