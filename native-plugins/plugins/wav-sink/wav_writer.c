#include "wav_writer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <io.h>
#define wav_fileno _fileno
#define wav_fsync _commit
#else
#include <unistd.h>
#define wav_fileno fileno
#define wav_fsync fsync
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "wav_writer writes float samples as they are in memory: little-endian hosts only"
#endif

#define WAV_FORMAT_PCM 0x0001u
#define WAV_FORMAT_IEEE_FLOAT 0x0003u
#define WAV_FORMAT_EXTENSIBLE 0xFFFEu

/* Offsets of the fields patched after writing (fixed by the layout written in wav_writer_open). */
#define OFF_RIFF_ID 0
#define OFF_RIFF_SIZE 4
#define OFF_JUNK_ID 12   /* JUNK, later ds64 */
#define OFF_DS64_BODY 20 /* riff size (8), data size (8), sample count (8), table length (4) */
#define JUNK_BODY 28

static void put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v) {
  put16(p, v & 0xFFFFu);
  put16(p + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* The speaker positions WAVE readers expect for common channel counts (KSAUDIO_SPEAKER_*): mono
 * (FC), stereo, 3.0 (FL FR FC), quad (FL FR BL BR), 5.0, 5.1, 6.1 (with BC and side pair), 7.1. */
static uint32_t channel_mask(uint16_t channels) {
  switch (channels) {
  case 1:
    return 0x4;
  case 2:
    return 0x3;
  case 3:
    return 0x7;
  case 4:
    return 0x33;
  case 5:
    return 0x37;
  case 6:
    return 0x3F;
  case 7:
    return 0x70F;
  case 8:
    return 0x63F;
  default:
    return 0; /* no positions: readers take the channels in order */
  }
}

static uint32_t bytes_per_sample(wav_sample_format_t f) { return f == WAV_F32 ? 4u : 2u; }

static bool has_fact(const wav_writer_t *w) { return w->format == WAV_F32; }

/* Builds the whole header for the current sizes into `h`; returns its length. */
static size_t build_header(const wav_writer_t *w, unsigned char *h) {
  uint16_t ch = w->spec.channels;
  uint32_t bps = bytes_per_sample(w->format);
  bool extensible = ch > 2;
  uint32_t fmt_size = extensible ? 40u : (w->format == WAV_F32 ? 18u : 16u);
  uint64_t data_bytes = w->frames * ch * bps;
  size_t n = 0;

  memcpy(h + n, "RIFF", 4);
  n += 8; /* size below */
  memcpy(h + n, "WAVE", 4);
  n += 4;
  memcpy(h + n, "JUNK", 4);
  put32(h + n + 4, JUNK_BODY);
  memset(h + n + 8, 0, JUNK_BODY);
  n += 8 + JUNK_BODY;

  memcpy(h + n, "fmt ", 4);
  put32(h + n + 4, fmt_size);
  unsigned char *f = h + n + 8;
  uint16_t tag = extensible ? WAV_FORMAT_EXTENSIBLE
                            : (w->format == WAV_F32 ? WAV_FORMAT_IEEE_FLOAT : WAV_FORMAT_PCM);
  put16(f, tag);
  put16(f + 2, ch);
  put32(f + 4, w->spec.sample_rate);
  put32(f + 8, w->spec.sample_rate * ch * bps);
  put16(f + 12, (uint32_t)(ch * bps));
  put16(f + 14, bps * 8);
  if (fmt_size >= 18) {
    put16(f + 16, extensible ? 22 : 0); /* cbSize */
  }
  if (extensible) {
    put16(f + 18, bps * 8); /* valid bits */
    put32(f + 20, channel_mask(ch));
    /* SubFormat GUID: {0000000X-0000-0010-8000-00AA00389B71}, X = the plain format tag. */
    static const unsigned char guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    put16(f + 24, w->format == WAV_F32 ? WAV_FORMAT_IEEE_FLOAT : WAV_FORMAT_PCM);
    memcpy(f + 26, guid_tail, sizeof guid_tail);
  }
  n += 8 + fmt_size;

  if (has_fact(w)) {
    memcpy(h + n, "fact", 4);
    put32(h + n + 4, 4);
    put32(h + n + 8, w->frames > UINT32_MAX ? UINT32_MAX : (uint32_t)w->frames);
    n += 12;
  }
  memcpy(h + n, "data", 4);
  size_t data_size_at = n + 4;
  n += 8;

  uint64_t riff_size = n - 8 + data_bytes;
  if (w->rf64 || riff_size > w->riff_limit) {
    memcpy(h + OFF_RIFF_ID, "RF64", 4);
    put32(h + OFF_RIFF_SIZE, UINT32_MAX);
    memcpy(h + OFF_JUNK_ID, "ds64", 4);
    put64(h + OFF_DS64_BODY, riff_size);
    put64(h + OFF_DS64_BODY + 8, data_bytes);
    put64(h + OFF_DS64_BODY + 16, w->frames);
    put32(h + OFF_DS64_BODY + 24, 0); /* no table */
    put32(h + data_size_at, UINT32_MAX);
  } else {
    put32(h + OFF_RIFF_SIZE, (uint32_t)riff_size);
    put32(h + data_size_at, (uint32_t)data_bytes);
  }
  return n;
}

static st_status_t fail(wav_writer_t *w) {
  w->failed = true;
  return ST_ERR_IO;
}

st_status_t wav_writer_open(wav_writer_t *w, const char *path, bool exclusive,
                            st_audio_spec_t spec, wav_sample_format_t format, char *err,
                            size_t err_cap) {
  memset(w, 0, sizeof *w);
  if (spec.sample_rate == 0 || spec.channels == 0) {
    snprintf(err, err_cap, "invalid format: %u Hz, %u channels", spec.sample_rate,
             spec.channels);
    return ST_ERR_INVALID_ARG;
  }
  w->spec = spec;
  w->format = format;
  w->riff_limit = UINT32_MAX;
  w->sync_every = (uint64_t)spec.sample_rate * 2; /* every 2 s of audio */
  w->next_sync = w->sync_every;
  if (format == WAV_S16) {
    w->convert = malloc(sizeof(int16_t) * WAV_CONVERT_FRAMES * spec.channels);
    if (w->convert == NULL) {
      snprintf(err, err_cap, "out of memory");
      return ST_ERR_INTERNAL;
    }
  }
  w->file = fopen(path, exclusive ? "wbx" : "wb");
  if (w->file == NULL) {
    snprintf(err, err_cap, "cannot create %s: %s", path, strerror(errno));
    free(w->convert);
    w->convert = NULL;
    return exclusive && errno == EEXIST ? ST_ERR_STATE : ST_ERR_IO;
  }
  /* A large stdio buffer: writes from the output loop are then mostly memcpy. */
  setvbuf(w->file, NULL, _IOFBF, 256u * 1024u);
  unsigned char h[128];
  size_t n = build_header(w, h);
  w->header_bytes = n;
  if (fwrite(h, 1, n, w->file) != n) {
    snprintf(err, err_cap, "cannot write %s: %s", path, strerror(errno));
    fclose(w->file);
    free(w->convert);
    memset(w, 0, sizeof *w);
    return ST_ERR_IO;
  }
  return ST_OK;
}

static int16_t to_s16(float x) {
  float v = x * 32768.0f;
  if (!(v > -32768.0f)) {
    return v != v ? 0 : INT16_MIN; /* NaN -> 0 */
  }
  if (v >= 32767.0f) {
    return INT16_MAX;
  }
  return (int16_t)lrintf(v);
}

st_status_t wav_writer_write(wav_writer_t *w, const float *samples, uint32_t frames) {
  if (w->file == NULL) {
    return ST_ERR_STATE;
  }
  if (w->failed) {
    return ST_ERR_IO;
  }
  const uint32_t ch = w->spec.channels;
  if (w->format == WAV_F32) {
    size_t count = (size_t)frames * ch;
    if (fwrite(samples, sizeof(float), count, w->file) != count) {
      return fail(w);
    }
  } else {
    for (uint32_t done = 0; done < frames;) {
      uint32_t n = frames - done < WAV_CONVERT_FRAMES ? frames - done : WAV_CONVERT_FRAMES;
      const float *src = samples + (size_t)done * ch;
      size_t count = (size_t)n * ch;
      for (size_t i = 0; i < count; i++) {
        w->convert[i] = to_s16(src[i]);
      }
      if (fwrite(w->convert, sizeof(int16_t), count, w->file) != count) {
        return fail(w);
      }
      done += n;
    }
  }
  w->frames += frames;
  if (w->sync_every != 0 && w->frames >= w->next_sync) {
    w->next_sync = w->frames + w->sync_every;
    return wav_writer_sync(w, false);
  }
  return ST_OK;
}

st_status_t wav_writer_sync(wav_writer_t *w, bool durable) {
  if (w->file == NULL) {
    return ST_ERR_STATE;
  }
  if (w->failed) {
    return ST_ERR_IO;
  }
  unsigned char h[128];
  size_t n = build_header(w, h);
  if (memcmp(h, "RF64", 4) == 0) {
    w->rf64 = true; /* once RF64, always RF64 */
  }
  /* Rewrite the header in one piece, then go back to the end. fseek flushes stdio's buffer. */
  if (fseek(w->file, 0, SEEK_SET) != 0 || fwrite(h, 1, n, w->file) != n ||
      fseek(w->file, 0, SEEK_END) != 0) {
    return fail(w);
  }
  if (fflush(w->file) != 0) {
    return fail(w);
  }
  if (durable && wav_fsync(wav_fileno(w->file)) != 0 && errno != EINVAL && errno != EROFS) {
    return fail(w); /* EINVAL/EROFS: a special file (e.g. a pipe or /dev/null) cannot sync */
  }
  return ST_OK;
}

st_status_t wav_writer_close(wav_writer_t *w) {
  st_status_t st = ST_OK;
  if (w->file != NULL) {
    st = wav_writer_sync(w, true);
    if (fclose(w->file) != 0 && st == ST_OK) {
      st = ST_ERR_IO;
    }
  }
  free(w->convert);
  memset(w, 0, sizeof *w);
  return st;
}
