/* test_file_io.c — the host's file stream table: read, short reads at the end, seek whence,
 * tell, size, and the errors for missing files, directories, FIFOs, sockets and device nodes
 * (refused at once: a FIFO must not park the caller in open()). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "st_host.h"
#include "test_util.h"

int main(void) {
  char path[] = "/tmp/st-host-io-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unsigned char data[10000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7);
  CHECK_EQ_INT(write(fd, data, sizeof data), sizeof data);
  close(fd);

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

  CHECK_EQ_INT(st_host_file_open("/tmp/st-host-io-does-not-exist", &s), ST_ERR_NOT_FOUND);
  CHECK(s.handle == NULL);
  CHECK_EQ_INT(st_host_file_open("/tmp", &s), ST_ERR_UNSUPPORTED);
  CHECK_EQ_INT(st_host_file_open("/dev/null", &s), ST_ERR_UNSUPPORTED);
  CHECK(s.handle == NULL);

  /* A FIFO nobody writes to: a blocking open would never return (this test would hang). */
  char fifo[64];
  snprintf(fifo, sizeof fifo, "%s.fifo", path);
  CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
  CHECK_EQ_INT(st_host_file_open(fifo, &s), ST_ERR_UNSUPPORTED);
  unlink(fifo);

  char sock_path[64];
  snprintf(sock_path, sizeof sock_path, "%s.sock", path);
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, sock_path, sizeof addr.sun_path - 1);
  CHECK_EQ_INT(bind(sock, (struct sockaddr *)&addr, sizeof addr), 0);
  CHECK_EQ_INT(st_host_file_open(sock_path, &s), ST_ERR_UNSUPPORTED);
  close(sock);
  unlink(sock_path);
  unlink(path);
  if (st_test_failures) fprintf(stderr, "%d failure(s)\n", st_test_failures);
  return st_test_failures ? 1 : 0;
}
