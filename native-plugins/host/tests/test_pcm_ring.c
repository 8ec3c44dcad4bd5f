/* test_pcm_ring.c — the shared PCM ring: data integrity across threads and across processes
 * (fork; on Windows this executable started again as the child), flush/epoch semantics, waits
 * that wake and that time out (futexes; named events on Windows), control words. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <process.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "st_host.h"
#include "test_util.h"

#define TOTAL (4u * 1000u * 1000u)

static char g_name[64];
static const char *g_self; /* argv[0], to start a child process on Windows */

/* A small LCG (rand_r is not on every platform): chunk sizes only need to vary. */
static uint32_t next_rand(uint32_t *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return *seed >> 16;
}

static void *producer(void *arg) {
  st_pcm_ring_t *r = arg;
  float buf[1500];
  uint32_t next = 0;
  uint32_t seed = 7;
  while (next < TOTAL) {
    uint32_t n = 1 + (uint32_t)(next_rand(&seed) % 1500u);
    if (n > TOTAL - next) n = TOTAL - next;
    for (uint32_t i = 0; i < n; i++) buf[i] = (float)(next + i);
    uint32_t done = 0;
    while (done < n) {
      if (!st_pcm_ring_wait_space(r, 1, 1000)) continue;
      done += st_pcm_ring_write(r, buf + done, n - done);
    }
    next += n;
  }
  return NULL;
}

/* Reads TOTAL samples and counts those that are not the expected sequence. */
static uint32_t consume(st_pcm_ring_t *r) {
  float buf[1024];
  uint32_t next = 0, bad = 0;
  uint32_t seed = 11;
  while (next < TOTAL) {
    uint32_t want = 1 + (uint32_t)(next_rand(&seed) % 1024u);
    if (!st_pcm_ring_wait_data(r, 1, 1000)) continue;
    uint32_t n = st_pcm_ring_read(r, buf, want, 1.0f);
    for (uint32_t i = 0; i < n; i++) bad += buf[i] != (float)(next + i);
    next += n;
  }
  return bad;
}

static void test_threads(void) {
  st_pcm_ring_t *w = st_pcm_ring_create(g_name, 4096);
  CHECK(w != NULL);
  st_pcm_ring_t *rd = st_pcm_ring_open(g_name);
  CHECK(rd != NULL);
  if (!w || !rd) return;
  pthread_t t;
  pthread_create(&t, NULL, producer, w);
  CHECK_EQ_INT(consume(rd), 0);
  pthread_join(t, NULL);
  CHECK_EQ_INT(st_pcm_ring_write_index(w), TOTAL);
  CHECK_EQ_INT(st_pcm_ring_read_index(rd), TOTAL);
  st_pcm_ring_close(rd);
  st_pcm_ring_close(w);
  CHECK_EQ_INT(st_pcm_ring_unlink(g_name), 0);
}

/* The child sides, run in another process. */
static int child_consume(void) {
  st_pcm_ring_t *rd = st_pcm_ring_open(g_name);
  return rd && consume(rd) == 0 ? 0 : 1;
}

static int child_write_late(void) {
  st_pcm_ring_t *w = st_pcm_ring_open(g_name);
  st_sleep_ms(100);
  float x = 1.0f;
  return w && st_pcm_ring_write(w, &x, 1) == 1 ? 0 : 1;
}

#ifdef _WIN32
typedef intptr_t child_t;
static child_t start_child(const char *role) {
  return _spawnl(_P_NOWAIT, g_self, g_self, role, g_name, NULL);
}
static int join_child(child_t child) {
  int status = -1;
  return _cwait(&status, child, 0) == -1 ? -1 : status;
}
#else
typedef pid_t child_t;
static child_t start_child(const char *role) {
  pid_t pid = fork();
  if (pid == 0) _exit(strcmp(role, "consume") == 0 ? child_consume() : child_write_late());
  return pid;
}
static int join_child(child_t child) {
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

static void test_processes(void) {
  st_pcm_ring_t *w = st_pcm_ring_create(g_name, 8192);
  CHECK(w != NULL);
  if (!w) return;
  child_t child = start_child("consume");
  producer(w);
  CHECK_EQ_INT(join_child(child), 0);
  st_pcm_ring_close(w);
  st_pcm_ring_unlink(g_name);
}

#ifdef __linux__
static void *wake_slot3_later(void *arg) {
  struct timespec ts = {0, 100 * 1000000L};
  nanosleep(&ts, NULL);
  st_pcm_ring_wake32((st_pcm_ring_t *)arg, 3);
  return NULL;
}
#endif

static void test_flush_and_waits(void) {
  st_pcm_ring_t *r = st_pcm_ring_create(g_name, 256);
  CHECK(r != NULL);
  if (!r) return;
  CHECK(st_pcm_ring_open("/stellatune-test-missing") == NULL);
  float in[300], out[300];
  for (int i = 0; i < 300; i++) in[i] = (float)i;
  CHECK_EQ_INT(st_pcm_ring_write(r, in, 300), 256); /* full: short write */
  CHECK_EQ_INT(st_pcm_ring_space(r), 0);
  double t0 = st_now_ms();
  CHECK_EQ_INT(st_pcm_ring_wait_space(r, 1, 50), 0); /* times out, does not spin forever */
  double waited = st_now_ms() - t0;
  CHECK(waited >= 45 && waited < 500);
  CHECK_EQ_INT(st_pcm_ring_read(r, out, 100, 0.5f), 100);
  CHECK(out[10] == 5.0f); /* gain applied */
  uint32_t epoch = 0;
  CHECK_EQ_INT(st_pcm_ring_consumer_sync(r, &epoch), 0);
  CHECK_EQ_INT(st_pcm_ring_pending(r, epoch), 156); /* no flush: what fill says */
  uint64_t at = st_pcm_ring_producer_flush(r);
  CHECK_EQ_INT(at, 256);
  CHECK_EQ_INT(st_pcm_ring_pending(r, epoch), 0); /* the flush discards the 156 */
  /* Data written after the flush survives it; the stale 156 samples do not. */
  CHECK_EQ_INT(st_pcm_ring_write(r, in + 200, 50), 50);
  CHECK_EQ_INT(st_pcm_ring_fill(r), 206);
  CHECK_EQ_INT(st_pcm_ring_pending(r, epoch), 50);
  CHECK_EQ_INT(st_pcm_ring_consumer_sync(r, &epoch), 1);
  CHECK_EQ_INT(epoch, 1);
  CHECK_EQ_INT(st_pcm_ring_fill(r), 50);
  CHECK_EQ_INT(st_pcm_ring_read(r, out, 300, 1.0f), 50);
  CHECK(out[0] == 200.0f && out[49] == 249.0f); /* only post-flush data */
  CHECK_EQ_INT(st_pcm_ring_wait_data(r, 1, 20), 0);

  st_pcm_ring_set32(r, 3, 42);
  CHECK_EQ_INT(st_pcm_ring_get32(r, 3), 42);
  CHECK_EQ_INT(st_pcm_ring_add32(r, 3, 2), 44);
  CHECK_EQ_INT(st_pcm_ring_get32(r, 99), 0);
  st_pcm_ring_set64(r, 2, 1ull << 40);
  CHECK(st_pcm_ring_get64(r, 2) == 1ull << 40);
  st_pcm_ring_setf(r, 4, 0.25f);
  CHECK(st_pcm_ring_getf(r, 4) == 0.25f);
  t0 = st_now_ms();
  CHECK_EQ_INT(st_pcm_ring_wait32(r, 3, 44, 30), 0);
  CHECK(st_now_ms() - t0 >= 25);
  CHECK_EQ_INT(st_pcm_ring_wait32(r, 3, 1, 1000), 1); /* already different: returns at once */
#ifdef __linux__
  {
    /* wake32 ends a wait on the slot without changing it (closing the output's idler). */
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, wake_slot3_later, r), 0);
    t0 = st_now_ms();
    CHECK_EQ_INT(st_pcm_ring_wait32(r, 3, 44, 5000), 0);
    CHECK(st_now_ms() - t0 < 2500);
    pthread_join(t, NULL);
  }
#endif
  st_pcm_ring_close(r);
  st_pcm_ring_unlink(g_name);
}

/* A consumer asleep in wait_data is woken by a write from another process, promptly. */
static void test_wake_latency(void) {
  st_pcm_ring_t *r = st_pcm_ring_create(g_name, 1024);
  CHECK(r != NULL);
  if (!r) return;
  child_t child = start_child("write-late");
  double t0 = st_now_ms();
  CHECK_EQ_INT(st_pcm_ring_wait_data(r, 1, 5000), 1);
  double waited = st_now_ms() - t0;
  CHECK(waited >= 90 && waited < 1000);
  CHECK_EQ_INT(join_child(child), 0);
  st_pcm_ring_close(r);
  st_pcm_ring_unlink(g_name);
}

/* Gain marks: each sample gets the gain of the newest mark at or before it; a join ramps from the
 * join sample on; a flush snaps; a live change reaches the marked span. */
static void test_gain_marks(void) {
  st_pcm_ring_t *r = st_pcm_ring_create(g_name, 4096);
  CHECK(r != NULL);
  if (!r) return;
  float one[2048], out[2048];
  for (int i = 0; i < 2048; i++) one[i] = 1.0f;
  CHECK(st_pcm_ring_gain_at(r, 0) == 1.0f); /* no mark: unity */
  uint32_t a = st_pcm_ring_mark_gain(r, 0, 0.5f);
  uint32_t b = st_pcm_ring_mark_gain(r, 1000, 2.0f); /* a gapless join at sample 1000 (frame 500) */
  CHECK(a != 0 && b != 0 && a != b);
  CHECK_EQ_INT(st_pcm_ring_write(r, one, 2048), 2048);
  st_pcm_gain_state_t st = {0, 0, 0, 1.0f};
  CHECK_EQ_INT(st_pcm_ring_read_gained(r, out, 2048, 2, &st), 2048);
  CHECK(out[0] == 0.5f && out[999] == 0.5f);           /* the old gain up to the join */
  CHECK(out[1000] > 0.5f && out[1000] < 0.6f);         /* the ramp starts at the join sample */
  CHECK(out[1000 + 2 * ST_PCM_GAIN_RAMP_FRAMES] == 2.0f); /* and ends after RAMP frames */
  CHECK(out[2047] == 2.0f);
  CHECK(st_pcm_ring_set_mark_gain(r, b, 1.0f) == 1); /* a live change */
  CHECK(st_pcm_ring_set_mark_gain(r, 12345, 1.0f) == 0);
  CHECK_EQ_INT(st_pcm_ring_write(r, one, 1024), 1024);
  CHECK_EQ_INT(st_pcm_ring_read_gained(r, out, 1024, 2, &st), 1024);
  CHECK(out[0] < 2.0f && out[1023] == 1.0f);
  /* A flush: the new mark at the flush index, taken at once with snap. */
  CHECK_EQ_INT(st_pcm_ring_write(r, one, 512), 512);
  uint64_t at = st_pcm_ring_producer_flush(r);
  st_pcm_ring_mark_gain(r, at, 0.25f);
  CHECK_EQ_INT(st_pcm_ring_write(r, one, 512), 512);
  uint32_t epoch = 0;
  CHECK_EQ_INT(st_pcm_ring_consumer_sync(r, &epoch), 1);
  st.snap = 1.0f;
  CHECK_EQ_INT(st_pcm_ring_read_gained(r, out, 512, 2, &st), 512);
  CHECK(out[0] == 0.25f && out[511] == 0.25f);
  /* More marks than slots: the newest still rule. */
  for (int i = 0; i < 40; i++) st_pcm_ring_mark_gain(r, at + 512 + (uint64_t)i * 2, (float)(i + 1) / 64.0f);
  CHECK(st_pcm_ring_gain_at(r, at + 512 + 39 * 2) == 40.0f / 64.0f);
  CHECK(st_pcm_ring_mark_gain(r, at + 600, -3.0f) != 0);
  CHECK(st_pcm_ring_gain_at(r, at + 600) == 1.0f); /* a bad gain reads as unity */
  st_pcm_ring_close(r);
  st_pcm_ring_unlink(g_name);
}

int main(int argc, char **argv) {
  g_self = argv[0];
  if (argc == 3) { /* a child started by start_child on Windows */
    snprintf(g_name, sizeof g_name, "%s", argv[2]);
    return strcmp(argv[1], "consume") == 0 ? child_consume() : child_write_late();
  }
  snprintf(g_name, sizeof g_name, "/stellatune-test-%d", (int)getpid());
  test_threads();
  test_processes();
  test_flush_and_waits();
  test_wake_latency();
  test_gain_marks();
  if (st_test_failures) fprintf(stderr, "%d failure(s)\n", st_test_failures);
  return st_test_failures ? 1 : 0;
}
