/* The render process's budgets (see budget.h): environment, the memory
 * ceiling, the per-job CPU account and the cancel hook. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "budget.h"

/* ASan reserves terabytes of shadow memory: no address-space or data ceiling. */
#if defined(__SANITIZE_ADDRESS__)
#define FOLIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FOLIO_ASAN 1
#endif
#endif

/* A render process that holds a document, its decoded images (the cache),
 * one page raster per thread and the S3 part buffers fits well inside this. */
#define DEFAULT_MEMORY_MAX (2ull << 30)
/* Ordinary jobs take well under a second of CPU per format; a 1000-page
 * catalogue at 300 dpi a few minutes. Half the wall-clock render timeout
 * (FOLIO_RENDER_TIMEOUT_MS, 600 s): a CPU bomb fails for good well before. */
#define DEFAULT_CPU_MS 300000u

static int env_u64(const char *name, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t cap) {
  const char *v = getenv(name);
  if (!v || !*v) return 0;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
    snprintf(err, cap, "%s: \"%s\" is not an integer in %" PRIu64 "..%" PRIu64, name, v, lo, hi);
    return -1;
  }
  *out = x;
  return 0;
}

int worker_budget_load(struct worker_budget *b, char *err, size_t cap) {
  memset(b, 0, sizeof *b);
  folio_render_budget_default(&b->render);
  b->render.cpu_ms = DEFAULT_CPU_MS;
  b->memory_max_bytes = DEFAULT_MEMORY_MAX;
  b->cpu_ms_name = "FOLIO_RENDER_CPU_MS";
  if (folio_layout_limits_from_env(&b->layout, err, cap)) return -1;
  uint64_t cache = b->render.image_cache_bytes, layouts = b->render.max_text_layouts;
  if (env_u64("FOLIO_RENDER_CPU_MS", 0, UINT32_MAX, &b->render.cpu_ms, err, cap) ||
      env_u64("FOLIO_RENDER_IMAGE_CACHE_BYTES", 0, SIZE_MAX, &cache, err, cap) ||
      env_u64("FOLIO_RENDER_MAX_TEXT_LAYOUTS", 3, 64, &layouts, err, cap) ||
      env_u64("FOLIO_RENDER_MEMORY_MAX_BYTES", 0, UINT64_MAX, &b->memory_max_bytes, err, cap))
    return -1;
  if (b->memory_max_bytes && b->memory_max_bytes < (64ull << 20)) {
    snprintf(err, cap, "FOLIO_RENDER_MEMORY_MAX_BYTES: %" PRIu64 " is below 64 MiB (0 = no ceiling)",
             b->memory_max_bytes);
    return -1;
  }
  b->render.image_cache_bytes = (size_t)cache;
  b->render.max_text_layouts = (unsigned)layouts;
  return 0;
}

int worker_budget_apply(const struct worker_budget *b, bool *applied, char *err, size_t cap) {
  *applied = false;
#ifdef FOLIO_ASAN
  (void)b;
  (void)err;
  (void)cap;
  return 0;
#else
  if (!b->memory_max_bytes) return 0;
  struct rlimit rl;
  if (getrlimit(RLIMIT_DATA, &rl)) {
    snprintf(err, cap, "getrlimit(RLIMIT_DATA): %s", strerror(errno));
    return -1;
  }
  rlim_t want = (rlim_t)b->memory_max_bytes;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) want = rl.rlim_max; /* never raise */
  rl.rlim_cur = want;
  if (setrlimit(RLIMIT_DATA, &rl)) {
    snprintf(err, cap, "setrlimit(RLIMIT_DATA, %" PRIu64 "): %s", (uint64_t)want, strerror(errno));
    return -1;
  }
  *applied = true;
  return 0;
#endif
}

static struct worker_budget g_budget;
static bool g_ready, g_ceiling;

int worker_budget_init(char *err, size_t cap) {
  if (worker_budget_load(&g_budget, err, cap)) return -1;
  if (worker_budget_apply(&g_budget, &g_ceiling, err, cap)) return -1;
  g_ready = true;
  return 0;
}

const struct worker_budget *worker_budget_get(bool *ceiling) {
  if (ceiling) *ceiling = g_ceiling;
  return g_ready ? &g_budget : NULL;
}

static int64_t cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return 0;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Before init (never in folio-worker): the built-in defaults. */
static const struct worker_budget *or_defaults(const struct worker_budget *b) {
  static struct worker_budget defaults;
  if (b) return b;
  char err[8];
  if (!defaults.render.max_text_layouts) (void)worker_budget_load(&defaults, err, 0);
  return &defaults;
}

void worker_budget_for_tenant(const struct worker_budget *b, int64_t cpu_ms,
                                    int64_t image_cache_bytes, struct worker_budget *out) {
  *out = *or_defaults(b);
  if (cpu_ms > 0) {
    out->render.cpu_ms = (uint64_t)cpu_ms;
    out->cpu_ms_name = "render_cpu_ms";
  }
  if (image_cache_bytes > 0)
    out->render.image_cache_bytes =
        (uint64_t)image_cache_bytes > SIZE_MAX ? SIZE_MAX : (size_t)image_cache_bytes;
}

void worker_budget_job_begin(struct worker_job_budget *j, const struct worker_budget *b) {
  b = or_defaults(b);
  j->b = b;
  j->cpu_start_ns = cpu_ns();
}

void worker_budget_for_render(const struct worker_job_budget *j, struct folio_render_budget *out) {
  *out = j->b->render;
  if (!out->cpu_ms) return;
  int64_t used_ms = (cpu_ns() - j->cpu_start_ns) / 1000000;
  out->cpu_ms = used_ms >= (int64_t)j->b->render.cpu_ms ? 1 : j->b->render.cpu_ms - (uint64_t)used_ms;
}

int worker_cancel_flag(void *ctx) { return atomic_load((_Atomic int *)ctx) != 0; }

bool worker_budget_error(const struct worker_budget *b, bool ceiling, int rc,
                               const struct folio_render_diag *rd, char *code, size_t code_cap,
                               char *msg, size_t msg_cap) {
  const char *why = rd->message[0] ? rd->message : folio_render_strerror(rc);
  if (rc == FOLIO_RENDER_E_LIMIT) {
    snprintf(code, code_cap, "RESOURCE_EXHAUSTED");
    if (strstr(why, "cpu_ms")) /* the render saw what was left of the job's allowance: name the job's */
      snprintf(msg, msg_cap, "%s%srender CPU time limit exceeded: the job used more than %s=%" PRIu64
               " ms of CPU%s", rd->pointer, rd->pointer[0] ? ": " : "",
               b->cpu_ms_name ? b->cpu_ms_name : "FOLIO_RENDER_CPU_MS", b->render.cpu_ms,
               b->cpu_ms_name && strcmp(b->cpu_ms_name, "render_cpu_ms") == 0
                   ? " (the tenant's override, folio-server tenant set)" : "");
    else
      snprintf(msg, msg_cap, "%s", why);
    return true;
  }
  if (rc == FOLIO_RENDER_E_NOMEM && ceiling) {
    snprintf(code, code_cap, "RESOURCE_EXHAUSTED");
    snprintf(msg, msg_cap, "render memory limit reached (FOLIO_RENDER_MEMORY_MAX_BYTES=%" PRIu64 "): %s",
             b->memory_max_bytes, why);
    return true;
  }
  return false;
}
