/*
 * stellatune/dsp.h — DSP: an in-place effect on interleaved float32 PCM (EQ, preamp, crossfeed).
 *
 * What it is for.  The host runs a chain of DSP instances on the decoded audio before it goes to
 * the output ring.
 *
 * Data plane, hard sync.  process_f32 is called directly by the decode worker for every block, so
 * it is realtime: no allocation, no locks the control side can hold, no I/O, no logging.
 *
 * Lifecycle.  An instance is created for one stream format (st_instance_args_t.spec) and keeps it;
 * when the format changes the host recreates the chain (export_state/import_state carry state
 * across). reset() is called on seek and track change so filters do not ring across the cut.
 *
 * Config.  apply_update (config.h) is made on the decode thread between process calls; the new
 * parameters must be reached smoothly (no clicks). A flat configuration should cost ~nothing
 * (bypass).
 */
#ifndef STELLATUNE_DSP_H
#define STELLATUNE_DSP_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_dsp_vtable {
  st_instance_vtable_base_t base; /* kind == ST_CAP_DSP */

  /* Processes `frames` frames of spec.channels interleaved samples in place. Never fails.
   * [decode-thread & realtime] */
  void (*process_f32)(void *handle, float *samples, uint32_t frames);

  /* Clears internal history (filter memories, delay lines). [decode-thread] */
  void (*reset)(void *handle);

  /* The algorithmic delay in frames this effect adds (0 for IIR filters). [decode-thread] */
  uint32_t (*latency_frames)(void *handle);
} st_dsp_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_DSP_H */
