/*
 * stellatune/config.h — configuration updates and state transfer, shared by every capability.
 *
 * What it is for.  Each capability declares a JSON Schema for its config and a default config
 * (plugin.h). When the user changes the config of a live instance, the host asks the instance for
 * a plan:
 *   - ST_CONFIG_HOT_APPLY: the host calls apply_update on the live instance;
 *   - ST_CONFIG_RECREATE:  the host calls export_state on the old instance, creates a new one with
 *                          the new config, calls import_state on it, then swaps and destroys the
 *                          old one at a safe point (for sources: when its streams have closed);
 *   - ST_CONFIG_REJECT:    nothing changes; the plugin's reason is shown to the user.
 * An instance whose vtable has `config == NULL` is always recreated.
 *
 * The host persists the applied config and the exported state per plugin and gives them back after
 * a restart (config at create, state through import_state).
 *
 * Threads.  These are boundary calls: synchronous, at safe points, and they must not block
 * unboundedly. For Decoder and DSP instances the host makes them on the decode thread between data
 * calls, so they never run concurrently with read/process; apply_update may allocate there but
 * must make a click-free transition (e.g. smoothed parameters) itself.
 *
 * Ownership.  Inputs are borrowed for the call. *out_reason, *out_state and *out_error are
 * allocated by the plugin and freed by the host with the module's free_mem.
 */
#ifndef STELLATUNE_CONFIG_H
#define STELLATUNE_CONFIG_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t st_config_mode_t;
#define ST_CONFIG_HOT_APPLY 1u
#define ST_CONFIG_RECREATE 2u
#define ST_CONFIG_REJECT 3u

typedef struct st_config_vtable {
  uint32_t struct_size; /* sizeof(st_config_vtable_t) */
  uint32_t reserved;    /* 0 */

  /* Decides how `new_config` would be applied: *out_mode is one of ST_CONFIG_*; *out_reason
   * optionally explains it (required for REJECT). Changes nothing. [control] */
  st_status_t (*plan_update)(void *handle, const st_str_t *new_config, st_config_mode_t *out_mode,
                             st_str_t *out_reason);

  /* Applies `new_config` to the live instance after a HOT_APPLY plan. [control] */
  st_status_t (*apply_update)(void *handle, const st_str_t *new_config, st_str_t *out_error);

  /* Serialises the state worth keeping across a recreate or restart (e.g. a session token, a
   * cursor) as JSON into *out_state; {NULL, 0} when there is none. [control] */
  st_status_t (*export_state)(void *handle, st_str_t *out_state, st_str_t *out_error);

  /* Restores state produced by export_state of this or an earlier instance of the same
   * capability; must tolerate state from an older plugin version (ignore what it does not know).
   * [control] */
  st_status_t (*import_state)(void *handle, const st_str_t *state, st_str_t *out_error);
} st_config_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_CONFIG_H */
