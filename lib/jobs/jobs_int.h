/* lib/jobs internals: statement indexes into folio_jobs_stmts. */
#ifndef FOLIO_JOBS_INT_H
#define FOLIO_JOBS_INT_H

#include "folio/jobs.h"
#include "folio/tenant.h"

enum folio_jobs_stmt_id {
  S_SUBMIT,
  S_SUBMIT_LOOKUP,
  S_STATUS,
  S_CANCEL,
  S_CLAIM,
  S_HEARTBEAT,
  S_SUCCEED,
  S_FAIL,
  S_CANCEL_CONFIRM,
  S_RELEASE,
  S_MARK_DISPATCHED,
  S_TAKE_UNDISPATCHED,
  S_REAP,
  S_APIKEY_INSERT,
  S_APIKEY_LOOKUP,
  S_APIKEY_REVOKE,
  S_TENANT_GET,
  S_TENANT_LIST,
  S_TENANT_SET,
  S_RENDERER_REGISTER,
  S_OBJECTS_REFERENCED,
  S_CACHE_UNHIT,
  S_CACHE_PURGE,
  S_COUNT
};

/* One submission's parameters for S_SUBMIT (a fresh UUIDv7, text encodings,
 * labels as JSON). values borrow from the submission; free with _free. */
struct folio_jobs_submit_params {
  char id[FOLIO_UUID_STR_LEN + 1];
  char formats[16];
  char dpi[16];
  char max_attempts[16];
  char max_unfinished[24];
  char pdf_profiles[16];
  char codec[8];
  char cache_key[65]; /* hex, when the submission has one */
  char *labels;    /* malloc'd JSON object */
  uint8_t *packed; /* malloc'd when lib/jobs packed the layout itself */
  const char *values[17];
  int lengths[17];
  int formats_bin[17];
  struct folio_pg_params p;
};
/* Builds the parameters of a submission that passed
 * folio_jobs_submit_validate (the entry points run it once, not per retry);
 * fails only when out of memory (and _free is still safe to call). */
int folio_jobs_submit_params_build(struct folio_jobs_submit_params *sp,
                                   const struct folio_job_submit *s, struct folio_pg_diag *diag);
void folio_jobs_submit_params_free(struct folio_jobs_submit_params *sp);

/* Row decoders shared by the blocking and the async paths. */
/* S_SUBMIT's row; 1 when it had none (the conflicting job committed after
 * the statement's snapshot: run S_SUBMIT_LOOKUP); FOLIO_JOBS_EQUOTA when the
 * tenant is at max_unfinished_jobs (diag names the limit and its value). */
int folio_jobs_submit_read(const PGresult *r, const char *tenant, struct folio_job_submitted *out,
                           struct folio_pg_diag *diag);
int folio_jobs_status_decode(const PGresult *r, const char *job_id, struct folio_arena *arena,
                             struct folio_job_status *out, struct folio_pg_diag *diag);
int folio_jobs_cancel_decode(const PGresult *r, const char *job_id, enum folio_job_state *state,
                             struct folio_pg_diag *diag);
int folio_jobs_check_id(const char *field, const char *id, struct folio_pg_diag *diag);
int folio_jobs_check_tenant(const char *tenant, struct folio_pg_diag *diag);

/* The limit columns of row `row` of a result holding tenants columns (found
 * by name; missing or NULL = the default). overridden[i] (NULL allowed)
 * tells which were set. */
void folio_jobs_tenant_limits_decode(const PGresult *r, int row, struct folio_tenant_limits *out,
                                     bool *overridden);

/* Formats into diag (NULL allowed). */
void folio_jobs_diag(struct folio_pg_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
