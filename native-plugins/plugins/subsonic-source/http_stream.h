/* http_stream.h — a seekable byte stream over HTTP (stream.h's io table) for subsonic-source.
 *
 * One curl easy handle in a private multi handle per stream, a 256 KiB buffer, no threads: a
 * read pumps the transfer on the calling (decode) thread until bytes arrive, the transfer ends
 * or the per-read timeout passes. When the buffer is full the transfer is paused (curl keeps the
 * bytes it holds), so memory stays bounded however slowly the decoder reads.
 *
 * Seek is lazy: it drops the transfer and the next read asks for `Range: bytes=<pos>-` (a server
 * that ignores Range and answers 200 is skipped forward). Seeking needs the size (Content-Length
 * of a 200, or the total of a 206's Content-Range).
 *
 * A response without a length (a server transcoding on the fly sends it chunked) is spooled: the
 * open op downloads it whole into memory (up to 256 MiB, cancellable, each wait bounded by the
 * timeout), and the stream is then served from memory, sized and seekable — decoders such as
 * libsndfile need both.
 *
 * A transfer that breaks in the middle (a reset, a body cut short — e.g. a server dropping a
 * connection that sat idle while playback was paused) is resumed from the read position with a
 * Range request, up to 3 times in a row. Then the read fails with a clear status:
 * ST_ERR_NETWORK (refused, reset), ST_ERR_IO (a body shorter than announced), ST_ERR_TIMEOUT (no
 * byte within the timeout; not resumed), or the HTTP status mapping of st_http.h for a failed
 * Range request. A failed read leaves the position where it was, so the decoder may retry. */
#ifndef SUBSONIC_HTTP_STREAM_H
#define SUBSONIC_HTTP_STREAM_H

#include "st_http.h"

typedef struct http_stream http_stream_t;

/* Opens `url` (copied) and waits on the op's thread for the response headers and the first
 * bytes. On success *out is a stream whose io table is http_stream_io. On failure returns the
 * status and a message in err; a response that is a Subsonic error document (JSON instead of
 * audio) is read whole and returned in *out_error_body (malloc'ed) with ST_ERR_IO, for the caller
 * to decode. [op-worker] */
st_status_t http_stream_open(st_sdk_op_t *op, const char *url, const st_http_opts_t *opts,
                             http_stream_t **out, char **out_error_body, char *err, size_t err_len);

/* The response's Content-Type ("" if none), the total size, and whether it was spooled. */
const char *http_stream_content_type(const http_stream_t *s);
int64_t http_stream_length(const http_stream_t *s);
bool http_stream_spooled(const http_stream_t *s);

/* Releases the stream; for close_stream and the SDK's close_fn. Needs no instance. [any-thread] */
void http_stream_close(void *stream);

extern const st_io_vtable_t http_stream_io;

#endif
