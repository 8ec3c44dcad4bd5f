#include "file_stream.h"

#include <string.h>

static st_status_t fs_read(void *handle, void *buf, size_t len, size_t *out_read) {
  file_stream_t *s = handle;
  s->reads++;
  *out_read = 0;
  if (s->max_read != 0 && len > s->max_read) {
    len = s->max_read;
  }
  if (s->fail_code != ST_OK) {
    long pos = ftell(s->file);
    if (pos >= 0 && (uint64_t)pos + len > s->fail_at) {
      return s->fail_code;
    }
  }
  size_t n = fread(buf, 1, len, s->file);
  if (n < len && ferror(s->file)) {
    return ST_ERR_IO;
  }
  *out_read = n;
  return ST_OK;
}

static st_status_t fs_seek(void *handle, int64_t offset, st_seek_whence_t whence,
                           uint64_t *out_pos) {
  file_stream_t *s = handle;
  int w = whence == ST_SEEK_SET ? SEEK_SET : whence == ST_SEEK_CUR ? SEEK_CUR : SEEK_END;
  if (whence > ST_SEEK_END) {
    return ST_ERR_INVALID_ARG;
  }
  /* Like a host file stream: refuse positions before the start, allow them past the end. */
  long base = whence == ST_SEEK_SET ? 0 : whence == ST_SEEK_CUR ? ftell(s->file) : (long)s->size;
  if (base + offset < 0) {
    return ST_ERR_INVALID_ARG;
  }
  if (fseek(s->file, (long)offset, w) != 0) {
    return ST_ERR_IO;
  }
  long pos = ftell(s->file);
  if (pos < 0) {
    return ST_ERR_IO;
  }
  if (out_pos != NULL) {
    *out_pos = (uint64_t)pos;
  }
  return ST_OK;
}

static st_status_t fs_tell(void *handle, uint64_t *out_pos) {
  file_stream_t *s = handle;
  long pos = ftell(s->file);
  if (pos < 0) {
    return ST_ERR_IO;
  }
  *out_pos = (uint64_t)pos;
  return ST_OK;
}

static st_status_t fs_size(void *handle, uint64_t *out_size) {
  file_stream_t *s = handle;
  if (s->unknown_size) {
    return ST_ERR_UNSUPPORTED;
  }
  *out_size = s->size;
  return ST_OK;
}

static st_status_t fs_live_size(void *handle, uint64_t *out_size) {
  (void)handle;
  (void)out_size;
  return ST_ERR_UNSUPPORTED;
}

static const st_io_vtable_t g_file_io = {
    .struct_size = sizeof(st_io_vtable_t),
    .read = fs_read,
    .seek = fs_seek,
    .tell = fs_tell,
    .size = fs_size,
};

static const st_io_vtable_t g_live_io = {
    .struct_size = sizeof(st_io_vtable_t),
    .read = fs_read,
    .seek = NULL,
    .tell = fs_tell,
    .size = fs_live_size,
};

int file_stream_open(file_stream_t *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->file = fopen(path, "rb");
  if (s->file == NULL) {
    return -1;
  }
  fseek(s->file, 0, SEEK_END);
  long n = ftell(s->file);
  fseek(s->file, 0, SEEK_SET);
  s->size = n > 0 ? (uint64_t)n : 0;
  return 0;
}

void file_stream_close(file_stream_t *s) {
  if (s->file != NULL) {
    fclose(s->file);
  }
  s->file = NULL;
}

st_stream_t file_stream_as_stream(file_stream_t *s, bool live) {
  st_stream_t st = {s, live ? &g_live_io : &g_file_io};
  return st;
}
