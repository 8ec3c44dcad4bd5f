/* test_fixture.c — loads st-fixture, the bad fixtures and lrc-sidecar with dlopen, as the
 * host does, and runs every capability through its vtable (async ops via wait()).
 * Usage: test_fixture <fixture plugin dir> <built-in plugin dir> */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stellatune.h"
#include "test_util.h"

static const char *g_fixture_dir;
static const char *g_plugin_dir;
static char g_data_dir[256];

/* ---- A minimal host --------------------------------------------------------------------------- */

static atomic_int g_log_lines;

static void host_log(void *host_data, st_log_level_t level, const char *message, size_t len) {
  (void)host_data;
  (void)level;
  (void)message;
  (void)len;
  atomic_fetch_add(&g_log_lines, 1);
}

static st_host_t g_host = {ST_PLUGIN_API_VERSION, sizeof(st_host_t), NULL, host_log, g_data_dir};

typedef struct plugin {
  void *lib;
  const st_module_t *module;
} plugin_t;

static bool load(const char *path, plugin_t *out) {
  out->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (out->lib == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    return false;
  }
  st_plugin_entry_fn entry = (st_plugin_entry_fn)dlsym(out->lib, ST_PLUGIN_ENTRY_SYMBOL);
  out->module = entry != NULL ? entry(&g_host) : NULL;
  return out->module != NULL;
}

static void unload(plugin_t *p) {
  if (p->module != NULL && p->module->shutdown != NULL) p->module->shutdown();
  dlclose(p->lib);
  p->lib = NULL;
  p->module = NULL;
}

static char *path_in(const char *dir, const char *name) {
  char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, name) < 0) abort();
  return path;
}

static st_str_t S(const char *text) {
  st_str_t s = {text, text != NULL ? strlen(text) : 0};
  return s;
}

static bool create(const plugin_t *p, st_capability_kind_t kind, const char *type_id,
                   const char *config, st_audio_spec_t spec, st_instance_t *out) {
  st_instance_args_t args = {sizeof args, kind, S(type_id), S(config), spec};
  st_str_t error = {NULL, 0};
  st_status_t status = p->module->create_instance(&args, out, &error);
  if (status != ST_OK) fprintf(stderr, "create %s: %d %.*s\n", type_id, status, (int)error.len, error.ptr);
  p->module->free_mem((void *)error.ptr);
  return status == ST_OK;
}

static void destroy(st_instance_t *inst) { inst->vtable->destroy(inst->handle); }

/* Waits for a JSON op, takes and destroys it; returns the status and, in *out, the parsed JSON
 * (NULL if there was none or it did not parse) and in *raw_len the byte count. */
static st_status_t finish_json(const plugin_t *p, st_async_op_t op, cJSON **out, size_t *raw_len) {
  *out = NULL;
  CHECK(op.vtable->wait(op.handle, 10000) != ST_OP_PENDING);
  st_str_t json = {NULL, 0};
  st_status_t status = op.vtable->take_json(op.handle, &json);
  op.vtable->destroy(op.handle);
  if (json.ptr != NULL) *out = cJSON_ParseWithLength(json.ptr, json.len);
  if (raw_len != NULL) *raw_len = json.len;
  p->module->free_mem((void *)json.ptr);
  return status;
}

typedef st_status_t (*begin_fn)(void *handle, const st_str_t *json, st_async_op_t *out_op);

static st_status_t run_json(const plugin_t *p, begin_fn begin, void *handle, const char *request,
                            cJSON **out) {
  st_async_op_t op;
  st_str_t req = S(request);
  st_status_t status = begin(handle, &req, &op);
  CHECK_EQ_INT(status, ST_OK);
  if (status != ST_OK) return status;
  return finish_json(p, op, out, NULL);
}

static int array_size(const cJSON *doc, const char *name) {
  return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, name));
}

static const char *str_at(const cJSON *obj, const char *name) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(item) ? item->valuestring : "";
}

static double num_at(const cJSON *obj, const char *name) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

typedef size_t (*counters_fn)(char *buf, size_t cap);

static cJSON *counters(const plugin_t *p) {
  counters_fn fn = (counters_fn)dlsym(p->lib, "fixture_counters");
  if (fn == NULL) return cJSON_CreateObject();
  char buf[1024];
  size_t n = fn(buf, sizeof buf);
  CHECK(n > 0 && n < sizeof buf);
  return cJSON_Parse(buf);
}

static double counter(const plugin_t *p, const char *name) {
  cJSON *c = counters(p);
  double v = num_at(c, name);
  cJSON_Delete(c);
  return v;
}

static bool wait_counter(const plugin_t *p, const char *name, double want, double ms) {
  double end = st_now_ms() + ms;
  while (counter(p, name) != want && st_now_ms() < end) st_sleep_ms(2);
  return counter(p, name) == want;
}

/* ---- A memory stream (the host's io for local files, in miniature) -------------------------- */

typedef struct mem_stream {
  const uint8_t *data;
  size_t size;
  uint64_t pos;
} mem_stream_t;

static st_status_t mem_read(void *h, void *buf, size_t len, size_t *out_read) {
  mem_stream_t *m = h;
  size_t n = m->pos >= m->size ? 0 : m->size - (size_t)m->pos;
  if (n > len) n = len;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  *out_read = n;
  return ST_OK;
}

static st_status_t mem_seek(void *h, int64_t off, st_seek_whence_t whence, uint64_t *out_pos) {
  mem_stream_t *m = h;
  int64_t base = whence == ST_SEEK_SET ? 0 : whence == ST_SEEK_CUR ? (int64_t)m->pos : (int64_t)m->size;
  if (base + off < 0) return ST_ERR_INVALID_ARG;
  m->pos = (uint64_t)(base + off);
  *out_pos = m->pos;
  return ST_OK;
}

static st_status_t mem_tell(void *h, uint64_t *out_pos) {
  *out_pos = ((mem_stream_t *)h)->pos;
  return ST_OK;
}

static st_status_t mem_size(void *h, uint64_t *out_size) {
  *out_size = ((mem_stream_t *)h)->size;
  return ST_OK;
}

static const st_io_vtable_t k_mem_io = {sizeof(st_io_vtable_t), 0, mem_read, mem_seek, mem_tell,
                                        mem_size};

/* ---- Notifier ------------------------------------------------------------------------------- */

static atomic_int g_notified;
static void on_notify(void *ud) {
  (void)ud;
  atomic_fetch_add(&g_notified, 1);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static plugin_t g_fx;
static const st_audio_spec_t k_no_spec = {0, 0, 0};

static void test_module_table(void) {
  const st_module_t *m = g_fx.module;
  CHECK_EQ_INT(m->abi_version, ST_PLUGIN_API_VERSION);
  CHECK_EQ_INT(m->struct_size, sizeof(st_module_t));
  cJSON *meta = cJSON_Parse(m->metadata_json);
  CHECK(meta != NULL);
  CHECK(strcmp(str_at(meta, "id"), "dev.stellatune.fixture") == 0);
  CHECK(num_at(meta, "abi_version") == 9 && str_at(meta, "name")[0] && str_at(meta, "version")[0]);
  cJSON_Delete(meta);
  CHECK_EQ_INT(m->capability_count, 5);
  unsigned kinds = 0;
  for (uint32_t i = 0; i < m->capability_count; i++) {
    const st_capability_t *c = m->capabilities[i];
    kinds |= 1u << c->kind;
    cJSON *schema = cJSON_Parse(c->config_schema_json);
    cJSON *defaults = cJSON_Parse(c->default_config_json);
    CHECK(cJSON_IsObject(schema) && cJSON_IsObject(defaults));
    cJSON_Delete(schema);
    cJSON_Delete(defaults);
    if (c->kind == ST_CAP_DECODER) {
      CHECK(c->decoder_ext_count == 1 && strcmp(c->decoder_exts[0].ext, "wav") == 0 &&
            c->decoder_exts[0].score == 10);
    } else {
      CHECK(c->decoder_exts == NULL && c->decoder_ext_count == 0);
    }
  }
  CHECK_EQ_INT(kinds, 0x3e); /* kinds 1..5 */
  CHECK(counter(&g_fx, "generation") >= 1);

  st_instance_t inst;
  st_instance_args_t args = {sizeof args, ST_CAP_DSP, S("fixture-source"), S("{}"), k_no_spec};
  st_str_t error = {NULL, 0};
  CHECK_EQ_INT(m->create_instance(&args, &inst, &error), ST_ERR_INVALID_ARG); /* kind mismatch */
  m->free_mem((void *)error.ptr);
  args.kind = ST_CAP_SOURCE_CATALOG;
  args.config_json = S("{\"fail_create\":\"asked to fail\"}");
  error.ptr = NULL;
  CHECK_EQ_INT(m->create_instance(&args, &inst, &error), ST_ERR_INVALID_ARG);
  CHECK(error.len == 13 && memcmp(error.ptr, "asked to fail", 13) == 0);
  m->free_mem((void *)error.ptr);
}

static void test_source_listing(void) {
  st_instance_t inst;
  if (!create(&g_fx, ST_CAP_SOURCE_CATALOG, "fixture-source", "{}", k_no_spec, &inst)) return;
  const st_source_vtable_t *vt = (const st_source_vtable_t *)inst.vtable;
  CHECK_EQ_INT(vt->base.kind, ST_CAP_SOURCE_CATALOG);
  cJSON *doc;
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle, "{\"action\":\"browse\"}", &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "items"), 4);
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "items"), 0);
  CHECK(strcmp(str_at(first, "kind"), "folder") == 0);
  const cJSON *tone = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "items"), 1);
  CHECK(strcmp(str_at(tone, "id"), "tone-440") == 0 && strcmp(str_at(tone, "kind"), "track") == 0 &&
        num_at(tone, "duration_ms") == 10000 && str_at(tone, "artist")[0] && str_at(tone, "album")[0]);
  cJSON_Delete(doc);

  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle,
                        "{\"action\":\"browse\",\"id\":\"folder-more\"}", &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "items"), 3);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle,
                        "{\"action\":\"search\",\"query\":\"880\"}", &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "items"), 1);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle,
                        "{\"action\":\"search\",\"query\":\"TONE\",\"offset\":2,\"limit\":3}", &doc),
               ST_OK);
  CHECK_EQ_INT(array_size(doc, "items"), 3);
  CHECK(num_at(doc, "total") == 6 && num_at(doc, "next_offset") == 5);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle,
                        "{\"action\":\"browse\",\"id\":\"nope\"}", &doc), ST_ERR_NOT_FOUND);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_list_items, inst.handle, "not json", &doc),
               ST_ERR_INVALID_ARG);
  cJSON_Delete(doc);
  destroy(&inst);
}

/* Counts rising zero crossings of channel 0. */
static double tone_hz(const float *pcm, uint64_t frames, uint32_t channels, uint32_t rate) {
  uint64_t rises = 0;
  for (uint64_t i = 1; i < frames; i++)
    if (pcm[(i - 1) * channels] < 0 && pcm[i * channels] >= 0) rises++;
  return (double)rises * rate / (double)frames;
}

static void test_stream_and_decoder(void) {
  st_instance_t src, dec;
  if (!create(&g_fx, ST_CAP_SOURCE_CATALOG, "fixture-source", "{}", k_no_spec, &src)) return;
  if (!create(&g_fx, ST_CAP_DECODER, "fixture-decoder", "{}", k_no_spec, &dec)) return;
  const st_source_vtable_t *svt = (const st_source_vtable_t *)src.vtable;
  const st_decoder_vtable_t *dvt = (const st_decoder_vtable_t *)dec.vtable;

  st_async_op_t op;
  st_str_t track = S("{\"id\":\"tone-880\",\"kind\":\"track\",\"title\":\"A5\",\"duration_ms\":500}");
  CHECK_EQ_INT(svt->begin_open_stream(src.handle, &track, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->kind, ST_OP_KIND_STREAM);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 10000), ST_OP_READY);
  st_stream_t stream = {NULL, NULL};
  st_str_t meta = {NULL, 0};
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &stream, &meta), ST_OK);
  op.vtable->destroy(op.handle);
  cJSON *m = cJSON_ParseWithLength(meta.ptr, meta.len);
  CHECK(strcmp(str_at(m, "ext"), "wav") == 0 && strcmp(str_at(m, "mime"), "audio/wav") == 0 &&
        strcmp(str_at(m, "title"), "A5") == 0);
  cJSON_Delete(m);
  g_fx.module->free_mem((void *)meta.ptr);
  CHECK_EQ_INT(counter(&g_fx, "live_streams"), 1);
  uint64_t size = 0;
  CHECK(stream.io->size(stream.handle, &size) == ST_OK && size == 44 + 22050 * 4);

  st_decoder_open_args_t args = {sizeof args, 0, S(""), S("wav"), stream};
  st_str_t error = {NULL, 0};
  CHECK_EQ_INT(dvt->open(dec.handle, &args, &error), ST_OK);
  st_decoder_info_t info = {sizeof info, 0, {0, 0, 0}, 0, 0, 0};
  CHECK_EQ_INT(dvt->get_info(dec.handle, &info), ST_OK);
  CHECK(info.spec.sample_rate == 44100 && info.spec.channels == 2 && info.duration_frames == 22050);
  CHECK(info.flags == (ST_DECODER_SEEKABLE | ST_DECODER_HAS_DURATION | ST_DECODER_LOSSLESS));
  st_str_t md = {NULL, 0};
  CHECK_EQ_INT(dvt->get_metadata_json(dec.handle, &md), ST_OK);
  cJSON *mdj = cJSON_ParseWithLength(md.ptr, md.len);
  CHECK(strcmp(str_at(mdj, "codec"), "pcm_s16le") == 0 && num_at(mdj, "bits_per_sample") == 16);
  cJSON_Delete(mdj);
  g_fx.module->free_mem((void *)md.ptr);

  float *pcm = calloc(22050 * 2, sizeof(float));
  uint64_t total = 0;
  for (;;) {
    uint32_t got = 0;
    CHECK_EQ_INT(dvt->read_f32(dec.handle, pcm + total * 2, 1000, &got), ST_OK);
    if (got == 0) break;
    total += got;
  }
  CHECK_EQ_INT(total, 22050);
  double hz = tone_hz(pcm, total, 2, 44100);
  CHECK(fabs(hz - 880) < 5);
  float peak = 0;
  for (uint64_t i = 0; i < total * 2; i++) peak = fmaxf(peak, fabsf(pcm[i]));
  CHECK(peak > 0.45f && peak < 0.55f);

  uint64_t at = 0;
  CHECK_EQ_INT(dvt->seek_ms(dec.handle, 250, &at), ST_OK);
  CHECK_EQ_INT(at, 11025);
  uint32_t got = 0;
  CHECK_EQ_INT(dvt->read_f32(dec.handle, pcm, 22050, &got), ST_OK);
  CHECK_EQ_INT(got, 11025);
  free(pcm);
  destroy(&dec);
  svt->close_stream(src.handle, stream.handle);
  CHECK_EQ_INT(counter(&g_fx, "live_streams"), 0);

  /* A stream op destroyed READY without take_stream: the plugin closes the stream itself. */
  CHECK_EQ_INT(svt->begin_open_stream(src.handle, &track, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 10000), ST_OP_READY);
  CHECK_EQ_INT(counter(&g_fx, "live_streams"), 1);
  op.vtable->destroy(op.handle);
  CHECK_EQ_INT(counter(&g_fx, "live_streams"), 0);

  /* A missing track fails NOT_FOUND; malformed metadata comes with a real stream. */
  st_str_t missing = S("{\"id\":\"missing\"}");
  CHECK_EQ_INT(svt->begin_open_stream(src.handle, &missing, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 10000), ST_OP_FAILED);
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &stream, &meta), ST_ERR_NOT_FOUND);
  g_fx.module->free_mem((void *)meta.ptr);
  op.vtable->destroy(op.handle);
  st_str_t bad_meta = S("{\"id\":\"tone-440\",\"fixture\":{\"mode\":\"malformed\"}}");
  CHECK_EQ_INT(svt->begin_open_stream(src.handle, &bad_meta, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 10000), ST_OP_READY);
  CHECK_EQ_INT(op.vtable->take_stream(op.handle, &stream, &meta), ST_OK);
  m = cJSON_ParseWithLength(meta.ptr, meta.len);
  CHECK(m == NULL);
  g_fx.module->free_mem((void *)meta.ptr);
  op.vtable->destroy(op.handle);
  svt->close_stream(src.handle, stream.handle);
  destroy(&src);

  /* Garbage and a truncated header are ST_ERR_DECODE, through the host's own io. */
  if (!create(&g_fx, ST_CAP_DECODER, "fixture-decoder", "{}", k_no_spec, &dec)) return;
  static const uint8_t junk[] = "this is not a wave file at all, not even close";
  mem_stream_t ms = {junk, sizeof junk, 0};
  args.stream.handle = &ms;
  args.stream.io = &k_mem_io;
  CHECK_EQ_INT(dvt->open(dec.handle, &args, &error), ST_ERR_DECODE);
  CHECK(error.len > 0);
  g_fx.module->free_mem((void *)error.ptr);
  error.ptr = NULL;
  static const uint8_t truncated[] = "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0";
  ms = (mem_stream_t){truncated, sizeof truncated - 1, 0};
  CHECK_EQ_INT(dvt->open(dec.handle, &args, &error), ST_ERR_DECODE);
  g_fx.module->free_mem((void *)error.ptr);
  CHECK_EQ_INT(dvt->get_info(dec.handle, &info), ST_ERR_STATE);

  /* A float WAV through the memory stream. */
  enum { FRAMES = 100 };
  uint8_t wav[44 + FRAMES * 8];
  memcpy(wav, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x03\0\x02\0\x80\xbb\0\0\0\0\0\0\x08\0\x20\0data", 40);
  uint32_t data_bytes = FRAMES * 8;
  memcpy(wav + 40, &data_bytes, 4);
  for (int i = 0; i < FRAMES * 2; i++) {
    float v = (float)i / (FRAMES * 2);
    memcpy(wav + 44 + 4 * i, &v, 4);
  }
  ms = (mem_stream_t){wav, sizeof wav, 0};
  error.ptr = NULL;
  CHECK_EQ_INT(dvt->open(dec.handle, &args, &error), ST_OK);
  CHECK_EQ_INT(dvt->get_info(dec.handle, &info), ST_OK);
  CHECK(info.spec.sample_rate == 48000 && info.duration_frames == FRAMES);
  float out[FRAMES * 2];
  CHECK_EQ_INT(dvt->read_f32(dec.handle, out, FRAMES, &got), ST_OK);
  CHECK(got == FRAMES && out[7] == 7.0f / (FRAMES * 2));
  destroy(&dec);
}

static void test_lyrics(void) {
  st_instance_t inst;
  if (!create(&g_fx, ST_CAP_LYRICS_PROVIDER, "fixture-lyrics", "{}", k_no_spec, &inst)) return;
  const st_lyrics_vtable_t *vt = (const st_lyrics_vtable_t *)inst.vtable;
  cJSON *doc;
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_search, inst.handle,
                        "{\"title\":\"Song\",\"artist\":\"Me\"}", &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "candidates"), 2);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_fetch, inst.handle,
                        "{\"id\":\"fixture-lyrics-1\",\"title\":\"Song\"}", &doc), ST_OK);
  const char *lrc = str_at(doc, "synced_lrc");
  CHECK(strncmp(lrc, "[00:00.00]Line 1 of Song\n[00:02.00]Line 2", 41) == 0);
  CHECK(strncmp(str_at(doc, "plain"), "Line 1 of Song\n", 15) == 0);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(doc, "instrumental")));
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&g_fx, vt->begin_fetch, inst.handle, "{\"id\":\"missing\"}", &doc),
               ST_ERR_NOT_FOUND);
  cJSON_Delete(doc);
  destroy(&inst);
}

static void test_op_modes(void) {
  st_instance_t inst;
  if (!create(&g_fx, ST_CAP_LYRICS_PROVIDER, "fixture-lyrics", "{\"delay_ms\":50}", k_no_spec, &inst))
    return;
  const st_lyrics_vtable_t *vt = (const st_lyrics_vtable_t *)inst.vtable;
  cJSON *doc;
  size_t len = 0;
  st_async_op_t op;

  /* fail, with the request's code and message */
  st_str_t req = S("{\"fixture\":{\"mode\":\"fail\",\"code\":10,\"message\":\"server down\"}}");
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_FAILED);
  st_str_t msg = {NULL, 0};
  CHECK_EQ_INT(op.vtable->take_json(op.handle, &msg), ST_ERR_NETWORK);
  CHECK(msg.len == 11 && memcmp(msg.ptr, "server down", 11) == 0);
  g_fx.module->free_mem((void *)msg.ptr);
  op.vtable->destroy(op.handle);

  /* malformed: READY with text that does not parse */
  req = S("{\"fixture\":{\"mode\":\"malformed\"}}");
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, &len), ST_OK);
  CHECK(doc == NULL && len > 0);

  /* huge: valid JSON of exactly huge_bytes (and 8 MiB by default) */
  req = S("{\"fixture\":{\"mode\":\"huge\",\"huge_bytes\":1000000}}");
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, &len), ST_OK);
  CHECK(doc != NULL && len == 1000000);
  cJSON_Delete(doc);
  req = S("{\"fixture\":{\"mode\":\"huge\"}}");
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, &len), ST_OK);
  CHECK(doc != NULL && len == 8u << 20);
  cJSON_Delete(doc);

  /* delay (from the config): notified once, from the worker, after ~50 ms */
  req = S("{\"fixture\":{\"mode\":\"delay\"}}");
  atomic_store(&g_notified, 0);
  double t0 = st_now_ms();
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  op.vtable->set_notifier(op.handle, on_notify, NULL);
  CHECK_EQ_INT(op.vtable->poll(op.handle), ST_OP_PENDING);
  while (atomic_load(&g_notified) == 0 && st_now_ms() - t0 < 5000) st_sleep_ms(1);
  CHECK(st_now_ms() - t0 >= 45);
  CHECK_EQ_INT(op.vtable->poll(op.handle), ST_OP_READY);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, NULL), ST_OK);
  cJSON_Delete(doc);
  CHECK_EQ_INT(atomic_load(&g_notified), 1);

  /* no_notify: completes after delay_ms, never notifies */
  req = S("{\"fixture\":{\"mode\":\"no_notify\",\"delay_ms\":30}}");
  atomic_store(&g_notified, 0);
  CHECK_EQ_INT(vt->begin_search(inst.handle, &req, &op), ST_OK);
  op.vtable->set_notifier(op.handle, on_notify, NULL);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  st_sleep_ms(20);
  CHECK_EQ_INT(atomic_load(&g_notified), 0);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, NULL), ST_OK);
  cJSON_Delete(doc);

  /* hang: until cancelled; cancel is immediate and the worker lets go promptly */
  double cancels = counter(&g_fx, "cancels_seen");
  req = S("{\"fixture\":{\"mode\":\"hang\"}}");
  CHECK_EQ_INT(vt->begin_fetch(inst.handle, &req, &op), ST_OK);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 100), ST_OP_PENDING);
  t0 = st_now_ms();
  op.vtable->cancel(op.handle);
  CHECK_EQ_INT(op.vtable->poll(op.handle), ST_OP_CANCELLED);
  CHECK_EQ_INT(counter(&g_fx, "cancels_seen"), cancels + 1);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, NULL), ST_ERR_CANCELLED);
  CHECK(wait_counter(&g_fx, "live_ops", 0, 100));
  CHECK(st_now_ms() - t0 < 100);

  /* ignore_cancel: cancel leaves it PENDING; it completes READY after delay_ms */
  req = S("{\"fixture\":{\"mode\":\"ignore_cancel\",\"delay_ms\":150}}");
  CHECK_EQ_INT(vt->begin_fetch(inst.handle, &req, &op), ST_OK);
  t0 = st_now_ms();
  op.vtable->cancel(op.handle);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 50), ST_OP_PENDING);
  CHECK_EQ_INT(op.vtable->wait(op.handle, 5000), ST_OP_READY);
  CHECK(st_now_ms() - t0 >= 140);
  CHECK_EQ_INT(finish_json(&g_fx, op, &doc, NULL), ST_OK);
  cJSON_Delete(doc);

  /* destroy while PENDING: returns at once, counted, freed when the worker is done */
  double destroyed = counter(&g_fx, "ops_destroyed_pending");
  req = S("{\"fixture\":{\"mode\":\"ignore_cancel\",\"delay_ms\":100}}");
  CHECK_EQ_INT(vt->begin_fetch(inst.handle, &req, &op), ST_OK);
  t0 = st_now_ms();
  op.vtable->destroy(op.handle);
  CHECK(st_now_ms() - t0 < 10);
  CHECK_EQ_INT(counter(&g_fx, "ops_destroyed_pending"), destroyed + 1);
  CHECK_EQ_INT(counter(&g_fx, "live_ops"), 1);
  CHECK(wait_counter(&g_fx, "live_ops", 0, 2000));
  destroy(&inst);
}

static void test_config(void) {
  static const struct {
    st_capability_kind_t kind;
    const char *type_id;
  } caps[] = {{ST_CAP_SOURCE_CATALOG, "fixture-source"},
              {ST_CAP_LYRICS_PROVIDER, "fixture-lyrics"},
              {ST_CAP_DECODER, "fixture-decoder"},
              {ST_CAP_DSP, "fixture-gain"},
              {ST_CAP_OUTPUT_SINK, "fixture-null"}};
  const st_audio_spec_t spec = {48000, 2, 0};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    st_instance_t inst;
    if (!create(&g_fx, caps[i].kind, caps[i].type_id, "", spec, &inst)) continue;
    const st_config_vtable_t *cfg = inst.vtable->config;
    CHECK(cfg != NULL && cfg->struct_size == sizeof(st_config_vtable_t));
    st_config_mode_t mode = 0;
    st_str_t reason = {NULL, 0};
    st_str_t c = S("{}");
    CHECK_EQ_INT(cfg->plan_update(inst.handle, &c, &mode, &reason), ST_OK);
    CHECK_EQ_INT(mode, ST_CONFIG_HOT_APPLY);
    g_fx.module->free_mem((void *)reason.ptr);
    reason.ptr = NULL;
    c = S("{\"recreate\":true}");
    CHECK_EQ_INT(cfg->plan_update(inst.handle, &c, &mode, &reason), ST_OK);
    CHECK_EQ_INT(mode, ST_CONFIG_RECREATE);
    g_fx.module->free_mem((void *)reason.ptr);
    reason.ptr = NULL;
    c = S("{\"reject\":\"not today\"}");
    CHECK_EQ_INT(cfg->plan_update(inst.handle, &c, &mode, &reason), ST_OK);
    CHECK(mode == ST_CONFIG_REJECT && reason.len == 9 && memcmp(reason.ptr, "not today", 9) == 0);
    g_fx.module->free_mem((void *)reason.ptr);
    reason.ptr = NULL;
    c = S("{oops");
    CHECK_EQ_INT(cfg->plan_update(inst.handle, &c, &mode, &reason), ST_ERR_INVALID_ARG);
    g_fx.module->free_mem((void *)reason.ptr);

    st_str_t state = {NULL, 0}, error = {NULL, 0};
    CHECK_EQ_INT(cfg->export_state(inst.handle, &state, &error), ST_OK);
    CHECK(state.len == 13 && memcmp(state.ptr, "{\"counter\":0}", 13) == 0);
    g_fx.module->free_mem((void *)state.ptr);
    st_str_t imported = S("{\"counter\":42,\"from_the_future\":true}");
    CHECK_EQ_INT(cfg->import_state(inst.handle, &imported, &error), ST_OK);
    CHECK_EQ_INT(cfg->export_state(inst.handle, &state, &error), ST_OK);
    CHECK(state.len == 14 && memcmp(state.ptr, "{\"counter\":42}", 14) == 0);
    g_fx.module->free_mem((void *)state.ptr);
    c = S("{}");
    CHECK_EQ_INT(cfg->apply_update(inst.handle, &c, &error), ST_OK);
    destroy(&inst);
  }

  /* The counter counts requests served. */
  st_instance_t src;
  if (!create(&g_fx, ST_CAP_SOURCE_CATALOG, "fixture-source", "{}", k_no_spec, &src)) return;
  cJSON *doc;
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(run_json(&g_fx, ((const st_source_vtable_t *)src.vtable)->begin_list_items,
                          src.handle, "{}", &doc), ST_OK);
    cJSON_Delete(doc);
  }
  st_str_t state = {NULL, 0};
  CHECK_EQ_INT(src.vtable->config->export_state(src.handle, &state, NULL), ST_OK);
  CHECK(state.len == 13 && memcmp(state.ptr, "{\"counter\":3}", 13) == 0);
  g_fx.module->free_mem((void *)state.ptr);
  /* Hot-applied knobs steer later requests. */
  st_str_t fail = S("{\"mode\":\"fail\",\"code\":12}");
  CHECK_EQ_INT(src.vtable->config->apply_update(src.handle, &fail, NULL), ST_OK);
  CHECK_EQ_INT(run_json(&g_fx, ((const st_source_vtable_t *)src.vtable)->begin_list_items,
                        src.handle, "{}", &doc), ST_ERR_AUTH);
  cJSON_Delete(doc);
  destroy(&src);
}

static void test_dsp_and_output(void) {
  const st_audio_spec_t spec = {48000, 2, 0};
  st_instance_t dsp;
  if (!create(&g_fx, ST_CAP_DSP, "fixture-gain", "{\"gain_db\":-6.0206}", spec, &dsp)) return;
  const st_dsp_vtable_t *dvt = (const st_dsp_vtable_t *)dsp.vtable;
  float buf[512 * 2];
  for (int i = 0; i < 1024; i++) buf[i] = 1.0f;
  dvt->process_f32(dsp.handle, buf, 512);
  CHECK(fabsf(buf[0] - 0.5f) < 1e-3f && fabsf(buf[1023] - 0.5f) < 1e-3f);
  st_str_t unity = S("{\"gain_db\":0}");
  CHECK_EQ_INT(dsp.vtable->config->apply_update(dsp.handle, &unity, NULL), ST_OK);
  for (int i = 0; i < 1024; i++) buf[i] = 1.0f;
  dvt->process_f32(dsp.handle, buf, 512);
  CHECK(buf[0] > 0.49f && buf[0] < 0.52f); /* ramps, no jump */
  CHECK(buf[2 * 100] > buf[0] && buf[2 * 100] < 1.0f);
  CHECK(fabsf(buf[1023] - 1.0f) < 1e-6f);
  CHECK_EQ_INT(dvt->latency_frames(dsp.handle), 0);
  st_str_t loud = S("{\"gain_db\":99}");
  st_str_t error = {NULL, 0};
  CHECK_EQ_INT(dsp.vtable->config->apply_update(dsp.handle, &loud, &error), ST_ERR_INVALID_ARG);
  g_fx.module->free_mem((void *)error.ptr);
  destroy(&dsp);
  st_instance_t none;
  CHECK(!create(&g_fx, ST_CAP_DSP, "fixture-gain", "{}", k_no_spec, &none)); /* needs a spec */

  st_instance_t out;
  if (!create(&g_fx, ST_CAP_OUTPUT_SINK, "fixture-null", "{}", k_no_spec, &out)) return;
  const st_output_vtable_t *ovt = (const st_output_vtable_t *)out.vtable;
  st_str_t targets = {NULL, 0};
  CHECK_EQ_INT(ovt->list_targets_json(out.handle, &targets, NULL), ST_OK);
  cJSON *t = cJSON_ParseWithLength(targets.ptr, targets.len);
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "targets"), 0);
  CHECK(strcmp(str_at(first, "id"), "null") == 0 && cJSON_IsTrue(cJSON_GetObjectItem(first, "default")));
  cJSON_Delete(t);
  g_fx.module->free_mem((void *)targets.ptr);
  st_str_t target = S("{\"id\":\"null\",\"name\":\"Null\",\"default\":true}");
  st_negotiated_spec_t neg = {sizeof neg, 0, {0, 0, 0}, 0, 0};
  st_audio_spec_t desired = {44100, 2, 0};
  CHECK_EQ_INT(ovt->negotiate_spec(out.handle, &target, &desired, &neg, NULL), ST_OK);
  CHECK(neg.flags == ST_NEGOTIATE_EXACT && neg.spec.sample_rate == 44100 && neg.spec.channels == 2);
  uint32_t accepted = 0;
  CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 10, &accepted), ST_ERR_STATE);
  CHECK_EQ_INT(ovt->open(out.handle, &target, &neg.spec, NULL), ST_OK);
  CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 512, &accepted), ST_OK);
  CHECK_EQ_INT(accepted, 512);
  st_output_status_t status = {sizeof status, 0, 0, 0, 0, 0};
  CHECK_EQ_INT(ovt->query_status(out.handle, &status), ST_OK);
  CHECK(status.running == 1 && status.frames_written == 512 && status.frames_played == 512);
  CHECK_EQ_INT(ovt->flush(out.handle), ST_OK);
  CHECK_EQ_INT(ovt->reset(out.handle), ST_OK);
  CHECK_EQ_INT(ovt->close(out.handle), ST_OK);
  /* Device loss after 600 frames. */
  st_str_t lossy = S("{\"fail_after_frames\":600}");
  CHECK_EQ_INT(out.vtable->config->apply_update(out.handle, &lossy, NULL), ST_OK);
  CHECK_EQ_INT(ovt->open(out.handle, &target, &neg.spec, NULL), ST_OK);
  CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 512, &accepted), ST_OK);
  CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 512, &accepted), ST_OK);
  CHECK_EQ_INT(accepted, 88);
  CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 512, &accepted), ST_ERR_IO);
  CHECK_EQ_INT(ovt->close(out.handle), ST_OK);
  /* Paced: no more than ~200 ms ahead of real time. */
  st_str_t paced = S("{\"paced\":true}");
  CHECK_EQ_INT(out.vtable->config->apply_update(out.handle, &paced, NULL), ST_OK);
  CHECK_EQ_INT(ovt->open(out.handle, &target, &neg.spec, NULL), ST_OK);
  uint64_t total = 0;
  for (int i = 0; i < 40; i++) {
    CHECK_EQ_INT(ovt->write_f32(out.handle, buf, 512, &accepted), ST_OK);
    total += accepted;
  }
  CHECK(total >= 8820 && total < 8820 + 2000);
  CHECK_EQ_INT(ovt->query_status(out.handle, &status), ST_OK);
  CHECK(status.queued_frames > 0);
  CHECK_EQ_INT(ovt->reset(out.handle), ST_OK);
  CHECK_EQ_INT(ovt->query_status(out.handle, &status), ST_OK);
  CHECK(status.queued_frames < 100);
  destroy(&out); /* without close: must be safe */
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void test_counters_and_events(void) {
  CHECK(wait_counter(&g_fx, "live_ops", 0, 1000)); /* workers drop their reference last */
  cJSON *c = counters(&g_fx);
  CHECK(num_at(c, "live_instances") == 0 && num_at(c, "live_streams") == 0);
  CHECK(num_at(c, "queued") == 0);
  CHECK(num_at(c, "workers") >= 1 && num_at(c, "entry_calls") == 1);
  cJSON_Delete(c);
  double gen = counter(&g_fx, "generation");

  /* A second copy (another shadow file) is another generation with its own state. */
  char *src = path_in(g_fixture_dir, "st-fixture" ST_LIB_SUFFIX);
  char *copy = path_in(g_data_dir, "shadow-st-fixture" ST_LIB_SUFFIX);
  CHECK(st_copy_file(src, copy) == 0);
  plugin_t second;
  CHECK(load(copy, &second));
  CHECK(second.module != g_fx.module);
  CHECK_EQ_INT(counter(&second, "generation"), gen + 1);
  CHECK_EQ_INT(counter(&second, "workers"), 0);
  st_instance_t inst;
  if (create(&second, ST_CAP_SOURCE_CATALOG, "fixture-source", "{}", k_no_spec, &inst)) {
    CHECK_EQ_INT(counter(&second, "live_instances"), 1);
    CHECK_EQ_INT(counter(&g_fx, "live_instances"), 0);
    destroy(&inst);
  }
  unload(&second);
  free(src);
  free(copy);

  char *log = path_in(g_data_dir, "fixture-events.log");
  const char *text = read_file(log);
  CHECK(text != NULL);
  if (text != NULL) {
    char want[64];
    static const char *const events[] = {"entry", "create source", "destroy source", "create lyrics",
                                         "create decoder", "create dsp", "create output", "cancel",
                                         "stream-open", "stream-close"};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
      snprintf(want, sizeof want, "%s gen=%.0f\n", events[i], gen);
      if (strstr(text, want) == NULL) {
        fprintf(stderr, "no event '%s'\n", want);
        CHECK(0);
      }
    }
    snprintf(want, sizeof want, "shutdown gen=%.0f\n", gen + 1);
    CHECK(strstr(text, want) != NULL);
    snprintf(want, sizeof want, "shutdown gen=%.0f\n", gen);
    CHECK(strstr(text, want) == NULL); /* the first copy is still loaded */
  }
  free(log);
}

static void test_bad_fixtures(void) {
  char *dir = path_in(g_fixture_dir, "bad");
  plugin_t p;
  char *path;

  path = path_in(dir, "abi-v8" ST_LIB_SUFFIX);
  CHECK(load(path, &p) && p.module->abi_version == 8);
  dlclose(p.lib);
  free(path);

  path = path_in(dir, "entry-null" ST_LIB_SUFFIX);
  CHECK(!load(path, &p) && p.lib != NULL);
  if (p.lib != NULL) dlclose(p.lib);
  free(path);

  path = path_in(dir, "no-entry" ST_LIB_SUFFIX);
  p.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  CHECK(p.lib != NULL && dlsym(p.lib, ST_PLUGIN_ENTRY_SYMBOL) == NULL);
  if (p.lib != NULL) dlclose(p.lib);
  free(path);

  path = path_in(dir, "metadata-malformed" ST_LIB_SUFFIX);
  CHECK(load(path, &p) && p.module->abi_version == 9 && cJSON_Parse(p.module->metadata_json) == NULL);
  unload(&p);
  free(path);

  path = path_in(dir, "metadata-oversized" ST_LIB_SUFFIX);
  if (load(path, &p)) {
    CHECK(strlen(p.module->metadata_json) > ST_METADATA_MAX_BYTES);
    cJSON *meta = cJSON_Parse(p.module->metadata_json);
    CHECK(meta != NULL && strcmp(str_at(meta, "id"), "dev.stellatune.bad-oversized") == 0);
    cJSON_Delete(meta);
    unload(&p);
  } else {
    CHECK(0);
  }
  free(path);

  path = path_in(dir, "metadata-missing-fields" ST_LIB_SUFFIX);
  if (load(path, &p)) {
    cJSON *meta = cJSON_Parse(p.module->metadata_json);
    CHECK(meta != NULL && cJSON_GetObjectItem(meta, "id") != NULL &&
          cJSON_GetObjectItem(meta, "name") == NULL && cJSON_GetObjectItem(meta, "version") == NULL);
    cJSON_Delete(meta);
    unload(&p);
  } else {
    CHECK(0);
  }
  free(path);

  path = path_in(dir, "dup-id" ST_LIB_SUFFIX);
  if (load(path, &p)) {
    cJSON *meta = cJSON_Parse(p.module->metadata_json);
    CHECK(strcmp(str_at(meta, "id"), "dev.stellatune.fixture") == 0 && str_at(meta, "name")[0]);
    cJSON_Delete(meta);
    st_instance_t inst;
    CHECK(create(&p, ST_CAP_DSP, "bad-passthrough", "{}", (st_audio_spec_t){44100, 2, 0}, &inst));
    destroy(&inst);
    unload(&p);
  } else {
    CHECK(0);
  }
  free(path);
  free(dir);
}

static void write_text(const char *dir, const char *name, const char *text, size_t len) {
  char *path = path_in(dir, name);
  FILE *f = fopen(path, "wb");
  fwrite(text, 1, len, f);
  fclose(f);
  free(path);
}

static void test_lrc_sidecar(void) {
  char *so = path_in(g_plugin_dir, "lrc-sidecar" ST_LIB_SUFFIX);
  plugin_t p;
  if (!load(so, &p)) {
    CHECK(0);
    free(so);
    return;
  }
  free(so);
  cJSON *meta = cJSON_Parse(p.module->metadata_json);
  CHECK(strcmp(str_at(meta, "id"), "dev.stellatune.lrc-sidecar") == 0);
  cJSON_Delete(meta);
  st_instance_t inst;
  if (!create(&p, ST_CAP_LYRICS_PROVIDER, "lrc-sidecar", "{}", k_no_spec, &inst)) return;
  const st_lyrics_vtable_t *vt = (const st_lyrics_vtable_t *)inst.vtable;

  char *music = path_in(g_data_dir, "music");
  CHECK(st_mkdir(music) == 0);
  /* Synced, with a BOM, CRLF, ID tags and a case-variant name. */
  static const char synced[] =
      "\xEF\xBB\xBF[ti:Night Song]\r\n[ar:The Band]\r\n[length: 03:25]\r\n"
      "[00:01.00]First line\r\n[00:03.50][01:10.00]Chorus <00:04.00>line\r\n[00:05.00]\r\n";
  write_text(music, "Night.LRC", synced, sizeof synced - 1);
  write_text(music, "Night.flac", "x", 1);
  /* Plain, in Windows-1252. */
  static const char plain[] = "Caf\xE9 song\nsecond line\n";
  write_text(music, "plain.lrc", plain, sizeof plain - 1);

  char req[512];
  cJSON *doc;
  snprintf(req, sizeof req, "{\"path\":\"%s/Night.flac\",\"title\":\"Night Song\"}", music);
  CHECK_EQ_INT(run_json(&p, vt->begin_search, inst.handle, req, &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "candidates"), 1);
  const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "candidates"), 0);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cand, "synced")));
  CHECK(strcmp(str_at(cand, "title"), "Night Song") == 0 && strcmp(str_at(cand, "artist"), "The Band") == 0);
  CHECK(num_at(cand, "duration_ms") == 205000);
  char *cand_text = cJSON_PrintUnformatted(cand);
  cJSON_Delete(doc);

  CHECK_EQ_INT(run_json(&p, vt->begin_fetch, inst.handle, req, &doc), ST_OK);
  const char *lrc = str_at(doc, "synced_lrc");
  CHECK(strncmp(lrc, "[ti:Night Song]\n[ar:The Band]\n", 30) == 0 && strchr(lrc, '\r') == NULL);
  CHECK(strcmp(str_at(doc, "plain"), "First line\nChorus line\n") == 0);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(doc, "instrumental")));
  cJSON_Delete(doc);
  /* Fetch by the candidate search returned. */
  CHECK_EQ_INT(run_json(&p, vt->begin_fetch, inst.handle, cand_text, &doc), ST_OK);
  CHECK(strncmp(str_at(doc, "synced_lrc"), "[ti:", 4) == 0);
  cJSON_Delete(doc);
  free(cand_text);

  snprintf(req, sizeof req, "{\"path\":\"%s/plain.mp3\"}", music);
  CHECK_EQ_INT(run_json(&p, vt->begin_fetch, inst.handle, req, &doc), ST_OK);
  CHECK(strcmp(str_at(doc, "synced_lrc"), "") == 0);
  CHECK(strcmp(str_at(doc, "plain"), "Caf\xC3\xA9 song\nsecond line\n") == 0);
  cJSON_Delete(doc);

  snprintf(req, sizeof req, "{\"path\":\"%s/nothing.flac\"}", music);
  CHECK_EQ_INT(run_json(&p, vt->begin_fetch, inst.handle, req, &doc), ST_ERR_NOT_FOUND);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&p, vt->begin_search, inst.handle, req, &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "candidates"), 0);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&p, vt->begin_search, inst.handle, "{\"query\":\"free text\"}", &doc), ST_OK);
  CHECK_EQ_INT(array_size(doc, "candidates"), 0);
  cJSON_Delete(doc);
  CHECK_EQ_INT(run_json(&p, vt->begin_fetch, inst.handle, "[1,2]", &doc), ST_ERR_INVALID_ARG);
  cJSON_Delete(doc);
  destroy(&inst);
  unload(&p);
  free(music);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <fixture dir> <plugin dir>\n", argv[0]);
    return 2;
  }
  g_fixture_dir = argv[1];
  g_plugin_dir = argv[2];
  snprintf(g_data_dir, sizeof g_data_dir, "%s/st-fixture-test-XXXXXX", st_tmp_dir());
  if (st_mkdtemp(g_data_dir) == NULL) return 2;

  char *path = path_in(g_fixture_dir, "st-fixture" ST_LIB_SUFFIX);
  bool loaded = load(path, &g_fx);
  free(path);
  CHECK(loaded);
  if (loaded) {
    RUN(test_module_table);
    RUN(test_source_listing);
    RUN(test_stream_and_decoder);
    RUN(test_lyrics);
    RUN(test_op_modes);
    RUN(test_config);
    RUN(test_dsp_and_output);
    RUN(test_counters_and_events);
    double t0 = st_now_ms();
    unload(&g_fx);
    CHECK(st_now_ms() - t0 < 500); /* shutdown joins idle workers promptly */
  }
  RUN(test_bad_fixtures);
  RUN(test_lrc_sidecar);

  if (st_remove_tree(g_data_dir) != 0) fprintf(stderr, "could not remove %s\n", g_data_dir);
  if (st_test_failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", st_test_failures);
    return 1;
  }
  return 0;
}
