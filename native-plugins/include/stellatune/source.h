/*
 * stellatune/source.h — SourceCatalog: browse an online or local catalog and open track streams.
 *
 * What it is for.  A source plugin (a Subsonic server, a radio directory, a cloud drive) lists
 * items for the UI to browse and opens byte streams of tracks for the decoders.
 *
 * Control plane, async.  list_items and open_stream talk to the network, so they are async ops
 * (async_op.h): begin_* returns at once, the work runs on the plugin's threads. The host keeps one
 * owner per (plugin, type_id) with a bounded queue and a deadline per request, and cancels ops
 * whose caller gave up.
 *
 * Data plane, sync.  The stream an open_stream op yields is read directly by the decode worker
 * (stream.h).
 *
 * Reload during playback.  When the user reloads or reconfigures the plugin while one of its
 * streams plays, the host creates a new instance (a new generation) for new requests and keeps the
 * old instance "retired": no new list/open calls reach it, but its open streams keep being read
 * and are closed on it with close_stream. The old instance is destroyed when its last stream
 * closes. So an instance must keep serving reads of its streams without further control calls.
 *
 * JSON shapes (a convention the host UI understands; add fields freely):
 *   list_items request: {"action":"search"|"browse"|…, "query":"…", "id":"…",
 *                        "offset":0, "limit":50}
 *   list_items result:  {"items":[{"id":"…", "kind":"track"|"folder"|"album"|"artist"|"playlist",
 *                        "title":"…", "artist":"…", "album":"…", "duration_ms":123000,
 *                        "track_no":1, "cover_url":"…"}], "next_offset":50}
 *                       Folder-like items are browsed with {"action":"browse","id":item.id}.
 *   open_stream track:  an item object from list_items (kind "track").
 *   open_stream meta:   {"ext":"flac", "mime":"audio/flac", "title":"…", …} (ext picks the decoder)
 *   The capability's config schema may declare the actions it supports as
 *   "x-stellatune-actions": [{"action":"search","label":"Search","query":true}, …].
 *
 * Ownership.  As in types.h and async_op.h. The host guarantees that close_stream has been called
 * for every taken stream and destroy for every op before it destroys the instance.
 */
#ifndef STELLATUNE_SOURCE_H
#define STELLATUNE_SOURCE_H

#include "async_op.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_source_vtable {
  st_instance_vtable_base_t base; /* kind == ST_CAP_SOURCE_CATALOG */

  /* Starts listing items for `request_json`; the op is ST_OP_KIND_JSON. Returns an error code
   * only if no op could be started. [control] */
  st_status_t (*begin_list_items)(void *handle, const st_str_t *request_json,
                                  st_async_op_t *out_op);

  /* Starts opening a byte stream for `track_json`; the op is ST_OP_KIND_STREAM. Opening (auth,
   * the HTTP request, the first bytes) happens in the op; reading happens in stream.h. [control] */
  st_status_t (*begin_open_stream)(void *handle, const st_str_t *track_json,
                                   st_async_op_t *out_op);

  /* Closes a stream taken from one of this instance's open_stream ops. Never called during a
   * read. Must return promptly (abort transfers rather than drain them). [control] */
  void (*close_stream)(void *handle, void *stream_handle);
} st_source_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_SOURCE_H */
