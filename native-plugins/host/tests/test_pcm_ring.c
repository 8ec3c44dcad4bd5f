/* test_pcm_ring.c — the shared PCM ring: data integrity across threads and across processes
 * (fork), flush/epoch semantics, futex waits that wake and that time out, control words. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "st_host.h"
#include "test_util.h"

#define TOTAL (4u * 1000u * 1000u)

static char g_name[64];

static void *producer(void *arg) {
  st_pcm_ring_t *r = arg;
  float buf[1500];
  uint32_t next = 0;
  unsigned seed = 7;
  while (next < TOTAL) {
    uint32_t n = 1 + (uint32_t)(rand_r(&seed) % 1500u);
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
  unsigned seed = 11;
  while (next < TOTAL) {
    uint32_t want = 1 + (uint32_t)(rand_r(&seed) % 1024u);
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

static void test_processes(void) {
  st_pcm_ring_t *w = st_pcm_ring_create(g_name, 8192);
  CHECK(w != NULL);
  if (!w) return;
  pid_t pid = fork();
  if (pid == 0) {
    st_pcm_ring_t *rd = st_pcm_ring_open(g_name);
    _exit(rd && consume(rd) == 0 ? 0 : 1);
  }
  producer(w);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  st_pcm_ring_close(w);
  st_pcm_ring_unlink(g_name);
}

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
  uint64_t at = st_pcm_ring_producer_flush(r);
  CHECK_EQ_INT(at, 256);
  /* Data written after the flush survives it; the stale 156 samples do not. */
  CHECK_EQ_INT(st_pcm_ring_write(r, in + 200, 50), 50);
  CHECK_EQ_INT(st_pcm_ring_fill(r), 206);
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
  st_pcm_ring_close(r);
  st_pcm_ring_unlink(g_name);
}

/* A consumer asleep in wait_data is woken by a write from another process, promptly. */
static void test_wake_latency(void) {
  st_pcm_ring_t *r = st_pcm_ring_create(g_name, 1024);
  CHECK(r != NULL);
  if (!r) return;
  pid_t pid = fork();
  if (pid == 0) {
    st_pcm_ring_t *w = st_pcm_ring_open(g_name);
    usleep(100 * 1000);
    float x = 1.0f;
    st_pcm_ring_write(w, &x, 1);
    _exit(0);
  }
  double t0 = st_now_ms();
  CHECK_EQ_INT(st_pcm_ring_wait_data(r, 1, 5000), 1);
  double waited = st_now_ms() - t0;
  CHECK(waited >= 90 && waited < 1000);
  waitpid(pid, NULL, 0);
  st_pcm_ring_close(r);
  st_pcm_ring_unlink(g_name);
}

int main(void) {
  snprintf(g_name, sizeof g_name, "/stellatune-test-%d", (int)getpid());
  test_threads();
  test_processes();
  test_flush_and_waits();
  test_wake_latency();
  if (st_test_failures) fprintf(stderr, "%d failure(s)\n", st_test_failures);
  return st_test_failures ? 1 : 0;
}
