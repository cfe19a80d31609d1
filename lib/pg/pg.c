/* Blocking PostgreSQL connection: connect, prepare the statement table in one
 * pipelined round trip, execute prepared statements singly or as a pipelined
 * batch that commits as one implicit transaction.
 *
 * The statement table is indexed by position: callers name statements by
 * their index in the table they registered, so a typo is a bounds check, not
 * a server round trip. */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *folio_pg_strerror(int code) {
  switch (code) {
    case FOLIO_PG_OK: return "ok";
    case FOLIO_PG_ECONNECT: return "database connection failed";
    case FOLIO_PG_EQUERY: return "database rejected the statement";
    case FOLIO_PG_ETIMEOUT: return "database timeout";
    case FOLIO_PG_ECONFLICT: return "database conflict (retry)";
    case FOLIO_PG_EINVAL: return "invalid argument";
    case FOLIO_PG_ENOMEM: return "out of memory";
    case FOLIO_PG_ECLOSED: return "database pool closed";
    default: return "unknown database error";
  }
}

void folio_pg_diag_set(struct folio_pg_diag *d, const char *sqlstate, const char *fmt, ...) {
  if (!d) return;
  snprintf(d->sqlstate, sizeof d->sqlstate, "%s", sqlstate ? sqlstate : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
  /* libpq messages end in a newline; a diag is one line. */
  size_t n = strlen(d->msg);
  while (n > 0 && (d->msg[n - 1] == '\n' || d->msg[n - 1] == ' ')) d->msg[--n] = '\0';
}

int folio_pg_classify(PGconn *conn, const PGresult *res, struct folio_pg_diag *diag) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorMessage(res) : "";
  if (!msg || !*msg) msg = conn ? PQerrorMessage(conn) : "no connection";
  folio_pg_diag_set(diag, state, "%s", msg);
  if (!conn || PQstatus(conn) != CONNECTION_OK) return FOLIO_PG_ECONNECT;
  if (!state) return res ? FOLIO_PG_EQUERY : FOLIO_PG_ECONNECT;
  if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) return FOLIO_PG_ECONFLICT;
  if (strcmp(state, "57014") == 0) return FOLIO_PG_ETIMEOUT;
  if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0) return FOLIO_PG_ECONNECT;
  return FOLIO_PG_EQUERY;
}

static bool result_ok(const PGresult *r) {
  ExecStatusType s = PQresultStatus(r);
  return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK || s == PGRES_EMPTY_QUERY;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int folio_pg_conn_config_copy(struct folio_pg_owned_config *dst,
                              const struct folio_pg_conn_config *src) {
  dst->cfg = *src;
  dst->conninfo = dup_or_null(src->conninfo);
  dst->application_name = dup_or_null(src->application_name ? src->application_name : "folio");
  dst->cfg.conninfo = dst->conninfo;
  dst->cfg.application_name = dst->application_name;
  if (!dst->conninfo || !dst->application_name) {
    folio_pg_conn_config_free(dst);
    return FOLIO_PG_ENOMEM;
  }
  if (dst->cfg.statement_timeout_ms <= 0) dst->cfg.statement_timeout_ms = 5000;
  if (dst->cfg.connect_timeout_s <= 0) dst->cfg.connect_timeout_s = 5;
  return 0;
}

void folio_pg_conn_config_free(struct folio_pg_owned_config *c) {
  free(c->conninfo);
  free(c->application_name);
  c->conninfo = c->application_name = NULL;
  c->cfg.conninfo = c->cfg.application_name = NULL;
}

int folio_pg_setup_send(PGconn *pg, const struct folio_pg_conn_config *cfg) {
  if (!PQenterPipelineMode(pg)) return -1;
  /* Session settings first; notices (e.g. "already exists, skipping") are not
   * errors and must not reach stderr. */
  char set[160];
  snprintf(set, sizeof set,
           "SELECT set_config('statement_timeout', '%d', false),"
           " set_config('client_min_messages', 'warning', false)",
           cfg->statement_timeout_ms);
  if (!PQsendQueryParams(pg, set, 0, NULL, NULL, NULL, NULL, 0)) return -1;
  for (size_t i = 0; i < cfg->nstmts; i++) {
    const struct folio_pg_stmt *s = &cfg->stmts[i];
    if (!PQsendPrepare(pg, s->name, s->sql, s->nparams, NULL)) return -1;
  }
  if (!PQpipelineSync(pg)) return -1;
  return 0;
}

/* Collects the results of the set-up pipeline (blocking). */
static int setup_collect(PGconn *pg, const struct folio_pg_conn_config *cfg,
                         struct folio_pg_diag *diag) {
  int rc = 0;
  for (size_t i = 0; i < cfg->nstmts + 1; i++) {
    PGresult *r = PQgetResult(pg);
    if (!r) return folio_pg_classify(pg, NULL, diag);
    if (!result_ok(r) && rc == 0) {
      rc = folio_pg_classify(pg, r, diag);
      if (i > 0 && diag) {
        char detail[sizeof diag->msg];
        memcpy(detail, diag->msg, sizeof detail);
        snprintf(diag->msg, sizeof diag->msg, "preparing statement %.64s: %.400s",
                 cfg->stmts[i - 1].name, detail);
      }
    }
    PQclear(r);
    PQclear(PQgetResult(pg)); /* the NULL that ends each command's results */
  }
  PGresult *sync = PQgetResult(pg);
  if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
    PQclear(sync);
    return rc ? rc : folio_pg_classify(pg, NULL, diag);
  }
  PQclear(sync);
  if (!PQexitPipelineMode(pg) && rc == 0) rc = folio_pg_classify(pg, NULL, diag);
  return rc;
}

const char *const folio_pg_conn_keywords[] = {"dbname", "connect_timeout", "application_name",
                                              NULL};

static int conn_open(struct folio_pg_conn *c, struct folio_pg_diag *diag) {
  char timeout[16];
  snprintf(timeout, sizeof timeout, "%d", c->own.cfg.connect_timeout_s);
  const char *values[] = {c->own.cfg.conninfo, timeout, c->own.cfg.application_name, NULL};
  c->pg = PQconnectdbParams(folio_pg_conn_keywords, values, 1);
  if (!c->pg) {
    folio_pg_diag_set(diag, NULL, "out of memory creating a libpq connection");
    return FOLIO_PG_ENOMEM;
  }
  if (PQstatus(c->pg) != CONNECTION_OK) return folio_pg_classify(c->pg, NULL, diag);
  if (folio_pg_setup_send(c->pg, &c->own.cfg) != 0) return folio_pg_classify(c->pg, NULL, diag);
  return setup_collect(c->pg, &c->own.cfg, diag);
}

int folio_pg_conn_connect(const struct folio_pg_conn_config *cfg, struct folio_pg_conn **out,
                          struct folio_pg_diag *diag) {
  *out = NULL;
  if (!cfg || !cfg->conninfo || (cfg->nstmts > 0 && !cfg->stmts)) {
    folio_pg_diag_set(diag, NULL, "folio_pg_conn_connect: conninfo is required");
    return FOLIO_PG_EINVAL;
  }
  struct folio_pg_conn *c = calloc(1, sizeof *c);
  if (!c || folio_pg_conn_config_copy(&c->own, cfg) != 0) {
    free(c);
    folio_pg_diag_set(diag, NULL, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  int rc = conn_open(c, diag);
  if (rc != 0) {
    folio_pg_conn_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

void folio_pg_conn_close(struct folio_pg_conn *c) {
  if (!c) return;
  if (c->pg) PQfinish(c->pg);
  folio_pg_conn_config_free(&c->own);
  free(c);
}

int folio_pg_conn_reset(struct folio_pg_conn *c, struct folio_pg_diag *diag) {
  if (c->pg) PQfinish(c->pg);
  c->pg = NULL;
  return conn_open(c, diag);
}

PGconn *folio_pg_conn_raw(struct folio_pg_conn *c) { return c->pg; }

bool folio_pg_conn_ok(const struct folio_pg_conn *c) {
  return c && c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

static int check_stmt(const struct folio_pg_conn *c, int stmt, const struct folio_pg_params *p,
                      struct folio_pg_diag *diag) {
  if (stmt < 0 || (size_t)stmt >= c->own.cfg.nstmts) {
    folio_pg_diag_set(diag, NULL, "statement index %d out of range (0..%zu)", stmt,
                      c->own.cfg.nstmts);
    return FOLIO_PG_EINVAL;
  }
  int n = p ? p->n : 0;
  if (n != c->own.cfg.stmts[stmt].nparams) {
    folio_pg_diag_set(diag, NULL, "statement %s takes %d parameters, got %d",
                      c->own.cfg.stmts[stmt].name, c->own.cfg.stmts[stmt].nparams, n);
    return FOLIO_PG_EINVAL;
  }
  if (!folio_pg_conn_ok(c)) {
    folio_pg_diag_set(diag, "08003", "not connected");
    return FOLIO_PG_ECONNECT;
  }
  return 0;
}

int folio_pg_conn_exec(struct folio_pg_conn *c, int stmt, const struct folio_pg_params *p,
                       PGresult **res, struct folio_pg_diag *diag) {
  *res = NULL;
  int rc = check_stmt(c, stmt, p, diag);
  if (rc) return rc;
  PGresult *r = PQexecPrepared(c->pg, c->own.cfg.stmts[stmt].name, p ? p->n : 0,
                               p ? p->values : NULL, p ? p->lengths : NULL,
                               p ? p->formats : NULL, c->own.cfg.stmts[stmt].binary_results);
  if (!r || !result_ok(r)) {
    rc = folio_pg_classify(c->pg, r, diag);
    PQclear(r);
    return rc;
  }
  *res = r;
  return 0;
}

int folio_pg_conn_batch(struct folio_pg_conn *c, size_t n, const int *stmts,
                        const struct folio_pg_params *params, PGresult **res,
                        struct folio_pg_diag *diag) {
  for (size_t i = 0; i < n; i++) res[i] = NULL;
  for (size_t i = 0; i < n; i++) {
    int rc = check_stmt(c, stmts[i], &params[i], diag);
    if (rc) return rc;
  }
  if (n == 0) return 0;
  if (!PQenterPipelineMode(c->pg)) return folio_pg_classify(c->pg, NULL, diag);
  for (size_t i = 0; i < n; i++) {
    const struct folio_pg_params *p = &params[i];
    if (!PQsendQueryPrepared(c->pg, c->own.cfg.stmts[stmts[i]].name, p->n, p->values, p->lengths,
                             p->formats, c->own.cfg.stmts[stmts[i]].binary_results)) {
      int rc = folio_pg_classify(c->pg, NULL, diag);
      PQfinish(c->pg); /* mid-pipeline state is not recoverable; reset reconnects */
      c->pg = NULL;
      return rc;
    }
  }
  if (!PQpipelineSync(c->pg)) {
    int rc = folio_pg_classify(c->pg, NULL, diag);
    PQfinish(c->pg);
    c->pg = NULL;
    return rc;
  }
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    PGresult *r = PQgetResult(c->pg);
    if (!r) {
      if (rc == 0) rc = folio_pg_classify(c->pg, NULL, diag);
      break;
    }
    if (!result_ok(r)) {
      if (rc == 0 && PQresultStatus(r) != PGRES_PIPELINE_ABORTED) rc = folio_pg_classify(c->pg, r, diag);
      PQclear(r);
    } else {
      res[i] = r;
    }
    PQclear(PQgetResult(c->pg)); /* end of this command's results */
  }
  PGresult *sync = PQgetResult(c->pg);
  bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced || !PQexitPipelineMode(c->pg)) {
    if (rc == 0) rc = folio_pg_classify(c->pg, NULL, diag);
    PQfinish(c->pg);
    c->pg = NULL;
  }
  if (rc != 0) {
    /* The implicit transaction rolled back: results of earlier statements
     * describe effects that did not happen. */
    for (size_t i = 0; i < n; i++) {
      PQclear(res[i]);
      res[i] = NULL;
    }
  }
  return rc;
}

int folio_pg_conn_command(struct folio_pg_conn *c, const char *sql, PGresult **res,
                          struct folio_pg_diag *diag) {
  if (res) *res = NULL;
  if (!folio_pg_conn_ok(c)) {
    folio_pg_diag_set(diag, "08003", "not connected");
    return FOLIO_PG_ECONNECT;
  }
  PGresult *r = PQexec(c->pg, sql);
  if (!r || !result_ok(r)) {
    int rc = folio_pg_classify(c->pg, r, diag);
    PQclear(r);
    return rc;
  }
  if (res)
    *res = r;
  else
    PQclear(r);
  return 0;
}
