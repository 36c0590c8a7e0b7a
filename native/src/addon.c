/* Module init for the tslm native addon: exports every kernel group. */
#include "tslm.h"

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
  tslm_register_info(env, exports);
  tslm_register_gemm(env, exports);
  tslm_register_ops(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
