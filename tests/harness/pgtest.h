/* Shared set-up for the lib/pg and lib/jobs integration tests: they run under
 * scripts/stack.sh, which starts a throwaway PostgreSQL (and Redis) and exports
 * FOLIO_DATABASE_URL / FOLIO_REDIS_URL. */
#ifndef FOLIO_TEST_PGTEST_H
#define FOLIO_TEST_PGTEST_H

#include <stdlib.h>

#include "check.h"
#include "folio/jobs.h"
#include "folio/pg.h"

/* CHECK for helper threads: check.h's counter is not thread-safe, so a
 * thread reports and ends the process without touching it. */
#define TCHECK(cond, ...)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
      _Exit(1);                                                               \
    }                                                                         \
  } while (0)

static inline const char *pgtest_url(void) {
  const char *url = getenv("FOLIO_DATABASE_URL");
  TCHECK(url && *url, "FOLIO_DATABASE_URL is not set: run me under scripts/stack.sh run");
  return url;
}

/* A connection without prepared statements (for migrations and ad-hoc SQL). */
static inline struct folio_pg_conn *pgtest_plain(void) {
  struct folio_pg_conn_config cfg = {.conninfo = pgtest_url()};
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  int rc = folio_pg_conn_connect(&cfg, &c, &d);
  TCHECK(rc == 0, "connect: %s", d.msg);
  return c;
}

/* A connection with the jobs statements; the schema must exist. */
static inline struct folio_pg_conn *pgtest_jobs(void) {
  struct folio_pg_conn_config cfg = {.conninfo = pgtest_url()};
  folio_jobs_conn_config(&cfg);
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  int rc = folio_pg_conn_connect(&cfg, &c, &d);
  TCHECK(rc == 0, "connect: %s", d.msg);
  return c;
}

/* Runs fixed SQL and returns the first value of the first row (static buffer). */
static inline const char *pgtest_value(struct folio_pg_conn *c, const char *sql) {
  static char buf[4096];
  PGresult *r;
  struct folio_pg_diag d;
  int rc = folio_pg_conn_command(c, sql, &r, &d);
  CHECK_MSG(rc == 0, "%s: %s", sql, d.msg);
  buf[0] = '\0';
  if (PQntuples(r) > 0) snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return buf;
}

#endif
