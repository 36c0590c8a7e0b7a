/* tslm native kernels: the shared contract between the addon's C files.
 *
 * Layout (see native/README.md):
 *   src/addon.c       module init: calls every tslm_register_* below
 *   src/threadpool.c  persistent pthread pool (no OpenMP: idle OpenMP threads spin beside Node's loop)
 *   src/cpu.c         CPU feature detection for runtime dispatch (AVX-512 / AVX2 / scalar)
 *   src/gemm*.c       packed GEMM (Goto/BLIS structure) and its microkernels
 *   src/ops_*.c       the other kernels (elementwise, reductions, norms, softmax, attention, ...)
 *   src/napi_util.c   helpers to read typed arrays and numbers from N-API arguments
 * Every exported JS function mirrors one method of the Kernels interface in src/kernels/types.ts,
 * with the same argument order.
 */
#ifndef TSLM_H
#define TSLM_H

#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* ---- CPU features (cpu.c) ---- */
enum tslm_isa { TSLM_ISA_SCALAR = 0, TSLM_ISA_AVX2 = 1, TSLM_ISA_AVX512 = 2 };
/* The best ISA this CPU supports, capped by env TSLM_ISA=scalar|avx2|avx512 when set. */
int tslm_isa(void);
const char *tslm_isa_name(int isa);
/* Caps the ISA at runtime (never above what the CPU supports); returns the ISA now in effect. Used by
 * tests to run every code path on one machine. Kernels must call tslm_isa() per call, not cache it. */
int tslm_set_isa(int isa);
/* "scalar" | "avx2" | "avx512" -> TSLM_ISA_*, -1 for NULL/empty, -2 for anything else. */
int tslm_isa_parse(const char *name);

/* ---- thread pool (threadpool.c) ---- */
/* Number of threads kernels may use (env TSLM_THREADS, default: online CPUs). */
int tslm_num_threads(void);
void tslm_set_num_threads(int n);
/* Runs fn(ctx, i, nthreads) for i in [0, ntasks) on the pool, caller participating; returns when
 * all are done. ntasks <= 1 runs inline. Not reentrant: a task must not call tslm_parallel_for. */
typedef void (*tslm_task_fn)(void *ctx, int task, int ntasks);
void tslm_parallel_for(int ntasks, tslm_task_fn fn, void *ctx);
/* Inside a task: which thread runs it, in [0, tslm_num_threads()) (0 = the thread that called
 * tslm_parallel_for). Tasks are handed out dynamically, so index per-thread scratch buffers by
 * this, not by the task number, when ntasks > threads. Ids are unique within one job only: two
 * JS threads (worker_threads) running kernels at once both have id 0 outside the pool, so shared
 * scratch buffers also need a lock per kernel (gemm.c holds one for the whole call). */
int tslm_worker_id(void);

/* ---- N-API helpers (napi_util.c) ---- */
/* Each returns 0 on success; on failure it has thrown a JS error naming the argument index. */
int tslm_arg_f32(napi_env env, napi_value v, int idx, float **data, size_t *len);
int tslm_arg_f32_or_null(napi_env env, napi_value v, int idx, float **data, size_t *len);
int tslm_arg_i32(napi_env env, napi_value v, int idx, int32_t **data, size_t *len);
int tslm_arg_i32_or_null(napi_env env, napi_value v, int idx, int32_t **data, size_t *len);
/* Float32Array or Int32Array: *data points at the bytes, *elsize = 4, *len elements. */
int tslm_arg_typed(napi_env env, napi_value v, int idx, void **data, size_t *len);
int tslm_arg_int(napi_env env, napi_value v, int idx, int64_t *out);
int tslm_arg_double(napi_env env, napi_value v, int idx, double *out);
int tslm_arg_bool(napi_env env, napi_value v, int idx, int *out);
void tslm_export(napi_env env, napi_value exports, const char *name, napi_callback cb);
/* Optional, inside a callback: names of its arguments (index = position) so that errors read
 * "gemm: argument 7 (A) must be a Float32Array". The array must outlive the call (use static). */
void tslm_arg_names(const char *const *names);
/* Reads exactly `want` arguments into argv; throws "fn: expected N arguments, got M" when fewer. */
int tslm_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

/* ---- registration: each group adds its functions to the module's exports ---- */
void tslm_register_info(napi_env env, napi_value exports);  /* addon.c: isa(), threads() */
void tslm_register_gemm(napi_env env, napi_value exports);  /* gemm.c */
void tslm_register_ops(napi_env env, napi_value exports);   /* ops_register.c */

#endif
