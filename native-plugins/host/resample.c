/*
 * resample.c — sample-rate conversion (libsoxr, very-high quality) and channel remixing for the
 * decode worker, so any file plays on a device that runs at one rate and channel count.
 *
 * Gapless across rates: each track gets its own resampler; at the track's end it is drained
 * (soxr's delayed output flushed), so the last input sample reaches the ring before the next
 * track's first and no silence is inserted at the join.
 */
#include "st_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ST_HOST_HAVE_SOXR
#include <soxr.h>

struct st_resampler {
  soxr_t soxr;
  uint32_t channels;
};

st_resampler_t *st_resampler_new(double in_rate, double out_rate, uint32_t channels, char *err, size_t err_cap) {
  soxr_error_t e = NULL;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
  soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: the decode worker's */
  soxr_t s = soxr_create(in_rate, out_rate, channels, &e, &io, &q, &rt);
  if (!s || e) {
    if (err && err_cap) snprintf(err, err_cap, "soxr_create: %s", e ? e : "failed");
    if (s) soxr_delete(s);
    return NULL;
  }
  st_resampler_t *r = calloc(1, sizeof *r);
  if (!r) {
    soxr_delete(s);
    return NULL;
  }
  r->soxr = s;
  r->channels = channels;
  return r;
}

uint32_t st_resampler_process(st_resampler_t *r, const float *in, uint32_t in_frames, float *out, uint32_t out_cap_frames,
                              uint32_t *consumed_frames) {
  size_t idone = 0, odone = 0;
  soxr_error_t e = soxr_process(r->soxr, in, in_frames, &idone, out, out_cap_frames, &odone);
  if (consumed_frames) *consumed_frames = e ? in_frames : (uint32_t)idone;
  return e ? 0 : (uint32_t)odone;
}

uint32_t st_resampler_drain(st_resampler_t *r, float *out, uint32_t out_cap_frames) {
  size_t odone = 0;
  soxr_error_t e = soxr_process(r->soxr, NULL, 0, NULL, out, out_cap_frames, &odone);
  return e ? 0 : (uint32_t)odone;
}

void st_resampler_free(st_resampler_t *r) {
  if (!r) return;
  soxr_delete(r->soxr);
  free(r);
}

#else

st_resampler_t *st_resampler_new(double in_rate, double out_rate, uint32_t channels, char *err, size_t err_cap) {
  (void)in_rate;
  (void)out_rate;
  (void)channels;
  if (err && err_cap) snprintf(err, err_cap, "built without libsoxr");
  return NULL;
}
uint32_t st_resampler_process(st_resampler_t *r, const float *in, uint32_t in_frames, float *out, uint32_t out_cap_frames,
                              uint32_t *consumed_frames) {
  (void)r; (void)in; (void)out; (void)out_cap_frames;
  if (consumed_frames) *consumed_frames = in_frames;
  return 0;
}
uint32_t st_resampler_drain(st_resampler_t *r, float *out, uint32_t out_cap_frames) {
  (void)r; (void)out; (void)out_cap_frames;
  return 0;
}
void st_resampler_free(st_resampler_t *r) { (void)r; }

#endif

/* ITU-R BS.775 fold-down, normalised so a full-scale signal in every channel cannot clip (the
 * matrix ffmpeg's default downmix uses): L = FL + c*FC + c*BL, R = FR + c*FC + c*BR, LFE left
 * out, c = 1/sqrt(2), all divided by 1 + 2c. Channel order is WAVE/FLAC's (FL FR FC LFE BL BR). */
uint32_t st_remix(const float *in, uint32_t frames, uint32_t in_ch, float *out, uint32_t out_ch) {
  if (in_ch == 0 || out_ch == 0) return 0;
  if (in_ch == out_ch) {
    memmove(out, in, (size_t)frames * in_ch * sizeof(float));
    return frames;
  }
  const float c = 0.70710678f;
  for (uint32_t f = 0; f < frames; f++) {
    const float *x = in + (size_t)f * in_ch;
    float *y = out + (size_t)f * out_ch;
    float l, r;
    if (in_ch == 1) {
      l = r = x[0];
    } else if (in_ch == 6 || in_ch == 5) {
      const float norm = 1.0f / (1.0f + 2.0f * c);
      const float bl = in_ch == 6 ? x[4] : x[3], br = in_ch == 6 ? x[5] : x[4];
      l = (x[0] + c * x[2] + c * bl) * norm;
      r = (x[1] + c * x[2] + c * br) * norm;
    } else {
      /* Other layouts: even channels to the left, odd to the right, averaged. */
      float sl = 0, sr = 0;
      uint32_t nl = 0, nr = 0;
      for (uint32_t k = 0; k < in_ch; k++) {
        if (k % 2 == 0) {
          sl += x[k];
          nl++;
        } else {
          sr += x[k];
          nr++;
        }
      }
      l = sl / (float)(nl ? nl : 1);
      r = nr ? sr / (float)nr : l;
    }
    if (out_ch == 1) {
      y[0] = 0.5f * (l + r);
    } else {
      y[0] = l;
      y[1] = r;
      for (uint32_t k = 2; k < out_ch; k++) y[k] = 0.0f;
    }
  }
  return frames;
}
