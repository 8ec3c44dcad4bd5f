/* st_sdk.c — strings, errors, the config glue, the host table and the module entry/shutdown of
 * the SDK. The async-op pool lives in st_sdk_op.c. */
#include "st_sdk.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Strings and errors --------------------------------------------------------------------- */

st_str_t st_sdk_str_dup(const char *s, size_t len) {
  st_str_t out = {NULL, 0};
  if (len == 0 || s == NULL) return out;
  char *p = malloc(len + 1);
  if (p == NULL) return out;
  memcpy(p, s, len);
  p[len] = '\0';
  out.ptr = p;
  out.len = len;
  return out;
}

st_status_t st_sdk_str_copy_foreign(st_str_t *out, char *text, void (*text_free)(void *)) {
  st_status_t st = ST_OK;
  if (out == NULL) {
    st = ST_ERR_INVALID_ARG;
  } else if (text == NULL) {
    out->ptr = NULL;
    out->len = 0;
    st = ST_ERR_INTERNAL;
  } else {
    size_t len = strlen(text);
    *out = st_sdk_str_dup(text, len);
    if (len > 0 && out->ptr == NULL) st = ST_ERR_INTERNAL;
  }
  if (text != NULL && text_free != NULL) text_free(text);
  return st;
}

st_str_t st_sdk_str_vprintf(const char *fmt, va_list ap) {
  st_str_t out = {NULL, 0};
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n <= 0) return out;
  char *p = malloc((size_t)n + 1);
  if (p == NULL) return out;
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  out.ptr = p;
  out.len = (size_t)n;
  return out;
}

st_str_t st_sdk_str_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  st_str_t out = st_sdk_str_vprintf(fmt, ap);
  va_end(ap);
  return out;
}

st_str_t st_sdk_str_view(const char *cstr) {
  st_str_t out = {cstr, cstr != NULL ? strlen(cstr) : 0};
  return out;
}

char *st_sdk_cstr(const st_str_t *s) {
  size_t len = (s != NULL && s->ptr != NULL) ? s->len : 0;
  char *p = malloc(len + 1);
  if (p == NULL) return NULL;
  if (len > 0) memcpy(p, s->ptr, len);
  p[len] = '\0';
  return p;
}

bool st_sdk_str_eq(const st_str_t *s, const char *cstr) {
  if (s == NULL || cstr == NULL) return false;
  size_t n = strlen(cstr);
  if (s->len != n) return false;
  return n == 0 || (s->ptr != NULL && memcmp(s->ptr, cstr, n) == 0);
}

void st_sdk_free(void *ptr) { free(ptr); }

static void set_error_v(st_str_t *out_error, const char *fmt, va_list ap) {
  if (out_error == NULL) return;
  free((void *)out_error->ptr);
  *out_error = st_sdk_str_vprintf(fmt, ap);
}

void st_sdk_set_error(st_str_t *out_error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error_v(out_error, fmt, ap);
  va_end(ap);
}

st_status_t st_sdk_error(st_str_t *out_error, st_status_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error_v(out_error, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- Config -------------------------------------------------------------------------------- */

st_status_t st_sdk_export_no_state(void *handle, st_str_t *out_state, st_str_t *out_error) {
  (void)handle;
  (void)out_error;
  if (out_state != NULL) {
    out_state->ptr = NULL;
    out_state->len = 0;
  }
  return ST_OK;
}

st_status_t st_sdk_import_no_state(void *handle, const st_str_t *state, st_str_t *out_error) {
  (void)handle;
  (void)state;
  (void)out_error;
  return ST_OK;
}

static bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool st_sdk_config_is_object(const st_str_t *config) {
  if (config == NULL || config->len == 0 || config->ptr == NULL) {
    return true;
  }
  size_t a = 0;
  size_t b = config->len;
  while (a < b && json_space(config->ptr[a])) {
    a++;
  }
  while (b > a && json_space(config->ptr[b - 1])) {
    b--;
  }
  return b - a >= 2 && config->ptr[a] == '{' && config->ptr[b - 1] == '}';
}

st_status_t st_sdk_plan_nothing(void *handle, const st_str_t *new_config,
                                st_config_mode_t *out_mode, st_str_t *out_reason) {
  (void)handle;
  if (out_mode == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  if (!st_sdk_config_is_object(new_config)) {
    *out_mode = ST_CONFIG_REJECT;
    st_sdk_set_error(out_reason, "the config must be a JSON object");
    return ST_OK;
  }
  *out_mode = ST_CONFIG_HOT_APPLY;
  return ST_OK;
}

st_status_t st_sdk_apply_nothing(void *handle, const st_str_t *new_config, st_str_t *out_error) {
  (void)handle;
  if (!st_sdk_config_is_object(new_config)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "the config must be a JSON object");
  }
  return ST_OK;
}

/* ---- Host services -------------------------------------------------------------------------- */

/* Written by entry/shutdown on the control thread, read from workers. */
static _Atomic(const st_host_t *) g_host;

const st_host_t *st_sdk_host(void) { return atomic_load(&g_host); }

const char *st_sdk_data_dir(void) {
  const st_host_t *host = st_sdk_host();
  return host != NULL ? host->data_dir : NULL;
}

void st_sdk_log(st_log_level_t level, const char *fmt, ...) {
  char small[512];
  char *line = small;
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n >= (int)sizeof small) {
    char *big = malloc((size_t)n + 1);
    if (big != NULL) {
      vsnprintf(big, (size_t)n + 1, fmt, ap2);
      line = big;
    } else {
      n = (int)sizeof small - 1; /* log the truncated line rather than nothing */
    }
  }
  va_end(ap2);
  va_end(ap);
  if (n < 0) return;

  const st_host_t *host = st_sdk_host();
  if (host != NULL && host->log != NULL) {
    host->log(host->host_data, level, line, (size_t)n);
  } else {
    fprintf(stderr, "[stellatune plugin] %.*s\n", n, line);
  }
  if (line != small) free(line);
}

/* ---- Module entry and shutdown -------------------------------------------------------------- */

const st_module_t *st_sdk_module_entry(const st_host_t *host, const st_module_t *module,
                                       st_sdk_entry_hook_fn on_entry) {
  atomic_store(&g_host, host);
  if (on_entry != NULL && !on_entry(host)) {
    atomic_store(&g_host, NULL);
    return NULL;
  }
  return module;
}

void st_sdk_module_shutdown(st_sdk_shutdown_hook_fn on_shutdown) {
  st_sdk_shutdown();
  if (on_shutdown != NULL) on_shutdown();
  atomic_store(&g_host, NULL);
}
