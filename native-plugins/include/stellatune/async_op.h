/*
 * stellatune/async_op.h — the async-op protocol for slow control calls.
 *
 * What it is for.  Listing a source, opening a network stream, searching and fetching lyrics can
 * take seconds (a slow server, a hung connection). The host's UI-facing event loop must never wait
 * for them. So these calls are split: `begin_*` returns at once with an op handle, the work runs
 * on the plugin's own threads, and the host learns about completion through a notifier.
 *
 * States.  An op is PENDING until it becomes exactly one of READY, FAILED or CANCELLED, and then
 * never changes again.
 *
 *                  +--> READY      (take_* yields the result)
 *     PENDING -----+--> FAILED     (take_* yields the error code and message)
 *                  +--> CANCELLED  (after cancel; take_* yields ST_ERR_CANCELLED)
 *
 * The host's side, for orientation (the plugin must work with it):
 *   1. begin_*(…, &op)                      returns immediately
 *   2. op.vtable->set_notifier(h, fn, ud)   right away
 *   3. op.vtable->poll(h)                   once after set_notifier, then with backoff as a
 *                                           fallback (a plugin that forgets to notify is only
 *                                           slower, never stuck)
 *   4. on the notifier or a non-PENDING poll: take_json / take_stream, once
 *   5. on a deadline or a caller's abort:   cancel(h); the caller is answered at once
 *   6. destroy(h), exactly once, whatever happened — for an op that ignores cancel the host
 *      destroys it when it finally leaves PENDING, or at module shutdown.
 * The host's event loop never calls wait with a non-zero timeout; wait exists for tools, tests
 * and hosts that dedicate a thread to an op.
 *
 * Scenarios a plugin must survive.
 *   - cancel while the work is blocked in the network: abort the transfer promptly (< 100 ms).
 *   - cancel racing completion: whichever wins decides the final state; both are fine.
 *   - destroy while PENDING (module reload, host timeout): destroy must not block; the plugin
 *     cancels, and frees the op when its worker finishes. The work must not touch its instance
 *     after the op was destroyed (copy what it needs at begin, or hold a reference).
 *   - the notifier firing on a plugin thread while the host thread is inside poll/cancel: fine.
 *
 * Notifier rules.  The notifier is a host function; the plugin calls it at most once per op, from
 * any thread, when the op leaves PENDING — on completion, not only when polled. The host may block
 * briefly inside it (it relays the wake-up to its event loop), so call it without holding locks
 * that any op or instance function takes. set_notifier itself never calls the notifier; if the op
 * already left PENDING, the host's poll right after set_notifier sees it. A transition made by
 * cancel() need not be notified (the caller of cancel knows; notifying from inside cancel would
 * re-enter the host). A notifier call already under way may still be running when set_notifier
 * or destroy returns (waiting for it could deadlock a host that relays it to its own thread), so
 * the host keeps its notify function valid until the library is unloaded and identifies the op
 * through user_data rather than freeing what user_data points to at destroy.
 *
 * Ownership.  The op handle belongs to the plugin and stays valid until destroy. The vtable is
 * static plugin data. Results taken with take_* belong to the host (freed with the module's
 * free_mem; a taken stream is closed with the catalog's close_stream).
 */
#ifndef STELLATUNE_ASYNC_OP_H
#define STELLATUNE_ASYNC_OP_H

#include "stream.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t st_op_state_t;
#define ST_OP_PENDING 0u
#define ST_OP_READY 1u
#define ST_OP_FAILED 2u
#define ST_OP_CANCELLED 3u

/* Which take_* an op supports. The other take function returns ST_ERR_UNSUPPORTED. */
typedef uint32_t st_op_kind_t;
#define ST_OP_KIND_JSON 1u   /* list_items, lyrics search, lyrics fetch */
#define ST_OP_KIND_STREAM 2u /* open_stream */

/* The host's completion callback; `user_data` is the value given to set_notifier. [any-thread] */
typedef void (*st_op_notify_fn)(void *user_data);

typedef struct st_async_op_vtable {
  uint32_t struct_size; /* sizeof(st_async_op_vtable_t) */
  st_op_kind_t kind;

  /* The current state; never blocks. [any-thread] */
  st_op_state_t (*poll)(void *handle);

  /* Blocks up to timeout_ms (0 = just poll) for the op to leave PENDING; returns the state.
   * Never called with a non-zero timeout from the host's event loop. [any-thread] */
  st_op_state_t (*wait)(void *handle, uint32_t timeout_ms);

  /* Requests cancellation; never blocks. A no-op once the op left PENDING. [any-thread] */
  void (*cancel)(void *handle);

  /* Installs the completion notifier (replacing any earlier one). Never calls it itself.
   * `notify` may be NULL to remove it. [control] */
  void (*set_notifier)(void *handle, st_op_notify_fn notify, void *user_data);

  /* KIND_JSON. READY: ST_OK and the result JSON in *out_json (owned by the host).
   * FAILED: the failure code and an optional message in *out_json (owned by the host).
   * CANCELLED: ST_ERR_CANCELLED. PENDING: ST_ERR_NOT_READY. Callable once (a PENDING answer does
   * not count); a second call returns ST_ERR_STATE. [control] */
  st_status_t (*take_json)(void *handle, st_str_t *out_json);

  /* KIND_STREAM. READY: ST_OK, the stream in *out_stream (owned by the host until it calls the
   * catalog's close_stream) and the track's metadata JSON in *out_json (e.g. {"ext":"flac"}).
   * FAILED/CANCELLED/PENDING: as take_json, *out_stream untouched. If a READY stream op is
   * destroyed without take_stream, the plugin closes the stream itself. Callable once. [control] */
  st_status_t (*take_stream)(void *handle, st_stream_t *out_stream, st_str_t *out_json);

  /* Releases the op; exactly once, in any state, never blocks (see the scenarios above).
   * [control] */
  void (*destroy)(void *handle);
} st_async_op_vtable_t;

/* An op: the plugin-owned handle and its static vtable. Filled by begin_* functions. */
typedef struct st_async_op {
  void *handle;
  const st_async_op_vtable_t *vtable;
} st_async_op_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_ASYNC_OP_H */
