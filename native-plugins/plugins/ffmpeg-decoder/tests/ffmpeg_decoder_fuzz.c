/*
 * Robustness of the ffmpeg-decoder plugin: mutations (bit flips, truncations, zeroed blocks,
 * spliced garbage) of real media, each decoded through the plugin in a child process as the host
 * would (open, info, metadata, read to the end, two seeks, read again). A child that crashes, or
 * runs longer than the limit (a hang), fails the test; so does a status outside the ABI's codes.
 *
 *   ffmpeg_decoder_fuzz <plugin.so> <seed> <mutations per file> <file>...
 *   ffmpeg_decoder_fuzz <plugin.so> decode <file>      (one file, unmutated; prints what it read)
 *
 * Deterministic: the same seed gives the same mutations. A failing input is written next to the
 * source as <file>.fail-<n> so it can be replayed with `decode`.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin_harness.h"
#include "stellatune/decoder.h"

#define CHILD_LIMIT_SECONDS 2

static harness_plugin_t g_plugin;

/* ---- An in-memory stream ------------------------------------------------------------------- */

typedef struct mem_stream {
  const uint8_t *data;
  size_t len;
  size_t pos;
} mem_stream_t;

static st_status_t mem_read(void *h, void *buf, size_t len, size_t *out_read) {
  mem_stream_t *m = h;
  size_t n = m->pos < m->len ? m->len - m->pos : 0;
  if (n > len) {
    n = len;
  }
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  *out_read = n;
  return ST_OK;
}

static st_status_t mem_seek(void *h, int64_t off, st_seek_whence_t whence, uint64_t *out_pos) {
  mem_stream_t *m = h;
  int64_t base = whence == ST_SEEK_CUR ? (int64_t)m->pos : whence == ST_SEEK_END ? (int64_t)m->len : 0;
  int64_t p = base + off;
  if (p < 0) {
    return ST_ERR_INVALID_ARG;
  }
  m->pos = (size_t)p;
  if (out_pos != NULL) {
    *out_pos = (uint64_t)p;
  }
  return ST_OK;
}

static st_status_t mem_tell(void *h, uint64_t *out_pos) {
  *out_pos = ((mem_stream_t *)h)->pos;
  return ST_OK;
}

static st_status_t mem_size(void *h, uint64_t *out_size) {
  *out_size = ((mem_stream_t *)h)->len;
  return ST_OK;
}

static const st_io_vtable_t k_mem_io = {sizeof(st_io_vtable_t), 0, mem_read, mem_seek, mem_tell,
                                        mem_size};

/* ---- One decode, as the host does it ------------------------------------------------------- */

static bool valid_status(st_status_t st) {
  return (st >= ST_OK && st <= ST_ERR_STATE) || st >= ST_ERR_PLUGIN_BASE;
}

typedef struct outcome {
  st_status_t open_status;
  st_status_t end_status;
  uint64_t frames;
  uint32_t rate, channels;
  bool bad_status;
} outcome_t;

static uint64_t read_to_end(const st_decoder_vtable_t *vt, void *h, float *buf, uint32_t block,
                            uint64_t cap, st_status_t *out_status, bool *bad) {
  uint64_t total = 0;
  for (;;) {
    uint32_t got = 0;
    st_status_t st = vt->read_f32(h, buf, block, &got);
    if (!valid_status(st)) {
      *bad = true;
    }
    if (st != ST_OK) {
      *out_status = st;
      return total;
    }
    if (got == 0 || got > block) {
      *bad = got > block;
      *out_status = ST_OK;
      return total;
    }
    total += got;
    if (total > cap) {
      *out_status = ST_OK;
      return total; /* runaway output is reported by the caller */
    }
  }
}

static outcome_t decode_once(const uint8_t *data, size_t len, const char *ext) {
  outcome_t o = {0};
  st_instance_t inst;
  st_audio_spec_t none = {0, 0, 0};
  if (harness_create(&g_plugin, ST_CAP_DECODER, "ffmpeg", "{}", none, &inst) != ST_OK) {
    o.open_status = ST_ERR_INTERNAL;
    return o;
  }
  const st_decoder_vtable_t *vt = (const st_decoder_vtable_t *)inst.vtable;
  mem_stream_t m = {data, len, 0};
  st_decoder_probe_args_t pa = {sizeof pa, 0, data, len < ST_DECODER_PROBE_BYTES ? len : ST_DECODER_PROBE_BYTES,
                                harness_str(ext)};
  if (vt->probe(inst.handle, &pa) > ST_DECODER_PROBE_CERTAIN) {
    o.bad_status = true;
  }
  st_decoder_open_args_t args = {sizeof args, 0, harness_str(""), harness_str(ext),
                                 {&m, &k_mem_io}};
  st_str_t err = {NULL, 0};
  o.open_status = vt->open(inst.handle, &args, &err);
  harness_free_str(&g_plugin, &err);
  if (!valid_status(o.open_status)) {
    o.bad_status = true;
  }
  if (o.open_status == ST_OK) {
    st_decoder_info_t info = {.struct_size = sizeof info};
    if (vt->get_info(inst.handle, &info) == ST_OK) {
      o.rate = info.spec.sample_rate;
      o.channels = info.spec.channels;
    }
    st_str_t meta = {NULL, 0};
    vt->get_metadata_json(inst.handle, &meta);
    harness_free_str(&g_plugin, &meta);
    uint32_t block = 4096;
    float *buf = malloc((size_t)block * (o.channels > 0 ? o.channels : 1) * sizeof(float));
    uint64_t cap = (uint64_t)len * 64 + 1000000; /* no codec expands a byte into 64 frames */
    o.frames = read_to_end(vt, inst.handle, buf, block, cap, &o.end_status, &o.bad_status);
    uint64_t pos = 0;
    st_status_t st = vt->seek_ms(inst.handle, 1234, &pos);
    if (!valid_status(st)) {
      o.bad_status = true;
    }
    st_status_t s2 = ST_OK;
    read_to_end(vt, inst.handle, buf, block, cap, &s2, &o.bad_status);
    vt->seek_ms(inst.handle, 0, &pos);
    read_to_end(vt, inst.handle, buf, 1000, cap, &s2, &o.bad_status);
    free(buf);
    if (o.frames > cap) {
      o.bad_status = true;
    }
  }
  vt->base.destroy(inst.handle);
  return o;
}

/* ---- Mutations ------------------------------------------------------------------------------- */

static uint64_t g_rng;

static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* Mutates a copy of `src` in place of `dst` (same capacity); returns the new length and names the
 * mutation in `what`. Header bytes are hit more often: that is where parsers trust lengths. */
static size_t mutate(const uint8_t *src, size_t len, uint8_t *dst, char *what, size_t cap) {
  memcpy(dst, src, len);
  size_t hot = len < 4096 ? len : 4096;
  unsigned kind = (unsigned)(rnd() % 5);
  switch (kind) {
  case 0: { /* bit flips */
    unsigned flips = 1 + (unsigned)(rnd() % 16);
    for (unsigned i = 0; i < flips; i++) {
      size_t at = (rnd() & 1) ? rnd() % hot : rnd() % len;
      dst[at] ^= (uint8_t)(1u << (rnd() % 8));
    }
    snprintf(what, cap, "%u bit flips", flips);
    return len;
  }
  case 1: { /* truncation */
    size_t keep = (rnd() & 1) ? rnd() % hot : rnd() % len;
    snprintf(what, cap, "truncated to %zu bytes", keep);
    return keep;
  }
  case 2: { /* a zeroed block */
    size_t at = (rnd() & 1) ? rnd() % hot : rnd() % len;
    size_t n = 1 + rnd() % 8192;
    if (at + n > len) {
      n = len - at;
    }
    memset(dst + at, 0, n);
    snprintf(what, cap, "zeroed %zu bytes at %zu", n, at);
    return len;
  }
  case 3: { /* random bytes over a block */
    size_t at = rnd() % len;
    size_t n = 1 + rnd() % 512;
    if (at + n > len) {
      n = len - at;
    }
    for (size_t i = 0; i < n; i++) {
      dst[at + i] = (uint8_t)rnd();
    }
    snprintf(what, cap, "%zu random bytes at %zu", n, at);
    return len;
  }
  default: { /* a length-looking field set to a huge value */
    size_t at = rnd() % hot;
    if (at + 4 > len) {
      at = 0;
    }
    memset(dst + at, 0xFF, len < 4 ? len : 4);
    dst[at] = (uint8_t)(0x7F | (rnd() & 0x80));
    snprintf(what, cap, "a 0x7FFFFFFF-like field at %zu", at);
    return len;
  }
  }
}

static const char *ext_of(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot != NULL ? dot + 1 : "";
}

/* Runs one decode in a child; 0 when it finished cleanly, else describes the failure. */
static int run_child(const uint8_t *data, size_t len, const char *ext, char *why, size_t cap) {
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, cap, "fork failed");
    return -1;
  }
  if (pid == 0) {
    alarm(CHILD_LIMIT_SECONDS);
    outcome_t o = decode_once(data, len, ext);
    _exit(o.bad_status ? 3 : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    snprintf(why, cap, sig == SIGALRM ? "hung for over %d s" : "crashed with signal %d",
             sig == SIGALRM ? CHILD_LIMIT_SECONDS : sig);
    return -1;
  }
  if (WEXITSTATUS(status) != 0) {
    snprintf(why, cap, "returned a status outside the ABI or runaway output (exit %d)",
             WEXITSTATUS(status));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <plugin.so> <seed> <count> <file>... | <plugin.so> decode <file>\n",
            argv[0]);
    return 2;
  }
  if (harness_load(&g_plugin, argv[1], "/tmp") != 0) {
    return 1;
  }
  if (strcmp(argv[2], "decode") == 0) {
    size_t len = 0;
    uint8_t *data = harness_read_file(argv[3], &len);
    if (data == NULL) {
      fprintf(stderr, "cannot read %s\n", argv[3]);
      return 1;
    }
    outcome_t o = decode_once(data, len, ext_of(argv[3]));
    printf("open %d, %u Hz x %u, %llu frames, end %d%s\n", o.open_status, o.rate, o.channels,
           (unsigned long long)o.frames, o.end_status, o.bad_status ? ", BAD STATUS" : "");
    free(data);
    harness_unload(&g_plugin);
    return o.bad_status ? 1 : 0;
  }
  uint64_t seed = strtoull(argv[2], NULL, 10);
  long count = strtol(argv[3], NULL, 10);
  int failures = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int f = 4; f < argc; f++) {
    size_t len = 0;
    uint8_t *src = harness_read_file(argv[f], &len);
    if (src == NULL || len == 0) {
      fprintf(stderr, "cannot read %s\n", argv[f]);
      return 1;
    }
    uint8_t *buf = malloc(len);
    g_rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)f * 0xBF58476D1CE4E5B9ull + 1;
    int file_failures = 0, opened = 0;
    for (long i = 0; i < count; i++) {
      char what[128], why[128];
      size_t n = mutate(src, len, buf, what, sizeof what);
      if (run_child(buf, n, ext_of(argv[f]), why, sizeof why) != 0) {
        char out[4096];
        snprintf(out, sizeof out, "%s.fail-%ld", argv[f], i);
        harness_write_file(out, buf, n);
        fprintf(stderr, "FAIL %s mutation %ld (%s): %s; input saved as %s\n", argv[f], i, what,
                why, out);
        file_failures++;
      } else {
        opened++;
      }
    }
    printf("%s: %ld mutations, %d failures\n", argv[f], count, file_failures);
    failures += file_failures;
    free(buf);
    free(src);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%d failures in %.1f s\n", failures,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  harness_unload(&g_plugin);
  return failures == 0 ? 0 : 1;
}
