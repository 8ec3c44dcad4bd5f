/*
 * stellatune/stream.h — the byte-stream I/O table that connects sources to decoders.
 *
 * What it is for.  A SourceCatalog's open_stream op yields an st_stream_t: an opaque handle plus
 * an io table (read/seek/tell/size). The host hands that pair straight to a Decoder's open. The
 * host also implements this table itself for local files, so one decoder serves local files and
 * plugin streams alike.
 *
 * Data plane, hard sync.  These calls are made directly and synchronously by the host's decode
 * worker, never through an actor, a promise or IPC. A read may block while a network stream waits
 * for bytes, but must give up within the plugin's own timeout and return ST_ERR_TIMEOUT or
 * ST_ERR_NETWORK rather than hang.
 *
 * Lifecycle.
 *   1. begin_open_stream (source.h) completes; the host takes the stream with take_stream.
 *   2. The decode worker calls read/seek/tell/size for as long as the track plays.
 *   3. When the track ends (or is skipped) the decode worker stops calling, then the host calls
 *      the catalog's close_stream on the *same catalog instance* that opened it — even if the
 *      plugin has been reloaded in between (the old instance is kept alive, "retired", until its
 *      last stream closes). close_stream is never called while a read is in progress.
 *
 * Ownership.  The stream handle belongs to the plugin's catalog instance; it stays valid from
 * take_stream until close_stream. The io table is static plugin data that lives until the library
 * is unloaded. Buffers passed to read are host-owned and borrowed for the call.
 */
#ifndef STELLATUNE_STREAM_H
#define STELLATUNE_STREAM_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t st_seek_whence_t;
#define ST_SEEK_SET 0u
#define ST_SEEK_CUR 1u
#define ST_SEEK_END 2u

typedef struct st_io_vtable {
  uint32_t struct_size; /* sizeof(st_io_vtable_t) */
  uint32_t reserved;    /* 0 */

  /* Reads up to `len` bytes into `buf`; *out_read is the count (0 with ST_OK means end of
   * stream). A short read is not an error. [decode-thread] */
  st_status_t (*read)(void *handle, void *buf, size_t len, size_t *out_read);

  /* Moves the read position; *out_pos receives the new absolute position. NULL, or
   * ST_ERR_UNSUPPORTED, when the stream cannot seek. [decode-thread] */
  st_status_t (*seek)(void *handle, int64_t offset, st_seek_whence_t whence, uint64_t *out_pos);

  /* The current absolute read position. [decode-thread] */
  st_status_t (*tell)(void *handle, uint64_t *out_pos);

  /* The total length in bytes; ST_ERR_UNSUPPORTED when unknown (e.g. a live stream).
   * [decode-thread] */
  st_status_t (*size)(void *handle, uint64_t *out_size);
} st_io_vtable_t;

/* A stream: the plugin-owned handle and its static io table (see Ownership above). */
typedef struct st_stream {
  void *handle;
  const st_io_vtable_t *io;
} st_stream_t;

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_STREAM_H */
