/* The tenant limits table (folio_tenant_limit_defs), the tenants rows
 * (blocking reads and writes for `folio-server tenant`) and object keys.
 * See folio/tenant.h. */
#include "folio/tenant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_int.h"

#define OFF(f) offsetof(struct folio_tenant_limits, f)

const struct folio_tenant_limit_def folio_tenant_limit_defs[] = {
    {"max_unfinished_jobs", FOLIO_TENANT_INT, OFF(max_unfinished_jobs),
     FOLIO_TENANT_DEFAULT_MAX_UNFINISHED_JOBS, 0, "jobs",
     "QUEUED + RUNNING jobs of the tenant, over every server (the job table and the render queue)", NULL},
    {"submit_rate", FOLIO_TENANT_REAL, OFF(submit_rate), FOLIO_TENANT_DEFAULT_SUBMIT_RATE, 0.001,
     "per second", "SubmitLayout calls per second per server (the server's CPU and the database)", NULL},
    {"submit_burst", FOLIO_TENANT_INT, OFF(submit_burst), FOLIO_TENANT_DEFAULT_SUBMIT_BURST, 1,
     "calls", "SubmitLayout calls admitted at once after an idle spell, per server", NULL},
    {"max_bytes_in_flight", FOLIO_TENANT_INT, OFF(max_bytes_in_flight),
     (double)FOLIO_TENANT_DEFAULT_MAX_BYTES_IN_FLIGHT, 1, "bytes",
     "layout bytes being decoded or committed at once, per server (server memory)", NULL},
    {"max_concurrent_decodes", FOLIO_TENANT_INT, OFF(max_concurrent_decodes),
     FOLIO_TENANT_DEFAULT_MAX_CONCURRENT_DECODES, 0, "threads",
     "decode-pool threads one tenant may hold, per server; 0 = half the pool", NULL},
    {"max_running_jobs", FOLIO_TENANT_INT, OFF(max_running_jobs),
     FOLIO_TENANT_DEFAULT_MAX_RUNNING_JOBS, 1, "jobs",
     "RUNNING jobs at once over every worker (render processes)", NULL},
    {"render_cpu_ms", FOLIO_TENANT_INT, OFF(render_cpu_ms), 0, 1, "ms",
     "CPU time of one job's render, all formats (render processes); may exceed the worker's",
     "FOLIO_RENDER_CPU_MS of the worker"},
    {"render_image_cache_bytes", FOLIO_TENANT_INT, OFF(render_image_cache_bytes), 0, 1, "bytes",
     "decoded images one job's render keeps (render memory); may exceed the worker's, "
     "FOLIO_RENDER_MEMORY_MAX_BYTES still holds",
     "FOLIO_RENDER_IMAGE_CACHE_BYTES of the worker"},
    {"streams_per_tenant", FOLIO_TENANT_INT, OFF(streams_per_tenant), 0, 1, "streams",
     "concurrent StreamArtifact calls per server (S3 connections, stream slots); may exceed "
     "the server's",
     "FOLIO_STREAMS_PER_TENANT of the server"},
    {"layout_max_bytes", FOLIO_TENANT_INT, OFF(layout_max_bytes), 0, 1, "bytes",
     "one layout document (decode memory and CPU); only lowers the server's",
     "FOLIO_LAYOUT_MAX_BYTES of the server"},
    {"layout_max_image_bytes_total", FOLIO_TENANT_INT, OFF(layout_max_image_bytes_total), 0, 1,
     "bytes", "decoded image bytes one document may ask for (decode and render CPU); only lowers "
     "the server's",
     "FOLIO_LAYOUT_MAX_IMAGE_BYTES_TOTAL of the server"},
    {"layout_max_pages", FOLIO_TENANT_INT, OFF(layout_max_pages), 0, 1, "pages",
     "pages of one document (render time); only lowers the server's",
     "FOLIO_LAYOUT_MAX_PAGES of the server"},
};
const size_t folio_tenant_nlimits = sizeof folio_tenant_limit_defs / sizeof folio_tenant_limit_defs[0];

_Static_assert(sizeof folio_tenant_limit_defs / sizeof folio_tenant_limit_defs[0] <=
                   sizeof ((struct folio_tenant_info *)0)->overridden,
               "folio_tenant_info.overridden has a flag per limit");

double folio_tenant_limit_get(const struct folio_tenant_limits *l, size_t i) {
  const char *p = (const char *)l + folio_tenant_limit_defs[i].offset;
  if (folio_tenant_limit_defs[i].kind == FOLIO_TENANT_REAL) {
    double d;
    memcpy(&d, p, sizeof d);
    return d;
  }
  int64_t v;
  memcpy(&v, p, sizeof v);
  return (double)v;
}

void folio_tenant_limit_set(struct folio_tenant_limits *l, size_t i, double v) {
  char *p = (char *)l + folio_tenant_limit_defs[i].offset;
  if (folio_tenant_limit_defs[i].kind == FOLIO_TENANT_REAL) {
    memcpy(p, &v, sizeof v);
  } else {
    int64_t n = (int64_t)llround(v);
    memcpy(p, &n, sizeof n);
  }
}

void folio_tenant_limits_default(struct folio_tenant_limits *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < folio_tenant_nlimits; i++)
    folio_tenant_limit_set(out, i, folio_tenant_limit_defs[i].def);
}

int folio_tenant_limit_find(const char *name) {
  for (size_t i = 0; name && i < folio_tenant_nlimits; i++) {
    const char *a = folio_tenant_limit_defs[i].name, *b = name;
    while (*a && (*a == *b || (*a == '_' && *b == '-'))) a++, b++;
    if (!*a && !*b) return (int)i;
  }
  return -1;
}

uint32_t folio_tenant_layout_limits(const struct folio_tenant_limits *l,
                                    const struct folio_layout_limits *process,
                                    struct folio_layout_limits *out) {
  *out = *process;
  uint32_t lowered = 0;
  /* an override only ever lowers its field (folio/tenant.h) */
  if (l->layout_max_bytes > 0 && (uint64_t)l->layout_max_bytes < (uint64_t)process->max_bytes) {
    out->max_bytes = (size_t)l->layout_max_bytes;
    lowered |= 1u << (unsigned)folio_tenant_limit_find("layout_max_bytes");
  }
  if (l->layout_max_image_bytes_total > 0 &&
      (uint64_t)l->layout_max_image_bytes_total < process->max_image_bytes_total) {
    out->max_image_bytes_total = (uint64_t)l->layout_max_image_bytes_total;
    lowered |= 1u << (unsigned)folio_tenant_limit_find("layout_max_image_bytes_total");
  }
  if (l->layout_max_pages > 0 && (uint64_t)l->layout_max_pages < (uint64_t)process->max_pages) {
    out->max_pages = (size_t)l->layout_max_pages;
    lowered |= 1u << (unsigned)folio_tenant_limit_find("layout_max_pages");
  }
  return lowered;
}

int folio_tenant_decode_share(const struct folio_tenant_limits *l, int threads) {
  int64_t n = l->max_concurrent_decodes > 0 ? l->max_concurrent_decodes : threads / 2;
  if (n > threads) n = threads;
  return n < 1 ? 1 : (int)n;
}

/* Reads the limit columns of row `row` (found by name; NULL = default). */
void folio_jobs_tenant_limits_decode(const PGresult *r, int row, struct folio_tenant_limits *out,
                                     bool *overridden) {
  folio_tenant_limits_default(out);
  for (size_t i = 0; i < folio_tenant_nlimits; i++) {
    int col = PQfnumber(r, folio_tenant_limit_defs[i].name);
    bool set = col >= 0 && row < PQntuples(r) && !PQgetisnull(r, row, col);
    if (overridden) overridden[i] = set;
    if (set) folio_tenant_limit_set(out, i, strtod(PQgetvalue(r, row, col), NULL));
  }
}

static void info_decode(const PGresult *r, int row, struct folio_tenant_info *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", PQgetvalue(r, row, PQfnumber(r, "name")));
  snprintf(out->id, sizeof out->id, "%s", PQgetvalue(r, row, PQfnumber(r, "id")));
  out->unfinished_jobs = strtoll(PQgetvalue(r, row, PQfnumber(r, "unfinished_jobs")), NULL, 10);
  folio_jobs_tenant_limits_decode(r, row, &out->limits, out->overridden);
}

int folio_jobs_tenant_get(struct folio_pg_conn *c, const char *name, struct folio_tenant_info *out,
                          struct folio_pg_diag *diag) {
  int rc = folio_jobs_check_tenant(name, diag);
  if (rc) return rc;
  const char *v[1] = {name};
  struct folio_pg_params p = {1, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_TENANT_GET, &p, &r, diag);
  if (rc) return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    folio_jobs_diag(diag, "no tenant %s (it has no API key, job or settings yet)", name);
    return FOLIO_JOBS_ENOTFOUND;
  }
  info_decode(r, 0, out);
  PQclear(r);
  return 0;
}

int folio_jobs_tenant_set(struct folio_pg_conn *c, const char *name, const bool *set,
                          const bool *reset, const double *value, struct folio_pg_diag *diag) {
  int rc = folio_jobs_check_tenant(name, diag);
  if (rc) return rc;
  /* S_TENANT_SET: $1 name, then per limit in folio_tenant_limit_defs order
   * a "keep" flag and the new value (NULL = default). */
  enum { MAXP = 1 + 2 * FOLIO_TENANT_MAX_LIMITS };
  const char *v[MAXP] = {name};
  char buf[FOLIO_TENANT_MAX_LIMITS][40];
  for (size_t i = 0; i < folio_tenant_nlimits; i++) {
    const struct folio_tenant_limit_def *d = &folio_tenant_limit_defs[i];
    bool change = set[i] || reset[i];
    if (set[i] && !reset[i] && (!isfinite(value[i]) || value[i] < d->min || value[i] > 9e15)) {
      folio_jobs_diag(diag, "%s: %g is outside %g..9e15", d->name, value[i], d->min);
      return FOLIO_JOBS_EINVAL;
    }
    v[1 + 2 * i] = change ? "f" : "t";
    v[2 + 2 * i] = NULL;
    if (set[i] && !reset[i]) {
      if (d->kind == FOLIO_TENANT_REAL) snprintf(buf[i], sizeof buf[i], "%.17g", value[i]);
      else snprintf(buf[i], sizeof buf[i], "%lld", (long long)llround(value[i]));
      v[2 + 2 * i] = buf[i];
    }
  }
  struct folio_pg_params p = {(int)(1 + 2 * folio_tenant_nlimits), v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_TENANT_SET, &p, &r, diag);
  PQclear(r);
  return rc;
}

int folio_jobs_tenant_list(struct folio_pg_conn *c,
                           void (*fn)(const struct folio_tenant_info *t, void *arg), void *arg,
                           struct folio_pg_diag *diag) {
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_TENANT_LIST, NULL, &r, diag);
  if (rc) return rc;
  for (int i = 0; i < PQntuples(r); i++) {
    struct folio_tenant_info t;
    info_decode(r, i, &t);
    fn(&t, arg);
  }
  PQclear(r);
  return 0;
}

int folio_jobs_object_key(char *out, size_t cap, const char *tenant_id, const char *job_id,
                          const char *name) {
  int n = snprintf(out, cap, "%s/%s/%s", tenant_id, job_id, name);
  return n < 0 || (size_t)n >= cap ? -1 : n;
}
