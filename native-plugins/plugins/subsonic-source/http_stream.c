/* http_stream.c — a seekable byte stream over HTTP (see http_stream.h). */
#include "http_stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STREAM_BUFFER_BYTES ((size_t)256 << 10)
#define ERROR_BODY_MAX ((size_t)64 << 10)
#define SPOOL_MAX_BYTES ((size_t)256 << 20)
/* A transfer that breaks (reset, cut short) is resumed from the read position with a Range
 * request, up to this many times in a row; a transfer that delivered RESUME_HEALTHY_BYTES first
 * counts as healthy and restarts the count (e.g. a server dropping a connection idle during a
 * long pause). */
#define MAX_RESUMES 3u
#define RESUME_HEALTHY_BYTES ((uint64_t)256 << 10)

struct http_stream {
  char *url;
  st_http_opts_t opts;
  char errbuf[CURL_ERROR_SIZE];

  /* The transfer in progress (easy == NULL: none; the next read starts one at `pos`). */
  CURL *easy;
  CURLM *multi;
  struct curl_slist *headers;
  bool paused;
  bool body_started;  /* the first body byte of this transfer arrived (status judged) */
  bool want_error;    /* this transfer's body is an error document, kept in err_body */
  uint64_t skip;      /* bytes to drop first (a server that ignored Range) */
  uint64_t xfer_from; /* the offset this transfer was asked to start at */
  bool xfer_done;         /* curl finished this transfer (its bytes may still be buffered) */
  st_status_t xfer_status; /* and how: ST_OK or the mapped failure */

  /* Bytes received and not yet read: buf[head, tail). Spooling: the whole body, buf[0, tail),
   * in a buffer of spool_cap bytes. */
  unsigned char *buf;
  size_t head, tail;
  bool spooling, spooled;
  size_t spool_cap, spool_mark;
  unsigned resumes; /* consecutive resumes of broken transfers */

  uint64_t pos;   /* the read position (the offset of buf[head]) */
  int64_t length; /* total size, -1 unknown */
  bool seekable;
  char content_type[128];

  char *err_body; /* an error document's body (open only) */
  size_t err_len;
  bool err_too_big;
};

/* ---- The write callback: judges the response at its first byte, then buffers ---------------- */

static bool is_document_type(const char *type) {
  return strncasecmp(type, "application/json", 16) == 0 || strncasecmp(type, "text/xml", 8) == 0 ||
         strncasecmp(type, "application/xml", 15) == 0 || strncasecmp(type, "text/html", 9) == 0 ||
         strncasecmp(type, "text/plain", 10) == 0;
}

/* Parses "bytes a-b/total" (a 206's Content-Range) for the total. */
static int64_t content_range_total(const char *value) {
  const char *slash = strchr(value, '/');
  if (slash == NULL || slash[1] == '*') return -1;
  return strtoll(slash + 1, NULL, 10);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud) {
  http_stream_t *s = ud;
  size_t n = size * nmemb;
  char text[256];
  size_t copy = n < sizeof text - 1 ? n : sizeof text - 1;
  memcpy(text, line, copy);
  text[copy] = '\0';
  if (strncasecmp(text, "HTTP/", 5) == 0) {
    s->body_started = false; /* a redirect's headers come first; judge only the last response */
  } else if (strncasecmp(text, "Content-Range:", 14) == 0) {
    int64_t total = content_range_total(text + 14);
    if (total >= 0) s->length = total;
  }
  return n;
}

/* Called at the first body byte (or at the end of an empty body) of a transfer. */
static void judge_response(http_stream_t *s) {
  s->body_started = true;
  long status = 0;
  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
  char *type = NULL;
  curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type);
  if (type != NULL) snprintf(s->content_type, sizeof s->content_type, "%s", type);
  s->want_error = status < 200 || status >= 300 || (type != NULL && is_document_type(type));
  if (status == 200) {
    curl_off_t cl = -1;
    curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (cl >= 0 && !s->want_error) {
      s->length = (int64_t)cl;
      s->seekable = true;
    }
    s->skip = s->xfer_from; /* the server ignored our Range: drop what we already had */
  } else if (status == 206) {
    s->seekable = s->length >= 0;
  }
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  http_stream_t *s = ud;
  size_t n = size * nmemb;
  if (!s->body_started) judge_response(s);
  if (s->want_error) {
    if (s->err_len + n > ERROR_BODY_MAX) {
      s->err_too_big = true;
      return n;
    }
    char *grown = realloc(s->err_body, s->err_len + n + 1);
    if (grown == NULL) return 0;
    s->err_body = grown;
    memcpy(s->err_body + s->err_len, ptr, n);
    s->err_len += n;
    s->err_body[s->err_len] = '\0';
    return n;
  }
  size_t used = n;
  if (s->skip > 0) {
    size_t drop = s->skip < n ? (size_t)s->skip : n;
    s->skip -= drop;
    ptr += drop;
    n -= drop;
  }
  if (n == 0) return used;
  if (s->spooling) {
    if (s->tail + n > s->spool_cap) {
      size_t cap = s->spool_cap * 2;
      while (cap < s->tail + n) cap *= 2;
      if (cap > SPOOL_MAX_BYTES) return 0; /* CURLE_WRITE_ERROR: too large to hold */
      unsigned char *grown = realloc(s->buf, cap);
      if (grown == NULL) return 0;
      s->buf = grown;
      s->spool_cap = cap;
    }
    memcpy(s->buf + s->tail, ptr, n);
    s->tail += n;
    return used;
  }
  if (s->head > 0 && s->tail + n > STREAM_BUFFER_BYTES) {
    memmove(s->buf, s->buf + s->head, s->tail - s->head);
    s->tail -= s->head;
    s->head = 0;
  }
  if (s->tail + n > STREAM_BUFFER_BYTES) {
    /* curl hands a paused chunk over again whole, so a chunk that was partly skipped must fit.
     * It always does: nothing is buffered while skipping, and a chunk (64 KiB) is smaller than
     * the buffer. */
    if (used != n) return 0;
    s->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  memcpy(s->buf + s->tail, ptr, n);
  s->tail += n;
  return used;
}

/* ---- Transfers ------------------------------------------------------------------------------- */

static void stop_transfer(http_stream_t *s) {
  if (s->easy != NULL) {
    curl_multi_remove_handle(s->multi, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
  }
  curl_slist_free_all(s->headers);
  s->headers = NULL;
  s->paused = false;
}

static st_status_t start_transfer(http_stream_t *s, char *err, size_t err_len) {
  stop_transfer(s);
  s->head = s->tail = 0;
  s->body_started = false;
  s->want_error = false;
  s->skip = 0;
  s->xfer_from = s->pos;
  s->xfer_done = false;
  s->xfer_status = ST_OK;
  s->easy = curl_easy_init();
  if (s->easy == NULL) {
    snprintf(err, err_len, "out of memory");
    return ST_ERR_INTERNAL;
  }
  st_http_setup(s->easy, &s->opts, s->errbuf);
  curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
  curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(s->easy, CURLOPT_BUFFERSIZE, 65536L);
  curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, NULL); /* byte offsets must be raw bytes */
  if (s->pos > 0) {
    char range[64];
    snprintf(range, sizeof range, "%" PRIu64 "-", s->pos);
    curl_easy_setopt(s->easy, CURLOPT_RANGE, range);
  }
  if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
    stop_transfer(s);
    snprintf(err, err_len, "cannot start the transfer");
    return ST_ERR_INTERNAL;
  }
  return ST_OK;
}

static bool has_bytes_or_error(void *ud) {
  http_stream_t *s = ud;
  return s->tail > s->head || (s->body_started && s->want_error && s->err_too_big);
}

/* Pumps until bytes are buffered, the transfer ended (xfer_done, xfer_status), or a timeout or
 * cancel (returned, with a message in err). */
static st_status_t fill(http_stream_t *s, st_sdk_op_t *op, char *err, size_t err_len) {
  if (s->xfer_done) return ST_OK;
  bool done = false;
  CURLcode result = CURLE_OK;
  uint32_t timeout = s->opts.timeout_ms > 0 ? s->opts.timeout_ms : 10000;
  st_status_t status = st_http_pump(s->multi, s->easy, op, st_http_now_ms() + timeout,
                                    has_bytes_or_error, s, &done, &result);
  if (status == ST_ERR_CANCELLED) {
    snprintf(err, err_len, "cancelled");
    return status;
  }
  if (status == ST_ERR_TIMEOUT) {
    snprintf(err, err_len, "no data from the server within %u ms", timeout);
    return status;
  }
  if (done) {
    s->xfer_done = true;
    if (!s->body_started && result == CURLE_OK) judge_response(s); /* an empty body */
    s->xfer_status = st_http_curl_status(result, s->errbuf, err, err_len);
  }
  return ST_OK;
}

static void http_status_message(http_stream_t *s, char *err, size_t err_len) {
  long status = 0;
  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
  snprintf(err, err_len, "the server answered HTTP %ld (%s)", status,
           s->content_type[0] != '\0' ? s->content_type : "no content type");
}

/* ---- Open ------------------------------------------------------------------------------------ */

static bool spool_grew(void *ud) {
  http_stream_t *s = ud;
  return s->tail != s->spool_mark;
}

/* Downloads the rest of an unsized body into memory on the op's thread (see http_stream.h). */
static st_status_t spool(http_stream_t *s, st_sdk_op_t *op, char *err, size_t err_len) {
  s->spooling = true;
  s->spool_cap = STREAM_BUFFER_BYTES;
  if (s->head > 0) { /* keep the body from offset 0 at buf[0] */
    memmove(s->buf, s->buf + s->head, s->tail - s->head);
    s->tail -= s->head;
    s->head = 0;
  }
  if (s->paused) {
    s->paused = false;
    curl_easy_pause(s->easy, CURLPAUSE_CONT);
  }
  uint32_t timeout = s->opts.timeout_ms > 0 ? s->opts.timeout_ms : 10000;
  while (!s->xfer_done) {
    s->spool_mark = s->tail;
    bool done = false;
    CURLcode result = CURLE_OK;
    /* The deadline restarts whenever bytes arrive: a slow transcode is fine, a stall is not. */
    st_status_t st = st_http_pump(s->multi, s->easy, op, st_http_now_ms() + timeout, spool_grew, s,
                                  &done, &result);
    if (st == ST_ERR_CANCELLED) {
      snprintf(err, err_len, "cancelled");
      return st;
    }
    if (st == ST_ERR_TIMEOUT) {
      snprintf(err, err_len, "no data from the server within %u ms", timeout);
      return st;
    }
    if (done) {
      s->xfer_done = true;
      if (result == CURLE_WRITE_ERROR) {
        snprintf(err, err_len, "the stream has no length and is larger than %zu MiB: cannot hold it",
                 SPOOL_MAX_BYTES >> 20);
        return ST_ERR_IO;
      }
      if (result != CURLE_OK) return st_http_curl_status(result, s->errbuf, err, err_len);
    }
  }
  stop_transfer(s);
  s->spooling = false;
  s->spooled = true;
  s->length = (int64_t)s->tail;
  s->seekable = true;
  return ST_OK;
}

st_status_t http_stream_open(st_sdk_op_t *op, const char *url, const st_http_opts_t *opts,
                             http_stream_t **out, char **out_error_body, char *err,
                             size_t err_len) {
  *out = NULL;
  *out_error_body = NULL;
  http_stream_t *s = calloc(1, sizeof *s);
  if (s != NULL) {
    s->url = strdup(url);
    s->buf = malloc(STREAM_BUFFER_BYTES);
    s->multi = curl_multi_init();
  }
  if (s == NULL || s->url == NULL || s->buf == NULL || s->multi == NULL) {
    http_stream_close(s);
    snprintf(err, err_len, "out of memory");
    return ST_ERR_INTERNAL;
  }
  s->opts = *opts;
  s->length = -1;
  st_status_t status = start_transfer(s, err, err_len);
  while (status == ST_OK && !s->xfer_done && s->tail == s->head &&
         !(s->body_started && s->want_error))
    status = fill(s, op, err, err_len);
  /* An error document: read it whole for the caller to decode. */
  while (status == ST_OK && !s->xfer_done && s->body_started && s->want_error)
    status = fill(s, op, err, err_len);
  if (status == ST_OK && s->tail == s->head && s->xfer_done && s->xfer_status != ST_OK) {
    status = s->xfer_status; /* refused, reset before the first byte, ...: err says why */
  } else if (status == ST_OK && s->want_error) {
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    status = st_http_status_code(code);
    if (status == ST_OK) status = ST_ERR_IO; /* 200 with a document instead of audio */
    http_status_message(s, err, err_len);
    *out_error_body = s->err_body;
    s->err_body = NULL;
  }
  if (status == ST_OK && s->length < 0) status = spool(s, op, err, err_len);
  if (status != ST_OK) {
    http_stream_close(s);
    return status;
  }
  *out = s;
  return ST_OK;
}

const char *http_stream_content_type(const http_stream_t *s) { return s->content_type; }

int64_t http_stream_length(const http_stream_t *s) { return s->length; }

bool http_stream_spooled(const http_stream_t *s) { return s->spooled; }

void http_stream_close(void *stream) {
  http_stream_t *s = stream;
  if (s == NULL) return;
  stop_transfer(s);
  if (s->multi != NULL) curl_multi_cleanup(s->multi);
  free(s->url);
  free(s->buf);
  free(s->err_body);
  free(s);
}

/* ---- The io table [decode-thread] ------------------------------------------------------------ */

static st_status_t hs_read(void *handle, void *buf, size_t len, size_t *out_read) {
  http_stream_t *s = handle;
  *out_read = 0;
  if (len == 0) return ST_OK;
  if (s->length >= 0 && s->pos >= (uint64_t)s->length) return ST_OK;
  if (s->spooled) { /* the whole body is in buf[0, length) */
    size_t n = (size_t)((uint64_t)s->length - s->pos);
    if (n > len) n = len;
    memcpy(buf, s->buf + s->pos, n);
    s->pos += n;
    *out_read = n;
    return ST_OK;
  }
  char err[CURL_ERROR_SIZE + 64];
  while (s->tail == s->head) {
    if (s->easy == NULL) {
      st_status_t st = start_transfer(s, err, sizeof err);
      if (st != ST_OK) return st;
    }
    st_status_t st = fill(s, NULL, err, sizeof err);
    if (st != ST_OK) {
      stop_transfer(s); /* the next read reconnects at pos */
      return st;
    }
    if (s->body_started && s->want_error) {
      long code = 0;
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
      stop_transfer(s);
      if (code == 416) return ST_OK; /* a Range past the end: end of stream */
      st_status_t mapped = st_http_status_code(code);
      return mapped != ST_OK ? mapped : ST_ERR_IO;
    }
    if (s->xfer_done && s->tail == s->head) {
      st_status_t how = s->xfer_status;
      if (how == ST_OK && s->length >= 0 && s->pos < (uint64_t)s->length) how = ST_ERR_IO;
      bool delivered = s->pos - s->xfer_from >= RESUME_HEALTHY_BYTES;
      stop_transfer(s);
      if (how == ST_OK) return ST_OK; /* end of stream */
      if ((how == ST_ERR_NETWORK || how == ST_ERR_IO) && s->seekable) {
        if (delivered) s->resumes = 0;
        if (s->resumes < MAX_RESUMES) {
          s->resumes++;
          continue; /* the next round starts a Range request at pos */
        }
      }
      return how; /* reset (NETWORK), truncated (IO), after the resumes */
    }
  }
  size_t n = s->tail - s->head;
  if (n > len) n = len;
  memcpy(buf, s->buf + s->head, n);
  s->head += n;
  s->pos += n;
  if (s->head == s->tail) s->head = s->tail = 0;
  if (s->paused && s->easy != NULL) {
    s->paused = false;
    curl_easy_pause(s->easy, CURLPAUSE_CONT); /* may deliver the held bytes right here */
  }
  *out_read = n;
  return ST_OK;
}

static st_status_t hs_seek(void *handle, int64_t offset, st_seek_whence_t whence,
                           uint64_t *out_pos) {
  http_stream_t *s = handle;
  int64_t base = whence == ST_SEEK_SET   ? 0
                 : whence == ST_SEEK_CUR ? (int64_t)s->pos
                 : whence == ST_SEEK_END ? s->length
                                         : -1;
  if (whence == ST_SEEK_END && s->length < 0) return ST_ERR_UNSUPPORTED;
  if (base < 0 && whence != ST_SEEK_SET) return ST_ERR_INVALID_ARG;
  int64_t target = base + offset;
  if (target < 0) return ST_ERR_INVALID_ARG;
  uint64_t to = (uint64_t)target;
  if (s->length >= 0 && to > (uint64_t)s->length) to = (uint64_t)s->length;
  if (s->spooled) {
    s->pos = to; /* all in memory */
  } else if (to != s->pos) {
    size_t buffered = s->tail - s->head;
    if (to > s->pos && to - s->pos <= buffered) {
      s->head += (size_t)(to - s->pos); /* inside what we already hold */
    } else {
      if (!s->seekable) return ST_ERR_UNSUPPORTED;
      stop_transfer(s); /* the next read asks for Range: bytes=to- */
      s->head = s->tail = 0;
    }
    s->pos = to;
  }
  if (out_pos != NULL) *out_pos = s->pos;
  return ST_OK;
}

static st_status_t hs_tell(void *handle, uint64_t *out_pos) {
  *out_pos = ((http_stream_t *)handle)->pos;
  return ST_OK;
}

static st_status_t hs_size(void *handle, uint64_t *out_size) {
  http_stream_t *s = handle;
  if (s->length < 0) return ST_ERR_UNSUPPORTED;
  *out_size = (uint64_t)s->length;
  return ST_OK;
}

const st_io_vtable_t http_stream_io = {sizeof(st_io_vtable_t), 0u, hs_read, hs_seek, hs_tell,
                                       hs_size};
