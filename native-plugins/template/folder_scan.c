/* folder_scan.c — listing and walking a folder. See folder_scan.h. */
#define _POSIX_C_SOURCE 200809L

#include "folder_scan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

char *scan_join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la == 0 || lb == 0) return strdup(la == 0 ? b : a);
  bool slash = a[la - 1] != '/';
  char *out = malloc(la + (slash ? 1 : 0) + lb + 1);
  if (out == NULL) return NULL;
  memcpy(out, a, la);
  if (slash) out[la] = '/';
  memcpy(out + la + (slash ? 1 : 0), b, lb + 1);
  return out;
}

bool scan_ext(const char *name, char *buf, size_t cap) {
  const char *dot = strrchr(name, '.');
  if (dot == NULL || dot == name || dot[1] == '\0') return false;
  size_t n = strlen(dot + 1);
  if (n + 1 > cap) return false;
  for (size_t i = 0; i <= n; i++) buf[i] = (char)tolower((unsigned char)dot[1 + i]);
  return true;
}

static bool extension_wanted(const char *name, const char *extensions) {
  char key[34];
  key[0] = ',';
  if (!scan_ext(name, key + 1, sizeof key - 2)) return false;
  size_t n = strlen(key);
  key[n] = ',';
  key[n + 1] = '\0';
  return strstr(extensions, key) != NULL;
}

static int compare_entries(const void *pa, const void *pb) {
  const scan_entry_t *a = pa, *b = pb;
  if (a->is_folder != b->is_folder) return a->is_folder ? -1 : 1;
  int c = strcasecmp(a->name, b->name);
  return c != 0 ? c : strcmp(a->name, b->name);
}

void scan_list_free(scan_list_t *list) {
  for (size_t i = 0; i < list->count; i++) free(list->entries[i].name);
  free(list->entries);
  list->entries = NULL;
  list->count = 0;
}

int scan_folder(st_sdk_op_t *op, const char *dir, const char *extensions, scan_list_t *out) {
  out->entries = NULL;
  out->count = 0;
  DIR *d = opendir(dir);
  if (d == NULL) return errno;
  size_t cap = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    /* The one thing that makes cancel prompt: check between entries, not once per folder. */
    if (st_sdk_op_cancelled(op)) {
      rc = ECANCELED;
      break;
    }
    if (e->d_name[0] == '.') continue; /* ".", ".." and hidden entries */
    struct stat link_st, st;
    if (fstatat(dirfd(d), e->d_name, &link_st, AT_SYMLINK_NOFOLLOW) != 0 ||
        fstatat(dirfd(d), e->d_name, &st, 0) != 0)
      continue; /* vanished meanwhile, or a dangling link */
    bool is_folder = S_ISDIR(st.st_mode);
    if (!is_folder && (!S_ISREG(st.st_mode) || !extension_wanted(e->d_name, extensions))) continue;
    if (out->count == cap) {
      size_t next = cap == 0 ? 32 : cap * 2;
      scan_entry_t *grown = realloc(out->entries, next * sizeof *grown);
      if (grown == NULL) {
        rc = ENOMEM;
        break;
      }
      out->entries = grown;
      cap = next;
    }
    char *name = strdup(e->d_name);
    if (name == NULL) {
      rc = ENOMEM;
      break;
    }
    out->entries[out->count++] = (scan_entry_t){name, is_folder, S_ISLNK(link_st.st_mode),
                                                is_folder ? 0u : (uint64_t)st.st_size};
  }
  closedir(d);
  if (rc != 0) {
    scan_list_free(out);
    return rc;
  }
  if (out->count > 1) qsort(out->entries, out->count, sizeof *out->entries, compare_entries);
  return 0;
}

/* Returns 0 to go on, 1 when visit asked to stop, or an errno. */
static int walk(st_sdk_op_t *op, const char *root, const char *id, const char *extensions,
                int depth, scan_visit_fn visit, void *arg) {
  char *dir = scan_join(root, id);
  if (dir == NULL) return ENOMEM;
  scan_list_t list;
  int rc = scan_folder(op, dir, extensions, &list);
  free(dir);
  if (rc != 0) return rc;
  for (size_t i = 0; i < list.count && rc == 0; i++) {
    const scan_entry_t *e = &list.entries[i];
    char *child = scan_join(id, e->name);
    if (child == NULL) {
      rc = ENOMEM;
      break;
    }
    if (!visit(arg, child, e)) {
      rc = 1;
    } else if (e->is_folder && !e->is_link && depth < SCAN_MAX_DEPTH) {
      rc = walk(op, root, child, extensions, depth + 1, visit, arg);
      if (rc != 0 && rc != 1 && rc != ECANCELED && rc != ENOMEM) rc = 0; /* unreadable: skip */
    }
    free(child);
  }
  scan_list_free(&list);
  return rc;
}

int scan_tree(st_sdk_op_t *op, const char *root, const char *start, const char *extensions,
              scan_visit_fn visit, void *arg) {
  int rc = walk(op, root, start, extensions, 0, visit, arg);
  return rc == 1 ? 0 : rc;
}
