/* The backends' life cycle, the dispatch path and the reconciler.
 *
 * Start-up is blocking and happens before the gRPC server listens: migrate
 * (advisory-locked in lib/jobs, so concurrent servers are safe) and create
 * the bucket. Everything after runs on the loop thread, driven by timers and
 * posted functions.
 *
 * Dispatch: after a submission commits, its id is XADDed. The first dispatch
 * is not recorded: the job's created_at stands for it (the reconciler reads
 * COALESCE(dispatched_at, created_at)), so a submission costs one INSERT and
 * no UPDATE — marking every XADD was a non-HOT update of each new row (its
 * indexed dispatch time changes) and cost ~20% of SubmitLayout's throughput
 * in bench/pipeline. A failed XADD is only logged: the job looks exactly like
 * one whose entry Redis lost. The reconciler (every RECONCILE_MS) re-dispatches QUEUED jobs
 * with no dispatch for REDISPATCH_AFTER_MS and returns RUNNING jobs whose
 * heartbeat is older than LEASE_MS to the queue (lib/jobs does both with SKIP
 * LOCKED, so several servers may run it at once).
 *
 * A job still waiting in the stream has a live dispatch: while the consumer
 * group has undelivered entries (XINFO GROUPS "lag" > 0) the workers are
 * behind, and re-dispatching every job that waited 5 s would add an entry per
 * queued job every 5 s (measured: 4,194 entries for 1,000 jobs in
 * tests/integration/pipeline), each costing a worker a refused claim. Then
 * only jobs without a dispatch for REDISPATCH_BUSY_MS are re-dispatched (so a
 * job whose entry Redis lost still goes out under sustained load). A lag of 0
 * or unknown (no group yet, Redis < 7, entries deleted) keeps the 5 s. */
#include "backend.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include <sodium.h>
#include <unistd.h>

#include "folio/cpus.h"
#include "folio/dispatch.h"
#include "folio/log.h"

#define RECONCILE_MS 2000
#define REDISPATCH_AFTER_MS 5000
#define REDISPATCH_BUSY_MS 60000
#define LEASE_MS 30000
#define RECONCILE_LIMIT 500

/* The first async connection: the reconciler's and the database-health
 * watch's; NULL when no database is configured (or after teardown). */
static struct folio_pg_async *primary_db(const struct srv_backend *b) {
  return b->ndb > 0 ? b->dbs[0] : NULL;
}

static void log_warn(const char *msg, const char *detail) { folio_log(FOLIO_LOG_WARN, msg, detail); }


/* ---- dispatch ------------------------------------------------------------ */

struct dispatch {
  struct srv_backend *b;
  char job_id[FOLIO_UUID_STR_LEN + 1];
  void (*done)(void *);
  void *arg;
};

static void on_dispatched(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  struct dispatch *d = arg;
  if (status != 0)
    log_warn("dispatch failed; the reconciler will retry", d->job_id);
  if (d->done) d->done(d->arg);
  free(d);
}

static void dispatch(struct srv_backend *b, const char *job_id, void (*done)(void *arg),
                     void *arg) {
  struct dispatch *d = b->redis ? malloc(sizeof *d) : NULL;
  if (d) {
    *d = (struct dispatch){.b = b, .done = done, .arg = arg};
    snprintf(d->job_id, sizeof d->job_id, "%s", job_id);
    if (folio_dispatch_send(b->redis, job_id, on_dispatched, d) == 0)
      return;
    free(d);
  }
  if (done) done(arg);
}

void srv_backend_dispatch(struct srv_backend *b, const char *job_id,
                            void (*done)(void *arg), void *arg) {
  assert(folio_loop_affine(b->loop)); /* loop thread only (backend.h) */
  dispatch(b, job_id, done, arg);
}

static void on_published(struct folio_redis *r, int status, const redisReply *rep, void *arg) {}

void srv_backend_publish(struct srv_backend *b, const char *job_id,
                           enum folio_job_state state, int progress) {
  assert(folio_loop_affine(b->loop)); /* loop thread only (backend.h) */
  if (!b->redis) return;
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job_id, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job_id, state, progress < 0 ? 0 : progress);
  if (n > 0) folio_redis_publish(b->redis, ch, msg, (size_t)n, on_published, NULL);
}

/* ---- reconciler (loop thread) ------------------------------------------------ */

static void redispatch(struct srv_backend *b, char *const *ids, size_t n, const char *why) {
  for (size_t i = 0; i < n; i++) dispatch(b, ids[i], NULL, NULL);
  if (n) {
    struct folio_logline l;
    folio_log_begin(&l, FOLIO_LOG_INFO, why);
    folio_log_int(&l, "count", (int64_t)n);
    folio_log_end(&l);
  }
}

static void on_taken(int status, char *const *ids, size_t n, const struct folio_pg_diag *d,
                     void *arg) {
  struct srv_backend *b = arg;
  if (status == 0) redispatch(b, ids, n, "reconciler re-dispatched queued jobs");
  b->reconcile_busy = false;
}

static void take_undispatched(struct srv_backend *b, int grace_ms) {
  struct folio_pg_async *db = primary_db(b);
  if (!db || folio_jobs_take_undispatched_async(db, grace_ms, RECONCILE_LIMIT, on_taken, b) != 0)
    b->reconcile_busy = false;
}

static void on_group_lag(int status, long long lag, void *arg) {
  struct srv_backend *b = arg;
  if (status == FOLIO_REDIS_EDOWN) { /* as in on_reconcile_timer: next tick */
    b->reconcile_busy = false;
    return;
  }
  /* an error reply (no stream yet) means nothing is waiting in it */
  take_undispatched(b, lag > 0 ? REDISPATCH_BUSY_MS : REDISPATCH_AFTER_MS);
}

static void on_reaped(int status, char *const *ids, size_t n, const struct folio_pg_diag *d,
                      void *arg) {
  struct srv_backend *b = arg;
  if (status == 0) redispatch(b, ids, n, "reaper re-queued jobs whose worker stopped heartbeating");
  /* b->redis is NULL when this runs from teardown's folio_pg_async_destroy */
  if (!b->redis || folio_dispatch_lag(b->redis, on_group_lag, b) != 0)
    b->reconcile_busy = false; /* Redis went down meanwhile: next tick */
}

static void on_reconcile_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct srv_backend *b = arg;
  if (b->reconcile_busy || !folio_redis_connected(b->redis)) return;
  b->reconcile_busy = true;
  if (folio_jobs_reap_stale_async(primary_db(b), LEASE_MS, RECONCILE_LIMIT, on_reaped, b) != 0)
    b->reconcile_busy = false; /* database not ready: next tick */
}

/* ---- database state, for health (loop thread) ----------------------------------- */

#define DB_STATE_POLL_MS 1000

static void report_db(struct srv_backend *b, bool reachable) {
  if (b->db_state_cb) b->db_state_cb(reachable, b->db_state_arg);
}

static void on_db_state(struct folio_pg_async *a, bool ready, void *arg) {
  report_db(arg, ready);
}

static void on_db_state_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct srv_backend *b = arg;
  report_db(b, folio_pg_async_ready(primary_db(b))); /* the callee ignores repeats */
}

struct watch_db {
  struct srv_backend *b;
  void (*cb)(bool, void *);
  void *arg;
};

static void watch_db_on_loop(struct folio_loop *loop, void *arg) {
  struct watch_db w = *(struct watch_db *)arg;
  free(arg);
  struct srv_backend *b = w.b;
  if (!primary_db(b)) return;
  b->db_state_cb = w.cb;
  b->db_state_arg = w.arg;
  folio_pg_async_set_state_cb(primary_db(b), on_db_state, b);
  folio_loop_timer_start(loop, &b->db_state_timer, DB_STATE_POLL_MS, DB_STATE_POLL_MS,
                         on_db_state_timer, b);
  /* until the first connect completes the connection is not "ready" though
   * the start-up migration just reached the database: let the poll judge */
}

int srv_backend_watch_db(struct srv_backend *b, void (*cb)(bool reachable, void *arg),
                           void *arg) {
  if (!primary_db(b)) return 0;
  struct watch_db *w = malloc(sizeof *w);
  if (!w) return -1;
  *w = (struct watch_db){b, cb, arg};
  if (folio_loop_post(b->loop, watch_db_on_loop, w) != 0) {
    free(w);
    return -1;
  }
  return 0;
}

/* ---- life cycle ---------------------------------------------------------------- */

static void *loop_main(void *arg) {
  folio_loop_run(arg);
  return NULL;
}

static void on_group(struct folio_redis *r, int status, const redisReply *rep, void *arg) {}

static void on_redis_state(struct folio_redis *r, bool up, void *arg) {
  struct srv_backend *b = arg;
  if (up && r == b->redis)
    folio_dispatch_group_create(r, on_group, NULL);
}

static int start_s3(struct srv_backend *b, const struct srv_config *cfg, char *err,
                    size_t errcap) {
  if (!cfg->s3_endpoint) return 0;
  const char *missing = !cfg->s3_bucket       ? "FOLIO_S3_BUCKET"
                        : !cfg->s3_access_key ? "FOLIO_S3_ACCESS_KEY"
                        : !cfg->s3_secret_key ? "FOLIO_S3_SECRET_KEY"
                                              : NULL;
  if (missing) {
    snprintf(err, errcap, "FOLIO_S3_ENDPOINT is set but %s is not", missing);
    return -1;
  }
  struct folio_s3_config *s = &b->s3cfg;
  s->endpoint = cfg->s3_endpoint;
  s->public_endpoint = cfg->s3_public_endpoint;
  s->region = cfg->s3_region;
  s->bucket = cfg->s3_bucket;
  s->access_key = cfg->s3_access_key;
  s->secret_key = cfg->s3_secret_key;
  if (cfg->s3_addressing && strcmp(cfg->s3_addressing, "virtual") == 0)
    s->addressing = FOLIO_S3_VIRTUAL_HOSTED;
  else if (cfg->s3_addressing && strcmp(cfg->s3_addressing, "path") != 0) {
    snprintf(err, errcap, "FOLIO_S3_ADDRESSING: invalid value \"%s\": expected path or virtual",
             cfg->s3_addressing);
    return -1;
  }
  struct folio_s3_sync_result r;
  if (folio_s3_sync_ensure_bucket(s, &r) != 0) {
    /* S3's code (e.g. SignatureDoesNotMatch) and message; RGW sends no message */
    snprintf(err, errcap, "S3: cannot create or reach bucket \"%s\" at %s: %s%s%s (HTTP %ld)",
             s->bucket, s->endpoint, *r.error_code ? r.error_code : folio_s3_strerror(r.status),
             *r.error_message ? ": " : "", r.error_message, r.http_status);
    return -1;
  }
  b->s3 = folio_s3_client_create(s, b->loop, err, errcap);
  return b->s3 ? 0 : -1;
}

static int start_db(struct srv_backend *b, const struct srv_config *cfg, char *err,
                    size_t errcap) {
  if (!cfg->database_url) return 0;
  size_t plen = cfg->apikey_pepper ? strlen(cfg->apikey_pepper) : 0;
  if (plen < FOLIO_APIKEY_PEPPER_MIN || plen > FOLIO_APIKEY_PEPPER_MAX) {
    snprintf(err, errcap,
             "FOLIO_API_KEY_PEPPER must be set to %d..%d bytes when FOLIO_DATABASE_URL is (got %zu)",
             FOLIO_APIKEY_PEPPER_MIN, FOLIO_APIKEY_PEPPER_MAX, plen);
    return -1;
  }
  memcpy(b->pepper, cfg->apikey_pepper, plen);
  b->pepper_len = plen;
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  int applied = 0;
  struct folio_pg_conn_config cc = {.conninfo = cfg->database_url,
                                    .application_name = "folio-server"};
  if (folio_pg_conn_connect(&cc, &c, &d) != 0) {
    snprintf(err, errcap, "PostgreSQL: %s", d.msg);
    return -1;
  }
  int rc = folio_jobs_migrate(c, &applied, &d);
  folio_pg_conn_close(c);
  if (rc != 0) {
    snprintf(err, errcap, "migration failed: %s", d.msg);
    return -1;
  }
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "database ready");
  folio_log_int(&l, "schema_version", folio_jobs_schema_version());
  folio_log_int(&l, "migrations_applied", applied);
  folio_log_end(&l);

  struct folio_pg_async_config ac = {
      .conn = {.conninfo = cfg->database_url, .application_name = "folio-server"},
      .backoff_max_ms = 1000};
  folio_jobs_conn_config(&ac.conn);
  int n = cfg->db_connections;
  if (n <= 0) n = folio_cpus_available();
  if (n > (int)(sizeof b->dbs / sizeof b->dbs[0])) n = (int)(sizeof b->dbs / sizeof b->dbs[0]);
  for (; b->ndb < n; b->ndb++) {
    if (folio_pg_async_create(&ac, &b->dbs[b->ndb], &d) != 0 ||
        folio_pg_async_attach(b->dbs[b->ndb], b->loop) != 0) {
      snprintf(err, errcap, "PostgreSQL (async): %s", d.msg);
      if (b->dbs[b->ndb]) b->ndb++; /* created: teardown destroys it */
      return -1;
    }
  }
  struct folio_pg_pool_config pc = {
      .conn = {.conninfo = cfg->database_url, .application_name = "folio-server-pool"},
      .size = 4,
      .backoff_max_ms = 1000};
  folio_jobs_conn_config(&pc.conn);
  if (folio_pg_pool_create(&pc, &b->blocking, &d) != 0) {
    snprintf(err, errcap, "PostgreSQL pool: %s", d.msg);
    return -1;
  }
  return 0;
}

static int start_redis(struct srv_backend *b, const struct srv_config *cfg, char *err,
                       size_t errcap) {
  if (!cfg->redis_url) return 0;
  struct folio_redis_config rc = {.url = cfg->redis_url, .backoff_max_ms = 1000};
  if (folio_redis_create(b->loop, &rc, &b->redis, err, errcap) != 0 ||
      folio_redis_create(b->loop, &rc, &b->sub, err, errcap) != 0)
    return -1;
  folio_redis_set_state_cb(b->redis, on_redis_state, b);
  return 0;
}

int srv_backend_start(struct srv_backend *b, const struct srv_config *cfg, char *err,
                        size_t errcap) {
  memset(b, 0, sizeof *b);
  folio_loop_timer_init(&b->reconcile_timer);
  folio_loop_timer_init(&b->db_state_timer);
  b->loop = folio_loop_create();
  int threads = cfg->decode_threads;
  if (threads <= 0) threads = folio_cpus_available();
  b->pool = srv_workpool_create(threads, (size_t)cfg->decode_queue);
  b->auth = srv_auth_cache_create();
  b->layout_limits = cfg->layout_limits;
  b->quota = folio_quota_create();
  if (!b->loop || !b->pool || !b->auth || !b->quota) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  if (start_db(b, cfg, err, errcap) != 0 || start_redis(b, cfg, err, errcap) != 0 ||
      start_s3(b, cfg, err, errcap) != 0)
    return -1;
  if (primary_db(b) && b->redis)
    folio_loop_timer_start(b->loop, &b->reconcile_timer, RECONCILE_MS, RECONCILE_MS,
                           on_reconcile_timer, b);
  if (pthread_create(&b->thread, NULL, loop_main, b->loop) != 0) {
    snprintf(err, errcap, "cannot start the I/O loop thread");
    return -1;
  }
  b->thread_started = true;
  return 0;
}

static void teardown(struct folio_loop *loop, void *arg) {
  struct srv_backend *b = arg;
  folio_loop_timer_stop(loop, &b->reconcile_timer);
  folio_loop_timer_stop(loop, &b->db_state_timer);
  b->db_state_cb = NULL;
  folio_s3_client_destroy(b->s3);
  b->s3 = NULL;
  folio_redis_destroy(b->sub);
  b->sub = NULL;
  /* NULL before the database goes: its pending callbacks run inside
   * folio_pg_async_destroy and must not reach a freed Redis client */
  folio_redis_destroy(b->redis);
  b->redis = NULL;
  for (int i = 0; i < b->ndb; i++) folio_pg_async_destroy(b->dbs[i]);
  b->ndb = 0;
  folio_loop_stop(loop);
}

void srv_backend_stop(struct srv_backend *b) {
  if (!b->loop) return;
  /* The pool first: its tasks post to the loop, which still runs. */
  srv_workpool_destroy(b->pool);
  b->pool = NULL;
  if (b->thread_started) {
    if (folio_loop_post(b->loop, teardown, b) == 0) pthread_join(b->thread, NULL);
  } else {
    teardown(b->loop, b);
  }
  folio_loop_destroy(b->loop);
  b->loop = NULL;
  folio_pg_pool_destroy(b->blocking);
  b->blocking = NULL;
  srv_auth_cache_destroy(b->auth);
  b->auth = NULL;
  folio_quota_destroy(b->quota);
  b->quota = NULL;
  sodium_memzero(b->pepper, sizeof b->pepper);
}

struct folio_pg_async *srv_backend_pick_db(struct srv_backend *b) {
  struct folio_pg_async *best = primary_db(b);
  uint64_t least = UINT64_MAX;
  for (int i = 0; i < b->ndb; i++) {
    if (!folio_pg_async_ready(b->dbs[i])) continue;
    struct folio_pg_async_stats st;
    folio_pg_async_stats(b->dbs[i], &st);
    if ((uint64_t)st.inflight < least) {
      least = (uint64_t)st.inflight;
      best = b->dbs[i];
    }
  }
  return best;
}

bool srv_backend_require(struct srv_backend *b, struct cgrpc_call *call, const char *rpc,
                           bool need_s3) {
  char msg[256];
  if (!primary_db(b)) {
    snprintf(msg, sizeof msg,
             "%s is not enabled on this folio-server: it has no job store (set "
             "FOLIO_DATABASE_URL)",
             rpc);
  } else if (need_s3 && !b->s3) {
    snprintf(msg, sizeof msg,
             "%s is not enabled on this folio-server: it has no artifact store (set "
             "FOLIO_S3_ENDPOINT and the other FOLIO_S3_* variables)",
             rpc);
  } else {
    return true;
  }
  cgrpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED, msg);
  return false;
}
