/* st_sdk_testkit.c — see st_sdk_testkit.h. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "st_sdk_testkit.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct st_testkit_plugin {
  void *lib;
  bool keep_loaded;
  const st_module_t *module;
  st_host_t host;
  char data_dir[1024];
  _Atomic unsigned logs;
};

static void set_err(char *err, size_t len, const char *fmt, ...) {
  if (!err || len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

static void host_log(void *host_data, st_log_level_t level, const char *message, size_t len) {
  st_testkit_plugin_t *p = host_data;
  atomic_fetch_add(&p->logs, 1);
  fprintf(stderr, "[plugin log %u] %.*s\n", (unsigned)level, (int)len, message);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

st_testkit_plugin_t *st_testkit_load(const char *path, const char *data_dir, char *err, size_t err_len) {
  const char *keep = getenv("ST_TESTKIT_KEEP_LOADED");
  return st_testkit_load_ex(path, data_dir, keep && keep[0] == '1', err, err_len);
}

st_testkit_plugin_t *st_testkit_load_ex(const char *path, const char *data_dir, bool keep_loaded, char *err,
                                        size_t err_len) {
  st_testkit_plugin_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->keep_loaded = keep_loaded;
  if (data_dir) {
    snprintf(p->data_dir, sizeof p->data_dir, "%s", data_dir);
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(p->data_dir, sizeof p->data_dir, "%s/st-testkit-%ld", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
  }
  mkdir(p->data_dir, 0700);
  p->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!p->lib) {
    set_err(err, err_len, "dlopen: %s", dlerror());
    free(p);
    return NULL;
  }
  st_plugin_entry_fn entry;
  void *sym = dlsym(p->lib, ST_PLUGIN_ENTRY_SYMBOL);
  memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
  if (!sym) {
    set_err(err, err_len, "%s is not exported", ST_PLUGIN_ENTRY_SYMBOL);
    dlclose(p->lib);
    free(p);
    return NULL;
  }
  p->host.abi_version = ST_PLUGIN_API_VERSION;
  p->host.struct_size = (uint32_t)sizeof p->host;
  p->host.host_data = p;
  p->host.log = host_log;
  p->host.data_dir = p->data_dir;
  p->module = entry(&p->host);
  const char *why = NULL;
  if (!p->module) why = "the entry returned NULL";
  else if (p->module->abi_version != ST_PLUGIN_API_VERSION) why = "the module speaks another ABI version";
  else if (p->module->struct_size < sizeof(st_module_t)) why = "st_module_t.struct_size is too small";
  else if (!p->module->create_instance || !p->module->free_mem || !p->module->metadata_json) why = "create_instance, free_mem or metadata_json is NULL";
  if (why) {
    set_err(err, err_len, "%s", why);
    dlclose(p->lib);
    free(p);
    return NULL;
  }
  return p;
}

const st_module_t *st_testkit_module(const st_testkit_plugin_t *p) { return p->module; }

unsigned st_testkit_log_count(const st_testkit_plugin_t *p) { return atomic_load(&p->logs); }

const st_capability_t *st_testkit_capability(const st_testkit_plugin_t *p, st_capability_kind_t kind,
                                             const char *type_id) {
  for (uint32_t i = 0; i < p->module->capability_count; i++) {
    const st_capability_t *c = p->module->capabilities[i];
    if (c && c->kind == kind && c->type_id && strcmp(c->type_id, type_id) == 0) return c;
  }
  return NULL;
}

st_status_t st_testkit_create(st_testkit_plugin_t *p, st_capability_kind_t kind, const char *type_id,
                              const char *config_json, st_instance_t *out, char *err, size_t err_len) {
  const st_capability_t *cap = st_testkit_capability(p, kind, type_id);
  if (!cap) {
    set_err(err, err_len, "no capability %u/%s", (unsigned)kind, type_id);
    return ST_ERR_NOT_FOUND;
  }
  const char *config = config_json ? config_json : cap->default_config_json ? cap->default_config_json : "{}";
  st_instance_args_t args;
  memset(&args, 0, sizeof args);
  args.struct_size = (uint32_t)sizeof args;
  args.kind = kind;
  args.type_id.ptr = type_id;
  args.type_id.len = strlen(type_id);
  args.config_json.ptr = config;
  args.config_json.len = strlen(config);
  if (kind == ST_CAP_DSP) {
    args.spec.sample_rate = 48000;
    args.spec.channels = 2;
  }
  st_str_t error = {NULL, 0};
  memset(out, 0, sizeof *out);
  st_status_t st = p->module->create_instance(&args, out, &error);
  if (error.ptr) {
    set_err(err, err_len, "%.*s", (int)error.len, error.ptr);
    p->module->free_mem((void *)error.ptr);
  }
  if (st == ST_OK && (!out->handle || !out->vtable)) {
    set_err(err, err_len, "create_instance returned ST_OK without an instance");
    return ST_ERR_INTERNAL;
  }
  return st;
}

void st_testkit_destroy(st_instance_t *inst) {
  if (inst && inst->vtable && inst->vtable->destroy) inst->vtable->destroy(inst->handle);
  if (inst) memset(inst, 0, sizeof *inst);
}

typedef struct notify_count {
  const st_async_op_t *op;
  _Atomic unsigned calls;
  _Atomic unsigned while_pending;
} notify_count_t;

static void count_notify(void *user_data) {
  notify_count_t *c = user_data;
  atomic_fetch_add(&c->calls, 1);
  if (c->op->vtable->poll(c->op->handle) == ST_OP_PENDING) atomic_fetch_add(&c->while_pending, 1);
}

st_status_t st_testkit_run_op(st_testkit_plugin_t *p, st_async_op_t op, uint32_t timeout_ms,
                              st_testkit_op_result_t *out) {
  memset(out, 0, sizeof *out);
  /* Lives until after destroy plus the grace period: a late notifier call still finds it. */
  notify_count_t *count = calloc(1, sizeof *count);
  if (!count) return ST_ERR_INTERNAL;
  count->op = &op;
  double t0 = now_ms();
  op.vtable->set_notifier(op.handle, count_notify, count);
  st_op_state_t state = op.vtable->poll(op.handle);
  while (state == ST_OP_PENDING && now_ms() - t0 < timeout_ms) {
    state = op.vtable->wait(op.handle, 20);
  }
  st_status_t result = ST_OK;
  if (state == ST_OP_PENDING) {
    op.vtable->cancel(op.handle);
    result = ST_ERR_TIMEOUT;
  }
  out->elapsed_ms = now_ms() - t0;
  sleep_ms(50);
  out->state = op.vtable->poll(op.handle);
  st_str_t json = {NULL, 0};
  if (op.vtable->kind == ST_OP_KIND_STREAM && op.vtable->take_stream) {
    out->status = op.vtable->take_stream(op.handle, &out->stream, &json);
  } else if (op.vtable->take_json) {
    out->status = op.vtable->take_json(op.handle, &json);
  }
  if (json.ptr) {
    out->json = malloc(json.len + 1);
    if (out->json) {
      memcpy(out->json, json.ptr, json.len);
      out->json[json.len] = '\0';
      out->json_len = json.len;
    }
    p->module->free_mem((void *)json.ptr);
  }
  op.vtable->set_notifier(op.handle, NULL, NULL);
  op.vtable->destroy(op.handle);
  sleep_ms(20);
  out->notifies = atomic_load(&count->calls);
  out->notifies_while_pending = atomic_load(&count->while_pending);
  free(count);
  return result;
}

void st_testkit_op_result_clear(st_testkit_plugin_t *p, st_testkit_op_result_t *r) {
  (void)p;
  free(r->json);
  memset(r, 0, sizeof *r);
}

st_status_t st_testkit_read_stream(const st_stream_t *stream, unsigned char **out, size_t *out_len) {
  size_t cap = 65536, len = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) return ST_ERR_INTERNAL;
  for (;;) {
    if (cap - len < 16384) {
      unsigned char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        return ST_ERR_INTERNAL;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t n = 0;
    st_status_t st = stream->io->read(stream->handle, buf + len, cap - len, &n);
    if (st != ST_OK) {
      free(buf);
      return st;
    }
    if (n == 0) break;
    len += n;
  }
  *out = buf;
  *out_len = len;
  return ST_OK;
}

void st_testkit_unload(st_testkit_plugin_t *p) {
  if (!p) return;
  if (p->module && p->module->shutdown) p->module->shutdown();
  if (!p->keep_loaded) dlclose(p->lib);
  free(p);
}
