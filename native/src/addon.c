/* Module init for the tslm native addon: exports every kernel group. */
#include <stdlib.h>
#ifdef __linux__
#include <malloc.h>
#endif
#include "tslm.h"

/* Tensors are ArrayBuffers from Node's allocator (glibc malloc), freed when V8 collects them. A
 * training step allocates and drops hundreds of MB of activations and gradients of a few sizes.
 * glibc's defaults hand large free blocks back to the kernel (trimming the heap top, unmapping
 * mmapped blocks), so the next step's buffers of the same sizes come back as fresh pages, each
 * first touch a page fault that zeroes it: 4,000-20,000 faults and 10-50 ms of system time per
 * step of the tiny config. Keeping freed memory in the heap for reuse removes them (sys time per
 * step 0-9 ms) without raising peak RSS, which the step's live set bounds. Blocks of 32 MB or more
 * are still mmapped and returned at once. Skipped where the user tuned malloc through glibc's own
 * environment variables. */
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
  if (getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TOP_PAD_")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

static napi_value js_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, tslm_isa_name(tslm_isa()), NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, tslm_num_threads(), &out);
  return out;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t n;
  if (argc < 1 || tslm_arg_int(env, argv[0], 0, &n)) return NULL;
  tslm_set_num_threads((int)n);
  return NULL;
}

void tslm_register_info(napi_env env, napi_value exports) {
  tslm_export(env, exports, "isa", js_isa);
  tslm_export(env, exports, "getThreads", js_get_threads);
  tslm_export(env, exports, "setThreads", js_set_threads);
}

static napi_value init(napi_env env, napi_value exports) {
  tune_malloc();
  tslm_register_info(env, exports);
  tslm_register_gemm(env, exports);
  tslm_register_ops(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
