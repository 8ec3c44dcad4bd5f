/*
 * plugin_harness.h — what the built-in plugins' C tests need of a host: load the built plugin with
 * dlopen, call its entry with a host table, create instances, run the case named on the command
 * line, and count heap allocations (to prove the realtime functions allocate nothing). Shared by
 * the tests of every plugin folder (st_add_plugin_tests, cmake/StellatunePluginTests.cmake, puts
 * this folder on their include path); it is not the host (the TypeScript runtime is).
 *
 * Include it in exactly one translation unit of a test executable: it defines malloc & co. so
 * that calls from the dlopen-ed plugin and its libraries are counted (glibc only; the executable
 * must be linked with ENABLE_EXPORTS so the plugin binds to these definitions).
 */
#ifndef ST_PLUGIN_HARNESS_H
#define ST_PLUGIN_HARNESS_H

#include "test_platform.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_check.h"
#include "stellatune/plugin.h"

/* ---- Allocation counter ------------------------------------------------------------------- */

#if defined(__GLIBC__)
#define HARNESS_COUNTS_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static atomic_long g_allocs;
void *malloc(size_t n) {
  atomic_fetch_add(&g_allocs, 1);
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
  atomic_fetch_add(&g_allocs, 1);
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  atomic_fetch_add(&g_allocs, 1);
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
static inline long harness_alloc_count(void) { return atomic_load(&g_allocs); }
#else
#define HARNESS_COUNTS_ALLOCS 0
static inline long harness_alloc_count(void) { return 0; }
#endif

/* ---- Host table and plugin loading -------------------------------------------------------- */

static inline void harness_log(void *host_data, st_log_level_t level, const char *message,
                               size_t len) {
  (void)host_data;
  fprintf(stderr, "[plugin log %u] %.*s\n", (unsigned)level, (int)len, message);
}

typedef struct harness_plugin {
  void *lib;
  const st_module_t *module;
  st_host_t host;
} harness_plugin_t;

static inline int harness_load(harness_plugin_t *p, const char *path, const char *data_dir) {
  memset(p, 0, sizeof *p);
  p->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (p->lib == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    return -1;
  }
  st_plugin_entry_fn entry = (st_plugin_entry_fn)dlsym(p->lib, ST_PLUGIN_ENTRY_SYMBOL);
  if (entry == NULL) {
    fprintf(stderr, "%s: no %s\n", path, ST_PLUGIN_ENTRY_SYMBOL);
    return -1;
  }
  p->host.abi_version = ST_PLUGIN_API_VERSION;
  p->host.struct_size = sizeof(st_host_t);
  p->host.log = harness_log;
  p->host.data_dir = data_dir;
  p->module = entry(&p->host);
  if (p->module == NULL || p->module->abi_version != ST_PLUGIN_API_VERSION) {
    fprintf(stderr, "%s: no module or wrong ABI version\n", path);
    return -1;
  }
  return 0;
}

static inline void harness_unload(harness_plugin_t *p) {
  if (p->module != NULL && p->module->shutdown != NULL) {
    p->module->shutdown();
  }
  if (p->lib != NULL) {
    dlclose(p->lib);
  }
  memset(p, 0, sizeof *p);
}

static inline const st_capability_t *harness_cap(const harness_plugin_t *p,
                                                const char *type_id) {
  for (uint32_t i = 0; i < p->module->capability_count; i++) {
    const st_capability_t *c = p->module->capabilities[i];
    if (strcmp(c->type_id, type_id) == 0) {
      return c;
    }
  }
  return NULL;
}

static inline st_str_t harness_str(const char *s) {
  st_str_t r = {s, s != NULL ? strlen(s) : 0};
  return r;
}

static inline void harness_free_str(const harness_plugin_t *p, st_str_t *s) {
  if (s->ptr != NULL) {
    p->module->free_mem((void *)s->ptr);
  }
  s->ptr = NULL;
  s->len = 0;
}

/* Creates an instance; on failure prints the plugin's message. */
static inline st_status_t harness_create(const harness_plugin_t *p, st_capability_kind_t kind,
                                  const char *type_id, const char *config, st_audio_spec_t spec,
                                  st_instance_t *out) {
  st_instance_args_t args;
  memset(&args, 0, sizeof args);
  args.struct_size = sizeof args;
  args.kind = kind;
  args.type_id = harness_str(type_id);
  args.config_json = harness_str(config);
  args.spec = spec;
  st_str_t err = {NULL, 0};
  st_status_t st = p->module->create_instance(&args, out, &err);
  if (st != ST_OK && err.ptr != NULL) {
    fprintf(stderr, "create_instance(%s): %d %.*s\n", type_id, st, (int)err.len, err.ptr);
  }
  harness_free_str(p, &err);
  return st;
}

/* ---- Cases ------------------------------------------------------------------------------- */

typedef struct harness_case {
  const char *name;
  void (*run)(void);
} harness_case_t;

/* Runs the case called `name`, unloads the plugin and returns the exit code (harness_result);
 * 2 for a name that is not in `cases`. */
static inline int harness_run_case(harness_plugin_t *p, const char *name,
                                   const harness_case_t *cases, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (strcmp(cases[i].name, name) == 0) {
      cases[i].run();
      harness_unload(p);
      return harness_result();
    }
  }
  fprintf(stderr, "unknown case %s\n", name);
  return 2;
}

/* ---- Files --------------------------------------------------------------------------------- */

/* Reads a whole file; returns NULL if it cannot. *out_len is the byte count. */
static inline void *harness_read_file(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = malloc(n > 0 ? (size_t)n : 1);
  size_t got = buf != NULL ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  *out_len = got;
  return buf;
}

static inline int harness_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return -1;
  }
  size_t put = fwrite(data, 1, len, f);
  return fclose(f) == 0 && put == len ? 0 : -1;
}

static inline const char *harness_join(char *buf, size_t cap, const char *dir,
                                       const char *name) {
  snprintf(buf, cap, "%s/%s", dir, name);
  return buf;
}

#endif /* ST_PLUGIN_HARNESS_H */
