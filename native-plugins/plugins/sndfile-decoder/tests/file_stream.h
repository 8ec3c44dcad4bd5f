/*
 * file_stream.h — an st_io_vtable_t over a FILE*, as the host provides for local files, with
 * knobs to behave like the streams a decoder meets in the wild: short reads, an unknown size, no
 * seek (a live stream), or a transport error after some bytes.
 */
#ifndef ST_TEST_FILE_STREAM_H
#define ST_TEST_FILE_STREAM_H

#include <stdbool.h>
#include <stdio.h>

#include "stellatune/stream.h"

typedef struct file_stream {
  FILE *file;
  uint64_t size;
  size_t max_read;        /* 0 = as asked; otherwise every read returns at most this many bytes */
  bool unknown_size;      /* size() answers ST_ERR_UNSUPPORTED */
  uint64_t fail_at;       /* with fail_code: a read touching this offset fails */
  st_status_t fail_code;  /* ST_OK = never fail */
  unsigned reads;         /* read calls so far */
} file_stream_t;

/* Opens `path`; returns 0 on success. */
int file_stream_open(file_stream_t *s, const char *path);
void file_stream_close(file_stream_t *s);

/* The stream to hand to a decoder: seekable and sized, or (live) neither. */
st_stream_t file_stream_as_stream(file_stream_t *s, bool live);

#endif /* ST_TEST_FILE_STREAM_H */
