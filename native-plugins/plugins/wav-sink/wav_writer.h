/*
 * wav_writer.h — streams interleaved float32 PCM into a WAV file that stays valid.
 *
 * Layout: RIFF/WAVE, a 28-byte JUNK chunk, fmt, fact (float formats), data. The sizes in the
 * header are patched on wav_writer_sync (and periodically while writing), so a recording cut short
 * by a crash is still readable up to the last patch. The JUNK chunk reserves room for a ds64
 * chunk: when the file outgrows the 4 GiB RIFF limit it is turned into RF64 in place (EBU 3306),
 * which ffmpeg, libsndfile and most editors read.
 *
 * Formats: float32 (WAVE_FORMAT_IEEE_FLOAT, bit-exact) or 16-bit PCM (rounded to nearest,
 * clipped, no dither); WAVE_FORMAT_EXTENSIBLE with the standard channel mask for more than two
 * channels. Samples are written little-endian.
 *
 * Not thread-safe: one thread drives a writer at a time.
 */
#ifndef ST_WAV_WRITER_H
#define ST_WAV_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stellatune/types.h"

typedef enum wav_sample_format { WAV_F32 = 0, WAV_S16 = 1 } wav_sample_format_t;

/* Frames converted per fwrite for 16-bit output. */
#define WAV_CONVERT_FRAMES 1024u

typedef struct wav_writer {
  FILE *file;
  st_audio_spec_t spec;
  wav_sample_format_t format;
  uint64_t frames;          /* frames written */
  uint64_t header_bytes;    /* where the sample data starts */
  uint64_t riff_limit;      /* largest RIFF size before RF64; UINT32_MAX (tests lower it) */
  uint64_t sync_every;      /* frames between automatic header patches; 0 = never */
  uint64_t next_sync;       /* frame count at which the next automatic patch is due */
  int16_t *convert;         /* WAV_CONVERT_FRAMES * channels, for 16-bit output */
  bool rf64;                /* the header is in RF64 form */
  bool failed;              /* an I/O error happened; further writes fail */
} wav_writer_t;

/* Creates `path` (exclusively when `exclusive`: fails if it exists) and writes the header.
 * Returns ST_OK, or ST_ERR_IO (errno-based message in `err`), or ST_ERR_INVALID_ARG. */
st_status_t wav_writer_open(wav_writer_t *w, const char *path, bool exclusive,
                            st_audio_spec_t spec, wav_sample_format_t format, char *err,
                            size_t err_cap);

/* Appends frames; no allocation. ST_ERR_IO when the file cannot take them (disk full). */
st_status_t wav_writer_write(wav_writer_t *w, const float *samples, uint32_t frames);

/* Patches the sizes in the header and flushes to the OS; with `durable` also to the disk. */
st_status_t wav_writer_sync(wav_writer_t *w, bool durable);

/* Finalises the header and closes the file; the writer is then empty. Safe on an empty writer. */
st_status_t wav_writer_close(wav_writer_t *w);

#endif /* ST_WAV_WRITER_H */
