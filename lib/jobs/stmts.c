/* Every SQL statement lib/jobs runs, prepared once per connection.
 *
 * Each state transition is a single statement: a data-modifying CTE changes
 * the jobs row under its fence (WHERE state = ... AND attempts = $n) and
 * appends the job_events row from the same RETURNING, so the transition and
 * its audit record commit together without an explicit transaction.
 * Every statement is served by an index (tests/integration/jobs checks the
 * plans with EXPLAIN). Parameters are always placeholders. */
#include "folio/tenant.h"
#include "jobs_int.h"

/* $1 id, $2 tenant, $3 idempotency key (NULL = none), $4 formats '{1,2}',
 * $5 png_dpi, $6 page_range, $7 layout (binary, in its stored form), $8 labels
 * jsonb, $9 max_attempts, $10 the default max_unfinished_jobs
 * (folio/tenant.h), $11 fail_on_warnings, $12 require_clean_preflight
 * (migration 0007), $13 png_include_bleed (migration 0006), $14 pdf_profiles
 * (the folio/pdf_profile.h bit set; migration 0005), $15 the layout's codec
 * (folio/layout_store.h, migration 0008), $16 the render cache key (hex;
 * NULL = cache off), $17 look the key up (bool; migration 0009).
 * Returns (id, state, deduplicated) - or ('', limit, 'q') when the tenant is
 * at its max_unfinished_jobs and this is no duplicate (nothing written) - or
 * no row when the conflicting job committed after this statement's snapshot;
 * S_SUBMIT_LOOKUP then finds it.
 * The quota is race-free across servers: `lim` locks the tenant's row (FOR
 * UPDATE waits for a concurrent submit or finish of the same tenant and then
 * reads its committed count), and the trigger of migration 0003 counts the
 * insert into that row before the lock is released at commit. A tenant with
 * no row yet (its first job; the trigger creates the row) passes: every
 * tenant with an API key has its row from the key's creation.
 * The render cache (SQL_SUBMIT_CACHE_HIT): a hit inserts the job SUCCEEDED
 * (it costs no render slot, so the quota does not hold it back), its events
 * 'submitted' and 'succeeded' (detail: the source job) and its artifacts
 * rows as copies of the source job's, and the source job's findings (the
 * same output, the same findings); state 'SUCCEEDED' in the reply is how
 * the caller tells a hit. */
#define SQL_SUBMIT_CACHE_HIT                                                                  \
  " hit AS (SELECT c.job_id, sj.findings FROM render_cache c JOIN jobs sj ON sj.id = c.job_id" \
  "  WHERE $17::bool AND c.tenant = $2::text AND c.request_key = decode($16::text, 'hex')"    \
  "    AND c.renderer = (SELECT r.fingerprint FROM render_renderers r"                        \
  "                      ORDER BY r.registered_at DESC LIMIT 1)),"
#define SQL_SUBMIT                                                                            \
  "WITH lim AS (SELECT unfinished_jobs, COALESCE(max_unfinished_jobs, $10::bigint) AS cap"    \
  "   FROM tenants WHERE name = $2::text FOR UPDATE),"                                        \
  SQL_SUBMIT_CACHE_HIT                                                                        \
  " ins AS ("                                                                                 \
  " INSERT INTO jobs (id, tenant, idempotency_key, formats, png_dpi, page_range, layout,"     \
  "                   labels, max_attempts, fail_on_warnings, require_clean_preflight,"       \
  "                   png_include_bleed, pdf_profiles, layout_codec, cache_key,"              \
  "                   from_cache_job, findings, state, progress_percent, started_at,"         \
  "                   finished_at)"                                                           \
  " SELECT $1::uuid, $2::text, $3::text, $4::smallint[], $5::int, $6::text, $7::bytea,"      \
  "         $8::jsonb, $9::int, $11::bool, $12::bool, $13::bool, $14::int, $15::smallint,"    \
  "         decode($16::text, 'hex'), h.job_id, h.findings,"                                  \
  "         CASE WHEN h.job_id IS NULL THEN 'QUEUED' ELSE 'SUCCEEDED' END,"                   \
  "         CASE WHEN h.job_id IS NULL THEN 0 ELSE 100 END,"                                  \
  "         CASE WHEN h.job_id IS NULL THEN NULL ELSE now() END,"                             \
  "         CASE WHEN h.job_id IS NULL THEN NULL ELSE now() END"                              \
  "  FROM (VALUES (1)) AS one (x) LEFT JOIN hit h ON true"                                    \
  "  WHERE h.job_id IS NOT NULL"                                                              \
  "     OR COALESCE((SELECT unfinished_jobs < cap FROM lim), $10::bigint > 0)"                \
  " ON CONFLICT (tenant, idempotency_key) DO NOTHING"                                         \
  " RETURNING id, state, from_cache_job),"                                                    \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, detail)"                            \
  "  SELECT id, 'submitted', 0, NULL FROM ins"                                                \
  "  UNION ALL SELECT id, 'succeeded', 0, 'from the render cache: the artifacts of job '"     \
  "    || from_cache_job FROM ins WHERE from_cache_job IS NOT NULL),"                         \
  " art AS (INSERT INTO artifacts (job_id, name, ord, format, page, size_bytes, sha256_hex,"  \
  "                                content_type, object_key)"                                 \
  "  SELECT ins.id, a.name, a.ord, a.format, a.page, a.size_bytes, a.sha256_hex,"             \
  "         a.content_type, a.object_key"                                                     \
  "  FROM ins JOIN artifacts a ON a.job_id = ins.from_cache_job),"                            \
  " dup AS (SELECT id, state FROM jobs"                                                       \
  "  WHERE tenant = $2::text AND idempotency_key = $3::text AND NOT EXISTS (SELECT 1 FROM ins))" \
  " SELECT id::text, state, 'f' FROM ins"                                                     \
  " UNION ALL"                                                                                \
  " SELECT id::text, state, 't' FROM dup"                                                     \
  " UNION ALL"                                                                                \
  " SELECT '', COALESCE((SELECT cap FROM lim), $10::bigint)::text, 'q'"                       \
  "  WHERE NOT COALESCE((SELECT unfinished_jobs < cap FROM lim), $10::bigint > 0)"            \
  "    AND NOT EXISTS (SELECT 1 FROM ins) AND NOT EXISTS (SELECT 1 FROM dup)"

#define SQL_SUBMIT_LOOKUP \
  "SELECT id::text, state FROM jobs WHERE tenant = $1::text AND idempotency_key = $2::text"

/* $1 id, $2 tenant. Rows: kind 0 = the job (one), 1 = artifacts by ord,
 * 2 = labels by key. All columns text. The job row carries its findings
 * (c12, the serialised list of folio/findings.h; NULL = none recorded) and
 * whether its artifacts came from the render cache (c13). */
#define SQL_STATUS                                                                         \
  "WITH j AS (SELECT * FROM jobs WHERE id = $1::uuid AND tenant = $2::text)"              \
  " SELECT 0 AS kind, 0 AS ord, state AS c1, progress_percent::text AS c2,"               \
  "  (attempts - released)::text AS c3, max_attempts::text AS c4, cancel_requested::text AS c5,"       \
  "  error_code AS c6, error_message AS c7,"                                               \
  "  (extract(epoch FROM created_at) * 1000000)::bigint::text AS c8,"                      \
  "  (extract(epoch FROM started_at) * 1000000)::bigint::text AS c9,"                      \
  "  (extract(epoch FROM finished_at) * 1000000)::bigint::text AS c10,"                    \
  "  array_to_string(formats, ',') AS c11, findings::text AS c12,"                          \
  "  (from_cache_job IS NOT NULL)::text AS c13"                                             \
  " FROM j"                                                                                \
  " UNION ALL"                                                                             \
  " SELECT 1, a.ord, a.name, a.format::text, a.page::text, a.size_bytes::text,"           \
  "  a.sha256_hex, a.content_type, a.object_key, NULL, NULL, NULL, NULL, NULL, NULL"       \
  " FROM artifacts a WHERE a.job_id = $1::uuid AND EXISTS (SELECT 1 FROM j)"               \
  " UNION ALL"                                                                             \
  " SELECT 2, 0, l.key, l.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL," \
  "  NULL"                                                                                 \
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

/* $1 id, $2 worker id, $3 the default max_running_jobs (folio/tenant.h).
 * Binary results (layout). Row: ('1', state, attempts, tenant, formats,
 * png_dpi, page_range, layout, tenant id, the tenant's render_cpu_ms and
 * render_image_cache_bytes overrides (NULL = none, migration 0004),
 * fail_on_warnings, require_clean_preflight (migration 0007), png_include_bleed
 * (migration 0006), the job's pdf_profiles (migration 0005), the layout's codec
 * (migration 0008), as text) when claimed or exhausted,
 * ('0', state, attempts, NULL...) when not QUEUED, ('d', ...) when deferred;
 * no row = not found.
 * Fair share of the render pool: a job whose tenant already has
 * max_running_jobs RUNNING is not claimed but deferred - left QUEUED with
 * dispatched_at = -infinity, so the first reconciler tick after one of the
 * tenant's jobs ends re-dispatches it (SQL_TAKE_UNDISPATCHED)
 * (behind whatever other tenants queued meanwhile) and the worker acks this
 * entry and takes the next one. The count is a snapshot: claims of the same
 * tenant racing at the same instant may each pass (a soft cap). */
#define SQL_CLAIM                                                                            \
  "WITH cur AS (SELECT j.id, j.tenant, COALESCE(t.max_running_jobs, $3::bigint) AS cap"      \
  "   FROM jobs j LEFT JOIN tenants t ON t.name = j.tenant"                                  \
  "   WHERE j.id = $1::uuid AND j.state = 'QUEUED'),"                                        \
  " busy AS (SELECT cur.id FROM cur WHERE (SELECT count(*) FROM jobs r"                      \
  "   WHERE r.tenant = cur.tenant AND r.state = 'RUNNING') >= cur.cap),"                     \
  " upd AS (UPDATE jobs SET"                                                                 \
  "   state = CASE WHEN attempts - released < max_attempts THEN 'RUNNING' ELSE 'FAILED' END,"           \
  "   attempts = CASE WHEN attempts - released < max_attempts THEN attempts + 1 ELSE attempts END,"     \
  "   worker_id = $2::text, heartbeat_at = now(), updated_at = now(), progress_percent = 0," \
  "   findings = NULL,"                                                                      \
  "   started_at = CASE WHEN attempts - released < max_attempts THEN now() ELSE started_at END,"        \
  "   finished_at = CASE WHEN attempts - released < max_attempts THEN NULL ELSE now() END,"             \
  "   error_code = CASE WHEN attempts - released < max_attempts THEN NULL ELSE 'ATTEMPTS_EXHAUSTED' END," \
  "   error_message = CASE WHEN attempts - released < max_attempts THEN NULL"                           \
  "     ELSE format('the job was started %s times without finishing', attempts - released) END"         \
  "  WHERE id = $1::uuid AND state = 'QUEUED' AND NOT EXISTS (SELECT 1 FROM busy)"           \
  "  RETURNING id, state, attempts, tenant, formats, png_dpi, page_range, layout,"           \
  "            fail_on_warnings, require_clean_preflight, png_include_bleed, pdf_profiles,"  \
  "            layout_codec),"                                                               \
  " deferred AS (UPDATE jobs SET dispatched_at = '-infinity'"                                \
  "  WHERE id IN (SELECT id FROM busy) AND state = 'QUEUED' RETURNING id, state, attempts)," \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, worker_id, detail)"                \
  "  SELECT id, CASE WHEN state = 'RUNNING' THEN 'started' ELSE 'failed' END, attempts,"     \
  "         $2::text, CASE WHEN state = 'FAILED' THEN 'ATTEMPTS_EXHAUSTED' END FROM upd)"    \
  " SELECT '1'::text, state, attempts::text, tenant, array_to_string(formats, ','),"         \
  "        png_dpi::text, page_range, layout, t.id::text,"                                   \
  "        t.render_cpu_ms::text, t.render_image_cache_bytes::text,"                         \
  "        upd.fail_on_warnings::text, upd.require_clean_preflight::text,"                   \
  "        upd.png_include_bleed::text, upd.pdf_profiles::text, upd.layout_codec::text"      \
  "   FROM upd LEFT JOIN tenants t ON t.name = upd.tenant"                                   \
  " UNION ALL"                                                                               \
  " SELECT 'd', state, attempts::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"     \
  "        NULL, NULL, NULL, NULL, NULL"                                                     \
  "   FROM deferred"                                                                         \
  " UNION ALL"                                                                               \
  " SELECT '0', state, attempts::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"     \
  "        NULL, NULL, NULL, NULL, NULL"                                                     \
  "   FROM jobs"                                                                             \
  "  WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM upd)"                                 \
  "    AND NOT EXISTS (SELECT 1 FROM deferred)"

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
 * (order = output order), $10 the findings (serialised list; NULL = none),
 * $11 the renderer's fingerprint (hex; NULL = record no cache entry). The
 * artifacts insert only from this statement's own fenced UPDATE, so
 * SUCCEEDED and the artifacts commit together or not at all; so do the
 * findings and the render cache entry of a job submitted with a cache key (a
 * later entry for the same key - a BYPASS render - replaces it).
 * Row when the job is now SUCCEEDED. */
#define SQL_SUCCEED                                                                         \
  "WITH upd AS (UPDATE jobs SET state = 'SUCCEEDED', progress_percent = 100,"              \
  "   finished_at = now(), updated_at = now(), error_code = NULL, error_message = NULL,"   \
  "   findings = $10::jsonb"                                                                \
  "  WHERE id = $1::uuid AND state = 'RUNNING' AND attempts = $2::int"                     \
  "    AND NOT cancel_requested"                                                            \
  "  RETURNING id, attempts, worker_id, tenant, cache_key),"                                \
  " rc AS (INSERT INTO render_cache (tenant, request_key, renderer, job_id)"                \
  "  SELECT tenant, cache_key, decode($11::text, 'hex'), id FROM upd"                       \
  "  WHERE cache_key IS NOT NULL AND $11::text IS NOT NULL"                                 \
  "  ON CONFLICT (tenant, request_key, renderer)"                                           \
  "  DO UPDATE SET job_id = EXCLUDED.job_id, created_at = now()),"                          \
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
 * $1 id, $2 attempt, $3 transient, $4 code, $5 message, $6 the findings
 * (serialised list; NULL = none), kept only when the job ends FAILED (a
 * re-queued attempt's findings are not the job's). Row: new state. */
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
  "   findings = CASE WHEN NOT cancel_requested"                                              \
  "           AND NOT ($3::bool AND attempts - released < max_attempts) THEN $6::jsonb END,"    \
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

/* $1 older than (ms), $2 limit. Rows: ids.
 * A job whose tenant has max_running_jobs RUNNING is not taken: the claim
 * would only defer it again, and re-sending such a tenant's whole queue every
 * tick put hundreds of entries ahead of every other tenant's new jobs in the
 * one dispatch stream (bench/adversarial, flood). It is taken on the first
 * tick after one of the tenant's jobs ends. */
#define FOLIO_STR_(x) #x
#define FOLIO_STR(x) FOLIO_STR_(x)
#define SQL_TAKE_UNDISPATCHED                                                          \
  "WITH picked AS MATERIALIZED (SELECT id FROM jobs q WHERE state = 'QUEUED'"          \
  "   AND COALESCE(dispatched_at, created_at) < now() - $1::int * interval '1 ms'"     \
  "   AND (SELECT count(*) FROM jobs r WHERE r.tenant = q.tenant"                      \
  "        AND r.state = 'RUNNING') < COALESCE((SELECT t.max_running_jobs"              \
  "        FROM tenants t WHERE t.name = q.tenant),"                                    \
  "        " FOLIO_STR(FOLIO_TENANT_DEFAULT_MAX_RUNNING_JOBS) ")"                       \
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

/* $1 id, $2 tenant, $3 key hash (binary). The tenant gets its tenants row
 * (limits at their defaults, its opaque id) with its first key. */
#define SQL_APIKEY_INSERT                                                               \
  "WITH t AS (INSERT INTO tenants (name) VALUES ($2::text) ON CONFLICT (name) DO NOTHING)" \
  " INSERT INTO api_keys (id, tenant, key_hash) VALUES ($1::uuid, $2::text, $3::bytea)"

/* $1 key id. Always exactly one row, for a known and an unknown id alike
 * (tenant and key_hash_hex NULL when unknown or revoked), so both take the
 * same path here and in apikey.c. The tenant's limit columns come with it
 * (readers find them by name; NULL = default). */
#define SQL_APIKEY_LOOKUP                                                                \
  "SELECT k.tenant, encode(k.key_hash, 'hex') AS key_hash_hex, t.*"                      \
  " FROM (VALUES (1)) AS one (x)"                                                        \
  " LEFT JOIN api_keys k ON k.id = $1::uuid AND k.revoked_at IS NULL"                    \
  " LEFT JOIN tenants t ON t.name = k.tenant"

/* $1 name, then per limit (folio_tenant_limit_defs order) $2k "keep the
 * current override" and $2k+1 the new value (NULL = default). */
#define SQL_TENANT_SET                                                                           \
  "INSERT INTO tenants AS t (name, max_unfinished_jobs, submit_rate, submit_burst,"              \
  "  max_bytes_in_flight, max_concurrent_decodes, max_running_jobs,"                             \
  "  render_cpu_ms, render_image_cache_bytes, streams_per_tenant,"                               \
  "  layout_max_bytes, layout_max_image_bytes_total, layout_max_pages)"                          \
  " VALUES ($1::text, $3::bigint, $5::float8, $7::bigint, $9::bigint, $11::bigint, $13::bigint," \
  "  $15::bigint, $17::bigint, $19::bigint, $21::bigint, $23::bigint, $25::bigint)"              \
  " ON CONFLICT (name) DO UPDATE SET"                                                            \
  "  max_unfinished_jobs = CASE WHEN $2::bool THEN t.max_unfinished_jobs"                        \
  "    ELSE EXCLUDED.max_unfinished_jobs END,"                                                   \
  "  submit_rate = CASE WHEN $4::bool THEN t.submit_rate"                                        \
  "    ELSE EXCLUDED.submit_rate END,"                                                           \
  "  submit_burst = CASE WHEN $6::bool THEN t.submit_burst"                                      \
  "    ELSE EXCLUDED.submit_burst END,"                                                          \
  "  max_bytes_in_flight = CASE WHEN $8::bool THEN t.max_bytes_in_flight"                        \
  "    ELSE EXCLUDED.max_bytes_in_flight END,"                                                   \
  "  max_concurrent_decodes = CASE WHEN $10::bool THEN t.max_concurrent_decodes"                 \
  "    ELSE EXCLUDED.max_concurrent_decodes END,"                                                \
  "  max_running_jobs = CASE WHEN $12::bool THEN t.max_running_jobs"                             \
  "    ELSE EXCLUDED.max_running_jobs END,"                                                      \
  "  render_cpu_ms = CASE WHEN $14::bool THEN t.render_cpu_ms"                                   \
  "    ELSE EXCLUDED.render_cpu_ms END,"                                                         \
  "  render_image_cache_bytes = CASE WHEN $16::bool THEN t.render_image_cache_bytes"             \
  "    ELSE EXCLUDED.render_image_cache_bytes END,"                                              \
  "  streams_per_tenant = CASE WHEN $18::bool THEN t.streams_per_tenant"                         \
  "    ELSE EXCLUDED.streams_per_tenant END,"                                                    \
  "  layout_max_bytes = CASE WHEN $20::bool THEN t.layout_max_bytes"                             \
  "    ELSE EXCLUDED.layout_max_bytes END,"                                                      \
  "  layout_max_image_bytes_total = CASE WHEN $22::bool THEN t.layout_max_image_bytes_total"     \
  "    ELSE EXCLUDED.layout_max_image_bytes_total END,"                                          \
  "  layout_max_pages = CASE WHEN $24::bool THEN t.layout_max_pages"                             \
  "    ELSE EXCLUDED.layout_max_pages END,"                                                      \
  "  updated_at = now()"

/* ---- the render cache (migration 0009; folio/render_cache.h) ---- */

/* $1 fingerprint (hex), $2 description. The newest registration is the
 * renderer SQL_SUBMIT_CACHE_HIT looks entries up for. */
#define SQL_RENDERER_REGISTER                                                            \
  "INSERT INTO render_renderers (fingerprint, description)"                              \
  " VALUES (decode($1::text, 'hex'), $2::text)"                                          \
  " ON CONFLICT (fingerprint) DO UPDATE SET description = EXCLUDED.description,"         \
  "   registered_at = now()"

/* $1 object keys (text[]). Rows: the keys some artifacts row refers to -
 * objects that must not be deleted (several jobs may share one). */
#define SQL_OBJECTS_REFERENCED                                                           \
  "SELECT k FROM unnest($1::text[]) AS k"                                                \
  " WHERE EXISTS (SELECT 1 FROM artifacts a WHERE a.object_key = k)"

/* $1 id, $2 invalidate (bool), $3 why. A hit whose objects could not be
 * verified goes back to QUEUED before anyone saw it (the server has not
 * answered yet): its artifacts rows go, from_cache_job is cleared, a
 * 'retried' event says why; with $2 the entry that named the source job is
 * deleted too (its objects are gone). Row: the id when it was a hit. */
#define SQL_CACHE_UNHIT                                                                  \
  "WITH cur AS (SELECT id, from_cache_job FROM jobs WHERE id = $1::uuid"                 \
  "   AND state = 'SUCCEEDED' AND from_cache_job IS NOT NULL FOR UPDATE),"               \
  " upd AS (UPDATE jobs j SET state = 'QUEUED', progress_percent = 0, started_at = NULL," \
  "   finished_at = NULL, from_cache_job = NULL, updated_at = now()"                     \
  "  FROM cur WHERE j.id = cur.id RETURNING j.id),"                                      \
  " art AS (DELETE FROM artifacts WHERE job_id IN (SELECT id FROM upd)),"                \
  " inv AS (DELETE FROM render_cache c USING cur"                                        \
  "  WHERE $2::bool AND c.job_id = cur.from_cache_job),"                                 \
  " ev AS (INSERT INTO job_events (job_id, kind, attempt, detail)"                       \
  "  SELECT id, 'retried', 0, $3::text FROM upd)"                                        \
  " SELECT id::text FROM upd"

/* $1 tenant (NULL = every tenant). Row count = entries deleted. */
#define SQL_CACHE_PURGE \
  "DELETE FROM render_cache WHERE $1::text IS NULL OR tenant = $1::text"

const struct folio_pg_stmt folio_jobs_stmts[] = {
    [S_SUBMIT] = {"folio_submit", SQL_SUBMIT, 17, 0},
    [S_SUBMIT_LOOKUP] = {"folio_submit_lookup", SQL_SUBMIT_LOOKUP, 2, 0},
    [S_STATUS] = {"folio_status", SQL_STATUS, 2, 0},
    [S_CANCEL] = {"folio_cancel", SQL_CANCEL, 2, 0},
    [S_CLAIM] = {"folio_claim", SQL_CLAIM, 3, 1},
    [S_HEARTBEAT] = {"folio_heartbeat", SQL_HEARTBEAT, 3, 0},
    [S_SUCCEED] = {"folio_succeed", SQL_SUCCEED, 11, 0},
    [S_FAIL] = {"folio_fail", SQL_FAIL, 6, 0},
    [S_CANCEL_CONFIRM] = {"folio_cancel_confirm", SQL_CANCEL_CONFIRM, 2, 0},
    [S_RELEASE] = {"folio_release", SQL_RELEASE, 3, 0},
    [S_MARK_DISPATCHED] = {"folio_mark_dispatched", SQL_MARK_DISPATCHED, 1, 0},
    [S_TAKE_UNDISPATCHED] = {"folio_take_undispatched", SQL_TAKE_UNDISPATCHED, 2, 0},
    [S_REAP] = {"folio_reap", SQL_REAP, 2, 0},
    [S_APIKEY_INSERT] = {"folio_apikey_insert", SQL_APIKEY_INSERT, 3, 0},
    [S_APIKEY_LOOKUP] = {"folio_apikey_lookup", SQL_APIKEY_LOOKUP, 1, 0},
    [S_APIKEY_REVOKE] = {"folio_apikey_revoke",
                         "UPDATE api_keys SET revoked_at = now()"
                         " WHERE id = $1::uuid AND revoked_at IS NULL"
                         "   AND ($2::text IS NULL OR tenant = $2::text)",
                         2, 0},
    [S_TENANT_GET] = {"folio_tenant_get", "SELECT * FROM tenants WHERE name = $1::text", 1, 0},
    [S_TENANT_LIST] = {"folio_tenant_list", "SELECT * FROM tenants ORDER BY name", 0, 0},
    [S_TENANT_SET] = {"folio_tenant_set", SQL_TENANT_SET, 25, 0},
    [S_RENDERER_REGISTER] = {"folio_renderer_register", SQL_RENDERER_REGISTER, 2, 0},
    [S_OBJECTS_REFERENCED] = {"folio_objects_referenced", SQL_OBJECTS_REFERENCED, 1, 0},
    [S_CACHE_UNHIT] = {"folio_cache_unhit", SQL_CACHE_UNHIT, 3, 0},
    [S_CACHE_PURGE] = {"folio_cache_purge", SQL_CACHE_PURGE, 1, 0},
};
const size_t folio_jobs_nstmts = sizeof folio_jobs_stmts / sizeof folio_jobs_stmts[0];

_Static_assert(sizeof folio_jobs_stmts / sizeof folio_jobs_stmts[0] == S_COUNT,
               "one statement per folio_jobs_stmt_id");

void folio_jobs_conn_config(struct folio_pg_conn_config *cfg) {
  cfg->stmts = folio_jobs_stmts;
  cfg->nstmts = folio_jobs_nstmts;
}
