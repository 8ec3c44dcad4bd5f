/*
 * Tests of the sndfile-decoder plugin, driven like the host drives it: dlopen the built library,
 * create a Decoder instance, hand it a stream over a real file, and compare what read_f32 yields
 * with ffmpeg's decode of the same file (make_media.cmake writes <file>.f32 references).
 *
 *   sndfile_decoder_test <case> <plugin.so> <media dir>
 *
 * Cases: module, lossless, lossy, seek, metadata, corrupt, streams, realtime.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "file_stream.h"
#include "plugin_harness.h"
#include "stellatune/decoder.h"

static harness_plugin_t g_plugin;
static const char *g_media;

/* ---- A decoder instance over a file stream ------------------------------------------------ */

typedef struct decoder {
  st_instance_t inst;
  const st_decoder_vtable_t *vt;
  file_stream_t fs;
  st_decoder_info_t info;
} decoder_t;

static const char *media_path(const char *name) {
  static char buf[4096];
  return harness_join(buf, sizeof buf, g_media, name);
}

static bool dec_create(decoder_t *d) {
  memset(d, 0, sizeof *d);
  st_audio_spec_t none = {0, 0, 0};
  if (harness_create(&g_plugin, ST_CAP_DECODER, "sndfile", "{}", none, &d->inst) != ST_OK) {
    return false;
  }
  d->vt = (const st_decoder_vtable_t *)d->inst.vtable;
  return true;
}

static const char *ext_of(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot != NULL ? dot + 1 : "";
}

/* Opens a file (absolute path, or a name in the media folder) on a fresh stream. */
static st_status_t dec_open_path(decoder_t *d, const char *path, bool live, size_t max_read,
                                 char *err, size_t err_cap) {
  file_stream_close(&d->fs);
  if (file_stream_open(&d->fs, path) != 0) {
    snprintf(err, err_cap, "cannot open %s", path);
    return ST_ERR_IO;
  }
  d->fs.max_read = max_read;
  st_decoder_open_args_t args;
  memset(&args, 0, sizeof args);
  args.struct_size = sizeof args;
  args.path = harness_str(path);
  args.ext = harness_str(ext_of(path));
  args.stream = file_stream_as_stream(&d->fs, live);
  st_str_t e = {NULL, 0};
  st_status_t st = d->vt->open(d->inst.handle, &args, &e);
  snprintf(err, err_cap, "%.*s", (int)e.len, e.ptr != NULL ? e.ptr : "");
  harness_free_str(&g_plugin, &e);
  if (st == ST_OK) {
    memset(&d->info, 0, sizeof d->info);
    d->info.struct_size = sizeof d->info;
    st = d->vt->get_info(d->inst.handle, &d->info);
  }
  return st;
}

static st_status_t dec_open(decoder_t *d, const char *name) {
  char err[512];
  st_status_t st = dec_open_path(d, media_path(name), false, 0, err, sizeof err);
  if (st != ST_OK) {
    fprintf(stderr, "open %s: %d %s\n", name, st, err);
  }
  return st;
}

static void dec_destroy(decoder_t *d) {
  if (d->vt != NULL) {
    d->vt->base.destroy(d->inst.handle);
  }
  file_stream_close(&d->fs);
  memset(d, 0, sizeof *d);
}

/* Reads to the end in blocks of `block` frames; returns the samples (caller frees) and sets the
 * frame count and the status of the last call. */
static float *dec_read_all(decoder_t *d, uint32_t block, uint64_t *out_frames,
                           st_status_t *out_status) {
  uint32_t ch = d->info.spec.channels;
  size_t cap = 1 << 16, frames = 0;
  float *buf = malloc(cap * ch * sizeof(float));
  st_status_t st = ST_OK;
  for (;;) {
    if (frames + block > cap) {
      cap *= 2;
      buf = realloc(buf, cap * ch * sizeof(float));
    }
    uint32_t got = 0;
    st = d->vt->read_f32(d->inst.handle, buf + frames * ch, block, &got);
    frames += got;
    if (st != ST_OK || got == 0) {
      break;
    }
  }
  *out_frames = frames;
  *out_status = st;
  return buf;
}

typedef struct reference {
  float *samples;
  uint64_t frames;
} reference_t;

static bool load_reference(const char *name, uint32_t channels, reference_t *ref) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.f32", g_media, name);
  size_t len = 0;
  ref->samples = harness_read_file(path, &len);
  ref->frames = len / sizeof(float) / channels;
  if (ref->samples == NULL) {
    fprintf(stderr, "no reference %s\n", path);
  }
  return ref->samples != NULL;
}

/* ---- Comparison ----------------------------------------------------------------------------- */

typedef struct diff {
  uint64_t mismatches;
  double max_abs;
  double snr_db; /* reference energy over difference energy; INFINITY when identical */
} diff_t;

static diff_t compare(const float *got, const float *want, size_t samples) {
  diff_t r = {0, 0.0, INFINITY};
  double sig = 0.0, err = 0.0;
  for (size_t i = 0; i < samples; i++) {
    double e = (double)got[i] - (double)want[i];
    if (got[i] != want[i]) {
      r.mismatches++;
    }
    if (fabs(e) > r.max_abs) {
      r.max_abs = fabs(e);
    }
    sig += (double)want[i] * want[i];
    err += e * e;
  }
  if (err > 0.0) {
    r.snr_db = 10.0 * log10(sig / err);
  }
  return r;
}

/* The offset (in frames) at which `got` best matches `want` on channel 0, within ±max_lag, over a
 * window in the middle of the track. 0 means both decoders agree on the start of the audio. */
static long best_lag(const float *got, uint64_t got_frames, const float *want,
                     uint64_t want_frames, uint32_t ch, long max_lag) {
  uint64_t start = 20000, len = 16384;
  if (got_frames < start + len + (uint64_t)max_lag || want_frames < start + len) {
    return 0;
  }
  long best = 0;
  double best_err = INFINITY;
  for (long lag = -max_lag; lag <= max_lag; lag++) {
    double e = 0.0;
    for (uint64_t i = start; i < start + len; i++) {
      double d = (double)got[(uint64_t)((long)i + lag) * ch] - want[i * ch];
      e += d * d;
    }
    if (e < best_err) {
      best_err = e;
      best = lag;
    }
  }
  return best;
}

/* ---- Cases ---------------------------------------------------------------------------------- */

static bool has_ext(const st_capability_t *cap, const char *ext) {
  for (uint32_t i = 0; i < cap->decoder_ext_count; i++) {
    if (strcmp(cap->decoder_exts[i].ext, ext) == 0) {
      return true;
    }
  }
  return false;
}

static void case_module(void) {
  const st_module_t *m = g_plugin.module;
  CHECK(m->struct_size == sizeof(st_module_t), "struct_size %u", m->struct_size);
  cJSON *meta = cJSON_Parse(m->metadata_json);
  CHECK(meta != NULL, "metadata is not JSON: %s", m->metadata_json);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(meta, "id");
  CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "dev.stellatune.sndfile") == 0, "id");
  const cJSON *abi = cJSON_GetObjectItemCaseSensitive(meta, "abi_version");
  CHECK(cJSON_IsNumber(abi) && abi->valueint == ST_PLUGIN_API_VERSION, "abi_version");
  CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "name")), "name");
  CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "version")), "version");
  printf("metadata: %s\n", m->metadata_json);
  cJSON_Delete(meta);

  const st_capability_t *cap = harness_cap(&g_plugin, "sndfile");
  CHECK(cap != NULL && cap->kind == ST_CAP_DECODER, "no decoder capability 'sndfile'");
  if (cap == NULL) {
    return;
  }
  cJSON *schema = cJSON_Parse(cap->config_schema_json);
  CHECK(schema != NULL && cJSON_IsObject(schema), "schema: %s", cap->config_schema_json);
  cJSON_Delete(schema);
  CHECK(strcmp(cap->default_config_json, "{}") == 0, "default config");
  printf("extensions:");
  for (uint32_t i = 0; i < cap->decoder_ext_count; i++) {
    const st_ext_score_t *e = &cap->decoder_exts[i];
    printf(" %s=%u", e->ext, e->score);
    CHECK(e->score >= 1 && e->score <= 1000, "score of %s", e->ext);
  }
  printf("\n");
  /* Debian's libsndfile 1.2 has all of these; a build without MPEG/Opus would not claim them. */
#ifdef ST_SNDFILE_NO_CODECS
  static const char *const expected[] = {"wav", "aiff", "aif", "w64", "caf"};
  CHECK(!has_ext(cap, "flac") && !has_ext(cap, "mp3"), "claims a codec its libsndfile lacks");
#else
  static const char *const expected[] = {"wav", "aiff", "aif", "flac", "ogg", "oga", "opus", "mp3"};
#endif
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    CHECK(has_ext(cap, expected[i]), "extension %s not claimed", expected[i]);
  }

  /* Instances and config. */
  st_instance_t inst;
  st_audio_spec_t none = {0, 0, 0};
  CHECK(harness_create(&g_plugin, ST_CAP_DECODER, "sndfile", "not json", none, &inst) ==
            ST_ERR_INVALID_ARG,
        "a malformed config must be refused");
  CHECK(harness_create(&g_plugin, ST_CAP_DECODER, "nope", "{}", none, &inst) != ST_OK,
        "unknown type_id");
  CHECK(harness_create(&g_plugin, ST_CAP_DECODER, "sndfile", "{}", none, &inst) == ST_OK,
        "create");
  const st_decoder_vtable_t *vt = (const st_decoder_vtable_t *)inst.vtable;
  CHECK(vt->base.kind == ST_CAP_DECODER && vt->base.struct_size == sizeof(st_decoder_vtable_t),
        "vtable base");
  const st_config_vtable_t *cfg = vt->base.config;
  CHECK(cfg != NULL, "config vtable");
  if (cfg != NULL) {
    st_config_mode_t mode = 0;
    st_str_t reason = {NULL, 0};
    st_str_t c = harness_str("{}");
    CHECK(cfg->plan_update(inst.handle, &c, &mode, &reason) == ST_OK &&
              mode == ST_CONFIG_HOT_APPLY,
          "plan {} -> HOT_APPLY");
    harness_free_str(&g_plugin, &reason);
    CHECK(cfg->apply_update(inst.handle, &c, &reason) == ST_OK, "apply");
    st_str_t bad = harness_str("[1,2]");
    CHECK(cfg->plan_update(inst.handle, &bad, &mode, &reason) == ST_OK &&
              mode == ST_CONFIG_REJECT && reason.len > 0,
          "plan of a non-object -> REJECT with a reason");
    harness_free_str(&g_plugin, &reason);
    st_str_t state = {NULL, 0};
    CHECK(cfg->export_state(inst.handle, &state, &reason) == ST_OK && state.ptr == NULL,
          "export_state is empty");
  }
  /* Calls before open. */
  float buf[64];
  uint32_t got = 99;
  CHECK(vt->read_f32(inst.handle, buf, 8, &got) == ST_ERR_STATE && got == 0, "read before open");
  uint64_t pos = 0;
  CHECK(vt->seek_ms(inst.handle, 0, &pos) == ST_ERR_STATE, "seek before open");
  st_decoder_info_t info = {.struct_size = sizeof info};
  CHECK(vt->get_info(inst.handle, &info) == ST_ERR_STATE, "info before open");
  vt->base.destroy(inst.handle);
}

typedef struct media {
  const char *name;
  uint32_t rate;
  uint16_t channels;
} media_t;

static const media_t g_lossless[] = {
    {"src16.wav", 44100, 2}, {"s24_6ch.wav", 48000, 6}, {"f32.wav", 44100, 2},
    {"u8_mono.wav", 22050, 1}, {"a.aiff", 44100, 2},    {"a.w64", 44100, 2},
    {"a.caf", 44100, 2},     {"a.flac", 44100, 2},     {"b24.flac", 96000, 1},
};

static void case_lossless(void) {
  for (size_t i = 0; i < sizeof g_lossless / sizeof g_lossless[0]; i++) {
    const media_t *m = &g_lossless[i];
    decoder_t d;
    reference_t ref;
    if (!dec_create(&d) || !load_reference(m->name, m->channels, &ref)) {
      CHECK(false, "%s: setup", m->name);
      continue;
    }
    char err[512];
    /* Every other file through a stream that returns short reads (stream.h allows them). */
    st_status_t st = dec_open_path(&d, media_path(m->name), false, (i % 2) ? 997 : 0, err,
                                   sizeof err);
    CHECK(st == ST_OK, "%s: open %d %s", m->name, st, err);
    if (st == ST_OK) {
      const st_decoder_info_t *in = &d.info;
      CHECK(in->spec.sample_rate == m->rate && in->spec.channels == m->channels,
            "%s: spec %u/%u", m->name, in->spec.sample_rate, in->spec.channels);
      CHECK((in->flags & (ST_DECODER_SEEKABLE | ST_DECODER_HAS_DURATION | ST_DECODER_LOSSLESS)) ==
                (ST_DECODER_SEEKABLE | ST_DECODER_HAS_DURATION | ST_DECODER_LOSSLESS),
            "%s: flags %u", m->name, in->flags);
      CHECK(in->duration_frames == ref.frames, "%s: duration %llu, ffmpeg %llu", m->name,
            (unsigned long long)in->duration_frames, (unsigned long long)ref.frames);
      uint64_t frames = 0;
      float *pcm = dec_read_all(&d, 1000, &frames, &st);
      CHECK(st == ST_OK, "%s: final read status %d", m->name, st);
      CHECK(frames == ref.frames, "%s: %llu frames, ffmpeg %llu", m->name,
            (unsigned long long)frames, (unsigned long long)ref.frames);
      uint64_t n = frames < ref.frames ? frames : ref.frames;
      diff_t df = compare(pcm, ref.samples, n * m->channels);
      CHECK(df.mismatches == 0, "%s: %llu samples differ (max %.3g)", m->name,
            (unsigned long long)df.mismatches, df.max_abs);
      printf("%-12s %6u Hz %u ch %8llu frames: %s\n", m->name, m->rate, m->channels,
             (unsigned long long)frames, df.mismatches == 0 ? "sample-exact" : "DIFFERS");
      free(pcm);
    }
    free(ref.samples);
    dec_destroy(&d);
  }
}

/* Lossy decoders. libsndfile uses libopus (so does the ffmpeg reference: sample-exact here),
 * libvorbis (reference: ffmpeg's native float Vorbis decoder, max difference ~2.4e-7) and mpg123
 * (reference: ffmpeg's mp3float, max difference ~4.4e-6, SNR ~118 dB). Lengths must match
 * exactly (both honour the LAME gapless header and the Ogg granule positions / Opus pre-skip) and
 * the start must be aligned (lag 0); the error bounds are the measured figures with margin. */
typedef struct lossy {
  const char *name;
  uint32_t rate;
  double min_snr_db;
  double max_abs;
} lossy_t;

static const lossy_t g_lossy[] = {
    {"a.mp3", 44100, 100.0, 2e-5},
    {"vbr.mp3", 44100, 100.0, 2e-5},
    {"a.ogg", 44100, 120.0, 1e-6},
    {"a.opus", 48000, 120.0, 1e-6},
};

static void case_lossy(void) {
  for (size_t i = 0; i < sizeof g_lossy / sizeof g_lossy[0]; i++) {
    const lossy_t *m = &g_lossy[i];
    decoder_t d;
    reference_t ref;
    if (!dec_create(&d) || !load_reference(m->name, 2, &ref)) {
      CHECK(false, "%s: setup", m->name);
      continue;
    }
    if (dec_open(&d, m->name) != ST_OK) {
      CHECK(false, "%s: open", m->name);
      free(ref.samples);
      dec_destroy(&d);
      continue;
    }
    CHECK(d.info.spec.sample_rate == m->rate && d.info.spec.channels == 2, "%s: spec", m->name);
    CHECK((d.info.flags & ST_DECODER_LOSSLESS) == 0, "%s: must not claim lossless", m->name);
    CHECK(d.info.flags & ST_DECODER_SEEKABLE, "%s: seekable", m->name);
    CHECK(d.info.flags & ST_DECODER_HAS_DURATION, "%s: has duration", m->name);
    uint64_t frames = 0;
    st_status_t st;
    float *pcm = dec_read_all(&d, 4096, &frames, &st);
    CHECK(st == ST_OK, "%s: final status %d", m->name, st);
    double len_ms = ((double)frames - (double)ref.frames) * 1000.0 / m->rate;
    long lag = best_lag(pcm, frames, ref.samples, ref.frames, 2, 1200);
    uint64_t n = frames < ref.frames ? frames : ref.frames;
    diff_t df = compare(pcm, ref.samples, n * 2);
    printf("%-8s frames %llu (ffmpeg %llu, %+.2f ms, info %llu) lag %ld  max|err| %.3g  "
           "SNR %.1f dB\n",
           m->name, (unsigned long long)frames, (unsigned long long)ref.frames, len_ms,
           (unsigned long long)d.info.duration_frames, lag, df.max_abs, df.snr_db);
    CHECK(frames == ref.frames, "%s: length differs by %.2f ms", m->name, len_ms);
    CHECK(d.info.duration_frames == frames, "%s: duration %llu vs decoded %llu", m->name,
          (unsigned long long)d.info.duration_frames, (unsigned long long)frames);
    CHECK(lag == 0, "%s: offset by %ld frames", m->name, lag);
    CHECK(df.snr_db >= m->min_snr_db, "%s: SNR %.1f dB < %.1f", m->name, df.snr_db,
          m->min_snr_db);
    CHECK(df.max_abs <= m->max_abs, "%s: max error %.3g > %.3g", m->name, df.max_abs,
          m->max_abs);
    free(pcm);
    free(ref.samples);
    dec_destroy(&d);
  }
}

typedef struct seekable {
  const char *name;
  uint16_t channels;
  double min_snr_db; /* INFINITY: sample-exact after the seek */
} seekable_t;

/* Seeks to fixed and pseudo-random targets (far jumps, short hops back and forth from the current
 * position, the last second of the track, past the end) and checks that (a) the reported frame is
 * the nearest frame to the target, and (b) the audio that follows is the reference audio at that
 * frame. (b) is what catches a decoder that reports the right position but plays from another. */
static void case_seek(void) {
  static const seekable_t files[] = {
      {"src16.wav", 2, INFINITY}, {"a.aiff", 2, INFINITY},      {"a.flac", 2, INFINITY},
      {"b24.flac", 1, INFINITY},  {"s24_6ch.wav", 6, INFINITY}, {"a.mp3", 2, 100.0},
      {"vbr.mp3", 2, 100.0},      {"a.ogg", 2, 120.0},          {"mono22.ogg", 1, 120.0},
      {"a.opus", 2, 120.0},
  };
  static const uint64_t fixed_ms[] = {1000, 2345, 7, 3990, 0, 500, 1999, 1234, 60000};
  enum { kBlock = 512, kRandom = 300 };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const seekable_t *m = &files[i];
    decoder_t d;
    reference_t ref;
    if (!dec_create(&d) || !load_reference(m->name, m->channels, &ref) ||
        dec_open(&d, m->name) != ST_OK) {
      CHECK(false, "%s: setup", m->name);
      dec_destroy(&d);
      continue;
    }
    uint32_t rate = d.info.spec.sample_rate;
    uint64_t length_ms = ref.frames * 1000 / rate;
    float *buf = malloc(sizeof(float) * kBlock * m->channels);
    double worst_snr = INFINITY;
    unsigned bad = 0, count = 0;
    uint32_t rng = 12345u + (uint32_t)i;
    uint64_t current_ms = 0;
    size_t fixed_n = sizeof fixed_ms / sizeof fixed_ms[0];
    for (size_t t = 0; t < fixed_n + kRandom; t++) {
      uint64_t ms;
      if (t < fixed_n) {
        ms = fixed_ms[t];
      } else {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        switch (rng % 3) {
        case 0: /* anywhere */
          ms = (rng >> 8) % (length_ms + 1);
          break;
        case 1: /* a short hop back or forth */
          ms = current_ms + (rng >> 8) % 200;
          ms = ms > 100 ? ms - 100 : 0;
          break;
        default: /* the last second */
          ms = length_ms - (rng >> 8) % 1000;
          break;
        }
      }
      uint64_t want = (ms * rate + 500) / 1000;
      if (want > ref.frames) {
        want = ref.frames; /* past the end: lands on the end */
      }
      uint64_t pos = UINT64_MAX;
      st_status_t st = d.vt->seek_ms(d.inst.handle, ms, &pos);
      CHECK(st == ST_OK, "%s: seek %llu ms -> %d", m->name, (unsigned long long)ms, st);
      CHECK(pos == want, "%s: seek %llu ms landed on frame %llu, want %llu", m->name,
            (unsigned long long)ms, (unsigned long long)pos, (unsigned long long)want);
      if (want < ref.frames) {
        double off_ms = fabs((double)pos * 1000.0 / rate - (double)ms);
        CHECK(off_ms <= 10.0, "%s: %.2f ms off", m->name, off_ms);
      }
      uint32_t got = 0, total = 0;
      while (total < kBlock) {
        st = d.vt->read_f32(d.inst.handle, buf + (size_t)total * m->channels, kBlock - total,
                            &got);
        if (st != ST_OK || got == 0) {
          break;
        }
        total += got;
      }
      CHECK(st == ST_OK, "%s: read after seek %d", m->name, st);
      uint64_t avail = pos < ref.frames ? ref.frames - pos : 0;
      uint64_t expect = avail < kBlock ? avail : kBlock;
      CHECK(total == expect, "%s: read %u frames after seeking to %llu, want %llu", m->name,
            total, (unsigned long long)pos, (unsigned long long)expect);
      current_ms = (pos + total) * 1000 / rate;
      if (total > 0 && pos < ref.frames) {
        count++;
        diff_t df = compare(buf, ref.samples + pos * m->channels, (size_t)total * m->channels);
        bool ok = isinf(m->min_snr_db) ? df.mismatches == 0 : df.snr_db >= m->min_snr_db;
        if (!ok) {
          bad++;
          CHECK(bad > 3, "%s: after seeking to %llu ms (frame %llu) the audio differs: %llu "
                "samples, SNR %.1f dB", m->name, (unsigned long long)ms,
                (unsigned long long)pos, (unsigned long long)df.mismatches, df.snr_db);
        }
        if (df.snr_db < worst_snr) {
          worst_snr = df.snr_db;
        }
      }
    }
    CHECK(bad == 0, "%s: %u of %u seeks delivered the wrong audio", m->name, bad, count);
    printf("%-12s %u seeks, every one exact to the frame; audio after seek: ", m->name, count);
    if (isinf(worst_snr)) {
      printf("sample-exact\n");
    } else {
      printf("worst SNR %.1f dB vs ffmpeg\n", worst_snr);
    }
    free(buf);
    free(ref.samples);
    dec_destroy(&d);
  }
}

static const char *json_str(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double json_num(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

static void case_metadata(void) {
  static const struct {
    const char *name, *codec;
    int bits;         /* -1: must be absent */
    double kbps_min, kbps_max;
    bool tagged;
  } files[] = {
      {"a.flac", "flac", 16, 500, 1411, true},
      {"b24.flac", "flac", 24, 500, 2304, false},
      {"src16.wav", "pcm", 16, 1411, 1411, false},
      {"f32.wav", "pcm_f32", 32, 2822, 2822, false},
      {"a.mp3", "mp3", -1, 185, 200, true},
      {"a.ogg", "vorbis", -1, 60, 400, true},
      {"a.opus", "opus", -1, 100, 160, true},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    decoder_t d;
    if (!dec_create(&d) || dec_open(&d, files[i].name) != ST_OK) {
      CHECK(false, "%s: setup", files[i].name);
      dec_destroy(&d);
      continue;
    }
    st_str_t js = {NULL, 0};
    CHECK(d.vt->get_metadata_json(d.inst.handle, &js) == ST_OK, "%s: metadata", files[i].name);
    printf("%-10s %.*s\n", files[i].name, (int)js.len, js.ptr);
    cJSON *doc = cJSON_ParseWithLength(js.ptr, js.len);
    CHECK(doc != NULL, "%s: not JSON", files[i].name);
    CHECK(strcmp(json_str(doc, "codec"), files[i].codec) == 0, "%s: codec %s", files[i].name,
          json_str(doc, "codec"));
    if (files[i].bits > 0) {
      CHECK(json_num(doc, "bits_per_sample") == files[i].bits, "%s: bits", files[i].name);
    } else {
      CHECK(cJSON_GetObjectItemCaseSensitive(doc, "bits_per_sample") == NULL,
            "%s: bits_per_sample should be absent", files[i].name);
    }
    double kbps = json_num(doc, "bitrate_kbps");
    CHECK(kbps >= files[i].kbps_min && kbps <= files[i].kbps_max, "%s: bitrate %.0f",
          files[i].name, kbps);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(doc, "tags");
    CHECK(cJSON_IsObject(tags), "%s: tags", files[i].name);
    if (files[i].tagged) {
      CHECK(strcmp(json_str(tags, "title"), "Tëst Title") == 0, "%s: title '%s'", files[i].name,
            json_str(tags, "title"));
      CHECK(strcmp(json_str(tags, "artist"), "The Artist") == 0, "%s: artist", files[i].name);
      CHECK(strcmp(json_str(tags, "album"), "An Album") == 0, "%s: album", files[i].name);
      CHECK(strcmp(json_str(tags, "track"), "7") == 0, "%s: track", files[i].name);
      CHECK(strcmp(json_str(tags, "date"), "2021") == 0, "%s: date", files[i].name);
      CHECK(strcmp(json_str(tags, "genre"), "Jazz") == 0, "%s: genre", files[i].name);
    }
    cJSON_Delete(doc);
    harness_free_str(&g_plugin, &js);
    dec_destroy(&d);
  }
}

/* ---- Corrupt and truncated files ------------------------------------------------------------ */

static uint32_t g_rng = 0x2545F491u;
static uint8_t rng_byte(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return (uint8_t)g_rng;
}

/* Writes a variant of a media file into the media folder: the first `keep` bytes (or all, if 0)
 * with `burst` random bytes written at `burst_at`. Returns the path. */
static const char *make_variant(const char *name, const char *out_name, size_t keep,
                                size_t burst_at, size_t burst) {
  static char out[4096];
  size_t len = 0;
  uint8_t *data = harness_read_file(media_path(name), &len);
  if (data == NULL) {
    return NULL;
  }
  if (keep != 0 && keep < len) {
    len = keep;
  }
  for (size_t i = 0; i < burst && burst_at + i < len; i++) {
    data[burst_at + i] = rng_byte();
  }
  harness_join(out, sizeof out, g_media, out_name);
  int rc = harness_write_file(out, data, len);
  free(data);
  return rc == 0 ? out : NULL;
}

typedef enum expect { EXPECT_OPEN_FAILS, EXPECT_DECODE_ERROR, EXPECT_NO_CRASH } expect_t;

/* Opens, reads to the end, seeks around and reads again: whatever the data, nothing may crash
 * and every status must be one the ABI allows. */
static void try_corrupt(const char *label, const char *path, expect_t expect) {
  decoder_t d;
  if (path == NULL || !dec_create(&d)) {
    CHECK(false, "%s: setup", label);
    return;
  }
  char err[512];
  st_status_t st = dec_open_path(&d, path, false, 0, err, sizeof err);
  if (expect == EXPECT_OPEN_FAILS) {
    CHECK(st == ST_ERR_DECODE, "%s: open -> %d, want ST_ERR_DECODE", label, st);
    CHECK(err[0] != '\0', "%s: no error message", label);
    printf("%-22s open -> ST_ERR_DECODE (%s)\n", label, err);
    dec_destroy(&d);
    return;
  }
  if (st != ST_OK) {
    CHECK(st == ST_ERR_DECODE, "%s: open -> %d", label, st);
    printf("%-22s open -> %d (%s)\n", label, st, err);
    dec_destroy(&d);
    return;
  }
  uint64_t frames = 0;
  float *pcm = dec_read_all(&d, 4096, &frames, &st);
  free(pcm);
  CHECK(st == ST_OK || st == ST_ERR_DECODE, "%s: read -> %d", label, st);
  if (expect == EXPECT_DECODE_ERROR) {
    CHECK(st == ST_ERR_DECODE, "%s: read ended with %d, want ST_ERR_DECODE", label, st);
  }
  if (d.info.flags & ST_DECODER_HAS_DURATION) {
    CHECK(frames <= d.info.duration_frames, "%s: %llu frames > duration", label,
          (unsigned long long)frames);
  }
  printf("%-22s open ok, %llu of %llu frames, then %s\n", label, (unsigned long long)frames,
         (unsigned long long)d.info.duration_frames,
         st == ST_OK ? "end (ST_OK)" : st == ST_ERR_DECODE ? "ST_ERR_DECODE" : "?");
  /* Seeking in damaged data may fail, but must answer. */
  static const uint64_t ms[] = {3000, 100, 0, 2000};
  float buf[4096 * 2];
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
    uint64_t pos = 0;
    st = d.vt->seek_ms(d.inst.handle, ms[i], &pos);
    CHECK(st == ST_OK || st == ST_ERR_DECODE, "%s: seek -> %d", label, st);
    uint32_t got = 0;
    st = d.vt->read_f32(d.inst.handle, buf, 4096 / d.info.spec.channels, &got);
    CHECK(st == ST_OK || st == ST_ERR_DECODE, "%s: read after seek -> %d", label, st);
  }
  dec_destroy(&d);
}

static void case_corrupt(void) {
  /* Pure garbage, empty, and files cut inside their headers: open fails with ST_ERR_DECODE. */
  uint8_t garbage[65536];
  for (size_t i = 0; i < sizeof garbage; i++) {
    garbage[i] = rng_byte();
  }
  char path[4096];
  harness_write_file(harness_join(path, sizeof path, g_media, "garbage.wav"), garbage,
                     sizeof garbage);
  try_corrupt("garbage.wav", path, EXPECT_OPEN_FAILS);
  harness_write_file(harness_join(path, sizeof path, g_media, "garbage.mp3"), garbage,
                     sizeof garbage);
  try_corrupt("garbage.mp3", path, EXPECT_OPEN_FAILS);
  harness_write_file(harness_join(path, sizeof path, g_media, "empty.flac"), garbage, 0);
  try_corrupt("empty.flac", path, EXPECT_OPEN_FAILS);
  /* A RIFF/WAVE header followed by garbage. */
  memcpy(garbage, "RIFF\x24\x10\x00\x00WAVEfmt ", 16);
  harness_write_file(harness_join(path, sizeof path, g_media, "riff_garbage.wav"), garbage, 4096);
  try_corrupt("riff_garbage.wav", path, EXPECT_OPEN_FAILS);
  try_corrupt("header-cut.wav", make_variant("src16.wav", "cut_hdr.wav", 30, 0, 0),
              EXPECT_OPEN_FAILS);
  try_corrupt("header-cut.flac", make_variant("a.flac", "cut_hdr.flac", 20, 0, 0),
              EXPECT_OPEN_FAILS);
  try_corrupt("header-cut.ogg", make_variant("a.ogg", "cut_hdr.ogg", 60, 0, 0),
              EXPECT_OPEN_FAILS);
  try_corrupt("header-cut.opus", make_variant("a.opus", "cut_hdr.opus", 50, 0, 0),
              EXPECT_OPEN_FAILS);
  try_corrupt("header-cut.aiff", make_variant("a.aiff", "cut_hdr.aiff", 24, 0, 0),
              EXPECT_OPEN_FAILS);

  /* Cut in the middle of the audio. FLAC promises its length, so the shortfall is an error
   * once the decodable part was delivered; the others play what is there. */
  try_corrupt("truncated.flac", make_variant("a.flac", "cut.flac", 300000, 0, 0),
              EXPECT_DECODE_ERROR);
  try_corrupt("truncated.wav", make_variant("src16.wav", "cut.wav", 300001, 0, 0),
              EXPECT_NO_CRASH);
  try_corrupt("truncated.mp3", make_variant("a.mp3", "cut.mp3", 40000, 0, 0), EXPECT_NO_CRASH);
  try_corrupt("truncated.ogg", make_variant("a.ogg", "cut.ogg", 30000, 0, 0), EXPECT_NO_CRASH);
  try_corrupt("truncated.opus", make_variant("a.opus", "cut.opus", 30000, 0, 0),
              EXPECT_NO_CRASH);

  /* Random bytes in the middle of the audio data. */
  try_corrupt("damaged.flac", make_variant("a.flac", "bad.flac", 0, 200000, 4000),
              EXPECT_DECODE_ERROR);
  try_corrupt("damaged.mp3", make_variant("a.mp3", "bad.mp3", 0, 30000, 2000), EXPECT_NO_CRASH);
  try_corrupt("damaged.ogg", make_variant("a.ogg", "bad.ogg", 0, 20000, 3000), EXPECT_NO_CRASH);
  try_corrupt("damaged.opus", make_variant("a.opus", "bad.opus", 0, 20000, 3000),
              EXPECT_NO_CRASH);
  try_corrupt("damaged.wav", make_variant("src16.wav", "bad.wav", 0, 100000, 3000),
              EXPECT_NO_CRASH);
}

/* ---- Streams that are not plain files ------------------------------------------------------- */

static void case_streams(void) {
  char err[512];
  decoder_t d;

  /* A live stream (no seek, no size): refused clearly so the host can try another decoder. */
  dec_create(&d);
  st_status_t st = dec_open_path(&d, media_path("src16.wav"), true, 0, err, sizeof err);
  CHECK(st == ST_ERR_UNSUPPORTED, "live stream: open -> %d", st);
  CHECK(strstr(err, "seek") != NULL, "live stream: message '%s'", err);
  printf("live stream: ST_ERR_UNSUPPORTED (%s)\n", err);

  /* The same instance opens a normal stream afterwards. */
  st = dec_open_path(&d, media_path("a.flac"), false, 0, err, sizeof err);
  CHECK(st == ST_OK, "reuse after a failed open: %d %s", st, err);

  /* Seekable but of unknown size: measured with seek(END), decodes exactly. */
  reference_t ref;
  load_reference("a.flac", 2, &ref);
  file_stream_close(&d.fs);
  file_stream_open(&d.fs, media_path("a.flac"));
  d.fs.unknown_size = true;
  d.fs.max_read = 7; /* and tiny short reads */
  st_decoder_open_args_t args = {.struct_size = sizeof args};
  args.ext = harness_str("flac");
  args.stream = file_stream_as_stream(&d.fs, false);
  st_str_t e = {NULL, 0};
  st = d.vt->open(d.inst.handle, &args, &e);
  harness_free_str(&g_plugin, &e);
  CHECK(st == ST_OK, "unknown size: open %d", st);
  if (st == ST_OK) {
    d.vt->get_info(d.inst.handle, &d.info);
    uint64_t frames = 0;
    float *pcm = dec_read_all(&d, 1024, &frames, &st);
    CHECK(st == ST_OK && frames == ref.frames, "unknown size: %llu frames, status %d",
          (unsigned long long)frames, st);
    CHECK(compare(pcm, ref.samples, frames * 2).mismatches == 0, "unknown size: differs");
    printf("unknown-size stream with 7-byte reads: %llu frames, sample-exact\n",
           (unsigned long long)frames);
    free(pcm);
  }
  free(ref.samples);
  dec_destroy(&d);

  /* Transport errors are passed on from read_f32 (decoder.h), not turned into ST_ERR_DECODE. */
  static const struct {
    const char *name;
    st_status_t code;
  } failing[] = {{"src16.wav", ST_ERR_NETWORK}, {"a.flac", ST_ERR_TIMEOUT},
                 {"a.mp3", ST_ERR_NETWORK},     {"a.ogg", ST_ERR_NETWORK},
                 {"a.opus", ST_ERR_TIMEOUT}};
  for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
    dec_create(&d);
    st = dec_open_path(&d, media_path(failing[i].name), false, 0, err, sizeof err);
    d.fs.fail_at = d.fs.size / 2;
    d.fs.fail_code = failing[i].code;
    uint64_t frames = 0;
    free(dec_read_all(&d, 4096, &frames, &st));
    CHECK(st == failing[i].code, "%s: a stream error %d surfaced as %d", failing[i].name,
          failing[i].code, st);
    CHECK(frames > 0, "%s: nothing decoded before the error", failing[i].name);
    printf("%-10s stream error %d after %llu frames -> read_f32 returned %d\n", failing[i].name,
           failing[i].code, (unsigned long long)frames, st);
    /* The stream recovers; a seek is a fresh attempt. */
    d.fs.fail_code = ST_OK;
    uint64_t pos = 0;
    st = d.vt->seek_ms(d.inst.handle, 500, &pos);
    uint32_t got = 0;
    float buf[1024 * 2];
    st_status_t rst = d.vt->read_f32(d.inst.handle, buf, 1024, &got);
    CHECK(st == ST_OK && rst == ST_OK && got > 0, "%s: no recovery after the stream error "
          "(seek %d, read %d, %u frames)", failing[i].name, st, rst, got);
    dec_destroy(&d);

    /* An error while the header is read fails open with the stream's code. */
    dec_create(&d);
    file_stream_open(&d.fs, media_path(failing[i].name));
    d.fs.fail_at = 16;
    d.fs.fail_code = failing[i].code;
    args.stream = file_stream_as_stream(&d.fs, false);
    st = d.vt->open(d.inst.handle, &args, &e);
    harness_free_str(&g_plugin, &e);
    CHECK(st == failing[i].code, "%s: open with a failing stream -> %d", failing[i].name, st);
    dec_destroy(&d);
  }
}

/* ---- Realtime: read_f32 allocates nothing once decoding runs ------------------------------- */

static void case_realtime(void) {
#if HARNESS_COUNTS_ALLOCS
  static const char *const files[] = {"src16.wav", "s24_6ch.wav", "a.aiff", "a.flac",
                                      "b24.flac",  "a.mp3",       "vbr.mp3", "a.ogg", "a.opus"};
  float *buf = malloc(sizeof(float) * 1024 * 6);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    decoder_t d;
    if (!dec_create(&d) || dec_open(&d, files[i]) != ST_OK) {
      CHECK(false, "%s: setup", files[i]);
      dec_destroy(&d);
      continue;
    }
    uint32_t got = 0;
    /* Warm-up: the first packets may size the codec's work buffers. */
    for (int k = 0; k < 4; k++) {
      d.vt->read_f32(d.inst.handle, buf, 1024, &got);
    }
    long before = harness_alloc_count();
    uint64_t frames = 0;
    st_status_t st;
    do {
      st = d.vt->read_f32(d.inst.handle, buf, 1024, &got);
      frames += got;
    } while (st == ST_OK && got > 0);
    long allocs = harness_alloc_count() - before;
    printf("%-12s %llu frames read in steady state with %ld allocations\n", files[i],
           (unsigned long long)frames, allocs);
    CHECK(allocs == 0, "%s: read_f32 allocated %ld times", files[i], allocs);
    dec_destroy(&d);
  }
  free(buf);
#else
  printf("allocation counting needs glibc; skipped\n");
#endif
}

static const harness_case_t k_cases[] = {
    {"module", case_module}, {"lossless", case_lossless}, {"lossy", case_lossy},
    {"seek", case_seek}, {"metadata", case_metadata}, {"corrupt", case_corrupt},
    {"streams", case_streams}, {"realtime", case_realtime},
};

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <case> <plugin> <media dir>\n", argv[0]);
    return 2;
  }
  g_media = argv[3];
  if (harness_load(&g_plugin, argv[2], g_media) != 0) {
    return 1;
  }
  return harness_run_case(&g_plugin, argv[1], k_cases, sizeof k_cases / sizeof k_cases[0]);
}
