/*
 * test_platform.h — the few OS calls the C tests make, the same on POSIX and Windows: loading a
 * library (dlopen/dlsym/dlclose/dlerror, over LoadLibrary on Windows), the library suffix,
 * folders (make, make a fresh temporary one, remove a tree), copying a file. The plugins
 * themselves need none of this; only the tests that play the host do.
 */
#ifndef ST_TEST_PLATFORM_H
#define ST_TEST_PLATFORM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <direct.h>
#include <io.h>
#include <windows.h>

#define ST_LIB_SUFFIX ".dll"
#define RTLD_NOW 0
#define RTLD_LOCAL 0

static char st_dl_error_text[512];

static inline const char *st_dl_error_set(void) {
  DWORD code = GetLastError();
  int n = snprintf(st_dl_error_text, sizeof st_dl_error_text, "error %lu: ", (unsigned long)code);
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                 st_dl_error_text + n, (DWORD)(sizeof st_dl_error_text - (size_t)n), NULL);
  return st_dl_error_text;
}

static inline void *dlopen(const char *path, int flags) {
  (void)flags;
  HMODULE lib = LoadLibraryExA(path, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (lib == NULL) st_dl_error_set();
  return (void *)lib;
}

static inline void *dlsym(void *lib, const char *name) {
  return (void *)(uintptr_t)GetProcAddress((HMODULE)lib, name);
}

static inline int dlclose(void *lib) { return FreeLibrary((HMODULE)lib) ? 0 : -1; }

static inline const char *dlerror(void) { return st_dl_error_text; }

static inline int st_mkdir(const char *path) { return _mkdir(path); }

/* The folder for scratch files: %TEMP%, with forward slashes (Windows accepts them, and paths
 * the tests put into JSON then need no escaping). */
static inline const char *st_tmp_dir(void) {
  static char dir[MAX_PATH];
  const char *t = getenv("TEMP");
  snprintf(dir, sizeof dir, "%s", t != NULL && t[0] ? t : ".");
  for (char *c = dir; *c; c++) if (*c == '\\') *c = '/';
  return dir;
}

static inline char *st_mkdtemp(char *templ) {
  for (int tries = 0; tries < 100; tries++) {
    char *x = templ + strlen(templ) - 6;
    for (int i = 0; i < 6; i++) x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand() % 36];
    if (_mkdir(templ) == 0) return templ;
  }
  return NULL;
}

/* Removes a folder and everything in it (cmd's rmdir /s is not reliable under Wine). */
static inline int st_remove_tree(const char *path) {
  DWORD attrs = GetFileAttributesA(path);
  if (attrs == INVALID_FILE_ATTRIBUTES) return 0;
  if ((attrs & FILE_ATTRIBUTE_DIRECTORY) == 0) return DeleteFileA(path) ? 0 : -1;
  char pattern[MAX_PATH];
  snprintf(pattern, sizeof pattern, "%s/*", path);
  WIN32_FIND_DATAA e;
  HANDLE find = FindFirstFileA(pattern, &e);
  if (find != INVALID_HANDLE_VALUE) {
    do {
      if (strcmp(e.cFileName, ".") == 0 || strcmp(e.cFileName, "..") == 0) continue;
      char child[MAX_PATH];
      snprintf(child, sizeof child, "%s/%s", path, e.cFileName);
      st_remove_tree(child);
    } while (FindNextFileA(find, &e));
    FindClose(find);
  }
  return RemoveDirectoryA(path) ? 0 : -1;
}

static inline int st_copy_file(const char *from, const char *to) {
  return CopyFileA(from, to, FALSE) ? 0 : -1;
}

#else /* POSIX */
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __APPLE__
#define ST_LIB_SUFFIX ".dylib"
#else
#define ST_LIB_SUFFIX ".so"
#endif

static inline int st_mkdir(const char *path) { return mkdir(path, 0777); }

static inline const char *st_tmp_dir(void) { return "/tmp"; }

static inline char *st_mkdtemp(char *templ) { return mkdtemp(templ); }

static inline int st_remove_tree(const char *path) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  return system(cmd) == 0 ? 0 : -1;
}

static inline int st_copy_file(const char *from, const char *to) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
  return system(cmd) == 0 ? 0 : -1;
}
#endif

#endif /* ST_TEST_PLATFORM_H */
