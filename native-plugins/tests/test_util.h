/* test_util.h — the few helpers the C tests share: checks that count failures, and a clock. */
#ifndef ST_TEST_UTIL_H
#define ST_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "include/test_platform.h"

static int st_test_failures;

#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                   \
      st_test_failures++;                                                                        \
    }                                                                                            \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                                       \
  do {                                                                                           \
    long long st_a_ = (long long)(a), st_b_ = (long long)(b);                                    \
    if (st_a_ != st_b_) {                                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a,  \
              #b, st_a_, st_b_);                                                                 \
      st_test_failures++;                                                                        \
    }                                                                                            \
  } while (0)

static inline double st_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline void st_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Runs one test function and reports it. */
#define RUN(test)                                                                                \
  do {                                                                                           \
    int st_before_ = st_test_failures;                                                           \
    test();                                                                                      \
    fprintf(stderr, "%s %s\n", st_test_failures == st_before_ ? "ok  " : "FAIL", #test);         \
  } while (0)

#endif /* ST_TEST_UTIL_H */
