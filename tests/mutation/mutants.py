"""The curated mutants of tests/mutation/run.py.

Each is one small bug in code whose bugs would hurt most: fences and state
SQL, tenant scoping, SigV4 and presigning, stream offsets and limits, layout
budgets, the JSON Pointer writer, group commit. Fields:

  name         unique, says the bug
  file         path from the repo root
  original     exact snippet; must occur exactly once in file (no line
               numbers: other branches edit these files too; when the code
               moves the runner reports an ERROR and the snippet is updated)
  replacement  what it becomes
  tests        ctest -R regex of the tests that must catch it
  fast         True = in the CI subset (scripts/test.sh; <= 5 minutes)

A mutant that survives is fixed with a test, never by weakening the mutant.
"""

# Trailing padding of the three fenced WHERE lines in lib/jobs/stmts.c (each
# differs, which is what makes each snippet unique).
_SUCCEED_W = 'AND attempts = $2::int"                     \\'
_FAIL_W = 'AND attempts = $2::int"                        \\'
_RELEASE_W = 'AND attempts = $2::int"                       \\'

JOBS = "test_jobs_pg$"

MUTANTS = [
    # ---- idempotency and tenant scoping (lib/jobs/stmts.c) ----
    dict(name="submit_dedup_across_tenants", file="lib/jobs/stmts.c",
         original='"  WHERE tenant = $2::text AND idempotency_key = $3::text AND NOT EXISTS',
         replacement='"  WHERE $2::text IS NOT NULL AND idempotency_key = $3::text AND NOT EXISTS',
         tests=JOBS, fast=True),
    dict(name="status_not_tenant_scoped", file="lib/jobs/stmts.c",
         original='"WITH j AS (SELECT * FROM jobs WHERE id = $1::uuid AND tenant = $2::text)"',
         replacement='"WITH j AS (SELECT * FROM jobs WHERE id = $1::uuid AND $2::text IS NOT NULL)"',
         tests=JOBS),
    dict(name="cancel_not_tenant_scoped", file="lib/jobs/stmts.c",
         original='"WITH cur AS (SELECT id, state FROM jobs WHERE id = $1::uuid AND tenant = $2::text"',
         replacement='"WITH cur AS (SELECT id, state FROM jobs WHERE id = $1::uuid AND $2::text IS NOT NULL"',
         tests=JOBS),
    # ---- fences on every transition ----
    dict(name="claim_not_only_queued", file="lib/jobs/stmts.c",
         original="\"  WHERE id = $1::uuid AND state = 'QUEUED'\"",
         replacement="\"  WHERE id = $1::uuid AND state IN ('QUEUED', 'RUNNING')\"",
         tests=JOBS, fast=True),
    dict(name="claim_keeps_attempt_token", file="lib/jobs/stmts.c",
         original="THEN attempts + 1 ELSE attempts END",
         replacement="THEN attempts ELSE attempts END",
         tests=JOBS),
    dict(name="claim_exhausted_off_by_one", file="lib/jobs/stmts.c",
         original="\"   state = CASE WHEN attempts - released < max_attempts THEN 'RUNNING' ELSE 'FAILED' END,\"",
         replacement="\"   state = CASE WHEN attempts - released <= max_attempts THEN 'RUNNING' ELSE 'FAILED' END,\"",
         tests=JOBS),
    dict(name="heartbeat_no_attempt_fence", file="lib/jobs/stmts.c",
         original="AND j.state = 'RUNNING' AND j.attempts = $2::int\"",
         replacement="AND j.state = 'RUNNING' AND $2::int > 0\"",
         tests=JOBS),
    dict(name="heartbeat_no_state_fence", file="lib/jobs/stmts.c",
         original="AND j.state = 'RUNNING' AND j.attempts = $2::int\"",
         replacement="AND j.attempts = $2::int\"",
         tests=JOBS),
    dict(name="succeed_no_attempt_fence", file="lib/jobs/stmts.c",
         original=_SUCCEED_W, replacement=_SUCCEED_W.replace("attempts = $2::int", "$2::int > 0"),
         tests=JOBS, fast=True),
    dict(name="succeed_ignores_cancel_request", file="lib/jobs/stmts.c",
         original='"    AND NOT cancel_requested"',
         replacement='"    AND true"',
         tests=JOBS),
    dict(name="fail_no_attempt_fence", file="lib/jobs/stmts.c",
         original=_FAIL_W, replacement=_FAIL_W.replace("attempts = $2::int", "$2::int > 0"),
         tests=JOBS),
    dict(name="fail_transient_never_dead_letters", file="lib/jobs/stmts.c",
         original="WHEN $3::bool AND attempts - released < max_attempts THEN 'QUEUED' ELSE 'FAILED' END,",
         replacement="WHEN $3::bool THEN 'QUEUED' ELSE 'FAILED' END,",
         tests=JOBS),
    dict(name="release_no_attempt_fence", file="lib/jobs/stmts.c",
         original=_RELEASE_W, replacement=_RELEASE_W.replace("attempts = $2::int", "$2::int > 0"),
         tests=JOBS),
    dict(name="release_counts_the_attempt", file="lib/jobs/stmts.c",
         original='"   released = released + CASE WHEN cancel_requested THEN 0 ELSE 1 END,"',
         replacement='"   released = released + CASE WHEN cancel_requested THEN 0 ELSE 0 END,"',
         tests=JOBS),
    dict(name="cancel_confirm_no_attempt_fence", file="lib/jobs/stmts.c",
         original="AND attempts = $2::int AND cancel_requested\"",
         replacement="AND $2::int > 0 AND cancel_requested\"",
         tests=JOBS),
    dict(name="cancel_confirm_without_request", file="lib/jobs/stmts.c",
         original="AND attempts = $2::int AND cancel_requested\"",
         replacement="AND attempts = $2::int\"",
         tests=JOBS),
    dict(name="cancel_request_ends_running_job", file="lib/jobs/stmts.c",
         original="\"   state = CASE WHEN cur.state = 'QUEUED' THEN 'CANCELED' ELSE j.state END,\"",
         replacement="\"   state = CASE WHEN cur.state = 'QUEUED' THEN 'CANCELED' ELSE 'CANCELED' END,\"",
         tests=JOBS),
    dict(name="cancel_request_on_finished_job", file="lib/jobs/stmts.c",
         original="cur.state IN ('QUEUED', 'RUNNING')\"",
         replacement="cur.state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')\"",
         tests=JOBS),
    # ---- group commit (lib/jobs/jobs.c): every row in its own transaction ----
    dict(name="group_commit_one_txn_per_row", file="lib/jobs/jobs.c",
         original="int rc = idx ? folio_pg_conn_batch(c, m, stmts, params, res, diag) : FOLIO_PG_ENOMEM;",
         replacement="int rc = idx ? FOLIO_PG_EQUERY : FOLIO_PG_ENOMEM;",
         tests=JOBS, fast=True),
    # ---- request validation (lib/jobs/jobs.c) ----
    dict(name="png_dpi_min_off_by_one", file="lib/jobs/jobs.c",
         original="(s->png_dpi < 36 || s->png_dpi > 1200)",
         replacement="(s->png_dpi < 35 || s->png_dpi > 1200)",
         tests="test_jobs_pure$", fast=True),
    dict(name="png_dpi_max_off_by_one", file="lib/jobs/jobs.c",
         original="(s->png_dpi < 36 || s->png_dpi > 1200)",
         replacement="(s->png_dpi < 36 || s->png_dpi > 1201)",
         tests="test_jobs_pure$", fast=True),
    # ---- presigning and SigV4 ----
    dict(name="presign_default_ttl", file="server/jobview.c",
         original="folio_s3_presign_get(&b->s3cfg, a->object_key, ttl_s, disp, now, err, errcap)",
         replacement="folio_s3_presign_get(&b->s3cfg, a->object_key, FOLIO_URL_TTL_DEFAULT, disp, now, err, errcap)",
         tests="test_server_e2e$"),
    dict(name="url_ttl_max_off_by_one", file="server/jobview.c",
         original="if (ttl <= FOLIO_URL_TTL_MAX) {",
         replacement="if (ttl <= FOLIO_URL_TTL_MAX + 1) {",
         tests="test_server_e2e$"),
    dict(name="presign_expires_max_off_by_one", file="lib/s3/sigv4.c",
         original="if (expires_s < 1 || expires_s > 604800 ||",
         replacement="if (expires_s < 1 || expires_s > 604801 ||",
         tests="test_s3_presign$|test_s3_sigv4$", fast=True),
    dict(name="sigv4_tilde_encoded", file="lib/s3/sigv4.c",
         original="c == '-' || c == '.' || c == '_' || c == '~';",
         replacement="c == '-' || c == '.' || c == '_';",
         tests="test_s3_sigv4$|test_s3_presign$|test_s3_sigv4_diff$", fast=True),
    dict(name="sigv4_query_unsorted_values", file="lib/s3/sigv4.c",
         original="return c ? c : strcmp(x->value, y->value);",
         replacement="return c;",
         tests="test_s3_sigv4$|test_s3_presign$|test_s3_sigv4_diff$", fast=True),
    dict(name="sigv4_lowercase_hex_escape", file="lib/s3/sigv4.c",
         original='static const char up[] = "0123456789ABCDEF";',
         replacement='static const char up[] = "0123456789abcdef";',
         tests="test_s3_sigv4$|test_s3_presign$|test_s3_sigv4_diff$", fast=True),
    # ---- StreamArtifact offsets and limits (server/artifacts.c) ----
    dict(name="stream_offset_at_end_accepted", file="server/artifacts.c",
         original="if (req->offset > x->total || (req->offset == x->total && x->total > 0)) {",
         replacement="if (req->offset > x->total) {",
         tests="test_server_e2e$"),
    dict(name="stream_limit_one_byte_long", file="server/artifacts.c",
         original="x->end = req->offset + req->limit;",
         replacement="x->end = req->offset + req->limit + 1;",
         tests="test_server_e2e$"),
    # ---- layout budgets (lib/layout/decode.c) ----
    dict(name="layout_items_per_page_off_by_one", file="lib/layout/decode.c",
         original="if (i > d->lim->max_items_per_page) {",
         replacement="if (i > d->lim->max_items_per_page + 1) {",
         tests="test_layout_decode$", fast=True),
    dict(name="layout_pages_off_by_one", file="lib/layout/decode.c",
         original="if (i > d->lim->max_pages) {",
         replacement="if (i > d->lim->max_pages + 1) {",
         tests="test_layout_decode$", fast=True),
    dict(name="layout_depth_off_by_one", file="lib/layout/decode.c",
         original="if (d->plen + 1 > d->lim->max_depth ||",
         replacement="if (d->plen > d->lim->max_depth ||",
         tests="test_layout_decode$", fast=True),
    dict(name="layout_max_bytes_off_by_one", file="lib/layout/decode.c",
         original="if (len > lim->max_bytes) {",
         replacement="if (len > lim->max_bytes + 1) {",
         tests="test_layout_decode$", fast=True),
    dict(name="layout_string_bytes_off_by_one", file="lib/layout/decode.c",
         original="if (s.len > d->lim->max_string_bytes) {",
         replacement="if (s.len > d->lim->max_string_bytes + 1) {",
         tests="test_layout_decode$", fast=True),
    # ---- the JSON Pointer writer (lib/layout/diag.c) ----
    dict(name="pointer_tilde_unescaped", file="lib/layout/diag.c",
         original="    if (k[i] == '~') {",
         replacement="    if (0) {",
         tests="test_layout_decode$|test_layout_corpus$", fast=True),
    dict(name="pointer_slash_unescaped", file="lib/layout/diag.c",
         original="    } else if (k[i] == '/') {",
         replacement="    } else if (0) {",
         tests="test_layout_decode$|test_layout_corpus$", fast=True),
    dict(name="pointer_index_one_based", file="lib/layout/diag.c",
         original='sprintf(ptr + o, "/%zu", segs[i].index)',
         replacement='sprintf(ptr + o, "/%zu", segs[i].index + 1)',
         tests="test_layout_decode$|test_layout_corpus$", fast=True),
]
