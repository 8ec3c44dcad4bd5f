/*
 * pa_output.c — the PortAudio output of the audio process, driven from PortAudio's callback.
 *
 * Why in C.  The callback runs on PortAudio's audio thread and takes its audio straight from the
 * shared PCM ring (scaled by the ring's per-track gain marks: ReplayGain), runs the DSP chain (process_f32 is hard-sync and realtime-safe by the ABI),
 * applies the volume and the pause/flush fades, and publishes the played position. JavaScript
 * only opens, closes and reconfigures: nothing wakes the audio process's event loop per buffer,
 * so the device buffer can be small (what is queued there is what every control waits behind:
 * a DSP change, pause, seek and first sound are all heard within the device latency).
 *
 * PortAudio is the copy naudiodon ships (dlopen'ed by path, so this library links against
 * nothing new); the header comes from the same package at build time.
 *
 * Control side.  st_pa_out_lock/unlock bracket every DSP call the control thread makes (config
 * apply, reset, destroy, chain swap), so DSP calls never overlap the callback's process_f32.
 *
 * Idle stop.  A running stream with nothing to play writes silence, and the device queues it:
 * the first sound of the next play waited behind a device buffer of silence (about 23 ms at 512
 * frames), and the idle player woke ~90 times a second. So the stream stops (Pa_AbortStream)
 * once nothing has been heard for IDLE_STOP_MS, and the idler thread starts it again as soon as
 * the ring has audio to play, primed from the callback (paPrimeOutputBuffersUsingStreamCallback):
 * the device's first buffer is the new audio, not silence. The stream stays open (the device
 * and its format are kept), so starting again costs a trigger, not a reopen. While the stream is
 * stopped the idler is the ring's consumer for flushes and format announcements (nothing else
 * reads the ring then), so a producer waiting for the ring to drain is never stuck.
 *
 * The PulseAudio driver.  Where a PulseAudio (or PipeWire-pulse) server answers, the default
 * device is a stream of our own on libpulse's threaded main loop instead of PortAudio -> ALSA ->
 * the pulse ALSA plugin. Same buffer size, same render (ring, ReplayGain, DSP, volume, fades,
 * position), but one thread and one server request per buffer: the ALSA route woke a PortAudio
 * thread and the plugin's own client thread 3-4 times a buffer, and cost about three times the
 * CPU for the same latency. libpulse is dlopen'ed (nothing new to link; the header comes from
 * libpulse-dev at build time); without it or without a server the owner uses PortAudio.
 */
#include "st_host.h"

#include <stdio.h>

#if defined(ST_HOST_HAVE_PORTAUDIO) && !defined(_WIN32)
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <portaudio.h>
#if defined(ST_HOST_HAVE_PULSE)
#include <pulse/pulseaudio.h>
#endif

#include "stellatune/dsp.h"

typedef PaError (*pa_init_fn)(void);
typedef PaError (*pa_term_fn)(void);
typedef PaError (*pa_open_fn)(PaStream **, const PaStreamParameters *, const PaStreamParameters *, double, unsigned long,
                              PaStreamFlags, PaStreamCallback *, void *);
typedef PaError (*pa_stream_fn)(PaStream *);
typedef const PaDeviceInfo *(*pa_devinfo_fn)(PaDeviceIndex);
typedef PaDeviceIndex (*pa_default_fn)(void);
typedef const PaStreamInfo *(*pa_streaminfo_fn)(PaStream *);
typedef const char *(*pa_errtext_fn)(PaError);

static struct {
  void *lib;
  pa_init_fn init;
  pa_term_fn term;
  pa_open_fn open;
  pa_stream_fn start, abort_, close;
  pa_devinfo_fn devinfo;
  pa_default_fn default_out;
  pa_streaminfo_fn streaminfo;
  pa_errtext_fn errtext;
} pa;

#define ST_PA_MAX_DSP 8
/* Per-block work times kept for st_pa_out_block_times (a ring; ~6–12 s of blocks). */
#define ST_PA_BLOCK_TIMES 1024
/* Silence for this long (nothing to play, or paused) stops the stream. */
#define IDLE_STOP_MS 250

struct st_pa_out {
  st_pcm_ring_t *ring;
  PaStream *stream;
  uint32_t channels;
  double rate;
  uint32_t format_seq;
  uint32_t epoch;
  bool primed;
  bool was_active;
  /* fades: `fade` runs toward 1 while playing, toward 0 when paused; a flush restarts it at 0 */
  float fade;
  float fade_step;
  float gain;
  /* ReplayGain: the ring's gain marks, applied as samples are read (before the DSP chain) */
  st_pcm_gain_state_t track_gain;
  pthread_mutex_t dsp_lock;
  uint32_t n_dsp;
  void *dsp_handle[ST_PA_MAX_DSP];
  const st_dsp_vtable_t *dsp_vt[ST_PA_MAX_DSP];
  bool dsp_reset;
  _Atomic uint32_t format_changed;
  _Atomic uint32_t callbacks;
  double latency_s;
  /* After each recent block: frames written to the device so far, and the ring's read index.
   * What the DAC plays now is the block whose end is `ahead` frames before the newest end. */
  struct {
    uint64_t stream_end;
    uint64_t ring_index;
  } history[64];
  uint32_t hist_n;
  uint64_t stream_frames;
  enum { DRV_PORTAUDIO, DRV_PULSE } driver;
#if defined(ST_HOST_HAVE_PULSE)
  pa_threaded_mainloop *ml;
  pa_context *ctx;
  pa_stream *st;
  size_t frame_bytes;
#endif
  /* Per block that played audio, ns: the DSP chain (with its lock), and the output's own work
   * (ring read, volume, fades, position). Written by the callback, read by the control side. */
  _Atomic uint32_t dsp_ns[ST_PA_BLOCK_TIMES];
  _Atomic uint32_t out_ns[ST_PA_BLOCK_TIMES];
  _Atomic uint32_t block_times_n;
  /* idle stop: run_lock orders start / stop / close; the idler thread starts and stops */
  pthread_mutex_t run_lock;
  pthread_t idler;
  bool idler_started;
  _Atomic bool quit;
  _Atomic uint32_t state; /* ST_PA_RUNNING, ST_PA_IDLE, ST_PA_START_FAILED */
  _Atomic uint64_t last_sound_ms; /* the callback's last buffer with ring audio in it */
};

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall, safe on the audio thread */
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t ns32(uint64_t ns) { return ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns; }

static uint64_t mono_ms(void) { return mono_ns() / 1000000u; }

static void set_err(char *err, size_t cap, const char *fmt, const char *detail) {
  if (err && cap) snprintf(err, cap, fmt, detail ? detail : "");
}

static bool pa_load(const char *path, char *err, size_t cap) {
  if (pa.lib) return true;
  void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    set_err(err, cap, "cannot load PortAudio: %s", dlerror());
    return false;
  }
  pa.init = (pa_init_fn)dlsym(lib, "Pa_Initialize");
  pa.term = (pa_term_fn)dlsym(lib, "Pa_Terminate");
  pa.open = (pa_open_fn)dlsym(lib, "Pa_OpenStream");
  pa.start = (pa_stream_fn)dlsym(lib, "Pa_StartStream");
  pa.abort_ = (pa_stream_fn)dlsym(lib, "Pa_AbortStream");
  pa.close = (pa_stream_fn)dlsym(lib, "Pa_CloseStream");
  pa.devinfo = (pa_devinfo_fn)dlsym(lib, "Pa_GetDeviceInfo");
  pa.default_out = (pa_default_fn)dlsym(lib, "Pa_GetDefaultOutputDevice");
  pa.streaminfo = (pa_streaminfo_fn)dlsym(lib, "Pa_GetStreamInfo");
  pa.errtext = (pa_errtext_fn)dlsym(lib, "Pa_GetErrorText");
  if (!pa.init || !pa.term || !pa.open || !pa.start || !pa.abort_ || !pa.close || !pa.devinfo || !pa.default_out ||
      !pa.streaminfo || !pa.errtext) {
    set_err(err, cap, "%s", "the PortAudio library lacks a needed function");
    dlclose(lib);
    return false;
  }
  pa.lib = lib;
  return true;
}

/* One device buffer: ring audio (with its ReplayGain marks), the DSP chain, volume and fades;
 * the block's work times. The caller publishes the played position (publish_played). */
static void render(st_pa_out_t *o, float *dst, unsigned long frames) {
  st_pcm_ring_t *r = o->ring;
  const uint32_t ch = o->channels;
  const uint32_t want = (uint32_t)frames * ch;
  atomic_fetch_add_explicit(&o->callbacks, 1, memory_order_relaxed);
  const uint64_t t_start = mono_ns();
  uint64_t dsp_ns = 0;

  if (st_pcm_ring_consumer_sync(r, &o->epoch)) {
    o->primed = false;
    o->dsp_reset = true;
    o->fade = 0.0f; /* the new audio fades in: no click at a seek */
    o->track_gain.snap = 1.0f; /* ...at its own gain, without a ramp from the old one */
  }
  const bool active = st_pcm_ring_get32(r, ST_CTL_PRODUCER_ACTIVE) == 1;
  if (active && !o->was_active) o->primed = false;
  o->was_active = active;
  const bool paused = st_pcm_ring_get32(r, ST_CTL_PAUSED) == 1;
  const bool format_ok = st_pcm_ring_get32(r, ST_CTL_FORMAT_SEQ) == o->format_seq;
  if (!format_ok) atomic_store(&o->format_changed, 1);

  uint32_t n = 0;
  /* While paused the ring is read only until the fade-out has run. */
  if (format_ok && !(paused && o->fade <= 0.0f)) {
    uint32_t fill = st_pcm_ring_fill(r);
    if (active) {
      uint32_t min = st_pcm_ring_get32(r, ST_CTL_FILL_MIN);
      if (fill < min) st_pcm_ring_set32(r, ST_CTL_FILL_MIN, fill);
      st_pcm_ring_set64(r, ST_CTL64_FILL_SUM, st_pcm_ring_get64(r, ST_CTL64_FILL_SUM) + fill);
      st_pcm_ring_set64(r, ST_CTL64_FILL_COUNT, st_pcm_ring_get64(r, ST_CTL64_FILL_COUNT) + 1);
    }
    uint32_t take = want < fill ? want : fill - fill % ch;
    n = st_pcm_ring_read_gained(r, dst, take, ch, &o->track_gain);
    if (n > 0) o->primed = true;
    if (n < want && active && o->primed && !paused) st_pcm_ring_add32(r, ST_CTL_UNDERRUNS, 1);
  }
  if (n < want) memset(dst + n, 0, (size_t)(want - n) * sizeof(float));

  if (n > 0) {
    const uint64_t t_dsp = mono_ns();
    pthread_mutex_lock(&o->dsp_lock);
    if (o->dsp_reset) {
      for (uint32_t i = 0; i < o->n_dsp; i++)
        if (o->dsp_vt[i]->reset) o->dsp_vt[i]->reset(o->dsp_handle[i]);
      o->dsp_reset = false;
    }
    /* A crash in a DSP is recorded against it (the crash guard, crash_guard.c). */
    if (o->n_dsp > 0) st_host_crash_guard_set_step("output", "process_f32");
    for (uint32_t i = 0; i < o->n_dsp; i++) o->dsp_vt[i]->process_f32(o->dsp_handle[i], dst, n / ch);
    pthread_mutex_unlock(&o->dsp_lock);
    dsp_ns = mono_ns() - t_dsp;
  }

  /* Volume (smoothed over the buffer) and the pause / flush fade (5 ms). */
  const float target_gain = st_pcm_ring_getf(r, ST_CTL_VOLUME);
  const float g0 = o->gain;
  const float dg = (target_gain - g0) / (float)frames;
  const float fade_target = paused ? 0.0f : 1.0f;
  float fade = o->fade;
  for (uint32_t f = 0; f < (uint32_t)frames; f++) {
    if (fade < fade_target) fade = fade + o->fade_step > fade_target ? fade_target : fade + o->fade_step;
    else if (fade > fade_target) fade = fade - o->fade_step < fade_target ? fade_target : fade - o->fade_step;
    const float g = (g0 + dg * (float)(f + 1)) * fade;
    for (uint32_t c = 0; c < ch; c++) dst[f * ch + c] *= g;
  }
  if (n > 0) atomic_store_explicit(&o->last_sound_ms, mono_ms(), memory_order_relaxed);
  o->fade = fade;
  o->gain = target_gain;
  o->stream_frames += frames;
  o->history[o->hist_n % 64].stream_end = o->stream_frames;
  o->history[o->hist_n % 64].ring_index = st_pcm_ring_read_index(r);
  o->hist_n++;
  st_pcm_ring_add32(r, ST_CTL_HEARTBEAT, 1);
  if (n > 0) {
    const uint32_t at = atomic_load_explicit(&o->block_times_n, memory_order_relaxed);
    atomic_store_explicit(&o->dsp_ns[at % ST_PA_BLOCK_TIMES], ns32(dsp_ns), memory_order_relaxed);
    atomic_store_explicit(&o->out_ns[at % ST_PA_BLOCK_TIMES], ns32(mono_ns() - t_start - dsp_ns), memory_order_relaxed);
    atomic_store_explicit(&o->block_times_n, at + 1, memory_order_release);
  }
}

/* The ring index the DAC plays now: the newest block that ended at least `ahead_s` of audio
 * before everything written so far. */
static void publish_played(st_pa_out_t *o, double ahead_s) {
  if (!(ahead_s >= 0) || ahead_s > 1.0) ahead_s = o->latency_s;
  const uint64_t ahead = (uint64_t)(ahead_s * o->rate + 0.5);
  const uint64_t at = o->stream_frames > ahead ? o->stream_frames - ahead : 0;
  /* Older than every kept block: the oldest kept one is the best guess. */
  uint64_t played = o->history[(o->hist_n - 1) % 64].ring_index;
  const uint32_t kept = o->hist_n < 64 ? o->hist_n : 64;
  for (uint32_t k = 0; k < kept; k++) {
    const uint32_t i = (o->hist_n - 1 - k) % 64;
    played = o->history[i].ring_index;
    if (o->history[i].stream_end <= at) break;
  }
  st_pcm_ring_set64(o->ring, ST_CTL64_PLAYED_INDEX, played);
}

static int callback(const void *input, void *output, unsigned long frames, const PaStreamCallbackTimeInfo *time_info,
                    PaStreamCallbackFlags status, void *user) {
  (void)input;
  (void)status;
  st_pa_out_t *o = user;
  render(o, output, frames);
  /* This buffer reaches the DAC `ahead` from now: what plays now ended that long before it. */
  double ahead = time_info ? time_info->outputBufferDacTime - time_info->currentTime : o->latency_s;
  if (!(ahead >= 0) || ahead > 1.0) ahead = o->latency_s;
  publish_played(o, ahead + (double)frames / o->rate);
  return paContinue;
}


/* ---- the PulseAudio driver -------------------------------------------------------------------- */
#if defined(ST_HOST_HAVE_PULSE)
static struct {
  void *lib;
  bool failed;
  pa_threaded_mainloop *(*ml_new)(void);
  void (*ml_free)(pa_threaded_mainloop *);
  int (*ml_start)(pa_threaded_mainloop *);
  void (*ml_stop)(pa_threaded_mainloop *);
  void (*ml_lock)(pa_threaded_mainloop *);
  void (*ml_unlock)(pa_threaded_mainloop *);
  void (*ml_wait)(pa_threaded_mainloop *);
  void (*ml_signal)(pa_threaded_mainloop *, int);
  pa_mainloop_api *(*ml_api)(pa_threaded_mainloop *);
  pa_context *(*ctx_new)(pa_mainloop_api *, const char *);
  void (*ctx_set_state_cb)(pa_context *, pa_context_notify_cb_t, void *);
  int (*ctx_connect)(pa_context *, const char *, pa_context_flags_t, const pa_spawn_api *);
  pa_context_state_t (*ctx_state)(const pa_context *);
  void (*ctx_disconnect)(pa_context *);
  void (*ctx_unref)(pa_context *);
  int (*ctx_errno)(const pa_context *);
  pa_stream *(*st_new)(pa_context *, const char *, const pa_sample_spec *, const pa_channel_map *);
  void (*st_set_state_cb)(pa_stream *, pa_stream_notify_cb_t, void *);
  void (*st_set_write_cb)(pa_stream *, pa_stream_request_cb_t, void *);
  int (*st_connect)(pa_stream *, const char *, const pa_buffer_attr *, pa_stream_flags_t, const pa_cvolume *, pa_stream *);
  pa_stream_state_t (*st_state)(const pa_stream *);
  int (*st_begin_write)(pa_stream *, void **, size_t *);
  int (*st_write)(pa_stream *, const void *, size_t, pa_free_cb_t, int64_t, pa_seek_mode_t);
  size_t (*st_writable)(const pa_stream *);
  pa_operation *(*st_cork)(pa_stream *, int, pa_stream_success_cb_t, void *);
  pa_operation *(*st_flush)(pa_stream *, pa_stream_success_cb_t, void *);
  int (*st_latency)(const pa_stream *, pa_usec_t *, int *);
  const pa_buffer_attr *(*st_attr)(const pa_stream *);
  int (*st_disconnect)(pa_stream *);
  void (*st_unref)(pa_stream *);
  void (*op_unref)(pa_operation *);
  const char *(*strerror)(int);
} pu;

static bool pu_load(char *err, size_t cap) {
  if (pu.lib) return true;
  if (pu.failed) {
    set_err(err, cap, "%s", "libpulse is not available");
    return false;
  }
  void *lib = dlopen("libpulse.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    pu.failed = true;
    set_err(err, cap, "cannot load libpulse: %s", dlerror());
    return false;
  }
#define PU_SYM(field, name) (*(void **)&pu.field = dlsym(lib, name)) != NULL
  bool ok = PU_SYM(ml_new, "pa_threaded_mainloop_new") && PU_SYM(ml_free, "pa_threaded_mainloop_free") &&
            PU_SYM(ml_start, "pa_threaded_mainloop_start") && PU_SYM(ml_stop, "pa_threaded_mainloop_stop") &&
            PU_SYM(ml_lock, "pa_threaded_mainloop_lock") && PU_SYM(ml_unlock, "pa_threaded_mainloop_unlock") &&
            PU_SYM(ml_wait, "pa_threaded_mainloop_wait") && PU_SYM(ml_signal, "pa_threaded_mainloop_signal") &&
            PU_SYM(ml_api, "pa_threaded_mainloop_get_api") && PU_SYM(ctx_new, "pa_context_new") &&
            PU_SYM(ctx_set_state_cb, "pa_context_set_state_callback") && PU_SYM(ctx_connect, "pa_context_connect") &&
            PU_SYM(ctx_state, "pa_context_get_state") && PU_SYM(ctx_disconnect, "pa_context_disconnect") &&
            PU_SYM(ctx_unref, "pa_context_unref") && PU_SYM(ctx_errno, "pa_context_errno") &&
            PU_SYM(st_new, "pa_stream_new") && PU_SYM(st_set_state_cb, "pa_stream_set_state_callback") &&
            PU_SYM(st_set_write_cb, "pa_stream_set_write_callback") && PU_SYM(st_connect, "pa_stream_connect_playback") &&
            PU_SYM(st_state, "pa_stream_get_state") && PU_SYM(st_begin_write, "pa_stream_begin_write") &&
            PU_SYM(st_write, "pa_stream_write") && PU_SYM(st_writable, "pa_stream_writable_size") &&
            PU_SYM(st_cork, "pa_stream_cork") && PU_SYM(st_flush, "pa_stream_flush") &&
            PU_SYM(st_latency, "pa_stream_get_latency") && PU_SYM(st_attr, "pa_stream_get_buffer_attr") &&
            PU_SYM(st_disconnect, "pa_stream_disconnect") && PU_SYM(st_unref, "pa_stream_unref") &&
            PU_SYM(op_unref, "pa_operation_unref") && PU_SYM(strerror, "pa_strerror");
#undef PU_SYM
  if (!ok) {
    pu.failed = true;
    set_err(err, cap, "%s", "libpulse lacks a needed function");
    dlclose(lib);
    return false;
  }
  pu.lib = lib;
  return true;
}

static void pu_context_state(pa_context *c, void *user) {
  st_pa_out_t *o = user;
  const pa_context_state_t s = pu.ctx_state(c);
  if (s == PA_CONTEXT_FAILED || s == PA_CONTEXT_TERMINATED) atomic_store(&o->state, ST_PA_START_FAILED);
  pu.ml_signal(o->ml, 0);
}

static void pu_stream_state(pa_stream *st, void *user) {
  st_pa_out_t *o = user;
  const pa_stream_state_t s = pu.st_state(st);
  if (s == PA_STREAM_FAILED || s == PA_STREAM_TERMINATED) atomic_store(&o->state, ST_PA_START_FAILED);
  pu.ml_signal(o->ml, 0);
}

/* Renders and writes up to `bytes` (whole frames), then publishes the played position. Runs on
 * the main loop's thread (the server's requests) or under its lock (priming a start). */
static void pu_fill(st_pa_out_t *o, size_t bytes) {
  while (bytes >= o->frame_bytes) {
    void *buf = NULL;
    size_t n = bytes - bytes % o->frame_bytes;
    if (pu.st_begin_write(o->st, &buf, &n) < 0 || !buf) return;
    n -= n % o->frame_bytes;
    if (n == 0) return;
    render(o, buf, (unsigned long)(n / o->frame_bytes));
    if (pu.st_write(o->st, buf, n, NULL, 0, PA_SEEK_RELATIVE) < 0) return;
    bytes -= n;
  }
  pa_usec_t usec = 0;
  int negative = 0;
  /* Everything written is queued ahead of the DAC (the server's buffer and the sink's latency). */
  if (pu.st_latency(o->st, &usec, &negative) == 0) publish_played(o, negative ? 0.0 : (double)usec / 1e6);
  else publish_played(o, o->latency_s);
}

static void pu_write(pa_stream *st, size_t nbytes, void *user) {
  (void)st;
  st_pa_out_t *o = user;
  atomic_fetch_add_explicit(&o->callbacks, 1, memory_order_relaxed);
  /* Stopped (idle): the idler is the ring's consumer; a start primes the stream itself. */
  if (atomic_load(&o->state) != ST_PA_RUNNING) return;
  pu_fill(o, nbytes);
}

static void pu_op(pa_operation *op) {
  if (op) pu.op_unref(op);
}

/* Stops (corks, and drops the queued silence so the next start is not behind it) or starts
 * (primes the buffer from the ring, then uncorks). Called by the idler with run_lock held. */
static bool pu_run(st_pa_out_t *o, bool run) {
  pu.ml_lock(o->ml);
  bool ok = pu.st_state(o->st) == PA_STREAM_READY;
  if (ok && !run) {
    pu_op(pu.st_cork(o->st, 1, NULL, NULL));
    pu_op(pu.st_flush(o->st, NULL, NULL));
  } else if (ok) {
    atomic_store(&o->state, ST_PA_RUNNING);
    pu_fill(o, pu.st_writable(o->st));
    pu_op(pu.st_cork(o->st, 0, NULL, NULL));
  }
  pu.ml_unlock(o->ml);
  return ok;
}

static void pu_teardown(st_pa_out_t *o) {
  if (!o->ml) return;
  pu.ml_lock(o->ml);
  if (o->st) {
    pu.st_set_write_cb(o->st, NULL, NULL);
    pu.st_set_state_cb(o->st, NULL, NULL);
    pu.st_disconnect(o->st);
    pu.st_unref(o->st);
    o->st = NULL;
  }
  if (o->ctx) {
    pu.ctx_set_state_cb(o->ctx, NULL, NULL);
    pu.ctx_disconnect(o->ctx);
    pu.ctx_unref(o->ctx);
    o->ctx = NULL;
  }
  pu.ml_unlock(o->ml);
  pu.ml_stop(o->ml);
  pu.ml_free(o->ml);
  o->ml = NULL;
}

/* Connects to the server and opens a corked stream at the ring's format with a buffer of
 * 2.5 x frames_per_buffer, refilled 1.5 x frames_per_buffer at a time. */
static bool pu_open(st_pa_out_t *o, uint32_t frames_per_buffer, const char *app_name, char *err, size_t cap) {
  if (!pu_load(err, cap)) return false;
  o->ml = pu.ml_new();
  if (!o->ml) {
    set_err(err, cap, "%s", "pa_threaded_mainloop_new failed");
    return false;
  }
  o->ctx = pu.ctx_new(pu.ml_api(o->ml), app_name && *app_name ? app_name : "StellaTune");
  if (!o->ctx) goto fail_msg;
  pu.ctx_set_state_cb(o->ctx, pu_context_state, o);
  atomic_store(&o->state, ST_PA_IDLE);
  /* No autospawn: a server that is not running is PortAudio's case, not ours to start. */
  if (pu.ctx_connect(o->ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0) goto fail_ctx;
  pu.ml_lock(o->ml);
  if (pu.ml_start(o->ml) < 0) {
    pu.ml_unlock(o->ml);
    goto fail_msg;
  }
  for (;;) {
    const pa_context_state_t s = pu.ctx_state(o->ctx);
    if (s == PA_CONTEXT_READY) break;
    if (!PA_CONTEXT_IS_GOOD(s)) goto fail_locked;
    pu.ml_wait(o->ml);
  }
  pa_sample_spec ss = {.format = PA_SAMPLE_FLOAT32LE, .rate = (uint32_t)o->rate, .channels = (uint8_t)o->channels};
  o->frame_bytes = sizeof(float) * o->channels;
  o->st = pu.st_new(o->ctx, "Playback", &ss, NULL);
  if (!o->st) goto fail_locked;
  pa_buffer_attr ba;
  ba.maxlength = (uint32_t)-1;
  /* 2.5 buffers queued, refilled 1.5 at a time: the same one buffer of slack as PortAudio's two
   * buffers refilled one at a time, but two thirds of the server's wake-ups (each costs ~0.1 ms
   * of CPU here), for 6 ms more latency. */
  ba.tlength = (uint32_t)(5 * frames_per_buffer / 2) * (uint32_t)o->frame_bytes;
  ba.minreq = (uint32_t)(3 * frames_per_buffer / 2) * (uint32_t)o->frame_bytes;
  ba.prebuf = 0; /* playback starts when uncorked, not when a full buffer is queued */
  ba.fragsize = (uint32_t)-1;
  pu.st_set_state_cb(o->st, pu_stream_state, o);
  pu.st_set_write_cb(o->st, pu_write, o);
  /* ADJUST_LATENCY: tlength is the whole latency (the server sizes the sink's part to fit);
   * interpolated timing gives the played position without a round trip each time. */
  const pa_stream_flags_t flags = PA_STREAM_START_CORKED | PA_STREAM_ADJUST_LATENCY | PA_STREAM_INTERPOLATE_TIMING |
                                  PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_NOT_MONOTONIC;
  if (pu.st_connect(o->st, NULL, &ba, flags, NULL, NULL) < 0) goto fail_locked;
  for (;;) {
    const pa_stream_state_t s = pu.st_state(o->st);
    if (s == PA_STREAM_READY) break;
    if (!PA_STREAM_IS_GOOD(s)) goto fail_locked;
    pu.ml_wait(o->ml);
  }
  const pa_buffer_attr *got = pu.st_attr(o->st);
  const size_t tlength = got ? got->tlength : ba.tlength;
  o->latency_s = (double)(tlength / o->frame_bytes) / o->rate;
  pu.ml_unlock(o->ml);
  return true;
fail_locked: /* the context or the stream failed: its error says why */
  set_err(err, cap, "PulseAudio: %s", pu.strerror(pu.ctx_errno(o->ctx)));
  pu.ml_unlock(o->ml);
  pu_teardown(o);
  return false;
fail_ctx:
  set_err(err, cap, "PulseAudio: %s", pu.strerror(pu.ctx_errno(o->ctx)));
  pu_teardown(o);
  return false;
fail_msg:
  set_err(err, cap, "%s", "PulseAudio: cannot start its main loop");
  pu_teardown(o);
  return false;
}
#endif

/* The driver's stop (idle) and start; false when the device refused. run_lock held. */
static bool drv_run(st_pa_out_t *o, bool run) {
#if defined(ST_HOST_HAVE_PULSE)
  if (o->driver == DRV_PULSE) return pu_run(o, run);
#endif
  if (!run) return pa.abort_(o->stream) == paNoError;
  return pa.start(o->stream) == paNoError;
}

/* Stopped stream: does the ring hold audio to play? Applies flushes as the callback would (the
 * stream is stopped, so this thread is the only consumer) and notes a new format. */
static bool idle_wants_to_run(st_pa_out_t *o) {
  st_pcm_ring_t *r = o->ring;
  if (st_pcm_ring_get32(r, ST_CTL_FORMAT_SEQ) != o->format_seq) {
    atomic_store(&o->format_changed, 1); /* the owner reopens at the new format */
    return false;
  }
  if (st_pcm_ring_consumer_sync(r, &o->epoch)) {
    pthread_mutex_lock(&o->dsp_lock);
    o->primed = false;
    o->dsp_reset = true;
    o->fade = 0.0f;
    o->track_gain.snap = 1.0f; /* as the callback does: the new audio at its own gain */
    pthread_mutex_unlock(&o->dsp_lock);
  }
  return st_pcm_ring_get32(r, ST_CTL_PAUSED) != 1 && st_pcm_ring_fill(r) >= o->channels;
}

static void *idler_main(void *arg) {
  st_pa_out_t *o = arg;
  st_pcm_ring_t *r = o->ring;
  uint32_t polls = 0;
  while (!atomic_load(&o->quit)) {
    const uint32_t active = st_pcm_ring_get32(r, ST_CTL_PRODUCER_ACTIVE);
    const uint32_t paused = st_pcm_ring_get32(r, ST_CTL_PAUSED);
    pthread_mutex_lock(&o->run_lock);
    const uint32_t state = atomic_load(&o->state);
    if (state == ST_PA_RUNNING) {
      const uint64_t quiet = mono_ms() - atomic_load_explicit(&o->last_sound_ms, memory_order_relaxed);
      const bool nothing = paused == 1 || (active == 0 && st_pcm_ring_pending(r, o->epoch) == 0);
      if (nothing && quiet >= IDLE_STOP_MS && !atomic_load(&o->quit)) {
        atomic_store(&o->state, ST_PA_IDLE);
        drv_run(o, false);
      }
    } else if (state == ST_PA_IDLE && idle_wants_to_run(o)) {
      atomic_store_explicit(&o->last_sound_ms, mono_ms(), memory_order_relaxed);
      const bool ok = drv_run(o, true);
      atomic_store(&o->state, ok ? ST_PA_RUNNING : ST_PA_START_FAILED);
      polls = 0;
    }
    const uint32_t now_state = atomic_load(&o->state);
    pthread_mutex_unlock(&o->run_lock);
    if (now_state == ST_PA_START_FAILED) break; /* the owner reopens */
    if (now_state == ST_PA_RUNNING) {
      /* Playing: wake when the producer stops, else twice a second (a pause). Ending: poll. */
      if (active == 1 && paused == 0) st_pcm_ring_wait32(r, ST_CTL_PRODUCER_ACTIVE, 1, 500);
      else {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
      }
    } else if (paused == 1) {
      st_pcm_ring_wait32(r, ST_CTL_PAUSED, 1, 1000);
    } else if (active == 0) {
      st_pcm_ring_wait32(r, ST_CTL_PRODUCER_ACTIVE, 0, 1000);
      polls = 0;
    } else {
      /* Active: its first block is being decoded. Poll briefly at 1 ms, then back off (a slow
       * stream open). */
      const long ms = polls < 100 ? 1 : polls < 200 ? 10 : 50;
      polls++;
      struct timespec ts = {0, ms * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

uint32_t st_pa_out_state(st_pa_out_t *o) { return o ? atomic_load(&o->state) : ST_PA_START_FAILED; }

/* The driver-independent state, at the ring's current format. */
static st_pa_out_t *out_new(st_pcm_ring_t *ring) {
  st_pa_out_t *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->ring = ring;
  o->channels = st_pcm_ring_get32(ring, ST_CTL_CHANNELS);
  o->rate = (double)st_pcm_ring_get32(ring, ST_CTL_SAMPLE_RATE);
  if (o->channels == 0) o->channels = 2;
  if (o->rate <= 0) o->rate = 44100;
  o->format_seq = st_pcm_ring_get32(ring, ST_CTL_FORMAT_SEQ);
  o->history[0].stream_end = 0;
  o->history[0].ring_index = st_pcm_ring_read_index(ring);
  o->hist_n = 1;
  o->epoch = st_pcm_ring_epoch(ring);
  o->fade = 0.0f;
  o->fade_step = (float)(1.0 / (0.005 * o->rate));
  o->gain = st_pcm_ring_getf(ring, ST_CTL_VOLUME);
  o->track_gain.snap = 1.0f;
  pthread_mutex_init(&o->dsp_lock, NULL);
  pthread_mutex_init(&o->run_lock, NULL);
  return o;
}

static void out_free(st_pa_out_t *o) {
  pthread_mutex_destroy(&o->run_lock);
  pthread_mutex_destroy(&o->dsp_lock);
  free(o);
}

st_pa_out_t *st_pa_out_open(const char *pa_library, st_pcm_ring_t *ring, int32_t device, uint32_t frames_per_buffer,
                            char *err, size_t err_cap) {
  if (!pa_load(pa_library, err, err_cap)) return NULL;
  PaError e = pa.init();
  if (e != paNoError) {
    set_err(err, err_cap, "Pa_Initialize: %s", pa.errtext(e));
    return NULL;
  }
  st_pa_out_t *o = out_new(ring);
  if (!o) {
    pa.term();
    return NULL;
  }
  o->driver = DRV_PORTAUDIO;
  PaStreamParameters out;
  memset(&out, 0, sizeof out);
  out.device = device >= 0 ? device : pa.default_out();
  const PaDeviceInfo *info = out.device >= 0 ? pa.devinfo(out.device) : NULL;
  if (!info || info->maxOutputChannels < (int)o->channels) {
    out.device = pa.default_out();
    info = out.device >= 0 ? pa.devinfo(out.device) : NULL;
  }
  if (!info) {
    set_err(err, err_cap, "%s", "no output device");
    goto fail;
  }
  out.channelCount = (int)o->channels;
  out.sampleFormat = paFloat32;
  /* Two buffers' worth, at least the device's low latency. */
  double want_latency = 2.0 * frames_per_buffer / o->rate;
  out.suggestedLatency = want_latency > info->defaultLowOutputLatency ? want_latency : info->defaultLowOutputLatency;
  /* Primed from the callback: a start after an idle stop fills the device with ring audio. */
  e = pa.open(&o->stream, NULL, &out, o->rate, frames_per_buffer, paClipOff | paPrimeOutputBuffersUsingStreamCallback,
              callback, o);
  if (e != paNoError) {
    set_err(err, err_cap, "Pa_OpenStream: %s", pa.errtext(e));
    goto fail;
  }
  const PaStreamInfo *si = pa.streaminfo(o->stream);
  o->latency_s = si ? si->outputLatency : want_latency;
  atomic_store_explicit(&o->last_sound_ms, mono_ms(), memory_order_relaxed);
  e = pa.start(o->stream);
  if (e != paNoError) {
    set_err(err, err_cap, "Pa_StartStream: %s", pa.errtext(e));
    pa.close(o->stream);
    goto fail;
  }
  atomic_store(&o->state, ST_PA_RUNNING);
  o->idler_started = pthread_create(&o->idler, NULL, idler_main, o) == 0;
  return o;
fail:
  out_free(o);
  pa.term();
  return NULL;
}

st_pa_out_t *st_pa_out_open_pulse(st_pcm_ring_t *ring, uint32_t frames_per_buffer, const char *app_name, char *err,
                                  size_t err_cap) {
#if defined(ST_HOST_HAVE_PULSE)
  st_pa_out_t *o = out_new(ring);
  if (!o) return NULL;
  o->driver = DRV_PULSE;
  atomic_store_explicit(&o->last_sound_ms, mono_ms(), memory_order_relaxed);
  if (!pu_open(o, frames_per_buffer, app_name, err, err_cap)) {
    out_free(o);
    return NULL;
  }
  /* Opened corked (idle): the idler starts it, primed, as soon as the ring has audio. */
  atomic_store(&o->state, ST_PA_IDLE);
  o->idler_started = pthread_create(&o->idler, NULL, idler_main, o) == 0;
  return o;
#else
  (void)ring;
  (void)frames_per_buffer;
  (void)app_name;
  set_err(err, err_cap, "%s", "built without libpulse");
  return NULL;
#endif
}

void st_pa_out_close(st_pa_out_t *o) {
  if (!o) return;
  if (o->idler_started) {
    atomic_store(&o->quit, true);
    st_pcm_ring_wake32(o->ring, ST_CTL_PRODUCER_ACTIVE);
    st_pcm_ring_wake32(o->ring, ST_CTL_PAUSED);
    pthread_join(o->idler, NULL);
  }
#if defined(ST_HOST_HAVE_PULSE)
  if (o->driver == DRV_PULSE) {
    pu_teardown(o);
    out_free(o);
    return;
  }
#endif
  if (o->stream) {
    if (atomic_load(&o->state) == ST_PA_RUNNING) pa.abort_(o->stream);
    pa.close(o->stream);
  }
  out_free(o);
  pa.term();
}

double st_pa_out_latency(const st_pa_out_t *o) { return o ? o->latency_s : 0; }
uint32_t st_pa_out_format_changed(st_pa_out_t *o) { return o ? atomic_load(&o->format_changed) : 0; }
uint32_t st_pa_out_callbacks(st_pa_out_t *o) { return o ? atomic_load_explicit(&o->callbacks, memory_order_relaxed) : 0; }

uint32_t st_pa_out_block_times(st_pa_out_t *o, uint32_t *dsp_ns, uint32_t *out_ns, uint32_t cap, uint32_t since) {
  if (!o) return 0;
  const uint32_t total = atomic_load_explicit(&o->block_times_n, memory_order_acquire);
  uint32_t k = total - since; /* unsigned: wraps like the counter */
  if (k > cap) k = cap;
  if (k > ST_PA_BLOCK_TIMES) k = ST_PA_BLOCK_TIMES;
  for (uint32_t j = 0; j < k; j++) {
    const uint32_t i = (total - k + j) % ST_PA_BLOCK_TIMES;
    dsp_ns[j] = atomic_load_explicit(&o->dsp_ns[i], memory_order_relaxed);
    out_ns[j] = atomic_load_explicit(&o->out_ns[i], memory_order_relaxed);
  }
  return k;
}

uint32_t st_pa_out_block_count(st_pa_out_t *o) {
  return o ? atomic_load_explicit(&o->block_times_n, memory_order_acquire) : 0;
}

void st_pa_out_lock(st_pa_out_t *o) {
  if (o) pthread_mutex_lock(&o->dsp_lock);
}

void st_pa_out_unlock(st_pa_out_t *o) {
  if (o) pthread_mutex_unlock(&o->dsp_lock);
}

int st_pa_out_set_dsp(st_pa_out_t *o, uint32_t n, void *const *handles, const void *const *vtables) {
  if (!o || n > ST_PA_MAX_DSP) return -1;
  pthread_mutex_lock(&o->dsp_lock);
  for (uint32_t i = 0; i < n; i++) {
    o->dsp_handle[i] = handles[i];
    o->dsp_vt[i] = vtables[i];
  }
  o->n_dsp = n;
  pthread_mutex_unlock(&o->dsp_lock);
  return 0;
}

#else /* no PortAudio header at build time */

st_pa_out_t *st_pa_out_open(const char *pa_library, st_pcm_ring_t *ring, int32_t device, uint32_t frames_per_buffer,
                            char *err, size_t err_cap) {
  (void)pa_library;
  (void)ring;
  (void)device;
  (void)frames_per_buffer;
  if (err && err_cap) snprintf(err, err_cap, "built without PortAudio");
  return NULL;
}
st_pa_out_t *st_pa_out_open_pulse(st_pcm_ring_t *ring, uint32_t frames_per_buffer, const char *app_name, char *err,
                                  size_t err_cap) {
  (void)ring;
  (void)frames_per_buffer;
  (void)app_name;
  if (err && err_cap) snprintf(err, err_cap, "built without PortAudio");
  return NULL;
}
void st_pa_out_close(st_pa_out_t *o) { (void)o; }
double st_pa_out_latency(const st_pa_out_t *o) { (void)o; return 0; }
uint32_t st_pa_out_format_changed(st_pa_out_t *o) { (void)o; return 0; }
uint32_t st_pa_out_callbacks(st_pa_out_t *o) { (void)o; return 0; }
uint32_t st_pa_out_block_times(st_pa_out_t *o, uint32_t *dsp_ns, uint32_t *out_ns, uint32_t cap, uint32_t since) {
  (void)o; (void)dsp_ns; (void)out_ns; (void)cap; (void)since;
  return 0;
}
uint32_t st_pa_out_block_count(st_pa_out_t *o) { (void)o; return 0; }
uint32_t st_pa_out_state(st_pa_out_t *o) { (void)o; return 2; }
void st_pa_out_lock(st_pa_out_t *o) { (void)o; }
void st_pa_out_unlock(st_pa_out_t *o) { (void)o; }
int st_pa_out_set_dsp(st_pa_out_t *o, uint32_t n, void *const *handles, const void *const *vtables) {
  (void)o; (void)n; (void)handles; (void)vtables;
  return -1;
}
#endif
