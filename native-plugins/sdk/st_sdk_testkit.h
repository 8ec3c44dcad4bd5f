/*
 * st_sdk_testkit.h — the plugin author's test kit: load your plugin the way the player does and
 * drive it from a plain C test (ctest, any runner).
 *
 *   st_testkit_plugin_t *p = st_testkit_load("build/my-plugin.so", NULL, err, sizeof err);
 *   st_instance_t inst;
 *   st_testkit_create(p, ST_CAP_SOURCE_CATALOG, "my-type", "{\"folder\":\"/tmp/music\"}", &inst, err, sizeof err);
 *   const st_source_vtable_t *vt = (const st_source_vtable_t *)inst.vtable;
 *   st_async_op_t op;
 *   vt->begin_list_items(inst.handle, &(st_str_t){"{}", 2}, &op);
 *   st_testkit_op_result_t r;
 *   st_testkit_run_op(p, op, 5000, &r);        // READY? notified exactly once? the JSON
 *   ...
 *   st_testkit_op_result_clear(p, &r);
 *   st_testkit_destroy(&inst);
 *   st_testkit_unload(p);                       // shutdown, then dlclose
 *
 * Memory checkers.  With ST_TESTKIT_KEEP_LOADED=1 in the environment (or keep_loaded set in
 * st_testkit_load_ex), unload runs the module's shutdown but never dlcloses the library, so
 * valgrind and ASan can still name the plugin's functions in their leak reports:
 *   ST_TESTKIT_KEEP_LOADED=1 valgrind --leak-check=full ./my_plugin_test
 *
 * Not part of a plugin: link it into test programs only (StellaTune::testkit, or
 * -lstellatune_sdk_testkit -ldl -pthread). POSIX (dlopen).
 */
#ifndef STELLATUNE_SDK_TESTKIT_H
#define STELLATUNE_SDK_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stellatune.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_testkit_plugin st_testkit_plugin_t;

/* Loads `path` (dlopen), calls its entry with a host table (log lines go to stderr, data_dir is
 * `data_dir` or a fresh folder under $TMPDIR) and checks the ABI version and the module table.
 * NULL on failure, with the reason in err. */
st_testkit_plugin_t *st_testkit_load(const char *path, const char *data_dir, char *err, size_t err_len);
st_testkit_plugin_t *st_testkit_load_ex(const char *path, const char *data_dir, bool keep_loaded, char *err,
                                        size_t err_len);

const st_module_t *st_testkit_module(const st_testkit_plugin_t *p);
/* The capability of `kind` named `type_id`, or NULL. */
const st_capability_t *st_testkit_capability(const st_testkit_plugin_t *p, st_capability_kind_t kind,
                                             const char *type_id);
/* Log lines the plugin wrote through host->log so far. */
unsigned st_testkit_log_count(const st_testkit_plugin_t *p);

/* create_instance with `config_json` (NULL: the capability's default config) and, for DSPs, a
 * 48 kHz stereo spec. The plugin's error message, if any, lands in err. */
st_status_t st_testkit_create(st_testkit_plugin_t *p, st_capability_kind_t kind, const char *type_id,
                              const char *config_json, st_instance_t *out, char *err, size_t err_len);
void st_testkit_destroy(st_instance_t *inst);

/* What an op ended with. json (READY JSON op, or a FAILED op's message) is the plugin's memory:
 * release it with st_testkit_op_result_clear. */
typedef struct st_testkit_op_result {
  st_op_state_t state;   /* READY, FAILED or CANCELLED; PENDING when it timed out */
  st_status_t status;    /* what take_* returned */
  char *json;            /* NUL-terminated, or NULL */
  size_t json_len;
  st_stream_t stream;    /* READY stream op: the stream (close it with the catalog's close_stream) */
  unsigned notifies;     /* notifier calls (the ABI wants exactly 1 once the op left PENDING) */
  unsigned notifies_while_pending; /* calls made while the op still polled PENDING (a bug) */
  double elapsed_ms;     /* from run_op until the op left PENDING */
} st_testkit_op_result_t;

/* Installs a counting notifier, waits up to timeout_ms for the op to leave PENDING (cancelling it
 * then), waits 50 ms more for late notifier calls, takes the result and destroys the op.
 * Returns ST_OK when it left PENDING in time, ST_ERR_TIMEOUT otherwise. */
st_status_t st_testkit_run_op(st_testkit_plugin_t *p, st_async_op_t op, uint32_t timeout_ms,
                              st_testkit_op_result_t *out);
void st_testkit_op_result_clear(st_testkit_plugin_t *p, st_testkit_op_result_t *r);

/* Reads `stream` from its current position to the end into a malloc'ed buffer (free()). */
st_status_t st_testkit_read_stream(const st_stream_t *stream, unsigned char **out, size_t *out_len);

/* Calls the module's shutdown, then dlcloses the library (unless kept loaded) and frees `p`. */
void st_testkit_unload(st_testkit_plugin_t *p);

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_SDK_TESTKIT_H */
