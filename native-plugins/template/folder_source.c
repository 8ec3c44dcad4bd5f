/* folder_source.c — org.example.folder-source, the StellaTune plugin template.
 *
 * A SourceCatalog (source.h) with type_id "folder": it lists the audio files of one configured
 * folder and opens them as byte streams that the decoders read. Small on purpose, but complete:
 * it shows every part a real source plugin has. Copy this folder, rename the ids (marked RENAME),
 * and replace folder_scan.c with your catalog's client. docs/plugin-guide.md walks through it.
 *
 * Where each function runs (thread tags as in stellatune/threads.h):
 *   create_instance, the config functions, begin_*, close_stream, destroy     [control]
 *       The host's event loop. Return promptly: parse, copy, start an op, no I/O beyond a stat.
 *   list_work, open_work                                                       [op-worker]
 *       An SDK pool thread. The slow part (disk, network) goes here; check for cancellation.
 *   file_stream.c: read, seek, tell, size                                      [decode-thread]
 *       The data plane, called directly by the decode worker while a track plays.
 *
 * Requests (the shapes of source.h; item ids are paths relative to the configured folder):
 *   {"action":"browse","id":"Album","offset":0,"limit":50}   a folder; no id = the folder itself
 *   {"action":"browse","resume":true}                         the last folder browsed (its state)
 *   {"action":"search","query":"love","offset":0,"limit":50}  names containing query, recursively
 *   open_stream: an item of kind "track" from a result; the stream's metadata is
 *   {"ext":"flac","title":"…","size":123}.
 *
 * Memory.  What the host passes in is borrowed for the call: begin_* copy what the work needs
 * into a job that the SDK owns and frees (ctx_free) after the work returned. Results go back
 * through st_sdk_op_complete_* (the SDK hands them to the host, which frees them with free_mem).
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_stream.h"
#include "folder_scan.h"
#include "st_sdk.h"

#define TYPE_ID "folder" /* RENAME */

/* strndup, which not every C library has (Windows' does not). */
static char *dup_range(const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (out == NULL) return NULL;
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}
#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500

/* ---- Descriptors ----------------------------------------------------------------------------- */

/* The config schema: the UI builds the settings form from it, and the host validates configs
 * against it before they reach the plugin. "x-stellatune-actions" names the buttons the sources
 * view shows (source.h). Keep "default" values equal to k_default_config. */
static const char k_schema[] =
    "{\"type\":\"object\","
    "\"properties\":{"
    "\"folder\":{\"type\":\"string\",\"title\":\"Music folder\",\"minLength\":1,"
    "\"description\":\"An absolute path; ~ stands for your home folder.\",\"default\":\"~/Music\"},"
    "\"extensions\":{\"type\":\"array\",\"title\":\"File extensions\",\"minItems\":1,"
    "\"description\":\"Which files to list, without the dot.\","
    "\"items\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9]{1,16}$\"},"
    "\"default\":[\"flac\",\"mp3\",\"ogg\",\"opus\",\"wav\",\"m4a\",\"aiff\"]}},"
    "\"x-stellatune-actions\":[{\"action\":\"browse\",\"label\":\"Browse\"},"
    "{\"action\":\"search\",\"label\":\"Search\",\"query\":true}]}";

static const char k_default_config[] =
    "{\"folder\":\"~/Music\",\"extensions\":[\"flac\",\"mp3\",\"ogg\",\"opus\",\"wav\",\"m4a\","
    "\"aiff\"]}";

/* ---- Config ---------------------------------------------------------------------------------- */

/* A parsed config. The extensions are kept as ",flac,mp3," so that a lookup is one strstr and a
 * copy for an op is one strdup. */
typedef struct folder_config {
  char *folder;     /* absolute, "~" expanded, no trailing slash */
  char *extensions; /* lowercase, comma-wrapped */
} folder_config_t;

static void config_free(folder_config_t *c) {
  free(c->folder);
  free(c->extensions);
  c->folder = c->extensions = NULL;
}

static bool is_folder(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "~" and "~/x" become $HOME and $HOME/x; trailing slashes are dropped. */
static char *expand_folder(const char *raw, st_str_t *out_error) {
  const char *home = "";
  const char *rest = raw;
  if (raw[0] == '~') {
    home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
      st_sdk_set_error(out_error, "folder: ~ needs $HOME, which is not set");
      return NULL;
    }
    rest = raw + 1;
  }
  size_t lh = strlen(home), lr = strlen(rest);
  char *path = malloc(lh + lr + 1);
  if (path == NULL) return NULL;
  memcpy(path, home, lh);
  memcpy(path + lh, rest, lr + 1);
  for (size_t n = lh + lr; n > 1 && path[n - 1] == '/'; n--) path[n - 1] = '\0';
  return path;
}

/* Parses a config (missing fields take their defaults). The host already checked it against the
 * schema as far as it can, but a plugin still validates what it relies on: false with a reason in
 * *out_error. */
static bool config_parse(const st_str_t *json, folder_config_t *out, st_str_t *out_error) {
  out->folder = out->extensions = NULL;
  cJSON *doc = json != NULL && json->ptr != NULL && json->len > 0
                   ? cJSON_ParseWithLength(json->ptr, json->len)
                   : cJSON_CreateObject();
  bool ok = false;
  if (!cJSON_IsObject(doc)) {
    st_sdk_set_error(out_error, "the config is not a JSON object");
    goto done;
  }

  const cJSON *folder = cJSON_GetObjectItemCaseSensitive(doc, "folder");
  const char *raw = cJSON_IsString(folder) ? folder->valuestring : "~/Music";
  if (raw[0] != '/' && !(raw[0] == '~' && (raw[1] == '\0' || raw[1] == '/'))) {
    st_sdk_set_error(out_error, "folder must be an absolute path or start with ~/ (got \"%s\")",
                     raw);
    goto done;
  }
  if ((out->folder = expand_folder(raw, out_error)) == NULL) goto done;

  const cJSON *exts = cJSON_GetObjectItemCaseSensitive(doc, "extensions");
  if (!cJSON_IsArray(exts)) exts = NULL;
  /* Room for ",ext" per item plus ",\0"; the schema caps one extension at 16 characters. */
  size_t cap = 2, len = 0;
  for (const cJSON *e = exts != NULL ? exts->child : NULL; e != NULL; e = e->next)
    cap += 1 + (cJSON_IsString(e) ? strlen(e->valuestring) : 0);
  if (exts == NULL) cap += 64;
  if ((out->extensions = malloc(cap)) == NULL) goto done;
  if (exts == NULL) {
    strcpy(out->extensions, ",flac,mp3,ogg,opus,wav,m4a,aiff,");
  } else {
    for (const cJSON *e = exts->child; e != NULL; e = e->next) {
      const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
      if (s != NULL && s[0] == '.') s++; /* tolerate ".flac" */
      if (s == NULL || s[0] == '\0' || strpbrk(s, ",/") != NULL) {
        st_sdk_set_error(out_error, "extensions must be names like \"flac\"");
        goto done;
      }
      out->extensions[len++] = ',';
      for (; *s != '\0'; s++) out->extensions[len++] = (char)tolower((unsigned char)*s);
    }
    out->extensions[len++] = ',';
    out->extensions[len] = '\0';
  }
  ok = true;

done:
  cJSON_Delete(doc);
  if (!ok) config_free(out);
  return ok;
}

/* ---- The instance ---------------------------------------------------------------------------- */

/* Control calls on one instance are serialised by the host, and the op work never touches the
 * instance (it works on copies), so these fields need no lock. */
typedef struct folder_source {
  folder_config_t config;
  char *last_folder; /* the state: id of the last folder browsed, "" for the root */
} folder_source_t;

/* Item ids are paths relative to the configured folder; refuse any that could leave it. */
static bool id_is_safe(const char *id) {
  if (id[0] == '/') return false;
  for (const char *p = id;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') return false;
    if (slash == NULL) return true;
    p = slash + 1;
  }
}

static void set_string(char **field, const char *value) {
  char *copy = strdup(value);
  if (copy == NULL) return; /* out of memory: keep the old value */
  free(*field);
  *field = copy;
}

/* A borrowed request as a cJSON object, or NULL when it is not one. */
static cJSON *parse_request(const st_str_t *json) {
  if (json == NULL || json->ptr == NULL || json->len == 0) return cJSON_CreateObject();
  cJSON *doc = cJSON_ParseWithLength(json->ptr, json->len);
  if (cJSON_IsObject(doc)) return doc;
  cJSON_Delete(doc);
  return NULL;
}

static const char *get_string(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static size_t get_count(const cJSON *obj, const char *name, size_t fallback, size_t max) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!cJSON_IsNumber(v) || v->valuedouble < 0) return fallback;
  return v->valuedouble > (double)max ? max : (size_t)v->valuedouble;
}

/* ---- list_items ------------------------------------------------------------------------------ */

/* Everything list_work needs, copied at begin: the work may outlive the op handle and even the
 * instance (async_op.h), so it must never reach back into them. */
typedef struct list_job {
  st_status_t error_code; /* != ST_OK: the request was bad; the work fails the op with error */
  const char *error;
  bool search;
  char *root;       /* the configured folder */
  char *extensions;
  char *id;         /* the folder to browse or to search under; "" = the root */
  char *query;      /* search: lowercased */
  size_t offset, limit;
  /* search paging, updated while walking */
  size_t matched;
  bool more;
  cJSON *items;
} list_job_t;

static void list_job_free(void *ctx) {
  list_job_t *job = ctx;
  free(job->root);
  free(job->extensions);
  free(job->id);
  free(job->query);
  cJSON_Delete(job->items);
  free(job);
}

/* One result item (source.h): {"id","kind","title"} and, for tracks, "ext", "size" and the
 * folder the track is in as "album" (the usual convention of folder players). */
static cJSON *item_json(const char *id, const scan_entry_t *e) {
  cJSON *item = cJSON_CreateObject();
  cJSON_AddStringToObject(item, "id", id);
  cJSON_AddStringToObject(item, "kind", e->is_folder ? "folder" : "track");
  char ext[33];
  if (e->is_folder || !scan_ext(e->name, ext, sizeof ext)) {
    cJSON_AddStringToObject(item, "title", e->name);
  } else {
    char *title = strdup(e->name);
    if (title != NULL) *strrchr(title, '.') = '\0'; /* the stem; scan_ext found the dot */
    cJSON_AddStringToObject(item, "title", title != NULL ? title : e->name);
    free(title);
    cJSON_AddStringToObject(item, "ext", ext);
    cJSON_AddNumberToObject(item, "size", (double)e->size);
    const char *slash = strrchr(id, '/');
    if (slash != NULL) {
      const char *start = slash;
      while (start > id && start[-1] != '/') start--;
      char *album = dup_range(start, (size_t)(slash - start));
      if (album != NULL) cJSON_AddStringToObject(item, "album", album);
      free(album);
    }
  }
  return item;
}

/* Completes the op with {"items":[…],"next_offset":N} (next_offset only when there is more). */
static void complete_items(st_sdk_op_t *op, list_job_t *job, bool more) {
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddItemToObject(doc, "items", job->items);
  job->items = NULL;
  if (more) cJSON_AddNumberToObject(doc, "next_offset", (double)(job->offset + job->limit));
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL) st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
  else st_sdk_op_complete_json_owned(op, text, strlen(text)); /* the SDK now owns text */
}

/* Turns a scan error into the op's failure. */
static void fail_scan(st_sdk_op_t *op, int err, const char *dir) {
  if (err == ECANCELED) return; /* the op is already CANCELLED; any result would be discarded */
  if (err == ENOENT || err == ENOTDIR) {
    st_sdk_op_fail(op, ST_ERR_NOT_FOUND, "%s is not a folder (or does not exist)", dir);
    return;
  }
  /* Logging from a worker is fine: no lock is held here. */
  st_sdk_log(ST_LOG_WARN, "folder-source: cannot read %s: %s", dir, strerror(err));
  st_sdk_op_fail(op, ST_ERR_IO, "cannot read %s: %s", dir, strerror(err));
}

static bool search_visit(void *arg, const char *id, const scan_entry_t *e) {
  list_job_t *job = arg;
  /* ASCII case-insensitive; a real catalog would match on its own index. */
  char *lower = strdup(e->name);
  if (lower == NULL) return false;
  for (char *p = lower; *p != '\0'; p++) *p = (char)tolower((unsigned char)*p);
  bool match = strstr(lower, job->query) != NULL;
  free(lower);
  if (!match) return true;
  size_t index = job->matched++;
  if (index < job->offset) return true;
  if (index >= job->offset + job->limit) {
    job->more = true; /* one match past the page is enough to know there is a next page */
    return false;
  }
  cJSON_AddItemToArray(job->items, item_json(id, e));
  return true;
}

/* [op-worker] */
static void list_work(st_sdk_op_t *op, void *ctx) {
  list_job_t *job = ctx;
  if (job->error_code != ST_OK) {
    st_sdk_op_fail(op, job->error_code, "%s", job->error);
    return;
  }
  char *dir = scan_join(job->root, job->id);
  job->items = cJSON_CreateArray();
  if (dir == NULL || job->items == NULL) {
    st_sdk_op_fail(op, ST_ERR_INTERNAL, "out of memory");
    free(dir);
    return;
  }
  if (job->search) {
    int err = scan_tree(op, job->root, job->id, job->extensions, search_visit, job);
    if (err != 0) fail_scan(op, err, dir);
    else complete_items(op, job, job->more);
  } else {
    scan_list_t list;
    int err = scan_folder(op, dir, job->extensions, &list);
    if (err != 0) {
      fail_scan(op, err, dir);
    } else {
      for (size_t i = job->offset; i < list.count && i < job->offset + job->limit; i++) {
        char *id = scan_join(job->id, list.entries[i].name);
        if (id != NULL) cJSON_AddItemToArray(job->items, item_json(id, &list.entries[i]));
        free(id);
      }
      complete_items(op, job, job->offset + job->limit < list.count);
      scan_list_free(&list);
    }
  }
  free(dir);
}

/* Parses the request, copies what the work needs and starts the op. A bad request still starts
 * an op that fails with the reason (the UI shows it); begin itself fails only when no op could be
 * started. [control] */
static st_status_t source_begin_list_items(void *handle, const st_str_t *request_json,
                                           st_async_op_t *out_op) {
  folder_source_t *src = handle;
  list_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) return ST_ERR_INTERNAL;
  cJSON *req = parse_request(request_json);
  const char *action = get_string(req, "action");
  const char *id = get_string(req, "id");
  const char *query = get_string(req, "query");
  job->search = action != NULL && strcmp(action, "search") == 0;
  job->offset = get_count(req, "offset", 0, SIZE_MAX / 2);
  job->limit = get_count(req, "limit", DEFAULT_LIMIT, MAX_LIMIT);
  if (job->limit == 0) job->limit = DEFAULT_LIMIT;
  if (id == NULL && !job->search && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "resume")))
    id = src->last_folder;

  if (req == NULL) {
    job->error_code = ST_ERR_INVALID_ARG;
    job->error = "the request is not a JSON object";
  } else if (action != NULL && !job->search && strcmp(action, "browse") != 0) {
    job->error_code = ST_ERR_UNSUPPORTED;
    job->error = "unknown action (this catalog knows browse and search)";
  } else if (id != NULL && !id_is_safe(id)) {
    job->error_code = ST_ERR_INVALID_ARG;
    job->error = "the id must be a path inside the folder";
  } else if (job->search && (query == NULL || query[0] == '\0')) {
    job->error_code = ST_ERR_INVALID_ARG;
    job->error = "search needs a query";
  } else {
    job->root = strdup(src->config.folder);
    job->extensions = strdup(src->config.extensions);
    job->id = strdup(id != NULL ? id : "");
    job->query = strdup(query != NULL ? query : "");
    if (job->query != NULL)
      for (char *p = job->query; *p != '\0'; p++) *p = (char)tolower((unsigned char)*p);
    if (job->root == NULL || job->extensions == NULL || job->id == NULL || job->query == NULL) {
      job->error_code = ST_ERR_INTERNAL;
      job->error = "out of memory";
    } else if (!job->search) {
      set_string(&src->last_folder, job->id); /* remembered for resume and export_state */
    }
  }
  cJSON_Delete(req);
  /* The SDK owns job from here on, even if begin fails, and frees it with list_job_free. */
  return st_sdk_op_begin_json(list_work, job, list_job_free, out_op);
}

/* ---- open_stream ----------------------------------------------------------------------------- */

typedef struct open_job {
  st_status_t error_code;
  const char *error;
  char *path;  /* absolute path of the track */
  char *title;
} open_job_t;

static void open_job_free(void *ctx) {
  open_job_t *job = ctx;
  free(job->path);
  free(job->title);
  free(job);
}

/* [op-worker] */
static void open_work(st_sdk_op_t *op, void *ctx) {
  open_job_t *job = ctx;
  if (job->error_code != ST_OK) {
    st_sdk_op_fail(op, job->error_code, "%s", job->error);
    return;
  }
  /* A network source would connect here, waiting on st_sdk_op_cancel_fd(op) beside its socket
   * so that cancel aborts the transfer at once. */
  st_stream_t stream;
  uint64_t size = 0;
  st_status_t status = file_stream_open(job->path, &stream, &size);
  if (status != ST_OK) {
    st_sdk_op_fail(op, status, status == ST_ERR_NOT_FOUND ? "%s does not exist" : "cannot open %s",
                   job->path);
    return;
  }
  /* The metadata: "ext" picks the decoder (source.h); the rest is shown to the user. */
  char ext[33] = "";
  scan_ext(job->path, ext, sizeof ext);
  cJSON *meta = cJSON_CreateObject();
  cJSON_AddStringToObject(meta, "ext", ext);
  if (job->title != NULL) cJSON_AddStringToObject(meta, "title", job->title);
  cJSON_AddNumberToObject(meta, "size", (double)size);
  char *text = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  /* If the op was cancelled meanwhile, or nobody takes the stream, the SDK closes it with
   * file_stream_close, which needs nothing from the instance. */
  st_sdk_op_complete_stream(op, stream, text != NULL ? text : "{}", text != NULL ? strlen(text) : 2,
                            file_stream_close);
  free(text);
}

/* [control] */
static st_status_t source_begin_open_stream(void *handle, const st_str_t *track_json,
                                            st_async_op_t *out_op) {
  folder_source_t *src = handle;
  open_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) return ST_ERR_INTERNAL;
  cJSON *track = parse_request(track_json);
  const char *id = get_string(track, "id");
  const char *title = get_string(track, "title");
  if (id == NULL || id[0] == '\0' || !id_is_safe(id)) {
    job->error_code = ST_ERR_INVALID_ARG;
    job->error = "open_stream needs a track item from list_items (with its \"id\")";
  } else {
    job->path = scan_join(src->config.folder, id);
    job->title = title != NULL ? strdup(title) : NULL;
    if (job->path == NULL) {
      job->error_code = ST_ERR_INTERNAL;
      job->error = "out of memory";
    }
  }
  cJSON_Delete(track);
  return st_sdk_op_begin_stream(open_work, job, open_job_free, out_op);
}

/* Never called during a read; every stream taken from this instance is closed before destroy.
 * [control] */
static void source_close_stream(void *handle, void *stream_handle) {
  (void)handle;
  file_stream_close(stream_handle);
}

/* ---- Config and state (config.h) ------------------------------------------------------------- */

/* Decides, changing nothing: a folder that does not exist is rejected with a reason the user sees;
 * anything else is applied in place (a listing already running keeps its copy of the old config).
 * The same folder is accepted even if it is missing right now (an unplugged drive). [control] */
static st_status_t source_plan_update(void *handle, const st_str_t *new_config,
                                      st_config_mode_t *out_mode, st_str_t *out_reason) {
  folder_source_t *src = handle;
  folder_config_t next;
  *out_mode = ST_CONFIG_REJECT;
  if (!config_parse(new_config, &next, out_reason)) return ST_OK;
  if (strcmp(next.folder, src->config.folder) != 0 && !is_folder(next.folder))
    st_sdk_set_error(out_reason, "%s is not a folder (or does not exist)", next.folder);
  else *out_mode = ST_CONFIG_HOT_APPLY;
  config_free(&next);
  return ST_OK;
}

/* [control] */
static st_status_t source_apply_update(void *handle, const st_str_t *new_config,
                                       st_str_t *out_error) {
  folder_source_t *src = handle;
  folder_config_t next;
  if (!config_parse(new_config, &next, out_error)) return ST_ERR_INVALID_ARG;
  if (strcmp(next.folder, src->config.folder) != 0) set_string(&src->last_folder, "");
  config_free(&src->config);
  src->config = next;
  return ST_OK;
}

/* {"last_folder":"…"}, or nothing before the first browse. [control] */
static st_status_t source_export_state(void *handle, st_str_t *out_state, st_str_t *out_error) {
  folder_source_t *src = handle;
  (void)out_error;
  out_state->ptr = NULL;
  out_state->len = 0;
  if (src->last_folder[0] == '\0') return ST_OK;
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "last_folder", src->last_folder);
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL) return ST_ERR_INTERNAL;
  /* The host frees returned strings with the module's free_mem, which is st_sdk_free (free());
   * cJSON allocated text with malloc, so it is handed over as it is. */
  out_state->ptr = text;
  out_state->len = strlen(text);
  return ST_OK;
}

/* State may come from an older version of the plugin: take what is understood, ignore the rest.
 * [control] */
static st_status_t source_import_state(void *handle, const st_str_t *state, st_str_t *out_error) {
  folder_source_t *src = handle;
  (void)out_error;
  cJSON *doc = parse_request(state);
  const char *last = get_string(doc, "last_folder");
  if (last != NULL && id_is_safe(last)) set_string(&src->last_folder, last);
  cJSON_Delete(doc);
  return ST_OK;
}

static const st_config_vtable_t k_config_vtable = {
    sizeof(st_config_vtable_t), 0u,
    source_plan_update,         source_apply_update,
    source_export_state,        source_import_state};

/* Called once, after every op, stream and call of the instance has ended. [control] */
static void source_destroy(void *handle) {
  folder_source_t *src = handle;
  config_free(&src->config);
  free(src->last_folder);
  free(src);
}

static const st_source_vtable_t k_source_vtable = {
    {sizeof(st_source_vtable_t), ST_CAP_SOURCE_CATALOG, &k_config_vtable, source_destroy},
    source_begin_list_items,
    source_begin_open_stream,
    source_close_stream};

/* ---- The module ------------------------------------------------------------------------------ */

/* May run on two host threads at once (plugin.h): it touches no global state. A folder missing
 * at startup is not an error here (the drive may be mounted later); listing reports it. [control] */
static st_status_t create_instance(const st_instance_args_t *args, st_instance_t *out_instance,
                                   st_str_t *out_error) {
  if (args->kind != ST_CAP_SOURCE_CATALOG || !st_sdk_str_eq(&args->type_id, TYPE_ID))
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "no capability '%.*s'",
                        (int)args->type_id.len, args->type_id.ptr != NULL ? args->type_id.ptr : "");
  folder_source_t *src = calloc(1, sizeof *src);
  if (src == NULL) return ST_ERR_INTERNAL;
  if (!config_parse(&args->config_json, &src->config, out_error)) {
    free(src);
    return ST_ERR_INVALID_ARG;
  }
  if ((src->last_folder = strdup("")) == NULL) {
    source_destroy(src);
    return ST_ERR_INTERNAL;
  }
  out_instance->handle = src;
  out_instance->vtable = &k_source_vtable.base;
  return ST_OK;
}

/* Runs once per load, inside stellatune_plugin_entry. Listing a folder needs few threads. */
static bool on_entry(const st_host_t *host) {
  (void)host;
  st_sdk_set_max_workers(4);
  return true;
}

static const st_capability_t k_folder = ST_SDK_CAPABILITY(
    ST_CAP_SOURCE_CATALOG, TYPE_ID, "Music folder (template)", k_schema, k_default_config);
static const st_capability_t *const k_caps[] = {&k_folder};

/* Defines stellatune_plugin_entry and the module table. The module's shutdown is the SDK's: it
 * cancels every op and joins every worker thread before the host unloads the library. A plugin
 * that starts threads of its own joins them in the last argument, a shutdown hook (NULL here). */
ST_SDK_PLUGIN_EX("{\"id\":\"org.example.folder-source\"," /* RENAME */
                 "\"name\":\"Folder source (template)\",\"version\":\"0.1.0\",\"abi_version\":9,"
                 "\"description\":\"Lists the audio files of a folder: the StellaTune plugin "
                 "template.\",\"author\":\"Your name\",\"homepage\":\"https://example.org\"}",
                 k_caps, create_instance, on_entry, NULL)
