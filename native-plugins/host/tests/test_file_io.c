/* test_file_io.c — the host's file stream table: read, short reads at the end, seek whence,
 * tell, size, UTF-8 names, and the errors for missing files, directories, FIFOs, sockets and
 * device nodes (refused at once: a FIFO must not park the caller in open()). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#endif

#include "st_host.h"
#include "test_util.h"

/* Creates `path` (UTF-8) with `len` bytes; the wide API on Windows, so the name is really UTF-8. */
static int write_file(const char *path, const void *data, size_t len) {
#ifdef _WIN32
  wchar_t wide[1024];
  if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, 1024) == 0) return -1;
  FILE *f = _wfopen(wide, L"wb");
#else
  FILE *f = fopen(path, "wb");
#endif
  if (!f) return -1;
  size_t n = fwrite(data, 1, len, f);
  return fclose(f) == 0 && n == len ? 0 : -1;
}

static void remove_file(const char *path) {
#ifdef _WIN32
  wchar_t wide[1024];
  if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, 1024) != 0) _wremove(wide);
#else
  remove(path);
#endif
}

int main(void) {
  char dir[1024], path[1100], missing[1100];
  snprintf(dir, sizeof dir, "%s/st-host-io-XXXXXX", st_tmp_dir());
  CHECK(st_mkdtemp(dir) != NULL);
  /* A non-ASCII name: the path reaches the OS as UTF-8 (UTF-16 on Windows), not a code page. */
  snprintf(path, sizeof path, "%s/caf\xC3\xA9 \xE2\x99\xAA.bin", dir);
  unsigned char data[10000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7);
  CHECK_EQ_INT(write_file(path, data, sizeof data), 0);

  st_stream_t s;
  CHECK_EQ_INT(st_host_file_open(path, &s), ST_OK);
  CHECK(s.io == st_host_file_io() && s.io->struct_size == sizeof(st_io_vtable_t));
  unsigned char buf[4096];
  size_t got = 0;
  CHECK_EQ_INT(s.io->read(s.handle, buf, 4096, &got), ST_OK);
  CHECK_EQ_INT(got, 4096);
  CHECK(memcmp(buf, data, 4096) == 0);
  uint64_t pos = 0, size = 0;
  CHECK_EQ_INT(s.io->tell(s.handle, &pos), ST_OK);
  CHECK_EQ_INT(pos, 4096);
  CHECK_EQ_INT(s.io->size(s.handle, &size), ST_OK);
  CHECK_EQ_INT(size, 10000);
  CHECK_EQ_INT(s.io->seek(s.handle, -100, ST_SEEK_END, &pos), ST_OK);
  CHECK_EQ_INT(pos, 9900);
  CHECK_EQ_INT(s.io->read(s.handle, buf, 4096, &got), ST_OK);
  CHECK_EQ_INT(got, 100); /* short read at the end */
  CHECK(memcmp(buf, data + 9900, 100) == 0);
  CHECK_EQ_INT(s.io->read(s.handle, buf, 4096, &got), ST_OK);
  CHECK_EQ_INT(got, 0); /* end of stream */
  CHECK_EQ_INT(s.io->seek(s.handle, 10, ST_SEEK_SET, &pos), ST_OK);
  CHECK_EQ_INT(s.io->seek(s.handle, 5, ST_SEEK_CUR, &pos), ST_OK);
  CHECK_EQ_INT(pos, 15);
  CHECK_EQ_INT(s.io->read(s.handle, buf, 1, &got), ST_OK);
  CHECK(buf[0] == data[15]);
  CHECK_EQ_INT(s.io->seek(s.handle, 0, 7, &pos), ST_ERR_INVALID_ARG);
  st_host_file_close(s.handle);
  st_host_file_close(NULL);

  snprintf(missing, sizeof missing, "%s/does-not-exist", dir);
  CHECK_EQ_INT(st_host_file_open(missing, &s), ST_ERR_NOT_FOUND);
  CHECK(s.handle == NULL);
#ifdef _WIN32
  CHECK_EQ_INT(st_host_file_open(dir, &s), ST_ERR_IO);
#else
  CHECK_EQ_INT(st_host_file_open(dir, &s), ST_ERR_UNSUPPORTED);
  CHECK_EQ_INT(st_host_file_open("/dev/null", &s), ST_ERR_UNSUPPORTED);
  CHECK(s.handle == NULL);

  /* A FIFO nobody writes to: a blocking open would never return (this test would hang). */
  char fifo[1200];
  snprintf(fifo, sizeof fifo, "%s/track.fifo", dir);
  CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
  CHECK_EQ_INT(st_host_file_open(fifo, &s), ST_ERR_UNSUPPORTED);
  unlink(fifo);

  /* sun_path is short: the socket goes beside the temp folder under a short name. */
  char sock_path[96];
  snprintf(sock_path, sizeof sock_path, "%s/st-io-%d.sock", st_tmp_dir(), (int)getpid());
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
  CHECK_EQ_INT(bind(sock, (struct sockaddr *)&addr, sizeof addr), 0);
  CHECK_EQ_INT(st_host_file_open(sock_path, &s), ST_ERR_UNSUPPORTED);
  close(sock);
  unlink(sock_path);
#endif
  remove_file(path);
  st_remove_tree(dir);
  if (st_test_failures) fprintf(stderr, "%d failure(s)\n", st_test_failures);
  return st_test_failures ? 1 : 0;
}
