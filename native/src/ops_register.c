/* Registers every non-GEMM kernel of the addon (the ops_*.c files) on the module's exports.
 * Each family file defines one tslm_register_<family> that exports its functions under the exact
 * names of the Kernels methods in src/kernels/types.ts. */
#include "tslm.h"

void tslm_register_elementwise(napi_env env, napi_value exports);
void tslm_register_reduce(napi_env env, napi_value exports);
void tslm_register_softmax(napi_env env, napi_value exports);
void tslm_register_norm(napi_env env, napi_value exports);
void tslm_register_loss(napi_env env, napi_value exports);
void tslm_register_embedding(napi_env env, napi_value exports);
void tslm_register_adamw(napi_env env, napi_value exports);
void tslm_register_attention(napi_env env, napi_value exports);

void tslm_register_ops(napi_env env, napi_value exports) {
  tslm_register_elementwise(env, exports);
  tslm_register_reduce(env, exports);
  tslm_register_softmax(env, exports);
  tslm_register_norm(env, exports);
  tslm_register_loss(env, exports);
  tslm_register_embedding(env, exports);
  tslm_register_adamw(env, exports);
  tslm_register_attention(env, exports);
}
