/*
 * stellatune/output.h — OutputSink: deliver PCM to a device, a file or a network renderer.
 *
 * What it is for.  An output plugin (a WAV recorder, a network streamer, an exclusive-mode device
 * API) lists targets, agrees on a format with the host, and accepts PCM.
 *
 * Output control is synchronous in the ABI (list_targets, negotiate_spec, open, close), but the
 * host never makes these calls on its UI path: they run in the audio process, which answers the UI
 * asynchronously. Keep them bounded (a device probe, not a network scan).
 *
 * Data plane, hard sync.  write_f32, query_status, flush and reset are called directly by the
 * audio process's output loop; write_f32 is realtime.
 *
 * Lifecycle.  create_instance -> list_targets_json -> negotiate_spec -> open -> write_f32 …
 * (flush at end of playback, reset on seek/stop) -> close -> (open again, e.g. on a new format)
 * -> destroy. destroy must be safe even if close was never called.
 *
 * Device loss.  If the target disappears, write_f32 returns ST_ERR_IO; the host closes the
 * instance and reopens (the same target, or falls back to another) and counts a device loss.
 *
 * JSON shapes:
 *   targets: {"targets":[{"id":"…","name":"…","default":true}]}
 *   target:  one object from that list (the host passes it back verbatim).
 */
#ifndef STELLATUNE_OUTPUT_H
#define STELLATUNE_OUTPUT_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t st_negotiate_flags_t;
#define ST_NEGOTIATE_EXACT 1u            /* the desired spec is used as is */
#define ST_NEGOTIATE_CHANGED_RATE 2u     /* the host must resample to spec.sample_rate */
#define ST_NEGOTIATE_CHANGED_CHANNELS 4u /* the host must remix to spec.channels */

typedef struct st_negotiated_spec {
  uint32_t struct_size; /* set by the host */
  st_negotiate_flags_t flags;
  st_audio_spec_t spec;            /* what open will accept */
  uint32_t preferred_chunk_frames; /* 0 = no preference */
  uint32_t reserved;               /* 0 */
} st_negotiated_spec_t;

typedef struct st_output_status {
  uint32_t struct_size;    /* set by the host */
  uint32_t running;        /* 1 while open */
  uint64_t frames_written; /* frames accepted since open */
  uint64_t frames_played;  /* frames that reached the target since open (= written for files) */
  uint32_t queued_frames;  /* accepted but not yet played */
  uint32_t reserved;       /* 0 */
} st_output_status_t;

typedef struct st_output_vtable {
  st_instance_vtable_base_t base; /* kind == ST_CAP_OUTPUT_SINK */

  /* The targets this sink can write to, as {"targets":[…]}. [control] */
  st_status_t (*list_targets_json)(void *handle, st_str_t *out_json, st_str_t *out_error);

  /* Proposes the format open would accept for `desired` on `target_json`. [control] */
  st_status_t (*negotiate_spec)(void *handle, const st_str_t *target_json,
                                const st_audio_spec_t *desired, st_negotiated_spec_t *out_spec,
                                st_str_t *out_error);

  /* Opens the target with a spec that negotiate_spec returned. [control] */
  st_status_t (*open)(void *handle, const st_str_t *target_json, const st_audio_spec_t *spec,
                      st_str_t *out_error);

  /* Accepts up to `frames` interleaved frames; *out_accepted may be less when the sink's queue is
   * full (the host retries the rest). ST_ERR_IO when the target is lost. A device sink must not
   * block here (hand the samples to its own ring); a file sink may do buffered writes, since the
   * host's output loop paces itself by the sink's status, not by a device clock.
   * [output-thread & realtime] */
  st_status_t (*write_f32)(void *handle, const float *samples, uint32_t frames,
                           uint32_t *out_accepted);

  /* Reports progress. [output-thread & realtime] */
  st_status_t (*query_status)(void *handle, st_output_status_t *out_status);

  /* Waits (bounded) until queued frames reached the target; files are synced. [output-thread] */
  st_status_t (*flush)(void *handle);

  /* Drops queued frames at once (seek, stop). [output-thread] */
  st_status_t (*reset)(void *handle);

  /* Releases the target; the instance may be opened again. [control] */
  st_status_t (*close)(void *handle);
} st_output_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_OUTPUT_H */
