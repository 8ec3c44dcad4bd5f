/*
 * st_http.h — the small libcurl layer shared by the network plugins (subsonic-source,
 * lrclib-lyrics).
 *
 * Why it exists.  A control op must abort its transfer within 100 ms of cancel (async_op.h), and
 * libcurl's easy interface only checks its progress callback about once a second while a server
 * is silent. So every transfer here runs in a private curl multi handle that waits with
 * curl_multi_poll on the sockets *and* on the op's cancel fd (st_sdk_op_cancel_fd): a cancel
 * wakes the wait at once and the transfer is torn down. The same pump serves the decode thread's
 * stream reads (no op, no cancel fd; a deadline instead).
 *
 * Statuses.  libcurl failures and HTTP statuses map onto the ABI's codes one way for both plugins:
 * refused/reset/DNS/TLS -> ST_ERR_NETWORK, timeouts -> ST_ERR_TIMEOUT, a body shorter than its
 * Content-Length -> ST_ERR_IO, 401/403 -> ST_ERR_AUTH, 404/410 -> ST_ERR_NOT_FOUND, 5xx ->
 * ST_ERR_NETWORK, other 4xx -> ST_ERR_IO.
 *
 * Threads.  [op-worker] functions take the op; the pump also runs on the decode thread with
 * op == NULL. Nothing here keeps global state besides curl_global_init's reference count.
 */
#ifndef STELLATUNE_NET_HTTP_H
#define STELLATUNE_NET_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_sdk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* curl_global_init / curl_global_cleanup, for the entry and shutdown hooks. libcurl counts the
 * calls, so two loaded generations of a plugin (or two plugins) may each init and clean up. */
bool st_http_global_init(void);
void st_http_global_cleanup(void);

/* Module hooks for ST_SDK_PLUGIN_EX shared by the network plugins: the entry initialises libcurl
 * and gives the SDK 32 workers (a hung server holds a worker per request until the host's
 * deadline cancels it; the host runs up to 32 requests per owner at once); the shutdown runs
 * after the SDK joined every worker and cleans libcurl up. [control] */
bool st_http_module_entry(const st_host_t *host);
void st_http_module_shutdown(void);

/* Milliseconds on a monotonic clock. [any-thread] */
int64_t st_http_now_ms(void);

/* Options of one request. */
typedef struct st_http_opts {
  uint32_t timeout_ms;     /* whole request (JSON) or per wait for bytes (streams); 0 = 10 s */
  size_t max_bytes;        /* largest body accepted (JSON); 0 = 8 MiB */
  const char *user_agent;  /* NULL = "StellaTune" */
} st_http_opts_t;

/* A finished GET: the status and the whole body (malloc'ed, NUL-terminated; owned by the caller,
 * released with st_http_response_free). */
typedef struct st_http_response {
  long status;
  char *body;
  size_t len;
  char content_type[128];
} st_http_response_t;

void st_http_response_free(st_http_response_t *r);

/* Applies the options every transfer of these plugins uses (no signals, timeouts, user agent,
 * redirects, keep-alive probes) to `easy`. */
void st_http_setup(CURL *easy, const st_http_opts_t *opts, char *errbuf);

/* Drives the transfers of `multi` until one of:
 *   - `easy` finished: *out_done = true and *out_result is its CURLcode; returns ST_OK;
 *   - enough(ud) holds (may be NULL): returns ST_OK with *out_done = false;
 *   - `op` was cancelled: ST_ERR_CANCELLED (within a few ms: the op's cancel fd wakes the wait);
 *   - the monotonic clock passed deadline_ms (0 = none): ST_ERR_TIMEOUT.
 * `op` may be NULL (decode thread). [op-worker] or [decode-thread] */
st_status_t st_http_pump(CURLM *multi, CURL *easy, st_sdk_op_t *op, int64_t deadline_ms,
                         bool (*enough)(void *ud), void *ud, bool *out_done, CURLcode *out_result);

/* GETs `url` into *out with the op's cancellation and the options' timeout. A transport failure
 * returns its status and a message in err (any HTTP status counts as success here: the caller
 * judges it with st_http_status_code). [op-worker] */
st_status_t st_http_get(st_sdk_op_t *op, const char *url, const st_http_opts_t *opts,
                        st_http_response_t *out, char *err, size_t err_len);

/* The ABI status of a libcurl result, and a message for it in err (errbuf is curl's error buffer,
 * may be empty). */
st_status_t st_http_curl_status(CURLcode code, const char *errbuf, char *err, size_t err_len);

/* The ABI status of an HTTP status code: ST_OK for 2xx, else as in the header comment. */
st_status_t st_http_status_code(long http_status);

/* A growable string for building URLs and queries. Appending never fails silently: on OOM the
 * buffer is marked broken and st_http_buf_take returns NULL. */
typedef struct st_http_buf {
  char *data;
  size_t len, cap;
  bool broken;
} st_http_buf_t;

void st_http_buf_add(st_http_buf_t *b, const char *s);
void st_http_buf_addf(st_http_buf_t *b, const char *fmt, ...) ST_SDK_PRINTF(2, 3);
/* Appends "?name=" (the first parameter) or "&name=", then the percent-encoded value. */
void st_http_buf_param(st_http_buf_t *b, const char *name, const char *value);
char *st_http_buf_take(st_http_buf_t *b); /* the malloc'ed string, or NULL (broken) */
void st_http_buf_free(st_http_buf_t *b);

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_NET_HTTP_H */
