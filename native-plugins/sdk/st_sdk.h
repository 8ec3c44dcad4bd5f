/*
 * st_sdk.h — the StellaTune plugin SDK: what every plugin would otherwise write by hand.
 *
 * What it is for.  The ABI (stellatune.h) is deliberately small and strict: explicit-length
 * strings freed by the plugin's own free function, an async-op vtable with exact state rules,
 * and a shutdown that must join every plugin thread. This static library implements those rules
 * once, so a plugin author writes only the capability logic:
 *
 *   - strings and errors: st_sdk_str_dup / st_sdk_str_printf allocate results the host frees with
 *     st_sdk_free (the module's free_mem), st_sdk_str_copy_foreign copies text another library
 *     allocated (cJSON's printer) into such memory; st_sdk_error fills an optional `out_error`;
 *   - config: ST_SDK_CONFIG_VTABLE builds the config vtable of an instance whose state is all in
 *     its config (st_sdk_export_no_state / st_sdk_import_no_state);
 *   - descriptors: ST_SDK_CAPABILITY / ST_SDK_DECODER_CAPABILITY build capability tables and
 *     ST_SDK_PLUGIN defines `stellatune_plugin_entry`, keeps the host table and returns a static
 *     module whose shutdown and free_mem are the SDK's;
 *   - host services: st_sdk_log, st_sdk_data_dir;
 *   - async ops: st_sdk_op_begin_json / st_sdk_op_begin_stream return an st_async_op_t at once
 *     and run the work on the SDK's worker pool (lazily started, at most
 *     st_sdk_set_max_workers() threads, default 8; further work queues). The work function
 *     completes the op with st_sdk_op_complete_json, st_sdk_op_complete_stream or st_sdk_op_fail.
 *
 * The op vtable, as async_op.h requires.
 *   - poll never blocks; wait(timeout) sleeps on a condition variable (UINT32_MAX = no limit).
 *   - cancel is immediate: a PENDING op becomes CANCELLED in the call, the work sees
 *     st_sdk_op_cancelled() (and st_sdk_op_sleep_ms / st_sdk_op_cancel_fd wake up), and whatever
 *     result it still produces is discarded and freed (a late stream is closed with its close_fn).
 *   - The notifier fires at most once, from the thread that completes the op (a pool worker),
 *     after the op's lock is released, when the work completes it (READY or FAILED). A cancel is
 *     not notified: the caller of cancel already knows, and notifying from inside cancel would
 *     re-enter the host. set_notifier never calls it. The notifier may still be running when
 *     set_notifier(NULL) or destroy returns (neither may wait for it without risking a deadlock
 *     with a host that relays it to the thread calling them), so a host should register one
 *     long-lived notifier and pass an op id, not a pointer, as user_data.
 *   - take_json / take_stream succeed once; a second call returns ST_ERR_STATE. A FAILED op yields
 *     its code and message; a CANCELLED op ST_ERR_CANCELLED; a PENDING op ST_ERR_NOT_READY.
 *   - destroy never blocks: it cancels a PENDING op and drops the host's reference; the op is
 *     freed when the worker is done with it. An untaken READY stream is closed with its close_fn.
 *   - st_sdk_shutdown (the module's shutdown) cancels every op, runs the queued ones' ctx_free,
 *     and joins every worker. Afterwards the pool starts again lazily (useful in tests).
 *
 * Lifetimes the work must respect.  The work runs on a pool thread and may outlive the op's
 * handle (destroy while PENDING) and even the instance that began it: the host destroys an
 * instance once its ops are destroyed, not once their work returned. So `ctx` must hold copies of
 * everything the work needs (or a reference the work releases), and a stream close_fn must not
 * need the instance. The SDK owns `ctx` from the begin call on and calls ctx_free exactly once on
 * the worker thread after the work returned (or without running the work, for an op cancelled
 * or destroyed before it started, or when begin fails).
 *
 * Threads.  Tags as in stellatune/threads.h, plus [op-worker]: only from inside a work function,
 * on the pool thread that runs it, with the op it was given.
 *
 * Platform.  POSIX threads (Linux, macOS). Everything is per copy of the library: a plugin loaded
 * twice (two generations) has two independent pools, counters and host pointers.
 */
#ifndef STELLATUNE_SDK_H
#define STELLATUNE_SDK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stellatune.h"

#ifdef __cplusplus
#define ST_SDK_EXTERN_C extern "C"
extern "C" {
#else
#define ST_SDK_EXTERN_C
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ST_SDK_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define ST_SDK_PRINTF(fmt_index, first_arg)
#endif

/* Number of elements of a static array. */
#define ST_SDK_COUNTOF(array) (sizeof(array) / sizeof((array)[0]))

/* ---- Strings and errors --------------------------------------------------------------------- */

/* Copies `len` bytes of `s` into a new malloc'ed, NUL-terminated buffer (the NUL is not counted)
 * that the host frees with the module's free_mem. `len == 0` yields {NULL, 0}, the ABI's empty
 * result; so does an allocation failure. [any-thread] */
st_str_t st_sdk_str_dup(const char *s, size_t len);

/* Hands text allocated by another library to the host: copies the NUL-terminated `text` into
 * *out as st_sdk_str_dup does, then frees `text` with `text_free`:
 *   return st_sdk_str_copy_foreign(out_json, cJSON_PrintUnformatted(doc), cJSON_free);
 * The copy matters when that library's allocator is process-wide and swappable (cJSON_InitHooks):
 * what the host frees with free_mem must come from the plugin's own malloc. Returns ST_OK;
 * ST_ERR_INTERNAL (and *out = {NULL, 0}) when `text` is NULL, its producer having run out of
 * memory, or the copy fails; ST_ERR_INVALID_ARG when `out` is NULL. `text` is freed in every case
 * (text_free NULL: not freed). [any-thread] */
st_status_t st_sdk_str_copy_foreign(st_str_t *out, char *text, void (*text_free)(void *));

/* printf into a new st_str_t, allocated as st_sdk_str_dup's. [any-thread] */
st_str_t st_sdk_str_printf(const char *fmt, ...) ST_SDK_PRINTF(1, 2);
st_str_t st_sdk_str_vprintf(const char *fmt, va_list ap);

/* A borrowed view of a NUL-terminated string (no allocation; NULL gives {NULL, 0}). [any-thread] */
st_str_t st_sdk_str_view(const char *cstr);

/* A malloc'ed NUL-terminated copy of a borrowed host string (NULL or empty gives ""), for APIs that
 * need C strings. Free with free()/st_sdk_free. NULL only when out of memory. [any-thread] */
char *st_sdk_cstr(const st_str_t *s);

/* Whether `s` holds exactly the bytes of `cstr` (e.g. comparing args->type_id). [any-thread] */
bool st_sdk_str_eq(const st_str_t *s, const char *cstr);

/* Frees what the functions above and the op results allocate; use it as the module's free_mem
 * (ST_SDK_PLUGIN does). NULL is ignored. [any-thread] */
void st_sdk_free(void *ptr);

/* Fills *out_error with a formatted message when out_error is not NULL; does nothing otherwise.
 * An earlier message in *out_error is freed first. [any-thread] */
void st_sdk_set_error(st_str_t *out_error, const char *fmt, ...) ST_SDK_PRINTF(2, 3);

/* st_sdk_set_error, then returns `code`: `return st_sdk_error(out_error, ST_ERR_INVALID_ARG,
 * "config: %s", why);`. [any-thread] */
st_status_t st_sdk_error(st_str_t *out_error, st_status_t code, const char *fmt, ...)
    ST_SDK_PRINTF(3, 4);

/* ---- Host services -------------------------------------------------------------------------- */

/* The host table given to stellatune_plugin_entry (stored by ST_SDK_PLUGIN), or NULL before entry
 * and after shutdown. [any-thread] */
const st_host_t *st_sdk_host(void);

/* The host's writable folder for this plugin, or NULL if there is no host. [any-thread] */
const char *st_sdk_data_dir(void);

/* Logs one printf-formatted line through host->log (to stderr when there is no host). Not for
 * realtime functions, nor while holding a lock a control call takes (the host may block briefly).
 * [any-thread] */
void st_sdk_log(st_log_level_t level, const char *fmt, ...) ST_SDK_PRINTF(2, 3);

/* ---- Config (config.h) --------------------------------------------------------------------- */

/* export_state and import_state of an instance with no state beyond its config: export gives
 * {NULL, 0} (out_state may be NULL), import accepts anything. [control] */
st_status_t st_sdk_export_no_state(void *handle, st_str_t *out_state, st_str_t *out_error);
st_status_t st_sdk_import_no_state(void *handle, const st_str_t *state, st_str_t *out_error);

/* Initialiser of an st_config_vtable_t with the given plan_update and apply_update and the
 * no-state export/import above:
 *   static const st_config_vtable_t k_config = ST_SDK_CONFIG_VTABLE(my_plan, my_apply); */
#define ST_SDK_CONFIG_VTABLE(plan_update, apply_update)                                          \
  {                                                                                              \
    (uint32_t)sizeof(st_config_vtable_t), 0u, (plan_update), (apply_update),                     \
        st_sdk_export_no_state, st_sdk_import_no_state                                           \
  }

/* Whether `config` is empty or JSON text that is an object: its first and last characters other
 * than white space are { and }. A shape check, not a parse: the host has validated the config
 * against the capability's schema, this only refuses text of another JSON type. [any] */
bool st_sdk_config_is_object(const st_str_t *config);

/* plan_update and apply_update of an instance with nothing to configure: every config that is an
 * object (st_sdk_config_is_object) hot-applies as is, anything else is rejected:
 *   static const st_config_vtable_t k_config = ST_SDK_CONFIG_VTABLE_NOTHING; [control] */
st_status_t st_sdk_plan_nothing(void *handle, const st_str_t *new_config,
                                st_config_mode_t *out_mode, st_str_t *out_reason);
st_status_t st_sdk_apply_nothing(void *handle, const st_str_t *new_config, st_str_t *out_error);
#define ST_SDK_CONFIG_VTABLE_NOTHING ST_SDK_CONFIG_VTABLE(st_sdk_plan_nothing, st_sdk_apply_nothing)

/* ---- Descriptors ---------------------------------------------------------------------------- */

/* Initialiser of a non-decoder st_capability_t:
 *   static const st_capability_t k_cap = ST_SDK_CAPABILITY(ST_CAP_DSP, "gain", "Gain",
 *                                                          "{\"type\":\"object\"}", "{}"); */
#define ST_SDK_CAPABILITY(kind, type_id, display_name, schema_json, default_config_json)          \
  {                                                                                              \
    (uint32_t)sizeof(st_capability_t), (kind), (type_id), (display_name), (schema_json),         \
        (default_config_json), NULL, 0u, 0u                                                      \
  }

/* Initialiser of a decoder st_capability_t; `exts` is a static st_ext_score_t array. */
#define ST_SDK_DECODER_CAPABILITY(type_id, display_name, schema_json, default_config_json, exts) \
  {                                                                                              \
    (uint32_t)sizeof(st_capability_t), ST_CAP_DECODER, (type_id), (display_name), (schema_json), \
        (default_config_json), (exts), (uint32_t)ST_SDK_COUNTOF(exts), 0u                        \
  }

typedef st_status_t (*st_sdk_create_fn)(const st_instance_args_t *args, st_instance_t *out_instance,
                                        st_str_t *out_error);
/* Runs inside stellatune_plugin_entry after the host was stored; false makes entry return NULL
 * (log why with st_sdk_log). [control] */
typedef bool (*st_sdk_entry_hook_fn)(const st_host_t *host);
/* Runs inside the module's shutdown after every worker was joined. [control] */
typedef void (*st_sdk_shutdown_hook_fn)(void);

/* Defines the module table and `stellatune_plugin_entry`. `capabilities` is a static array of
 * `const st_capability_t *`. Use once, at file scope, in one source file of the plugin:
 *   static const st_capability_t *const k_caps[] = {&k_source, &k_lyrics};
 *   ST_SDK_PLUGIN("{\"id\":\"org.example.x\",…}", k_caps, my_create_instance) */
#define ST_SDK_PLUGIN(metadata_json, capabilities, create_instance)                              \
  ST_SDK_PLUGIN_EX(metadata_json, capabilities, create_instance, NULL, NULL)

/* As ST_SDK_PLUGIN with an entry hook and a shutdown hook (each may be NULL). */
#define ST_SDK_PLUGIN_EX(metadata_json, capabilities, create_instance, on_entry, on_shutdown)    \
  static void st_sdk_module_shutdown_(void) { st_sdk_module_shutdown(on_shutdown); }            \
  static const st_module_t st_sdk_module_ = {                                                    \
      ST_PLUGIN_API_VERSION,       (uint32_t)sizeof(st_module_t),                                \
      (metadata_json),             (uint32_t)ST_SDK_COUNTOF(capabilities),                       \
      0u,                          (capabilities),                                               \
      (create_instance),           st_sdk_module_shutdown_,                                      \
      st_sdk_free};                                                                              \
  ST_SDK_EXTERN_C ST_EXPORT const st_module_t *stellatune_plugin_entry(const st_host_t *host) {  \
    return st_sdk_module_entry(host, &st_sdk_module_, (on_entry));                               \
  }

/* What ST_SDK_PLUGIN's functions call; a plugin that writes its own entry calls them too.
 * st_sdk_module_entry stores `host` and returns `module` (NULL if on_entry returns false).
 * st_sdk_module_shutdown runs st_sdk_shutdown, then on_shutdown, then forgets the host. */
const st_module_t *st_sdk_module_entry(const st_host_t *host, const st_module_t *module,
                                       st_sdk_entry_hook_fn on_entry);
void st_sdk_module_shutdown(st_sdk_shutdown_hook_fn on_shutdown);

/* ---- Async ops ------------------------------------------------------------------------------ */

/* The op as the work function sees it (the host sees an st_async_op_t). */
typedef struct st_sdk_op st_sdk_op_t;

/* Does the slow part of a begin_* call on a pool thread and completes `op` before returning.
 * A work that returns without completing leaves the op FAILED with ST_ERR_INTERNAL. */
typedef void (*st_sdk_work_fn)(st_sdk_op_t *op, void *ctx);
typedef void (*st_sdk_ctx_free_fn)(void *ctx);
/* Closes a stream nobody took (destroyed READY op, or a result that arrived after cancel). May run
 * after the instance that opened it was destroyed, on any thread. */
typedef void (*st_sdk_stream_close_fn)(void *stream_handle);

typedef uint32_t st_sdk_op_flags_t;
/* For fixture plugins only: cancel() leaves the op PENDING (the work still sees
 * st_sdk_op_cancelled()), imitating a plugin that ignores cancellation. */
#define ST_SDK_OP_IGNORE_CANCEL 1u
/* For fixture plugins only: the notifier is never fired, imitating a plugin that forgets to. */
#define ST_SDK_OP_NO_NOTIFY 2u

/* Default and upper bound of the worker pool size. */
#define ST_SDK_DEFAULT_WORKERS 8u
#define ST_SDK_MAX_WORKERS 64u
/* Ops queued beyond this (all workers busy) make begin return ST_ERR_BUSY. */
#define ST_SDK_MAX_QUEUED 4096u

/* Starts an op of `kind` (ST_OP_KIND_JSON or ST_OP_KIND_STREAM) that runs work(op, ctx) on a
 * worker, fills *out_op and returns ST_OK at once. Takes ownership of ctx even on failure.
 * Fails with ST_ERR_INVALID_ARG (bad arguments), ST_ERR_BUSY (queue full), ST_ERR_STATE (during
 * st_sdk_shutdown) or ST_ERR_INTERNAL (no memory, no thread could be started). [control] */
st_status_t st_sdk_op_begin(st_op_kind_t kind, st_sdk_op_flags_t flags, st_sdk_work_fn work,
                            void *ctx, st_sdk_ctx_free_fn ctx_free, st_async_op_t *out_op);

/* st_sdk_op_begin(ST_OP_KIND_JSON / ST_OP_KIND_STREAM, 0, …). [control] */
st_status_t st_sdk_op_begin_json(st_sdk_work_fn work, void *ctx, st_sdk_ctx_free_fn ctx_free,
                                 st_async_op_t *out_op);
st_status_t st_sdk_op_begin_stream(st_sdk_work_fn work, void *ctx, st_sdk_ctx_free_fn ctx_free,
                                   st_async_op_t *out_op);

/* Whether the op was cancelled, destroyed or shut down; the work should stop soon and may then
 * return without a result. [any-thread] */
bool st_sdk_op_cancelled(const st_sdk_op_t *op);

/* Sleeps up to `ms` milliseconds, waking at once on cancellation. Returns true if it returned
 * because the op was cancelled. [op-worker] */
bool st_sdk_op_sleep_ms(st_sdk_op_t *op, uint32_t ms);

/* A file descriptor that becomes readable when the op is cancelled, for poll()/select() loops
 * (e.g. curl_multi_wait's extra_fds). Owned by the op: do not close or read it. -1 if it could
 * not be created, and always on Windows (see st_sdk_op_cancel_event). [op-worker] */
int st_sdk_op_cancel_fd(st_sdk_op_t *op);

#ifdef _WIN32
/* Windows: a manual-reset event HANDLE that is signalled once the op is cancelled, for
 * WaitForSingleObject/WaitForMultipleObjects loops. Owned by the op: do not close or reset it.
 * NULL if it could not be created. [op-worker] */
void *st_sdk_op_cancel_event(st_sdk_op_t *op);
#endif

/* Completes a JSON op READY with a copy of `len` bytes of `json`. Returns false if the result was
 * discarded (the op was cancelled or destroyed, or already completed). [op-worker] */
bool st_sdk_op_complete_json(st_sdk_op_t *op, const char *json, size_t len);

/* As st_sdk_op_complete_json, but takes ownership of `json` (malloc'ed, e.g. by cJSON_Print),
 * avoiding a copy; it is freed when discarded. [op-worker] */
bool st_sdk_op_complete_json_owned(st_sdk_op_t *op, char *json, size_t len);

/* Completes a stream op READY with `stream` and a copy of its metadata JSON. If the op was
 * cancelled or destroyed, or nobody takes the stream, close_fn(stream.handle) is called (now or
 * at destroy). [op-worker] */
bool st_sdk_op_complete_stream(st_sdk_op_t *op, st_stream_t stream, const char *meta_json,
                               size_t meta_len, st_sdk_stream_close_fn close_fn);

/* Completes the op FAILED with `code` (ST_OK is turned into ST_ERR_INTERNAL) and an optional
 * printf-formatted message (fmt may be NULL). [op-worker] */
bool st_sdk_op_fail(st_sdk_op_t *op, st_status_t code, const char *fmt, ...) ST_SDK_PRINTF(3, 4);

/* ---- Pool --------------------------------------------------------------------------------- */

/* Sets the maximum number of worker threads (clamped to 1..ST_SDK_MAX_WORKERS). Existing threads
 * are kept; the bound applies to threads started later. [control] */
void st_sdk_set_max_workers(uint32_t n);

/* Cancels every op, frees the queued ones' contexts and joins every worker thread; blocks as long
 * as the slowest running work takes to return. Ops the host has not destroyed yet stay valid
 * (CANCELLED) until it does. Never call it from a work function. [control] */
void st_sdk_shutdown(void);

/* The number of ops alive in this copy of the library (begun and not yet freed). [any-thread] */
size_t st_sdk_live_ops(void);

/* Counters of this copy of the library since it was loaded, for tests and diagnostics. */
typedef struct st_sdk_stats {
  uint64_t live_ops;          /* = st_sdk_live_ops() */
  uint64_t ops_begun;         /* successful begin calls */
  uint64_t cancel_calls;      /* cancel() on a PENDING op, including ignored ones */
  uint64_t ops_cancelled;     /* ops that became CANCELLED (by cancel, destroy or shutdown) */
  uint64_t destroyed_pending; /* destroy() on a PENDING op */
  uint64_t results_discarded; /* results that arrived after cancel/destroy and were freed */
  uint64_t notifies;          /* notifier calls made */
  uint32_t workers;           /* worker threads alive now */
  uint32_t queued;            /* ops waiting for a worker now */
} st_sdk_stats_t;

/* Fills *out with the counters. [any-thread] */
void st_sdk_get_stats(st_sdk_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_SDK_H */
