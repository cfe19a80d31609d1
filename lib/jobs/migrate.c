/* Schema migrations: every lib/jobs/migrations/NNNN_name.sql the database
 * lacks is applied in one transaction that first takes a transaction-scoped
 * advisory lock, so servers starting together serialize here and each
 * migration runs exactly once; a failure rolls everything back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_int.h"
#include "migrations.h"

/* pg_advisory_xact_lock key: "foliomig" in ASCII. */
#define MIGRATE_LOCK_KEY "7381153437580978535"

int folio_jobs_schema_version(void) {
  return folio_jobs_nmigrations ? folio_jobs_migrations[folio_jobs_nmigrations - 1].version : 0;
}

int folio_jobs_schema_count(void) { return (int)folio_jobs_nmigrations; }

static bool applied_has(PGresult *r, int version) {
  for (int i = 0; i < PQntuples(r); i++)
    if (atoi(PQgetvalue(r, i, 0)) == version) return true;
  return false;
}

int folio_jobs_migrate(struct folio_pg_conn *c, int *applied, struct folio_pg_diag *diag) {
  if (applied) *applied = 0;
  int rc = folio_pg_conn_command(c,
                                 "BEGIN;"
                                 "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ");"
                                 "CREATE TABLE IF NOT EXISTS folio_schema_migrations ("
                                 " version integer PRIMARY KEY,"
                                 " name text NOT NULL,"
                                 " applied_at timestamptz NOT NULL DEFAULT now())",
                                 NULL, diag);
  if (rc) goto fail;
  PGresult *have = NULL;
  rc = folio_pg_conn_command(c, "SELECT version FROM folio_schema_migrations", &have, diag);
  if (rc) goto fail;
  int n = 0;
  for (size_t i = 0; i < folio_jobs_nmigrations; i++) {
    const struct folio_jobs_migration *m = &folio_jobs_migrations[i];
    if (applied_has(have, m->version)) continue;
    rc = folio_pg_conn_command(c, m->sql, NULL, diag);
    if (rc == 0) {
      char v[16];
      snprintf(v, sizeof v, "%d", m->version);
      const char *vals[] = {v, m->name};
      PGresult *r = PQexecParams(folio_pg_conn_raw(c),
                                 "INSERT INTO folio_schema_migrations (version, name)"
                                 " VALUES ($1::int, $2::text)",
                                 2, NULL, vals, NULL, NULL, 0);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = folio_pg_classify(folio_pg_conn_raw(c), r, diag);
      PQclear(r);
    }
    if (rc) {
      if (diag) {
        char msg[sizeof diag->msg];
        snprintf(msg, sizeof msg, "migration %04d_%.40s: %.440s", m->version, m->name, diag->msg);
        memcpy(diag->msg, msg, sizeof msg);
      }
      PQclear(have);
      goto fail;
    }
    n++;
  }
  PQclear(have);
  rc = folio_pg_conn_command(c, "COMMIT", NULL, diag);
  if (rc) goto fail;
  if (applied) *applied = n;
  return 0;
fail:
  if (folio_pg_conn_ok(c)) folio_pg_conn_command(c, "ROLLBACK", NULL, NULL);
  return rc;
}
