/* st_http.c — the libcurl layer of the network plugins (see st_http.h). */
#include "st_http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_MAX_BYTES ((size_t)8 << 20)
/* Without a cancel fd the pump re-checks cancellation this often. */
#define POLL_SLICE_MS 20

bool st_http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

void st_http_global_cleanup(void) { curl_global_cleanup(); }

bool st_http_module_entry(const st_host_t *host) {
  (void)host;
  if (!st_http_global_init()) {
    st_sdk_log(ST_LOG_ERROR, "libcurl failed to initialise");
    return false;
  }
  st_sdk_set_max_workers(32);
  return true;
}

void st_http_module_shutdown(void) { st_http_global_cleanup(); }

int64_t st_http_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void st_http_response_free(st_http_response_t *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

void st_http_setup(CURL *easy, const st_http_opts_t *opts, char *errbuf) {
  uint32_t timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  const char *agent = opts != NULL && opts->user_agent != NULL ? opts->user_agent : "StellaTune";
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, agent);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, ""); /* gzip JSON when the server offers it */
  if (errbuf != NULL) {
    errbuf[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  }
}

st_status_t st_http_pump(CURLM *multi, CURL *easy, st_sdk_op_t *op, int64_t deadline_ms,
                         bool (*enough)(void *ud), void *ud, bool *out_done, CURLcode *out_result) {
  *out_done = false;
  *out_result = CURLE_OK;
  int cancel_fd = op != NULL ? st_sdk_op_cancel_fd(op) : -1;
  for (;;) {
    if (op != NULL && st_sdk_op_cancelled(op)) return ST_ERR_CANCELLED;
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      *out_done = true;
      *out_result = CURLE_OUT_OF_MEMORY;
      return ST_OK;
    }
    int left = 0;
    for (CURLMsg *msg; (msg = curl_multi_info_read(multi, &left)) != NULL;) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
        *out_done = true;
        *out_result = msg->data.result;
      }
    }
    if (*out_done) return ST_OK;
    if (enough != NULL && enough(ud)) return ST_OK;
    int64_t wait = 1000;
    if (deadline_ms > 0) {
      int64_t left_ms = deadline_ms - st_http_now_ms();
      if (left_ms <= 0) return ST_ERR_TIMEOUT;
      if (left_ms < wait) wait = left_ms;
    }
    if (op != NULL && cancel_fd < 0 && wait > POLL_SLICE_MS) wait = POLL_SLICE_MS;
    struct curl_waitfd extra = {cancel_fd, CURL_WAIT_POLLIN, 0};
    curl_multi_poll(multi, cancel_fd >= 0 ? &extra : NULL, cancel_fd >= 0 ? 1u : 0u, (int)wait,
                    NULL);
  }
}

/* ---- Whole-body GET ------------------------------------------------------------------------ */

typedef struct body_sink {
  char *data;
  size_t len, cap, max;
  bool too_big;
} body_sink_t;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  body_sink_t *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->max) {
    b->too_big = true;
    return 0; /* CURLE_WRITE_ERROR ends the transfer */
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap > 0 ? b->cap : 16384;
    while (cap < b->len + n + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) return 0;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

st_status_t st_http_get(st_sdk_op_t *op, const char *url, const st_http_opts_t *opts,
                        st_http_response_t *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  err[0] = '\0';
  uint32_t timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  body_sink_t body = {NULL, 0, 0,
                      opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : DEFAULT_MAX_BYTES,
                      false};
  char errbuf[CURL_ERROR_SIZE];
  CURL *easy = curl_easy_init();
  CURLM *multi = curl_multi_init();
  if (easy == NULL || multi == NULL) {
    if (easy != NULL) curl_easy_cleanup(easy);
    if (multi != NULL) curl_multi_cleanup(multi);
    snprintf(err, err_len, "out of memory");
    return ST_ERR_INTERNAL;
  }
  st_http_setup(easy, opts, errbuf);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout);
  curl_multi_add_handle(multi, easy);

  bool done = false;
  CURLcode result = CURLE_OK;
  /* A little slack past curl's own timeout, so curl reports it with its message. */
  st_status_t status = st_http_pump(multi, easy, op, st_http_now_ms() + timeout + 250, NULL, NULL,
                                    &done, &result);
  if (status == ST_ERR_CANCELLED) snprintf(err, err_len, "cancelled");
  else if (status == ST_ERR_TIMEOUT) snprintf(err, err_len, "no answer within %u ms", timeout);
  else if (body.too_big) {
    status = ST_ERR_IO;
    snprintf(err, err_len, "the response is larger than %zu bytes", body.max);
  } else if (result != CURLE_OK) {
    status = st_http_curl_status(result, errbuf, err, err_len);
  } else {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
    char *type = NULL;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
    if (type != NULL) snprintf(out->content_type, sizeof out->content_type, "%s", type);
    if (body.data == NULL) body.data = calloc(1, 1);
    out->body = body.data;
    out->len = body.len;
    body.data = NULL;
    if (out->body == NULL) {
      status = ST_ERR_INTERNAL;
      snprintf(err, err_len, "out of memory");
    }
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  free(body.data);
  return status;
}

/* ---- Statuses ------------------------------------------------------------------------------ */

st_status_t st_http_curl_status(CURLcode code, const char *errbuf, char *err, size_t err_len) {
  const char *why = errbuf != NULL && errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
  st_status_t status;
  switch (code) {
    case CURLE_OK: status = ST_OK; break;
    case CURLE_OPERATION_TIMEDOUT: status = ST_ERR_TIMEOUT; break;
    case CURLE_PARTIAL_FILE: status = ST_ERR_IO; break;
    case CURLE_ABORTED_BY_CALLBACK: status = ST_ERR_CANCELLED; break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: status = ST_ERR_INVALID_ARG; break;
    case CURLE_OUT_OF_MEMORY: status = ST_ERR_INTERNAL; break;
    case CURLE_WRITE_ERROR: status = ST_ERR_IO; break;
    default: status = ST_ERR_NETWORK; break; /* refused, reset, DNS, TLS, empty reply, ... */
  }
  if (code == CURLE_PARTIAL_FILE) snprintf(err, err_len, "the server closed the connection early (truncated body: %s)", why);
  else snprintf(err, err_len, "%s", why);
  return status;
}

st_status_t st_http_status_code(long http_status) {
  if (http_status >= 200 && http_status < 300) return ST_OK;
  if (http_status == 401 || http_status == 403) return ST_ERR_AUTH;
  if (http_status == 404 || http_status == 410) return ST_ERR_NOT_FOUND;
  if (http_status >= 500) return ST_ERR_NETWORK;
  return ST_ERR_IO;
}

/* ---- URL building --------------------------------------------------------------------------- */

static void buf_reserve(st_http_buf_t *b, size_t more) {
  if (b->broken || b->len + more + 1 <= b->cap) return;
  size_t cap = b->cap > 0 ? b->cap : 256;
  while (cap < b->len + more + 1) cap *= 2;
  char *grown = realloc(b->data, cap);
  if (grown == NULL) {
    b->broken = true;
    return;
  }
  b->data = grown;
  b->cap = cap;
}

void st_http_buf_add(st_http_buf_t *b, const char *s) {
  size_t n = strlen(s);
  buf_reserve(b, n);
  if (b->broken) return;
  memcpy(b->data + b->len, s, n + 1);
  b->len += n;
}

void st_http_buf_addf(st_http_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  st_str_t s = st_sdk_str_vprintf(fmt, ap);
  va_end(ap);
  if (s.ptr == NULL) {
    if (fmt[0] != '\0') b->broken = true;
    return;
  }
  st_http_buf_add(b, s.ptr);
  st_sdk_free((void *)s.ptr);
}

/* RFC 3986 unreserved characters stay; everything else is %XX (UTF-8 bytes). */
void st_http_buf_param(st_http_buf_t *b, const char *name, const char *value) {
  static const char hex[] = "0123456789ABCDEF";
  bool has_query = b->data != NULL && strchr(b->data, '?') != NULL;
  st_http_buf_add(b, has_query ? "&" : "?");
  st_http_buf_add(b, name);
  st_http_buf_add(b, "=");
  size_t n = strlen(value);
  buf_reserve(b, n * 3);
  if (b->broken) return;
  for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
    unsigned char c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      b->data[b->len++] = (char)c;
    } else {
      b->data[b->len++] = '%';
      b->data[b->len++] = hex[c >> 4];
      b->data[b->len++] = hex[c & 15];
    }
  }
  b->data[b->len] = '\0';
}

char *st_http_buf_take(st_http_buf_t *b) {
  char *s = b->broken ? NULL : b->data;
  if (b->broken) free(b->data);
  memset(b, 0, sizeof *b);
  return s;
}

void st_http_buf_free(st_http_buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}
