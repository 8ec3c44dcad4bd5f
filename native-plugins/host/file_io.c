/* file_io.c — local files as st_io_vtable_t streams (buffered stdio, 64-bit offsets).
 * Only regular files are opened: a FIFO queued as a track would park the decode thread in open()
 * forever (no writer ever comes), and a socket or device node is no audio file either. The path is
 * checked first, opened with O_NONBLOCK (which never waits on a FIFO), and checked again on the
 * descriptor, so a file swapped for a FIFO in between is refused too. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "st_host.h"

/* Paths are UTF-8; Windows' fopen reads them in the ANSI code page, so convert to UTF-16. */
#ifdef _WIN32
static FILE *open_utf8(const char *path) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
  if (!wide || MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n) != n) {
    free(wide);
    errno = EINVAL;
    return NULL;
  }
  FILE *fp = _wfopen(wide, L"rb");
  free(wide);
  return fp;
}
#endif

typedef struct st_host_file {
  FILE *fp;
} st_host_file_t;

static st_status_t file_read(void *handle, void *buf, size_t len, size_t *out_read) {
  st_host_file_t *f = handle;
  size_t n = fread(buf, 1, len, f->fp);
  *out_read = n;
  if (n < len && ferror(f->fp)) {
    clearerr(f->fp);
    return n > 0 ? ST_OK : ST_ERR_IO;
  }
  return ST_OK;
}

static st_status_t file_seek(void *handle, int64_t offset, st_seek_whence_t whence,
                             uint64_t *out_pos) {
  st_host_file_t *f = handle;
  int w = whence == ST_SEEK_SET ? SEEK_SET : whence == ST_SEEK_CUR ? SEEK_CUR : SEEK_END;
  if (whence > ST_SEEK_END) return ST_ERR_INVALID_ARG;
  if (fseeko(f->fp, (off_t)offset, w) != 0) return ST_ERR_IO;
  off_t pos = ftello(f->fp);
  if (pos < 0) return ST_ERR_IO;
  if (out_pos) *out_pos = (uint64_t)pos;
  return ST_OK;
}

static st_status_t file_tell(void *handle, uint64_t *out_pos) {
  st_host_file_t *f = handle;
  off_t pos = ftello(f->fp);
  if (pos < 0) return ST_ERR_IO;
  *out_pos = (uint64_t)pos;
  return ST_OK;
}

static st_status_t file_size(void *handle, uint64_t *out_size) {
  st_host_file_t *f = handle;
  struct stat st;
  if (fstat(fileno(f->fp), &st) != 0) return ST_ERR_IO;
  *out_size = (uint64_t)st.st_size;
  return ST_OK;
}

static const st_io_vtable_t k_file_io = {
    .struct_size = sizeof(st_io_vtable_t),
    .reserved = 0,
    .read = file_read,
    .seek = file_seek,
    .tell = file_tell,
    .size = file_size,
};

const st_io_vtable_t *st_host_file_io(void) { return &k_file_io; }

st_status_t st_host_file_open(const char *path, st_stream_t *out_stream) {
  if (!path || !out_stream) return ST_ERR_INVALID_ARG;
  out_stream->handle = NULL;
  out_stream->io = NULL;
  struct stat st;
#ifdef _WIN32
  /* No FIFOs to wait on: the descriptor's check is the whole check. */
  FILE *fp = open_utf8(path);
  if (!fp) return errno == ENOENT ? ST_ERR_NOT_FOUND : ST_ERR_IO;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(fp);
    return ST_ERR_UNSUPPORTED;
  }
#else
  if (stat(path, &st) != 0) return errno == ENOENT ? ST_ERR_NOT_FOUND : ST_ERR_IO;
  if (!S_ISREG(st.st_mode)) return ST_ERR_UNSUPPORTED;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? ST_ERR_NOT_FOUND : ST_ERR_IO;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ST_ERR_UNSUPPORTED;
  }
  /* Regular files ignore O_NONBLOCK; clear it anyway so reads stay plain blocking reads. */
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  FILE *fp = fdopen(fd, "rb");
  if (!fp) {
    close(fd);
    return ST_ERR_IO;
  }
#endif
  st_host_file_t *f = malloc(sizeof *f);
  if (!f) {
    fclose(fp);
    return ST_ERR_INTERNAL;
  }
  f->fp = fp;
  out_stream->handle = f;
  out_stream->io = &k_file_io;
  return ST_OK;
}

void st_host_file_close(void *handle) {
  st_host_file_t *f = handle;
  if (!f) return;
  fclose(f->fp);
  free(f);
}
