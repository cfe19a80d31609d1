/* The server's job calls on the event loop: submit (with group commit and
 * its retries), get status and cancel, over folio_pg_async. The row decoding
 * is shared with the blocking calls in jobs.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/pg_async.h"
#include "jobs_int.h"

/* ---- submit ------------------------------------------------------------------ */

struct submit_op {
  struct folio_pg_async *a;
  const struct folio_job_submit *s;
  folio_jobs_submit_cb cb;
  void *arg;
  int tries;
  struct folio_job_submitted out;
};

static void submit_done(struct submit_op *op, int status, const struct folio_pg_diag *diag) {
  op->cb(status, status == 0 ? &op->out : NULL, diag, op->arg);
  free(op);
}

static void on_submit(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg);

static void on_lookup(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg) {
  struct submit_op *op = arg;
  if (status == 0 && PQntuples(res) != 1) {
    /* the conflicting submission rolled back: insert again */
    status = FOLIO_PG_ECONFLICT;
  }
  if (status == 0) {
    snprintf(op->out.job_id, sizeof op->out.job_id, "%s", PQgetvalue(res, 0, 0));
    op->out.state = folio_job_state_parse(PQgetvalue(res, 0, 1));
    op->out.deduplicated = true;
    submit_done(op, 0, diag);
    return;
  }
  on_submit(a, status, NULL, diag, op);
}

/* Sends S_SUBMIT (grouped on the first try, alone on retries). */
static int submit_send(struct submit_op *op, struct folio_pg_diag *diag) {
  struct folio_jobs_submit_params sp;
  int rc = folio_jobs_submit_params_build(&sp, op->s, diag);
  if (rc == 0) {
    rc = folio_pg_async_exec(op->a, S_SUBMIT, &sp.p, op->tries == 0 ? FOLIO_PG_ASYNC_GROUP : 0,
                             on_submit, op);
    if (rc) folio_jobs_diag(diag, "submit: %s", folio_pg_strerror(rc));
  }
  folio_jobs_submit_params_free(&sp);
  return rc;
}

static void on_submit(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg) {
  struct submit_op *op = arg;
  if (status == 0) {
    struct folio_pg_diag qd;
    int got = folio_jobs_submit_read(res, op->s->tenant, &op->out, &qd);
    if (got <= 0) {
      submit_done(op, got, got ? &qd : diag);
      return;
    }
    /* the duplicate committed after our snapshot: read it */
    const char *v[2] = {op->s->tenant, op->s->idempotency_key};
    struct folio_pg_params p = {2, v, NULL, NULL};
    int rc = folio_pg_async_exec(a, S_SUBMIT_LOOKUP, &p, 0, on_lookup, op);
    if (rc) {
      struct folio_pg_diag d;
      folio_jobs_diag(&d, "submit lookup: %s", folio_pg_strerror(rc));
      submit_done(op, rc, &d);
    }
    return;
  }
  if ((status == FOLIO_PG_EABORTED || status == FOLIO_PG_ECONFLICT) && op->tries < 3) {
    op->tries++;
    struct folio_pg_diag d;
    int rc = submit_send(op, &d);
    if (rc) submit_done(op, rc, &d);
    return;
  }
  submit_done(op, status, diag);
}

int folio_jobs_submit_async(struct folio_pg_async *a, const struct folio_job_submit *s,
                            folio_jobs_submit_cb cb, void *arg) {
  if (!cb) return FOLIO_JOBS_EINVAL;
  struct folio_pg_diag d;
  int vrc = folio_jobs_submit_validate(s, &d); /* once; retries reuse s as checked */
  if (vrc) return vrc;
  struct submit_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  *op = (struct submit_op){.a = a, .s = s, .cb = cb, .arg = arg};
  int rc = submit_send(op, &d);
  if (rc) free(op);
  return rc;
}

/* ---- status and cancel ---------------------------------------------------------- */

struct lookup_op {
  char job_id[FOLIO_UUID_STR_LEN + 1];
  struct folio_arena *arena;
  folio_jobs_status_cb status_cb;
  folio_jobs_cancel_cb cancel_cb;
  void *arg;
};

static void on_status(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg) {
  struct lookup_op *op = arg;
  struct folio_job_status st;
  struct folio_pg_diag d = *diag;
  if (status == 0) status = folio_jobs_status_decode(res, op->job_id, op->arena, &st, &d);
  op->status_cb(status, status == 0 ? &st : NULL, &d, op->arg);
  free(op);
}

static void on_cancel(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg) {
  struct lookup_op *op = arg;
  enum folio_job_state state = FOLIO_JOB_UNSPECIFIED;
  struct folio_pg_diag d = *diag;
  if (status == 0) status = folio_jobs_cancel_decode(res, op->job_id, &state, &d);
  op->cancel_cb(status, state, &d, op->arg);
  free(op);
}

static int lookup_send(struct folio_pg_async *a, int stmt, const char *tenant, const char *job_id,
                       struct lookup_op *op, folio_pg_async_cb cb) {
  if (folio_jobs_check_id("job_id", job_id, NULL) || folio_jobs_check_tenant(tenant, NULL)) {
    free(op);
    return FOLIO_JOBS_EINVAL;
  }
  snprintf(op->job_id, sizeof op->job_id, "%s", job_id);
  const char *v[2] = {job_id, tenant};
  struct folio_pg_params p = {2, v, NULL, NULL};
  int rc = folio_pg_async_exec(a, stmt, &p, 0, cb, op);
  if (rc) free(op);
  return rc;
}

int folio_jobs_get_status_async(struct folio_pg_async *a, const char *tenant, const char *job_id,
                                struct folio_arena *arena, folio_jobs_status_cb cb, void *arg) {
  if (!cb || !arena) return FOLIO_JOBS_EINVAL;
  struct lookup_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  op->arena = arena;
  op->status_cb = cb;
  op->arg = arg;
  return lookup_send(a, S_STATUS, tenant, job_id, op, on_status);
}

int folio_jobs_cancel_async(struct folio_pg_async *a, const char *tenant, const char *job_id,
                            folio_jobs_cancel_cb cb, void *arg) {
  if (!cb) return FOLIO_JOBS_EINVAL;
  struct lookup_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  op->cancel_cb = cb;
  op->arg = arg;
  return lookup_send(a, S_CANCEL, tenant, job_id, op, on_cancel);
}

/* ---- reconciler ------------------------------------------------------------------ */

struct ids_op {
  folio_jobs_ids_cb cb;
  folio_jobs_done_cb done_cb;
  void *arg;
};

static void on_ids(struct folio_pg_async *a, int status, const PGresult *res,
                   const struct folio_pg_diag *diag, void *arg) {
  struct ids_op *op = arg;
  size_t n = status == 0 ? (size_t)PQntuples(res) : 0;
  char **ids = calloc(n + 1, sizeof *ids);
  if (!ids) {
    struct folio_pg_diag d;
    folio_jobs_diag(&d, "out of memory");
    op->cb(FOLIO_PG_ENOMEM, NULL, 0, &d, op->arg);
  } else {
    /* PQgetvalue's strings live as long as res, i.e. this callback */
    for (size_t i = 0; i < n; i++) ids[i] = PQgetvalue(res, (int)i, 0);
    op->cb(status, ids, n, diag, op->arg);
    free(ids);
  }
  free(op);
}

static int ids_send(struct folio_pg_async *a, int stmt, int ms, int limit, folio_jobs_ids_cb cb,
                    void *arg) {
  if (!cb) return FOLIO_JOBS_EINVAL;
  struct ids_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  op->cb = cb;
  op->arg = arg;
  char x[16], y[16];
  snprintf(x, sizeof x, "%d", ms < 0 ? 0 : ms);
  snprintf(y, sizeof y, "%d", limit < 1 ? 1 : limit);
  const char *v[2] = {x, y};
  struct folio_pg_params p = {2, v, NULL, NULL};
  int rc = folio_pg_async_exec(a, stmt, &p, 0, on_ids, op);
  if (rc) free(op);
  return rc;
}

int folio_jobs_take_undispatched_async(struct folio_pg_async *a, int older_than_ms, int limit,
                                       folio_jobs_ids_cb cb, void *arg) {
  return ids_send(a, S_TAKE_UNDISPATCHED, older_than_ms, limit, cb, arg);
}

int folio_jobs_reap_stale_async(struct folio_pg_async *a, int lease_ms, int limit,
                                folio_jobs_ids_cb cb, void *arg) {
  return ids_send(a, S_REAP, lease_ms, limit, cb, arg);
}

static void on_marked(struct folio_pg_async *a, int status, const PGresult *res,
                      const struct folio_pg_diag *diag, void *arg) {
  struct ids_op *op = arg;
  if (op->done_cb) op->done_cb(status, diag, op->arg);
  free(op);
}

int folio_jobs_mark_dispatched_async(struct folio_pg_async *a, const char *job_id,
                                     folio_jobs_done_cb cb, void *arg) {
  if (folio_jobs_check_id("job_id", job_id, NULL)) return FOLIO_JOBS_EINVAL;
  struct ids_op *op = calloc(1, sizeof *op);
  if (!op) return FOLIO_PG_ENOMEM;
  op->done_cb = cb;
  op->arg = arg;
  const char *v[1] = {job_id};
  struct folio_pg_params p = {1, v, NULL, NULL};
  int rc = folio_pg_async_exec(a, S_MARK_DISPATCHED, &p, FOLIO_PG_ASYNC_GROUP, on_marked, op);
  if (rc) free(op);
  return rc;
}
