/* file_stream.h — the data plane of the template: an st_stream_t (stream.h) over a local file.
 *
 * The decode worker calls read/seek/tell/size directly and synchronously for as long as a track
 * plays, so a stream owns everything it needs (its file descriptor, its position) and never looks
 * at the catalog instance that opened it: a reload or a config change of the plugin does not
 * disturb a stream that is playing. */
#ifndef FILE_STREAM_H
#define FILE_STREAM_H

#include <stdint.h>

#include "st_sdk.h"

/* Opens `path` read-only as a stream, without blocking (a FIFO is refused, not waited on).
 * ST_ERR_NOT_FOUND when it is missing or not a regular file,
 * ST_ERR_IO otherwise; *out_size is the file's length. [op-worker] */
st_status_t file_stream_open(const char *path, st_stream_t *out_stream, uint64_t *out_size);

/* Closes a stream returned by file_stream_open; never called during a read. Needs nothing but the
 * stream, so the SDK may also call it (for a stream nobody took) after the instance is gone.
 * [control] or [op-worker] */
void file_stream_close(void *stream_handle);

#endif /* FILE_STREAM_H */
