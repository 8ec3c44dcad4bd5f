/* file_stream.c — read/seek/tell/size over a file descriptor (a HANDLE on Windows). See
 * file_stream.h. */
#define _POSIX_C_SOURCE 200809L

#include "file_stream.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

typedef struct file_stream {
#ifdef _WIN32
  HANDLE file;
#else
  int fd;
#endif
  uint64_t pos;  /* the read position; only the decode worker touches it */
  uint64_t size; /* the length when opened (audio files do not grow while they play) */
} file_stream_t;

/* A short read is fine (the ABI allows it); 0 bytes with ST_OK is the end of the file.
 * [decode-thread] */
static st_status_t fs_read(void *handle, void *buf, size_t len, size_t *out_read) {
  file_stream_t *s = handle;
  *out_read = 0;
#ifdef _WIN32
  /* A positional read (the OVERLAPPED offset), as pread below. */
  DWORD want = len > 0x40000000u ? 0x40000000u : (DWORD)len, got = 0;
  OVERLAPPED at = {0};
  at.Offset = (DWORD)s->pos;
  at.OffsetHigh = (DWORD)(s->pos >> 32);
  if (!ReadFile(s->file, buf, want, &got, &at) && GetLastError() != ERROR_HANDLE_EOF)
    return ST_ERR_IO;
  s->pos += got;
  *out_read = got;
  return ST_OK;
#else
  if (len > (size_t)SSIZE_MAX) len = (size_t)SSIZE_MAX;
  /* pread keeps the position in our struct, so seek and tell never touch the descriptor. */
  for (;;) {
    ssize_t n = pread(s->fd, buf, len, (off_t)s->pos);
    if (n >= 0) {
      s->pos += (uint64_t)n;
      *out_read = (size_t)n;
      return ST_OK;
    }
    if (errno != EINTR) return ST_ERR_IO;
  }
#endif
}

/* [decode-thread] */
static st_status_t fs_seek(void *handle, int64_t offset, st_seek_whence_t whence,
                           uint64_t *out_pos) {
  file_stream_t *s = handle;
  uint64_t base;
  switch (whence) {
    case ST_SEEK_SET: base = 0; break;
    case ST_SEEK_CUR: base = s->pos; break;
    case ST_SEEK_END: base = s->size; break;
    default: return ST_ERR_INVALID_ARG;
  }
  /* Before the start is an error; past the end is allowed (reads then return 0 bytes). */
  uint64_t pos;
  if (offset < 0) {
    uint64_t back = 0u - (uint64_t)offset; /* |offset|, also for INT64_MIN */
    if (back > base) return ST_ERR_INVALID_ARG;
    pos = base - back;
  } else {
    pos = base + (uint64_t)offset;
    if (pos < base || pos > (uint64_t)INT64_MAX) return ST_ERR_INVALID_ARG;
  }
  s->pos = pos;
  if (out_pos != NULL) *out_pos = pos;
  return ST_OK;
}

/* [decode-thread] */
static st_status_t fs_tell(void *handle, uint64_t *out_pos) {
  *out_pos = ((file_stream_t *)handle)->pos;
  return ST_OK;
}

/* A network stream of unknown length would return ST_ERR_UNSUPPORTED here. [decode-thread] */
static st_status_t fs_size(void *handle, uint64_t *out_size) {
  *out_size = ((file_stream_t *)handle)->size;
  return ST_OK;
}

/* Static: the io table must outlive every stream (stream.h). */
static const st_io_vtable_t k_file_io = {sizeof(st_io_vtable_t), 0u, fs_read, fs_seek, fs_tell,
                                         fs_size};

#ifdef _WIN32
st_status_t file_stream_open(const char *path, st_stream_t *out_stream, uint64_t *out_size) {
  /* Paths are UTF-8: convert to UTF-16 for the W API (the A API would read the ANSI code page). */
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
  if (wide == NULL) return n > 0 ? ST_ERR_INTERNAL : ST_ERR_NOT_FOUND;
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n);
  DWORD attrs = GetFileAttributesW(wide);
  HANDLE file = attrs == INVALID_FILE_ATTRIBUTES || (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0
                    ? INVALID_HANDLE_VALUE
                    : CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
                                  FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL,
                                  NULL);
  DWORD err = GetLastError();
  free(wide);
  if (file == INVALID_HANDLE_VALUE) {
    return attrs == INVALID_FILE_ATTRIBUTES || (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0 ||
                   err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
               ? ST_ERR_NOT_FOUND
               : ST_ERR_IO;
  }
  LARGE_INTEGER size;
  if (GetFileType(file) != FILE_TYPE_DISK || !GetFileSizeEx(file, &size)) { /* not a plain file */
    CloseHandle(file);
    return ST_ERR_NOT_FOUND;
  }
  file_stream_t *s = malloc(sizeof *s);
  if (s == NULL) {
    CloseHandle(file);
    return ST_ERR_INTERNAL;
  }
  s->file = file;
  s->pos = 0;
  s->size = (uint64_t)size.QuadPart;
  out_stream->handle = s;
  out_stream->io = &k_file_io;
  *out_size = s->size;
  return ST_OK;
}

void file_stream_close(void *stream_handle) {
  file_stream_t *s = stream_handle;
  if (s == NULL) return;
  CloseHandle(s->file);
  free(s);
}
#else
st_status_t file_stream_open(const char *path, st_stream_t *out_stream, uint64_t *out_size) {
  /* O_NONBLOCK: opening a FIFO or a device named like a track must not hang the op (and with
   * it the module's shutdown, which joins the worker); it is cleared again for the regular file. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno == ENOENT || errno == ENOTDIR ? ST_ERR_NOT_FOUND : ST_ERR_IO;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ST_ERR_NOT_FOUND;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  file_stream_t *s = malloc(sizeof *s);
  if (s == NULL) {
    close(fd);
    return ST_ERR_INTERNAL;
  }
  s->fd = fd;
  s->pos = 0;
  s->size = (uint64_t)st.st_size;
  out_stream->handle = s;
  out_stream->io = &k_file_io;
  *out_size = s->size;
  return ST_OK;
}

void file_stream_close(void *stream_handle) {
  file_stream_t *s = stream_handle;
  if (s == NULL) return;
  close(s->fd);
  free(s);
}
#endif
