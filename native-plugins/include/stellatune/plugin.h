/*
 * stellatune/plugin.h — the entry point, the host table, the module table and instances.
 *
 * What a plugin is.  A shared library (.so/.dll/.dylib) that exports one C function,
 * `stellatune_plugin_entry`, returning a static st_module_t. A module declares one or more
 * capabilities (a decoder, a DSP effect, a source catalog, a lyrics provider, an output sink),
 * each identified by a `type_id` unique within the module, with a JSON Schema for its config.
 * The host creates instances of a capability with a config; each kind of instance has its own
 * vtable (decoder.h, dsp.h, source.h, lyrics.h, output.h).
 *
 * Lifecycle of a library.
 *   1. The host copies the file to a shadow location (so the original can be replaced while it
 *      is loaded), dlopens the copy and calls stellatune_plugin_entry(host) once.
 *   2. It checks module->abi_version == ST_PLUGIN_API_VERSION and parses metadata_json; a
 *      mismatch, a NULL module or malformed metadata refuses the library with a clear reason.
 *   3. It creates and destroys instances as the user plays, browses and configures.
 *   4. To reload or disable the plugin, the host stops creating instances, waits until every
 *      instance of this load (a "generation") is destroyed — streams of a retired source catalog
 *      keep playing until they close — then calls shutdown() and unloads the library.
 *   A new generation of the same plugin may be loaded while an old one is still draining, from a
 *   different shadow copy, so two copies of the library can be mapped at once: keep state in the
 *   module (statics are per copy), never in files shared with other copies without locking.
 *
 * Ownership.  The host table is owned by the host and valid until shutdown() returns; the plugin
 * may keep the pointer. The module table, capability descriptors and their strings are static
 * library data. Instance handles belong to the plugin until the host calls the vtable's destroy.
 */
#ifndef STELLATUNE_PLUGIN_H
#define STELLATUNE_PLUGIN_H

#include "config.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the exported entry function. */
#define ST_PLUGIN_ENTRY_SYMBOL "stellatune_plugin_entry"

/* Upper bound the host enforces on metadata_json (bytes); a larger document is refused. */
#define ST_METADATA_MAX_BYTES 65536u

/* ---- The host table ------------------------------------------------------------------------ */

typedef struct st_host {
  uint32_t abi_version; /* ST_PLUGIN_API_VERSION of the host */
  uint32_t struct_size; /* sizeof(st_host_t) as the host was built */
  void *host_data;      /* opaque; pass back to the functions below */

  /* Writes one log line attributed to this plugin. May block briefly while the host relays the
   * line to its event loop: do not call it from realtime functions or while holding a lock that
   * a control call takes. [any-thread] */
  void (*log)(void *host_data, st_log_level_t level, const char *message, size_t len);

  /* A writable folder reserved for this plugin (caches, downloaded data), NUL-terminated UTF-8,
   * created by the host; owned by the host, valid until shutdown() returns. */
  const char *data_dir;
} st_host_t;

/* ---- Capabilities -------------------------------------------------------------------------- */

typedef uint32_t st_capability_kind_t;
#define ST_CAP_DECODER 1u
#define ST_CAP_DSP 2u
#define ST_CAP_SOURCE_CATALOG 3u
#define ST_CAP_LYRICS_PROVIDER 4u
#define ST_CAP_OUTPUT_SINK 5u

/* A decoder's claim on a file extension. The host tries decoders in descending score order and
 * falls through to the next one when open fails. `ext` is lowercase without the dot; "*" matches
 * any extension. This struct never grows (it lives in arrays). */
typedef struct st_ext_score {
  const char *ext;
  uint16_t score; /* 1..1000; 100 = a native decoder for the format, 1 = a last resort */
  uint16_t reserved0;
  uint32_t reserved1;
} st_ext_score_t;

typedef struct st_capability {
  uint32_t struct_size; /* sizeof(st_capability_t) */
  st_capability_kind_t kind;
  const char *type_id;             /* unique within the module, e.g. "subsonic" */
  const char *display_name;        /* shown in the UI */
  const char *config_schema_json;  /* a JSON Schema (type object) for the config; "{}" if none */
  const char *default_config_json; /* a config valid against the schema; "{}" if none */
  const st_ext_score_t *decoder_exts; /* ST_CAP_DECODER only, else NULL */
  uint32_t decoder_ext_count;
  uint32_t reserved; /* 0 */
} st_capability_t;

/* ---- Instances ----------------------------------------------------------------------------- */

/* Arguments of create_instance; borrowed for the call. */
typedef struct st_instance_args {
  uint32_t struct_size; /* sizeof(st_instance_args_t) */
  st_capability_kind_t kind;
  st_str_t type_id;
  st_str_t config_json;  /* valid against the capability's schema as far as the host can tell */
  st_audio_spec_t spec;  /* ST_CAP_DSP: the format the instance will process; else zero */
} st_instance_args_t;

/* Every instance vtable (st_decoder_vtable_t, st_dsp_vtable_t, ...) begins with these fields,
 * so the host can read them before it knows the kind's layout. */
typedef struct st_instance_vtable_base {
  uint32_t struct_size;          /* sizeof of the kind's full vtable */
  st_capability_kind_t kind;     /* must equal the kind that was created */
  const st_config_vtable_t *config; /* NULL if the instance cannot update its config */
  /* Releases the instance. Called exactly once, after every op, stream and data call of the
   * instance has ended. Must not block unboundedly. [control] */
  void (*destroy)(void *handle);
} st_instance_vtable_base_t;

/* An instance: a plugin-owned handle and its kind's static vtable (which starts with
 * st_instance_vtable_base_t; cast by kind). */
typedef struct st_instance {
  void *handle;
  const st_instance_vtable_base_t *vtable;
} st_instance_t;

/* ---- The module table ---------------------------------------------------------------------- */

typedef struct st_module {
  uint32_t abi_version; /* ST_PLUGIN_API_VERSION the plugin was built against; checked first */
  uint32_t struct_size; /* sizeof(st_module_t) */

  /* {"id":"org.example.name","name":"…","version":"1.2.3","abi_version":9,
   *  "description":"…","author":"…","homepage":"…"}; id, name, version and abi_version are
   * required; id is reverse-DNS-like ([a-z0-9._-]) and unique among installed plugins.
   * NUL-terminated, at most ST_METADATA_MAX_BYTES. */
  const char *metadata_json;

  uint32_t capability_count;
  uint32_t reserved; /* 0 */
  const st_capability_t *const *capabilities; /* capability_count pointers */

  /* Creates an instance of the capability named by args->type_id. On failure returns an error
   * code and may explain it in *out_error. The host may call it from two threads at once (its
   * event loop for sources and lyrics, its decode worker for decoders and DSP), so it must be
   * thread-safe. [control] */
  st_status_t (*create_instance)(const st_instance_args_t *args, st_instance_t *out_instance,
                                 st_str_t *out_error);

  /* Called once before the library is unloaded, after every instance was destroyed. Must cancel
   * pending work, join every thread the plugin started and release global resources; no plugin
   * code may run after it returns. May block for as long as joining takes (the host calls it off
   * its event loop). NULL if the plugin starts no threads and holds nothing. [control] */
  void (*shutdown)(void);

  /* Frees memory the plugin returned through an st_str_t out parameter. [any-thread] */
  void (*free_mem)(void *ptr);
} st_module_t;

/* The one exported function. Called once per load, before anything else. Returns the module
 * table, or NULL if the plugin cannot run here (it should log why through host->log).
 * [control] */
typedef const st_module_t *(*st_plugin_entry_fn)(const st_host_t *host);

#ifdef __cplusplus
}
#endif

#endif /* STELLATUNE_PLUGIN_H */
