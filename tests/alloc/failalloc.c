/* Allocation-failure injection for the unit tests (curl's "torture" idea):
 * with FOLIO_ALLOC_FAIL_AT=N the Nth allocation made by code linked into the
 * test binary returns NULL (errno ENOMEM); every other allocation succeeds.
 *
 * Which allocations count: the test is linked with -Wl,--wrap=malloc (and
 * calloc, realloc, strdup, strndup; see CMakeLists.txt), and --wrap rewrites
 * only the calls made from the objects of that link: the test and the static
 * folio libraries. Calls made inside shared libraries (glibc, libpng, cairo,
 * libcurl, libsodium, ASan's own) reach the real allocator untouched, so a
 * failure always lands on a folio branch, never inside a library whose OOM
 * handling we do not own. It also keeps ASan in charge of the real heap.
 *
 * FOLIO_ALLOC_COUNT_FILE=path: at exit, the number of counted allocations
 * is written there (tests/alloc/torture.py uses it to know how many runs a
 * test needs, and that the Nth allocation was reached).
 *
 * Thread-safe (one atomic counter); a test that allocates from several
 * threads gets a nondeterministic order, so only single-threaded tests are
 * labelled "allocfail". */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_ulong count;
static unsigned long fail_at; /* 0: never */

__attribute__((constructor)) static void alloc_fail_init(void) {
  const char *s = getenv("FOLIO_ALLOC_FAIL_AT");
  if (s && *s) fail_at = strtoul(s, NULL, 10);
}

__attribute__((destructor)) static void alloc_fail_report(void) {
  const char *path = getenv("FOLIO_ALLOC_COUNT_FILE");
  if (!path || !*path) return;
  char line[32];
  int n = snprintf(line, sizeof line, "%lu\n", (unsigned long)atomic_load(&count));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (n > 0 && write(fd, line, (size_t)n) < 0) {
    /* nothing to do: the driver treats a missing count as a failure */
  }
  close(fd);
}

/* True when this allocation is the one to fail. */
static int fail_now(void) {
  unsigned long n = atomic_fetch_add(&count, 1) + 1;
  if (fail_at && n == fail_at) {
    errno = ENOMEM;
    return 1;
  }
  return 0;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fail_now() ? NULL : __real_strndup(s, n); }
