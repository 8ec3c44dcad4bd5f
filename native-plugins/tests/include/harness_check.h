/*
 * harness_check.h — the checks of the built-in plugins' C tests: CHECK counts a failure and says
 * where and why without stopping the test, and harness_result turns the count into the exit code.
 * plugin_harness.h includes it; a unit test that loads no plugin (wav_writer_test) includes it
 * alone.
 */
#ifndef ST_HARNESS_CHECK_H
#define ST_HARNESS_CHECK_H

#include <stdio.h>

static int g_failures;

#define CHECK(cond, ...)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      g_failures++;                                                                          \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
      fprintf(stderr, __VA_ARGS__);                                                          \
      fputc('\n', stderr);                                                                   \
    }                                                                                        \
  } while (0)

/* The exit code of a test: 1 (after printing the count) if a check failed, else 0 after "ok". */
static inline int harness_result(void) {
  if (g_failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}

#endif /* ST_HARNESS_CHECK_H */
