/* What one render process may spend on one job: the render budget handed to
 * lib/render (image cache, text layouts, CPU time per job), the layout
 * limits the job is decoded with, and the process's hard memory ceiling.
 * Read once from the environment (FOLIO_RENDER_*; see
 * docs/operations-worker.md and docs/security.md), applied per process and
 * per job. A tenant's overrides (render_cpu_ms, render_image_cache_bytes in
 * the tenants table, read with the claim; folio/tenant.h) replace fields of
 * the job's copy (worker_budget_for_tenant), and
 * worker_budget_job_begin takes that copy.
 *
 * Thread: the render process's main thread, but worker_cancel_flag,
 * which any rendering thread may call. */
#ifndef FOLIO_WORKER_BUDGET_H
#define FOLIO_WORKER_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/layout.h"
#include "folio/render.h"

struct worker_budget {
  struct folio_render_budget render; /* cpu_ms is per job (all formats together) */
  struct folio_layout_limits layout; /* FOLIO_LAYOUT_* (folio_layout_limits_from_env) */
  uint64_t memory_max_bytes;         /* FOLIO_RENDER_MEMORY_MAX_BYTES; 0 = none */
  /* Where render.cpu_ms comes from, as a job's error names it:
   * "FOLIO_RENDER_CPU_MS", or "render_cpu_ms" when the tenant's override. */
  const char *cpu_ms_name;
};

/* Defaults, then the environment. 0, or -1 with a line naming the variable in err. */
int worker_budget_load(struct worker_budget *b, char *err, size_t cap);

/* In a render process, before any job: the memory ceiling (RLIMIT_DATA, so
 * reserved-but-unused address space does not count; skipped in ASan builds,
 * whose shadow memory is terabytes of reservations). Returns 0, or -1 with
 * the reason in err. *applied says whether a ceiling is in force. */
int worker_budget_apply(const struct worker_budget *b, bool *applied, char *err, size_t cap);

/* The render process's own budget, loaded and applied once at its start
 * (worker_budget_load + _apply); worker_budget_get returns it
 * (NULL before init) and whether a memory ceiling is in force. */
int worker_budget_init(char *err, size_t cap);
const struct worker_budget *worker_budget_get(bool *ceiling);

/* A job's budget: *b (NULL = the built-in defaults) with the tenant's
 * overrides that are set (> 0) in place: cpu_ms (also renaming cpu_ms_name
 * to the tenant's limit) and image_cache_bytes. An override may be above or
 * below the process's value; the process-wide memory ceiling
 * (memory_max_bytes, applied once per process) is never overridden. */
void worker_budget_for_tenant(const struct worker_budget *b, int64_t cpu_ms,
                                    int64_t image_cache_bytes, struct worker_budget *out);

/* One job's CPU account: the process CPU clock when the job began. */
struct worker_job_budget {
  const struct worker_budget *b;
  int64_t cpu_start_ns;
};
void worker_budget_job_begin(struct worker_job_budget *j, const struct worker_budget *b);
/* The render budget for the job's next render call: cpu_ms is what is left
 * of the job's allowance (at least 1 ms, so an exhausted job stops at once). */
void worker_budget_for_render(const struct worker_job_budget *j, struct folio_render_budget *out);

/* A folio_render_cancel_fn over a job's stop flag (an _Atomic int, nonzero =
 * stop): ctx is the flag's address. */
int worker_cancel_flag(void *ctx);

/* How a render failure caused by a budget reads in the job's error: for
 * E_LIMIT, E_NOMEM under a memory ceiling, and E_IMAGE too-large. Fills code
 * (cap 40) and msg; returns true when the failure is a budget's (permanent:
 * the same document would exhaust it again). */
bool worker_budget_error(const struct worker_budget *b, bool ceiling, int rc,
                               const struct folio_render_diag *rd, char *code, size_t code_cap,
                               char *msg, size_t msg_cap);

#endif
