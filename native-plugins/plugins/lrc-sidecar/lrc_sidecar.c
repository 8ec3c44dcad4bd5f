/* lrc_sidecar.c — dev.stellatune.lrc-sidecar: a LyricsProvider reading `<dir>/<stem>.lrc` beside
 * a local audio file `<dir>/<stem>.<ext>`.
 *
 * Requests: search {"path":"/music/a/track.flac", …} lists the sidecar (if any) as a candidate;
 * fetch takes the same shape, or a candidate (its "path", else its "id", the .lrc path). The
 * sidecar is found as stem.lrc / stem.LRC / stem.Lrc / track.flac.lrc, then by a case-insensitive
 * scan of the folder. Lines with [mm:ss.xx] tags make the lyrics synced ("synced_lrc" is the whole
 * file, normalised to UTF-8/LF; "plain" the text without tags); otherwise "synced_lrc" is "".
 * A search that finds nothing answers {"candidates":[]}; a fetch fails with ST_ERR_NOT_FOUND.
 * File access runs in an SDK op, never on the host's control thread. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lrc_text.h"
#include "st_sdk.h"

#define LRC_MAX_BYTES (4u << 20) /* a lyrics file is a few KiB; refuse anything absurd */

/* ---- Finding and reading the sidecar -------------------------------------------------------- */

static bool is_regular_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Returns the malloc'ed path of the sidecar of `audio_path`, or NULL. */
static char *find_sidecar(const char *audio_path) {
  const char *slash = strrchr(audio_path, '/');
  const char *base = slash != NULL ? slash + 1 : audio_path;
  int dir_len = slash != NULL ? (int)(slash - audio_path) : 1;
  const char *dir = slash != NULL ? audio_path : ".";
  if (slash == audio_path) dir_len = 1; /* a file in "/" */
  if (base[0] == '\0') return NULL;
  const char *dot = strrchr(base, '.');
  int stem_len = dot != NULL && dot != base ? (int)(dot - base) : (int)strlen(base);

  static const char *const exact[] = {"%.*s/%.*s.lrc", "%.*s/%.*s.LRC", "%.*s/%.*s.Lrc"};
  for (size_t i = 0; i < ST_SDK_COUNTOF(exact); i++) {
    st_str_t path = st_sdk_str_printf(exact[i], dir_len, dir, stem_len, base);
    if (path.ptr != NULL && is_regular_file(path.ptr)) return (char *)path.ptr;
    st_sdk_free((void *)path.ptr);
  }
  st_str_t path = st_sdk_str_printf("%.*s/%s.lrc", dir_len, dir, base);
  if (path.ptr != NULL && is_regular_file(path.ptr)) return (char *)path.ptr;
  st_sdk_free((void *)path.ptr);

  /* Any case of the stem and extension, e.g. Track.Lrc beside track.flac. */
  st_str_t folder = st_sdk_str_printf("%.*s", dir_len, dir);
  st_str_t want_stem = st_sdk_str_printf("%.*s.lrc", stem_len, base);
  st_str_t want_full = st_sdk_str_printf("%s.lrc", base);
  char *found = NULL;
  DIR *d = folder.ptr != NULL ? opendir(folder.ptr) : NULL;
  for (struct dirent *e; d != NULL && found == NULL && (e = readdir(d)) != NULL;) {
    if ((want_stem.ptr != NULL && strcasecmp(e->d_name, want_stem.ptr) == 0) ||
        (want_full.ptr != NULL && strcasecmp(e->d_name, want_full.ptr) == 0)) {
      path = st_sdk_str_printf("%s/%s", folder.ptr, e->d_name);
      if (path.ptr != NULL && is_regular_file(path.ptr)) found = (char *)path.ptr;
      else st_sdk_free((void *)path.ptr);
    }
  }
  if (d != NULL) closedir(d);
  st_sdk_free((void *)folder.ptr);
  st_sdk_free((void *)want_stem.ptr);
  st_sdk_free((void *)want_full.ptr);
  return found;
}

/* Reads and decodes the file; fails the op (and returns NULL) on error. */
static char *read_lrc(st_sdk_op_t *op, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    st_sdk_op_fail(op, ST_ERR_IO, "cannot open %s", path);
    return NULL;
  }
  unsigned char *data = malloc(LRC_MAX_BYTES + 1);
  size_t len = data != NULL ? fread(data, 1, LRC_MAX_BYTES + 1, f) : 0;
  bool failed = data == NULL || ferror(f);
  fclose(f);
  char *text = NULL;
  if (failed) st_sdk_op_fail(op, ST_ERR_IO, "cannot read %s", path);
  else if (len > LRC_MAX_BYTES) st_sdk_op_fail(op, ST_ERR_IO, "%s is larger than 4 MiB", path);
  else if ((text = lrc_text_decode(data, len, NULL)) == NULL) st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  free(data);
  return text;
}

/* ---- The ops -------------------------------------------------------------------------------- */

typedef struct lrc_request {
  bool fetch;
  bool bad_json;
  char *audio_path; /* "path" of the request, or NULL */
  char *lrc_id;     /* "id" if it names a .lrc file, or NULL */
} lrc_request_t;

static void request_free(void *arg) {
  lrc_request_t *req = arg;
  free(req->audio_path);
  free(req->lrc_id);
  free(req);
}

static void add_optional_string(cJSON *obj, const char *name, const char *value) {
  if (value != NULL) cJSON_AddStringToObject(obj, name, value);
}

static void complete(st_sdk_op_t *op, cJSON *doc) {
  char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (text == NULL) st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  else st_sdk_op_complete_json_owned(op, text, strlen(text));
}

static void lrc_work(st_sdk_op_t *op, void *arg) {
  lrc_request_t *req = arg;
  if (req->bad_json) {
    st_sdk_op_fail(op, ST_ERR_INVALID_ARG, "the request is not a JSON object");
    return;
  }
  char *lrc_path = req->audio_path != NULL ? find_sidecar(req->audio_path)
                   : req->lrc_id != NULL && is_regular_file(req->lrc_id) ? strdup(req->lrc_id)
                                                                          : NULL;
  if (lrc_path == NULL) {
    if (req->fetch)
      st_sdk_op_fail(op, ST_ERR_NOT_FOUND, "no .lrc file beside %s",
                     req->audio_path != NULL ? req->audio_path : "(no path given)");
    else complete(op, cJSON_Parse("{\"candidates\":[]}"));
    return;
  }
  char *text = st_sdk_op_cancelled(op) ? NULL : read_lrc(op, lrc_path);
  lrc_doc_t doc;
  if (text != NULL && !lrc_parse(text, &doc)) {
    st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
    free(text);
    text = NULL;
  }
  if (text == NULL) { /* cancelled, or the op already failed */
    free(lrc_path);
    return;
  }

  cJSON *out = cJSON_CreateObject();
  cJSON *target = out;
  if (!req->fetch) {
    target = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(out, "candidates"), target);
  }
  cJSON_AddStringToObject(target, "id", lrc_path);
  add_optional_string(target, "path", req->audio_path);
  if (req->fetch) {
    cJSON_AddStringToObject(target, "synced_lrc", doc.synced ? text : "");
    cJSON_AddStringToObject(target, "plain", doc.plain);
  } else {
    cJSON_AddBoolToObject(target, "synced", doc.synced);
  }
  cJSON_AddBoolToObject(target, "instrumental", doc.instrumental);
  add_optional_string(target, "title", doc.title);
  add_optional_string(target, "artist", doc.artist);
  add_optional_string(target, "album", doc.album);
  if (doc.length_ms >= 0) cJSON_AddNumberToObject(target, "duration_ms", (double)doc.length_ms);
  cJSON_AddStringToObject(target, "source", "lrc-sidecar");
  complete(op, out);
  lrc_doc_free(&doc);
  free(text);
  free(lrc_path);
}

static bool ends_with_lrc(const char *s) {
  size_t n = strlen(s);
  return n > 4 && strcasecmp(s + n - 4, ".lrc") == 0;
}

static st_status_t begin(bool fetch, const st_str_t *request_json, st_async_op_t *out_op) {
  lrc_request_t *req = calloc(1, sizeof *req);
  if (req == NULL) return ST_ERR_INTERNAL;
  req->fetch = fetch;
  cJSON *doc = request_json != NULL && request_json->ptr != NULL
                   ? cJSON_ParseWithLength(request_json->ptr, request_json->len)
                   : NULL;
  req->bad_json = !cJSON_IsObject(doc);
  const cJSON *path = cJSON_GetObjectItemCaseSensitive(doc, "path");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
  if (cJSON_IsString(path) && path->valuestring[0] != '\0') req->audio_path = strdup(path->valuestring);
  if (cJSON_IsString(id) && ends_with_lrc(id->valuestring)) req->lrc_id = strdup(id->valuestring);
  cJSON_Delete(doc);
  return st_sdk_op_begin_json(lrc_work, req, request_free, out_op);
}

static st_status_t lyrics_search(void *handle, const st_str_t *query_json, st_async_op_t *out_op) {
  (void)handle;
  return begin(false, query_json, out_op);
}

static st_status_t lyrics_fetch(void *handle, const st_str_t *track_json, st_async_op_t *out_op) {
  (void)handle;
  return begin(true, track_json, out_op);
}

/* ---- Module --------------------------------------------------------------------------------- */

/* The instance holds nothing: every request carries its own path. */
static char g_instance_token;

static void instance_destroy(void *handle) { (void)handle; }

static const st_lyrics_vtable_t k_vtable = {
    {sizeof(st_lyrics_vtable_t), ST_CAP_LYRICS_PROVIDER, NULL, instance_destroy}, lyrics_search,
    lyrics_fetch};

static st_status_t create_instance(const st_instance_args_t *args, st_instance_t *out,
                                   st_str_t *out_error) {
  if (args->kind != ST_CAP_LYRICS_PROVIDER || !st_sdk_str_eq(&args->type_id, "lrc-sidecar"))
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "no capability '%.*s'",
                        (int)args->type_id.len, args->type_id.ptr != NULL ? args->type_id.ptr : "");
  out->handle = &g_instance_token;
  out->vtable = &k_vtable.base;
  return ST_OK;
}

static const st_capability_t k_lyrics = ST_SDK_CAPABILITY(
    ST_CAP_LYRICS_PROVIDER, "lrc-sidecar", "Lyrics files beside the music (.lrc)",
    "{\"type\":\"object\",\"properties\":{}}", "{}");
static const st_capability_t *const k_caps[] = {&k_lyrics};

ST_SDK_PLUGIN("{\"id\":\"dev.stellatune.lrc-sidecar\",\"name\":\"LRC sidecar lyrics\","
              "\"version\":\"1.0.0\",\"abi_version\":9,"
              "\"description\":\"Synced or plain lyrics from a .lrc file beside the audio file.\","
              "\"author\":\"StellaTune\"}",
              k_caps, create_instance)
