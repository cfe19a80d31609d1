/* The backends' life cycle, the dispatch path and the reconciler.
 *
 * Start-up is blocking and happens before the gRPC server listens: migrate
 * (advisory-locked in lib/jobs, so concurrent servers are safe) and create
 * the bucket. Everything after runs on the loop thread, driven by timers and
 * posted functions.
 *
 * Dispatch: after a submission commits, its id is XADDed; a successful XADD
 * is recorded with folio_jobs_mark_dispatched, batched onto one work-pool
 * task (a blocking connection) so the hot path costs no extra round trip on
 * the loop. The reconciler (every RECONCILE_MS) re-dispatches QUEUED jobs
 * with no dispatch for REDISPATCH_AFTER_MS and returns RUNNING jobs whose
 * heartbeat is older than LEASE_MS to the queue (lib/jobs does both with SKIP
 * LOCKED, so several servers may run it at once). */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include <sodium.h>
#include <unistd.h>

#include "folio/log.h"

#define RECONCILE_MS 2000
#define REDISPATCH_AFTER_MS 5000
#define LEASE_MS 30000
#define RECONCILE_LIMIT 500

static void log_warn(const char *msg, const char *detail) { folio_log(FOLIO_LOG_WARN, msg, detail); }

int folio_backend_connect(const char *url, bool with_stmts, struct folio_pg_conn **out,
                          struct folio_pg_diag *diag) {
  struct folio_pg_conn_config c = {.conninfo = url, .application_name = "folio-server"};
  if (with_stmts) folio_jobs_conn_config(&c);
  return folio_pg_conn_connect(&c, out, diag);
}

/* ---- dispatch ------------------------------------------------------------ */

struct dispatch {
  struct folio_backend *b;
  char job_id[FOLIO_UUID_STR_LEN + 1];
  void (*done)(void *);
  void *arg;
};

static void mark_task(void *arg) {
  struct folio_backend *b = arg;
  for (;;) {
    pthread_mutex_lock(&b->mu);
    size_t n = b->nmarks;
    char(*ids)[FOLIO_UUID_STR_LEN + 1] = b->marks;
    b->marks = NULL;
    b->nmarks = b->capmarks = 0;
    if (n == 0) b->mark_task_queued = false;
    pthread_mutex_unlock(&b->mu);
    if (n == 0) return;
    struct folio_pg_conn *c;
    struct folio_pg_diag d;
    if (folio_pg_pool_checkout(b->blocking, 2000, &c, &d) == 0) {
      for (size_t i = 0; i < n; i++) folio_jobs_mark_dispatched(c, ids[i], &d);
      folio_pg_pool_checkin(b->blocking, c);
    } /* else: the reconciler re-dispatches them later; harmless */
    free(ids);
  }
}

static void remember_dispatched(struct folio_backend *b, const char *job_id) {
  bool queue = false;
  pthread_mutex_lock(&b->mu);
  if (b->nmarks == b->capmarks) {
    size_t cap = b->capmarks ? b->capmarks * 2 : 64;
    void *m = realloc(b->marks, cap * sizeof *b->marks);
    if (m) {
      b->marks = m;
      b->capmarks = cap;
    }
  }
  if (b->nmarks < b->capmarks) memcpy(b->marks[b->nmarks++], job_id, FOLIO_UUID_STR_LEN + 1);
  if (!b->mark_task_queued) queue = b->mark_task_queued = true;
  pthread_mutex_unlock(&b->mu);
  if (queue && folio_workpool_submit(b->pool, mark_task, b) != 0) {
    pthread_mutex_lock(&b->mu);
    b->mark_task_queued = false; /* the next dispatch tries again */
    pthread_mutex_unlock(&b->mu);
  }
}

static void on_dispatched(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  struct dispatch *d = arg;
  if (status == 0) remember_dispatched(d->b, d->job_id);
  else log_warn("dispatch failed; the reconciler will retry", d->job_id);
  if (d->done) d->done(d->arg);
  free(d);
}

void folio_backend_dispatch(struct folio_backend *b, const char *job_id,
                            void (*done)(void *arg), void *arg) {
  struct dispatch *d = b->redis ? malloc(sizeof *d) : NULL;
  if (d) {
    d->b = b;
    snprintf(d->job_id, sizeof d->job_id, "%s", job_id);
    d->done = done;
    d->arg = arg;
    if (folio_redis_dispatch(b->redis, FOLIO_JOBS_STREAM, job_id, FOLIO_JOBS_STREAM_MAXLEN,
                             on_dispatched, d) == 0)
      return;
    free(d);
  }
  if (done) done(arg);
}

static void on_published(struct folio_redis *r, int status, const redisReply *rep, void *arg) {}

void folio_backend_publish(struct folio_backend *b, const char *job_id,
                           enum folio_job_state state, int progress) {
  if (!b->redis) return;
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job_id, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job_id, state, progress < 0 ? 0 : progress);
  if (n > 0) folio_redis_publish(b->redis, ch, msg, (size_t)n, on_published, NULL);
}

/* ---- reconciler ------------------------------------------------------------ */

struct reconcile {
  struct folio_backend *b;
  char (*ids)[FOLIO_UUID_STR_LEN + 1];
  size_t n;
};

static void reconcile_dispatch(struct folio_loop *loop, void *arg) {
  struct reconcile *r = arg;
  for (size_t i = 0; i < r->n; i++) folio_backend_dispatch(r->b, r->ids[i], NULL, NULL);
  if (r->n) {
    struct folio_logline l;
    folio_log_begin(&l, FOLIO_LOG_INFO, "reconciler re-dispatched jobs");
    folio_log_int(&l, "count", (int64_t)r->n);
    folio_log_end(&l);
  }
  r->b->reconcile_busy = false;
  free(r->ids);
  free(r);
}

static void append_ids(struct reconcile *r, char **ids, size_t n) {
  void *m = realloc(r->ids, (r->n + n + 1) * sizeof *r->ids);
  if (!m) return;
  r->ids = m;
  for (size_t i = 0; i < n; i++) snprintf(r->ids[r->n++], FOLIO_UUID_STR_LEN + 1, "%s", ids[i]);
}

static void reconcile_task(void *arg) {
  struct reconcile *r = arg;
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  if (folio_pg_pool_checkout(r->b->blocking, 1000, &c, &d) == 0) {
    struct folio_arena *a = folio_arena_create(0);
    char **ids;
    size_t n;
    if (a && folio_jobs_reap_stale(c, LEASE_MS, RECONCILE_LIMIT, a, &ids, &n, &d) == 0)
      append_ids(r, ids, n);
    if (a && folio_jobs_take_undispatched(c, REDISPATCH_AFTER_MS, RECONCILE_LIMIT, a, &ids, &n,
                                          &d) == 0)
      append_ids(r, ids, n);
    folio_arena_destroy(a);
    folio_pg_pool_checkin(r->b->blocking, c);
  }
  if (folio_loop_post(r->b->loop, reconcile_dispatch, r) != 0) {
    free(r->ids);
    free(r); /* loop gone: shutting down */
  }
}

static void on_reconcile_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct folio_backend *b = arg;
  if (b->reconcile_busy) return;
  struct reconcile *r = calloc(1, sizeof *r);
  if (!r) return;
  r->b = b;
  b->reconcile_busy = true;
  if (folio_workpool_submit(b->pool, reconcile_task, r) != 0) {
    b->reconcile_busy = false;
    free(r);
  }
}

/* ---- life cycle ---------------------------------------------------------------- */

static void *loop_main(void *arg) {
  folio_loop_run(arg);
  return NULL;
}

static void on_group(struct folio_redis *r, int status, const redisReply *rep, void *arg) {}

static void on_redis_state(struct folio_redis *r, bool up, void *arg) {
  struct folio_backend *b = arg;
  if (up && r == b->redis)
    folio_redis_group_create(r, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, on_group, NULL);
}

static int start_s3(struct folio_backend *b, const struct folio_server_config *cfg, char *err,
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
    snprintf(err, errcap, "S3: cannot create or reach bucket \"%s\" at %s: %s %s (HTTP %ld)",
             s->bucket, s->endpoint, r.error_code, r.error_message, r.http_status);
    return -1;
  }
  b->s3 = folio_s3_client_create(s, b->loop, err, errcap);
  return b->s3 ? 0 : -1;
}

static int start_db(struct folio_backend *b, const struct folio_server_config *cfg, char *err,
                    size_t errcap) {
  if (!cfg->database_url) return 0;
  size_t plen = cfg->apikey_pepper ? strlen(cfg->apikey_pepper) : 0;
  if (plen < FOLIO_APIKEY_PEPPER_MIN || plen > FOLIO_APIKEY_PEPPER_MAX) {
    snprintf(err, errcap,
             "FOLIO_APIKEY_PEPPER must be set to %d..%d bytes when FOLIO_DATABASE_URL is (got %zu)",
             FOLIO_APIKEY_PEPPER_MIN, FOLIO_APIKEY_PEPPER_MAX, plen);
    return -1;
  }
  memcpy(b->pepper, cfg->apikey_pepper, plen);
  b->pepper_len = plen;
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  int applied = 0;
  if (folio_backend_connect(cfg->database_url, false, &c, &d) != 0) {
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
  if (folio_pg_async_create(&ac, &b->db, &d) != 0 || folio_pg_async_attach(b->db, b->loop) != 0) {
    snprintf(err, errcap, "PostgreSQL (async): %s", d.msg);
    return -1;
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

static int start_redis(struct folio_backend *b, const struct folio_server_config *cfg, char *err,
                       size_t errcap) {
  if (!cfg->redis_url) return 0;
  struct folio_redis_config rc = {.url = cfg->redis_url, .backoff_max_ms = 1000};
  if (folio_redis_create(b->loop, &rc, &b->redis, err, errcap) != 0 ||
      folio_redis_create(b->loop, &rc, &b->sub, err, errcap) != 0)
    return -1;
  folio_redis_set_state_cb(b->redis, on_redis_state, b);
  return 0;
}

int folio_backend_start(struct folio_backend *b, const struct folio_server_config *cfg, char *err,
                        size_t errcap) {
  memset(b, 0, sizeof *b);
  pthread_mutex_init(&b->mu, NULL);
  folio_loop_timer_init(&b->reconcile_timer);
  b->loop = folio_loop_create();
  int threads = cfg->decode_threads;
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 2;
  }
  b->pool = folio_workpool_create(threads, (size_t)cfg->decode_queue);
  b->auth = folio_auth_cache_create();
  if (!b->loop || !b->pool || !b->auth) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  if (start_db(b, cfg, err, errcap) != 0 || start_redis(b, cfg, err, errcap) != 0 ||
      start_s3(b, cfg, err, errcap) != 0)
    return -1;
  if (b->db && b->redis)
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
  struct folio_backend *b = arg;
  folio_loop_timer_stop(loop, &b->reconcile_timer);
  folio_s3_client_destroy(b->s3);
  folio_redis_destroy(b->sub);
  folio_redis_destroy(b->redis);
  folio_pg_async_destroy(b->db);
  b->s3 = NULL;
  b->sub = b->redis = NULL;
  b->db = NULL;
  folio_loop_stop(loop);
}

void folio_backend_stop(struct folio_backend *b) {
  if (!b->loop) return;
  /* The pool first: its tasks post to the loop, which still runs. */
  folio_workpool_destroy(b->pool);
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
  folio_auth_cache_destroy(b->auth);
  b->auth = NULL;
  free(b->marks);
  pthread_mutex_destroy(&b->mu);
  sodium_memzero(b->pepper, sizeof b->pepper);
}

bool folio_backend_require(struct folio_backend *b, struct cgrpc_call *call, const char *rpc,
                           bool need_s3) {
  char msg[256];
  if (!b->db) {
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
