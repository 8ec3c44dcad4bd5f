/* test_sdk.c — the SDK's async-op rules (async_op.h) exercised through the public vtable, the way
 * a host uses it: notifier once from a worker, prompt cancel, non-blocking destroy, single take,
 * bounded pool, shutdown joining its workers. */
#define _GNU_SOURCE
#ifndef _WIN32
#include <poll.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "st_sdk.h"
#include "test_util.h"

/* ---- Work functions ------------------------------------------------------------------------- */

typedef struct work_ctx {
  uint32_t delay_ms;  /* cancel-aware sleep before completing */
  uint32_t plain_ms;  /* plain sleep (ignores cancel) before completing */
  int mode;           /* 0 json, 1 fail, 2 nothing, 3 stream, 4 hang until cancelled (fd/event) */
  atomic_int *freed;  /* incremented by ctx_free */
} work_ctx_t;

#ifdef ST_TEST_WRAP_PTHREAD_CREATE
/* Linked with --wrap=pthread_create: the SDK's thread creations are counted by the thread that
 * made them. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
static pthread_t g_main_thread;
static atomic_int g_created_on_main;
static atomic_int g_created_elsewhere;
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg) {
  if (pthread_equal(pthread_self(), g_main_thread)) atomic_fetch_add(&g_created_on_main, 1);
  else atomic_fetch_add(&g_created_elsewhere, 1);
  return __real_pthread_create(t, a, fn, arg);
}
#endif

static atomic_int g_running;
static atomic_int g_max_running;
static atomic_int g_streams_closed;
static atomic_int g_work_saw_cancel;

static void close_stream(void *handle) {
  free(handle);
  atomic_fetch_add(&g_streams_closed, 1);
}

static void test_work(st_sdk_op_t *op, void *arg) {
  work_ctx_t *c = arg;
  int now = atomic_fetch_add(&g_running, 1) + 1;
  int prev = atomic_load(&g_max_running);
  while (now > prev && !atomic_compare_exchange_weak(&g_max_running, &prev, now)) {
  }
  if (c->plain_ms > 0) st_sleep_ms(c->plain_ms);
  if (c->delay_ms > 0 && st_sdk_op_sleep_ms(op, c->delay_ms)) atomic_fetch_add(&g_work_saw_cancel, 1);
  if (c->mode == 4) {
#ifdef _WIN32
    CHECK_EQ_INT(st_sdk_op_cancel_fd(op), -1); /* no pollable descriptor on Windows */
    HANDLE cancel_event = st_sdk_op_cancel_event(op);
    if (cancel_event != NULL && WaitForSingleObject(cancel_event, 5000) == WAIT_OBJECT_0)
      atomic_fetch_add(&g_work_saw_cancel, 1);
#else
    struct pollfd pfd = {st_sdk_op_cancel_fd(op), POLLIN, 0};
    if (poll(&pfd, 1, 5000) == 1) atomic_fetch_add(&g_work_saw_cancel, 1);
#endif
  }
  atomic_fetch_sub(&g_running, 1);
  switch (c->mode) {
  case 0: st_sdk_op_complete_json(op, "{\"ok\":true}", 11); break;
  case 1: st_sdk_op_fail(op, ST_ERR_NOT_FOUND, "no such %s", "track"); break;
  case 3: {
    st_stream_t s = {malloc(16), NULL};
    st_sdk_op_complete_stream(op, s, "{\"ext\":\"wav\"}", 13, close_stream);
    break;
  }
  default: break; /* 2: return without a result; 4: cancelled, nothing to deliver */
  }
}

static void free_ctx(void *arg) {
  work_ctx_t *c = arg;
  if (c->freed != NULL) atomic_fetch_add(c->freed, 1);
  free(c);
}

static work_ctx_t *ctx_new(int mode, uint32_t delay_ms, uint32_t plain_ms, atomic_int *freed) {
  work_ctx_t *c = calloc(1, sizeof *c);
  c->mode = mode;
  c->delay_ms = delay_ms;
  c->plain_ms = plain_ms;
  c->freed = freed;
  return c;
}

/* ---- Notifier ------------------------------------------------------------------------------- */

typedef struct notify_rec {
  atomic_int count;
  pthread_t thread;
  st_op_state_t state_seen;
  st_async_op_t op;
} notify_rec_t;

static void on_notify(void *ud) {
  notify_rec_t *r = ud;
  r->thread = pthread_self();
  r->state_seen = r->op.vtable->poll(r->op.handle); /* must not deadlock: no op lock held */
  atomic_fetch_add(&r->count, 1);
}

static bool wait_live_ops_zero(double ms) {
  double end = st_now_ms() + ms;
  while (st_sdk_live_ops() != 0 && st_now_ms() < end) st_sleep_ms(1);
  return st_sdk_live_ops() == 0;
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void test_notifier_once_from_worker(void) {
  notify_rec_t rec = {0};
  atomic_int freed = 0;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 50, 0, &freed), free_ctx, &rec.op), ST_OK);
  CHECK_EQ_INT(rec.op.vtable->kind, ST_OP_KIND_JSON);
  rec.op.vtable->set_notifier(rec.op.handle, on_notify, &rec);
  CHECK_EQ_INT(rec.op.vtable->poll(rec.op.handle), ST_OP_PENDING);
  CHECK_EQ_INT(atomic_load(&rec.count), 0); /* set_notifier never calls it */

  double end = st_now_ms() + 2000;
  while (atomic_load(&rec.count) == 0 && st_now_ms() < end) st_sleep_ms(1);
  st_sleep_ms(20);
  CHECK_EQ_INT(atomic_load(&rec.count), 1);
  CHECK(!pthread_equal(rec.thread, pthread_self()));
  CHECK_EQ_INT(rec.state_seen, ST_OP_READY);
  CHECK_EQ_INT(rec.op.vtable->poll(rec.op.handle), ST_OP_READY);

  st_str_t json = {NULL, 0};
  CHECK_EQ_INT(rec.op.vtable->take_json(rec.op.handle, &json), ST_OK);
  CHECK(json.len == 11 && memcmp(json.ptr, "{\"ok\":true}", 11) == 0);
  st_sdk_free((void *)json.ptr);
  st_str_t again = {NULL, 0};
  CHECK_EQ_INT(rec.op.vtable->take_json(rec.op.handle, &again), ST_ERR_STATE); /* take twice */
  CHECK(again.ptr == NULL);
  st_stream_t s;
  CHECK_EQ_INT(rec.op.vtable->take_stream(rec.op.handle, &s, &again), ST_ERR_UNSUPPORTED);
  rec.op.vtable->destroy(rec.op.handle);
  CHECK(wait_live_ops_zero(1000));
  CHECK_EQ_INT(atomic_load(&freed), 1);
}

static void test_wait_timeout_then_ready(void) {
  st_async_op_t op;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 150, 0, NULL), free_ctx, &op), ST_OK);
  double t0 = st_now_ms();
  CHECK_EQ_INT(op.vtable->wait(op.handle, 0), ST_OP_PENDING);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 30), ST_OP_PENDING);
  double waited = st_now_ms() - t0;
  CHECK(waited >= 29 && waited < 140);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  CHECK(st_now_ms() - t0 < 1000);
  CHECK_EQ_INT(op.vtable->take_json(op.handle, NULL), ST_ERR_INVALID_ARG);
  op.vtable->destroy(op.handle); /* READY, never taken: the result is freed */
  CHECK(wait_live_ops_zero(1000));
}

static void test_fail_and_forgotten_result(void) {
  st_async_op_t op;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(1, 0, 0, NULL), free_ctx, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, UINT32_MAX), ST_OP_FAILED);
  st_str_t msg = {NULL, 0};
  CHECK_EQ_INT(op.vtable->take_json(op.handle, &msg), ST_ERR_NOT_FOUND);
  CHECK(msg.len == 13 && memcmp(msg.ptr, "no such track", 13) == 0 && msg.ptr[13] == '\0');
  st_sdk_free((void *)msg.ptr);
  op.vtable->destroy(op.handle);

  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(2, 0, 0, NULL), free_ctx, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_FAILED);
  CHECK_EQ_INT(op.vtable->take_json(op.handle, &msg), ST_ERR_INTERNAL);
  CHECK(msg.len > 0);
  st_sdk_free((void *)msg.ptr);
  op.vtable->destroy(op.handle);
  CHECK(wait_live_ops_zero(1000));
}

static void test_cancel_hanging_op_is_prompt(void) {
  notify_rec_t rec = {0};
  atomic_int freed = 0;
  int saw_before = atomic_load(&g_work_saw_cancel);
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 60000, 0, &freed), free_ctx, &rec.op),
               ST_OK);
  rec.op.vtable->set_notifier(rec.op.handle, on_notify, &rec);
  st_sleep_ms(20); /* let the work start sleeping */
  double t0 = st_now_ms();
  rec.op.vtable->cancel(rec.op.handle);
  CHECK(st_now_ms() - t0 < 10); /* never blocks */
  CHECK_EQ_INT(rec.op.vtable->poll(rec.op.handle), ST_OP_CANCELLED); /* immediate */
  st_str_t out = {NULL, 0};
  CHECK_EQ_INT(rec.op.vtable->take_json(rec.op.handle, &out), ST_ERR_CANCELLED);
  CHECK_EQ_INT(rec.op.vtable->take_json(rec.op.handle, &out), ST_ERR_STATE);
  rec.op.vtable->cancel(rec.op.handle); /* no-op once it left PENDING */
  /* The work notices within milliseconds; its late result is discarded. */
  double end = t0 + 100;
  while (atomic_load(&freed) == 0 && st_now_ms() < end) st_sleep_ms(1);
  CHECK_EQ_INT(atomic_load(&freed), 1);
  CHECK_EQ_INT(atomic_load(&g_work_saw_cancel), saw_before + 1);
  CHECK_EQ_INT(atomic_load(&rec.count), 0); /* a cancel is not notified */
  CHECK_EQ_INT(rec.op.vtable->poll(rec.op.handle), ST_OP_CANCELLED);
  rec.op.vtable->destroy(rec.op.handle);
  CHECK(wait_live_ops_zero(1000));

  /* Same through the cancel fd a poll() loop would watch (the cancel event on Windows). */
  saw_before = atomic_load(&g_work_saw_cancel);
  freed = 0;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(4, 0, 0, &freed), free_ctx, &rec.op), ST_OK);
  st_sleep_ms(20);
  t0 = st_now_ms();
  rec.op.vtable->cancel(rec.op.handle);
  while (atomic_load(&freed) == 0 && st_now_ms() < t0 + 100) st_sleep_ms(1);
  CHECK_EQ_INT(atomic_load(&freed), 1);
  CHECK_EQ_INT(atomic_load(&g_work_saw_cancel), saw_before + 1);
  rec.op.vtable->destroy(rec.op.handle);
  CHECK(wait_live_ops_zero(1000));
}

/* wait(timeout) sleeps for the whole timeout on a PENDING op, on the clock its condvar really
 * uses (winpthreads reads condvar deadlines as wall-clock time: a monotonic deadline would make
 * it return at once), and sleep_ms likewise. */
static void test_wait_sleeps_the_full_timeout(void) {
  st_async_op_t op;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 60000, 0, NULL), free_ctx, &op), ST_OK);
  double t0 = st_now_ms();
  CHECK_EQ_INT(op.vtable->wait(op.handle, 2000), ST_OP_PENDING);
  double waited = st_now_ms() - t0;
  fprintf(stderr, "wait(2000) on a pending op returned after %.3f s\n", waited / 1000.0);
  CHECK(waited >= 1990 && waited < 4000);
  op.vtable->cancel(op.handle); /* the work's cancel-aware sleep ends early */
  CHECK_EQ_INT(op.vtable->poll(op.handle), ST_OP_CANCELLED);
  op.vtable->destroy(op.handle);
  CHECK(wait_live_ops_zero(1000));
}

static void test_destroy_pending_does_not_block(void) {
  atomic_int freed = 0;
  st_sdk_stats_t before, after;
  st_sdk_get_stats(&before);
  st_async_op_t op;
  /* The work ignores cancel for 300 ms (plain sleep). */
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 0, 300, &freed), free_ctx, &op), ST_OK);
  notify_rec_t rec = {0};
  op.vtable->set_notifier(op.handle, on_notify, &rec);
  st_sleep_ms(20);
  double t0 = st_now_ms();
  op.vtable->destroy(op.handle);
  CHECK(st_now_ms() - t0 < 10);
  CHECK_EQ_INT(st_sdk_live_ops(), 1); /* the worker still holds it */
  CHECK_EQ_INT(atomic_load(&freed), 0);
  CHECK(wait_live_ops_zero(2000));
  CHECK(st_now_ms() - t0 >= 250);
  CHECK_EQ_INT(atomic_load(&freed), 1);
  CHECK_EQ_INT(atomic_load(&rec.count), 0); /* destroyed ops never notify */
  st_sdk_get_stats(&after);
  CHECK_EQ_INT(after.destroyed_pending, before.destroyed_pending + 1);
  CHECK_EQ_INT(after.results_discarded, before.results_discarded + 1);
}

static void test_streams_taken_untaken_and_late(void) {
  int closed0 = atomic_load(&g_streams_closed);
  st_async_op_t op;
  /* Taken: the host owns the stream, the SDK must not close it. */
  CHECK_EQ_INT(st_sdk_op_begin_stream(test_work, ctx_new(3, 0, 0, NULL), free_ctx, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->kind, ST_OP_KIND_STREAM);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  st_str_t meta = {NULL, 0};
  CHECK_EQ_INT(op.vtable->take_json(op.handle, &meta), ST_ERR_UNSUPPORTED);
  st_stream_t s = {NULL, NULL};
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &s, &meta), ST_OK);
  CHECK(s.handle != NULL && meta.len == 13);
  st_stream_t s2 = {NULL, NULL};
  st_str_t meta2 = {NULL, 0};
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &s2, &meta2), ST_ERR_STATE);
  CHECK(s2.handle == NULL && meta2.ptr == NULL);
  op.vtable->destroy(op.handle);
  CHECK_EQ_INT(atomic_load(&g_streams_closed), closed0);
  close_stream((void *)s.handle);
  st_sdk_free((void *)meta.ptr);

  /* READY but never taken: destroy closes it. */
  closed0 = atomic_load(&g_streams_closed);
  CHECK_EQ_INT(st_sdk_op_begin_stream(test_work, ctx_new(3, 0, 0, NULL), free_ctx, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  op.vtable->destroy(op.handle);
  CHECK_EQ_INT(atomic_load(&g_streams_closed), closed0 + 1);

  /* Cancelled before the work delivered: the late stream is closed by the SDK. */
  closed0 = atomic_load(&g_streams_closed);
  CHECK_EQ_INT(st_sdk_op_begin_stream(test_work, ctx_new(3, 0, 100, NULL), free_ctx, &op), ST_OK);
  st_sleep_ms(20); /* the work is running (ignoring cancel in a plain sleep) */
  op.vtable->cancel(op.handle);
  CHECK_EQ_INT(op.vtable->poll(op.handle), ST_OP_CANCELLED);
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &s, &meta), ST_ERR_CANCELLED);
  CHECK(wait_live_ops_zero(10) == false);
  op.vtable->destroy(op.handle);
  CHECK(wait_live_ops_zero(2000));
  CHECK_EQ_INT(atomic_load(&g_streams_closed), closed0 + 1);
}

static void test_fixture_flags(void) {
  /* IGNORE_CANCEL: cancel leaves the op PENDING; it completes READY later and notifies. */
  notify_rec_t rec = {0};
  CHECK_EQ_INT(st_sdk_op_begin(ST_OP_KIND_JSON, ST_SDK_OP_IGNORE_CANCEL, test_work,
                               ctx_new(0, 0, 100, NULL), free_ctx, &rec.op),
               ST_OK);
  rec.op.vtable->set_notifier(rec.op.handle, on_notify, &rec);
  rec.op.vtable->cancel(rec.op.handle);
  CHECK_EQ_INT(rec.op.vtable->poll(rec.op.handle), ST_OP_PENDING);
  CHECK_EQ_INT(rec.op.vtable->wait(rec.op.handle, 5000), ST_OP_READY);
  st_sleep_ms(5);
  CHECK_EQ_INT(atomic_load(&rec.count), 1);
  rec.op.vtable->destroy(rec.op.handle);

  /* NO_NOTIFY: completes, never notifies; poll still sees it. */
  notify_rec_t quiet = {0};
  CHECK_EQ_INT(st_sdk_op_begin(ST_OP_KIND_JSON, ST_SDK_OP_NO_NOTIFY, test_work,
                               ctx_new(0, 20, 0, NULL), free_ctx, &quiet.op),
               ST_OK);
  quiet.op.vtable->set_notifier(quiet.op.handle, on_notify, &quiet);
  CHECK_EQ_INT(quiet.op.vtable->wait(quiet.op.handle, 5000), ST_OP_READY);
  st_sleep_ms(20);
  CHECK_EQ_INT(atomic_load(&quiet.count), 0);
  quiet.op.vtable->destroy(quiet.op.handle);
  CHECK(wait_live_ops_zero(1000));
}

static void test_pool_is_bounded(void) {
  enum { N = 24 };
  st_async_op_t ops[N];
  atomic_store(&g_max_running, 0);
  double t0 = st_now_ms();
  for (int i = 0; i < N; i++)
    CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 0, 50, NULL), free_ctx, &ops[i]), ST_OK);
  st_sdk_stats_t stats;
  st_sdk_get_stats(&stats);
  CHECK(stats.workers <= ST_SDK_DEFAULT_WORKERS);
  CHECK(stats.queued >= N - ST_SDK_DEFAULT_WORKERS - 1);
  for (int i = 0; i < N; i++) CHECK_EQ_INT(ops[i].vtable->wait(ops[i].handle, 5000), ST_OP_READY);
  double took = st_now_ms() - t0;
  CHECK_EQ_INT(atomic_load(&g_max_running), ST_SDK_DEFAULT_WORKERS);
  CHECK(took >= 3 * 50 - 5); /* 24 ops of 50 ms on 8 threads: three rounds */
  for (int i = 0; i < N; i++) ops[i].vtable->destroy(ops[i].handle);
  CHECK(wait_live_ops_zero(1000));
}

#ifdef ST_TEST_WRAP_PTHREAD_CREATE
/* Once its first worker runs, the pool grows from its own spawner thread: a begin call on the
 * host's event loop never creates a thread (pthread_create waits for the dynamic loader's lock,
 * which another host thread's dlopen may hold for tens of ms). */
static void test_pool_grows_off_the_calling_thread(void) {
  enum { N = 6 };
  st_sdk_shutdown(); /* a fresh pool */
  g_main_thread = pthread_self();
  atomic_store(&g_created_on_main, 0);
  atomic_store(&g_created_elsewhere, 0);
  st_async_op_t first;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 0, 0, NULL), free_ctx, &first), ST_OK);
  CHECK_EQ_INT(first.vtable->wait(first.handle, 5000), ST_OP_READY);
  first.vtable->destroy(first.handle);
  CHECK_EQ_INT(atomic_load(&g_created_on_main), 1); /* the first worker: nobody else could */
  st_sleep_ms(20);
  atomic_store(&g_max_running, 0);
  st_async_op_t ops[N];
  double t0 = st_now_ms();
  for (int i = 0; i < N; i++)
    CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 0, 100, NULL), free_ctx, &ops[i]), ST_OK);
  for (int i = 0; i < N; i++) CHECK_EQ_INT(ops[i].vtable->wait(ops[i].handle, 5000), ST_OP_READY);
  double took = st_now_ms() - t0;
  for (int i = 0; i < N; i++) ops[i].vtable->destroy(ops[i].handle);
  CHECK_EQ_INT(atomic_load(&g_created_on_main), 1);
  /* The spawner and the workers it added: the six ran side by side. */
  CHECK(atomic_load(&g_created_elsewhere) >= N);
  CHECK_EQ_INT(atomic_load(&g_max_running), N);
  CHECK(took < 100.0 * N / 2);
  CHECK(wait_live_ops_zero(1000));
  st_sdk_shutdown();
}
#endif

static void test_shutdown_joins_and_restarts(void) {
  atomic_int freed = 0;
  st_async_op_t hanging, queued[12];
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 60000, 0, &freed), free_ctx, &hanging),
               ST_OK);
  /* More hanging ops than workers, so some are still queued at shutdown. */
  for (int i = 0; i < 12; i++)
    CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 60000, 0, &freed), free_ctx, &queued[i]),
                 ST_OK);
  st_sleep_ms(20);
  double t0 = st_now_ms();
  st_sdk_shutdown();
  CHECK(st_now_ms() - t0 < 200);
  st_sdk_stats_t stats;
  st_sdk_get_stats(&stats);
  CHECK_EQ_INT(stats.workers, 0);
  CHECK_EQ_INT(stats.queued, 0);
  CHECK_EQ_INT(atomic_load(&freed), 13);        /* every ctx freed, queued ones without running */
  CHECK_EQ_INT(st_sdk_live_ops(), 13);          /* the host still holds its handles */
  CHECK_EQ_INT(hanging.vtable->poll(hanging.handle), ST_OP_CANCELLED);
  hanging.vtable->destroy(hanging.handle);
  for (int i = 0; i < 12; i++) queued[i].vtable->destroy(queued[i].handle);
  CHECK_EQ_INT(st_sdk_live_ops(), 0);

  /* The pool starts again lazily. */
  st_async_op_t op;
  CHECK_EQ_INT(st_sdk_op_begin_json(test_work, ctx_new(0, 0, 0, NULL), free_ctx, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  op.vtable->destroy(op.handle);
  st_sdk_shutdown();
  st_sdk_get_stats(&stats);
  CHECK_EQ_INT(stats.workers, 0);
  CHECK_EQ_INT(st_sdk_live_ops(), 0);
}

static void test_begin_rejects_bad_args(void) {
  atomic_int freed = 0;
  st_async_op_t op = {(void *)1, NULL};
  CHECK_EQ_INT(st_sdk_op_begin(7, 0, test_work, ctx_new(0, 0, 0, &freed), free_ctx, &op),
               ST_ERR_INVALID_ARG);
  CHECK(op.handle == NULL);
  CHECK_EQ_INT(st_sdk_op_begin_json(NULL, ctx_new(0, 0, 0, &freed), free_ctx, &op),
               ST_ERR_INVALID_ARG);
  CHECK_EQ_INT(atomic_load(&freed), 2); /* ctx is owned by begin even on failure */
  CHECK_EQ_INT(st_sdk_live_ops(), 0);
}

static int foreign_frees;
static void count_free(void *p) {
  foreign_frees++;
  free(p);
}

static void test_strings(void) {
  st_str_t s = st_sdk_str_dup("abc", 3);
  CHECK(s.len == 3 && s.ptr[3] == '\0');
  st_sdk_free((void *)s.ptr);
  s = st_sdk_str_dup("abc", 0);
  CHECK(s.ptr == NULL && s.len == 0);
  s = st_sdk_str_printf("%d-%s", 42, "x");
  CHECK(s.len == 4 && strcmp(s.ptr, "42-x") == 0);
  st_sdk_free((void *)s.ptr);

  st_sdk_set_error(NULL, "ignored %d", 1); /* NULL out_error is fine */
  st_str_t err = {NULL, 0};
  CHECK_EQ_INT(st_sdk_error(&err, ST_ERR_IO, "first"), ST_ERR_IO);
  st_sdk_set_error(&err, "second %s", "msg"); /* replaces (and frees) the first */
  CHECK(err.len == 10 && memcmp(err.ptr, "second msg", 10) == 0);
  st_sdk_free((void *)err.ptr);

  st_str_t view = {"type-idX", 7};
  CHECK(st_sdk_str_eq(&view, "type-id"));
  CHECK(!st_sdk_str_eq(&view, "type-idX"));
  char *c = st_sdk_cstr(&view);
  CHECK(strcmp(c, "type-id") == 0);
  free(c);
  c = st_sdk_cstr(NULL);
  CHECK(c != NULL && c[0] == '\0');
  free(c);

  /* Foreign text is copied into the SDK's memory and freed with its own function. */
  foreign_frees = 0;
  st_str_t out = {NULL, 0};
  CHECK_EQ_INT(st_sdk_str_copy_foreign(&out, strdup("{\"a\":1}"), count_free), ST_OK);
  CHECK(out.len == 7 && strcmp(out.ptr, "{\"a\":1}") == 0);
  CHECK_EQ_INT(foreign_frees, 1);
  st_sdk_free((void *)out.ptr);
  CHECK_EQ_INT(st_sdk_str_copy_foreign(&out, NULL, count_free), ST_ERR_INTERNAL);
  CHECK(out.ptr == NULL && out.len == 0);
  CHECK_EQ_INT(st_sdk_str_copy_foreign(NULL, strdup("x"), count_free), ST_ERR_INVALID_ARG);
  CHECK_EQ_INT(foreign_frees, 2); /* freed even when it cannot be handed on */
}

static void test_config_no_state(void) {
  static const st_config_vtable_t vt = ST_SDK_CONFIG_VTABLE(NULL, NULL);
  CHECK(vt.struct_size == sizeof vt && vt.export_state == st_sdk_export_no_state &&
        vt.import_state == st_sdk_import_no_state);
  st_str_t state = {"stale", 5};
  CHECK_EQ_INT(vt.export_state(NULL, &state, NULL), ST_OK);
  CHECK(state.ptr == NULL && state.len == 0);
  CHECK_EQ_INT(vt.export_state(NULL, NULL, NULL), ST_OK);
  st_str_t in = {"{\"x\":1}", 7};
  CHECK_EQ_INT(vt.import_state(NULL, &in, NULL), ST_OK);
}

static void test_config_nothing(void) {
  static const st_config_vtable_t vt = ST_SDK_CONFIG_VTABLE_NOTHING;
  const st_str_t empty = {NULL, 0}, object = {" {\"a\": [1]}\n", 12}, array = {"[]", 2},
                 number = {"3", 1}, open_brace = {"{", 1};
  CHECK(st_sdk_config_is_object(&empty) && st_sdk_config_is_object(&object));
  CHECK(!st_sdk_config_is_object(&array) && !st_sdk_config_is_object(&number) &&
        !st_sdk_config_is_object(&open_brace));
  st_config_mode_t mode = ST_CONFIG_REJECT;
  st_str_t reason = {NULL, 0};
  CHECK_EQ_INT(vt.plan_update(NULL, &object, &mode, &reason), ST_OK);
  CHECK_EQ_INT(mode, ST_CONFIG_HOT_APPLY);
  CHECK_EQ_INT(vt.plan_update(NULL, &array, &mode, &reason), ST_OK);
  CHECK_EQ_INT(mode, ST_CONFIG_REJECT);
  CHECK(reason.ptr != NULL && strstr(reason.ptr, "JSON object") != NULL);
  st_sdk_free((void *)reason.ptr);
  CHECK_EQ_INT(vt.apply_update(NULL, &object, NULL), ST_OK);
  st_str_t error = {NULL, 0};
  CHECK_EQ_INT(vt.apply_update(NULL, &number, &error), ST_ERR_INVALID_ARG);
  st_sdk_free((void *)error.ptr);
}

int main(void) {
  RUN(test_strings);
  RUN(test_config_no_state);
  RUN(test_config_nothing);
  RUN(test_begin_rejects_bad_args);
  RUN(test_notifier_once_from_worker);
  RUN(test_wait_timeout_then_ready);
  RUN(test_fail_and_forgotten_result);
  RUN(test_cancel_hanging_op_is_prompt);
  RUN(test_wait_sleeps_the_full_timeout);
  RUN(test_destroy_pending_does_not_block);
  RUN(test_streams_taken_untaken_and_late);
  RUN(test_fixture_flags);
  RUN(test_pool_is_bounded);
  RUN(test_shutdown_joins_and_restarts);
#ifdef ST_TEST_WRAP_PTHREAD_CREATE
  RUN(test_pool_grows_off_the_calling_thread);
#endif
  st_sdk_shutdown();
  if (st_test_failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", st_test_failures);
    return 1;
  }
  return 0;
}
