/* folio_jobs: the job state machine and the queries the server and the worker
 * share. PostgreSQL is the source of truth; every transition is one fenced
 * statement (or one pipelined implicit transaction), and every query is
 * scoped by tenant where a caller-supplied id is involved, so another
 * tenant's job is indistinguishable from a missing one (FOLIO_JOBS_ENOTFOUND).
 *
 *   QUEUED --claim(attempt n)--> RUNNING --succeed(n)--> SUCCEEDED
 *     ^                             |--fail(n, transient, n < max)--> QUEUED
 *     |                             |--fail(n, deterministic) --> FAILED
 *     |                             |--fail(n, transient, n == max) --> FAILED ATTEMPTS_EXHAUSTED
 *     |                             |--release(n) (shutdown; not counted) --> QUEUED
 *     |                             '--cancel_confirm(n) (after cancel) --> CANCELED
 *     '--cancel--> CANCELED;  RUNNING --cancel--> RUNNING + cancel_requested
 *
 * The attempt number n returned by claim is the fencing token: a worker that
 * lost its job (reaped after missing heartbeats, or a duplicate delivery)
 * gets FOLIO_JOBS_EFENCED from every later call and must stop. Tokens only
 * grow; the attempts a job has used (what max_attempts limits, and
 * folio_job_status.attempts) are the claims minus the releases.
 *
 * Every function here takes a checked-out connection (struct folio_pg_conn)
 * that was connected with folio_jobs_stmts; see folio_jobs_pool_config().
 * Errors: 0, a FOLIO_JOBS_E* code below, or a FOLIO_PG_E* code; detail in diag.
 * Strings and arrays returned through an arena live until that arena is reset
 * or destroyed. Thread-safety: as the connection (one thread at a time). */
#ifndef FOLIO_JOBS_H
#define FOLIO_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/arena.h"
#include "folio/findings.h"
#include "folio/layout_store.h"
#include "folio/pg.h"

enum {
  /* (-> the gRPC code folio-server answers with: server/rpcstatus.c) */
  FOLIO_JOBS_ENOTFOUND = -20,     /* no such job (or another tenant's) -> NOT_FOUND */
  FOLIO_JOBS_EPRECONDITION = -21, /* e.g. cancel of a finished job -> FAILED_PRECONDITION */
  FOLIO_JOBS_EFENCED = -22,       /* the caller's claim is no longer current: stop */
  FOLIO_JOBS_EINVAL = -23,        /* bad argument; diag names it -> INVALID_ARGUMENT */
  FOLIO_JOBS_EAUTH = -24,         /* unknown, malformed or revoked API key -> UNAUTHENTICATED */
  FOLIO_JOBS_EQUOTA = -25,        /* a tenant limit (folio/tenant.h); diag names it and its value
                                     -> RESOURCE_EXHAUSTED */
  FOLIO_JOBS_ESTORED = -26,       /* a stored layout that cannot be read: corrupt, over the
                                     layout limit, unknown codec (folio/layout_store.h) */
};

const char *folio_jobs_strerror(int code); /* also knows FOLIO_PG_E* codes */

/* Numbers equal folio.v1.JobState. */
enum folio_job_state {
  FOLIO_JOB_UNSPECIFIED = 0,
  FOLIO_JOB_QUEUED = 1,
  FOLIO_JOB_RUNNING = 2,
  FOLIO_JOB_SUCCEEDED = 3,
  FOLIO_JOB_FAILED = 4,
  FOLIO_JOB_CANCELED = 5,
};
/* "QUEUED", ... as stored in jobs.state; NULL for UNSPECIFIED/unknown. */
const char *folio_job_state_name(enum folio_job_state s);
/* Parses a stored name; FOLIO_JOB_UNSPECIFIED when unknown. */
enum folio_job_state folio_job_state_parse(const char *name);
bool folio_job_state_terminal(enum folio_job_state s);

/* Numbers equal folio.v1.Format. */
enum { FOLIO_FORMAT_PDF = 1, FOLIO_FORMAT_PNG = 2, FOLIO_FORMAT_SLA = 3 };

#define FOLIO_UUID_STR_LEN 36 /* canonical text form, without the NUL */

/* A new UUIDv7 (RFC 9562: 48-bit Unix ms time, version 7, variant 10, 74 bits
 * from libsodium's CSPRNG) in canonical lower-case text into out[37].
 * Never fails (aborts if libsodium cannot initialize). Thread-safe. */
void folio_uuid7(char out[FOLIO_UUID_STR_LEN + 1]);
/* Builds the UUIDv7 text for a given time and 10 random bytes. Pure. */
void folio_uuid7_from(int64_t unix_ms, const uint8_t rnd[10], char out[FOLIO_UUID_STR_LEN + 1]);
/* True when s is a canonical UUID text (8-4-4-4-12 hex, any case). */
bool folio_uuid_valid(const char *s);

/* ---- schema -------------------------------------------------------------- */

/* Applies every migration in lib/jobs/migrations/ that the database lacks,
 * in one transaction under a transaction-scoped advisory lock, so concurrent
 * servers starting at once apply each migration exactly once. Idempotent.
 * Uses only the simple protocol, so c may be a connection with no prepared
 * statements (it must be: folio_jobs_stmts only prepare once the schema
 * exists). *applied (NULL allowed) receives how many were applied now. */
int folio_jobs_migrate(struct folio_pg_conn *c, int *applied, struct folio_pg_diag *diag);
/* The newest migration version compiled into this binary. */
int folio_jobs_schema_version(void);
/* How many migrations are compiled into this binary (equal to the newest
 * version unless numbers were reserved for migrations of other branches). */
int folio_jobs_schema_count(void);

/* The prepared statements every jobs connection needs; pass them (and the
 * count) in folio_pg_conn_config.stmts/nstmts. Static storage. */
extern const struct folio_pg_stmt folio_jobs_stmts[];
extern const size_t folio_jobs_nstmts;
/* Fills cfg->stmts and cfg->nstmts with the table above. */
void folio_jobs_conn_config(struct folio_pg_conn_config *cfg);

/* ---- submit -------------------------------------------------------------- */

struct folio_job_label {
  const char *key;
  const char *value;
};

/* The limits on a submission, each stated here once with its default
 * (docs/security.md lists them; the proto comments repeat them for callers).
 * folio_jobs_submit_check() is the one place that applies them. Strings are
 * NUL-terminated C strings counted in bytes and must be valid UTF-8; the
 * server refuses NUL bytes before a request gets here (cgrpc's wire check). */
#define FOLIO_JOBS_TENANT_MAX 128          /* tenant name, 1..128 bytes */
#define FOLIO_JOBS_IDEMPOTENCY_KEY_MAX 128 /* idempotency_key bytes ("" = none) */
#define FOLIO_JOBS_LABELS_MAX 32           /* label entries */
#define FOLIO_JOBS_LABEL_KEY_MAX 63        /* label key bytes (at least 1) */
#define FOLIO_JOBS_LABEL_VALUE_MAX 256     /* label value bytes */
#define FOLIO_JOBS_PAGE_RANGE_MAX 1024     /* options.page_range bytes (grammar: folio/pagerange.h) */
#define FOLIO_JOBS_LAYOUT_MAX 0x7fffffff   /* layout_json bytes a row can hold; the
                                              server's receive limit is far lower */
#define FOLIO_JOBS_MAX_ATTEMPTS_DEFAULT 3  /* max_attempts 0 means this */
#define FOLIO_JOBS_MAX_ATTEMPTS_MAX 100
/* png_dpi: FOLIO_PNG_DPI_MIN..FOLIO_PNG_DPI_MAX, 0 = FOLIO_PNG_DPI_DEFAULT
 * (folio/layout.h, shared with the renderer and the CLI). */

/* A submission. All pointers are borrowed for the call. */
struct folio_job_submit {
  const char *tenant;          /* required, 1..FOLIO_JOBS_TENANT_MAX bytes */
  const char *idempotency_key; /* NULL or "" = none */
  const uint8_t *layout;       /* the layout JSON as received; required */
  size_t layout_len;
  const int *formats; /* FOLIO_FORMAT_*; nformats 0 means [PDF]; duplicates ignored */
  size_t nformats;
  int png_dpi;            /* 0 = the default */
  const char *page_range; /* NULL or "" = every page */
  /* PNG pages show the bleed box rather than the trim; only with
   * FOLIO_FORMAT_PNG among the formats (else a violation). */
  bool png_include_bleed;
  const struct folio_job_label *labels; /* keys unique */
  size_t nlabels;
  int max_attempts; /* 0 = FOLIO_JOBS_MAX_ATTEMPTS_DEFAULT */
  /* RenderOptions.fail_on_warnings / .require_clean_preflight: findings of
   * severity WARNING or above (from any stage / from the output preflight)
   * fail the job (the worker's verdict: FINDINGS / PREFLIGHT_FAILED). */
  bool fail_on_warnings;
  bool require_clean_preflight;
  /* options.pdf_profile and options.additional_pdf_profiles (folio.v1.PdfProfile
   * numbers); combined by folio_pdf_profiles_set (folio/pdf_profile.h), the
   * one rule, and stored as the set (migration 0005). */
  int pdf_profile;
  const int *additional_pdf_profiles;
  size_t n_additional_pdf_profiles;
  /* The layout as it is to be stored, from folio_jobs_layout_pack(layout)
   * (folio/layout_store.h). stored.data NULL: lib/jobs packs `layout` at the
   * default level itself, each time it builds the statement — on the loop
   * thread for _submit_async, which is why folio-server packs on its decode
   * pool and passes the result here. */
  struct folio_jobs_stored_layout stored;
  /* The render cache (folio/render_cache.h): the request key (32 bytes;
   * NULL = none, as with FOLIO_CACHE_OFF) and the policy, an
   * enum folio_cache_policy (0 = use). */
  const uint8_t *cache_key;
  int cache_policy;
};

/* One thing wrong with a submission: field is the exact request field path
 * ("layout_json", "formats[3]", "options.png_dpi", "options.page_range",
 * "options.png_include_bleed", "options.pdf_profile",
 * "options.additional_pdf_profiles[1]",
 * "idempotency_key", "labels", "labels[\"k\"]" with the key as a JSON string
 * literal, "tenant", "max_attempts"); description says why. Both are built
 * only from the submission and constants. */
struct folio_job_violation {
  const char *field;
  const char *description;
};

/* At most this many violations are listed; when there are more, the list
 * ends with one more entry, field "request", saying how many were left out. */
#define FOLIO_JOBS_VIOLATIONS_MAX 20

/* The submit validator: checks every field of s against the limits above and
 * the page-range grammar (not the layout itself: that is folio_layout_decode's
 * and needs the pool) and lists every violation, in request field order
 * (layout_json, formats by index, options.png_dpi, options.page_range,
 * options.png_include_bleed, options.pdf_profile / additional_pdf_profiles,
 * options.cache,
 * idempotency_key, labels in the given order, then tenant and max_attempts).
 * A label key longer than the limit is not quoted; it is named by its
 * position: field "labels", description "key 3 (0-based, in request
 * order) ...".
 * Ownership: *v (NULL when *n is 0) and every string it points to are
 * allocated in arena and live until the caller resets or destroys it.
 * Returns 0 with *n = the number of entries (0: s is valid), or
 * FOLIO_PG_ENOMEM. Pure and reentrant. */
int folio_jobs_submit_check(const struct folio_job_submit *s, struct folio_arena *arena,
                            struct folio_job_violation **v, size_t *n);

struct folio_job_submitted {
  char job_id[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state state;
  bool deduplicated; /* the idempotency key matched an earlier job */
  bool from_cache;   /* a new job answered from the render cache (state SUCCEEDED) */
};

/* Records a job: the jobs row and its 'submitted' event commit together.
 * EQUOTA (nothing written) when the tenant has max_unfinished_jobs QUEUED or
 * RUNNING jobs (folio/tenant.h) and this is no idempotent duplicate; a
 * duplicate always gets its first job back.
 * With an idempotency key, every concurrent or later duplicate gets the first
 * job's id and deduplicated = true (INSERT ... ON CONFLICT on the unique
 * (tenant, idempotency_key)). Returns once the commit is done. */
int folio_jobs_submit(struct folio_pg_conn *c, const struct folio_job_submit *s,
                      struct folio_job_submitted *out, struct folio_pg_diag *diag);

/* Group commit: n submissions in ONE pipelined transaction (one round trip,
 * one commit). If the shared transaction fails (e.g. a deadlock between
 * concurrent batches on the same idempotency keys), each submission is
 * retried on its own, so one bad row never fails its neighbours.
 * rcs[i] (NULL allowed) receives each submission's own result; the return is
 * 0 when every submission succeeded, else the first failure. */
int folio_jobs_submit_batch(struct folio_pg_conn *c, size_t n, const struct folio_job_submit *s,
                            struct folio_job_submitted *out, int *rcs,
                            struct folio_pg_diag *diag);

/* folio_jobs_submit_check() for callers that want one answer: 0, or
 * FOLIO_JOBS_EINVAL with the first violation in diag ("<field>: <why>"), or
 * FOLIO_PG_ENOMEM. folio_jobs_submit, _submit_batch and _submit_async run it
 * on every submission they are given. */
int folio_jobs_submit_validate(const struct folio_job_submit *s, struct folio_pg_diag *diag);

/* ---- the server's calls, non-blocking (folio/pg_async.h) ------------------ */

struct folio_pg_async;
struct folio_job_status;

/* out and diag are borrowed for the callback. */
typedef void (*folio_jobs_submit_cb)(int status, const struct folio_job_submitted *out,
                                     const struct folio_pg_diag *diag, void *arg);
/* folio_jobs_submit on the event loop, with group commit: the INSERT is sent
 * as a GROUP statement, so every submission arriving in one loop turn commits
 * in one transaction. A submission aborted by a neighbour's failure, or that
 * met a concurrent duplicate, is retried alone (the caller sees one result).
 * s and everything it points to must stay valid until cb runs. Returns 0
 * (cb runs exactly once, on the loop thread) or an error (cb never runs). */
int folio_jobs_submit_async(struct folio_pg_async *a, const struct folio_job_submit *s,
                            folio_jobs_submit_cb cb, void *arg);

typedef void (*folio_jobs_status_cb)(int status, const struct folio_job_status *st,
                                     const struct folio_pg_diag *diag, void *arg);
/* folio_jobs_get_status on the event loop; st's strings live in arena, which
 * must outlive the callback (st itself is borrowed for the call). */
int folio_jobs_get_status_async(struct folio_pg_async *a, const char *tenant, const char *job_id,
                                struct folio_arena *arena, folio_jobs_status_cb cb, void *arg);

typedef void (*folio_jobs_cancel_cb)(int status, enum folio_job_state state,
                                     const struct folio_pg_diag *diag, void *arg);
/* folio_jobs_cancel on the event loop. */
int folio_jobs_cancel_async(struct folio_pg_async *a, const char *tenant, const char *job_id,
                            folio_jobs_cancel_cb cb, void *arg);

typedef void (*folio_jobs_ids_cb)(int status, char *const *ids, size_t n,
                                  const struct folio_pg_diag *diag, void *arg);
/* folio_jobs_take_undispatched / folio_jobs_reap_stale on the event loop, for
 * a reconciler running on the server's loop thread. ids[0..n) are borrowed
 * for the callback. */
int folio_jobs_take_undispatched_async(struct folio_pg_async *a, int older_than_ms, int limit,
                                       folio_jobs_ids_cb cb, void *arg);
int folio_jobs_reap_stale_async(struct folio_pg_async *a, int lease_ms, int limit,
                                folio_jobs_ids_cb cb, void *arg);
/* folio_jobs_mark_dispatched on the event loop, as a GROUP statement (many
 * dispatch marks share a commit); cb may be NULL when the outcome does not
 * matter (a lost mark only means an early re-dispatch). */
typedef void (*folio_jobs_done_cb)(int status, const struct folio_pg_diag *diag, void *arg);
int folio_jobs_mark_dispatched_async(struct folio_pg_async *a, const char *job_id,
                                     folio_jobs_done_cb cb, void *arg);


/* ---- status -------------------------------------------------------------- */

struct folio_job_artifact {
  const char *name;
  int format;
  uint32_t page;
  uint64_t size_bytes;
  const char *sha256_hex;
  const char *content_type;
  const char *object_key; /* S3 key; the server signs URLs from it */
};

struct folio_job_status {
  char job_id[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state state;
  int progress_percent;
  int attempts;
  int max_attempts;
  bool cancel_requested;
  const char *error_code;    /* NULL when none */
  const char *error_message; /* NULL when none */
  int64_t created_at_us;     /* Unix microseconds; 0 = unset */
  int64_t started_at_us;
  int64_t finished_at_us;
  int formats[3];
  size_t nformats;
  struct folio_job_label *labels; /* sorted by key */
  size_t nlabels;
  struct folio_job_artifact *artifacts; /* in output order */
  size_t nartifacts;
  /* The findings recorded with the outcome (folio/findings.h), in the order
   * reported; none (NULL, 0) before an outcome recorded them. In arena. */
  struct folio_finding *findings;
  size_t nfindings;
  bool from_cache; /* the artifacts are another job's, from the render cache */
};

/* The job with its labels, artifacts and findings, in one round trip (one
 * statement; the findings are a column of the job's row). Strings and arrays
 * are allocated in arena. */
int folio_jobs_get_status(struct folio_pg_conn *c, const char *tenant, const char *job_id,
                          struct folio_arena *arena, struct folio_job_status *out,
                          struct folio_pg_diag *diag);

/* ---- cancel -------------------------------------------------------------- */

/* QUEUED -> CANCELED; RUNNING -> RUNNING with cancel_requested (the worker
 * confirms with folio_jobs_cancel_confirm). Terminal -> EPRECONDITION.
 * *state (NULL allowed) receives the state after the call. */
int folio_jobs_cancel(struct folio_pg_conn *c, const char *tenant, const char *job_id,
                      enum folio_job_state *state, struct folio_pg_diag *diag);

/* ---- worker side ---------------------------------------------------------- */

/* What a worker needs to render a claimed job. */
struct folio_job_claim {
  /* The job's state as the claim found it: RUNNING when claimed; after
   * EFENCED the state that refused it (RUNNING under another delivery,
   * FAILED when the attempts were used up, or another terminal state), so
   * the caller decides on the same snapshot without a second query. */
  enum folio_job_state state;
  int attempt; /* the fencing token for every later call */
  const char *tenant;
  const char *tenant_id; /* opaque (tenants.id): object keys use it, never the name */
  /* The layout as stored: layout_len bytes in layout_codec's form
   * (folio/layout_store.h; NUL-terminated for convenience). Read the JSON
   * with folio_jobs_layout_unpack(), under the layout byte limit. */
  const uint8_t *layout;
  size_t layout_len;
  int layout_codec;
  int formats[3];
  size_t nformats;
  int png_dpi;
  const char *page_range;
  bool png_include_bleed; /* RenderOptions.png_include_bleed (migration 0006) */
  /* The tenant's overrides of the render budget (tenants row, migration
   * 0004; folio/tenant.h), read with the claim: 0 = none, the render
   * process's own FOLIO_RENDER_CPU_MS / FOLIO_RENDER_IMAGE_CACHE_BYTES. */
  int64_t render_cpu_ms;
  int64_t render_image_cache_bytes;
  bool fail_on_warnings;        /* as submitted (folio_job_submit) */
  bool require_clean_preflight;
  /* The PDF profiles asked for, as a folio/pdf_profile.h bit set
   * (FOLIO_PDF_BIT(profile)); 0 = none: the renderer's PDF unchanged. */
  unsigned pdf_profiles;
};

/* Fenced QUEUED -> RUNNING, attempts + 1, recorded as a 'started' event.
 * EFENCED when the job is not QUEUED (claimed by another delivery, finished,
 * canceled) — the caller just acks the stream entry — and also when its
 * tenant already has max_running_jobs RUNNING (folio/tenant.h): the job is
 * deferred, stays QUEUED and is re-dispatched by the reconciler's next tick. A job whose attempts are
 * used up goes to FAILED with ATTEMPTS_EXHAUSTED instead (EFENCED too).
 * ENOTFOUND when the id does not exist. Not tenant-scoped: the id comes from
 * the dispatch stream, not from a caller. out->state is set on success and
 * on EFENCED (UNSPECIFIED otherwise). */
int folio_jobs_claim(struct folio_pg_conn *c, const char *job_id, const char *worker_id,
                     struct folio_arena *arena, struct folio_job_claim *out,
                     struct folio_pg_diag *diag);

/* Liveness and progress of attempt `attempt`. progress_percent < 0 leaves it
 * unchanged; a change is recorded as a 'progress' event. *cancel_requested
 * (NULL allowed) tells the worker to stop. EFENCED when the claim is stale. */
int folio_jobs_heartbeat(struct folio_pg_conn *c, const char *job_id, int attempt,
                         int progress_percent, bool *cancel_requested,
                         struct folio_pg_diag *diag);

/* The artifacts and SUCCEEDED commit in one transaction, fenced by attempt
 * (and refused with EFENCED once a cancel was requested: the worker then
 * confirms the cancel). Pointers borrowed for the call. */
int folio_jobs_succeed(struct folio_pg_conn *c, const char *job_id, int attempt,
                       const struct folio_job_artifact *artifacts, size_t nartifacts,
                       struct folio_pg_diag *diag);
/* folio_jobs_succeed that also records the render's findings (serialised
 * into jobs.findings) and, under renderer_hex (the render process's
 * fingerprint, folio/render_cache.h), the job's render cache entry when it
 * was submitted with a cache key - all in the same statement, so the
 * outcome, its findings and the entry commit together, and an entry exists
 * only for a job that succeeded whole. findings NULL = none recorded;
 * renderer_hex NULL = no entry. Both borrowed for the call. */
int folio_jobs_succeed_findings(struct folio_pg_conn *c, const char *job_id, int attempt,
                                const struct folio_job_artifact *artifacts, size_t nartifacts,
                                const struct folio_findings *findings, const char *renderer_hex,
                                struct folio_pg_diag *diag);

/* A failed attempt. transient: back to QUEUED ('retried') while attempts <
 * max_attempts, else FAILED with ATTEMPTS_EXHAUSTED; !transient: FAILED with
 * code/message. A job with a pending cancel becomes CANCELED instead.
 * *state (NULL allowed) receives the new state. */
int folio_jobs_fail(struct folio_pg_conn *c, const char *job_id, int attempt, bool transient,
                    const char *code, const char *message, enum folio_job_state *state,
                    struct folio_pg_diag *diag);
/* folio_jobs_fail that also records the findings, in the same statement,
 * when the job ends FAILED (a job going back to QUEUED or to CANCELED keeps
 * none: a new attempt reports its own). NULL = none; borrowed. */
int folio_jobs_fail_findings(struct folio_pg_conn *c, const char *job_id, int attempt, bool transient,
                             const char *code, const char *message, const struct folio_findings *findings,
                             enum folio_job_state *state, struct folio_pg_diag *diag);

/* The worker stopped after a cancel request: RUNNING -> CANCELED. */
int folio_jobs_cancel_confirm(struct folio_pg_conn *c, const char *job_id, int attempt,
                              struct folio_pg_diag *diag);

/* Hands attempt `attempt` back without counting it (a worker shutting down
 * before the render finished): RUNNING -> QUEUED, recorded as a 'released'
 * event whose detail is why (borrowed; NULL = "handed back"). The attempt
 * does not count against max_attempts: status.attempts goes back down, but
 * the fencing token does not (the next claim gets attempt + 1, so a stale
 * holder of this attempt stays fenced off). A job with a pending cancel
 * becomes CANCELED instead. The job counts as dispatched now (its stream
 * entry stays pending for re-delivery); if that entry is lost, the
 * reconciler re-dispatches it after its grace period. *state (NULL allowed)
 * receives the new state. EFENCED when the claim is stale. */
int folio_jobs_release(struct folio_pg_conn *c, const char *job_id, int attempt, const char *why,
                       enum folio_job_state *state, struct folio_pg_diag *diag);

/* ---- reconciler ------------------------------------------------------------ */

/* Records that the job id was put on the dispatch stream (after XADD). Optional
 * for the first dispatch right after submission: until a job has a mark, the
 * reconciler counts from its created_at. folio-server does not mark it (an
 * UPDATE per submission for nothing); folio_jobs_take_undispatched marks the
 * re-dispatches it returns. */
int folio_jobs_mark_dispatched(struct folio_pg_conn *c, const char *job_id,
                               struct folio_pg_diag *diag);

/* Takes up to limit QUEUED jobs whose last dispatch (or submission, when
 * never dispatched) is older than older_than_ms, marks them dispatched now
 * and returns their ids (oldest first) so the caller re-dispatches them.
 * Concurrent reconcilers take disjoint sets (SKIP LOCKED). *ids is an array
 * of *n strings in arena. */
int folio_jobs_take_undispatched(struct folio_pg_conn *c, int older_than_ms, int limit,
                                 struct folio_arena *arena, char ***ids, size_t *n,
                                 struct folio_pg_diag *diag);

/* RUNNING jobs whose heartbeat is older than lease_ms: back to QUEUED
 * ('retried') while attempts remain, else FAILED ATTEMPTS_EXHAUSTED (a
 * pending cancel becomes CANCELED). Returns the ids now QUEUED, for dispatch. */
int folio_jobs_reap_stale(struct folio_pg_conn *c, int lease_ms, int limit,
                          struct folio_arena *arena, char ***ids, size_t *n,
                          struct folio_pg_diag *diag);

/* ---- Redis names and messages ------------------------------------------------ */

/* The dispatch stream and its consumer group. The {jobs} hash tag keeps every
 * folio stream key in one Redis Cluster slot. */
#define FOLIO_JOBS_STREAM "folio:{jobs}:dispatch"
#define FOLIO_JOBS_GROUP "folio-workers"
/* Approximate cap on the stream's length (XADD MAXLEN ~). Dispatch is a hint,
 * so trimming old entries loses nothing the reconciler cannot redo. */
#define FOLIO_JOBS_STREAM_MAXLEN 1000000L

/* The Pub/Sub channel of one job's events: "folio:job:<id>", into
 * out[FOLIO_JOBS_CHANNEL_MAX]. */
#define FOLIO_JOBS_CHANNEL_MAX 64
void folio_jobs_channel(const char *job_id, char out[FOLIO_JOBS_CHANNEL_MAX]);

/* The event message: {"job_id":"…","state":"RUNNING","progress":40}. A
 * message is a hint: a watcher re-reads the job (one GetStatus query) on each
 * one, so a lost or reordered message costs nothing but latency. Returns the
 * length written to buf (cap >= FOLIO_JOBS_EVENT_MAX), or -1 if it does not fit. */
#define FOLIO_JOBS_EVENT_MAX 160
int folio_jobs_event_format(char *buf, size_t cap, const char *job_id, enum folio_job_state state,
                            int progress_percent);
/* Parses a message made by folio_jobs_event_format (strictly that shape).
 * Pure; 0 or -1. */
int folio_jobs_event_parse(const char *msg, size_t len, char job_id[FOLIO_UUID_STR_LEN + 1],
                           enum folio_job_state *state, int *progress_percent);

/* ---- API keys -------------------------------------------------------------- */

/* "folio_" + 32 hex digits (the key id) + "_" + 43 base64url characters. */
#define FOLIO_APIKEY_LEN 82
/* The server pepper keys the hash: 16..64 bytes (crypto_generichash keys). */
#define FOLIO_APIKEY_PEPPER_MIN 16
#define FOLIO_APIKEY_PEPPER_MAX 64

/* Creates a key for tenant. key_out[FOLIO_APIKEY_LEN + 1] receives the full
 * key — the only time it exists outside the caller; only its keyed BLAKE2b
 * hash is stored. id_out (NULL allowed) receives the key id (UUID text), the
 * handle for revoke. */
int folio_jobs_apikey_create(struct folio_pg_conn *c, const char *tenant, const uint8_t *pepper,
                             size_t pepper_len, char key_out[FOLIO_APIKEY_LEN + 1],
                             char id_out[FOLIO_UUID_STR_LEN + 1], struct folio_pg_diag *diag);

/* Checks a presented key (the text after "Bearer "): parses it, looks its id
 * up, compares the keyed hash in constant time. On success the tenant is
 * copied to tenant_out (cap bytes, >= 129). EAUTH for anything else. */
int folio_jobs_apikey_verify(struct folio_pg_conn *c, const char *key, const uint8_t *pepper,
                             size_t pepper_len, char *tenant_out, size_t cap,
                             struct folio_pg_diag *diag);

/* folio_jobs_apikey_verify that also returns the tenant's limits (resolved,
 * folio/tenant.h) into *limits (NULL allowed; the defaults on failure). An
 * unknown key id and a wrong secret do the same work: one hash, one lookup
 * returning one row, one constant-time compare (against a dummy hash when
 * the id is unknown). */
struct folio_tenant_limits;
int folio_jobs_apikey_verify_limits(struct folio_pg_conn *c, const char *key,
                                    const uint8_t *pepper, size_t pepper_len, char *tenant_out,
                                    size_t cap, struct folio_tenant_limits *limits,
                                    struct folio_pg_diag *diag);
/* Test hook: how many key hashes and hash compares this process has done. */
void folio_jobs_apikey_work_counts(unsigned long *hashes, unsigned long *compares);

/* Revokes the key with this id (UUID text or the full key). tenant NULL
 * revokes in any tenant. ENOTFOUND when no such unrevoked key. */
int folio_jobs_apikey_revoke(struct folio_pg_conn *c, const char *key_id, const char *tenant,
                             struct folio_pg_diag *diag);

/* FOLIO_API_KEY_PEPPER: the server's pepper, 16..64 bytes taken as-is from
 * the environment variable. Copies it to out[FOLIO_APIKEY_PEPPER_MAX];
 * FOLIO_JOBS_EINVAL (diag says why, never showing the value) when unset or
 * of the wrong length. */
int folio_jobs_pepper_from_env(uint8_t out[FOLIO_APIKEY_PEPPER_MAX], size_t *len,
                               struct folio_pg_diag *diag);

/* The administrative subcommands, for `folio-server migrate|apikey|tenant ...`:
 *   migrate                                apply pending migrations
 *   apikey create --tenant T               print a new key (once) on out
 *   apikey revoke KEY_ID_OR_KEY [--tenant T]
 *   tenant list | show T | set T --LIMIT V|default ...   (folio/tenant.h)
 *   cache purge [--tenant T]               forget render cache entries (folio/render_cache.h)
 * argv[0] is the subcommand. Configuration from FOLIO_DATABASE_URL and
 * FOLIO_API_KEY_PEPPER. Messages go to err, never a secret but the created
 * key (to out). Returns a process exit code: 0 done, 1 failed, 2 usage. */
int folio_jobs_admin_main(int argc, char **argv, FILE *out, FILE *err);

/* Parses a key's text form: *id receives the key id (UUID text) and secret the
 * 32 secret bytes. Pure; -1 when malformed. */
int folio_jobs_apikey_parse(const char *key, char id[FOLIO_UUID_STR_LEN + 1],
                            uint8_t secret[32]);

#endif
