/*
 * eq-dsp — a preamp and a 10-band parametric equalizer (RBJ-cookbook biquads), as a DSP plugin.
 *
 * Signal path, per channel: preamp gain, then the active bands in order, each a biquad in direct
 * form I in double precision. DF-I keeps its memory as past inputs and outputs, which stay
 * meaningful when the coefficients move, so a filter can be modulated without transients.
 *
 * Click-free changes.  apply_update (made on the decode thread between process calls) sets new
 * targets; each band then glides there over 20 ms in its own parameter space — log frequency,
 * gain in dB, log Q — with coefficients recomputed every 32 frames and interpolated linearly in
 * between, and the preamp gain ramps sample by sample. Gliding the parameters (not the
 * coefficients) keeps the poles where the band is: interpolating coefficients between distant
 * filters sweeps the poles across the spectrum and chirps. A band going to or from 0 dB glides
 * only its gain (its frequency and Q do not matter at unity), and a change of shape (peaking to
 * shelf) fades to 0 dB, switches and fades in. An update during a glide starts from where the
 * parameters are.
 *
 * Cost.  A band at 0 dB whose output has settled onto its input is dropped from the chain (the
 * exact identity). When no band is left and the preamp is at 0 dB (or bypass is on), process_f32
 * only records the last two frames and leaves the samples untouched: bit-exact passthrough. The
 * recorded history seeds a band's memory when it becomes active again — an identity band's input
 * and output are the signal at its place in the chain — so switching bands on does not click.
 *
 * Realtime.  process_f32 does not allocate, lock or log; all memory is allocated at create.
 *
 * Sample rates.  A band at or above Nyquist cannot be realised. A config that asks for one with a
 * non-zero gain is rejected by plan/apply with a reason; at create (a stored config meeting a
 * low-rate track) such a band is switched off and a warning logged, so playback is not refused.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "st_sdk.h"

#define EQ_TYPE_ID "eq10"
#define EQ_BANDS 10
#define EQ_MAX_GAIN_DB 24.0
#define EQ_MIN_FREQ_HZ 10.0
#define EQ_MAX_FREQ_HZ 24000.0
#define EQ_MIN_Q 0.1
#define EQ_MAX_Q 10.0
#define EQ_RAMP_SECONDS 0.020
/* Filter memories below this are flushed to zero after each block, so that a long silence does
 * not leave the recursion crawling through denormals (hundreds of times slower on x86). */
#define EQ_DENORMAL_FLOOR 1e-25
#define EQ_PI 3.14159265358979323846

/* ---- Config -------------------------------------------------------------------------------- */

typedef enum eq_shape { EQ_PEAKING = 0, EQ_LOW_SHELF = 1, EQ_HIGH_SHELF = 2 } eq_shape_t;

static const char *const k_shape_names[] = {"peaking", "low_shelf", "high_shelf"};
static const double k_default_freqs[EQ_BANDS] = {31, 62, 125, 250, 500, 1000, 2000, 4000, 8000,
                                                 16000};
#define EQ_DEFAULT_Q 1.41

typedef struct eq_band_config {
  double freq_hz;
  double gain_db;
  double q;
  eq_shape_t shape;
} eq_band_config_t;

typedef struct eq_config {
  bool bypass;
  double preamp_db;
  eq_band_config_t bands[EQ_BANDS];
} eq_config_t;

static void eq_default_config(eq_config_t *c) {
  memset(c, 0, sizeof *c);
  for (int i = 0; i < EQ_BANDS; i++) {
    c->bands[i].freq_hz = k_default_freqs[i];
    c->bands[i].q = EQ_DEFAULT_Q;
    c->bands[i].shape = EQ_PEAKING;
  }
}

#define EQ_NUMBER_SCHEMA(title, min, max, def)                                                   \
  "{\"type\":\"number\",\"title\":\"" title "\",\"minimum\":" #min ",\"maximum\":" #max          \
  ",\"default\":" #def "}"

static const char k_schema[] =
    "{\"type\":\"object\",\"title\":\"Equalizer\","
    "\"description\":\"Preamp and 10 parametric bands. Changes apply live and glide over 20 ms."
    " A band must stay below half the sample rate unless its gain is 0 dB.\","
    "\"properties\":{"
    "\"bypass\":{\"type\":\"boolean\",\"title\":\"Bypass\",\"default\":false},"
    "\"preamp_db\":" EQ_NUMBER_SCHEMA("Preamp (dB)", -24, 24, 0) ","
    "\"bands\":{\"type\":\"array\",\"title\":\"Bands\",\"maxItems\":10,"
    "\"description\":\"Band 1 first; missing bands or fields keep their defaults.\","
    "\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"freq_hz\":" EQ_NUMBER_SCHEMA("Frequency (Hz)", 10, 24000, 1000) ","
    "\"gain_db\":" EQ_NUMBER_SCHEMA("Gain (dB)", -24, 24, 0) ","
    "\"q\":" EQ_NUMBER_SCHEMA("Q", 0.1, 10, 1.41) ","
    "\"type\":{\"type\":\"string\",\"title\":\"Shape\","
    "\"enum\":[\"peaking\",\"low_shelf\",\"high_shelf\"],\"default\":\"peaking\"}}}}},"
    "\"additionalProperties\":false}";

#define EQ_DEFAULT_BAND(f) "{\"freq_hz\":" #f ",\"gain_db\":0,\"q\":1.41,\"type\":\"peaking\"}"
static const char k_default_config[] =
    "{\"bypass\":false,\"preamp_db\":0,\"bands\":[" EQ_DEFAULT_BAND(31) "," EQ_DEFAULT_BAND(62)
    "," EQ_DEFAULT_BAND(125) "," EQ_DEFAULT_BAND(250) "," EQ_DEFAULT_BAND(500) ","
    EQ_DEFAULT_BAND(1000) "," EQ_DEFAULT_BAND(2000) "," EQ_DEFAULT_BAND(4000) ","
    EQ_DEFAULT_BAND(8000) "," EQ_DEFAULT_BAND(16000) "]}";

static bool eq_number(const cJSON *v, const char *what, double min, double max, double *out,
                      char *reason, size_t cap) {
  if (!cJSON_IsNumber(v)) {
    snprintf(reason, cap, "%s must be a number", what);
    return false;
  }
  if (!(v->valuedouble >= min && v->valuedouble <= max)) {
    snprintf(reason, cap, "%s is %g; it must be between %g and %g", what, v->valuedouble, min,
             max);
    return false;
  }
  *out = v->valuedouble;
  return true;
}

/* Parses and validates a config. `strict` rejects bands at or above Nyquist that have a gain;
 * otherwise (at create) they are switched off and reported through *out_disabled. */
static bool eq_parse_config(const st_str_t *json, double sample_rate, bool strict,
                            eq_config_t *out, unsigned *out_disabled, char *reason, size_t cap) {
  eq_default_config(out);
  if (out_disabled != NULL) {
    *out_disabled = 0;
  }
  if (json == NULL || json->len == 0) {
    return true;
  }
  cJSON *doc = cJSON_ParseWithLength(json->ptr, json->len);
  bool ok = false;
  if (!cJSON_IsObject(doc)) {
    snprintf(reason, cap, "the config is not a JSON object");
    goto done;
  }
  for (const cJSON *item = doc->child; item != NULL; item = item->next) {
    if (strcmp(item->string, "bypass") == 0) {
      if (!cJSON_IsBool(item)) {
        snprintf(reason, cap, "bypass must be true or false");
        goto done;
      }
      out->bypass = cJSON_IsTrue(item);
    } else if (strcmp(item->string, "preamp_db") == 0) {
      if (!eq_number(item, "preamp_db", -EQ_MAX_GAIN_DB, EQ_MAX_GAIN_DB, &out->preamp_db, reason,
                     cap)) {
        goto done;
      }
    } else if (strcmp(item->string, "bands") == 0) {
      if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) > EQ_BANDS) {
        snprintf(reason, cap, "bands must be an array of at most %d bands", EQ_BANDS);
        goto done;
      }
      int i = 0;
      for (const cJSON *b = item->child; b != NULL; b = b->next, i++) {
        eq_band_config_t *band = &out->bands[i];
        if (!cJSON_IsObject(b)) {
          snprintf(reason, cap, "band %d must be an object", i + 1);
          goto done;
        }
        for (const cJSON *f = b->child; f != NULL; f = f->next) {
          char what[48];
          snprintf(what, sizeof what, "band %d %s", i + 1, f->string);
          if (strcmp(f->string, "freq_hz") == 0) {
            if (!eq_number(f, what, EQ_MIN_FREQ_HZ, EQ_MAX_FREQ_HZ, &band->freq_hz, reason, cap)) {
              goto done;
            }
          } else if (strcmp(f->string, "gain_db") == 0) {
            if (!eq_number(f, what, -EQ_MAX_GAIN_DB, EQ_MAX_GAIN_DB, &band->gain_db, reason,
                           cap)) {
              goto done;
            }
          } else if (strcmp(f->string, "q") == 0) {
            if (!eq_number(f, what, EQ_MIN_Q, EQ_MAX_Q, &band->q, reason, cap)) {
              goto done;
            }
          } else if (strcmp(f->string, "type") == 0) {
            int shape = -1;
            for (int s = 0; s < 3 && cJSON_IsString(f); s++) {
              if (strcmp(f->valuestring, k_shape_names[s]) == 0) {
                shape = s;
              }
            }
            if (shape < 0) {
              snprintf(reason, cap, "%s must be \"peaking\", \"low_shelf\" or \"high_shelf\"",
                       what);
              goto done;
            }
            band->shape = (eq_shape_t)shape;
          } else {
            snprintf(reason, cap, "unknown setting \"%s\" in band %d", f->string, i + 1);
            goto done;
          }
        }
      }
    } else {
      snprintf(reason, cap, "unknown setting \"%s\"", item->string);
      goto done;
    }
  }
  double nyquist = sample_rate / 2.0;
  for (int i = 0; i < EQ_BANDS; i++) {
    eq_band_config_t *band = &out->bands[i];
    if (band->freq_hz >= nyquist && band->gain_db != 0.0) {
      if (strict) {
        snprintf(reason, cap,
                 "band %d at %g Hz is at or above the Nyquist frequency (%g Hz) of this "
                 "%g Hz stream; lower it or set its gain to 0 dB",
                 i + 1, band->freq_hz, nyquist, sample_rate);
        goto done;
      }
      band->gain_db = 0.0;
      if (out_disabled != NULL) {
        *out_disabled |= 1u << i;
      }
    }
  }
  ok = true;
done:
  cJSON_Delete(doc);
  return ok;
}

/* ---- Filters ------------------------------------------------------------------------------- */

typedef struct eq_coefs {
  double b0, b1, b2, a1, a2; /* normalised by a0 */
} eq_coefs_t;

static const eq_coefs_t k_identity = {1.0, 0.0, 0.0, 0.0, 0.0};

/* A band's parameters in the domains they are smoothed in. */
typedef struct eq_params {
  double log_freq; /* ln(Hz) */
  double gain_db;
  double log_q; /* ln(Q) */
  eq_shape_t shape;
} eq_params_t;

/* The RBJ Audio EQ Cookbook formulas (peaking EQ, low shelf, high shelf) with Q. At 0 dB they
 * give b == a (a unity filter that keeps its poles), which is what a band ramping to or from
 * 0 dB passes through; the exact identity is only used for inactive bands. */
static eq_coefs_t eq_design(const eq_params_t *p, double sample_rate) {
  double freq = exp(p->log_freq);
  if (freq > 0.49 * sample_rate) {
    freq = 0.49 * sample_rate; /* only reachable at 0 dB (validation), where it is inaudible */
  }
  double A = pow(10.0, p->gain_db / 40.0);
  double w0 = 2.0 * EQ_PI * freq / sample_rate;
  double cw = cos(w0);
  double alpha = sin(w0) / (2.0 * exp(p->log_q));
  double b0, b1, b2, a0, a1, a2;
  switch (p->shape) {
  case EQ_LOW_SHELF: {
    double k = 2.0 * sqrt(A) * alpha;
    b0 = A * ((A + 1.0) - (A - 1.0) * cw + k);
    b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw);
    b2 = A * ((A + 1.0) - (A - 1.0) * cw - k);
    a0 = (A + 1.0) + (A - 1.0) * cw + k;
    a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw);
    a2 = (A + 1.0) + (A - 1.0) * cw - k;
    break;
  }
  case EQ_HIGH_SHELF: {
    double k = 2.0 * sqrt(A) * alpha;
    b0 = A * ((A + 1.0) + (A - 1.0) * cw + k);
    b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw);
    b2 = A * ((A + 1.0) + (A - 1.0) * cw - k);
    a0 = (A + 1.0) - (A - 1.0) * cw + k;
    a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw);
    a2 = (A + 1.0) - (A - 1.0) * cw - k;
    break;
  }
  case EQ_PEAKING:
  default:
    b0 = 1.0 + alpha * A;
    b1 = -2.0 * cw;
    b2 = 1.0 - alpha * A;
    a0 = 1.0 + alpha / A;
    a1 = -2.0 * cw;
    a2 = 1.0 - alpha / A;
    break;
  }
  eq_coefs_t c = {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
  return c;
}

static eq_params_t eq_params_of(const eq_band_config_t *band, bool bypass) {
  eq_params_t p = {log(band->freq_hz), bypass ? 0.0 : band->gain_db, log(band->q), band->shape};
  return p;
}

/* Memory of one biquad on one channel (direct form I). */
typedef struct eq_memory {
  double x1, x2, y1, y2;
} eq_memory_t;

typedef struct eq_band {
  eq_params_t cur;   /* as heard at the end of the current sub-block */
  eq_params_t goal;  /* where the current ramp phase ends */
  eq_params_t step;  /* per-sample increments of the smoothed parameters */
  uint32_t left;     /* samples left in the current ramp phase */
  bool pending;      /* a shape change: after fading to 0 dB, continue towards `next` */
  eq_params_t next;
  eq_coefs_t coefs;     /* the filter now */
  eq_coefs_t coef_end;  /* the filter at the end of the current sub-block */
  eq_coefs_t coef_step; /* per-sample increment within the sub-block */
  bool active;          /* processed; an inactive band is the exact identity */
  eq_memory_t *mem;     /* channels entries */
} eq_band_t;

typedef struct eq {
  double sample_rate;
  uint32_t channels;
  uint32_t ramp_frames;   /* length of a parameter ramp */
  double gain, gain_target, gain_step;
  uint32_t gain_left;
  eq_band_t bands[EQ_BANDS];
  uint8_t order[EQ_BANDS]; /* indices of active bands, in chain order */
  uint32_t active_count;
  bool idle;              /* nothing to do: no active band, unity preamp, no ramp */
  double *history;        /* per channel: the chain input (after preamp) one and two frames ago */
  eq_memory_t *mem_block; /* EQ_BANDS * channels memories */
} eq_t;

/* Coefficients are recomputed from the smoothed parameters every EQ_SUB_FRAMES frames and
 * interpolated linearly in between (nearby stable filters: the path between them is stable). */
#define EQ_SUB_FRAMES 32u
/* An active band back at 0 dB is dropped once its output is within a 24-bit LSB of its input
 * (2^-24), so dropping it is inaudible; low bands take up to a few hundred ms to get there. */
#define EQ_SETTLED 6e-8

static void eq_rebuild_order(eq_t *e) {
  e->active_count = 0;
  for (int i = 0; i < EQ_BANDS; i++) {
    if (e->bands[i].active) {
      e->order[e->active_count++] = (uint8_t)i;
    }
  }
  e->idle = e->active_count == 0 && e->gain_left == 0 && e->gain == 1.0;
}

/* A band that starts being processed takes over the signal at its place in the chain: the
 * output of the nearest active band before it, or the chain input. */
static void eq_seed_band(eq_t *e, int index) {
  const eq_band_t *prev = NULL;
  for (int i = index - 1; i >= 0; i--) {
    if (e->bands[i].active) {
      prev = &e->bands[i];
      break;
    }
  }
  eq_band_t *b = &e->bands[index];
  for (uint32_t c = 0; c < e->channels; c++) {
    double s1 = prev != NULL ? prev->mem[c].y1 : e->history[2 * c];
    double s2 = prev != NULL ? prev->mem[c].y2 : e->history[2 * c + 1];
    b->mem[c] = (eq_memory_t){s1, s2, s1, s2};
  }
}

static void eq_start_phase(eq_band_t *b, const eq_params_t *goal, uint32_t frames) {
  b->goal = *goal;
  b->left = frames;
  b->step.log_freq = (goal->log_freq - b->cur.log_freq) / frames;
  b->step.gain_db = (goal->gain_db - b->cur.gain_db) / frames;
  b->step.log_q = (goal->log_q - b->cur.log_q) / frames;
}

/* Points a band at new parameters. Without `ramp` (at create) it jumps there. */
static void eq_retarget_band(eq_t *e, int index, const eq_params_t *target, bool ramp) {
  eq_band_t *b = &e->bands[index];
  b->pending = false;
  if (!ramp) {
    b->cur = b->goal = *target;
    b->left = 0;
    b->active = target->gain_db != 0.0;
    b->coefs = b->coef_end = b->active ? eq_design(&b->cur, e->sample_rate) : k_identity;
    return;
  }
  uint32_t n = e->ramp_frames;
  if (!b->active || b->cur.gain_db == 0.0) {
    if (target->gain_db == 0.0) {
      b->left = 0; /* stays (or settles to) the identity */
      return;
    }
    /* From unity: frequency, Q and shape do not matter yet, so take them at once and fade the
     * gain in. */
    if (!b->active) {
      eq_seed_band(e, index);
      b->active = true;
    }
    b->cur.log_freq = target->log_freq;
    b->cur.log_q = target->log_q;
    b->cur.shape = target->shape;
    b->cur.gain_db = 0.0;
    b->coefs = b->coef_end = eq_design(&b->cur, e->sample_rate);
    eq_start_phase(b, target, n);
    return;
  }
  if (target->gain_db == 0.0) {
    /* Fade out where the band is; frequency and Q are irrelevant at 0 dB. */
    eq_params_t goal = b->cur;
    goal.gain_db = 0.0;
    eq_start_phase(b, &goal, n);
    return;
  }
  if (target->shape != b->cur.shape) {
    /* Shapes do not morph into each other: fade to 0 dB, switch, fade in. */
    eq_params_t goal = b->cur;
    goal.gain_db = 0.0;
    eq_start_phase(b, &goal, n / 2 > 0 ? n / 2 : 1);
    b->pending = true;
    b->next = *target;
    return;
  }
  eq_start_phase(b, target, n);
}

static void eq_set_targets(eq_t *e, const eq_config_t *cfg, bool ramp) {
  double gain = (cfg->bypass || cfg->preamp_db == 0.0) ? 1.0 : pow(10.0, cfg->preamp_db / 20.0);
  e->gain_target = gain;
  if (!ramp) {
    e->gain = gain;
    e->gain_left = 0;
  } else {
    e->gain_left = e->ramp_frames;
    e->gain_step = (gain - e->gain) / e->ramp_frames;
  }
  for (int i = 0; i < EQ_BANDS; i++) {
    eq_params_t target = eq_params_of(&cfg->bands[i], cfg->bypass);
    eq_retarget_band(e, i, &target, ramp);
  }
  eq_rebuild_order(e);
}

/* Moves a ramping band `n` samples on and sets up the coefficient interpolation for a sub-block
 * of `n` frames. */
static void eq_advance_band(eq_t *e, eq_band_t *b, uint32_t n) {
  uint32_t k = n < b->left ? n : b->left;
  b->left -= k;
  if (b->left == 0) {
    b->cur = b->goal; /* land exactly */
    if (b->pending) {
      b->pending = false;
      b->cur.shape = b->next.shape;
      b->cur.log_freq = b->next.log_freq;
      b->cur.log_q = b->next.log_q;
      uint32_t half = e->ramp_frames / 2 > 0 ? e->ramp_frames / 2 : 1;
      eq_start_phase(b, &b->next, half);
    }
  } else {
    b->cur.log_freq += b->step.log_freq * k;
    b->cur.gain_db += b->step.gain_db * k;
    b->cur.log_q += b->step.log_q * k;
  }
  b->coef_end = eq_design(&b->cur, e->sample_rate);
  b->coef_step.b0 = (b->coef_end.b0 - b->coefs.b0) / n;
  b->coef_step.b1 = (b->coef_end.b1 - b->coefs.b1) / n;
  b->coef_step.b2 = (b->coef_end.b2 - b->coefs.b2) / n;
  b->coef_step.a1 = (b->coef_end.a1 - b->coefs.a1) / n;
  b->coef_step.a2 = (b->coef_end.a2 - b->coefs.a2) / n;
}

static double eq_flush(double v) { return fabs(v) < EQ_DENORMAL_FLOOR ? 0.0 : v; }

/* After a sub-block: land the coefficients, flush denormals, and drop bands that are back at
 * unity with their output equal to their input. Returns true if the active set changed. */
static bool eq_settle(eq_t *e) {
  bool changed = false;
  for (uint32_t k = 0; k < e->active_count; k++) {
    eq_band_t *b = &e->bands[e->order[k]];
    b->coefs = b->coef_end;
    bool unity = b->left == 0 && !b->pending && b->cur.gain_db == 0.0;
    for (uint32_t c = 0; c < e->channels; c++) {
      eq_memory_t *m = &b->mem[c];
      m->x1 = eq_flush(m->x1);
      m->x2 = eq_flush(m->x2);
      m->y1 = eq_flush(m->y1);
      m->y2 = eq_flush(m->y2);
      if (fabs(m->y1 - m->x1) > EQ_SETTLED || fabs(m->y2 - m->x2) > EQ_SETTLED) {
        unity = false;
      }
    }
    if (unity) {
      b->active = false;
      b->coefs = b->coef_end = k_identity;
      changed = true;
    }
  }
  return changed;
}

static void eq_record_history(eq_t *e, const float *samples, uint32_t frames) {
  const uint32_t ch = e->channels;
  for (uint32_t c = 0; c < ch; c++) {
    double h1 = samples[(size_t)(frames - 1) * ch + c];
    double h2 = frames >= 2 ? samples[(size_t)(frames - 2) * ch + c] : e->history[2 * c];
    e->history[2 * c] = h1;
    e->history[2 * c + 1] = h2;
  }
}

static void eq_process(void *handle, float *samples, uint32_t frames) {
  eq_t *e = handle;
  const uint32_t ch = e->channels;
  if (samples == NULL || frames == 0) {
    return;
  }
  for (uint32_t f0 = 0; f0 < frames;) {
    if (e->idle) {
      /* Untouched; keep the last two frames to seed bands that switch on later. */
      eq_record_history(e, samples + (size_t)f0 * ch, frames - f0);
      return;
    }
    uint32_t n = frames - f0 < EQ_SUB_FRAMES ? frames - f0 : EQ_SUB_FRAMES;
    bool moving = false;
    for (uint32_t k = 0; k < e->active_count; k++) {
      eq_band_t *b = &e->bands[e->order[k]];
      if (b->left > 0) {
        eq_advance_band(e, b, n);
        moving = true;
      } else {
        memset(&b->coef_step, 0, sizeof b->coef_step);
      }
    }
    for (uint32_t f = f0; f < f0 + n; f++) {
      if (e->gain_left > 0) {
        e->gain = --e->gain_left == 0 ? e->gain_target : e->gain + e->gain_step;
      }
      float *frame = samples + (size_t)f * ch;
      const double gain = e->gain;
      for (uint32_t c = 0; c < ch; c++) {
        double x = frame[c] * gain;
        e->history[2 * c + 1] = e->history[2 * c];
        e->history[2 * c] = x;
        for (uint32_t k = 0; k < e->active_count; k++) {
          eq_band_t *b = &e->bands[e->order[k]];
          eq_memory_t *m = &b->mem[c];
          const eq_coefs_t *q = &b->coefs;
          double y = q->b0 * x + q->b1 * m->x1 + q->b2 * m->x2 - q->a1 * m->y1 - q->a2 * m->y2;
          m->x2 = m->x1;
          m->x1 = x;
          m->y2 = m->y1;
          m->y1 = y;
          x = y;
        }
        frame[c] = (float)x;
      }
      if (moving) {
        for (uint32_t k = 0; k < e->active_count; k++) {
          eq_band_t *b = &e->bands[e->order[k]];
          b->coefs.b0 += b->coef_step.b0;
          b->coefs.b1 += b->coef_step.b1;
          b->coefs.b2 += b->coef_step.b2;
          b->coefs.a1 += b->coef_step.a1;
          b->coefs.a2 += b->coef_step.a2;
        }
      }
    }
    if (eq_settle(e) || e->gain_left == 0) {
      eq_rebuild_order(e);
    }
    f0 += n;
  }
}

static void eq_reset(void *handle) {
  eq_t *e = handle;
  memset(e->mem_block, 0, sizeof(eq_memory_t) * EQ_BANDS * e->channels);
  memset(e->history, 0, sizeof(double) * 2 * e->channels);
}

static uint32_t eq_latency_frames(void *handle) {
  (void)handle;
  return 0; /* IIR filters: no algorithmic delay */
}

/* ---- Config vtable ------------------------------------------------------------------------- */

static st_status_t eq_plan_update(void *handle, const st_str_t *new_config,
                                  st_config_mode_t *out_mode, st_str_t *out_reason) {
  eq_t *e = handle;
  if (out_mode == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  eq_config_t cfg;
  char reason[256];
  if (!eq_parse_config(new_config, e->sample_rate, true, &cfg, NULL, reason, sizeof reason)) {
    *out_mode = ST_CONFIG_REJECT;
    st_sdk_set_error(out_reason, "%s", reason);
    return ST_OK;
  }
  *out_mode = ST_CONFIG_HOT_APPLY;
  return ST_OK;
}

static st_status_t eq_apply_update(void *handle, const st_str_t *new_config,
                                   st_str_t *out_error) {
  eq_t *e = handle;
  eq_config_t cfg;
  char reason[256];
  if (!eq_parse_config(new_config, e->sample_rate, true, &cfg, NULL, reason, sizeof reason)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "%s", reason);
  }
  eq_set_targets(e, &cfg, true);
  return ST_OK;
}

/* Everything worth keeping is in the config: no state to export. */
static const st_config_vtable_t g_config_vtable =
    ST_SDK_CONFIG_VTABLE(eq_plan_update, eq_apply_update);

static void eq_destroy(void *handle) {
  eq_t *e = handle;
  if (e != NULL) {
    free(e->mem_block);
    free(e->history);
    free(e);
  }
}

static const st_dsp_vtable_t g_dsp_vtable = {
    .base = {sizeof(st_dsp_vtable_t), ST_CAP_DSP, &g_config_vtable, eq_destroy},
    .process_f32 = eq_process,
    .reset = eq_reset,
    .latency_frames = eq_latency_frames,
};

/* ---- Module -------------------------------------------------------------------------------- */

static const st_capability_t g_eq_cap = ST_SDK_CAPABILITY(
    ST_CAP_DSP, EQ_TYPE_ID, "Equalizer (preamp + 10 bands)", k_schema, k_default_config);

static const st_capability_t *const g_caps[] = {&g_eq_cap};

static st_status_t eq_create_instance(const st_instance_args_t *args, st_instance_t *out_instance,
                                      st_str_t *out_error) {
  if (args == NULL || out_instance == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  if (args->kind != ST_CAP_DSP || !st_sdk_str_eq(&args->type_id, EQ_TYPE_ID)) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "eq: unknown capability");
  }
  if (args->spec.sample_rate == 0 || args->spec.channels == 0) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG,
                        "eq: the instance needs a sample rate and a channel count");
  }
  eq_config_t cfg;
  unsigned disabled = 0;
  char reason[256];
  if (!eq_parse_config(&args->config_json, args->spec.sample_rate, false, &cfg, &disabled, reason,
                       sizeof reason)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "eq: %s", reason);
  }
  eq_t *e = calloc(1, sizeof *e);
  if (e == NULL) {
    return ST_ERR_INTERNAL;
  }
  e->sample_rate = args->spec.sample_rate;
  e->channels = args->spec.channels;
  e->ramp_frames = (uint32_t)lround(EQ_RAMP_SECONDS * args->spec.sample_rate);
  if (e->ramp_frames == 0) {
    e->ramp_frames = 1;
  }
  e->gain = 1.0;
  e->mem_block = calloc((size_t)EQ_BANDS * e->channels, sizeof(eq_memory_t));
  e->history = calloc((size_t)2 * e->channels, sizeof(double));
  if (e->mem_block == NULL || e->history == NULL) {
    eq_destroy(e);
    return ST_ERR_INTERNAL;
  }
  for (int i = 0; i < EQ_BANDS; i++) {
    e->bands[i].coefs = e->bands[i].coef_end = k_identity;
    e->bands[i].mem = e->mem_block + (size_t)i * e->channels;
  }
  eq_set_targets(e, &cfg, false);
  if (disabled != 0) {
    st_sdk_log(ST_LOG_WARN,
               "eq: bands at or above the Nyquist frequency of this %u Hz stream are off "
               "(mask 0x%03x)",
               args->spec.sample_rate, disabled);
  }
  out_instance->handle = e;
  out_instance->vtable = &g_dsp_vtable.base;
  return ST_OK;
}

/* No threads, no global resources: the SDK's shutdown has nothing to join. */
ST_SDK_PLUGIN("{\"id\":\"dev.stellatune.eq\",\"name\":\"Equalizer\",\"version\":\"1.0.0\","
              "\"abi_version\":9,\"description\":\"Preamp and a 10-band parametric "
              "equalizer (RBJ biquads) with click-free live changes\","
              "\"author\":\"StellaTune\"}",
              g_caps, eq_create_instance)
