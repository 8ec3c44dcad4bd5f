/*
 * Tests of the eq-dsp plugin, driven like the host's decode worker drives a DSP: dlopen the built
 * library, create an instance for a stream format, call process_f32 on blocks, and apply config
 * updates between blocks.
 *
 *   eq_dsp_test <case> <plugin.so>
 *
 * Cases: module, config, flat, response, smooth, reset, realtime.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "plugin_harness.h"
#include "stellatune/dsp.h"

#define PI 3.14159265358979323846

static harness_plugin_t g_plugin;

typedef struct eq {
  st_instance_t inst;
  const st_dsp_vtable_t *vt;
  uint32_t rate;
  uint16_t channels;
} eq_t;

static bool eq_create(eq_t *e, const char *config, uint32_t rate, uint16_t channels) {
  memset(e, 0, sizeof *e);
  st_audio_spec_t spec = {rate, channels, 0};
  if (harness_create(&g_plugin, ST_CAP_DSP, "eq10", config, spec, &e->inst) != ST_OK) {
    return false;
  }
  e->vt = (const st_dsp_vtable_t *)e->inst.vtable;
  e->rate = rate;
  e->channels = channels;
  return true;
}

static void eq_destroy(eq_t *e) {
  if (e->vt != NULL) {
    e->vt->base.destroy(e->inst.handle);
  }
  memset(e, 0, sizeof *e);
}

/* plan_update: returns the mode and copies the reason. */
static st_config_mode_t eq_plan(eq_t *e, const char *json, char *reason, size_t cap) {
  st_str_t c = harness_str(json), r = {NULL, 0};
  st_config_mode_t mode = 0;
  st_status_t st = e->vt->base.config->plan_update(e->inst.handle, &c, &mode, &r);
  CHECK(st == ST_OK, "plan_update returned %d", st);
  snprintf(reason, cap, "%.*s", (int)r.len, r.ptr != NULL ? r.ptr : "");
  harness_free_str(&g_plugin, &r);
  return mode;
}

static st_status_t eq_apply(eq_t *e, const char *json) {
  st_str_t c = harness_str(json), err = {NULL, 0};
  st_status_t st = e->vt->base.config->apply_update(e->inst.handle, &c, &err);
  if (st != ST_OK) {
    fprintf(stderr, "apply: %d %.*s\n", st, (int)err.len, err.ptr != NULL ? err.ptr : "");
  }
  harness_free_str(&g_plugin, &err);
  return st;
}

/* Processes `frames` frames in blocks of `block` (the last may be shorter). */
static void eq_run(eq_t *e, float *samples, size_t frames, uint32_t block) {
  for (size_t f = 0; f < frames; f += block) {
    uint32_t n = (uint32_t)(frames - f < block ? frames - f : block);
    e->vt->process_f32(e->inst.handle, samples + f * e->channels, n);
  }
}

/* Interleaved sines: channel c at freqs[c % nfreqs], amplitude amp. */
static float *make_sines(size_t frames, uint16_t channels, uint32_t rate, const double *freqs,
                         size_t nfreqs, double amp) {
  float *s = malloc(sizeof(float) * frames * channels);
  for (size_t f = 0; f < frames; f++) {
    for (uint16_t c = 0; c < channels; c++) {
      s[f * channels + c] = (float)(amp * sin(2.0 * PI * freqs[c % nfreqs] * (double)f / rate));
    }
  }
  return s;
}

static double rms(const float *s, size_t from, size_t to, uint16_t channels, uint16_t c) {
  double acc = 0.0;
  for (size_t f = from; f < to; f++) {
    acc += (double)s[f * channels + c] * s[f * channels + c];
  }
  return sqrt(acc / (double)(to - from));
}

static double db(double ratio) { return 20.0 * log10(ratio); }

/* A config with one band changed. */
static const char *one_band(char *buf, size_t cap, int band, double freq, double gain,
                            const char *type, double preamp) {
  char bands[1024] = "";
  for (int i = 0; i < band; i++) {
    strcat(bands, "{},");
  }
  char b[200];
  snprintf(b, sizeof b, "{\"freq_hz\":%g,\"gain_db\":%g,\"type\":\"%s\"}", freq, gain, type);
  strcat(bands, b);
  snprintf(buf, cap, "{\"preamp_db\":%g,\"bands\":[%s]}", preamp, bands);
  return buf;
}

/* ---- module / config ------------------------------------------------------------------------ */

static void case_module(void) {
  const st_module_t *m = g_plugin.module;
  cJSON *meta = cJSON_Parse(m->metadata_json);
  CHECK(meta != NULL, "metadata JSON");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(meta, "id");
  CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "dev.stellatune.eq") == 0, "id");
  CHECK(cJSON_GetObjectItemCaseSensitive(meta, "abi_version")->valueint == 9, "abi_version");
  cJSON_Delete(meta);
  const st_capability_t *cap = harness_cap(&g_plugin, "eq10");
  CHECK(cap != NULL && cap->kind == ST_CAP_DSP, "capability eq10");
  if (cap == NULL) {
    return;
  }
  cJSON *schema = cJSON_Parse(cap->config_schema_json);
  CHECK(schema != NULL, "schema is JSON: %s", cap->config_schema_json);
  const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
  static const char *const keys[] = {"bypass", "preamp_db", "bands"};
  for (size_t i = 0; i < 3; i++) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(props, keys[i]);
    CHECK(p != NULL && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "title")),
          "schema property %s with a title", keys[i]);
  }
  const cJSON *preamp = cJSON_GetObjectItemCaseSensitive(props, "preamp_db");
  CHECK(cJSON_GetObjectItemCaseSensitive(preamp, "minimum")->valuedouble == -24 &&
            cJSON_GetObjectItemCaseSensitive(preamp, "maximum")->valuedouble == 24,
        "preamp range");
  cJSON_Delete(schema);
  cJSON *def = cJSON_Parse(cap->default_config_json);
  const cJSON *bands = cJSON_GetObjectItemCaseSensitive(def, "bands");
  CHECK(cJSON_GetArraySize(bands) == 10, "default config has 10 bands");
  static const double freqs[] = {31, 62, 125, 250, 500, 1000, 2000, 4000, 8000, 16000};
  for (int i = 0; i < 10; i++) {
    const cJSON *b = cJSON_GetArrayItem(bands, i);
    CHECK(cJSON_GetObjectItemCaseSensitive(b, "freq_hz")->valuedouble == freqs[i] &&
              cJSON_GetObjectItemCaseSensitive(b, "gain_db")->valuedouble == 0 &&
              cJSON_GetObjectItemCaseSensitive(b, "q")->valuedouble == 1.41,
          "default band %d", i + 1);
  }
  cJSON_Delete(def);
  printf("schema: %s\ndefault: %s\n", cap->config_schema_json, cap->default_config_json);

  eq_t e;
  CHECK(eq_create(&e, cap->default_config_json, 44100, 2), "create with the default config");
  CHECK(e.vt->base.kind == ST_CAP_DSP && e.vt->base.config != NULL, "vtable");
  CHECK(e.vt->latency_frames(e.inst.handle) == 0, "IIR: no latency");
  eq_destroy(&e);
}

static void case_config(void) {
  eq_t e;
  if (!eq_create(&e, "{}", 44100, 2)) {
    CHECK(false, "create");
    return;
  }
  static const struct {
    const char *json;
    st_config_mode_t mode;
    const char *reason_has; /* for REJECT */
  } plans[] = {
      {"{}", ST_CONFIG_HOT_APPLY, NULL},
      {"{\"preamp_db\":-6,\"bypass\":true}", ST_CONFIG_HOT_APPLY, NULL},
      {"{\"bands\":[{\"gain_db\":24},{},{},{},{},{},{},{},{},{\"gain_db\":-24}]}",
       ST_CONFIG_HOT_APPLY, NULL},
      {"{\"bands\":[{\"type\":\"low_shelf\",\"q\":0.707}]}", ST_CONFIG_HOT_APPLY, NULL},
      {"{\"bands\":[{\"gain_db\":24.5}]}", ST_CONFIG_REJECT, "between -24 and 24"},
      {"{\"preamp_db\":-30}", ST_CONFIG_REJECT, "preamp_db"},
      {"{\"bands\":[{},{\"freq_hz\":22050,\"gain_db\":3}]}", ST_CONFIG_REJECT, "Nyquist"},
      {"{\"bands\":[{\"freq_hz\":30000}]}", ST_CONFIG_REJECT, "between 10 and 24000"},
      {"{\"bands\":[{\"q\":0}]}", ST_CONFIG_REJECT, "band 1 q"},
      {"{\"bands\":[{\"type\":\"notch\"}]}", ST_CONFIG_REJECT, "peaking"},
      {"{\"bands\":[{},{},{},{},{},{},{},{},{},{},{}]}", ST_CONFIG_REJECT, "at most 10"},
      {"{\"gain\":3}", ST_CONFIG_REJECT, "unknown setting"},
      {"{\"bypass\":1}", ST_CONFIG_REJECT, "bypass"},
      {"{\"preamp_db\":\"loud\"}", ST_CONFIG_REJECT, "number"},
      {"not json", ST_CONFIG_REJECT, "JSON"},
  };
  for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
    char reason[512];
    st_config_mode_t mode = eq_plan(&e, plans[i].json, reason, sizeof reason);
    CHECK(mode == plans[i].mode, "plan %s -> %u (%s)", plans[i].json, mode, reason);
    if (plans[i].reason_has != NULL) {
      CHECK(strstr(reason, plans[i].reason_has) != NULL, "reason for %s: '%s'", plans[i].json,
            reason);
      printf("REJECT %-50s %s\n", plans[i].json, reason);
      st_str_t c = harness_str(plans[i].json), err = {NULL, 0};
      CHECK(e.vt->base.config->apply_update(e.inst.handle, &c, &err) == ST_ERR_INVALID_ARG &&
                err.len > 0,
            "apply of %s must fail with a message", plans[i].json);
      harness_free_str(&g_plugin, &err);
    }
  }
  st_str_t state = {NULL, 0}, err = {NULL, 0};
  CHECK(e.vt->base.config->export_state(e.inst.handle, &state, &err) == ST_OK, "export_state");
  harness_free_str(&g_plugin, &state);
  CHECK(e.vt->base.config->import_state(e.inst.handle, &state, &err) == ST_OK, "import_state");
  eq_destroy(&e);

  /* create: malformed configs are refused, a band above Nyquist only switches off. */
  st_instance_t inst;
  st_audio_spec_t spec = {44100, 2, 0};
  CHECK(harness_create(&g_plugin, ST_CAP_DSP, "eq10", "{\"preamp_db\":99}", spec, &inst) ==
            ST_ERR_INVALID_ARG,
        "create with an invalid config");
  st_audio_spec_t none = {0, 0, 0};
  CHECK(harness_create(&g_plugin, ST_CAP_DSP, "eq10", "{}", none, &inst) == ST_ERR_INVALID_ARG,
        "create without a spec");
  const char *high = "{\"bands\":[{},{},{},{},{},{},{},{},{},{\"gain_db\":6}]}";
  CHECK(eq_create(&e, high, 22050, 2), "create at 22050 Hz with +6 dB at 16 kHz");
  if (e.vt != NULL) {
    char reason[256];
    CHECK(eq_plan(&e, high, reason, sizeof reason) == ST_CONFIG_REJECT,
          "the same config is rejected as an update at 22050 Hz");
    CHECK(eq_plan(&e, "{}", reason, sizeof reason) == ST_CONFIG_HOT_APPLY,
          "the default config (16 kHz band at 0 dB) is fine at 22050 Hz");
    /* The disabled band leaves the signal alone: a flat passthrough. */
    float *s = make_sines(4410, 2, 22050, (const double[]){1000.0, 9000.0}, 2, 0.5);
    float *copy = malloc(sizeof(float) * 4410 * 2);
    memcpy(copy, s, sizeof(float) * 4410 * 2);
    eq_run(&e, s, 4410, 441);
    CHECK(memcmp(s, copy, sizeof(float) * 4410 * 2) == 0, "a disabled band must be inactive");
    free(s);
    free(copy);
  }
  eq_destroy(&e);
}

/* ---- flat = bit-exact passthrough ---------------------------------------------------------- */

static void check_bit_exact(eq_t *e, const char *label) {
  enum { kFrames = 48000 };
  size_t n = (size_t)kFrames * e->channels;
  float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
  uint32_t rng = 99;
  for (size_t i = 0; i < n; i++) {
    rng = rng * 1664525u + 1013904223u;
    in[i] = (float)((double)rng / 4294967296.0 * 2.0 - 1.0);
  }
  in[5] = 1e-40f; /* a denormal */
  in[7] = 8.0f;   /* far out of range: still untouched */
  memcpy(out, in, sizeof(float) * n);
  /* Odd block sizes, including 1 frame. */
  static const uint32_t blocks[] = {1, 2, 3, 511, 1024, 4096, 7};
  size_t f = 0;
  for (size_t b = 0; f < kFrames; b++) {
    uint32_t len = blocks[b % 7];
    if (f + len > kFrames) {
      len = (uint32_t)(kFrames - f);
    }
    e->vt->process_f32(e->inst.handle, out + f * e->channels, len);
    f += len;
  }
  CHECK(memcmp(in, out, sizeof(float) * n) == 0, "%s: not bit-exact", label);
  printf("%-44s bit-exact over %d frames\n", label, kFrames);
  free(in);
  free(out);
}

static void case_flat(void) {
  eq_t e;
  const st_capability_t *cap = harness_cap(&g_plugin, "eq10");
  if (eq_create(&e, cap->default_config_json, 44100, 2)) {
    check_bit_exact(&e, "default config, stereo 44.1 kHz");
    eq_destroy(&e);
  }
  if (eq_create(&e, "{}", 96000, 6)) {
    check_bit_exact(&e, "empty config, 6 channels 96 kHz");
    eq_destroy(&e);
  }
  const char *loud = "{\"bypass\":true,\"preamp_db\":12,\"bands\":[{\"gain_db\":12}]}";
  if (eq_create(&e, loud, 48000, 1)) {
    check_bit_exact(&e, "bypass with bands and preamp set, mono");
    eq_destroy(&e);
  }
  /* Active, then back to flat: once the glide is over and the band's output has settled onto
   * its input (well under 0.5 s), the output is bit-exact again. */
  if (eq_create(&e, "{\"preamp_db\":-3,\"bands\":[{},{},{},{\"gain_db\":6}]}", 44100, 2)) {
    float *s = make_sines(44100, 2, 44100, (const double[]){250.0, 330.0}, 2, 0.5);
    eq_run(&e, s, 44100, 512);
    CHECK(eq_apply(&e, "{}") == ST_OK, "apply flat");
    eq_run(&e, s, 44100 / 2, 512);
    check_bit_exact(&e, "active -> flat, 0.5 s later");
    CHECK(eq_apply(&e, "{\"bands\":[{\"gain_db\":3}]}") == ST_OK, "apply");
    eq_run(&e, s, 4410, 512);
    CHECK(eq_apply(&e, "{\"bypass\":true,\"bands\":[{\"gain_db\":3}]}") == ST_OK, "bypass");
    eq_run(&e, s, 44100 / 2, 512);
    check_bit_exact(&e, "active -> bypass, 0.5 s later");
    free(s);
    eq_destroy(&e);
  }
}

/* ---- frequency response -------------------------------------------------------------------- */

/* Gain in dB that `config` applies to a sine of `freq` (steady state, channel 0). */
static double measure_gain(const char *config, uint32_t rate, double freq) {
  eq_t e;
  if (!eq_create(&e, config, rate, 1)) {
    CHECK(false, "create %s", config);
    return NAN;
  }
  size_t frames = rate; /* 1 s; measure the second half */
  float *s = make_sines(frames, 1, rate, &freq, 1, 0.25);
  double in = rms(s, frames / 2, frames, 1, 0);
  eq_run(&e, s, frames, 1024);
  double out = rms(s, frames / 2, frames, 1, 0);
  free(s);
  eq_destroy(&e);
  return db(out / in);
}

static void expect_gain(const char *label, const char *config, uint32_t rate, double freq,
                        double want_db, double tol_db) {
  double g = measure_gain(config, rate, freq);
  printf("%-40s %6u Hz  %7.1f Hz sine: %+7.3f dB (want %+.1f ±%.2f)\n", label, rate, freq, g,
         want_db, tol_db);
  CHECK(fabs(g - want_db) <= tol_db, "%s at %g Hz: %+.3f dB, want %+.1f", label, freq, g,
        want_db);
}

static void case_response(void) {
  char cfg[2048];
  const char *peak = one_band(cfg, sizeof cfg, 5, 1000, 6, "peaking", 0);
  static const uint32_t rates[] = {44100, 48000, 96000};
  for (size_t r = 0; r < 3; r++) {
    expect_gain("+6 dB peak at 1 kHz", peak, rates[r], 1000, 6.0, 0.05);
    expect_gain("+6 dB peak at 1 kHz", peak, rates[r], 100, 0.0, 0.3);
    expect_gain("+6 dB peak at 1 kHz", peak, rates[r], 10000, 0.0, 0.3);
  }
  expect_gain("-12 dB peak at 250 Hz", one_band(cfg, sizeof cfg, 3, 250, -12, "peaking", 0),
              44100, 250, -12.0, 0.05);
  expect_gain("preamp -6 dB", "{\"preamp_db\":-6}", 44100, 440, -6.0, 0.01);
  expect_gain("low shelf +6 dB at 125 Hz",
              one_band(cfg, sizeof cfg, 2, 125, 6, "low_shelf", 0), 44100, 31, 6.0, 0.5);
  expect_gain("low shelf +6 dB at 125 Hz",
              one_band(cfg, sizeof cfg, 2, 125, 6, "low_shelf", 0), 44100, 4000, 0.0, 0.2);
  expect_gain("high shelf -6 dB at 8 kHz",
              one_band(cfg, sizeof cfg, 8, 8000, -6, "high_shelf", 0), 48000, 18000, -6.0, 0.7);
  expect_gain("high shelf -6 dB at 8 kHz",
              one_band(cfg, sizeof cfg, 8, 8000, -6, "high_shelf", 0), 48000, 500, 0.0, 0.2);

  /* Every channel is filtered alike and independently: 6 channels, alternating 1 kHz/100 Hz. */
  peak = one_band(cfg, sizeof cfg, 5, 1000, 6, "peaking", 0);
  eq_t e;
  if (eq_create(&e, peak, 48000, 6)) {
    double freqs[] = {1000, 100, 1000, 100, 1000, 100};
    float *s = make_sines(48000, 6, 48000, freqs, 6, 0.25);
    double in[6];
    for (uint16_t c = 0; c < 6; c++) {
      in[c] = rms(s, 24000, 48000, 6, c);
    }
    eq_run(&e, s, 48000, 960);
    for (uint16_t c = 0; c < 6; c++) {
      double g = db(rms(s, 24000, 48000, 6, c) / in[c]);
      double want = freqs[c] == 1000 ? 6.0 : 0.0;
      CHECK(fabs(g - want) <= 0.3, "6 ch: channel %u gain %+.3f dB, want %+.1f", c, g, want);
    }
    printf("6 channels, +6 dB at 1 kHz: 1 kHz channels +6 dB, 100 Hz channels ~0 dB\n");
    free(s);
    eq_destroy(&e);
  }
}

/* ---- click-free changes ------------------------------------------------------------------- */

/* The largest second difference |y[n] - 2y[n-1] + y[n-2]| on channel 0 in [from, to): a smooth
 * signal has a small one (A·(2πf/fs)² for a sine); a step or a kink makes it jump. */
static double max_d2(const float *s, size_t from, size_t to, uint16_t channels) {
  double m = 0.0;
  for (size_t f = from < 2 ? 2 : from; f < to; f++) {
    double d2 = (double)s[f * channels] - 2.0 * s[(f - 1) * channels] + s[(f - 2) * channels];
    if (fabs(d2) > m) {
      m = fabs(d2);
    }
  }
  return m;
}

typedef struct click_result {
  double during;  /* max |d2| from the change to 100 ms after */
  double steady;  /* max |d2| of the steady output before and after the transition */
  double splice;  /* max |d2| of a hard switch between the two steady outputs */
  double gain_db; /* level change measured 60..160 ms after the change */
} click_result_t;

/* Plays a sine, applies `to` at frame `at` (between blocks), and compares the transition with
 * a hard switch between an instance running `from` and one running `to`. */
static click_result_t click_run(const char *from, const char *to, double freq, double amp,
                                uint32_t rate, uint32_t block) {
  click_result_t r = {0, 0, 0, 0};
  size_t frames = rate, at = (size_t)block * (rate / 2 / block);
  float *live = make_sines(frames, 1, rate, &freq, 1, amp);
  float *a = make_sines(frames, 1, rate, &freq, 1, amp);
  float *b = make_sines(frames, 1, rate, &freq, 1, amp);
  eq_t e, ea, eb;
  if (!eq_create(&e, from, rate, 1) || !eq_create(&ea, from, rate, 1) ||
      !eq_create(&eb, to, rate, 1)) {
    CHECK(false, "click_run: create");
    return r;
  }
  eq_run(&e, live, at, block);
  CHECK(eq_apply(&e, to) == ST_OK, "apply %s", to);
  eq_run(&e, live + at, frames - at, block);
  eq_run(&ea, a, frames, block);
  eq_run(&eb, b, frames, block);
  size_t ms = rate / 1000;
  r.during = max_d2(live, at - 2 * ms, at + 100 * ms, 1);
  double before = max_d2(a, at - 200 * ms, at, 1);
  double after = max_d2(b, at + 100 * ms, at + 300 * ms, 1);
  r.steady = before > after ? before : after;
  memcpy(a + at, b + at, sizeof(float) * (frames - at)); /* the hard switch */
  r.splice = max_d2(a, at - 2 * ms, at + 100 * ms, 1);
  r.gain_db = db(rms(live, at + 60 * ms, at + 160 * ms, 1, 0) / rms(live, at - 100 * ms, at, 1, 0));
  free(live);
  free(a);
  free(b);
  eq_destroy(&e);
  eq_destroy(&ea);
  eq_destroy(&eb);
  return r;
}

/* A transition may not make the second difference exceed the larger steady-state value by more
 * than 50 % (plus a -100 dBFS floor); the hard switch must, or the scenario proves nothing. */
static void expect_click_free(const char *label, const char *from, const char *to, double freq,
                              double amp, double want_gain_db) {
  click_result_t r = click_run(from, to, freq, amp, 48000, 480);
  double limit = 1.5 * r.steady + 1e-5;
  printf("%-36s max|d2| steady %.2e, during change %.2e (limit %.2e), hard switch %.2e; "
         "level %+.2f dB\n",
         label, r.steady, r.during, limit, r.splice, r.gain_db);
  CHECK(r.during <= limit, "%s: click: %.3g > %.3g", label, r.during, limit);
  CHECK(r.splice > 3.0 * limit, "%s: the hard switch (%.3g) is not a click; the scenario is too "
        "weak", label, r.splice);
  CHECK(fabs(r.gain_db - want_gain_db) <= 0.2, "%s: level after 60 ms %+.2f dB, want %+.2f",
        label, r.gain_db, want_gain_db);
}

static void case_smooth(void) {
  char to[2048], from[2048];
  one_band(to, sizeof to, 2, 125, -24, "peaking", 0);
  expect_click_free("125 Hz band 0 -> -24 dB (100 Hz sine)", "{}", to, 100, 0.5,
                    measure_gain(to, 48000, 100));
  expect_click_free("preamp 0 -> +12 dB", "{}", "{\"preamp_db\":12}", 100, 0.1, 12.0);
  expect_click_free("preamp +12 -> -24 dB", "{\"preamp_db\":12}", "{\"preamp_db\":-24}", 100,
                    0.1, -36.0);
  one_band(from, sizeof from, 2, 125, 12, "peaking", 0);
  char bypassed[2100];
  snprintf(bypassed, sizeof bypassed, "{\"bypass\":true,%s", from + 1);
  expect_click_free("bypass on (from +12 dB at 125 Hz)", from, bypassed, 100, 0.2,
                    -measure_gain(from, 48000, 100));
  expect_click_free("bypass off (to +12 dB at 125 Hz)", bypassed, from, 100, 0.2,
                    measure_gain(from, 48000, 100));
  one_band(from, sizeof from, 1, 62, 12, "peaking", 0);
  one_band(to, sizeof to, 1, 62, -12, "low_shelf", 0);
  expect_click_free("peaking +12 -> low shelf -12 at 62 Hz", from, to, 50, 0.2,
                    measure_gain(to, 48000, 50) - measure_gain(from, 48000, 50));

  /* Rapid changes (every 2.7 ms, i.e. during ramps) stay smooth and bounded. */
  eq_t e;
  if (eq_create(&e, "{}", 48000, 1)) {
    double freq = 100;
    size_t frames = 48000;
    float *s = make_sines(frames, 1, 48000, &freq, 1, 0.25);
    uint32_t rng = 7;
    double worst = 0.0;
    for (size_t f = 0; f < frames; f += 128) {
      if (f % 512 == 0 && f > 0 && f < frames / 2) {
        rng = rng * 1664525u + 1013904223u;
        double g = (double)(rng >> 8) / (1 << 24) * 24.0 - 12.0;
        eq_apply(&e, one_band(to, sizeof to, 2, 125, g, "peaking", g / 2));
      }
      e.vt->process_f32(e.inst.handle, s + f, 128);
    }
    for (size_t f = 0; f < frames; f++) {
      CHECK(isfinite(s[f]) && fabsf(s[f]) < 2.0f, "rapid changes: sample %zu = %g", f, s[f]);
      if (!isfinite(s[f]) || fabsf(s[f]) >= 2.0f) {
        break;
      }
    }
    worst = max_d2(s, 2, frames, 1);
    /* The sine peaks at most at 0.25 * 2 (preamp <= +6 dB) * 4 (band <= +12 dB) = 2, so its
     * steady |d2| <= 2 * (2π·100/48000)^2 = 3.4e-4; a hard switch here is ~1e-2. */
    printf("rapid changes every 512 frames: max|d2| %.2e\n", worst);
    CHECK(worst < 1e-3, "rapid changes click: max|d2| %.3g", worst);
    free(s);
    eq_destroy(&e);
  }
}

/* ---- reset ---------------------------------------------------------------------------------- */

static void case_reset(void) {
  char cfg[2048];
  one_band(cfg, sizeof cfg, 0, 31, 12, "peaking", 0);
  for (int do_reset = 0; do_reset < 2; do_reset++) {
    eq_t e;
    if (!eq_create(&e, cfg, 44100, 2)) {
      CHECK(false, "create");
      return;
    }
    double freqs[] = {31, 40};
    float *s = make_sines(4410, 2, 44100, freqs, 2, 0.9);
    eq_run(&e, s, 4410, 441);
    if (do_reset) {
      e.vt->reset(e.inst.handle);
    }
    float silence[2 * 1024] = {0};
    e.vt->process_f32(e.inst.handle, silence, 1024);
    double peak = 0.0;
    for (size_t i = 0; i < 2 * 1024; i++) {
      peak = fmax(peak, fabs(silence[i]));
    }
    if (do_reset) {
      CHECK(peak == 0.0, "after reset the filters still ring: %g", peak);
      printf("after reset: silence in, silence out\n");
    } else {
      CHECK(peak > 1e-3, "without reset the 31 Hz band should ring (%g)", peak);
      printf("without reset: the 31 Hz band rings at %.3f peak\n", peak);
    }
    free(s);
    eq_destroy(&e);
  }
}

/* ---- realtime ------------------------------------------------------------------------------- */

static void case_realtime(void) {
#if HARNESS_COUNTS_ALLOCS
  eq_t e;
  if (!eq_create(&e, "{}", 48000, 8)) {
    CHECK(false, "create");
    return;
  }
  double freqs[] = {100, 1000, 5000, 50};
  float *s = make_sines(48000, 8, 48000, freqs, 4, 0.3);
  long allocs = 0;
  char cfg[2048];
  for (int round = 0; round < 20; round++) {
    eq_apply(&e, one_band(cfg, sizeof cfg, round % 10, 100.0 * (round + 1), round - 10.0,
                          round % 3 == 0 ? "low_shelf" : "peaking", round % 7 - 3.0));
    if (round % 5 == 4) {
      eq_apply(&e, "{}"); /* through the idle path too */
    }
    long before = harness_alloc_count();
    eq_run(&e, s, 4800, 480);
    e.vt->reset(e.inst.handle);
    allocs += harness_alloc_count() - before;
  }
  printf("process_f32/reset over 20 config changes, 8 channels: %ld allocations\n", allocs);
  CHECK(allocs == 0, "process_f32 allocated %ld times", allocs);
  free(s);
  eq_destroy(&e);
#else
  printf("allocation counting needs glibc; skipped\n");
#endif
}

static const harness_case_t k_cases[] = {
    {"module", case_module}, {"config", case_config}, {"flat", case_flat},
    {"response", case_response}, {"smooth", case_smooth}, {"reset", case_reset},
    {"realtime", case_realtime},
};

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <case> <plugin>\n", argv[0]);
    return 2;
  }
  if (harness_load(&g_plugin, argv[2], "/tmp") != 0) {
    return 1;
  }
  return harness_run_case(&g_plugin, argv[1], k_cases, sizeof k_cases / sizeof k_cases[0]);
}
