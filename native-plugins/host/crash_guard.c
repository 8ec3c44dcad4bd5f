/* crash_guard.c — the crash handler of every process that loads plugins (see st_host.h).
 *
 * A plugin that faults takes its process down; nothing can make that safe. What the host can do
 * is leave a record naming the guilty library build, so the next start refuses to load it. The
 * handler therefore only reads tables filled in advance and writes one file with open/write/close
 * (async-signal-safe calls; dladdr and backtrace are the two pragmatic exceptions: both read the
 * loader's tables, backtrace is primed at install so it does not allocate here). Then it chains to
 * the handler that was installed before it: V8 turns WebAssembly bounds-check faults (SIGSEGV in
 * JIT code) into JS exceptions, and such a fault must reach it untouched, without a record. */
#if !defined(_WIN32)
#define _GNU_SOURCE
#endif
#include "st_host.h"

#include <string.h>

#if defined(_WIN32)
/* Windows has no POSIX signals; a vectored exception handler would go here. Until then the guard
 * reports itself as not installed and the host simply runs without crash records. */
int st_host_crash_guard_install(const char *record_dir, const char *process_role) {
  (void)record_dir;
  (void)process_role;
  return -1;
}
int st_host_crash_guard_add_library(const char *mapped_path, const char *plugin_id, const char *fingerprint) {
  (void)mapped_path;
  (void)plugin_id;
  (void)fingerprint;
  return -1;
}
void st_host_crash_guard_remove_library(const char *mapped_path) { (void)mapped_path; }
void st_host_crash_guard_set_step(const char *thread_role, const char *step) {
  (void)thread_role;
  (void)step;
}
#else

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
#include <ucontext.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#define MAX_LIBS 128
#define MAX_THREADS 64
#define PATH_CAP 1024
#define MAX_FRAMES 32

typedef struct guarded_lib {
  _Atomic int state; /* 0 free, 1 being written, 2 live */
  char path[PATH_CAP];
  char plugin_id[136];
  char fingerprint[96];
} guarded_lib_t;

typedef struct guarded_thread {
  _Atomic long tid;
  char role[32];
  char step[64];
} guarded_thread_t;

static guarded_lib_t g_libs[MAX_LIBS];
static guarded_thread_t g_threads[MAX_THREADS];
static char g_dir[PATH_CAP];
static char g_process_role[32];
static _Atomic int g_installed;
static _Atomic int g_in_handler;
static const int g_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define SIGNAL_COUNT (int)(sizeof g_signals / sizeof g_signals[0])
static struct sigaction g_previous[SIGNAL_COUNT];
/* 64 KiB: enough for dladdr, backtrace and the record buffer below. */
#define ALT_STACK_BYTES (64 * 1024)

static long current_tid(void) {
#ifdef __linux__
  return (long)syscall(SYS_gettid);
#else
  return (long)(intptr_t)pthread_self();
#endif
}

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  if (src)
    for (; src[i] && i + 1 < cap; i++) dst[i] = src[i];
  dst[i] = '\0';
}

/* The alternate stack we gave a thread, freed when the thread exits (a worker thread that comes
 * and goes must not leave 64 KiB behind each time; valgrind's --valgrind checker run found it). */
static pthread_key_t g_alt_stack_key;
static pthread_once_t g_alt_stack_once = PTHREAD_ONCE_INIT;

static void free_alt_stack(void *stack) {
  stack_t off;
  memset(&off, 0, sizeof off);
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, NULL);
  free(stack);
}

static void make_alt_stack_key(void) { (void)pthread_key_create(&g_alt_stack_key, free_alt_stack); }

/* Threads that run on a stack the kernel can reach even when the fault was a stack overflow. */
static void ensure_alt_stack(void) {
  stack_t current;
  if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE) && current.ss_sp) return;
  pthread_once(&g_alt_stack_once, make_alt_stack_key);
  stack_t ss;
  ss.ss_sp = malloc(ALT_STACK_BYTES);
  if (!ss.ss_sp) return;
  ss.ss_size = ALT_STACK_BYTES;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) {
    free(ss.ss_sp);
    return;
  }
  (void)pthread_setspecific(g_alt_stack_key, ss.ss_sp);
}

void st_host_crash_guard_set_step(const char *thread_role, const char *step) {
  long tid = current_tid();
  guarded_thread_t *slot = NULL;
  for (int i = 0; i < MAX_THREADS; i++)
    if (atomic_load(&g_threads[i].tid) == tid) {
      slot = &g_threads[i];
      break;
    }
  if (!slot) {
    for (int i = 0; i < MAX_THREADS && !slot; i++) {
      long expected = 0;
      if (atomic_compare_exchange_strong(&g_threads[i].tid, &expected, tid)) slot = &g_threads[i];
    }
    if (!slot) return;
    ensure_alt_stack();
  }
  if (thread_role) copy_str(slot->role, sizeof slot->role, thread_role);
  copy_str(slot->step, sizeof slot->step, step);
}

int st_host_crash_guard_add_library(const char *mapped_path, const char *plugin_id, const char *fingerprint) {
  if (!mapped_path) return -1;
  for (int i = 0; i < MAX_LIBS; i++) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_libs[i].state, &expected, 1)) continue;
    copy_str(g_libs[i].path, sizeof g_libs[i].path, mapped_path);
    copy_str(g_libs[i].plugin_id, sizeof g_libs[i].plugin_id, plugin_id);
    copy_str(g_libs[i].fingerprint, sizeof g_libs[i].fingerprint, fingerprint);
    atomic_store(&g_libs[i].state, 2);
    return i;
  }
  return -1;
}

void st_host_crash_guard_remove_library(const char *mapped_path) {
  if (!mapped_path) return;
  for (int i = 0; i < MAX_LIBS; i++) {
    if (atomic_load(&g_libs[i].state) == 2 && strcmp(g_libs[i].path, mapped_path) == 0) {
      atomic_store(&g_libs[i].state, 0);
      return;
    }
  }
}

/* ---- inside the handler: no allocation, no stdio ------------------------------------------- */

typedef struct out_buf {
  char data[12 * 1024];
  size_t len;
} out_buf_t;

static void put(out_buf_t *b, const char *s) {
  while (s && *s && b->len + 1 < sizeof b->data) b->data[b->len++] = *s++;
}

/* A JSON string body: quotes, backslashes and control characters escaped. */
static void put_json(out_buf_t *b, const char *s) {
  put(b, "\"");
  for (; s && *s && b->len + 8 < sizeof b->data; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      b->data[b->len++] = '\\';
      b->data[b->len++] = (char)c;
    } else if (c < 0x20) {
      b->data[b->len++] = '?';
    } else {
      b->data[b->len++] = (char)c;
    }
  }
  put(b, "\"");
}

static void put_u64(out_buf_t *b, uint64_t v) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) && n < 23);
  while (n) {
    char c[2] = {tmp[--n], 0};
    put(b, c);
  }
}

static void put_hex(out_buf_t *b, uintptr_t v) {
  char tmp[2 + 2 * sizeof v + 1];
  int n = 0;
  tmp[n++] = '0';
  tmp[n++] = 'x';
  int started = 0;
  for (int shift = (int)(sizeof v * 8) - 4; shift >= 0; shift -= 4) {
    unsigned d = (unsigned)((v >> shift) & 0xf);
    if (d || started || shift == 0) {
      tmp[n++] = "0123456789abcdef"[d];
      started = 1;
    }
  }
  tmp[n] = 0;
  put(b, tmp);
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

static void *pc_of(void *ucontext) {
  ucontext_t *uc = (ucontext_t *)ucontext;
  if (!uc) return NULL;
#if defined(__linux__) && defined(__x86_64__)
  return (void *)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__linux__) && defined(__aarch64__)
  return (void *)uc->uc_mcontext.pc;
#elif defined(__linux__) && defined(__i386__)
  return (void *)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__APPLE__) && defined(__x86_64__)
  return (void *)uc->uc_mcontext->__ss.__rip;
#elif defined(__APPLE__) && defined(__aarch64__)
  return (void *)uc->uc_mcontext->__ss.__pc;
#else
  return NULL;
#endif
}

static int guarded_index(const char *fname) {
  if (!fname) return -1;
  for (int i = 0; i < MAX_LIBS; i++)
    if (atomic_load(&g_libs[i].state) == 2 && strcmp(g_libs[i].path, fname) == 0) return i;
  return -1;
}

static void write_record(int sig, siginfo_t *info, void *pc, void *const *frames, int nframes, int lib) {
  static out_buf_t b; /* static: the alternate stack is small; g_in_handler serialises use */
  b.len = 0;
  long tid = current_tid();
  const char *role = NULL, *step = NULL;
  for (int i = 0; i < MAX_THREADS; i++)
    if (atomic_load(&g_threads[i].tid) == tid) {
      role = g_threads[i].role;
      step = g_threads[i].step;
      break;
    }
  char thread_name[17] = {0};
#ifdef __linux__
  prctl(PR_GET_NAME, thread_name, 0, 0, 0);
#endif
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;

  put(&b, "{\"version\":1,\"signal\":");
  put_json(&b, signal_name(sig));
  put(&b, ",\"signo\":");
  put_u64(&b, (uint64_t)sig);
  put(&b, ",\"pluginId\":");
  if (lib >= 0) put_json(&b, g_libs[lib].plugin_id); else put(&b, "null");
  put(&b, ",\"fingerprint\":");
  if (lib >= 0) put_json(&b, g_libs[lib].fingerprint); else put(&b, "null");
  put(&b, ",\"library\":");
  if (lib >= 0) put_json(&b, g_libs[lib].path); else put(&b, "null");
  put(&b, ",\"process\":");
  put_json(&b, g_process_role);
  put(&b, ",\"pid\":");
  put_u64(&b, (uint64_t)getpid());
  put(&b, ",\"tid\":");
  put_u64(&b, (uint64_t)tid);
  put(&b, ",\"mainThread\":");
  put(&b, tid == (long)getpid() ? "true" : "false");
  put(&b, ",\"threadRole\":");
  if (role && role[0]) put_json(&b, role); else put(&b, "null");
  put(&b, ",\"threadName\":");
  put_json(&b, thread_name);
  put(&b, ",\"step\":");
  if (step && step[0]) put_json(&b, step); else put(&b, "null");
  put(&b, ",\"faultAddress\":\"");
  put_hex(&b, (uintptr_t)(info ? info->si_addr : NULL));
  put(&b, "\",\"pc\":\"");
  put_hex(&b, (uintptr_t)pc);
  put(&b, "\",\"timeMs\":");
  put_u64(&b, ms);
  put(&b, ",\"frames\":[");
  for (int i = 0; i < nframes; i++) {
    Dl_info di;
    memset(&di, 0, sizeof di);
    int found = dladdr(frames[i], &di);
    if (i) put(&b, ",");
    put(&b, "{\"pc\":\"");
    put_hex(&b, (uintptr_t)frames[i]);
    put(&b, "\",\"library\":");
    if (found && di.dli_fname) put_json(&b, di.dli_fname); else put(&b, "null");
    put(&b, ",\"offset\":\"");
    put_hex(&b, found ? (uintptr_t)frames[i] - (uintptr_t)di.dli_fbase : 0);
    put(&b, "\",\"symbol\":");
    if (found && di.dli_sname) put_json(&b, di.dli_sname); else put(&b, "null");
    put(&b, "}");
  }
  put(&b, "]}\n");

  out_buf_t name;
  name.len = 0;
  put(&name, g_dir);
  put(&name, "/crash-");
  put_u64(&name, ms);
  put(&name, "-");
  put_u64(&name, (uint64_t)getpid());
  put(&name, ".json");
  name.data[name.len] = 0;
  int fd = open(name.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t off = 0;
    while (off < b.len) {
      ssize_t n = write(fd, b.data + off, b.len - off);
      if (n <= 0) break;
      off += (size_t)n;
    }
    close(fd);
  }
  /* One line on stderr too, so a crash is never silent. */
  static const char prefix[] = "[stellatune] fatal ";
  ssize_t ignored = write(2, prefix, sizeof prefix - 1);
  ignored = write(2, b.data, b.len < 600 ? b.len : 600);
  if (b.len >= 600) ignored = write(2, "…\n", 4);
  (void)ignored;
}

static void chain(int index, int sig, siginfo_t *info, void *uc) {
  struct sigaction *prev = &g_previous[index];
  if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
    prev->sa_sigaction(sig, info, uc);
    return;
  }
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN && prev->sa_handler) {
    prev->sa_handler(sig);
    return;
  }
  /* Default action: restore it; a hardware fault re-executes the instruction and dies with it,
   * a sent signal (abort(), kill) is raised again and delivered when the handler returns. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  if (sig == SIGABRT || !info || info->si_code <= 0) raise(sig);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uc) {
  int saved_errno = errno;
  int index = 0;
  while (index < SIGNAL_COUNT && g_signals[index] != sig) index++;
  void *pc = pc_of(uc);
  Dl_info di;
  memset(&di, 0, sizeof di);
  /* A PC in no mapped file is JIT code: a WebAssembly trap for V8, or V8's own crash. Either way
   * it is not a plugin's; hand it on untouched (this is the hot path of wasm bounds checks). */
  int mapped = pc && dladdr(pc, &di) && di.dli_fname;
  if (mapped && atomic_exchange(&g_in_handler, 1) == 0) {
    void *frames[MAX_FRAMES + 8];
    int n = backtrace(frames, MAX_FRAMES + 8);
    /* Drop the handler's own frames: the backtrace through the signal frame starts near pc. */
    int start = 0;
    for (int i = 0; i < n; i++)
      if (frames[i] == pc) {
        start = i;
        break;
      }
    void **from = frames + start;
    int count = n - start;
    if (count > MAX_FRAMES) count = MAX_FRAMES;
    if (start == 0 && (count == 0 || frames[0] != pc)) {
      /* The unwinder did not find the signal frame: report the PC alone, then what it saw. */
      from = frames;
      count = n > MAX_FRAMES ? MAX_FRAMES : n;
    }
    /* The guilty plugin: the library of the PC, else the innermost plugin frame (a fault inside
     * libc's memcpy called by a plugin, or abort() from one). */
    int lib = guarded_index(di.dli_fname);
    for (int i = 0; lib < 0 && i < count; i++) {
      Dl_info fi;
      if (dladdr(from[i], &fi) && fi.dli_fname) lib = guarded_index(fi.dli_fname);
    }
    write_record(sig, info, pc, from, count, lib);
  }
  errno = saved_errno;
  chain(index, sig, info, uc);
}

int st_host_crash_guard_install(const char *record_dir, const char *process_role) {
  if (!record_dir) return -1;
  copy_str(g_process_role, sizeof g_process_role, process_role ? process_role : "host");
  if (atomic_exchange(&g_installed, 1)) {
    copy_str(g_dir, sizeof g_dir, record_dir);
    return 0;
  }
  copy_str(g_dir, sizeof g_dir, record_dir);
  /* Prime backtrace: its first call loads libgcc_s, which must not happen inside the handler. */
  void *prime[4];
  (void)backtrace(prime, 4);
  ensure_alt_stack();
  for (int i = 0; i < SIGNAL_COUNT; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(g_signals[i], &sa, &g_previous[i]) != 0) return -1;
  }
  return 0;
}

#endif /* !_WIN32 */
