/*
 * stellatune/decoder.h — Decoder: turn a byte stream into interleaved float32 PCM.
 *
 * What it is for.  A decoder plugin (libsndfile, a tracker module player, a DSD converter)
 * declares the file extensions it handles with a score (plugin.h) and may score the content itself
 * (probe, below). For each track the host tries the decoders in order and falls through to the
 * next when open fails.
 *
 * Choosing by content.  A file's extension can lie (a FLAC named .mp3) or be missing (an M4A from
 * a source that strips it). So before opening, the host reads the first bytes of a seekable stream
 * (up to ST_DECODER_PROBE_BYTES, fewer for a shorter stream), rewinds it, and asks every decoder
 * that has a `probe` slot for a score of those bytes, 0..ST_DECODER_PROBE_CERTAIN:
 *   0    the bytes are not a format this decoder reads;
 *   100  a format this decoder is the reference reader for (its signature and header check out);
 *   in between: the decoder reads it, but another one may do better (e.g. 40 from a general
 *   decoder for a format a dedicated one decodes exactly), or the signature is weak.
 * The host tries decoders by probe score, highest first, the extension score breaking ties. A
 * decoder without the slot (a plugin built before it existed, or probe == NULL) counts as
 * ST_DECODER_PROBE_NEUTRAL when its extension table matches the file, and 0 otherwise. Decoders
 * whose extension matches but whose score is 0 are still tried, last, so a probe that is wrong
 * costs time, never the track. A stream that cannot seek is not probed (its bytes could not be
 * read again): extension order alone decides.
 *
 * The probe slot is an addition to the first ABI 9 layout: the host reads it only when
 * base.struct_size >= ST_DECODER_VTABLE_SIZE_WITH_PROBE, so plugins built without it keep working
 * unchanged.
 *
 * Data plane, hard sync.  Every call here is made directly by the host's decode worker thread,
 * never on the UI path, never through an actor or IPC. One instance decodes one track at a time;
 * the host creates an instance per track (or reuses one for consecutive tracks after a new open).
 *
 * Lifecycle.  create_instance -> [probe] -> open -> get_info / get_metadata_json -> read_f32 …
 * (seek_ms at any point) -> destroy. An instance that was only probed may be destroyed unopened.
 * The stream passed to open belongs to the host: use it until destroy, never close it.
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

/* The most bytes the host passes to probe, and the score scale's ends (see "Choosing by
 * content" above). */
#define ST_DECODER_PROBE_BYTES 65536u
#define ST_DECODER_PROBE_CERTAIN 100u
#define ST_DECODER_PROBE_NEUTRAL 50u

/* Arguments of probe; borrowed for the call. */
typedef struct st_decoder_probe_args {
  uint32_t struct_size; /* sizeof(st_decoder_probe_args_t) */
  uint32_t reserved;    /* 0 */
  const void *head;     /* the first head_len bytes of the stream */
  size_t head_len;      /* < ST_DECODER_PROBE_BYTES only when the stream is that short */
  st_str_t ext;         /* lowercase extension without the dot; may be empty; informative only */
} st_decoder_probe_args_t;

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
   * ReplayGain, when the file has it, as the tag text: "replaygain_track_gain":"-6.50 dB",
   * "replaygain_track_peak":"0.98", "replaygain_album_gain", "replaygain_album_peak" (key case is
   * free), or Opus's "r128_track_gain" / "r128_album_gain" (Q7.8 dB); the player plays at it.
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

  /* Added after the first ABI 9 release; present when base.struct_size >=
   * ST_DECODER_VTABLE_SIZE_WITH_PROBE. May be NULL. */

  /* Scores how well this decoder reads media that begins with args->head (see "Choosing by
   * content"). Called on a fresh instance before open (the host may then open it, or destroy it
   * unopened). Must only look at the given bytes: no stream access, no blocking, and nothing kept
   * after the call. [decode-thread] */
  uint32_t (*probe)(void *handle, const st_decoder_probe_args_t *args);
} st_decoder_vtable_t;

/* The size of the vtable with the probe slot; a smaller base.struct_size means no probe. */
#define ST_DECODER_VTABLE_SIZE_WITH_PROBE                                                        \
  (offsetof(st_decoder_vtable_t, probe) + sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_DECODER_H */
