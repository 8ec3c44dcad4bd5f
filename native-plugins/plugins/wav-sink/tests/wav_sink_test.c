/*
 * Tests of the wav-sink plugin, driven like the audio process drives an OutputSink: dlopen the
 * built library, list targets, negotiate, open, write blocks, query status, flush, close — then
 * read the file back with ffmpeg and sox and compare the samples.
 *
 *   wav_sink_test <case> <plugin.so> <work dir> <ffmpeg> <sox>
 *
 * Cases: module, roundtrip, s16, lifecycle, crash_safe, folder, disk_full, realtime.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <dirent.h>

#include "plugin_harness.h"
#include "stellatune/output.h"

static harness_plugin_t g_plugin;
static const char *g_work;
static const char *g_ffmpeg;
static const char *g_sox;

typedef struct sink {
  st_instance_t inst;
  const st_output_vtable_t *vt;
} sink_t;

static bool sink_create(sink_t *s, const char *config) {
  memset(s, 0, sizeof *s);
  st_audio_spec_t none = {0, 0, 0};
  if (harness_create(&g_plugin, ST_CAP_OUTPUT_SINK, "wav-file", config, none, &s->inst) !=
      ST_OK) {
    return false;
  }
  s->vt = (const st_output_vtable_t *)s->inst.vtable;
  return true;
}

static void sink_destroy(sink_t *s) {
  if (s->vt != NULL) {
    s->vt->base.destroy(s->inst.handle);
  }
  memset(s, 0, sizeof *s);
}

static st_status_t sink_open(sink_t *s, const char *target, uint32_t rate, uint16_t channels) {
  st_str_t t = harness_str(target), err = {NULL, 0};
  st_audio_spec_t spec = {rate, channels, 0};
  st_status_t st = s->vt->open(s->inst.handle, &t, &spec, &err);
  if (st != ST_OK) {
    fprintf(stderr, "open %s: %d %.*s\n", target, st, (int)err.len, err.ptr ? err.ptr : "");
  }
  harness_free_str(&g_plugin, &err);
  return st;
}

static const char *file_target(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "{\"id\":\"folder\",\"file\":\"%s/%s\"}", g_work, name);
  return buf;
}

static const char *work_path(char *buf, size_t cap, const char *name) {
  return harness_join(buf, cap, g_work, name);
}

/* Writes `frames` frames in varying block sizes; returns the last status. */
static st_status_t sink_write(sink_t *s, const float *samples, size_t frames, uint16_t channels) {
  static const uint32_t blocks[] = {1, 512, 333, 4096, 7, 1024};
  size_t f = 0;
  for (size_t b = 0; f < frames; b++) {
    uint32_t n = blocks[b % 6];
    if (f + n > frames) {
      n = (uint32_t)(frames - f);
    }
    uint32_t accepted = 0;
    st_status_t st = s->vt->write_f32(s->inst.handle, samples + f * channels, n, &accepted);
    if (st != ST_OK) {
      return st;
    }
    CHECK(accepted == n, "accepted %u of %u", accepted, n);
    f += n;
  }
  return ST_OK;
}

static float *make_signal(size_t frames, uint16_t channels, uint32_t seed, bool s16_exact) {
  float *s = malloc(sizeof(float) * frames * channels);
  uint32_t rng = seed;
  for (size_t i = 0; i < frames * channels; i++) {
    rng = rng * 1664525u + 1013904223u;
    if (s16_exact) {
      s[i] = (float)((int32_t)(rng >> 16) - 32768) / 32768.0f; /* k/32768: exact in 16 bits */
    } else {
      s[i] = (float)((double)rng / 4294967296.0 * 2.0 - 1.0);
    }
  }
  return s;
}

/* Decodes a file to float32 with a command ("%s" = the path); returns samples, sets *n. */
static float *decode_with(const char *fmt, const char *path, size_t *n) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, fmt, path);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    *n = 0;
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  float *buf = malloc(cap * sizeof(float));
  size_t got;
  while ((got = fread(buf + len, sizeof(float), cap - len, p)) > 0) {
    len += got;
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap * sizeof(float));
    }
  }
  int rc = pclose(p);
  CHECK(rc == 0, "'%s' failed (%d)", cmd, rc);
  *n = len;
  return buf;
}

static float *ffmpeg_decode(const char *path, size_t *n) {
  char fmt[1024];
  snprintf(fmt, sizeof fmt, "'%s' -nostdin -v error -i '%%s' -f f32le -c:a pcm_f32le -",
           g_ffmpeg);
  return decode_with(fmt, path, n);
}

static float *sox_decode(const char *path, size_t *n) {
  char fmt[1024];
  snprintf(fmt, sizeof fmt, "'%s' -V1 '%%s' -t f32 -e floating-point -b 32 -", g_sox);
  return decode_with(fmt, path, n);
}

/* The file's format tag, channel count and data chunk size, read from the header. */
typedef struct header {
  char riff[5];
  uint16_t tag;
  uint16_t channels;
  uint32_t rate;
  uint16_t bits;
  uint32_t data_size;
  uint32_t mask;
  bool has_fact;
} header_t;

static bool read_header(const char *path, header_t *h) {
  memset(h, 0, sizeof *h);
  size_t len = 0;
  unsigned char *d = harness_read_file(path, &len);
  if (d == NULL || len < 12) {
    free(d);
    return false;
  }
  memcpy(h->riff, d, 4);
  size_t off = 12;
  while (off + 8 <= len) {
    uint32_t size = d[off + 4] | d[off + 5] << 8 | d[off + 6] << 16 | (uint32_t)d[off + 7] << 24;
    const unsigned char *b = d + off + 8;
    if (memcmp(d + off, "fmt ", 4) == 0) {
      h->tag = (uint16_t)(b[0] | b[1] << 8);
      h->channels = (uint16_t)(b[2] | b[3] << 8);
      h->rate = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
      h->bits = (uint16_t)(b[14] | b[15] << 8);
      if (size >= 40) {
        h->mask = b[20] | b[21] << 8 | b[22] << 16 | (uint32_t)b[23] << 24;
      }
    } else if (memcmp(d + off, "fact", 4) == 0) {
      h->has_fact = true;
    } else if (memcmp(d + off, "data", 4) == 0) {
      h->data_size = size;
      break;
    }
    off += 8 + size + (size & 1);
  }
  free(d);
  return true;
}

/* ---- Cases ---------------------------------------------------------------------------------- */

static void case_module(void) {
  const st_module_t *m = g_plugin.module;
  cJSON *meta = cJSON_Parse(m->metadata_json);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(meta, "id");
  CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "dev.stellatune.wav-sink") == 0, "id");
  cJSON_Delete(meta);
  const st_capability_t *cap = harness_cap(&g_plugin, "wav-file");
  CHECK(cap != NULL && cap->kind == ST_CAP_OUTPUT_SINK, "capability wav-file");
  if (cap == NULL) {
    return;
  }
  cJSON *schema = cJSON_Parse(cap->config_schema_json);
  const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
  CHECK(cJSON_GetObjectItemCaseSensitive(props, "folder") != NULL &&
            cJSON_GetObjectItemCaseSensitive(props, "format") != NULL,
        "schema: %s", cap->config_schema_json);
  cJSON_Delete(schema);
  printf("schema: %s\ndefault: %s\n", cap->config_schema_json, cap->default_config_json);

  sink_t s;
  CHECK(sink_create(&s, cap->default_config_json), "create with the default config");
  st_str_t js = {NULL, 0}, err = {NULL, 0};
  CHECK(s.vt->list_targets_json(s.inst.handle, &js, &err) == ST_OK, "list_targets");
  printf("targets: %.*s\n", (int)js.len, js.ptr);
  cJSON *doc = cJSON_ParseWithLength(js.ptr, js.len);
  const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "targets"), 0);
  char want[4096];
  snprintf(want, sizeof want, "%s/recordings", g_work);
  CHECK(t != NULL && strcmp(cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring, "folder") == 0,
        "target id");
  CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "default")), "default target");
  CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(t, "folder")->valuestring, want) == 0,
        "default folder is data_dir/recordings");
  CHECK(strstr(cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring, "Record to ") != NULL,
        "name");
  cJSON_Delete(doc);
  harness_free_str(&g_plugin, &js);

  /* negotiate: any format, exactly. */
  st_str_t target = harness_str("{\"id\":\"folder\"}");
  static const st_audio_spec_t specs[] = {{44100, 2, 0}, {8000, 1, 0}, {384000, 8, 0},
                                          {48000, 24, 0}};
  for (size_t i = 0; i < 4; i++) {
    st_negotiated_spec_t n = {.struct_size = sizeof n};
    CHECK(s.vt->negotiate_spec(s.inst.handle, &target, &specs[i], &n, &err) == ST_OK &&
              n.flags == ST_NEGOTIATE_EXACT && n.spec.sample_rate == specs[i].sample_rate &&
              n.spec.channels == specs[i].channels,
          "negotiate %u/%u", specs[i].sample_rate, specs[i].channels);
  }
  st_audio_spec_t bad = {0, 2, 0};
  st_negotiated_spec_t n = {.struct_size = sizeof n};
  CHECK(s.vt->negotiate_spec(s.inst.handle, &target, &bad, &n, &err) == ST_ERR_INVALID_ARG,
        "negotiate a zero rate");
  harness_free_str(&g_plugin, &err);

  /* config */
  const st_config_vtable_t *cfg = s.vt->base.config;
  st_config_mode_t mode = 0;
  st_str_t reason = {NULL, 0};
  st_str_t c = harness_str("{\"format\":\"s16\",\"folder\":\"/tmp/x\"}");
  CHECK(cfg->plan_update(s.inst.handle, &c, &mode, &reason) == ST_OK &&
            mode == ST_CONFIG_HOT_APPLY,
        "plan -> HOT_APPLY");
  harness_free_str(&g_plugin, &reason);
  st_str_t badc = harness_str("{\"format\":\"mp3\"}");
  CHECK(cfg->plan_update(s.inst.handle, &badc, &mode, &reason) == ST_OK &&
            mode == ST_CONFIG_REJECT && reason.len > 0,
        "plan of format mp3 -> REJECT");
  printf("REJECT {\"format\":\"mp3\"}: %.*s\n", (int)reason.len, reason.ptr);
  harness_free_str(&g_plugin, &reason);
  CHECK(cfg->apply_update(s.inst.handle, &badc, &err) == ST_ERR_INVALID_ARG, "apply bad");
  harness_free_str(&g_plugin, &err);
  CHECK(cfg->apply_update(s.inst.handle, &c, &err) == ST_OK, "apply");
  CHECK(s.vt->list_targets_json(s.inst.handle, &js, &err) == ST_OK &&
            strstr(js.ptr, "\"folder\":\"/tmp/x\"") != NULL,
        "the folder follows the config: %.*s", (int)js.len, js.ptr);
  harness_free_str(&g_plugin, &js);
  sink_destroy(&s);
  st_instance_t inst;
  st_audio_spec_t none = {0, 0, 0};
  CHECK(harness_create(&g_plugin, ST_CAP_OUTPUT_SINK, "wav-file", "{\"format\":1}", none,
                       &inst) == ST_ERR_INVALID_ARG,
        "create with a bad config");
}

/* f32: what goes in comes out bit for bit through ffmpeg (and as exactly as sox can represent
 * it), for 1, 2 and 6 channels. */
static void case_roundtrip(void) {
  static const struct {
    uint32_t rate;
    uint16_t channels;
    uint16_t tag;
  } cases[] = {{44100, 1, 3}, {48000, 2, 3}, {96000, 6, 0xFFFE}};
  for (size_t i = 0; i < 3; i++) {
    sink_t s;
    char target[4096], path[4096], name[64];
    snprintf(name, sizeof name, "rt_%uch.wav", cases[i].channels);
    work_path(path, sizeof path, name);
    uint16_t ch = cases[i].channels;
    size_t frames = cases[i].rate * 3 / 2 + 17;
    float *sig = make_signal(frames, ch, 7 + (uint32_t)i, false);
    sig[3] = 1.5f; /* out of range values are kept in float */
    sig[4] = -2.25f;
    if (!sink_create(&s, "{\"format\":\"f32\"}") ||
        sink_open(&s, file_target(target, sizeof target, name), cases[i].rate, ch) != ST_OK) {
      CHECK(false, "%s: setup", name);
      sink_destroy(&s);
      free(sig);
      continue;
    }
    CHECK(sink_write(&s, sig, frames, ch) == ST_OK, "%s: write", name);
    st_output_status_t status = {.struct_size = sizeof status};
    CHECK(s.vt->query_status(s.inst.handle, &status) == ST_OK && status.running == 1 &&
              status.frames_written == frames && status.frames_played == frames &&
              status.queued_frames == 0,
          "%s: status %llu/%llu", name, (unsigned long long)status.frames_written,
          (unsigned long long)status.frames_played);
    CHECK(s.vt->close(s.inst.handle) == ST_OK, "%s: close", name);
    CHECK(s.vt->query_status(s.inst.handle, &status) == ST_OK && status.running == 0,
          "%s: not running after close", name);
    header_t h;
    CHECK(read_header(path, &h) && strcmp(h.riff, "RIFF") == 0 && h.tag == cases[i].tag &&
              h.channels == ch && h.rate == cases[i].rate && h.bits == 32 && h.has_fact &&
              h.data_size == frames * ch * 4,
          "%s: header tag %#x ch %u rate %u bits %u data %u fact %d", name, h.tag, h.channels,
          h.rate, h.bits, h.data_size, h.has_fact);
    if (ch == 6) {
      CHECK(h.mask == 0x3F, "6 channels: 5.1 mask, got %#x", h.mask);
    }
    size_t n = 0;
    float *back = ffmpeg_decode(path, &n);
    CHECK(n == frames * ch && back != NULL &&
              memcmp(back, sig, sizeof(float) * frames * ch) == 0,
          "%s: ffmpeg reads %zu samples, want %zu, identical", name, n, frames * ch);
    free(back);
    /* sox carries samples as 32-bit integers and converts back to float: it reads float files
     * to within 2^-24 (one float ulp at full scale) and clips to [-1, 1]; compared within that. */
    back = sox_decode(path, &n);
    double worst = n == frames * ch && back != NULL ? 0.0 : INFINITY;
    for (size_t k = 0; k < n && k < frames * ch; k++) {
      double want = sig[k] > 1.0f ? 1.0 : sig[k] < -1.0f ? -1.0 : sig[k];
      worst = fmax(worst, fabs(back[k] - want));
    }
    CHECK(worst <= 0x1p-24, "%s: sox reads %zu samples (want %zu), max error %g", name, n,
          frames * ch, worst);
    free(back);
    printf("%-10s f32 %u Hz %u ch, %zu frames: ffmpeg reads identical samples, sox within "
           "%.1e\n", name, cases[i].rate, ch, frames, worst);
    free(sig);
    sink_destroy(&s);
  }
}

/* s16: values on the 16-bit grid come back exactly; others round to nearest and clip. */
static void case_s16(void) {
  for (uint16_t ch = 2; ch <= 4; ch += 2) {
    sink_t s;
    char target[4096], path[4096], name[64];
    snprintf(name, sizeof name, "s16_%uch.wav", ch);
    work_path(path, sizeof path, name);
    size_t frames = 44100;
    float *sig = make_signal(frames, ch, 3, true);
    if (!sink_create(&s, "{\"format\":\"s16\"}") ||
        sink_open(&s, file_target(target, sizeof target, name), 44100, ch) != ST_OK) {
      CHECK(false, "setup");
      sink_destroy(&s);
      free(sig);
      continue;
    }
    /* The first frame tests clipping and rounding; expected values follow. */
    float special[4] = {1.5f, -2.0f, 0.5f / 32768.0f * 3.0f, 1.0f};
    memcpy(sig, special, sizeof(float) * ch);
    CHECK(sink_write(&s, sig, frames, ch) == ST_OK, "write");
    s.vt->base.destroy(s.inst.handle); /* destroy without close finalises too */
    s.vt = NULL;
    float want[4] = {32767.0f / 32768.0f, -1.0f, 2.0f / 32768.0f, 32767.0f / 32768.0f};
    memcpy(sig, want, sizeof(float) * ch);
    header_t h;
    CHECK(read_header(path, &h) && h.bits == 16 && h.tag == (ch > 2 ? 0xFFFE : 1) &&
              h.data_size == frames * ch * 2 && !h.has_fact,
          "%s: header tag %#x bits %u data %u", name, h.tag, h.bits, h.data_size);
    size_t n = 0;
    float *back = ffmpeg_decode(path, &n);
    CHECK(n == frames * ch && memcmp(back, sig, sizeof(float) * frames * ch) == 0,
          "%s: ffmpeg: %zu samples, first %g %g", name, n, back ? back[0] : 0.0,
          back ? back[1] : 0.0);
    free(back);
    back = sox_decode(path, &n);
    CHECK(n == frames * ch && memcmp(back, sig, sizeof(float) * frames * ch) == 0,
          "%s: sox: %zu samples", name, n);
    free(back);
    printf("%-10s s16 %u ch: ffmpeg and sox read identical samples (after rounding/clipping)\n",
           name, ch);
    free(sig);
    sink_destroy(&s);
  }
}

static void case_lifecycle(void) {
  sink_t s;
  char target[4096], path[4096];
  if (!sink_create(&s, "{}")) {
    CHECK(false, "create");
    return;
  }
  float buf[64] = {0};
  uint32_t acc = 99;
  CHECK(s.vt->write_f32(s.inst.handle, buf, 8, &acc) == ST_ERR_STATE && acc == 0,
        "write before open");
  CHECK(s.vt->close(s.inst.handle) == ST_OK, "close before open");
  CHECK(s.vt->flush(s.inst.handle) == ST_OK && s.vt->reset(s.inst.handle) == ST_OK,
        "flush/reset before open");
  CHECK(sink_open(&s, file_target(target, sizeof target, "life1.wav"), 48000, 2) == ST_OK,
        "open");
  st_str_t t = harness_str(target), err = {NULL, 0};
  st_audio_spec_t spec = {48000, 2, 0};
  CHECK(s.vt->open(s.inst.handle, &t, &spec, &err) == ST_ERR_STATE && err.len > 0,
        "open twice");
  harness_free_str(&g_plugin, &err);
  float *sig = make_signal(4800, 2, 5, false);
  CHECK(sink_write(&s, sig, 4800, 2) == ST_OK, "write");
  CHECK(s.vt->reset(s.inst.handle) == ST_OK, "reset");
  CHECK(s.vt->close(s.inst.handle) == ST_OK, "close");
  CHECK(s.vt->close(s.inst.handle) == ST_OK, "close twice");
  /* Open again (e.g. a new format) into another file. */
  CHECK(sink_open(&s, file_target(target, sizeof target, "life2.wav"), 22050, 1) == ST_OK,
        "reopen");
  CHECK(sink_write(&s, sig, 4800, 1) == ST_OK, "write");
  sink_destroy(&s);
  size_t n = 0;
  float *back = ffmpeg_decode(work_path(path, sizeof path, "life1.wav"), &n);
  CHECK(n == 9600 && memcmp(back, sig, sizeof(float) * 9600) == 0, "life1: %zu", n);
  free(back);
  back = ffmpeg_decode(work_path(path, sizeof path, "life2.wav"), &n);
  CHECK(n == 4800 && memcmp(back, sig, sizeof(float) * 4800) == 0, "life2: %zu", n);
  free(back);
  free(sig);
  /* A file in a folder that does not exist: a clear ST_ERR_IO. */
  sink_create(&s, "{}");
  t = harness_str("{\"file\":\"/nonexistent-dir/x/y.wav\"}");
  CHECK(s.vt->open(s.inst.handle, &t, &spec, &err) == ST_ERR_IO && err.len > 0, "bad path");
  printf("unwritable path: %.*s\n", (int)err.len, err.ptr);
  harness_free_str(&g_plugin, &err);
  sink_destroy(&s);
}

/* The file is readable while recording: after flush, and every 2 s of audio without one. */
static void case_crash_safe(void) {
  sink_t s;
  char target[4096], path[4096];
  work_path(path, sizeof path, "live.wav");
  if (!sink_create(&s, "{}") ||
      sink_open(&s, file_target(target, sizeof target, "live.wav"), 48000, 2) != ST_OK) {
    CHECK(false, "setup");
    return;
  }
  float *sig = make_signal(48000 * 5, 2, 11, false);
  CHECK(sink_write(&s, sig, 12345, 2) == ST_OK, "write");
  CHECK(s.vt->flush(s.inst.handle) == ST_OK, "flush");
  size_t n = 0;
  float *back = ffmpeg_decode(path, &n);
  CHECK(n == 12345 * 2 && memcmp(back, sig, n * sizeof(float)) == 0,
        "after flush: %zu samples", n);
  free(back);
  /* Keep writing without flush: past 2 s of audio the header has been patched on its own. */
  CHECK(sink_write(&s, sig + 12345 * 2, 48000 * 5 - 12345, 2) == ST_OK, "write");
  header_t h;
  read_header(path, &h);
  CHECK(h.data_size >= 48000 * 4 * 2, "without flush the header lags too far: %u bytes",
        h.data_size);
  back = ffmpeg_decode(path, &n);
  CHECK(n >= 48000 * 4 * 2 && memcmp(back, sig, n * sizeof(float)) == 0,
        "mid-recording: %zu samples readable", n);
  printf("mid-recording without flush: %.2f s of 5 s readable\n", (double)n / 2 / 48000);
  free(back);
  sink_destroy(&s);
  free(sig);
}

/* Without a "file", recordings go to the folder with timestamped, never-clashing names. */
static void case_folder(void) {
  char folder[4096], config[4200];
  snprintf(folder, sizeof folder, "%s/rec-folder/sub", g_work);
  snprintf(config, sizeof config, "{\"folder\":\"%s\",\"format\":\"s16\"}", folder);
  sink_t s;
  if (!sink_create(&s, config)) {
    CHECK(false, "create");
    return;
  }
  st_str_t js = {NULL, 0}, err = {NULL, 0};
  s.vt->list_targets_json(s.inst.handle, &js, &err);
  char target[8192];
  snprintf(target, sizeof target, "%.*s", (int)js.len, js.ptr);
  harness_free_str(&g_plugin, &js);
  /* Pass the listed target back verbatim, as the host does. */
  cJSON *doc = cJSON_Parse(target);
  char *one = cJSON_PrintUnformatted(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "targets"), 0));
  float *sig = make_signal(4410, 2, 1, true);
  for (int i = 0; i < 3; i++) {
    CHECK(sink_open(&s, one, 44100, 2) == ST_OK, "open %d in the folder", i);
    CHECK(sink_write(&s, sig, 4410, 2) == ST_OK, "write");
    CHECK(s.vt->close(s.inst.handle) == ST_OK, "close");
  }
  free(one);
  cJSON_Delete(doc);
  sink_destroy(&s);
  DIR *d = opendir(folder);
  int count = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "stellatune-", 11) == 0 && strstr(e->d_name, ".wav") != NULL) {
      char path[8192];
      snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
      size_t n = 0;
      float *back = ffmpeg_decode(path, &n);
      CHECK(n == 8820 && memcmp(back, sig, n * sizeof(float)) == 0, "%s: %zu", e->d_name, n);
      free(back);
      printf("recorded %s\n", e->d_name);
      count++;
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  CHECK(count == 3, "3 recordings in the folder, found %d", count);
  free(sig);

  /* The default folder: data_dir/recordings, created on demand. */
  sink_create(&s, "{}");
  CHECK(sink_open(&s, "{\"id\":\"folder\"}", 48000, 1) == ST_OK, "open in the default folder");
  sink_destroy(&s);
  char rec[4096];
  snprintf(rec, sizeof rec, "%s/recordings", g_work);
  struct stat st;
  CHECK(stat(rec, &st) == 0 && S_ISDIR(st.st_mode), "%s created", rec);
}

/* A full disk surfaces as ST_ERR_IO (the host then treats it as a lost device). */
static void case_disk_full(void) {
  if (access("/dev/full", W_OK) != 0) {
    printf("/dev/full not available; skipped\n");
    return;
  }
  sink_t s;
  sink_create(&s, "{}");
  /* The header goes to stdio's buffer, so open succeeds; the disk fills on a later write. */
  CHECK(sink_open(&s, "{\"file\":\"/dev/full\"}", 48000, 2) == ST_OK, "open /dev/full");
  float *sig = make_signal(4800, 2, 2, false);
  st_status_t st = ST_OK;
  for (int i = 0; i < 100 && st == ST_OK; i++) {
    uint32_t acc = 0;
    st = s.vt->write_f32(s.inst.handle, sig, 4800, &acc);
  }
  if (st == ST_OK) {
    st = s.vt->flush(s.inst.handle);
  }
  CHECK(st == ST_ERR_IO, "writing to a full disk: %d, want ST_ERR_IO", st);
  printf("full disk: write/flush -> %d (ST_ERR_IO)\n", st);
  s.vt->close(s.inst.handle);
  sink_destroy(&s);
  free(sig);
}

static void case_realtime(void) {
#if HARNESS_COUNTS_ALLOCS
  for (int fmt = 0; fmt < 2; fmt++) {
    sink_t s;
    char target[4096];
    if (!sink_create(&s, fmt == 0 ? "{\"format\":\"f32\"}" : "{\"format\":\"s16\"}") ||
        sink_open(&s, file_target(target, sizeof target, "rt.wav"), 48000, 6) != ST_OK) {
      CHECK(false, "setup");
      sink_destroy(&s);
      continue;
    }
    float *sig = make_signal(4800, 6, 9, false);
    long before = harness_alloc_count();
    for (int i = 0; i < 100; i++) { /* 10 s, past several automatic header patches */
      uint32_t acc = 0;
      s.vt->write_f32(s.inst.handle, sig, 4800, &acc);
      st_output_status_t status = {.struct_size = sizeof status};
      s.vt->query_status(s.inst.handle, &status);
    }
    long allocs = harness_alloc_count() - before;
    printf("%s: write_f32/query_status for 10 s of 6-channel audio: %ld allocations\n",
           fmt == 0 ? "f32" : "s16", allocs);
    CHECK(allocs == 0, "write_f32 allocated %ld times", allocs);
    free(sig);
    sink_destroy(&s);
  }
#else
  printf("allocation counting needs glibc; skipped\n");
#endif
}

static const harness_case_t k_cases[] = {
    {"module", case_module}, {"roundtrip", case_roundtrip}, {"s16", case_s16},
    {"lifecycle", case_lifecycle}, {"crash_safe", case_crash_safe}, {"folder", case_folder},
    {"disk_full", case_disk_full}, {"realtime", case_realtime},
};

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <case> <plugin> <work dir> <ffmpeg> <sox>\n", argv[0]);
    return 2;
  }
  /* Each case works in a fresh folder of its own (cases may run in parallel). */
  static char work[4096];
  snprintf(work, sizeof work, "%s/%s", argv[3], argv[1]);
  if (st_remove_tree(work) != 0) {
    return 1;
  }
  st_mkdir(argv[3]);
  st_mkdir(work);
  g_work = work;
  g_ffmpeg = argv[4];
  g_sox = argv[5];
  if (harness_load(&g_plugin, argv[2], g_work) != 0) {
    return 1;
  }
  return harness_run_case(&g_plugin, argv[1], k_cases, sizeof k_cases / sizeof k_cases[0]);
}
