/* folder_scan.h — reading a music folder: the part of the template that knows nothing of the
 * plugin ABI. When you copy the template for a network catalog, this is the file you replace
 * with your client (an HTTP API, a database); folder_source.c keeps its shape.
 *
 * Everything here runs on an SDK op worker and checks the op for cancellation between directory
 * entries, so a cancelled listing of a huge folder stops within one entry, not one folder. */
#ifndef FOLDER_SCAN_H
#define FOLDER_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_sdk.h"

/* How deep a search descends below the folder it starts in. */
#define SCAN_MAX_DEPTH 16

typedef struct scan_entry {
  char *name;     /* the file or folder name, malloc'ed */
  bool is_folder;
  bool is_link;   /* reached through a symbolic link: search does not descend into such folders */
  uint64_t size;  /* bytes, files only */
} scan_entry_t;

typedef struct scan_list {
  scan_entry_t *entries;
  size_t count;
} scan_list_t;

/* Lists `dir`: its subfolders and the regular files whose lowercase extension appears in
 * `extensions` as ",ext," (e.g. ",flac,mp3,"). Hidden entries (".name") are skipped. Folders come
 * first, each group sorted by name. Returns 0, ECANCELED when `op` was cancelled, ENOMEM, or the
 * errno of opening `dir`. Free *out with scan_list_free. [op-worker] */
int scan_folder(st_sdk_op_t *op, const char *dir, const char *extensions, scan_list_t *out);
void scan_list_free(scan_list_t *list);

/* Called for each entry by scan_tree; `id` is the entry's path relative to the root. Returns
 * false to stop the walk. */
typedef bool (*scan_visit_fn)(void *arg, const char *id, const scan_entry_t *entry);

/* Walks `root`/`start` depth first in scan_folder's order, calling visit for every entry (folders
 * before their contents). Unreadable subfolders are skipped. Returns 0 (also when visit stopped
 * the walk), ECANCELED, ENOMEM, or the errno of opening the starting folder. [op-worker] */
int scan_tree(st_sdk_op_t *op, const char *root, const char *start, const char *extensions,
              scan_visit_fn visit, void *arg);

/* `a` + "/" + `b`, or a copy of the non-empty one; malloc'ed, NULL when out of memory. */
char *scan_join(const char *a, const char *b);

/* Writes the lowercase extension of `name` (after its last dot) into buf; false when it has none
 * or it does not fit. */
bool scan_ext(const char *name, char *buf, size_t cap);

#endif /* FOLDER_SCAN_H */
