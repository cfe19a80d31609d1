/* folio_tenant: per-tenant limits (quotas, rate limits, fair shares), where
 * each is enforced, and the per-server limiter that enforces the per-server
 * ones. docs/security.md ("Quotas and fairness") lists them for operators.
 *
 * Every limit is written once, here (folio_tenant_limit_defs: name, default,
 * range, meaning). PostgreSQL stores per-tenant overrides in the tenants
 * table (migrations 0003, 0004), one nullable column per limit: NULL = the
 * default below (or the process's own value, folio_tenant_limit_def.process). Adding a limit = a column in a new migration, a field in struct
 * folio_tenant_limits, a row in folio_tenant_limit_defs and the column in
 * S_TENANT_SET (lib/jobs/stmts.c); readers find columns by name.
 *
 * Where each limit holds:
 *   max_unfinished_jobs     all servers: PostgreSQL, race-free (the submit
 *                           statement locks the tenant's row; a trigger keeps
 *                           tenants.unfinished_jobs exact).
 *   submit_rate/_burst      per server process (a token bucket in memory).
 *   max_bytes_in_flight     per server process.
 *   max_concurrent_decodes  per server process (its decode pool).
 *   max_running_jobs        all workers: the claim statement defers a job whose
 *                           tenant already has this many RUNNING (soft: claims
 *                           racing at the same instant may each pass).
 *   render_cpu_ms,          each render process, per job: the claim returns
 *   render_image_cache_bytes the tenant's values with the job (migration 0004).
 *   streams_per_tenant      per server process (StreamArtifact's slots).
 *   layout_max_bytes, layout_max_image_bytes_total, layout_max_pages
 *                           per server process (SubmitLayout's decode).
 * A server learns a changed override within FOLIO_TENANT_LIMITS_TTL_MS (it
 * rides on the API-key check, which re-reads the tenants row when its cache
 * entry expires); max_unfinished_jobs and max_running_jobs are read by the
 * statements themselves, so they apply at once, and so are render_cpu_ms and
 * render_image_cache_bytes (by the claim, for the jobs claimed after). */
#ifndef FOLIO_TENANT_H
#define FOLIO_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/layout.h"
#include "folio/pg.h"

/* The limits of one tenant, each resolved (an override or the default). */
struct folio_tenant_limits {
  int64_t max_unfinished_jobs;    /* QUEUED + RUNNING jobs; 0 refuses every submit */
  double submit_rate;             /* SubmitLayout calls per second (refill), per server */
  int64_t submit_burst;           /* token bucket size, per server */
  int64_t max_bytes_in_flight;    /* layout bytes being decoded/committed, per server */
  int64_t max_concurrent_decodes; /* decode-pool threads; 0 = half the pool (>= 1) */
  int64_t max_running_jobs;       /* RUNNING at once over all workers */
  /* Overrides of a process's own budget (0 = none: the process's configured
   * value, its FOLIO_* variable; see folio_tenant_limit_def.process). The
   * render_* and streams_* ones replace the process's value, above or below
   * it (the process-wide guards stay: FOLIO_RENDER_MEMORY_MAX_BYTES,
   * FOLIO_RENDER_TIMEOUT_MS); the layout_* ones can only lower it (the
   * worker decodes every job again with its own limits, and the transport's
   * message cap follows FOLIO_LAYOUT_MAX_BYTES), see
   * folio_tenant_layout_limits. */
  int64_t render_cpu_ms;                /* worker: FOLIO_RENDER_CPU_MS, per job */
  int64_t render_image_cache_bytes;     /* worker: FOLIO_RENDER_IMAGE_CACHE_BYTES */
  int64_t streams_per_tenant;           /* server: FOLIO_STREAMS_PER_TENANT */
  int64_t layout_max_bytes;             /* server: FOLIO_LAYOUT_MAX_BYTES */
  int64_t layout_max_image_bytes_total; /* server: FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL */
  int64_t layout_max_pages;             /* server: FOLIO_LAYOUT_MAX_PAGES */
};

#define FOLIO_TENANT_DEFAULT_MAX_UNFINISHED_JOBS 1000
#define FOLIO_TENANT_DEFAULT_SUBMIT_RATE 100.0
#define FOLIO_TENANT_DEFAULT_SUBMIT_BURST 200
#define FOLIO_TENANT_DEFAULT_MAX_BYTES_IN_FLIGHT (96LL << 20) /* three 32 MiB layouts */
#define FOLIO_TENANT_DEFAULT_MAX_CONCURRENT_DECODES 0         /* half the pool */
#define FOLIO_TENANT_DEFAULT_MAX_RUNNING_JOBS 4

/* Room for every limit in the per-limit arrays (folio_tenant_info.overridden,
 * folio_jobs_tenant_set's set/reset/value). */
#define FOLIO_TENANT_MAX_LIMITS 16

/* How long a server may act on a tenant's old overrides (the API-key cache
 * lifetime, FOLIO_AUTH_CACHE_MS in server/auth.h, must not exceed it). */
#define FOLIO_TENANT_LIMITS_TTL_MS 5000

enum folio_tenant_limit_kind { FOLIO_TENANT_INT, FOLIO_TENANT_REAL };

/* One limit: its column (and, with '-' for '_', its `tenant set` flag). */
struct folio_tenant_limit_def {
  const char *name;
  enum folio_tenant_limit_kind kind;
  size_t offset; /* of the int64_t or double in struct folio_tenant_limits */
  double def;    /* the default */
  double min;    /* smallest value accepted */
  const char *unit;
  const char *what; /* what it protects, one line */
  /* NULL for a limit whose default is def. Else the limit overrides a
   * process's own setting, named here ("FOLIO_RENDER_CPU_MS of the worker"):
   * def is 0 and means "not overridden", and `default` clears it. */
  const char *process;
};
extern const struct folio_tenant_limit_def folio_tenant_limit_defs[];
extern const size_t folio_tenant_nlimits;

/* Every limit at its default. */
void folio_tenant_limits_default(struct folio_tenant_limits *out);
/* The value of limit i in l, as a double. */
double folio_tenant_limit_get(const struct folio_tenant_limits *l, size_t i);
void folio_tenant_limit_set(struct folio_tenant_limits *l, size_t i, double v);
/* Index of the limit called name (column or flag spelling), or -1. */
int folio_tenant_limit_find(const char *name);
/* max_concurrent_decodes resolved for a pool of `threads`: the override, or
 * half the pool, never below 1. Pure. */
int folio_tenant_decode_share(const struct folio_tenant_limits *l, int threads);
/* The layout limits a tenant's documents are decoded with: *process (the
 * server's FOLIO_LAYOUT_*) with each layout_* override that is set and lower
 * applied (an override never raises a limit above the process's). Pure;
 * out may not alias process. Returns the names of the limits the tenant's
 * overrides lowered as a bit set over folio_tenant_limit_defs (0 = none). */
uint32_t folio_tenant_layout_limits(const struct folio_tenant_limits *l,
                                    const struct folio_layout_limits *process,
                                    struct folio_layout_limits *out);

/* ---- the tenants table (blocking; for `folio-server tenant` and tests) ----- */

struct folio_tenant_info {
  char name[129];
  char id[37];                        /* opaque; names the tenant's objects in S3 */
  struct folio_tenant_limits limits;  /* effective */
  bool overridden[FOLIO_TENANT_MAX_LIMITS]; /* per folio_tenant_limit_defs index */
  int64_t unfinished_jobs;
};

/* Reads one tenant. ENOTFOUND (FOLIO_JOBS_ENOTFOUND) when it has no row: a
 * tenant gets one with its first API key or job, or from folio_jobs_tenant_set. */
int folio_jobs_tenant_get(struct folio_pg_conn *c, const char *name, struct folio_tenant_info *out,
                          struct folio_pg_diag *diag);
/* Creates or updates a tenant's overrides: for each i with set[i], limit i
 * becomes value[i] (reset[i]: back to NULL = default). Limits not named keep
 * their override. EINVAL (diag names the limit) when a value is below its
 * minimum. */
int folio_jobs_tenant_set(struct folio_pg_conn *c, const char *name, const bool *set,
                          const bool *reset, const double *value, struct folio_pg_diag *diag);
/* Calls fn for every tenant, by name. */
int folio_jobs_tenant_list(struct folio_pg_conn *c,
                           void (*fn)(const struct folio_tenant_info *t, void *arg), void *arg,
                           struct folio_pg_diag *diag);

/* The S3 object key of a job's artifact: "<tenant id>/<job id>/<name>", the
 * tenant by its opaque id (folio_job_claim.tenant_id), never its name, so a
 * signed URL or a bucket listing shows no tenant name. Returns the length,
 * or -1 when it does not fit in cap. */
int folio_jobs_object_key(char *out, size_t cap, const char *tenant_id, const char *job_id,
                          const char *name);

/* ---- the per-server limiter ---------------------------------------------------
 * Per-tenant state of one server process: the limits it last learned (from
 * the API-key check), the token bucket of SubmitLayout and the layout bytes in
 * flight. Thread-safe (one mutex; each call is O(1) in a hash table).
 * Tenants idle for a minute with nothing in flight are forgotten. */
struct folio_quota;

struct folio_quota *folio_quota_create(void);
void folio_quota_destroy(struct folio_quota *q); /* NULL allowed */

/* Records the limits learned for tenant (copied). A raised submit_burst
 * adds its increase to the bucket at once; a lowered one caps it. */
void folio_quota_learn(struct folio_quota *q, const char *tenant,
                       const struct folio_tenant_limits *l, int64_t now_ns);
/* The limits last learned for tenant, or the defaults. */
void folio_quota_limits(struct folio_quota *q, const char *tenant, struct folio_tenant_limits *out);

/* Why folio_quota_admit refused. limit is a folio_tenant_limit_defs name. */
struct folio_quota_refusal {
  const char *limit;
  double value;        /* the limit's value for this tenant */
  int64_t retry_after_ms; /* when a retry may succeed (>= 1) */
};

/* Admits one SubmitLayout of `bytes` layout bytes for tenant at now_ns: takes
 * a token and reserves the bytes (release them with folio_quota_release when
 * the submit is over, whatever its outcome). 0, or -1 with *why filled and
 * nothing taken. A layout larger than max_bytes_in_flight on its own is
 * admitted when the tenant has nothing else in flight (so the limit never
 * refuses a layout the size limits accept). */
int folio_quota_admit(struct folio_quota *q, const char *tenant, size_t bytes, int64_t now_ns,
                      struct folio_quota_refusal *why);
void folio_quota_release(struct folio_quota *q, const char *tenant, size_t bytes);
/* The bytes tenant has in flight now (tests and logs). */
int64_t folio_quota_in_flight(struct folio_quota *q, const char *tenant);

/* ---- tenant admin ------------------------------------------------------------- */

/* `folio-server tenant show NAME | set NAME --<limit> V|default ... | list`;
 * argv[0] is "tenant". Configuration from FOLIO_DATABASE_URL. Exit code 0
 * done, 1 failed, 2 usage. */
int folio_jobs_tenant_main(int argc, char **argv, FILE *out, FILE *err);

#endif
