/* Every SQL statement lib/jobs runs, prepared once per connection.
 *
 * Each state transition is a single statement: a data-modifying CTE changes
 * the jobs row under its fence (WHERE state = ... AND attempts = $n) and
 * appends the job_events row from the same RETURNING, so the transition and
 * its audit record commit together without an explicit transaction.
 * Every statement is served by an index (tests/integration/jobs checks the
 * plans with EXPLAIN). Parameters are always placeholders. */
#include "jobs_int.h"

/* $1 id, $2 tenant, $3 idempotency key (NULL = none), $4 formats '{1,2}',
 * $5 png_dpi, $6 page_range, $7 layout (binary), $8 labels jsonb, $9 max_attempts.
 * Returns (id, state, deduplicated) — or no row when the conflicting job
 * committed after this statement's snapshot; S_SUBMIT_LOOKUP then finds it. */
#define SQL_SUBMIT                                                                            \
  "WITH ins AS ("                                                                             \
  " INSERT INTO jobs (id, tenant, idempotency_key, formats, png_dpi, page_range, layout,"     \
  "                   labels, max_attempts)"                                                  \
  " VALUES ($1::uuid, $2::text, $3::text, $4::smallint[], $5::int, $6::text, $7::bytea,"      \
  "         $8::jsonb, $9::int)"                                                              \
  " ON CONFLICT (tenant, idempotency_key) DO NOTHING"                                         \
  " RETURNING id, state),"                                                                    \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt) SELECT id, 'submitted', 0 FROM ins)" \
  " SELECT id::text, state, 'f' FROM ins"                                                     \
  " UNION ALL"                                                                                \
  " SELECT id::text, state, 't' FROM jobs"                                                    \
  "  WHERE tenant = $2::text AND idempotency_key = $3::text AND NOT EXISTS (SELECT 1 FROM ins)"

#define SQL_SUBMIT_LOOKUP \
  "SELECT id::text, state FROM jobs WHERE tenant = $1::text AND idempotency_key = $2::text"

/* $1 id, $2 tenant. Rows: kind 0 = the job (one), 1 = artifacts by ord,
 * 2 = labels by key. All columns text. */
#define SQL_STATUS                                                                         \
  "WITH j AS (SELECT * FROM jobs WHERE id = $1::uuid AND tenant = $2::text)"              \
  " SELECT 0 AS kind, 0 AS ord, state AS c1, progress_percent::text AS c2,"               \
  "  (attempts - released)::text AS c3, max_attempts::text AS c4, cancel_requested::text AS c5,"       \
  "  error_code AS c6, error_message AS c7,"                                               \
  "  (extract(epoch FROM created_at) * 1000000)::bigint::text AS c8,"                      \
  "  (extract(epoch FROM started_at) * 1000000)::bigint::text AS c9,"                      \
  "  (extract(epoch FROM finished_at) * 1000000)::bigint::text AS c10,"                    \
  "  array_to_string(formats, ',') AS c11"                                                 \
  " FROM j"                                                                                \
  " UNION ALL"                                                                             \
  " SELECT 1, a.ord, a.name, a.format::text, a.page::text, a.size_bytes::text,"           \
  "  a.sha256_hex, a.content_type, a.object_key, NULL, NULL, NULL, NULL"                   \
  " FROM artifacts a WHERE a.job_id = $1::uuid AND EXISTS (SELECT 1 FROM j)"               \
  " UNION ALL"                                                                             \
  " SELECT 2, 0, l.key, l.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"     \
  " FROM j, jsonb_each_text(j.labels) AS l"                                                \
  " ORDER BY 1, 2, 3"

/* $1 id, $2 tenant. Row: (state before, state after or NULL); no row = not found. */
#define SQL_CANCEL                                                                           \
  "WITH cur AS (SELECT id, state FROM jobs WHERE id = $1::uuid AND tenant = $2::text"       \
  "             FOR UPDATE),"                                                                \
  " upd AS (UPDATE jobs j SET"                                                               \
  "   state = CASE WHEN cur.state = 'QUEUED' THEN 'CANCELED' ELSE j.state END,"              \
  "   cancel_requested = true,"                                                              \
  "   finished_at = CASE WHEN cur.state = 'QUEUED' THEN now() ELSE j.finished_at END,"       \
  "   updated_at = now()"                                                                    \
  "  FROM cur WHERE j.id = cur.id AND cur.state IN ('QUEUED', 'RUNNING')"                    \
  "  RETURNING j.id, j.state, j.attempts),"                                                  \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt)"                                   \
  "  SELECT id, CASE WHEN state = 'CANCELED' THEN 'canceled' ELSE 'cancel_requested' END,"   \
  "         attempts FROM upd)"                                                              \
  " SELECT cur.state, upd.state FROM cur LEFT JOIN upd ON true"

/* $1 id, $2 worker id. Binary results (layout). Row: ('1', state, attempts,
 * tenant, formats, png_dpi, page_range, layout) when claimed or exhausted,
 * ('0', state, attempts, NULL...) when not QUEUED; no row = not found. */
#define SQL_CLAIM                                                                            \
  "WITH upd AS (UPDATE jobs SET"                                                             \
  "   state = CASE WHEN attempts - released < max_attempts THEN 'RUNNING' ELSE 'FAILED' END,"           \
  "   attempts = CASE WHEN attempts - released < max_attempts THEN attempts + 1 ELSE attempts END,"     \
  "   worker_id = $2::text, heartbeat_at = now(), updated_at = now(), progress_percent = 0," \
  "   started_at = CASE WHEN attempts - released < max_attempts THEN now() ELSE started_at END,"        \
  "   finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE now() END,"             \
  "   error_code = CASE WHEN attempts - released < max_attempts THEN NULL ELSE 'ATTEMPTS_EXHAUSTED' END," \
  "   error_message = CASE WHEN attempts - released < max_attempts THEN NULL"                           \
  "     ELSE format('the job was started %s times without finishing', attempts - released) END"         \
  "  WHERE id = $1::uuid AND state = 'QUEUED'"                                               \
  "  RETURNING id, state, attempts, tenant, formats, png_dpi, page_range, layout),"          \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                \
  "  SELECT id, CASE WHEN state = 'RUNNING' THEN 'started' ELSE 'failed' END, attempts,"     \
  "         $2::text, CASE WHEN state = 'FAILED' THEN 'ATTEMPTS_EXHAUSTED' END FROM upd)"    \
  " SELECT '1'::text, state, attempts::text, tenant, array_to_string(formats, ','),"         \
  "        png_dpi::text, page_range, layout FROM upd"                                       \
  " UNION ALL"                                                                               \
  " SELECT '0', state, attempts::text, NULL, NULL, NULL, NULL, NULL FROM jobs"               \
  "  WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM upd)"

/* $1 id, $2 attempt, $3 progress (<0 = unchanged). Row: cancel_requested. */
#define SQL_HEARTBEAT                                                                          \
  "WITH upd AS (UPDATE jobs j SET heartbeat_at = now(), updated_at = now(),"                   \
  "   progress_percent = CASE WHEN $3::int >= 0 THEN LEAST($3::int, 100)"                      \
  "                      ELSE j.progress_percent END"                                          \
  "  FROM (SELECT id, progress_percent AS old FROM jobs WHERE id = $1::uuid) o"                \
  "  WHERE j.id = o.id AND j.state = 'RUNNING' AND j.attempts = $2::int"                       \
  "  RETURNING j.id, j.cancel_requested, j.progress_percent, o.old, j.worker_id),"             \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                  \
  "  SELECT id, 'progress', $2::int, worker_id, progress_percent::text FROM upd"               \
  "  WHERE progress_percent <> old)"                                                           \
  " SELECT cancel_requested::text FROM upd"

/* $1 id, $2 attempt, then one array per artifact column: $3 names,
 * $4 formats, $5 pages, $6 sizes, $7 sha256, $8 content types, $9 object keys
 * (order = output order). The artifacts insert only from this statement's own
 * fenced UPDATE, so SUCCEEDED and the artifacts commit together or not at all.
 * Row when the job is now SUCCEEDED. */
#define SQL_SUCCEED                                                                         \
  "WITH upd AS (UPDATE jobs SET state = 'SUCCEEDED', progress_percent = 100,"              \
  "   finished_at = now(), updated_at = now(), error_code = NULL, error_message = NULL"    \
  "  WHERE id = $1::uuid AND state = 'RUNNING' AND attempts = $2::int"                     \
  "    AND NOT cancel_requested"                                                            \
  "  RETURNING id, attempts, worker_id),"                                                   \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id)"                       \
  "  SELECT id, 'succeeded', attempts, worker_id FROM upd),"                                \
  " art AS (INSERT INTO artifacts (job_id, name, ord, format, page, size_bytes, sha256_hex," \
  "                                content_type, object_key)"                               \
  "  SELECT upd.id, a.name, a.ord - 1, a.format, a.page, a.size, a.sha, a.ctype, a.okey"    \
  "  FROM upd, unnest($3::text[], $4::smallint[], $5::int[], $6::bigint[], $7::text[],"    \
  "                   $8::text[], $9::text[])"                                              \
  "       WITH ORDINALITY AS a(name, format, page, size, sha, ctype, okey, ord))"           \
  " SELECT id::text FROM upd"

/* A job that goes back to QUEUED from RUNNING (a transient failure here,
 * SQL_RELEASE, SQL_REAP) has a live dispatch at that moment: its stream entry
 * stays pending for re-delivery, or the reaper's caller XADDs it at once. So
 * dispatched_at = now(), not NULL — with NULL the reconciler counted from the
 * old created_at and sent a second entry within a tick.
 *
 * $1 id, $2 attempt, $3 transient, $4 code, $5 message. Row: new state. */
#define SQL_FAIL                                                                              \
  "WITH upd AS (UPDATE jobs SET"                                                              \
  "   state = CASE WHEN cancel_requested THEN 'CANCELED'"                                     \
  "           WHEN $3::bool AND attempts - released < max_attempts THEN 'QUEUED' ELSE 'FAILED' END,"     \
  "   error_code = CASE WHEN cancel_requested THEN NULL"                                      \
  "           WHEN $3::bool AND attempts - released >= max_attempts THEN 'ATTEMPTS_EXHAUSTED'"           \
  "           ELSE $4::text END,"                                                             \
  "   error_message = CASE WHEN cancel_requested THEN NULL"                                   \
  "           WHEN $3::bool AND attempts - released >= max_attempts"                                     \
  "           THEN format('gave up after %s attempts; last error %s: %s', attempts - released,"          \
  "                       $4::text, $5::text)"                                                \
  "           ELSE $5::text END,"                                                             \
  "   finished_at = CASE WHEN NOT cancel_requested AND $3::bool AND attempts - released < max_attempts"  \
  "                 THEN NULL ELSE now() END,"                                                \
  "   dispatched_at = now(), heartbeat_at = NULL, updated_at = now()"                          \
  "  WHERE id = $1::uuid AND state = 'RUNNING' AND attempts = $2::int"                        \
  "  RETURNING id, state, attempts, worker_id, error_code),"                                  \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                 \
  "  SELECT id, CASE state WHEN 'QUEUED' THEN 'retried' WHEN 'CANCELED' THEN 'canceled'"      \
  "                ELSE 'failed' END, attempts, worker_id, error_code FROM upd)"              \
  " SELECT state FROM upd"

/* $1 id, $2 attempt. Row when now CANCELED. */
#define SQL_CANCEL_CONFIRM                                                                 \
  "WITH upd AS (UPDATE jobs SET state = 'CANCELED', finished_at = now(), updated_at = now()" \
  "  WHERE id = $1::uuid AND state = 'RUNNING' AND attempts = $2::int AND cancel_requested" \
  "  RETURNING id, attempts, worker_id),"                                                   \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id)"                       \
  "  SELECT id, 'canceled', attempts, worker_id FROM upd)"                                  \
  " SELECT id::text FROM upd"

/* $1 id, $2 attempt, $3 why. The attempt ends without counting: QUEUED with
 * released + 1 (attempts, the fencing token, is never taken back), or
 * CANCELED when a cancel was requested meanwhile. Row: the new state. */
#define SQL_RELEASE                                                                          \
  "WITH upd AS (UPDATE jobs SET"                                                             \
  "   state = CASE WHEN cancel_requested THEN 'CANCELED' ELSE 'QUEUED' END,"                 \
  "   released = released + CASE WHEN cancel_requested THEN 0 ELSE 1 END,"                   \
  "   finished_at = CASE WHEN cancel_requested THEN now() END,"                              \
  "   dispatched_at = now(), heartbeat_at = NULL, updated_at = now()"                         \
  "  WHERE id = $1::uuid AND state = 'RUNNING' AND attempts = $2::int"                       \
  "  RETURNING id, state, attempts, worker_id),"                                             \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                \
  "  SELECT id, CASE state WHEN 'QUEUED' THEN 'released' ELSE 'canceled' END, attempts,"     \
  "         worker_id, $3::text FROM upd)"                                                   \
  " SELECT state FROM upd"

#define SQL_MARK_DISPATCHED \
  "UPDATE jobs SET dispatched_at = now() WHERE id = $1::uuid AND state = 'QUEUED'"

/* $1 older than (ms), $2 limit. Rows: ids. */
#define SQL_TAKE_UNDISPATCHED                                                          \
  "WITH picked AS MATERIALIZED (SELECT id FROM jobs WHERE state = 'QUEUED'"            \
  "   AND COALESCE(dispatched_at, created_at) < now() - $1::int * interval '1 ms'"     \
  "   ORDER BY COALESCE(dispatched_at, created_at), id LIMIT $2::int"                  \
  "   FOR UPDATE SKIP LOCKED)"                                                         \
  " UPDATE jobs j SET dispatched_at = now() FROM picked"                               \
  " WHERE j.id = picked.id AND j.state = 'QUEUED'"                                     \
  " RETURNING j.id::text"

/* $1 lease (ms), $2 limit. Rows: ids now QUEUED. */
#define SQL_REAP                                                                              \
  "WITH stale AS MATERIALIZED (SELECT id FROM jobs WHERE state = 'RUNNING'"                                \
  "   AND heartbeat_at < now() - $1::int * interval '1 ms'"                                   \
  "   ORDER BY heartbeat_at, id LIMIT $2::int FOR UPDATE SKIP LOCKED),"                       \
  " upd AS (UPDATE jobs j SET"                                                                \
  "   state = CASE WHEN j.cancel_requested THEN 'CANCELED'"                                   \
  "           WHEN j.attempts - j.released < j.max_attempts THEN 'QUEUED' ELSE 'FAILED' END,"              \
  "   error_code = CASE WHEN j.cancel_requested THEN NULL"                                    \
  "           WHEN j.attempts - j.released < j.max_attempts THEN 'WORKER_LOST' ELSE 'ATTEMPTS_EXHAUSTED' END," \
  "   error_message = CASE WHEN j.cancel_requested THEN NULL"                                 \
  "           ELSE format('worker %s stopped heartbeating during attempt %s',"                \
  "                       j.worker_id, j.attempts) END,"                                      \
  "   finished_at = CASE WHEN NOT j.cancel_requested AND j.attempts - j.released < j.max_attempts"         \
  "                 THEN NULL ELSE now() END,"                                                \
  "   dispatched_at = now(), heartbeat_at = NULL, updated_at = now()"                          \
  "  FROM stale WHERE j.id = stale.id"                                                        \
  "  RETURNING j.id, j.state, j.attempts, j.worker_id, j.error_code),"                        \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                 \
  "  SELECT id, CASE state WHEN 'QUEUED' THEN 'retried' WHEN 'CANCELED' THEN 'canceled'"      \
  "                ELSE 'failed' END, attempts, worker_id, error_code FROM upd)"              \
  " SELECT id::text FROM upd WHERE state = 'QUEUED'"

const struct folio_pg_stmt folio_jobs_stmts[] = {
    [S_SUBMIT] = {"folio_submit", SQL_SUBMIT, 9, 0},
    [S_SUBMIT_LOOKUP] = {"folio_submit_lookup", SQL_SUBMIT_LOOKUP, 2, 0},
    [S_STATUS] = {"folio_status", SQL_STATUS, 2, 0},
    [S_CANCEL] = {"folio_cancel", SQL_CANCEL, 2, 0},
    [S_CLAIM] = {"folio_claim", SQL_CLAIM, 2, 1},
    [S_HEARTBEAT] = {"folio_heartbeat", SQL_HEARTBEAT, 3, 0},
    [S_SUCCEED] = {"folio_succeed", SQL_SUCCEED, 9, 0},
    [S_FAIL] = {"folio_fail", SQL_FAIL, 5, 0},
    [S_CANCEL_CONFIRM] = {"folio_cancel_confirm", SQL_CANCEL_CONFIRM, 2, 0},
    [S_RELEASE] = {"folio_release", SQL_RELEASE, 3, 0},
    [S_MARK_DISPATCHED] = {"folio_mark_dispatched", SQL_MARK_DISPATCHED, 1, 0},
    [S_TAKE_UNDISPATCHED] = {"folio_take_undispatched", SQL_TAKE_UNDISPATCHED, 2, 0},
    [S_REAP] = {"folio_reap", SQL_REAP, 2, 0},
    [S_APIKEY_INSERT] = {"folio_apikey_insert",
                         "INSERT INTO api_keys (id, tenant, key_hash)"
                         " VALUES ($1::uuid, $2::text, $3::bytea)",
                         3, 0},
    [S_APIKEY_LOOKUP] = {"folio_apikey_lookup",
                         "SELECT tenant, key_hash FROM api_keys"
                         " WHERE id = $1::uuid AND revoked_at IS NULL",
                         1, 1},
    [S_APIKEY_REVOKE] = {"folio_apikey_revoke",
                         "UPDATE api_keys SET revoked_at = now()"
                         " WHERE id = $1::uuid AND revoked_at IS NULL"
                         "   AND ($2::text IS NULL OR tenant = $2::text)",
                         2, 0},
};
const size_t folio_jobs_nstmts = sizeof folio_jobs_stmts / sizeof folio_jobs_stmts[0];

_Static_assert(sizeof folio_jobs_stmts / sizeof folio_jobs_stmts[0] == S_COUNT,
               "one statement per folio_jobs_stmt_id");

void folio_jobs_conn_config(struct folio_pg_conn_config *cfg) {
  cfg->stmts = folio_jobs_stmts;
  cfg->nstmts = folio_jobs_nstmts;
}
