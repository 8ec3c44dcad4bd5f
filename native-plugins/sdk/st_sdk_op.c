/* st_sdk_op.c — async ops (async_op.h) run on a lazily started, bounded worker pool.
 *
 * Locking.  `g_pool.mu` guards the queue, the thread list and the registry of live ops;
 * `op->mu` guards one op. Order: pool lock before op lock, never the reverse. The notifier, ctx_free,
 * stream close functions and the work itself always run with no lock held.
 *
 * Lifetime.  An op has two references: the host's (dropped by destroy) and the worker's (dropped
 * when the work has returned and ctx_free ran). Whoever drops the last frees it. */
/* POSIX.1-2008 (clock_gettime, CLOCK_MONOTONIC, pthread_condattr_setclock, sigset_t): a strict
 * -std=c11 build declares none of them otherwise. Before any system header. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1
#endif
#include "st_sdk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#endif

struct st_sdk_op {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* broadcast on leaving PENDING and on cancel */
  st_op_kind_t kind;
  st_sdk_op_flags_t flags;
  atomic_bool cancel_requested;

  /* Guarded by mu. */
  st_op_state_t state;
  uint32_t refs;
  bool destroyed;
  bool completed; /* the work delivered (or its result was discarded) */
  bool taken;
  st_op_notify_fn notify;
  void *notify_data;
#ifdef _WIN32
  HANDLE cancel_event; /* manual-reset, set on cancel; created on first st_sdk_op_cancel_event */
#else
  int cancel_pipe[2];
#endif
  /* The result: READY json / stream metadata, or the FAILED message. */
  st_status_t code;
  char *text;
  size_t text_len;
  bool has_stream;
  st_stream_t stream;
  st_sdk_stream_close_fn close_fn;

  /* Set at begin, used by the worker only. */
  st_sdk_work_fn work;
  void *ctx;
  st_sdk_ctx_free_fn ctx_free;

  /* Guarded by the pool lock. */
  st_sdk_op_t *queue_next;
  st_sdk_op_t *reg_prev;
  st_sdk_op_t *reg_next;
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t work_cv;
  st_sdk_op_t *queue_head;
  st_sdk_op_t *queue_tail;
  uint32_t queued;
  uint32_t idle;
  uint32_t max_workers;
  uint32_t thread_count;
  pthread_t threads[ST_SDK_MAX_WORKERS];
  bool stopping;
  st_sdk_op_t *registry;
} g_pool = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, ST_SDK_DEFAULT_WORKERS,
    0, {0}, false, NULL};

/* The spawner (guarded by the pool lock): the thread that grows the pool, so that a begin call
 * (on the host's control thread, its event loop) never creates a thread once the first worker
 * runs. pthread_create allocates the new thread's TLS under the dynamic loader's lock, and another
 * host thread inside dlopen or dlclose holds that lock: a begin call waited 50-80 ms for it. */
static pthread_cond_t g_spawn_cv = PTHREAD_COND_INITIALIZER;
static pthread_t g_spawner;
static bool g_spawner_started;
static uint32_t g_spawn_wanted; /* workers asked of the spawner and not yet started */

static struct {
  atomic_uint_fast64_t live_ops;
  atomic_uint_fast64_t ops_begun;
  atomic_uint_fast64_t cancel_calls;
  atomic_uint_fast64_t ops_cancelled;
  atomic_uint_fast64_t destroyed_pending;
  atomic_uint_fast64_t results_discarded;
  atomic_uint_fast64_t notifies;
} g_stats;

/* ---- Time ----------------------------------------------------------------------------------- */

/* Condvar deadlines count on the monotonic clock where pthread_condattr_setclock supports it. macOS
 * condvars only time out against the wall clock; winpthreads refuses CLOCK_MONOTONIC and always
 * reads deadlines as wall-clock time, so a monotonic deadline there lies in the past and every
 * timed wait returns at once. */
#if defined(__APPLE__) || defined(_WIN32)
#define ST_SDK_CLOCK CLOCK_REALTIME
#else
#define ST_SDK_CLOCK CLOCK_MONOTONIC
#define ST_SDK_COND_SETCLOCK 1
#endif

static struct timespec deadline_after_ms(uint32_t ms) {
  struct timespec ts;
  clock_gettime(ST_SDK_CLOCK, &ts);
  ts.tv_sec += (time_t)(ms / 1000u);
  ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static void init_cond(pthread_cond_t *cv) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
#ifdef ST_SDK_COND_SETCLOCK
  pthread_condattr_setclock(&attr, ST_SDK_CLOCK);
#endif
  pthread_cond_init(cv, &attr);
  pthread_condattr_destroy(&attr);
}

/* ---- Op internals --------------------------------------------------------------------------- */

static void op_free(st_sdk_op_t *op) {
  pthread_mutex_lock(&g_pool.mu);
  if (op->reg_prev != NULL) op->reg_prev->reg_next = op->reg_next;
  else g_pool.registry = op->reg_next;
  if (op->reg_next != NULL) op->reg_next->reg_prev = op->reg_prev;
  pthread_mutex_unlock(&g_pool.mu);

  /* destroy closes an untaken stream; this only catches a result that raced in afterwards. */
  if (op->has_stream && op->close_fn != NULL) op->close_fn(op->stream.handle);
  free(op->text);
#ifdef _WIN32
  if (op->cancel_event != NULL) CloseHandle(op->cancel_event);
#else
  if (op->cancel_pipe[0] >= 0) close(op->cancel_pipe[0]);
  if (op->cancel_pipe[1] >= 0) close(op->cancel_pipe[1]);
#endif
  pthread_cond_destroy(&op->cv);
  pthread_mutex_destroy(&op->mu);
  free(op);
  atomic_fetch_sub(&g_stats.live_ops, 1);
}

static void op_unref(st_sdk_op_t *op) {
  pthread_mutex_lock(&op->mu);
  uint32_t refs = --op->refs;
  pthread_mutex_unlock(&op->mu);
  if (refs == 0) op_free(op);
}

/* Marks the op cancelled and wakes its sleepers. `force` moves it to CANCELLED even when it ignores
 * cancel (destroy, shutdown). Called with op->mu held. */
static void op_cancel_locked(st_sdk_op_t *op, bool force) {
  atomic_store(&op->cancel_requested, true);
  if (op->state == ST_OP_PENDING && (force || (op->flags & ST_SDK_OP_IGNORE_CANCEL) == 0)) {
    op->state = ST_OP_CANCELLED;
    atomic_fetch_add(&g_stats.ops_cancelled, 1);
  }
#ifdef _WIN32
  if (op->cancel_event != NULL) SetEvent(op->cancel_event);
#else
  if (op->cancel_pipe[1] >= 0) {
    char byte = 1;
    ssize_t ignored = write(op->cancel_pipe[1], &byte, 1);
    (void)ignored; /* a full pipe is already readable */
  }
#endif
  pthread_cond_broadcast(&op->cv);
}

/* Moves a PENDING op to `state` with its result, or discards the result if the op was cancelled,
 * destroyed or already completed. Takes ownership of `text` and of `stream`. */
static bool op_deliver(st_sdk_op_t *op, st_op_state_t state, st_status_t code, char *text,
                       size_t text_len, const st_stream_t *stream, st_sdk_stream_close_fn close_fn) {
  st_op_notify_fn notify = NULL;
  void *notify_data = NULL;

  pthread_mutex_lock(&op->mu);
  bool accept = !op->completed && !op->destroyed && op->state == ST_OP_PENDING;
  op->completed = true;
  if (accept) {
    op->state = state;
    op->code = code;
    op->text = text;
    op->text_len = text_len;
    if (stream != NULL) {
      op->has_stream = true;
      op->stream = *stream;
      op->close_fn = close_fn;
    }
    if ((op->flags & ST_SDK_OP_NO_NOTIFY) == 0) {
      notify = op->notify;
      notify_data = op->notify_data;
    }
    pthread_cond_broadcast(&op->cv);
  }
  pthread_mutex_unlock(&op->mu);

  if (!accept) {
    free(text);
    if (stream != NULL && close_fn != NULL) close_fn(stream->handle);
    atomic_fetch_add(&g_stats.results_discarded, 1);
    return false;
  }
  /* The worker still holds its reference, so the op outlives this call even if the host destroys
   * it from inside the notifier. */
  if (notify != NULL) {
    atomic_fetch_add(&g_stats.notifies, 1);
    notify(notify_data);
  }
  return true;
}

/* ---- The vtable ----------------------------------------------------------------------------- */

static st_op_state_t op_poll(void *handle) {
  st_sdk_op_t *op = handle;
  pthread_mutex_lock(&op->mu);
  st_op_state_t state = op->state;
  pthread_mutex_unlock(&op->mu);
  return state;
}

static st_op_state_t op_wait(void *handle, uint32_t timeout_ms) {
  st_sdk_op_t *op = handle;
  pthread_mutex_lock(&op->mu);
  if (timeout_ms == UINT32_MAX) {
    while (op->state == ST_OP_PENDING) pthread_cond_wait(&op->cv, &op->mu);
  } else if (timeout_ms > 0) {
    struct timespec deadline = deadline_after_ms(timeout_ms);
    while (op->state == ST_OP_PENDING) {
      if (pthread_cond_timedwait(&op->cv, &op->mu, &deadline) == ETIMEDOUT) break;
    }
  }
  st_op_state_t state = op->state;
  pthread_mutex_unlock(&op->mu);
  return state;
}

static void op_cancel(void *handle) {
  st_sdk_op_t *op = handle;
  pthread_mutex_lock(&op->mu);
  if (op->state == ST_OP_PENDING) {
    atomic_fetch_add(&g_stats.cancel_calls, 1);
    op_cancel_locked(op, false);
  }
  pthread_mutex_unlock(&op->mu);
}

static void op_set_notifier(void *handle, st_op_notify_fn notify, void *user_data) {
  st_sdk_op_t *op = handle;
  pthread_mutex_lock(&op->mu);
  op->notify = notify;
  op->notify_data = user_data;
  pthread_mutex_unlock(&op->mu);
}

/* The common part of take_json/take_stream. Returns the status; on READY, hands over the text. */
static st_status_t op_take_locked(st_sdk_op_t *op, st_op_kind_t kind, st_str_t *out_json) {
  if (op->kind != kind) return ST_ERR_UNSUPPORTED;
  if (out_json == NULL) return ST_ERR_INVALID_ARG;
  out_json->ptr = NULL;
  out_json->len = 0;
  if (op->state == ST_OP_PENDING) return ST_ERR_NOT_READY;
  if (op->taken) return ST_ERR_STATE;
  op->taken = true;
  if (op->state == ST_OP_CANCELLED) return ST_ERR_CANCELLED;
  out_json->ptr = op->text;
  out_json->len = op->text_len;
  op->text = NULL;
  op->text_len = 0;
  return op->state == ST_OP_READY ? ST_OK : op->code;
}

static st_status_t op_take_json(void *handle, st_str_t *out_json) {
  st_sdk_op_t *op = handle;
  pthread_mutex_lock(&op->mu);
  st_status_t status = op_take_locked(op, ST_OP_KIND_JSON, out_json);
  pthread_mutex_unlock(&op->mu);
  return status;
}

static st_status_t op_take_stream(void *handle, st_stream_t *out_stream, st_str_t *out_json) {
  st_sdk_op_t *op = handle;
  if (out_stream == NULL) return op->kind == ST_OP_KIND_STREAM ? ST_ERR_INVALID_ARG
                                                               : ST_ERR_UNSUPPORTED;
  pthread_mutex_lock(&op->mu);
  st_status_t status = op_take_locked(op, ST_OP_KIND_STREAM, out_json);
  if (status == ST_OK) {
    *out_stream = op->stream;
    op->has_stream = false;
  }
  pthread_mutex_unlock(&op->mu);
  return status;
}

static void op_destroy(void *handle) {
  st_sdk_op_t *op = handle;
  bool close_stream = false;
  st_stream_t stream = {NULL, NULL};
  st_sdk_stream_close_fn close_fn = NULL;

  pthread_mutex_lock(&op->mu);
  op->destroyed = true;
  op->notify = NULL;
  if (op->state == ST_OP_PENDING) {
    atomic_fetch_add(&g_stats.destroyed_pending, 1);
    op_cancel_locked(op, true);
  }
  if (op->has_stream) {
    close_stream = op->close_fn != NULL;
    stream = op->stream;
    close_fn = op->close_fn;
    op->has_stream = false;
  }
  pthread_mutex_unlock(&op->mu);

  if (close_stream) close_fn(stream.handle);
  op_unref(op);
}

static const st_async_op_vtable_t k_json_vtable = {
    sizeof(st_async_op_vtable_t), ST_OP_KIND_JSON, op_poll, op_wait, op_cancel, op_set_notifier,
    op_take_json, op_take_stream, op_destroy};

static const st_async_op_vtable_t k_stream_vtable = {
    sizeof(st_async_op_vtable_t), ST_OP_KIND_STREAM, op_poll, op_wait, op_cancel, op_set_notifier,
    op_take_json, op_take_stream, op_destroy};

/* ---- The worker pool ------------------------------------------------------------------------ */

static void op_run(st_sdk_op_t *op) {
  pthread_mutex_lock(&op->mu);
  bool skip = op->destroyed || op->state != ST_OP_PENDING;
  pthread_mutex_unlock(&op->mu);

  if (!skip) op->work(op, op->ctx);
  if (op->ctx_free != NULL) op->ctx_free(op->ctx);
  op->ctx = NULL;

  pthread_mutex_lock(&op->mu);
  bool forgot = !op->completed && !op->destroyed && op->state == ST_OP_PENDING;
  pthread_mutex_unlock(&op->mu);
  if (forgot) {
    st_str_t msg = st_sdk_str_printf("the plugin's work returned without completing the op");
    op_deliver(op, ST_OP_FAILED, ST_ERR_INTERNAL, (char *)msg.ptr, msg.len, NULL, NULL);
  }
  op_unref(op);
}

static bool spawn_worker_locked(void);
static bool spawn_thread(pthread_t *thread, void *(*fn)(void *));
static void *worker_main(void *arg);

/* Grows the pool as begin asks (spawn_wanted) until shutdown. */
static void *spawner_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_pool.mu);
  for (;;) {
    while (g_spawn_wanted == 0 && !g_pool.stopping) pthread_cond_wait(&g_spawn_cv, &g_pool.mu);
    if (g_pool.stopping) break;
    g_spawn_wanted--;
    /* Still wanted: work waiting for a worker, and room for one. */
    if (g_pool.queued > g_pool.idle && g_pool.thread_count < g_pool.max_workers) {
      /* The slot is taken under the lock, the thread created without it: a begin call on the
       * host's event loop must never wait for the pool lock while pthread_create waits for the
       * loader's. Only this thread adds workers now, and shutdown joins it before it reads the
       * list. */
      uint32_t slot = g_pool.thread_count++;
      pthread_mutex_unlock(&g_pool.mu);
      pthread_t t;
      bool ok = spawn_thread(&t, worker_main);
      pthread_mutex_lock(&g_pool.mu);
      if (ok) g_pool.threads[slot] = t;
      else g_pool.thread_count--; /* the last slot: nobody else adds one meanwhile */
    }
  }
  g_spawn_wanted = 0;
  pthread_mutex_unlock(&g_pool.mu);
  return NULL;
}

static void *worker_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_pool.mu);
  /* The first worker starts the spawner (off the host's thread). Without one, begin grows the
   * pool itself as before. */
  if (!g_spawner_started && !g_pool.stopping)
    g_spawner_started = spawn_thread(&g_spawner, spawner_main);
  if (g_spawn_wanted > 0) pthread_cond_signal(&g_spawn_cv);
  for (;;) {
    while (g_pool.queue_head == NULL && !g_pool.stopping) {
      g_pool.idle++;
      pthread_cond_wait(&g_pool.work_cv, &g_pool.mu);
      g_pool.idle--;
    }
    st_sdk_op_t *op = g_pool.queue_head;
    if (op == NULL) break; /* stopping, and the queue is drained */
    g_pool.queue_head = op->queue_next;
    if (g_pool.queue_head == NULL) g_pool.queue_tail = NULL;
    g_pool.queued--;
    pthread_mutex_unlock(&g_pool.mu);

    op_run(op);

    pthread_mutex_lock(&g_pool.mu);
  }
  pthread_mutex_unlock(&g_pool.mu);
  return NULL;
}

/* Starts one more worker; called with the pool lock held. Workers block the asynchronous signals
 * so the host's signal handling stays on its own threads, but never the fault signals: a fault
 * with its signal blocked kills the process before the host's crash handler can record it
 * (Windows has no thread signal masks). */
static bool spawn_worker_locked(void) {
  if (!spawn_thread(&g_pool.threads[g_pool.thread_count], worker_main)) return false;
  g_pool.thread_count++;
  return true;
}

static bool spawn_thread(pthread_t *thread, void *(*fn)(void *)) {
#ifdef _WIN32
  int rc = pthread_create(thread, NULL, fn, NULL);
#else
  sigset_t all, old;
  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGABRT);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(thread, NULL, fn, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
  return rc == 0;
}

/* ---- Public API ----------------------------------------------------------------------------- */

st_status_t st_sdk_op_begin(st_op_kind_t kind, st_sdk_op_flags_t flags, st_sdk_work_fn work,
                            void *ctx, st_sdk_ctx_free_fn ctx_free, st_async_op_t *out_op) {
  st_status_t status = ST_OK;
  st_sdk_op_t *op = NULL;
  if (work == NULL || out_op == NULL || (kind != ST_OP_KIND_JSON && kind != ST_OP_KIND_STREAM)) {
    status = ST_ERR_INVALID_ARG;
    goto fail;
  }
  op = calloc(1, sizeof *op);
  if (op == NULL) {
    status = ST_ERR_INTERNAL;
    goto fail;
  }
  pthread_mutex_init(&op->mu, NULL);
  init_cond(&op->cv);
  op->kind = kind;
  op->flags = flags;
  atomic_init(&op->cancel_requested, false);
  op->state = ST_OP_PENDING;
  op->refs = 2; /* the host's and the worker's */
#ifndef _WIN32
  op->cancel_pipe[0] = op->cancel_pipe[1] = -1;
#endif
  op->work = work;
  op->ctx = ctx;
  op->ctx_free = ctx_free;

  pthread_mutex_lock(&g_pool.mu);
  if (g_pool.stopping) status = ST_ERR_STATE;
  else if (g_pool.queued >= ST_SDK_MAX_QUEUED) status = ST_ERR_BUSY;
  else if (g_pool.queued >= g_pool.idle + g_spawn_wanted &&
           g_pool.thread_count + g_spawn_wanted < g_pool.max_workers) {
    if (g_pool.thread_count > 0 && g_spawner_started) {
      /* The spawner starts it; the op waits in the queue meanwhile. */
      g_spawn_wanted++;
      pthread_cond_signal(&g_spawn_cv);
    } else if (!spawn_worker_locked() && g_pool.thread_count == 0)
      status = ST_ERR_INTERNAL; /* no worker at all: nobody would ever run the op */
  }
  if (status != ST_OK) {
    pthread_mutex_unlock(&g_pool.mu);
    pthread_cond_destroy(&op->cv);
    pthread_mutex_destroy(&op->mu);
    free(op);
    goto fail;
  }
  atomic_fetch_add(&g_stats.live_ops, 1);
  atomic_fetch_add(&g_stats.ops_begun, 1);
  op->reg_next = g_pool.registry;
  if (g_pool.registry != NULL) g_pool.registry->reg_prev = op;
  g_pool.registry = op;
  if (g_pool.queue_tail != NULL) g_pool.queue_tail->queue_next = op;
  else g_pool.queue_head = op;
  g_pool.queue_tail = op;
  g_pool.queued++;
  pthread_cond_signal(&g_pool.work_cv);
  pthread_mutex_unlock(&g_pool.mu);

  out_op->handle = op;
  out_op->vtable = kind == ST_OP_KIND_JSON ? &k_json_vtable : &k_stream_vtable;
  return ST_OK;

fail:
  if (ctx_free != NULL) ctx_free(ctx);
  if (out_op != NULL) {
    out_op->handle = NULL;
    out_op->vtable = NULL;
  }
  return status;
}

st_status_t st_sdk_op_begin_json(st_sdk_work_fn work, void *ctx, st_sdk_ctx_free_fn ctx_free,
                                 st_async_op_t *out_op) {
  return st_sdk_op_begin(ST_OP_KIND_JSON, 0, work, ctx, ctx_free, out_op);
}

st_status_t st_sdk_op_begin_stream(st_sdk_work_fn work, void *ctx, st_sdk_ctx_free_fn ctx_free,
                                   st_async_op_t *out_op) {
  return st_sdk_op_begin(ST_OP_KIND_STREAM, 0, work, ctx, ctx_free, out_op);
}

bool st_sdk_op_cancelled(const st_sdk_op_t *op) {
  return atomic_load(&((st_sdk_op_t *)op)->cancel_requested);
}

bool st_sdk_op_sleep_ms(st_sdk_op_t *op, uint32_t ms) {
  struct timespec deadline = deadline_after_ms(ms);
  pthread_mutex_lock(&op->mu);
  while (!atomic_load(&op->cancel_requested)) {
    if (pthread_cond_timedwait(&op->cv, &op->mu, &deadline) == ETIMEDOUT) break;
  }
  bool cancelled = atomic_load(&op->cancel_requested);
  pthread_mutex_unlock(&op->mu);
  return cancelled;
}

#ifdef _WIN32
/* Windows has no pollable descriptor to offer (curl_multi_poll's extra fds must be sockets there):
 * callers fall back to short waits, or wait on st_sdk_op_cancel_event. */
int st_sdk_op_cancel_fd(st_sdk_op_t *op) {
  (void)op;
  return -1;
}

void *st_sdk_op_cancel_event(st_sdk_op_t *op) {
  pthread_mutex_lock(&op->mu);
  if (op->cancel_event == NULL) {
    op->cancel_event = CreateEventW(NULL, TRUE, atomic_load(&op->cancel_requested), NULL);
  }
  HANDLE event = op->cancel_event;
  pthread_mutex_unlock(&op->mu);
  return event;
}
#else
static bool set_fd_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  int fdfl = fcntl(fd, F_GETFD);
  return fl >= 0 && fdfl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
         fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}

int st_sdk_op_cancel_fd(st_sdk_op_t *op) {
  pthread_mutex_lock(&op->mu);
  if (op->cancel_pipe[0] < 0) {
    int fds[2];
    if (pipe(fds) == 0) {
      if (set_fd_flags(fds[0]) && set_fd_flags(fds[1])) {
        op->cancel_pipe[0] = fds[0];
        op->cancel_pipe[1] = fds[1];
        if (atomic_load(&op->cancel_requested)) {
          char byte = 1;
          ssize_t ignored = write(fds[1], &byte, 1);
          (void)ignored;
        }
      } else {
        close(fds[0]);
        close(fds[1]);
      }
    }
  }
  int fd = op->cancel_pipe[0];
  pthread_mutex_unlock(&op->mu);
  return fd;
}
#endif

static bool fail_wrong_kind(st_sdk_op_t *op, const char *what) {
  return st_sdk_op_fail(op, ST_ERR_INTERNAL, "plugin bug: %s on an op of another kind", what);
}

bool st_sdk_op_complete_json_owned(st_sdk_op_t *op, char *json, size_t len) {
  if (op->kind != ST_OP_KIND_JSON) {
    free(json);
    return fail_wrong_kind(op, "complete_json");
  }
  return op_deliver(op, ST_OP_READY, ST_OK, json, json != NULL ? len : 0, NULL, NULL);
}

bool st_sdk_op_complete_json(st_sdk_op_t *op, const char *json, size_t len) {
  st_str_t copy = st_sdk_str_dup(json, len);
  if (len > 0 && copy.ptr == NULL) return st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  return st_sdk_op_complete_json_owned(op, (char *)copy.ptr, copy.len);
}

bool st_sdk_op_complete_stream(st_sdk_op_t *op, st_stream_t stream, const char *meta_json,
                               size_t meta_len, st_sdk_stream_close_fn close_fn) {
  if (op->kind != ST_OP_KIND_STREAM) {
    if (close_fn != NULL) close_fn(stream.handle);
    return fail_wrong_kind(op, "complete_stream");
  }
  st_str_t meta = st_sdk_str_dup(meta_json, meta_len);
  if (meta_len > 0 && meta.ptr == NULL) {
    if (close_fn != NULL) close_fn(stream.handle);
    return st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  }
  return op_deliver(op, ST_OP_READY, ST_OK, (char *)meta.ptr, meta.len, &stream, close_fn);
}

bool st_sdk_op_fail(st_sdk_op_t *op, st_status_t code, const char *fmt, ...) {
  st_str_t msg = {NULL, 0};
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    msg = st_sdk_str_vprintf(fmt, ap);
    va_end(ap);
  }
  return op_deliver(op, ST_OP_FAILED, code != ST_OK ? code : ST_ERR_INTERNAL, (char *)msg.ptr,
                    msg.len, NULL, NULL);
}

void st_sdk_set_max_workers(uint32_t n) {
  if (n < 1) n = 1;
  if (n > ST_SDK_MAX_WORKERS) n = ST_SDK_MAX_WORKERS;
  pthread_mutex_lock(&g_pool.mu);
  g_pool.max_workers = n;
  pthread_mutex_unlock(&g_pool.mu);
}

void st_sdk_shutdown(void) {
  pthread_t threads[ST_SDK_MAX_WORKERS];
  pthread_mutex_lock(&g_pool.mu);
  if (g_pool.stopping) { /* a concurrent shutdown is already joining */
    pthread_mutex_unlock(&g_pool.mu);
    return;
  }
  g_pool.stopping = true;
  for (st_sdk_op_t *op = g_pool.registry; op != NULL; op = op->reg_next) {
    pthread_mutex_lock(&op->mu);
    op_cancel_locked(op, true);
    pthread_mutex_unlock(&op->mu);
  }
  pthread_cond_broadcast(&g_pool.work_cv);
  pthread_cond_broadcast(&g_spawn_cv);
  /* The spawner first: no worker starts after the list is copied. */
  bool spawner = g_spawner_started;
  pthread_mutex_unlock(&g_pool.mu);
  if (spawner) pthread_join(g_spawner, NULL);
  pthread_mutex_lock(&g_pool.mu);
  g_spawner_started = false;
  g_spawn_wanted = 0;
  uint32_t count = g_pool.thread_count;
  memcpy(threads, g_pool.threads, count * sizeof threads[0]);
  pthread_mutex_unlock(&g_pool.mu);

  /* Workers drain the queue (cancelled ops only run their ctx_free) and exit. */
  for (uint32_t i = 0; i < count; i++) pthread_join(threads[i], NULL);

  pthread_mutex_lock(&g_pool.mu);
  g_pool.thread_count = 0;
  g_pool.stopping = false;
  pthread_mutex_unlock(&g_pool.mu);
}

size_t st_sdk_live_ops(void) { return (size_t)atomic_load(&g_stats.live_ops); }

void st_sdk_get_stats(st_sdk_stats_t *out) {
  if (out == NULL) return;
  out->live_ops = atomic_load(&g_stats.live_ops);
  out->ops_begun = atomic_load(&g_stats.ops_begun);
  out->cancel_calls = atomic_load(&g_stats.cancel_calls);
  out->ops_cancelled = atomic_load(&g_stats.ops_cancelled);
  out->destroyed_pending = atomic_load(&g_stats.destroyed_pending);
  out->results_discarded = atomic_load(&g_stats.results_discarded);
  out->notifies = atomic_load(&g_stats.notifies);
  pthread_mutex_lock(&g_pool.mu);
  out->workers = g_pool.thread_count;
  out->queued = g_pool.queued;
  pthread_mutex_unlock(&g_pool.mu);
}
