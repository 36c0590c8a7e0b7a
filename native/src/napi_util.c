/* N-API argument helpers shared by every kernel file.
 *
 * Each exported JS function is registered through tslm_export, which wraps the C callback in a
 * small trampoline that records the function's name for the duration of the call. The argument
 * readers then produce errors that name the function, the argument position (1-based, as a user
 * counts them) and, when the callback declared them with tslm_arg_names, the argument's name:
 *     gemm: argument 7 (A) must be a Float32Array (got Int32Array)
 * Readers return 0 on success and nonzero after having thrown, so callbacks do
 *     if (tslm_arg_f32(env, argv[6], 6, &A, &lenA)) return NULL;
 * Kernels never validate shapes: src/ops does that before calling (see src/kernels/types.ts). The
 * helpers only guard the types, which protects the process from wild pointers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tslm.h"

/* Per-call context, set by the trampoline. Thread-local because worker_threads may call the addon
 * concurrently from several JS threads of one process. */
static _Thread_local const char *cur_fn = NULL;
static _Thread_local const char *const *cur_names = NULL;

void tslm_arg_names(const char *const *names) { cur_names = names; }

typedef struct {
  napi_callback cb;
  char name[64];
} export_entry;

static napi_value trampoline(napi_env env, napi_callback_info info) {
  void *data = NULL;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &data);
  const export_entry *e = (const export_entry *)data;
  const char *prev_fn = cur_fn;
  const char *const *prev_names = cur_names;
  cur_fn = e->name;
  cur_names = NULL;
  napi_value r = e->cb(env, info);
  cur_fn = prev_fn;
  cur_names = prev_names;
  return r;
}

void tslm_export(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  /* One small allocation per exported function, alive for the life of the process (an addon's
   * functions are never unregistered). */
  export_entry *e = (export_entry *)calloc(1, sizeof(export_entry));
  napi_value fn;
  if (!e) {
    napi_throw_error(env, NULL, "tslm: out of memory while registering native functions");
    return;
  }
  e->cb = cb;
  snprintf(e->name, sizeof e->name, "%s", name);
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, trampoline, e, &fn) != napi_ok ||
      napi_set_named_property(env, exports, name, fn) != napi_ok) {
    napi_throw_error(env, NULL, "tslm: could not register a native function");
  }
}

/* "gemm: argument 7 (A)" into buf. */
static void arg_label(char *buf, size_t n, int idx) {
  const char *fn = cur_fn ? cur_fn : "tslm native";
  if (cur_names && cur_names[idx])
    snprintf(buf, n, "%s: argument %d (%s)", fn, idx + 1, cur_names[idx]);
  else
    snprintf(buf, n, "%s: argument %d", fn, idx + 1);
}

/* A short description of what a JS value is, for error messages. */
static const char *describe(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "unknown";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    case napi_external: return "external";
    default: break;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt;
    size_t len;
    napi_get_typedarray_info(env, v, &tt, &len, NULL, NULL, NULL);
    switch (tt) {
      case napi_int8_array: return "Int8Array";
      case napi_uint8_array: return "Uint8Array";
      case napi_uint8_clamped_array: return "Uint8ClampedArray";
      case napi_int16_array: return "Int16Array";
      case napi_uint16_array: return "Uint16Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      default: return "a typed array";
    }
  }
  bool is_arr = false;
  napi_is_array(env, v, &is_arr);
  return is_arr ? "Array" : "object";
}

static int throw_type(napi_env env, napi_value v, int idx, const char *want) {
  char label[160], msg[320];
  arg_label(label, sizeof label, idx);
  snprintf(msg, sizeof msg, "%s must be %s (got %s)", label, want, describe(env, v));
  napi_throw_type_error(env, NULL, msg);
  return 1;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

/* Reads a typed array of the wanted element type; want_name is for the message. */
static int arg_typed_of(napi_env env, napi_value v, int idx, napi_typedarray_type want, const char *want_name,
                        void **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return throw_type(env, v, idx, want_name);
  napi_typedarray_type t;
  size_t n;
  void *p;
  if (napi_get_typedarray_info(env, v, &t, &n, &p, NULL, NULL) != napi_ok || t != want)
    return throw_type(env, v, idx, want_name);
  *data = p;
  *len = n;
  return 0;
}

int tslm_arg_f32(napi_env env, napi_value v, int idx, float **data, size_t *len) {
  return arg_typed_of(env, v, idx, napi_float32_array, "a Float32Array", (void **)data, len);
}

int tslm_arg_f32_or_null(napi_env env, napi_value v, int idx, float **data, size_t *len) {
  if (is_nullish(env, v)) {
    *data = NULL;
    *len = 0;
    return 0;
  }
  return arg_typed_of(env, v, idx, napi_float32_array, "a Float32Array or null", (void **)data, len);
}

int tslm_arg_i32(napi_env env, napi_value v, int idx, int32_t **data, size_t *len) {
  return arg_typed_of(env, v, idx, napi_int32_array, "an Int32Array", (void **)data, len);
}

int tslm_arg_i32_or_null(napi_env env, napi_value v, int idx, int32_t **data, size_t *len) {
  if (is_nullish(env, v)) {
    *data = NULL;
    *len = 0;
    return 0;
  }
  return arg_typed_of(env, v, idx, napi_int32_array, "an Int32Array or null", (void **)data, len);
}

int tslm_arg_typed(napi_env env, napi_value v, int idx, void **data, size_t *len) {
  bool is_ta = false;
  const char *want = "a Float32Array or an Int32Array";
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return throw_type(env, v, idx, want);
  napi_typedarray_type t;
  if (napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) != napi_ok ||
      (t != napi_float32_array && t != napi_int32_array))
    return throw_type(env, v, idx, want);
  return 0;
}

int tslm_arg_int(napi_env env, napi_value v, int idx, int64_t *out) {
  double d;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return throw_type(env, v, idx, "an integer");
  napi_get_value_double(env, v, &d);
  /* Integers up to 2^53 are exact in a JS number; anything else is a caller bug. */
  if (!(d == floor(d)) || fabs(d) > 9007199254740992.0) {
    char label[160], msg[320];
    arg_label(label, sizeof label, idx);
    snprintf(msg, sizeof msg, "%s must be an integer (got %g)", label, d);
    napi_throw_range_error(env, NULL, msg);
    return 1;
  }
  *out = (int64_t)d;
  return 0;
}

int tslm_arg_double(napi_env env, napi_value v, int idx, double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return throw_type(env, v, idx, "a number");
  napi_get_value_double(env, v, out);
  return 0;
}

int tslm_arg_bool(napi_env env, napi_value v, int idx, int *out) {
  napi_valuetype t;
  bool b;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean) return throw_type(env, v, idx, "a boolean");
  napi_get_value_bool(env, v, &b);
  *out = b ? 1 : 0;
  return 0;
}

int tslm_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", cur_fn ? cur_fn : "tslm native", want, argc);
    napi_throw_type_error(env, NULL, msg);
    return 1;
  }
  return 0;
}
