/*
 * st_host.h — host-side C helpers of StellaTune (libstellatune_host), used from TypeScript
 * through koffi by the main process, the decode worker and the audio process.
 *
 * 1. A file-backed st_io_vtable_t: local files are handed to decoders through the same stream
 *    table as plugin streams (stream.h), so one decoder serves both.
 *
 * 2. PcmRing: a single-producer single-consumer ring of interleaved float32 samples in POSIX
 *    shared memory (on Windows a named file mapping), between the decode worker (producer, in
 *    the main process) and the audio process (consumer). JavaScript cannot share memory across
 *    processes and Electron forbids ArrayBuffers over external memory, so every transfer is a
 *    memcpy between the mapping and a JS-owned Float32Array passed as a pointer. Indices count
 *    samples and only grow; the producer owns write_index, the consumer read_index. A flush
 *    (seek, stop, track change) is the producer raising `discard_until` to its write index and
 *    bumping `epoch`; the consumer, on seeing a new epoch, skips to discard_until. Waiting uses
 *    futexes on sequence words (Linux; named events on Windows, whose WaitOnAddress does not
 *    cross processes), so either side sleeps without polling and the other wakes it only when it
 *    actually sleeps.
 *    The header also carries control words (ctl32/ctl64) whose meaning the host's TypeScript
 *    defines: commands from the main thread to the decode worker (seek, stop), transport state
 *    for the audio process (pause, volume) and counters the audio process publishes (played
 *    index, underruns). They are plain atomics; ctl32 words can also be waited on.
 *
 * 3. The crash guard: handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT (on an alternate
 *    stack) that write one JSON crash record naming the plugin library the fault came from, then
 *    chain to the handler installed before them (V8's WebAssembly trap handler must keep working)
 *    and let the process die as it would have. The registry reads the records at the next start
 *    and quarantines that library build. POSIX only; on Windows install returns -1.
 *
 * Threads.  All functions are thread-safe in the SPSC sense: one producer thread calls write /
 * wait_space / producer_flush, one consumer thread calls read / wait_data / consumer_sync; any
 * thread may read fills and control words. Nothing here allocates after create/open.
 */
#ifndef STELLATUNE_HOST_H
#define STELLATUNE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "stellatune/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef _WIN32
#define ST_HOST_EXPORT __declspec(dllexport)
#else
#define ST_HOST_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Local files as streams ----------------------------------------------------------------- */

/* Opens `path` (UTF-8) for reading; on success fills *out_stream with a handle and the static
 * io table below and returns ST_OK. The handle is owned by the caller and released with
 * st_host_file_close. ST_ERR_NOT_FOUND / ST_ERR_IO on failure. */
ST_HOST_EXPORT st_status_t st_host_file_open(const char *path, st_stream_t *out_stream);
/* Closes a handle from st_host_file_open; NULL is ignored. Never during a read. */
ST_HOST_EXPORT void st_host_file_close(void *handle);
/* The static io table of file streams; lives as long as the library is loaded. */
ST_HOST_EXPORT const st_io_vtable_t *st_host_file_io(void);

/* ---- PcmRing --------------------------------------------------------------------------------- */

typedef struct st_pcm_ring st_pcm_ring_t;

#define ST_PCM_RING_CTL32 32
#define ST_PCM_RING_CTL64 16

/* Creates (O_EXCL) and maps a ring named `name` ("/stellatune-…") holding `capacity_samples`
 * float samples. NULL on failure (errno is set). The creator should unlink it when done. */
ST_HOST_EXPORT st_pcm_ring_t *st_pcm_ring_create(const char *name, uint32_t capacity_samples);
/* Maps an existing ring by name; NULL if missing or not a ring. */
ST_HOST_EXPORT st_pcm_ring_t *st_pcm_ring_open(const char *name);
/* Unmaps the ring and frees the handle (the shared object survives until unlinked). */
ST_HOST_EXPORT void st_pcm_ring_close(st_pcm_ring_t *ring);
/* Removes the name; mappings stay valid until closed. 0 on success. */
ST_HOST_EXPORT int st_pcm_ring_unlink(const char *name);

ST_HOST_EXPORT uint32_t st_pcm_ring_capacity(const st_pcm_ring_t *ring);
/* Samples readable now (consumer view). */
ST_HOST_EXPORT uint32_t st_pcm_ring_fill(const st_pcm_ring_t *ring);
/* Samples writable now (producer view). */
ST_HOST_EXPORT uint32_t st_pcm_ring_space(const st_pcm_ring_t *ring);
ST_HOST_EXPORT uint64_t st_pcm_ring_write_index(const st_pcm_ring_t *ring);
ST_HOST_EXPORT uint64_t st_pcm_ring_read_index(const st_pcm_ring_t *ring);

/* Producer: copies up to `samples` from `src`; returns the count copied (less when full). */
ST_HOST_EXPORT uint32_t st_pcm_ring_write(st_pcm_ring_t *ring, const float *src, uint32_t samples);
/* Consumer: copies up to `samples` into `dst`, multiplied by `gain` unless it is 1; returns the
 * count copied. */
ST_HOST_EXPORT uint32_t st_pcm_ring_read(st_pcm_ring_t *ring, float *dst, uint32_t samples,
                                         float gain);
/* Producer: sleeps until `samples` of space are free or `timeout_ms` passes; 1 if there is
 * space. */
ST_HOST_EXPORT int st_pcm_ring_wait_space(st_pcm_ring_t *ring, uint32_t samples,
                                          uint32_t timeout_ms);
/* Consumer: sleeps until `samples` are readable or `timeout_ms` passes; 1 if they are. */
ST_HOST_EXPORT int st_pcm_ring_wait_data(st_pcm_ring_t *ring, uint32_t samples,
                                         uint32_t timeout_ms);

/* Producer: discards everything written so far (raises discard_until to the write index) and
 * bumps the epoch; returns the index where new data starts. */
ST_HOST_EXPORT uint64_t st_pcm_ring_producer_flush(st_pcm_ring_t *ring);
/* Consumer: if the epoch moved past *last_epoch, skips to discard_until, stores the new epoch
 * and returns 1; else 0. */
ST_HOST_EXPORT int st_pcm_ring_consumer_sync(st_pcm_ring_t *ring, uint32_t *last_epoch);
ST_HOST_EXPORT uint32_t st_pcm_ring_epoch(const st_pcm_ring_t *ring);
/* Consumer: samples readable once a flush newer than `last_epoch` is applied. */
ST_HOST_EXPORT uint32_t st_pcm_ring_pending(const st_pcm_ring_t *ring, uint32_t last_epoch);

/* Control words (see above); out-of-range slots read 0 and ignore writes. */
ST_HOST_EXPORT uint32_t st_pcm_ring_get32(const st_pcm_ring_t *ring, uint32_t slot);
ST_HOST_EXPORT void st_pcm_ring_set32(st_pcm_ring_t *ring, uint32_t slot, uint32_t value);
/* Adds and returns the new value; wakes waiters of the slot. */
ST_HOST_EXPORT uint32_t st_pcm_ring_add32(st_pcm_ring_t *ring, uint32_t slot, uint32_t delta);
ST_HOST_EXPORT uint64_t st_pcm_ring_get64(const st_pcm_ring_t *ring, uint32_t slot);
ST_HOST_EXPORT void st_pcm_ring_set64(st_pcm_ring_t *ring, uint32_t slot, uint64_t value);
/* Sleeps while ctl32[slot] == expected, at most timeout_ms; 1 if it changed. */
ST_HOST_EXPORT int st_pcm_ring_wait32(st_pcm_ring_t *ring, uint32_t slot, uint32_t expected,
                                      uint32_t timeout_ms);
/* Wakes whoever sleeps in st_pcm_ring_wait32 on `slot`, without changing it (Linux; elsewhere the
 * wait runs to its timeout). */
ST_HOST_EXPORT void st_pcm_ring_wake32(st_pcm_ring_t *ring, uint32_t slot);
/* Float convenience for ctl32 words holding IEEE-754 bits (volume). */
ST_HOST_EXPORT float st_pcm_ring_getf(const st_pcm_ring_t *ring, uint32_t slot);
ST_HOST_EXPORT void st_pcm_ring_setf(st_pcm_ring_t *ring, uint32_t slot, float value);

/* Gain marks: a scalar gain per span of the ring (ReplayGain per track). The producer marks, before
 * writing a track's first sample, the ring index its gain starts at; the consumer multiplies every
 * sample by the gain of the newest mark at or before it, so the gain changes exactly at a gapless
 * join (ramped over ST_PCM_GAIN_RAMP_FRAMES from that sample, so a step makes no click). The gain
 * of a mark can be changed later (a setting change is heard within the device buffer, not after
 * the ring drains). Only the newest ST_PCM_RING_GAIN_MARKS - 1 marks are kept: enough for the
 * tracks a ~1.5 s ring can hold unless they are shorter than ~0.1 s each. */
#define ST_PCM_RING_GAIN_MARKS 16
#define ST_PCM_GAIN_RAMP_FRAMES 64

/* The consumer's gain state between reads (floats, so JavaScript can hold it in a Float32Array):
 * the gain applied to the last sample, the target it ramps to, the step per frame, and `snap`
 * (non-zero: jump to the next target without a ramp, set after a flush when the audio fades in). */
typedef struct st_pcm_gain_state {
  float current;
  float target;
  float step;
  float snap;
} st_pcm_gain_state_t;

/* Producer: from ring sample `start_index` (>= every earlier mark's) on, samples are scaled by
 * `gain` (0..64; anything else reads as 1). Returns the mark's id (never 0). */
ST_HOST_EXPORT uint32_t st_pcm_ring_mark_gain(st_pcm_ring_t *ring, uint64_t start_index, float gain);
/* Any thread: changes the gain of mark `mark_id`; 0 if that mark is gone. */
ST_HOST_EXPORT int st_pcm_ring_set_mark_gain(st_pcm_ring_t *ring, uint32_t mark_id, float gain);
/* The gain in force at ring sample `index` (1 where no mark covers it). */
ST_HOST_EXPORT float st_pcm_ring_gain_at(const st_pcm_ring_t *ring, uint64_t index);
/* Consumer: st_pcm_ring_read, then each frame scaled by its mark's gain through `state` (a
 * `channels`-sample frame never straddles a mark: marks sit on frame boundaries). */
ST_HOST_EXPORT uint32_t st_pcm_ring_read_gained(st_pcm_ring_t *ring, float *dst, uint32_t samples, uint32_t channels,
                                                st_pcm_gain_state_t *state);

/* Wakes a producer sleeping in st_pcm_ring_wait_space (main wrote a command it must see now). */
ST_HOST_EXPORT void st_pcm_ring_wake_producer(st_pcm_ring_t *ring);

/* Control word slots the C side reads and writes (the list is src-main/plugins/host-lib.ts). */
enum {
  ST_CTL_PAUSED = 3,
  ST_CTL_VOLUME = 4,
  ST_CTL_UNDERRUNS = 5,
  ST_CTL_PRODUCER_ACTIVE = 6,
  ST_CTL_FORMAT_SEQ = 7,
  ST_CTL_SAMPLE_RATE = 8,
  ST_CTL_CHANNELS = 9,
  ST_CTL_FILL_MIN = 12,
  ST_CTL_HEARTBEAT = 14,
  /* audio -> main: per-block DSP and output work, p50 / p99 over the last second, µs (the audio
   * process's control side writes them from st_pa_out_block_times) */
  ST_CTL_DSP_BLOCK_P50_US = 15,
  ST_CTL_DSP_BLOCK_P99_US = 16,
  ST_CTL_OUTPUT_BLOCK_P50_US = 17,
  ST_CTL_OUTPUT_BLOCK_P99_US = 18,
};
enum { ST_CTL64_PLAYED_INDEX = 1, ST_CTL64_FILL_SUM = 2, ST_CTL64_FILL_COUNT = 3 };

/* ---- Resampling and remixing (resample.c) ----------------------------------------------------- */

typedef struct st_resampler st_resampler_t;

/* A libsoxr very-high-quality converter for interleaved float32. NULL with a message on failure. */
ST_HOST_EXPORT st_resampler_t *st_resampler_new(double in_rate, double out_rate, uint32_t channels, char *err,
                                                size_t err_cap);
/* Converts up to `in_frames`; returns the frames written to `out` (at most `out_cap_frames`) and
 * the frames taken from `in` in *consumed_frames. */
ST_HOST_EXPORT uint32_t st_resampler_process(st_resampler_t *r, const float *in, uint32_t in_frames, float *out,
                                             uint32_t out_cap_frames, uint32_t *consumed_frames);
/* End of input: returns delayed output frames; call until it returns 0. */
ST_HOST_EXPORT uint32_t st_resampler_drain(st_resampler_t *r, float *out, uint32_t out_cap_frames);
ST_HOST_EXPORT void st_resampler_free(st_resampler_t *r);
/* Remixes `frames` frames of `in_ch` channels into `out_ch` (mono -> stereo, 5.1 -> stereo by
 * ITU-R BS.775, normalised); `in` and `out` must not overlap unless in_ch == out_ch. */
ST_HOST_EXPORT uint32_t st_remix(const float *in, uint32_t frames, uint32_t in_ch, float *out, uint32_t out_ch);

/* ---- The PortAudio output (pa_output.c) ------------------------------------------------------ */

typedef struct st_pa_out st_pa_out_t;

/* Opens and starts a callback stream on `device` (-1: default) at the ring's current format,
 * consuming `ring` from PortAudio's thread. `pa_library` is the libportaudio to dlopen. NULL on
 * failure with a message in `err`. */
ST_HOST_EXPORT st_pa_out_t *st_pa_out_open(const char *pa_library, st_pcm_ring_t *ring, int32_t device,
                                           uint32_t frames_per_buffer, char *err, size_t err_cap);
/* The same output on a PulseAudio stream of its own (libpulse's threaded main loop, dlopen'ed):
 * the default device when a PulseAudio / PipeWire-pulse server answers. Opens idle (corked); it
 * starts, primed, when the ring has audio. NULL with a message when there is no libpulse or no
 * server (the caller uses PortAudio). */
ST_HOST_EXPORT st_pa_out_t *st_pa_out_open_pulse(st_pcm_ring_t *ring, uint32_t frames_per_buffer, const char *app_name,
                                                 char *err, size_t err_cap);
ST_HOST_EXPORT void st_pa_out_close(st_pa_out_t *out);
/* The stream's output latency in seconds (PortAudio's figure). */
ST_HOST_EXPORT double st_pa_out_latency(const st_pa_out_t *out);
/* 1 once the ring announced a format other than the stream's (the owner reopens). */
ST_HOST_EXPORT uint32_t st_pa_out_format_changed(st_pa_out_t *out);
/* Callbacks run so far (a stuck value means a stuck device, unless the stream is idle). */
ST_HOST_EXPORT uint32_t st_pa_out_callbacks(st_pa_out_t *out);
/* Per-block work times of the blocks that played audio, oldest first: the DSP chain's and the
 * output's own (ring read, volume, fades, position), ns. Copies the blocks after the first `since`
 * (a count st_pa_out_block_count returned), at most `cap` and the newest 1024; returns how many. */
ST_HOST_EXPORT uint32_t st_pa_out_block_times(st_pa_out_t *out, uint32_t *dsp_ns, uint32_t *out_ns, uint32_t cap,
                                              uint32_t since);
/* Blocks timed so far (wraps at 2^32). */
ST_HOST_EXPORT uint32_t st_pa_out_block_count(st_pa_out_t *out);
/* ST_PA_RUNNING, ST_PA_IDLE (stopped while nothing plays; it starts again by itself when audio
 * arrives) or ST_PA_START_FAILED (the device refused to start again: the owner reopens). */
enum { ST_PA_IDLE = 0, ST_PA_RUNNING = 1, ST_PA_START_FAILED = 2 };
ST_HOST_EXPORT uint32_t st_pa_out_state(st_pa_out_t *out);
/* Brackets the control side's DSP calls so they never overlap process_f32 in the callback. */
ST_HOST_EXPORT void st_pa_out_lock(st_pa_out_t *out);
ST_HOST_EXPORT void st_pa_out_unlock(st_pa_out_t *out);
/* Replaces the DSP chain run in the callback (instance handles and their st_dsp_vtable_t). */
ST_HOST_EXPORT int st_pa_out_set_dsp(st_pa_out_t *out, uint32_t n, void *const *handles, const void *const *vtables);

/* ---- Crash guard ----------------------------------------------------------------------------- */

/* Installs the handlers once per process (later calls only update the folder). `record_dir`
 * must exist; records are written there as crash-<ms>-<pid>.json. `process_role` names the
 * process in the record ("main", "audio", "checker"). 0 on success. */
ST_HOST_EXPORT int st_host_crash_guard_install(const char *record_dir, const char *process_role);
/* Names a loaded library: `mapped_path` exactly as given to dlopen (the shadow copy), the plugin
 * id and the build's fingerprint, copied into a fixed table the handler reads. Returns the slot
 * or -1 when the table is full. */
ST_HOST_EXPORT int st_host_crash_guard_add_library(const char *mapped_path, const char *plugin_id,
                                                  const char *fingerprint);
/* Forgets a library before it is unloaded. */
ST_HOST_EXPORT void st_host_crash_guard_remove_library(const char *mapped_path);
/* Records what the calling thread is doing ("list_items", "process_f32"): the step a crash
 * record names. `thread_role` ("control", "decode-worker", "output") is kept when NULL. The
 * first call from a thread also gives it an alternate signal stack. */
ST_HOST_EXPORT void st_host_crash_guard_set_step(const char *thread_role, const char *step);

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_HOST_H */
