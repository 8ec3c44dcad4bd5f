/* folder_scan.c — listing and walking a folder. See folder_scan.h. */
#define _POSIX_C_SOURCE 200809L

#include "folder_scan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#endif

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

/* Appends one entry to *out; false when out of memory. */
static bool add_entry(scan_list_t *out, size_t *cap, const char *name, bool is_folder,
                      bool is_link, uint64_t size) {
  if (out->count == *cap) {
    size_t next = *cap == 0 ? 32 : *cap * 2;
    scan_entry_t *grown = realloc(out->entries, next * sizeof *grown);
    if (grown == NULL) return false;
    out->entries = grown;
    *cap = next;
  }
  char *copy = strdup(name);
  if (copy == NULL) return false;
  out->entries[out->count++] = (scan_entry_t){copy, is_folder, is_link, is_folder ? 0u : size};
  return true;
}

#ifdef _WIN32
/* Windows: the W API, so names are UTF-8 both ways (the A API would use the ANSI code page). A
 * reparse point (symbolic link, junction) counts as a link; attributes come with the listing. */
int scan_folder(st_sdk_op_t *op, const char *dir, const char *extensions, scan_list_t *out) {
  out->entries = NULL;
  out->count = 0;
  char *pattern = scan_join(dir, "*");
  int n = pattern != NULL ? MultiByteToWideChar(CP_UTF8, 0, pattern, -1, NULL, 0) : 0;
  wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
  if (wide != NULL) MultiByteToWideChar(CP_UTF8, 0, pattern, -1, wide, n);
  free(pattern);
  if (wide == NULL) return ENOMEM;
  WIN32_FIND_DATAW e;
  HANDLE find = FindFirstFileW(wide, &e);
  free(wide);
  if (find == INVALID_HANDLE_VALUE) return GetLastError() == ERROR_ACCESS_DENIED ? EACCES : ENOENT;
  size_t cap = 0;
  int rc = 0;
  do {
    if (st_sdk_op_cancelled(op)) {
      rc = ECANCELED;
      break;
    }
    char name[MAX_PATH * 4];
    if (WideCharToMultiByte(CP_UTF8, 0, e.cFileName, -1, name, sizeof name, NULL, NULL) == 0)
      continue;
    if (name[0] == '.') continue; /* ".", ".." and hidden entries */
    bool is_folder = (e.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    if (!is_folder && !extension_wanted(name, extensions)) continue;
    if (!add_entry(out, &cap, name, is_folder,
                   (e.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0,
                   ((uint64_t)e.nFileSizeHigh << 32) | e.nFileSizeLow)) {
      rc = ENOMEM;
      break;
    }
  } while (FindNextFileW(find, &e));
  FindClose(find);
#else
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
    if (!add_entry(out, &cap, e->d_name, is_folder, S_ISLNK(link_st.st_mode),
                   (uint64_t)st.st_size)) {
      rc = ENOMEM;
      break;
    }
  }
  closedir(d);
#endif
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
