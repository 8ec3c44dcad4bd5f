/*
 * stellatune/decoder.h — Decoder: turn a byte stream into interleaved float32 PCM.
 *
 * What it is for.  A decoder plugin (libsndfile, a tracker module player, a DSD converter)
 * declares the file extensions it handles with a score (plugin.h). For each track the host tries
 * the decoders in descending score order and falls through to the next when open fails.
 *
 * Data plane, hard sync.  Every call here is made directly by the host's decode worker thread,
 * never on the UI path, never through an actor or IPC. One instance decodes one track at a time;
 * the host creates an instance per track (or reuses one for consecutive tracks after a new open).
 *
 * Lifecycle.  create_instance -> open -> get_info / get_metadata_json -> read_f32 … (seek_ms at
 * any point) -> destroy. The stream passed to open belongs to the host: use it until destroy, never
 * close it.
 *
 * Scenarios.  The source plugin that owns the stream may be reloaded while the track plays: the
 * stream stays valid (the host keeps the old generation alive). A network stream may return
 * ST_ERR_TIMEOUT/ST_ERR_NETWORK from read: pass the code on from read_f32; the host ends the
 * track with an error and moves on. Corrupt data must produce ST_ERR_DECODE, never a crash.
 */
#ifndef STELLATUNE_DECODER_H
#define STELLATUNE_DECODER_H

#include "plugin.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_decoder_open_args {
  uint32_t struct_size; /* sizeof(st_decoder_open_args_t) */
  uint32_t reserved;    /* 0 */
  st_str_t path;        /* the local path, or empty for plugin streams; informative only */
  st_str_t ext;         /* lowercase extension without the dot, e.g. "flac"; may be empty */
  st_stream_t stream;   /* always set: read the media through this */
} st_decoder_open_args_t;

typedef uint32_t st_decoder_flags_t;
#define ST_DECODER_SEEKABLE 1u
#define ST_DECODER_HAS_DURATION 2u
#define ST_DECODER_LOSSLESS 4u

typedef struct st_decoder_info {
  uint32_t struct_size;        /* set by the host; the plugin fills fields up to it */
  st_decoder_flags_t flags;
  st_audio_spec_t spec;        /* the format read_f32 produces */
  uint64_t duration_frames;    /* valid with ST_DECODER_HAS_DURATION */
  uint32_t encoder_delay_frames;   /* already removed from the output; 0 = none or unknown */
  uint32_t encoder_padding_frames; /* already removed from the output; 0 = none or unknown */
} st_decoder_info_t;

typedef struct st_decoder_vtable {
  st_instance_vtable_base_t base; /* kind == ST_CAP_DECODER */

  /* Opens the media; reads its header through args->stream. ST_ERR_DECODE (or
   * ST_ERR_UNSUPPORTED) lets the host try the next decoder; it then rewinds the stream. Any other
   * code (e.g. the stream's ST_ERR_NETWORK, passed through) ends the track with that error.
   * [decode-thread] */
  st_status_t (*open)(void *handle, const st_decoder_open_args_t *args, st_str_t *out_error);

  /* Describes the opened media. [decode-thread] */
  st_status_t (*get_info)(void *handle, st_decoder_info_t *out_info);

  /* Tags and format details as JSON: {"codec":"flac","bits_per_sample":16,"bitrate_kbps":900,
   * "tags":{"title":"…","artist":"…","album":"…","track":"1","date":"…","genre":"…"}}.
   * [decode-thread] */
  st_status_t (*get_metadata_json)(void *handle, st_str_t *out_json);

  /* Decodes up to `frames` frames into `out` (frames * channels floats, host-owned).
   * *out_frames < frames is allowed; ST_OK with *out_frames == 0 means the end of the track.
   * On an error status *out_frames is ignored: return what was decoded before the error with
   * ST_OK, and the error on the next call. No allocation; blocking is allowed only inside the
   * stream's read. [decode-thread & realtime] */
  st_status_t (*read_f32)(void *handle, float *out, uint32_t frames, uint32_t *out_frames);

  /* Moves to `position_ms`; *out_position_frames is where decoding resumes, which must be within
   * 10 ms of the target. ST_ERR_UNSUPPORTED if not seekable. [decode-thread] */
  st_status_t (*seek_ms)(void *handle, uint64_t position_ms, uint64_t *out_position_frames);
} st_decoder_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_DECODER_H */
