/*
 * stellatune/types.h — basic types shared by every StellaTune plugin header.
 *
 * Strings.  All text crossing the ABI is UTF-8 with an explicit byte length (st_str_t). `len` is
 * authoritative; a NUL terminator is neither required nor counted. Structured data (configs,
 * schemas, requests, items, lyrics, metadata, targets, state) is JSON text in an st_str_t.
 *
 * Ownership, the rule for the whole ABI:
 *   - Anything the host passes in (`const st_str_t *`, `const char *`, structs) is *borrowed*
 *     for the duration of that call only. Copy what you need to keep.
 *   - Anything a plugin returns through an `st_str_t *out_…` parameter is allocated by the
 *     plugin and freed by the host with the module's `free_mem` (plugin.h), exactly once. An
 *     empty result is `{NULL, 0}` and is not freed.
 *   - Static descriptor strings (`const char *` fields of the module and capability tables) are
 *     owned by the library, NUL-terminated, and live until the library is unloaded.
 *
 * Errors.  Fallible functions return an st_status_t: ST_OK (0) or one of the ST_ERR_* codes (a
 * plugin may use codes >= ST_ERR_PLUGIN_BASE of its own). Control-side functions that can fail
 * for a human-readable reason take an `st_str_t *out_error` as their *last* parameter; the plugin
 * may fill it with a message (freed by the host). Realtime functions never allocate, so they
 * return a code only.
 *
 * Growable structs start with `uint32_t struct_size` (set by whoever fills the struct to
 * sizeof of the version it was compiled against). A reader must check `struct_size` before
 * touching a field added later. Flags are `uint32_t` typedefs.
 */
#ifndef STELLATUNE_TYPES_H
#define STELLATUNE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "threads.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this set of headers describes. A library built for another version is refused
 * by the host with a clear reason; there is no compatibility shim. */
#define ST_PLUGIN_API_VERSION 9u

#if defined(_WIN32)
#define ST_EXPORT __declspec(dllexport)
#else
#define ST_EXPORT __attribute__((visibility("default")))
#endif

typedef int32_t st_status_t;

#define ST_OK 0
#define ST_ERR_INVALID_ARG 1  /* a malformed argument, e.g. JSON that does not parse */
#define ST_ERR_UNSUPPORTED 2  /* the function or the requested variant is not implemented */
#define ST_ERR_IO 3           /* file or stream I/O failed */
#define ST_ERR_DECODE 4       /* corrupt or unsupported media */
#define ST_ERR_INTERNAL 5     /* a bug or resource exhaustion inside the plugin */
#define ST_ERR_CANCELLED 6    /* the operation was cancelled */
#define ST_ERR_TIMEOUT 7      /* the plugin's own timeout elapsed (e.g. a network timeout) */
#define ST_ERR_BUSY 8         /* try again later (e.g. an op queue is full) */
#define ST_ERR_NOT_READY 9    /* take_* on an op that is still PENDING */
#define ST_ERR_NETWORK 10     /* connection refused, reset, DNS, TLS */
#define ST_ERR_NOT_FOUND 11   /* the item, track or lyrics do not exist */
#define ST_ERR_AUTH 12        /* credentials rejected */
#define ST_ERR_STATE 13       /* the call is not valid in the object's current state */
#define ST_ERR_PLUGIN_BASE 1000

/* A UTF-8 string with explicit length. See the ownership rules above. */
typedef struct st_str {
  const char *ptr;
  size_t len;
} st_str_t;

/* A PCM stream format. Samples crossing the ABI are always interleaved float32 in [-1, 1]. */
typedef struct st_audio_spec {
  uint32_t sample_rate; /* frames per second, e.g. 44100 */
  uint16_t channels;    /* 1 = mono, 2 = stereo (L, R), ... in WAVE channel order */
  uint16_t reserved;    /* 0 */
} st_audio_spec_t;

/* Log levels for st_host_t.log. */
typedef uint32_t st_log_level_t;
#define ST_LOG_ERROR 1u
#define ST_LOG_WARN 2u
#define ST_LOG_INFO 3u
#define ST_LOG_DEBUG 4u

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_TYPES_H */
