/* pcm_ring.c — the shared-memory SPSC PCM ring (see st_host.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "st_host.h"

#define RING_MAGIC 0x53545052u /* "STPR" */
#define RING_VERSION 2u /* 2: gain marks */

/* The shared layout. Producer- and consumer-owned words sit on separate cache lines. */
typedef struct ring_shared {
  uint32_t magic;
  uint32_t version;
  uint32_t capacity; /* samples */
  uint32_t header_bytes;
  uint8_t pad0[48];

  _Atomic uint64_t write_index;   /* producer */
  _Atomic uint64_t discard_until; /* producer */
  _Atomic uint32_t write_seq;     /* futex word the consumer sleeps on */
  _Atomic uint32_t epoch;         /* producer */
  _Atomic uint32_t producer_waiting;
  _Atomic uint32_t producer_want; /* samples of space the sleeping producer waits for */
  uint8_t pad1[32];

  _Atomic uint64_t read_index; /* consumer */
  _Atomic uint32_t read_seq;   /* futex word the producer sleeps on */
  _Atomic uint32_t consumer_waiting;
  _Atomic uint32_t wake_seq; /* bumped by st_pcm_ring_wake_producer */
  uint8_t pad2[44];

  _Atomic uint32_t ctl32[ST_PCM_RING_CTL32];
  _Atomic uint64_t ctl64[ST_PCM_RING_CTL64];

  /* Gain marks (producer-written): mark `id` lives in slot id % ST_PCM_RING_GAIN_MARKS; `marks`
   * counts the marks made, so ids 1..marks exist and the newest ST_PCM_RING_GAIN_MARKS - 1 are
   * readable (the next slot may be being rewritten). */
  _Atomic uint32_t marks;
  uint32_t pad3;
  struct {
    _Atomic uint64_t start; /* ring sample index the gain starts at */
    _Atomic uint32_t id;
    _Atomic uint32_t gain_bits;
  } mark[ST_PCM_RING_GAIN_MARKS];
} ring_shared_t;

/* Windows: one named auto-reset event per word a side can sleep on (write_seq, read_seq, each
 * ctl32 word), because WaitOnAddress only wakes threads of the same process. */
#define RING_EVENTS (2 + ST_PCM_RING_CTL32)

struct st_pcm_ring {
  ring_shared_t *shared;
  float *data;
  size_t map_bytes;
#ifdef _WIN32
  HANDLE mapping;
  HANDLE events[RING_EVENTS];
#endif
};

static size_t header_size(void) {
  size_t h = sizeof(ring_shared_t);
  return (h + 63u) & ~(size_t)63u;
}

/* Writes the header of a new mapping and publishes it: magic last, after a release fence, so a
 * process that opens the ring sees either no magic or a complete header. */
static st_pcm_ring_t *publish_header(st_pcm_ring_t *r, uint32_t capacity_samples) {
  ring_shared_t *s = r->shared;
  memset(s, 0, header_size()); /* a fresh mapping is zero-filled; be explicit for the header */
  s->capacity = capacity_samples;
  s->header_bytes = (uint32_t)header_size();
  s->version = RING_VERSION;
  atomic_thread_fence(memory_order_release);
  s->magic = RING_MAGIC;
  return r;
}

#ifdef _WIN32
static HANDLE word_event(st_pcm_ring_t *ring, _Atomic uint32_t *word) {
  ring_shared_t *s = ring->shared;
  if (word == &s->write_seq) return ring->events[0];
  if (word == &s->read_seq) return ring->events[1];
  return ring->events[2 + (word - s->ctl32)];
}

/* Sleeps while *word == expected, up to timeout_ms. An auto-reset event keeps a wake that lands
 * between the check and the wait, so none is lost; a stale one only costs a re-check. */
static void futex_wait(st_pcm_ring_t *ring, _Atomic uint32_t *word, uint32_t expected,
                       uint32_t timeout_ms) {
  HANDLE ev = word_event(ring, word);
  ULONGLONG deadline = GetTickCount64() + timeout_ms;
  while (atomic_load(word) == expected) {
    ULONGLONG now = GetTickCount64();
    if (now >= deadline) return;
    WaitForSingleObject(ev, (DWORD)(deadline - now));
  }
}

static void futex_wake(st_pcm_ring_t *ring, _Atomic uint32_t *word) {
  SetEvent(word_event(ring, word));
}

/* "/stellatune-…" -> "Local\\stellatune-…" (+ suffix): session-local kernel object names. */
static void object_name(char *out, size_t cap, const char *name, const char *suffix) {
  snprintf(out, cap, "Local\\%s%s", name[0] == '/' ? name + 1 : name, suffix);
}

static void close_handles(st_pcm_ring_t *r) {
  for (int i = 0; i < RING_EVENTS; i++) {
    if (r->events[i] != NULL) CloseHandle(r->events[i]);
  }
  if (r->shared != NULL) UnmapViewOfFile(r->shared);
  if (r->mapping != NULL) CloseHandle(r->mapping);
  free(r);
}

/* Maps the whole object and opens (or creates) its events. */
static st_pcm_ring_t *map_ring(HANDLE mapping, const char *name) {
  st_pcm_ring_t *r = calloc(1, sizeof *r);
  if (!r) {
    CloseHandle(mapping);
    errno = ENOMEM;
    return NULL;
  }
  r->mapping = mapping;
  r->shared = MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  MEMORY_BASIC_INFORMATION info;
  if (r->shared == NULL || VirtualQuery(r->shared, &info, sizeof info) == 0) {
    close_handles(r);
    errno = ENOMEM;
    return NULL;
  }
  r->map_bytes = info.RegionSize;
  r->data = (float *)((uint8_t *)r->shared + header_size());
  for (int i = 0; i < RING_EVENTS; i++) {
    char ev_name[300], suffix[16];
    snprintf(suffix, sizeof suffix, ".ev%d", i);
    object_name(ev_name, sizeof ev_name, name, suffix);
    r->events[i] = CreateEventA(NULL, FALSE, FALSE, ev_name);
    if (r->events[i] == NULL) {
      close_handles(r);
      errno = EIO;
      return NULL;
    }
  }
  return r;
}

static int name_ok(const char *name) {
  return name != NULL && strlen(name) < 200 && strchr(name + 1, '\\') == NULL;
}

st_pcm_ring_t *st_pcm_ring_create(const char *name, uint32_t capacity_samples) {
  if (!name_ok(name) || capacity_samples < 64 || capacity_samples > (1u << 28)) {
    errno = EINVAL;
    return NULL;
  }
  char map_name[300];
  object_name(map_name, sizeof map_name, name, "");
  uint64_t bytes = header_size() + (uint64_t)capacity_samples * sizeof(float);
  HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)(bytes >> 32),
                                (DWORD)bytes, map_name);
  if (h == NULL) {
    errno = EIO;
    return NULL;
  }
  if (GetLastError() == ERROR_ALREADY_EXISTS) { /* as O_EXCL */
    CloseHandle(h);
    errno = EEXIST;
    return NULL;
  }
  st_pcm_ring_t *r = map_ring(h, name);
  if (!r) return NULL;
  return publish_header(r, capacity_samples);
}

st_pcm_ring_t *st_pcm_ring_open(const char *name) {
  if (!name_ok(name)) {
    errno = EINVAL;
    return NULL;
  }
  char map_name[300];
  object_name(map_name, sizeof map_name, name, "");
  HANDLE h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, map_name);
  if (h == NULL) {
    errno = ENOENT;
    return NULL;
  }
  st_pcm_ring_t *r = map_ring(h, name);
  if (!r) return NULL;
  ring_shared_t *s = r->shared;
  if (r->map_bytes < header_size() || s->magic != RING_MAGIC || s->version != RING_VERSION ||
      header_size() + (size_t)s->capacity * sizeof(float) > r->map_bytes) {
    close_handles(r);
    errno = EINVAL;
    return NULL;
  }
  return r;
}

void st_pcm_ring_close(st_pcm_ring_t *ring) {
  if (ring) close_handles(ring);
}

/* Windows names a mapping only while a handle to it is open: the last close removes it. */
int st_pcm_ring_unlink(const char *name) { return name ? 0 : -1; }

#else
static void futex_wait(st_pcm_ring_t *ring, _Atomic uint32_t *word, uint32_t expected,
                       uint32_t timeout_ms) {
  (void)ring;
#ifdef __linux__
  struct timespec ts = {.tv_sec = timeout_ms / 1000u, .tv_nsec = (long)(timeout_ms % 1000u) * 1000000L};
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &ts, NULL, 0);
#else
  (void)word;
  (void)expected;
  struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(timeout_ms < 2 ? timeout_ms : 2) * 1000000L};
  nanosleep(&ts, NULL);
#endif
}

static void futex_wake(st_pcm_ring_t *ring, _Atomic uint32_t *word) {
  (void)ring;
#ifdef __linux__
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
#else
  (void)word;
#endif
}

static st_pcm_ring_t *map_ring(int fd, size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return NULL;
  st_pcm_ring_t *r = malloc(sizeof *r);
  if (!r) {
    munmap(p, bytes);
    errno = ENOMEM;
    return NULL;
  }
  r->shared = p;
  r->data = (float *)((uint8_t *)p + header_size());
  r->map_bytes = bytes;
  return r;
}

st_pcm_ring_t *st_pcm_ring_create(const char *name, uint32_t capacity_samples) {
  if (!name || capacity_samples < 64 || capacity_samples > (1u << 28)) {
    errno = EINVAL;
    return NULL;
  }
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return NULL;
  size_t bytes = header_size() + (size_t)capacity_samples * sizeof(float);
  if (ftruncate(fd, (off_t)bytes) != 0) {
    int e = errno;
    close(fd);
    shm_unlink(name);
    errno = e;
    return NULL;
  }
  st_pcm_ring_t *r = map_ring(fd, bytes);
  close(fd);
  if (!r) {
    shm_unlink(name);
    return NULL;
  }
  return publish_header(r, capacity_samples);
}

st_pcm_ring_t *st_pcm_ring_open(const char *name) {
  if (!name) {
    errno = EINVAL;
    return NULL;
  }
  int fd = shm_open(name, O_RDWR, 0600);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size < header_size()) {
    close(fd);
    errno = EINVAL;
    return NULL;
  }
  st_pcm_ring_t *r = map_ring(fd, (size_t)st.st_size);
  close(fd);
  if (!r) return NULL;
  ring_shared_t *s = r->shared;
  if (s->magic != RING_MAGIC || s->version != RING_VERSION ||
      header_size() + (size_t)s->capacity * sizeof(float) > r->map_bytes) {
    st_pcm_ring_close(r);
    errno = EINVAL;
    return NULL;
  }
  return r;
}

void st_pcm_ring_close(st_pcm_ring_t *ring) {
  if (!ring) return;
  munmap(ring->shared, ring->map_bytes);
  free(ring);
}

int st_pcm_ring_unlink(const char *name) { return name ? shm_unlink(name) : -1; }

#endif

uint32_t st_pcm_ring_capacity(const st_pcm_ring_t *ring) { return ring->shared->capacity; }

uint64_t st_pcm_ring_write_index(const st_pcm_ring_t *ring) {
  return atomic_load_explicit(&ring->shared->write_index, memory_order_acquire);
}

uint64_t st_pcm_ring_read_index(const st_pcm_ring_t *ring) {
  return atomic_load_explicit(&ring->shared->read_index, memory_order_acquire);
}

uint32_t st_pcm_ring_fill(const st_pcm_ring_t *ring) {
  uint64_t r = st_pcm_ring_read_index(ring);
  uint64_t w = st_pcm_ring_write_index(ring);
  return w > r ? (uint32_t)(w - r) : 0;
}

uint32_t st_pcm_ring_space(const st_pcm_ring_t *ring) {
  uint64_t w = st_pcm_ring_write_index(ring);
  uint64_t r = st_pcm_ring_read_index(ring);
  uint64_t used = w > r ? w - r : 0;
  return used >= ring->shared->capacity ? 0 : ring->shared->capacity - (uint32_t)used;
}

uint32_t st_pcm_ring_write(st_pcm_ring_t *ring, const float *src, uint32_t samples) {
  ring_shared_t *s = ring->shared;
  uint32_t space = st_pcm_ring_space(ring);
  uint32_t n = samples < space ? samples : space;
  if (n == 0) return 0;
  uint64_t w = atomic_load_explicit(&s->write_index, memory_order_relaxed);
  uint32_t at = (uint32_t)(w % s->capacity);
  uint32_t first = s->capacity - at < n ? s->capacity - at : n;
  memcpy(ring->data + at, src, (size_t)first * sizeof(float));
  if (n > first) memcpy(ring->data, src + first, (size_t)(n - first) * sizeof(float));
  atomic_store_explicit(&s->write_index, w + n, memory_order_release);
  atomic_fetch_add_explicit(&s->write_seq, 1, memory_order_release);
  if (atomic_load_explicit(&s->consumer_waiting, memory_order_acquire))
    futex_wake(ring, &s->write_seq);
  return n;
}

uint32_t st_pcm_ring_read(st_pcm_ring_t *ring, float *dst, uint32_t samples, float gain) {
  ring_shared_t *s = ring->shared;
  uint32_t fill = st_pcm_ring_fill(ring);
  uint32_t n = samples < fill ? samples : fill;
  if (n == 0) return 0;
  uint64_t r = atomic_load_explicit(&s->read_index, memory_order_relaxed);
  uint32_t at = (uint32_t)(r % s->capacity);
  uint32_t first = s->capacity - at < n ? s->capacity - at : n;
  memcpy(dst, ring->data + at, (size_t)first * sizeof(float));
  if (n > first) memcpy(dst + first, ring->data, (size_t)(n - first) * sizeof(float));
  if (gain != 1.0f) {
    for (uint32_t i = 0; i < n; i++) dst[i] *= gain;
  }
  atomic_store_explicit(&s->read_index, r + n, memory_order_release);
  atomic_fetch_add_explicit(&s->read_seq, 1, memory_order_release);
  /* Wake the producer only once the space it waits for is there: one wake per burst, not per
   * device buffer. */
  if (atomic_load_explicit(&s->producer_waiting, memory_order_acquire) &&
      st_pcm_ring_space(ring) >= atomic_load_explicit(&s->producer_want, memory_order_acquire))
    futex_wake(ring, &s->read_seq);
  return n;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void st_pcm_ring_wake_producer(st_pcm_ring_t *ring) {
  ring_shared_t *s = ring->shared;
  atomic_fetch_add_explicit(&s->wake_seq, 1, memory_order_release);
  atomic_fetch_add_explicit(&s->read_seq, 1, memory_order_release);
  futex_wake(ring, &s->read_seq);
}

int st_pcm_ring_wait_space(st_pcm_ring_t *ring, uint32_t samples, uint32_t timeout_ms) {
  ring_shared_t *s = ring->shared;
  if (samples > s->capacity) samples = s->capacity;
  double deadline = now_ms() + timeout_ms;
  const uint32_t wake = atomic_load_explicit(&s->wake_seq, memory_order_acquire);
  for (;;) {
    uint32_t seq = atomic_load_explicit(&s->read_seq, memory_order_acquire);
    /* A wake from the control side returns at once so the producer sees its command. */
    if (atomic_load_explicit(&s->wake_seq, memory_order_acquire) != wake) return st_pcm_ring_space(ring) >= samples;
    if (st_pcm_ring_space(ring) >= samples) return 1;
    double left = deadline - now_ms();
    if (left <= 0) return 0;
    atomic_store_explicit(&s->producer_want, samples, memory_order_relaxed);
    atomic_store_explicit(&s->producer_waiting, 1, memory_order_seq_cst);
    /* Re-check after announcing, so a read between the check and the flag cannot be missed. */
    if (st_pcm_ring_space(ring) >= samples) {
      atomic_store_explicit(&s->producer_waiting, 0, memory_order_relaxed);
      return 1;
    }
    futex_wait(ring, &s->read_seq, seq, (uint32_t)(left + 1));
    atomic_store_explicit(&s->producer_waiting, 0, memory_order_relaxed);
  }
}

int st_pcm_ring_wait_data(st_pcm_ring_t *ring, uint32_t samples, uint32_t timeout_ms) {
  ring_shared_t *s = ring->shared;
  if (samples > s->capacity) samples = s->capacity;
  double deadline = now_ms() + timeout_ms;
  for (;;) {
    uint32_t seq = atomic_load_explicit(&s->write_seq, memory_order_acquire);
    if (st_pcm_ring_fill(ring) >= samples) return 1;
    double left = deadline - now_ms();
    if (left <= 0) return 0;
    atomic_store_explicit(&s->consumer_waiting, 1, memory_order_seq_cst);
    if (st_pcm_ring_fill(ring) >= samples) {
      atomic_store_explicit(&s->consumer_waiting, 0, memory_order_relaxed);
      return 1;
    }
    futex_wait(ring, &s->write_seq, seq, (uint32_t)(left + 1));
    atomic_store_explicit(&s->consumer_waiting, 0, memory_order_relaxed);
  }
}

uint64_t st_pcm_ring_producer_flush(st_pcm_ring_t *ring) {
  ring_shared_t *s = ring->shared;
  uint64_t w = atomic_load_explicit(&s->write_index, memory_order_relaxed);
  atomic_store_explicit(&s->discard_until, w, memory_order_release);
  atomic_fetch_add_explicit(&s->epoch, 1, memory_order_acq_rel);
  /* Wake a consumer sleeping for data so it notices the flush at once. */
  atomic_fetch_add_explicit(&s->write_seq, 1, memory_order_release);
  futex_wake(ring, &s->write_seq);
  return w;
}

int st_pcm_ring_consumer_sync(st_pcm_ring_t *ring, uint32_t *last_epoch) {
  ring_shared_t *s = ring->shared;
  uint32_t e = atomic_load_explicit(&s->epoch, memory_order_acquire);
  if (e == *last_epoch) return 0;
  uint64_t until = atomic_load_explicit(&s->discard_until, memory_order_acquire);
  uint64_t r = atomic_load_explicit(&s->read_index, memory_order_relaxed);
  if (until > r) {
    atomic_store_explicit(&s->read_index, until, memory_order_release);
    atomic_fetch_add_explicit(&s->read_seq, 1, memory_order_release);
    futex_wake(ring, &s->read_seq);
  }
  *last_epoch = e;
  return 1;
}

uint32_t st_pcm_ring_pending(const st_pcm_ring_t *ring, uint32_t last_epoch) {
  ring_shared_t *s = ring->shared;
  uint64_t w = atomic_load_explicit(&s->write_index, memory_order_acquire);
  uint64_t r = atomic_load_explicit(&s->read_index, memory_order_acquire);
  if (atomic_load_explicit(&s->epoch, memory_order_acquire) != last_epoch) {
    uint64_t until = atomic_load_explicit(&s->discard_until, memory_order_acquire);
    if (until > r) r = until;
  }
  return w > r ? (uint32_t)(w - r) : 0;
}

void st_pcm_ring_wake32(st_pcm_ring_t *ring, uint32_t slot) {
  if (slot < ST_PCM_RING_CTL32) futex_wake(ring, &ring->shared->ctl32[slot]);
}

uint32_t st_pcm_ring_epoch(const st_pcm_ring_t *ring) {
  return atomic_load_explicit(&ring->shared->epoch, memory_order_acquire);
}

uint32_t st_pcm_ring_get32(const st_pcm_ring_t *ring, uint32_t slot) {
  return slot < ST_PCM_RING_CTL32 ? atomic_load(&ring->shared->ctl32[slot]) : 0;
}

void st_pcm_ring_set32(st_pcm_ring_t *ring, uint32_t slot, uint32_t value) {
  if (slot >= ST_PCM_RING_CTL32) return;
  atomic_store(&ring->shared->ctl32[slot], value);
  futex_wake(ring, &ring->shared->ctl32[slot]);
}

uint32_t st_pcm_ring_add32(st_pcm_ring_t *ring, uint32_t slot, uint32_t delta) {
  if (slot >= ST_PCM_RING_CTL32) return 0;
  uint32_t v = atomic_fetch_add(&ring->shared->ctl32[slot], delta) + delta;
  futex_wake(ring, &ring->shared->ctl32[slot]);
  return v;
}

uint64_t st_pcm_ring_get64(const st_pcm_ring_t *ring, uint32_t slot) {
  return slot < ST_PCM_RING_CTL64 ? atomic_load(&ring->shared->ctl64[slot]) : 0;
}

void st_pcm_ring_set64(st_pcm_ring_t *ring, uint32_t slot, uint64_t value) {
  if (slot < ST_PCM_RING_CTL64) atomic_store(&ring->shared->ctl64[slot], value);
}

int st_pcm_ring_wait32(st_pcm_ring_t *ring, uint32_t slot, uint32_t expected, uint32_t timeout_ms) {
  if (slot >= ST_PCM_RING_CTL32) return 0;
  if (atomic_load(&ring->shared->ctl32[slot]) != expected) return 1;
  futex_wait(ring, &ring->shared->ctl32[slot], expected, timeout_ms);
  return atomic_load(&ring->shared->ctl32[slot]) != expected;
}

float st_pcm_ring_getf(const st_pcm_ring_t *ring, uint32_t slot) {
  uint32_t bits = st_pcm_ring_get32(ring, slot);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

void st_pcm_ring_setf(st_pcm_ring_t *ring, uint32_t slot, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  st_pcm_ring_set32(ring, slot, bits);
}

/* ---- Gain marks -------------------------------------------------------------------------------- */

static float bits_to_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static uint32_t float_to_bits(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

uint32_t st_pcm_ring_mark_gain(st_pcm_ring_t *ring, uint64_t start_index, float gain) {
  ring_shared_t *s = ring->shared;
  if (!(gain >= 0.0f) || gain > 64.0f) gain = 1.0f;
  uint32_t id = atomic_load_explicit(&s->marks, memory_order_relaxed) + 1;
  if (id == 0) id = 1; /* 0 means "no mark" */
  uint32_t slot = id % ST_PCM_RING_GAIN_MARKS;
  /* id 0 while the slot is rewritten: a reader that sees it skips the slot */
  atomic_store_explicit(&s->mark[slot].id, 0, memory_order_release);
  atomic_store_explicit(&s->mark[slot].start, start_index, memory_order_release);
  atomic_store_explicit(&s->mark[slot].gain_bits, float_to_bits(gain), memory_order_release);
  atomic_store_explicit(&s->mark[slot].id, id, memory_order_release);
  atomic_store_explicit(&s->marks, id, memory_order_release);
  return id;
}

int st_pcm_ring_set_mark_gain(st_pcm_ring_t *ring, uint32_t mark_id, float gain) {
  ring_shared_t *s = ring->shared;
  if (mark_id == 0 || !(gain >= 0.0f) || gain > 64.0f) return 0;
  uint32_t slot = mark_id % ST_PCM_RING_GAIN_MARKS;
  if (atomic_load_explicit(&s->mark[slot].id, memory_order_acquire) != mark_id) return 0;
  atomic_store_explicit(&s->mark[slot].gain_bits, float_to_bits(gain), memory_order_release);
  return 1;
}

/* The gain in force at sample `index` (the newest mark starting at or before it; 1 with none) and
 * the start of the next mark after it (UINT64_MAX with none). */
static float gain_at(const ring_shared_t *s, uint64_t index, uint64_t *next_start) {
  uint32_t newest = atomic_load_explicit(&((ring_shared_t *)s)->marks, memory_order_acquire);
  float gain = 1.0f;
  uint64_t best = 0;
  bool found = false;
  uint64_t next = UINT64_MAX;
  for (uint32_t k = 0; k + 1 < ST_PCM_RING_GAIN_MARKS && k < newest; k++) {
    uint32_t id = newest - k;
    uint32_t slot = id % ST_PCM_RING_GAIN_MARKS;
    ring_shared_t *w = (ring_shared_t *)s;
    if (atomic_load_explicit(&w->mark[slot].id, memory_order_acquire) != id) continue;
    uint64_t start = atomic_load_explicit(&w->mark[slot].start, memory_order_acquire);
    float g = bits_to_float(atomic_load_explicit(&w->mark[slot].gain_bits, memory_order_acquire));
    if (atomic_load_explicit(&w->mark[slot].id, memory_order_acquire) != id) continue;
    if (start <= index) {
      if (!found || start >= best) {
        found = true;
        best = start;
        gain = g;
      }
      /* Marks are made in index order: an older one cannot be newer in force. */
      break;
    }
    if (start < next) next = start;
  }
  *next_start = next;
  return gain;
}

float st_pcm_ring_gain_at(const st_pcm_ring_t *ring, uint64_t index) {
  uint64_t next;
  return gain_at(ring->shared, index, &next);
}

uint32_t st_pcm_ring_read_gained(st_pcm_ring_t *ring, float *dst, uint32_t samples, uint32_t channels,
                                 st_pcm_gain_state_t *state) {
  ring_shared_t *s = ring->shared;
  if (channels == 0) channels = 1;
  const uint64_t first = atomic_load_explicit(&s->read_index, memory_order_relaxed);
  uint32_t n = st_pcm_ring_read(ring, dst, samples, 1.0f);
  if (n == 0 || state == NULL) return n;
  const uint32_t frames = n / channels;
  uint32_t f = 0;
  while (f < frames) {
    uint64_t next;
    const uint64_t at = first + (uint64_t)f * channels;
    const float target = gain_at(s, at, &next);
    uint32_t until = frames;
    if (next != UINT64_MAX && next > at) {
      uint64_t span = (next - at + channels - 1) / channels;
      if (span < (uint64_t)(frames - f)) until = f + (uint32_t)span;
    }
    if (state->snap != 0.0f) {
      state->current = target;
      state->snap = 0.0f;
    }
    if (target != state->target) {
      /* A new track (a join) or a live change: ramp from where we are, starting at this sample. */
      state->target = target;
      state->step = (target - state->current) / (float)ST_PCM_GAIN_RAMP_FRAMES;
    }
    float g = state->current;
    if (g == target && g == 1.0f) {
      f = until;
      continue;
    }
    for (; f < until; f++) {
      if (g != target) {
        g += state->step;
        if ((state->step > 0.0f && g > target) || (state->step < 0.0f && g < target) || state->step == 0.0f) g = target;
      }
      float *p = dst + (size_t)f * channels;
      for (uint32_t c = 0; c < channels; c++) p[c] *= g;
    }
    state->current = g;
  }
  return n;
}
