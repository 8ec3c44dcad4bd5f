/* lrclib_lyrics.c — dev.stellatune.lrclib: a LyricsProvider for LRCLIB (https://lrclib.net) and
 * servers speaking its API.
 *
 * search: GET /api/search?q=<query> for {"query":"free text"}, else
 *         /api/search?track_name=<title>&artist_name=<artist>[&album_name=<album>].
 *         Answers {"candidates":[{"id":"lrclib:<n>","lrclib_id":n,"title","artist","album",
 *         "duration_ms","synced","instrumental"}]} (lyrics.h).
 * fetch:  a candidate (its "lrclib_id", or an "lrclib:<n>" id) -> GET /api/get/<n>; otherwise
 *         the track's signature -> GET /api/get?track_name&artist_name&album_name&duration (whole
 *         seconds). Answers {"id","title","artist","album","duration_ms","synced_lrc","plain",
 *         "instrumental"}; a 404 fails with ST_ERR_NOT_FOUND.
 * Network work runs in SDK ops waiting on the op's cancel fd (st_http.h), so cancel aborts the
 * transfer at once; ops copy the config at begin, so a hot-applied config never races them. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_http.h"
#include "st_sdk.h"

#define TYPE_ID "lrclib"
#define PLUGIN_VERSION "1.0.0"
#define USER_AGENT "StellaTune-lrclib/" PLUGIN_VERSION " (StellaTune desktop music player)"
#define MAX_JSON_BYTES ((size_t)8 << 20)

static const char k_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"properties\":{"
    "\"base_url\":{\"type\":\"string\",\"title\":\"Server\","
    "\"description\":\"LRCLIB or a compatible server\",\"pattern\":\"^https?://\","
    "\"default\":\"https://lrclib.net\"},"
    "\"timeout_ms\":{\"type\":\"integer\",\"title\":\"Request timeout (ms)\",\"minimum\":500,"
    "\"maximum\":120000,\"default\":10000}}}";

static const char k_default_config[] = "{\"base_url\":\"https://lrclib.net\",\"timeout_ms\":10000}";

typedef struct lrclib_config {
  char *base_url; /* without a trailing slash */
  uint32_t timeout_ms;
} lrclib_config_t;

static const char *get_string(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double get_number(const cJSON *obj, const char *name, double fallback) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

static bool config_parse(const st_str_t *json, lrclib_config_t *out, st_str_t *out_error) {
  memset(out, 0, sizeof *out);
  cJSON *doc = json != NULL && json->ptr != NULL && json->len > 0
                   ? cJSON_ParseWithLength(json->ptr, json->len)
                   : cJSON_CreateObject();
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    st_sdk_set_error(out_error, "the config is not a JSON object");
    return false;
  }
  const char *url = get_string(doc, "base_url");
  double timeout = get_number(doc, "timeout_ms", 10000);
  if (url == NULL) url = "https://lrclib.net";
  const char *why = strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0
                        ? "base_url must start with http:// or https://"
                    : timeout < 500 || timeout > 120000 ? "timeout_ms must be between 500 and 120000"
                                                        : NULL;
  if (why == NULL && (out->base_url = strdup(url)) == NULL) why = "out of memory";
  cJSON_Delete(doc);
  if (why != NULL) {
    st_sdk_set_error(out_error, "%s", why);
    return false;
  }
  size_t n = strlen(out->base_url);
  while (n > 0 && out->base_url[n - 1] == '/') out->base_url[--n] = '\0';
  out->timeout_ms = (uint32_t)timeout;
  return true;
}

/* ---- The ops ------------------------------------------------------------------------------- */

typedef struct lrclib_job {
  bool fetch;
  st_status_t error_code;
  char error[160];
  char *url; /* the whole request URL, built at begin */
  char *base_url;
  uint32_t timeout_ms;
} lrclib_job_t;

static void job_free(void *ctx) {
  lrclib_job_t *job = ctx;
  free(job->url);
  free(job->base_url);
  free(job);
}

static void add_record_fields(cJSON *out, const cJSON *rec) {
  char id[48];
  double n = get_number(rec, "id", -1);
  if (n >= 0) {
    snprintf(id, sizeof id, "lrclib:%.0f", n);
    cJSON_AddStringToObject(out, "id", id);
    cJSON_AddNumberToObject(out, "lrclib_id", n);
  }
  const char *title = get_string(rec, "trackName");
  const char *artist = get_string(rec, "artistName");
  const char *album = get_string(rec, "albumName");
  cJSON_AddStringToObject(out, "title", title != NULL ? title : "");
  cJSON_AddStringToObject(out, "artist", artist != NULL ? artist : "");
  if (album != NULL) cJSON_AddStringToObject(out, "album", album);
  double seconds = get_number(rec, "duration", -1);
  if (seconds >= 0) cJSON_AddNumberToObject(out, "duration_ms", round(seconds * 1000.0));
}

static void complete(st_sdk_op_t *op, cJSON *doc) {
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL) st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  else st_sdk_op_complete_json_owned(op, text, strlen(text));
}

static void lrclib_work(st_sdk_op_t *op, void *ctx) {
  lrclib_job_t *job = ctx;
  if (job->error_code != ST_OK) {
    st_sdk_op_fail(op, job->error_code, "%s", job->error);
    return;
  }
  st_http_opts_t opts = {job->timeout_ms, MAX_JSON_BYTES, USER_AGENT};
  st_http_response_t res;
  char err[CURL_ERROR_SIZE + 128];
  st_status_t st = st_http_get(op, job->url, &opts, &res, err, sizeof err);
  if (st != ST_OK) {
    if (st != ST_ERR_CANCELLED) st_sdk_op_fail(op, st, "%s: %s", job->base_url, err);
    return;
  }
  cJSON *doc = cJSON_ParseWithLength(res.body, res.len);
  long http = res.status;
  st_http_response_free(&res);
  st_status_t mapped = st_http_status_code(http);
  if (mapped != ST_OK) {
    const char *message = get_string(doc, "message");
    if (mapped == ST_ERR_NOT_FOUND)
      st_sdk_op_fail(op, mapped, "no lyrics on %s for this track%s%s", job->base_url,
                     message != NULL ? ": " : "", message != NULL ? message : "");
    else
      st_sdk_op_fail(op, mapped, "%s answered HTTP %ld%s%s", job->base_url, http,
                     message != NULL ? ": " : "", message != NULL ? message : "");
    cJSON_Delete(doc);
    return;
  }
  if (job->fetch ? !cJSON_IsObject(doc) : !cJSON_IsArray(doc)) {
    st_sdk_op_fail(op, ST_ERR_IO, "%s sent a malformed answer (expected a JSON %s)", job->base_url,
                   job->fetch ? "object" : "array");
    cJSON_Delete(doc);
    return;
  }
  cJSON *out = cJSON_CreateObject();
  if (job->fetch) {
    add_record_fields(out, doc);
    const char *synced = get_string(doc, "syncedLyrics");
    const char *plain = get_string(doc, "plainLyrics");
    cJSON_AddStringToObject(out, "synced_lrc", synced != NULL ? synced : "");
    cJSON_AddStringToObject(out, "plain", plain != NULL ? plain : "");
    cJSON_AddBoolToObject(out, "instrumental",
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "instrumental")));
    cJSON_AddStringToObject(out, "source", "lrclib");
  } else {
    cJSON *list = cJSON_AddArrayToObject(out, "candidates");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, doc) {
      if (!cJSON_IsObject(rec)) continue;
      cJSON *cand = cJSON_CreateObject();
      add_record_fields(cand, rec);
      const char *synced = get_string(rec, "syncedLyrics");
      cJSON_AddBoolToObject(cand, "synced", synced != NULL && synced[0] != '\0');
      cJSON_AddBoolToObject(cand, "instrumental",
                            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "instrumental")));
      cJSON_AddStringToObject(cand, "source", "lrclib");
      cJSON_AddItemToArray(list, cand);
    }
  }
  cJSON_Delete(doc);
  complete(op, out);
}

/* "lrclib:123" or a numeric lrclib_id -> 123; -1 if the request names none. */
static double lrclib_id_of(const cJSON *req) {
  double n = get_number(req, "lrclib_id", -1);
  const char *id = get_string(req, "id");
  if (n < 0 && id != NULL && strncmp(id, "lrclib:", 7) == 0) {
    char *end = NULL;
    double parsed = strtod(id + 7, &end);
    if (end != NULL && *end == '\0' && end != id + 7) n = parsed;
  }
  return n >= 0 && n == floor(n) ? n : -1;
}

/* Builds the request URL (or the error) from the query/track JSON. */
static void job_parse(lrclib_job_t *job, const st_str_t *json) {
  cJSON *req = json != NULL && json->ptr != NULL && json->len > 0
                   ? cJSON_ParseWithLength(json->ptr, json->len)
                   : NULL;
  if (!cJSON_IsObject(req)) {
    job->error_code = ST_ERR_INVALID_ARG;
    snprintf(job->error, sizeof job->error, "the request is not a JSON object");
    cJSON_Delete(req);
    return;
  }
  const char *query = get_string(req, "query");
  const char *title = get_string(req, "title");
  const char *artist = get_string(req, "artist");
  const char *album = get_string(req, "album");
  double duration_ms = get_number(req, "duration_ms", -1);
  st_http_buf_t b = {0};
  if (!job->fetch) {
    st_http_buf_addf(&b, "%s/api/search", job->base_url);
    if (query != NULL && query[0] != '\0') {
      st_http_buf_param(&b, "q", query);
    } else if (title != NULL && title[0] != '\0') {
      st_http_buf_param(&b, "track_name", title);
      if (artist != NULL && artist[0] != '\0') st_http_buf_param(&b, "artist_name", artist);
      if (album != NULL && album[0] != '\0') st_http_buf_param(&b, "album_name", album);
    } else {
      job->error_code = ST_ERR_INVALID_ARG;
      snprintf(job->error, sizeof job->error, "search needs a \"query\" or a \"title\"");
    }
  } else {
    double id = lrclib_id_of(req);
    if (id >= 0) {
      st_http_buf_addf(&b, "%s/api/get/%.0f", job->base_url, id);
    } else if (title != NULL && title[0] != '\0' && artist != NULL && artist[0] != '\0') {
      st_http_buf_addf(&b, "%s/api/get", job->base_url);
      st_http_buf_param(&b, "track_name", title);
      st_http_buf_param(&b, "artist_name", artist);
      if (album != NULL) st_http_buf_param(&b, "album_name", album);
      if (duration_ms >= 0) {
        char seconds[32];
        snprintf(seconds, sizeof seconds, "%.0f", round(duration_ms / 1000.0));
        st_http_buf_param(&b, "duration", seconds);
      }
    } else {
      job->error_code = ST_ERR_INVALID_ARG;
      snprintf(job->error, sizeof job->error,
               "fetch needs a candidate from search, or a \"title\" and an \"artist\"");
    }
  }
  cJSON_Delete(req);
  if (job->error_code == ST_OK && (job->url = st_http_buf_take(&b)) == NULL) {
    job->error_code = ST_ERR_INTERNAL;
    snprintf(job->error, sizeof job->error, "out of memory");
  }
  st_http_buf_free(&b);
}

/* ---- The instance ------------------------------------------------------------------------- */

typedef struct lrclib_provider {
  pthread_mutex_t lock; /* guards config against a hot apply while a begin copies it */
  lrclib_config_t config;
} lrclib_provider_t;

static st_status_t begin(lrclib_provider_t *p, bool fetch, const st_str_t *json,
                         st_async_op_t *out_op) {
  lrclib_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) return ST_ERR_INTERNAL;
  job->fetch = fetch;
  pthread_mutex_lock(&p->lock);
  job->base_url = strdup(p->config.base_url);
  job->timeout_ms = p->config.timeout_ms;
  pthread_mutex_unlock(&p->lock);
  if (job->base_url == NULL) {
    free(job);
    return ST_ERR_INTERNAL;
  }
  job_parse(job, json);
  return st_sdk_op_begin_json(lrclib_work, job, job_free, out_op);
}

/* [control] */
static st_status_t lyrics_search(void *handle, const st_str_t *query_json, st_async_op_t *out_op) {
  return begin(handle, false, query_json, out_op);
}

/* [control] */
static st_status_t lyrics_fetch(void *handle, const st_str_t *track_json, st_async_op_t *out_op) {
  return begin(handle, true, track_json, out_op);
}

/* [control] */
static st_status_t plan_update(void *handle, const st_str_t *new_config, st_config_mode_t *out_mode,
                               st_str_t *out_reason) {
  (void)handle;
  lrclib_config_t next;
  if (!config_parse(new_config, &next, out_reason)) {
    *out_mode = ST_CONFIG_REJECT;
    return ST_OK;
  }
  free(next.base_url);
  *out_mode = ST_CONFIG_HOT_APPLY;
  return ST_OK;
}

/* [control] */
static st_status_t apply_update(void *handle, const st_str_t *new_config, st_str_t *out_error) {
  lrclib_provider_t *p = handle;
  lrclib_config_t next;
  if (!config_parse(new_config, &next, out_error)) return ST_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  char *old = p->config.base_url;
  p->config = next;
  pthread_mutex_unlock(&p->lock);
  free(old);
  return ST_OK;
}

/* All state is in the config. */
static const st_config_vtable_t k_config_vtable = ST_SDK_CONFIG_VTABLE(plan_update, apply_update);

/* [control] */
static void provider_destroy(void *handle) {
  lrclib_provider_t *p = handle;
  free(p->config.base_url);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

static const st_lyrics_vtable_t k_vtable = {
    {sizeof(st_lyrics_vtable_t), ST_CAP_LYRICS_PROVIDER, &k_config_vtable, provider_destroy},
    lyrics_search, lyrics_fetch};

/* ---- The module --------------------------------------------------------------------------- */

static st_status_t create_instance(const st_instance_args_t *args, st_instance_t *out,
                                   st_str_t *out_error) {
  if (args->kind != ST_CAP_LYRICS_PROVIDER || !st_sdk_str_eq(&args->type_id, TYPE_ID))
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "no capability '%.*s'",
                        (int)args->type_id.len, args->type_id.ptr != NULL ? args->type_id.ptr : "");
  lrclib_provider_t *p = calloc(1, sizeof *p);
  if (p == NULL) return ST_ERR_INTERNAL;
  if (!config_parse(&args->config_json, &p->config, out_error)) {
    free(p);
    return ST_ERR_INVALID_ARG;
  }
  pthread_mutex_init(&p->lock, NULL);
  out->handle = p;
  out->vtable = &k_vtable.base;
  return ST_OK;
}



static const st_capability_t k_lyrics = ST_SDK_CAPABILITY(
    ST_CAP_LYRICS_PROVIDER, TYPE_ID, "LRCLIB (online lyrics)", k_schema, k_default_config);
static const st_capability_t *const k_caps[] = {&k_lyrics};

ST_SDK_PLUGIN_EX("{\"id\":\"dev.stellatune.lrclib\",\"name\":\"LRCLIB lyrics\","
                 "\"version\":\"" PLUGIN_VERSION "\",\"abi_version\":9,"
                 "\"description\":\"Synced and plain lyrics from LRCLIB (lrclib.net) or a "
                 "compatible server.\",\"author\":\"StellaTune\",\"homepage\":\"https://lrclib.net\"}",
                 k_caps, create_instance, st_http_module_entry, st_http_module_shutdown)
