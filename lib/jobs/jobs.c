/* The job state machine over PostgreSQL: parameter building, the calls into
 * lib/pg, and decoding of the rows the statements in stmts.c return.
 *
 * Submissions are built into a struct submit_params (text encodings of the
 * numbers, the labels as a JSON object) so one submission can be sent on its
 * own or as one element of a pipelined group commit. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/layout.h"
#include "folio/log.h"
#include "folio/pdf_profile.h"
#include "folio/render_cache.h"
#include "folio/str.h"
#include "jobs_int.h"

void folio_jobs_diag(struct folio_pg_diag *d, const char *fmt, ...) {
  if (!d) return;
  d->sqlstate[0] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
}

static void copy_id(char dst[FOLIO_UUID_STR_LEN + 1], const char *src) {
  snprintf(dst, FOLIO_UUID_STR_LEN + 1, "%s", src);
}

int folio_jobs_check_id(const char *field, const char *id, struct folio_pg_diag *diag) {
  if (folio_uuid_valid(id)) return 0;
  folio_jobs_diag(diag, "%s: not a UUID (expected 8-4-4-4-12 hex digits)", field);
  return FOLIO_JOBS_EINVAL;
}

int folio_jobs_check_tenant(const char *tenant, struct folio_pg_diag *diag) {
  size_t n = tenant ? strlen(tenant) : 0;
  if (n >= 1 && n <= FOLIO_JOBS_TENANT_MAX) return 0;
  folio_jobs_diag(diag, "tenant: must be 1..%d bytes (got %zu)", FOLIO_JOBS_TENANT_MAX, n);
  return FOLIO_JOBS_EINVAL;
}

/* ---- submit ---------------------------------------------------------------- */

int folio_jobs_submit_params_build(struct folio_jobs_submit_params *sp, const struct folio_job_submit *s,
                               struct folio_pg_diag *diag) {
  memset(sp, 0, sizeof *sp);
  folio_uuid7(sp->id);
  /* formats: deduplicated, in the order given; none means PDF */
  bool seen[4] = {false, false, false, false};
  size_t o = 0;
  sp->formats[o++] = '{';
  for (size_t i = 0; i < s->nformats; i++) {
    if (seen[s->formats[i]]) continue;
    seen[s->formats[i]] = true;
    if (o > 1) sp->formats[o++] = ',';
    sp->formats[o++] = (char)('0' + s->formats[i]);
  }
  if (o == 1) sp->formats[o++] = '0' + FOLIO_FORMAT_PDF;
  sp->formats[o++] = '}';
  sp->formats[o] = '\0';
  snprintf(sp->dpi, sizeof sp->dpi, "%d", s->png_dpi ? s->png_dpi : FOLIO_PNG_DPI_DEFAULT);
  snprintf(sp->max_attempts, sizeof sp->max_attempts, "%d",
           s->max_attempts ? s->max_attempts : FOLIO_JOBS_MAX_ATTEMPTS_DEFAULT);
  /* labels as a JSON object; every byte quoted by folio_json_quote */
  size_t cap = 3;
  for (size_t i = 0; i < s->nlabels; i++)
    cap += 6 * (strlen(s->labels[i].key) + strlen(s->labels[i].value ? s->labels[i].value : "")) + 8;
  sp->labels = malloc(cap);
  if (!sp->labels) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  size_t pos = 0;
  sp->labels[pos++] = '{';
  for (size_t i = 0; i < s->nlabels; i++) {
    const char *v = s->labels[i].value ? s->labels[i].value : "";
    if (i) sp->labels[pos++] = ',';
    folio_json_quote(sp->labels, cap, &pos, s->labels[i].key, strlen(s->labels[i].key));
    sp->labels[pos++] = ':';
    folio_json_quote(sp->labels, cap, &pos, v, strlen(v));
  }
  sp->labels[pos++] = '}';
  sp->labels[pos] = '\0';

  /* the layout in its stored form (folio/layout_store.h) */
  struct folio_jobs_stored_layout st = s->stored;
  if (!st.data) {
    size_t bound = folio_jobs_layout_pack_bound(s->layout_len);
    sp->packed = malloc(bound);
    int rc = sp->packed ? folio_jobs_layout_pack(s->layout, s->layout_len, 0, sp->packed, bound,
                                                 &st, diag)
                        : FOLIO_PG_ENOMEM;
    if (rc) {
      if (rc == FOLIO_PG_ENOMEM) folio_jobs_diag(diag, "out of memory");
      return rc;
    }
  }
  snprintf(sp->codec, sizeof sp->codec, "%d", st.codec);

  const char *key = s->idempotency_key && *s->idempotency_key ? s->idempotency_key : NULL;
  snprintf(sp->max_unfinished, sizeof sp->max_unfinished, "%d",
           FOLIO_TENANT_DEFAULT_MAX_UNFINISHED_JOBS);
  /* the profile set; the submit check accepted the fields, so this succeeds */
  unsigned profiles = 0;
  folio_pdf_profiles_set(s->pdf_profile, s->additional_pdf_profiles, s->n_additional_pdf_profiles,
                         &profiles, NULL, 0, NULL, 0);
  snprintf(sp->pdf_profiles, sizeof sp->pdf_profiles, "%u", profiles);
  /* the render cache: the key unless the caller turned the cache off; a
   * lookup only under FOLIO_CACHE_USE (folio/render_cache.h) */
  bool cached = s->cache_key && s->cache_policy != FOLIO_CACHE_OFF;
  if (cached) folio_render_cache_hex(s->cache_key, sp->cache_key);
  const char *lookup = cached && s->cache_policy == FOLIO_CACHE_USE ? "t" : "f";
  const char *v[17] = {sp->id,     s->tenant, key, sp->formats, sp->dpi, s->page_range ? s->page_range : "",
                       (const char *)st.data, sp->labels, sp->max_attempts, sp->max_unfinished,
                       s->fail_on_warnings ? "t" : "f", s->require_clean_preflight ? "t" : "f",
                       s->png_include_bleed ? "t" : "f", sp->pdf_profiles, sp->codec,
                       cached ? sp->cache_key : NULL, lookup};
  memcpy(sp->values, v, sizeof v);
  sp->lengths[6] = (int)st.len;
  sp->formats_bin[6] = 1;
  sp->p = (struct folio_pg_params){17, sp->values, sp->lengths, sp->formats_bin};
  return 0;
}

void folio_jobs_submit_params_free(struct folio_jobs_submit_params *sp) {
  free(sp->labels);
  free(sp->packed);
}

/* Reads S_SUBMIT's row; 1 when the result had none (conflict committed after
 * the statement's snapshot: look it up); FOLIO_JOBS_EQUOTA (diag says which
 * limit) when the tenant is at its max_unfinished_jobs. */
int folio_jobs_submit_read(const PGresult *r, const char *tenant, struct folio_job_submitted *out,
                           struct folio_pg_diag *diag) {
  if (PQntuples(r) < 1) return 1;
  if (PQgetvalue(r, 0, 2)[0] == 'q') {
    folio_jobs_diag(diag,
                    "max_unfinished_jobs: tenant %s has %s unfinished (QUEUED or RUNNING) jobs, "
                    "its limit; submit again when some have finished",
                    tenant, PQgetvalue(r, 0, 1));
    return FOLIO_JOBS_EQUOTA;
  }
  copy_id(out->job_id, PQgetvalue(r, 0, 0));
  out->state = folio_job_state_parse(PQgetvalue(r, 0, 1));
  out->deduplicated = PQgetvalue(r, 0, 2)[0] == 't';
  /* a new job is SUCCEEDED at once only when the render cache answered it */
  out->from_cache = !out->deduplicated && out->state == FOLIO_JOB_SUCCEEDED;
  return 0;
}

static int submit_lookup(struct folio_pg_conn *c, const struct folio_job_submit *s,
                         struct folio_job_submitted *out, struct folio_pg_diag *diag) {
  const char *v[2] = {s->tenant, s->idempotency_key};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, S_SUBMIT_LOOKUP, &p, &r, diag);
  if (rc) return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    /* The conflicting submission rolled back between our two statements. */
    folio_jobs_diag(diag, "idempotency key conflict resolved by a rollback; retry");
    return FOLIO_PG_ECONFLICT;
  }
  copy_id(out->job_id, PQgetvalue(r, 0, 0));
  out->state = folio_job_state_parse(PQgetvalue(r, 0, 1));
  out->deduplicated = true;
  PQclear(r);
  return 0;
}

int folio_jobs_submit(struct folio_pg_conn *c, const struct folio_job_submit *s,
                      struct folio_job_submitted *out, struct folio_pg_diag *diag) {
  memset(out, 0, sizeof *out);
  int vrc = folio_jobs_submit_validate(s, diag);
  if (vrc) return vrc;
  for (int tries = 0;; tries++) {
    struct folio_jobs_submit_params sp;
    int rc = folio_jobs_submit_params_build(&sp, s, diag);
    if (rc) {
      folio_jobs_submit_params_free(&sp);
      return rc;
    }
    PGresult *r;
    rc = folio_pg_conn_exec(c, S_SUBMIT, &sp.p, &r, diag);
    folio_jobs_submit_params_free(&sp);
    if (rc == 0) {
      int missing = folio_jobs_submit_read(r, s->tenant, out, diag);
      PQclear(r);
      if (missing <= 0) return missing;
      rc = submit_lookup(c, s, out, diag);
    }
    if (rc != FOLIO_PG_ECONFLICT || tries >= 3) return rc;
  }
}

int folio_jobs_submit_batch(struct folio_pg_conn *c, size_t n, const struct folio_job_submit *s,
                            struct folio_job_submitted *out, int *rcs,
                            struct folio_pg_diag *diag) {
  if (n == 0) return 0;
  struct folio_jobs_submit_params *sp = calloc(n, sizeof *sp);
  int *stmts = calloc(n, sizeof *stmts);
  struct folio_pg_params *params = calloc(n, sizeof *params);
  PGresult **res = calloc(n, sizeof *res);
  int *own = calloc(n, sizeof *own);
  int first = 0;
  if (!sp || !stmts || !params || !res || !own) {
    free(sp), free(stmts), free(params), free(res), free(own);
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  /* Invalid submissions fail alone and stay out of the shared transaction. */
  size_t m = 0;
  size_t *idx = (size_t *)calloc(n, sizeof *idx);
  for (size_t i = 0; idx && i < n; i++) {
    memset(&out[i], 0, sizeof out[i]);
    struct folio_pg_diag d;
    own[i] = folio_jobs_submit_validate(&s[i], &d);
    if (!own[i]) own[i] = folio_jobs_submit_params_build(&sp[i], &s[i], &d);
    if (own[i]) {
      if (!first) {
        first = own[i];
        if (diag) *diag = d;
      }
      continue;
    }
    stmts[m] = S_SUBMIT;
    params[m] = sp[i].p;
    idx[m++] = i;
  }
  int rc = idx ? folio_pg_conn_batch(c, m, stmts, params, res, diag) : FOLIO_PG_ENOMEM;
  for (size_t k = 0; k < m; k++) {
    size_t i = idx[k];
    struct folio_pg_diag qd = {0};
    int got = rc == 0 ? folio_jobs_submit_read(res[k], s[i].tenant, &out[i], &qd) : 1;
    if (got <= 0) {
      own[i] = got;
      if (got && !first) {
        first = got;
        if (diag) *diag = qd;
      }
    } else {
      /* The shared transaction failed (or this row met a conflict committed
       * after the snapshot): this submission goes on its own. */
      struct folio_pg_diag d;
      own[i] = folio_jobs_submit(c, &s[i], &out[i], &d);
      if (own[i] && !first) {
        first = own[i];
        if (diag) *diag = d;
      }
    }
    PQclear(res[k]);
  }
  for (size_t i = 0; i < n; i++) {
    folio_jobs_submit_params_free(&sp[i]);
    if (rcs) rcs[i] = own[i];
  }
  free(idx), free(sp), free(stmts), free(params), free(res), free(own);
  return first;
}

/* ---- status ----------------------------------------------------------------- */

static const char *opt_str(struct folio_arena *a, const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : folio_arena_strdup(a, PQgetvalue(r, row, col));
}

static int64_t opt_i64(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static size_t parse_formats(const char *s, int formats[3]) {
  size_t n = 0;
  for (const char *p = s; p && *p && n < 3; p++)
    if (*p >= '1' && *p <= '3') formats[n++] = *p - '0';
  return n;
}

int folio_jobs_get_status(struct folio_pg_conn *c, const char *tenant, const char *job_id,
                          struct folio_arena *arena, struct folio_job_status *out,
                          struct folio_pg_diag *diag) {
  memset(out, 0, sizeof *out);
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc == 0) rc = folio_jobs_check_tenant(tenant, diag);
  if (rc) return rc;
  const char *v[2] = {job_id, tenant};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_STATUS, &p, &r, diag);
  if (rc) return rc;
  rc = folio_jobs_status_decode(r, job_id, arena, out, diag);
  PQclear(r);
  return rc;
}

/* The stored findings (the serialised list) as an arena array. */
static int findings_to_arena(struct folio_arena *arena, const char *s, size_t len,
                             struct folio_finding **out, size_t *n) {
  struct folio_findings f;
  folio_findings_init(&f, 0);
  int rc = folio_findings_from_json(&f, s, len);
  if (rc == 0 && f.n) {
    *out = folio_arena_alloc(arena, f.n * sizeof **out);
    if (*out) {
      memcpy(*out, f.items, f.n * sizeof **out);
      *n = f.n;
    } else {
      rc = FOLIO_FINDINGS_ENOMEM;
    }
  }
  folio_findings_fini(&f);
  return rc;
}

int folio_jobs_status_decode(const PGresult *r, const char *job_id, struct folio_arena *arena,
                             struct folio_job_status *out, struct folio_pg_diag *diag) {
  memset(out, 0, sizeof *out);
  int rows = PQntuples(r);
  if (rows == 0 || atoi(PQgetvalue(r, 0, 0)) != 0) {
    folio_jobs_diag(diag, "job %s not found", job_id);
    return FOLIO_JOBS_ENOTFOUND;
  }
  copy_id(out->job_id, job_id);
  out->state = folio_job_state_parse(PQgetvalue(r, 0, 2));
  out->progress_percent = atoi(PQgetvalue(r, 0, 3));
  out->attempts = atoi(PQgetvalue(r, 0, 4));
  out->max_attempts = atoi(PQgetvalue(r, 0, 5));
  out->cancel_requested = PQgetvalue(r, 0, 6)[0] == 't';
  out->error_code = opt_str(arena, r, 0, 7);
  out->error_message = opt_str(arena, r, 0, 8);
  out->created_at_us = opt_i64(r, 0, 9);
  out->started_at_us = opt_i64(r, 0, 10);
  out->finished_at_us = opt_i64(r, 0, 11);
  out->nformats = parse_formats(PQgetvalue(r, 0, 12), out->formats);
  if (!PQgetisnull(r, 0, 13)) {
    int frc = findings_to_arena(arena, PQgetvalue(r, 0, 13), (size_t)PQgetlength(r, 0, 13), &out->findings,
                                &out->nfindings);
    if (frc) {
      folio_jobs_diag(diag, frc == FOLIO_FINDINGS_ENOMEM ? "out of memory"
                                                         : "job %s: its stored findings are not a findings list",
                      job_id);
      return frc == FOLIO_FINDINGS_ENOMEM ? FOLIO_PG_ENOMEM : FOLIO_PG_EQUERY;
    }
  }
  out->from_cache = PQgetvalue(r, 0, 14)[0] == 't';
  size_t na = 0, nl = 0;
  for (int i = 1; i < rows; i++) {
    if (atoi(PQgetvalue(r, i, 0)) == 1) na++; else nl++;
  }
  out->artifacts = folio_arena_calloc(arena, na ? na : 1, sizeof *out->artifacts);
  out->labels = folio_arena_calloc(arena, nl ? nl : 1, sizeof *out->labels);
  if (!out->artifacts || !out->labels) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  for (int i = 1; i < rows; i++) {
    if (atoi(PQgetvalue(r, i, 0)) == 1) {
      struct folio_job_artifact *a = &out->artifacts[out->nartifacts++];
      a->name = opt_str(arena, r, i, 2);
      a->format = atoi(PQgetvalue(r, i, 3));
      a->page = (uint32_t)strtoul(PQgetvalue(r, i, 4), NULL, 10);
      a->size_bytes = strtoull(PQgetvalue(r, i, 5), NULL, 10);
      a->sha256_hex = opt_str(arena, r, i, 6);
      a->content_type = opt_str(arena, r, i, 7);
      a->object_key = opt_str(arena, r, i, 8);
    } else {
      struct folio_job_label *l = &out->labels[out->nlabels++];
      l->key = opt_str(arena, r, i, 2);
      l->value = opt_str(arena, r, i, 3);
    }
  }
  return 0;
}

/* ---- cancel ----------------------------------------------------------------- */

int folio_jobs_cancel(struct folio_pg_conn *c, const char *tenant, const char *job_id,
                      enum folio_job_state *state, struct folio_pg_diag *diag) {
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc == 0) rc = folio_jobs_check_tenant(tenant, diag);
  if (rc) return rc;
  const char *v[2] = {job_id, tenant};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_CANCEL, &p, &r, diag);
  if (rc) return rc;
  rc = folio_jobs_cancel_decode(r, job_id, state, diag);
  PQclear(r);
  return rc;
}

int folio_jobs_cancel_decode(const PGresult *r, const char *job_id, enum folio_job_state *state,
                             struct folio_pg_diag *diag) {
  if (PQntuples(r) == 0) {
    folio_jobs_diag(diag, "job %s not found", job_id);
    return FOLIO_JOBS_ENOTFOUND;
  }
  enum folio_job_state before = folio_job_state_parse(PQgetvalue(r, 0, 0));
  enum folio_job_state after =
      PQgetisnull(r, 0, 1) ? before : folio_job_state_parse(PQgetvalue(r, 0, 1));
  if (state) *state = after;
  if (folio_job_state_terminal(before)) {
    folio_jobs_diag(diag, "job %s is already %s", job_id, folio_job_state_name(before));
    return FOLIO_JOBS_EPRECONDITION;
  }
  return 0;
}

/* ---- worker side -------------------------------------------------------------- */

/* Copies a binary-format text column (not NUL-terminated on the wire). */
static const char *bin_str(struct folio_arena *a, PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col)) return NULL;
  return folio_arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int folio_jobs_claim(struct folio_pg_conn *c, const char *job_id, const char *worker_id,
                     struct folio_arena *arena, struct folio_job_claim *out,
                     struct folio_pg_diag *diag) {
  memset(out, 0, sizeof *out);
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc) return rc;
  char cap[24];
  snprintf(cap, sizeof cap, "%d", FOLIO_TENANT_DEFAULT_MAX_RUNNING_JOBS);
  const char *v[3] = {job_id, worker_id ? worker_id : "", cap};
  struct folio_pg_params p = {3, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_CLAIM, &p, &r, diag);
  if (rc) return rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    folio_jobs_diag(diag, "job %s not found", job_id);
    return FOLIO_JOBS_ENOTFOUND;
  }
  const char *state = bin_str(arena, r, 0, 1);
  const char *attempts = bin_str(arena, r, 0, 2);
  bool claimed = PQgetvalue(r, 0, 0)[0] == '1' && state && strcmp(state, "RUNNING") == 0;
  out->state = folio_job_state_parse(state);
  if (!claimed && PQgetvalue(r, 0, 0)[0] == 'd') {
    folio_jobs_diag(diag,
                    "job %s deferred: its tenant has max_running_jobs RUNNING; the reconciler "
                    "dispatches it again",
                    job_id);
    PQclear(r);
    return FOLIO_JOBS_EFENCED;
  }
  if (!claimed) {
    folio_jobs_diag(diag, "job %s is %s after %s attempt(s); not claimable", job_id,
                    state ? state : "?", attempts ? attempts : "?");
    PQclear(r);
    return FOLIO_JOBS_EFENCED;
  }
  out->attempt = atoi(attempts);
  out->tenant = bin_str(arena, r, 0, 3);
  const char *formats = bin_str(arena, r, 0, 4);
  out->nformats = parse_formats(formats, out->formats);
  const char *dpi = bin_str(arena, r, 0, 5);
  out->png_dpi = dpi ? atoi(dpi) : 150;
  out->page_range = bin_str(arena, r, 0, 6);
  out->layout_len = (size_t)PQgetlength(r, 0, 7);
  out->layout = (const uint8_t *)folio_arena_strndup(arena, PQgetvalue(r, 0, 7), out->layout_len);
  /* text in the binary result; NULL (a row of an older binary) = plain */
  out->layout_codec = PQgetisnull(r, 0, 15) ? FOLIO_JOBS_LAYOUT_PLAIN : atoi(PQgetvalue(r, 0, 15));
  out->tenant_id = bin_str(arena, r, 0, 8);
  /* the tenant's render overrides (text in the binary result; NULL = none) */
  out->render_cpu_ms = PQgetisnull(r, 0, 9) ? 0 : strtoll(PQgetvalue(r, 0, 9), NULL, 10);
  out->render_image_cache_bytes = PQgetisnull(r, 0, 10) ? 0 : strtoll(PQgetvalue(r, 0, 10), NULL, 10);
  out->fail_on_warnings = !PQgetisnull(r, 0, 11) && PQgetvalue(r, 0, 11)[0] == 't';
  out->require_clean_preflight = !PQgetisnull(r, 0, 12) && PQgetvalue(r, 0, 12)[0] == 't';
  out->png_include_bleed = !PQgetisnull(r, 0, 13) && PQgetvalue(r, 0, 13)[0] == 't';
  out->pdf_profiles = PQgetisnull(r, 0, 14) ? 0 : (unsigned)strtoul(PQgetvalue(r, 0, 14), NULL, 10);
  PQclear(r);
  if (!out->layout || !out->tenant || !out->page_range || !out->tenant_id) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  return 0;
}

/* Runs a fenced worker statement with (id, attempt, ...) and returns its
 * result; EFENCED when it matched no row. */
static int fenced_exec(struct folio_pg_conn *c, int stmt, const char *what, const char *job_id,
                       int attempt, int nextra, const char *const *extra, PGresult **out,
                       struct folio_pg_diag *diag) {
  *out = NULL;
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc) return rc;
  char a[16];
  snprintf(a, sizeof a, "%d", attempt);
  const char *v[12] = {job_id, a};
  if (nextra > 10) nextra = 10;
  for (int i = 0; i < nextra; i++) v[2 + i] = extra[i];
  struct folio_pg_params p = {2 + nextra, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, stmt, &p, &r, diag);
  if (rc) return rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    folio_jobs_diag(diag, "%s: job %s attempt %d is no longer running under this claim", what,
                    job_id, attempt);
    return FOLIO_JOBS_EFENCED;
  }
  *out = r;
  return 0;
}

int folio_jobs_heartbeat(struct folio_pg_conn *c, const char *job_id, int attempt,
                         int progress_percent, bool *cancel_requested,
                         struct folio_pg_diag *diag) {
  char pr[16];
  snprintf(pr, sizeof pr, "%d", progress_percent < 0 ? -1 : progress_percent);
  const char *extra[] = {pr};
  PGresult *r;
  int rc = fenced_exec(c, S_HEARTBEAT, "heartbeat", job_id, attempt, 1, extra, &r, diag);
  if (rc) return rc;
  if (cancel_requested) *cancel_requested = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  return 0;
}

/* A PostgreSQL array literal, {"a","b\"c"}, is built in a folio_str:
 * "{", arr_elem per element, "}". Appends one element, quoted and escaped,
 * with the separator before it. */
static void arr_elem(struct folio_str *x, const char *v) {
  folio_str_puts(x, x->len > 1 ? ",\"" : "\"");
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\') folio_str_putc(x, '\\');
    folio_str_putc(x, *p);
  }
  folio_str_putc(x, '"');
}

/* The serialised findings for a statement parameter: *out NULL (= none) for
 * no list, else malloc'd. */
static int findings_param(const struct folio_findings *f, char **out, struct folio_pg_diag *diag) {
  *out = NULL;
  if (!f) return 0;
  if (folio_findings_to_json(f, out, NULL) == 0) return 0;
  folio_jobs_diag(diag, "out of memory");
  return FOLIO_PG_ENOMEM;
}

int folio_jobs_succeed(struct folio_pg_conn *c, const char *job_id, int attempt,
                       const struct folio_job_artifact *artifacts, size_t nartifacts,
                       struct folio_pg_diag *diag) {
  return folio_jobs_succeed_findings(c, job_id, attempt, artifacts, nartifacts, NULL, NULL, diag);
}

int folio_jobs_succeed_findings(struct folio_pg_conn *c, const char *job_id, int attempt,
                                const struct folio_job_artifact *artifacts, size_t nartifacts,
                                const struct folio_findings *findings, const char *renderer_hex,
                                struct folio_pg_diag *diag) {
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc) return rc;
  char *fj;
  rc = findings_param(findings, &fj, diag);
  if (rc) return rc;
  enum { COLS = 7 };
  struct folio_str cols[COLS];
  memset(cols, 0, sizeof cols);
  for (int k = 0; k < COLS; k++) folio_str_putc(&cols[k], '{');
  for (size_t i = 0; i < nartifacts; i++) {
    const struct folio_job_artifact *art = &artifacts[i];
    if (!art->name || !art->sha256_hex || !art->content_type || !art->object_key) {
      folio_jobs_diag(diag, "artifacts[%zu]: name, sha256_hex, content_type and object_key are required", i);
      rc = FOLIO_JOBS_EINVAL;
      break;
    }
    char num[3][24];
    snprintf(num[0], sizeof num[0], "%d", art->format);
    snprintf(num[1], sizeof num[1], "%u", art->page);
    snprintf(num[2], sizeof num[2], "%llu", (unsigned long long)art->size_bytes);
    const char *v[COLS] = {art->name, num[0], num[1], num[2], art->sha256_hex, art->content_type,
                           art->object_key};
    for (int k = 0; k < COLS; k++) arr_elem(&cols[k], v[k]);
  }
  bool oom = false;
  for (int k = 0; k < COLS; k++) {
    folio_str_putc(&cols[k], '}');
    oom = oom || cols[k].oom;
  }
  if (rc == 0 && oom) {
    folio_jobs_diag(diag, "out of memory");
    rc = FOLIO_PG_ENOMEM;
  }
  if (rc == 0) {
    char a[16];
    snprintf(a, sizeof a, "%d", attempt);
    const char *extra[COLS + 2];
    for (int k = 0; k < COLS; k++) extra[k] = cols[k].p;
    extra[COLS] = fj;
    extra[COLS + 1] = renderer_hex; /* NULL: no cache entry */
    PGresult *r;
    rc = fenced_exec(c, S_SUCCEED, "succeed", job_id, attempt, COLS + 2, extra, &r, diag);
    if (rc == FOLIO_JOBS_EFENCED && diag)
      strncat(diag->msg, " (or a cancel is pending)", sizeof diag->msg - strlen(diag->msg) - 1);
    PQclear(r);
  }
  for (int k = 0; k < COLS; k++) folio_str_free(&cols[k]);
  free(fj);
  return rc;
}

/* A fenced transition whose one row is the job's new state (fail, release). */
static int fenced_transition(struct folio_pg_conn *c, int stmt, const char *what,
                             const char *job_id, int attempt, int nextra,
                             const char *const *extra, enum folio_job_state *state,
                             struct folio_pg_diag *diag) {
  PGresult *r;
  int rc = fenced_exec(c, stmt, what, job_id, attempt, nextra, extra, &r, diag);
  if (rc) return rc;
  if (state) *state = folio_job_state_parse(PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

int folio_jobs_fail(struct folio_pg_conn *c, const char *job_id, int attempt, bool transient,
                    const char *code, const char *message, enum folio_job_state *state,
                    struct folio_pg_diag *diag) {
  return folio_jobs_fail_findings(c, job_id, attempt, transient, code, message, NULL, state, diag);
}

int folio_jobs_fail_findings(struct folio_pg_conn *c, const char *job_id, int attempt, bool transient,
                             const char *code, const char *message, const struct folio_findings *findings,
                             enum folio_job_state *state, struct folio_pg_diag *diag) {
  char *fj;
  int rc = findings_param(findings, &fj, diag);
  if (rc) return rc;
  const char *extra[] = {transient ? "t" : "f", code && *code ? code : "RENDER_FAILED",
                         message ? message : "", fj};
  rc = fenced_transition(c, S_FAIL, "fail", job_id, attempt, 4, extra, state, diag);
  free(fj);
  return rc;
}

int folio_jobs_cancel_confirm(struct folio_pg_conn *c, const char *job_id, int attempt,
                              struct folio_pg_diag *diag) {
  PGresult *r;
  int rc = fenced_exec(c, S_CANCEL_CONFIRM, "cancel_confirm", job_id, attempt, 0, NULL, &r, diag);
  PQclear(r);
  return rc;
}

int folio_jobs_release(struct folio_pg_conn *c, const char *job_id, int attempt, const char *why,
                       enum folio_job_state *state, struct folio_pg_diag *diag) {
  const char *extra[] = {why && *why ? why : "handed back"};
  return fenced_transition(c, S_RELEASE, "release", job_id, attempt, 1, extra, state, diag);
}

/* ---- reconciler ---------------------------------------------------------------- */

int folio_jobs_mark_dispatched(struct folio_pg_conn *c, const char *job_id,
                               struct folio_pg_diag *diag) {
  int rc = folio_jobs_check_id("job_id", job_id, diag);
  if (rc) return rc;
  const char *v[1] = {job_id};
  struct folio_pg_params p = {1, v, NULL, NULL};
  PGresult *r;
  rc = folio_pg_conn_exec(c, S_MARK_DISPATCHED, &p, &r, diag);
  PQclear(r);
  return rc;
}

static int id_list(struct folio_pg_conn *c, int stmt, int ms, int limit, struct folio_arena *arena,
                   char ***ids, size_t *n, struct folio_pg_diag *diag) {
  *ids = NULL;
  *n = 0;
  char a[16], b[16];
  snprintf(a, sizeof a, "%d", ms < 0 ? 0 : ms);
  snprintf(b, sizeof b, "%d", limit < 1 ? 1 : limit);
  const char *v[2] = {a, b};
  struct folio_pg_params p = {2, v, NULL, NULL};
  PGresult *r;
  int rc = folio_pg_conn_exec(c, stmt, &p, &r, diag);
  if (rc) return rc;
  int rows = PQntuples(r);
  char **out = folio_arena_calloc(arena, (size_t)rows + 1, sizeof *out);
  for (int i = 0; out && i < rows; i++) out[i] = folio_arena_strdup(arena, PQgetvalue(r, i, 0));
  PQclear(r);
  if (!out) {
    folio_jobs_diag(diag, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  *ids = out;
  *n = (size_t)rows;
  return 0;
}

int folio_jobs_take_undispatched(struct folio_pg_conn *c, int older_than_ms, int limit,
                                 struct folio_arena *arena, char ***ids, size_t *n,
                                 struct folio_pg_diag *diag) {
  return id_list(c, S_TAKE_UNDISPATCHED, older_than_ms, limit, arena, ids, n, diag);
}

int folio_jobs_reap_stale(struct folio_pg_conn *c, int lease_ms, int limit,
                          struct folio_arena *arena, char ***ids, size_t *n,
                          struct folio_pg_diag *diag) {
  return id_list(c, S_REAP, lease_ms, limit, arena, ids, n, diag);
}
