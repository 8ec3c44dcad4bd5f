/*
 * stellatune/lyrics.h — LyricsProvider: search for and fetch lyrics of a track.
 *
 * What it is for.  A lyrics plugin (an online lyrics database, local .lrc sidecar files) finds
 * candidates for a track and fetches synced (LRC) or plain lyrics.
 *
 * Control plane, async.  Both calls are async ops of ST_OP_KIND_JSON (async_op.h), because they
 * usually hit the network. The host calls them through one owner per (plugin, type_id) with a
 * bounded queue, a deadline and cancellation; a plugin that hangs or ignores cancel costs the user
 * a timeout message, never a frozen window.
 *
 * Reload.  On reload or disable the host cancels and destroys the pending ops of the old instance
 * before destroying it; there are no long-lived resources such as streams.
 *
 * JSON shapes:
 *   search query:  {"query":"free text"} or {"title":"…","artist":"…","album":"…",
 *                   "duration_ms":215000, "path":"/local/file.flac"}
 *   search result: {"candidates":[{"id":"…","title":"…","artist":"…","album":"…",
 *                   "duration_ms":215000,"synced":true,"instrumental":false}]}
 *   fetch track:   a candidate from search, or the same shape as a search query
 *   fetch result:  {"id":"…","synced_lrc":"[00:12.34]line\n…","plain":"line\n…",
 *                   "instrumental":false}; a missing track fails with ST_ERR_NOT_FOUND.
 */
#ifndef STELLATUNE_LYRICS_H
#define STELLATUNE_LYRICS_H

#include "async_op.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_lyrics_vtable {
  st_instance_vtable_base_t base; /* kind == ST_CAP_LYRICS_PROVIDER */

  /* Starts a search; the op is ST_OP_KIND_JSON. [control] */
  st_status_t (*begin_search)(void *handle, const st_str_t *query_json, st_async_op_t *out_op);

  /* Starts fetching lyrics of one track; the op is ST_OP_KIND_JSON. [control] */
  st_status_t (*begin_fetch)(void *handle, const st_str_t *track_json, st_async_op_t *out_op);
} st_lyrics_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_LYRICS_H */
