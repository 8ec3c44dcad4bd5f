/*
 * wav-sink — an OutputSink that records what the user hears to WAV files.
 *
 * One target, "folder": each open creates `<folder>/stellatune-YYYYMMDD-HHMMSS.wav` (with a
 * -2, -3 … suffix rather than overwriting), or exactly the path in the target's "file" field
 * (tests and tools use it; that file is overwritten). The folder comes from the target's
 * "folder", else the config's, else `<host data_dir>/recordings`; it is created if missing.
 * Any format is accepted as is (negotiate answers EXACT), so the recording is bit-exact in f32.
 *
 * Writing.  write_f32 appends through a 256 KiB stdio buffer and, every 2 s of audio, patches
 * the header sizes (wav_writer.h), so even a recording cut by a crash opens. That is file I/O on
 * the output thread, acceptable for a recorder whose "device" is the page cache; a sink for a
 * real device (or a slow network disk) would hand frames to a lock-free ring drained by its own
 * thread and report the ring's fill as queued_frames.
 *
 * flush patches the header and syncs the file to disk; close (and destroy without close)
 * finalises it. reset has nothing to drop: frames are in the file as soon as they are accepted.
 *
 * Config: {"folder": "<path>" (empty = data_dir/recordings), "format": "f32" | "s16"}; changes
 * are hot-applied and take effect at the next open (the running recording keeps its format).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cJSON.h>

#include "st_sdk.h"
#include "wav_writer.h"

#if defined(_WIN32)
#include <direct.h>
#define ws_mkdir(path) _mkdir(path)
#else
#define ws_mkdir(path) mkdir(path, 0777)
#endif

#define WS_TYPE_ID "wav-file"
#define WS_PATH_MAX 4096

/* ---- Helpers ------------------------------------------------------------------------------- */

/* mkdir -p; returns 0 or an errno. */
static int ws_make_dirs(const char *path) {
  char buf[WS_PATH_MAX];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) {
    return ENAMETOOLONG;
  }
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] == '/' || buf[i] == '\\' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (ws_mkdir(buf) != 0 && errno != EEXIST) {
        return errno;
      }
      buf[i] = c;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0) {
    return errno;
  }
  return (st.st_mode & S_IFMT) == S_IFDIR ? 0 : ENOTDIR;
}

/* ---- Config -------------------------------------------------------------------------------- */

typedef struct ws_config {
  char folder[WS_PATH_MAX]; /* empty: data_dir/recordings */
  wav_sample_format_t format;
} ws_config_t;

static const char k_schema[] =
    "{\"type\":\"object\",\"title\":\"WAV recorder\","
    "\"description\":\"Records what you hear to WAV files, one per playback session.\","
    "\"properties\":{"
    "\"folder\":{\"type\":\"string\",\"title\":\"Folder\",\"default\":\"\","
    "\"description\":\"Where recordings are written; empty means the plugin's data folder "
    "(recordings/).\"},"
    "\"format\":{\"type\":\"string\",\"title\":\"Sample format\",\"enum\":[\"f32\",\"s16\"],"
    "\"default\":\"f32\",\"description\":\"f32: 32-bit float, bit-exact; s16: 16-bit PCM, "
    "rounded without dither.\"}},"
    "\"additionalProperties\":false}";

static const char k_default_config[] = "{\"folder\":\"\",\"format\":\"f32\"}";

static bool ws_parse_config(const st_str_t *json, ws_config_t *out, char *reason, size_t cap) {
  memset(out, 0, sizeof *out);
  out->format = WAV_F32;
  if (json == NULL || json->len == 0) {
    return true;
  }
  cJSON *doc = cJSON_ParseWithLength(json->ptr, json->len);
  bool ok = false;
  if (!cJSON_IsObject(doc)) {
    snprintf(reason, cap, "the config is not a JSON object");
    goto done;
  }
  for (const cJSON *item = doc->child; item != NULL; item = item->next) {
    if (strcmp(item->string, "folder") == 0) {
      if (!cJSON_IsString(item) || strlen(item->valuestring) >= WS_PATH_MAX) {
        snprintf(reason, cap, "folder must be a path (a string shorter than %d bytes)",
                 WS_PATH_MAX);
        goto done;
      }
      snprintf(out->folder, sizeof out->folder, "%s", item->valuestring);
    } else if (strcmp(item->string, "format") == 0) {
      if (cJSON_IsString(item) && strcmp(item->valuestring, "f32") == 0) {
        out->format = WAV_F32;
      } else if (cJSON_IsString(item) && strcmp(item->valuestring, "s16") == 0) {
        out->format = WAV_S16;
      } else {
        snprintf(reason, cap, "format must be \"f32\" or \"s16\"");
        goto done;
      }
    } else {
      snprintf(reason, cap, "unknown setting \"%s\"", item->string);
      goto done;
    }
  }
  ok = true;
done:
  cJSON_Delete(doc);
  return ok;
}

/* ---- The sink instance --------------------------------------------------------------------- */

typedef struct ws_sink {
  ws_config_t config;
  wav_writer_t writer; /* file == NULL while closed */
  char path[WS_PATH_MAX];
} ws_sink_t;

static void ws_resolve_folder(const ws_sink_t *s, char *out, size_t cap) {
  if (s->config.folder[0] != '\0') {
    snprintf(out, cap, "%s", s->config.folder);
  } else if (st_sdk_data_dir() != NULL) {
    snprintf(out, cap, "%s/recordings", st_sdk_data_dir());
  } else {
    snprintf(out, cap, "recordings");
  }
}

static st_status_t ws_list_targets_json(void *handle, st_str_t *out_json, st_str_t *out_error) {
  ws_sink_t *s = handle;
  (void)out_error;
  char folder[WS_PATH_MAX];
  ws_resolve_folder(s, folder, sizeof folder);
  char name[WS_PATH_MAX + 32];
  snprintf(name, sizeof name, "Record to %s", folder);
  cJSON *doc = cJSON_CreateObject();
  cJSON *targets = cJSON_AddArrayToObject(doc, "targets");
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "id", "folder");
  cJSON_AddStringToObject(t, "name", name);
  cJSON_AddBoolToObject(t, "default", 1);
  cJSON_AddStringToObject(t, "folder", folder);
  cJSON_AddItemToArray(targets, t);
  st_status_t st = st_sdk_str_copy_foreign(out_json, cJSON_PrintUnformatted(doc), cJSON_free);
  cJSON_Delete(doc);
  return st;
}

static bool ws_spec_ok(const st_audio_spec_t *spec) {
  return spec != NULL && spec->sample_rate > 0 && spec->channels > 0;
}

static st_status_t ws_negotiate_spec(void *handle, const st_str_t *target_json,
                                     const st_audio_spec_t *desired,
                                     st_negotiated_spec_t *out_spec, st_str_t *out_error) {
  (void)handle;
  (void)target_json;
  if (!ws_spec_ok(desired) || out_spec == NULL || out_spec->struct_size == 0) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG,
                        "wav-sink: a sample rate and channels needed");
  }
  st_negotiated_spec_t n;
  memset(&n, 0, sizeof n);
  n.struct_size = out_spec->struct_size;
  n.flags = ST_NEGOTIATE_EXACT; /* a file takes any format */
  n.spec = *desired;
  n.spec.reserved = 0;
  n.preferred_chunk_frames = 0;
  size_t size = out_spec->struct_size < sizeof n ? out_spec->struct_size : sizeof n;
  memcpy(out_spec, &n, size);
  return ST_OK;
}

static st_status_t ws_open(void *handle, const st_str_t *target_json, const st_audio_spec_t *spec,
                           st_str_t *out_error) {
  ws_sink_t *s = handle;
  if (s->writer.file != NULL) {
    return st_sdk_error(out_error, ST_ERR_STATE, "wav-sink: already open; close it first");
  }
  if (!ws_spec_ok(spec)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG,
                        "wav-sink: a sample rate and channels needed");
  }
  char file[WS_PATH_MAX] = "";
  char folder[WS_PATH_MAX] = "";
  if (target_json != NULL && target_json->len > 0) {
    cJSON *t = cJSON_ParseWithLength(target_json->ptr, target_json->len);
    if (!cJSON_IsObject(t)) {
      cJSON_Delete(t);
      return st_sdk_error(out_error, ST_ERR_INVALID_ARG,
                          "wav-sink: the target is not a JSON object");
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "file");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "folder");
    if (cJSON_IsString(f) && f->valuestring[0] != '\0') {
      snprintf(file, sizeof file, "%s", f->valuestring);
    }
    if (cJSON_IsString(d) && d->valuestring[0] != '\0') {
      snprintf(folder, sizeof folder, "%s", d->valuestring);
    }
    cJSON_Delete(t);
  }
  st_status_t st;
  char err[WS_PATH_MAX + 128];
  if (file[0] != '\0') {
    st = wav_writer_open(&s->writer, file, false, *spec, s->config.format, err, sizeof err);
    snprintf(s->path, sizeof s->path, "%s", file);
  } else {
    if (folder[0] == '\0') {
      ws_resolve_folder(s, folder, sizeof folder);
    }
    int e = ws_make_dirs(folder);
    if (e != 0) {
      return st_sdk_error(out_error, ST_ERR_IO, "wav-sink: cannot create the folder %s: %s",
                          folder, strerror(e));
    }
    time_t now = time(NULL);
    struct tm tm;
#if defined(_WIN32)
    localtime_s(&tm, &now);
#else
    localtime_r(&now, &tm);
#endif
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    st = ST_ERR_STATE;
    for (int n = 1; n < 1000 && st == ST_ERR_STATE; n++) {
      if (n == 1) {
        snprintf(s->path, sizeof s->path, "%s/stellatune-%s.wav", folder, stamp);
      } else {
        snprintf(s->path, sizeof s->path, "%s/stellatune-%s-%d.wav", folder, stamp, n);
      }
      /* Exclusive create: ST_ERR_STATE means the name is taken, try the next one. */
      st = wav_writer_open(&s->writer, s->path, true, *spec, s->config.format, err, sizeof err);
    }
  }
  if (st != ST_OK) {
    s->path[0] = '\0';
    return st_sdk_error(out_error, st == ST_ERR_STATE ? ST_ERR_IO : st, "wav-sink: %s", err);
  }
  st_sdk_log(ST_LOG_INFO, "wav-sink: recording %u Hz, %u channels, %s to %s", spec->sample_rate,
             spec->channels, s->config.format == WAV_F32 ? "f32" : "s16", s->path);
  return ST_OK;
}

static st_status_t ws_write_f32(void *handle, const float *samples, uint32_t frames,
                                uint32_t *out_accepted) {
  ws_sink_t *s = handle;
  if (out_accepted != NULL) {
    *out_accepted = 0;
  }
  if (s->writer.file == NULL) {
    return ST_ERR_STATE;
  }
  if (frames == 0) {
    return ST_OK;
  }
  if (samples == NULL || out_accepted == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  st_status_t st = wav_writer_write(&s->writer, samples, frames);
  if (st == ST_OK) {
    *out_accepted = frames;
  }
  return st;
}

static st_status_t ws_query_status(void *handle, st_output_status_t *out_status) {
  const ws_sink_t *s = handle;
  if (out_status == NULL || out_status->struct_size == 0) {
    return ST_ERR_INVALID_ARG;
  }
  st_output_status_t v;
  memset(&v, 0, sizeof v);
  v.struct_size = out_status->struct_size;
  v.running = s->writer.file != NULL ? 1u : 0u;
  v.frames_written = s->writer.frames;
  v.frames_played = s->writer.frames; /* a file "plays" what it stores */
  v.queued_frames = 0;
  size_t size = out_status->struct_size < sizeof v ? out_status->struct_size : sizeof v;
  memcpy(out_status, &v, size);
  return ST_OK;
}

static st_status_t ws_flush(void *handle) {
  ws_sink_t *s = handle;
  if (s->writer.file == NULL) {
    return ST_OK;
  }
  return wav_writer_sync(&s->writer, true);
}

static st_status_t ws_reset(void *handle) {
  (void)handle;
  return ST_OK; /* nothing is queued: accepted frames are already in the file */
}

static st_status_t ws_close(void *handle) {
  ws_sink_t *s = handle;
  st_status_t st = wav_writer_close(&s->writer);
  s->path[0] = '\0';
  return st;
}

/* ---- Config vtable ------------------------------------------------------------------------- */

static st_status_t ws_plan_update(void *handle, const st_str_t *new_config,
                                  st_config_mode_t *out_mode, st_str_t *out_reason) {
  (void)handle;
  if (out_mode == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  ws_config_t cfg;
  char reason[256];
  if (!ws_parse_config(new_config, &cfg, reason, sizeof reason)) {
    *out_mode = ST_CONFIG_REJECT;
    st_sdk_set_error(out_reason, "%s", reason);
    return ST_OK;
  }
  *out_mode = ST_CONFIG_HOT_APPLY;
  st_sdk_set_error(out_reason, "applies to the next recording");
  return ST_OK;
}

static st_status_t ws_apply_update(void *handle, const st_str_t *new_config,
                                   st_str_t *out_error) {
  ws_sink_t *s = handle;
  ws_config_t cfg;
  char reason[256];
  if (!ws_parse_config(new_config, &cfg, reason, sizeof reason)) {
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "%s", reason);
  }
  s->config = cfg; /* the open file keeps its format; the next open uses this */
  return ST_OK;
}

/* The config is all there is to keep: no state to export. */
static const st_config_vtable_t g_config_vtable =
    ST_SDK_CONFIG_VTABLE(ws_plan_update, ws_apply_update);

static void ws_destroy(void *handle) {
  ws_sink_t *s = handle;
  if (s != NULL) {
    wav_writer_close(&s->writer); /* destroy without close still leaves a valid file */
    free(s);
  }
}

static const st_output_vtable_t g_output_vtable = {
    .base = {sizeof(st_output_vtable_t), ST_CAP_OUTPUT_SINK, &g_config_vtable, ws_destroy},
    .list_targets_json = ws_list_targets_json,
    .negotiate_spec = ws_negotiate_spec,
    .open = ws_open,
    .write_f32 = ws_write_f32,
    .query_status = ws_query_status,
    .flush = ws_flush,
    .reset = ws_reset,
    .close = ws_close,
};

/* ---- Module -------------------------------------------------------------------------------- */

static const st_capability_t g_sink_cap =
    ST_SDK_CAPABILITY(ST_CAP_OUTPUT_SINK, WS_TYPE_ID, "WAV recorder", k_schema, k_default_config);

static const st_capability_t *const g_caps[] = {&g_sink_cap};

static st_status_t ws_create_instance(const st_instance_args_t *args, st_instance_t *out_instance,
                                      st_str_t *out_error) {
  if (args == NULL || out_instance == NULL) {
    return ST_ERR_INVALID_ARG;
  }
  if (args->kind != ST_CAP_OUTPUT_SINK || !st_sdk_str_eq(&args->type_id, WS_TYPE_ID)) {
    return st_sdk_error(out_error, ST_ERR_UNSUPPORTED, "wav-sink: unknown capability");
  }
  ws_sink_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return ST_ERR_INTERNAL;
  }
  char reason[256];
  if (!ws_parse_config(&args->config_json, &s->config, reason, sizeof reason)) {
    free(s);
    return st_sdk_error(out_error, ST_ERR_INVALID_ARG, "wav-sink: %s", reason);
  }
  out_instance->handle = s;
  out_instance->vtable = &g_output_vtable.base;
  return ST_OK;
}

/* No threads, no global resources: the SDK's shutdown has nothing to join. */
ST_SDK_PLUGIN("{\"id\":\"dev.stellatune.wav-sink\",\"name\":\"WAV recorder\","
              "\"version\":\"1.0.0\",\"abi_version\":9,"
              "\"description\":\"Records what you hear to WAV files (float or 16-bit)\","
              "\"author\":\"StellaTune\"}",
              g_caps, ws_create_instance)
