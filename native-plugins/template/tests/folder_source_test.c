/* folder_source_test.c — a test of the template with the SDK's test kit (st_sdk_testkit.h): list a
 * folder with one file, check the op notified exactly once, open the listed track and read it back.
 *   folder_source_test <path to folder-source.so>
 * Keep your plugin's tests like this one: they run in a second, without the player. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st_sdk_testkit.h"

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static st_str_t str(const char *s) {
  st_str_t v = {s, strlen(s)};
  return v;
}

int main(int argc, char **argv) {
  CHECK(argc == 2, "usage: %s <folder-source.so>", argv[0]);
  char dir[] = "/tmp/folder-source-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char file[1100];
  snprintf(file, sizeof file, "%s/song.wav", dir);
  FILE *f = fopen(file, "wb");
  CHECK(f != NULL, "cannot write %s", file);
  for (int i = 0; i < 5000; i++) fputc(i & 0xff, f);
  fclose(f);

  char err[512] = "";
  st_testkit_plugin_t *p = st_testkit_load(argv[1], NULL, err, sizeof err);
  CHECK(p != NULL, "load: %s", err);
  char config[1200];
  snprintf(config, sizeof config, "{\"folder\":\"%s\",\"extensions\":[\"wav\"]}", dir);
  st_instance_t inst;
  CHECK(st_testkit_create(p, ST_CAP_SOURCE_CATALOG, "folder", config, &inst, err, sizeof err) == ST_OK, "create: %s", err);
  const st_source_vtable_t *vt = (const st_source_vtable_t *)(const void *)inst.vtable;

  /* List: READY, the file is there, the notifier fired exactly once. */
  st_async_op_t op;
  st_str_t request = str("{\"action\":\"browse\"}");
  CHECK(vt->begin_list_items(inst.handle, &request, &op) == ST_OK, "begin_list_items");
  st_testkit_op_result_t r;
  CHECK(st_testkit_run_op(p, op, 5000, &r) == ST_OK, "list_items timed out");
  CHECK(r.state == ST_OP_READY && r.status == ST_OK, "list_items state %u status %d", (unsigned)r.state, (int)r.status);
  CHECK(r.json && strstr(r.json, "song.wav"), "the listing lacks song.wav: %s", r.json ? r.json : "(null)");
  CHECK(r.notifies <= 1 && r.notifies_while_pending == 0, "notifier fired %u times (%u while PENDING)", r.notifies, r.notifies_while_pending);
  /* The item object is handed back verbatim to open_stream: cut it out of {"items":[ … ]}. */
  char *item = strchr(strstr(r.json, "\"items\""), '{');
  CHECK(item != NULL, "no item object in %s", r.json);
  char *end = strchr(item, '}');
  CHECK(end != NULL, "unterminated item");
  end[1] = '\0';
  char track[1200];
  snprintf(track, sizeof track, "%s", item);
  st_testkit_op_result_clear(p, &r);

  /* Open the listed track and read it to the end. */
  st_str_t track_json = str(track);
  CHECK(vt->begin_open_stream(inst.handle, &track_json, &op) == ST_OK, "begin_open_stream");
  CHECK(st_testkit_run_op(p, op, 5000, &r) == ST_OK, "open_stream timed out");
  CHECK(r.state == ST_OP_READY && r.status == ST_OK && r.stream.io, "open_stream failed: %s", r.json ? r.json : "");
  unsigned char *bytes = NULL;
  size_t len = 0;
  CHECK(st_testkit_read_stream(&r.stream, &bytes, &len) == ST_OK, "read");
  CHECK(len == 5000 && bytes[4999] == (4999 & 0xff), "read %zu bytes", len);
  free(bytes);
  vt->close_stream(inst.handle, r.stream.handle);
  st_testkit_op_result_clear(p, &r);

  st_testkit_destroy(&inst);
  st_testkit_unload(p);
  unlink(file);
  rmdir(dir);
  puts("folder-source: list, notify, open_stream and read OK");
  return 0;
}
