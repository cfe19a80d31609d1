/* A folio render process: takes one job at a time from the dispatch stream and
 * renders it into S3.
 *
 * Threads. The main thread runs the job: claim, decode, render, commit. It is
 * the producer of every S3 upload (folio_s3_upload_write may block for
 * backpressure, which is why it must not be the loop thread). A loop thread
 * runs folio_loop_run() for the Redis clients and the S3 client; the main
 * thread reaches Redis through rcall (post a function to the loop, wait on a
 * condition variable for its callback). During a job a heartbeat thread, with
 * its own PostgreSQL connection, records liveness and progress every
 * heartbeat_ms, publishes progress events and reads cancel_requested — at
 * once when an event arrives on the job's Pub/Sub channel (a cancel is
 * published there), else at each heartbeat as a fallback; the render's
 * progress hook reads the flags it sets and stops the render.
 *
 * Delivery. An entry is acknowledged only once the job's outcome is recorded
 * in PostgreSQL (succeeded, failed for good, canceled) or when the claim says
 * the job is finished. An entry whose job is RUNNING elsewhere, or whose
 * attempt failed transiently, stays pending: XAUTOCLAIM (here, after the
 * visibility timeout) re-delivers it. After a transient failure the entry's
 * idle time is set with XCLAIM ... IDLE so that it is re-delivered after the
 * retry backoff (exponential, jittered, capped by the visibility timeout). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/arena.h"
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/layout.h"
#include "folio/pg.h"
#include "folio/redis.h"
#include "folio/render.h"
#include "folio/s3.h"
#include "worker_int.h"

/* ---- waiting for a callback on the loop thread ---------------------------- */

struct sync {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
};

static void sync_init(struct sync *s) {
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->done = false;
}
static void sync_fini(struct sync *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}
static void sync_signal(struct sync *s) {
  pthread_mutex_lock(&s->mu);
  s->done = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}
static void sync_wait(struct sync *s) {
  pthread_mutex_lock(&s->mu);
  while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
}

/* ---- the process ------------------------------------------------------------ */

struct rp {
  const struct folio_worker_config *cfg;
  struct folio_loop *loop;
  pthread_t loop_thread;
  struct folio_redis *rd_block; /* XREADGROUP BLOCK only */
  struct folio_redis *rd;       /* everything else */
  struct folio_redis *rd_sub;   /* subscriber mode: the running job's events */
  struct folio_s3_client *s3;
  struct folio_pg_conn *db;    /* main thread */
  struct folio_pg_conn *hb_db; /* heartbeat thread */
  char consumer[160];
  int64_t last_reclaim_ns;
  int pg_failures; /* consecutive, for the local backoff */
};

static volatile sig_atomic_t g_term;       /* SIGTERM seen */
static volatile int64_t g_term_deadline_ns; /* when running work is handed back */
static int g_grace_ms;

static void on_term(int sig) {
  (void)sig;
  if (g_term) return;
  struct timespec ts; /* clock_gettime is async-signal-safe */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  g_term_deadline_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)g_grace_ms * 1000000;
  g_term = 1;
}

static bool grace_over(void) {
  if (!g_term) return false;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec > g_term_deadline_ns;
}

/* pthread_create with SIGTERM/SIGINT blocked in the new thread, so only the
 * main thread takes them. */
static int spawn_quiet(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGINT);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);
  int rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  return rc;
}

static void log_job(enum folio_log_level lv, const char *msg, const char *job, int attempt,
                    const char *key, const char *val) {
  struct folio_logline l;
  folio_log_begin(&l, lv, msg);
  folio_log_int(&l, "pid", getpid());
  if (job) folio_log_str(&l, "job_id", job);
  if (attempt > 0) folio_log_int(&l, "attempt", attempt);
  if (key) folio_log_str(&l, key, val);
  folio_log_end(&l);
}

/* ---- Redis calls from the main and heartbeat threads ------------------------- */

enum rkind { R_READ, R_RECLAIM, R_ACK, R_PUBLISH, R_SET_IDLE, R_GROUP };

struct rcall {
  struct sync s;
  struct rp *rp;
  enum rkind kind;
  const char *a, *b; /* entry id / job id / channel / message */
  size_t blen;
  int num; /* idle ms */
  int status;
  size_t n;
  char entry_id[64];
  char job_id[64];
  char err[256];
};

static void rcall_reply(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  (void)r;
  struct rcall *c = arg;
  c->status = status;
  if (status == FOLIO_REDIS_EREPLY && rep && rep->str)
    snprintf(c->err, sizeof c->err, "%s", rep->str);
  sync_signal(&c->s);
}

/* The first entry of an XREADGROUP or XAUTOCLAIM reply. An entry without a
 * "job" field arrives with job_id "" (folio/redis.h), and so does one whose
 * job id could not be a job id (too long): its claim is refused as invalid
 * and the entry acked. A poison entry must not fail the whole read, or
 * XAUTOCLAIM would hand it back forever and hide the entries behind it. */
static void rcall_entries(struct folio_redis *r, int status, const struct folio_redis_entry *e,
                          size_t n, const char *next_cursor, void *arg) {
  (void)next_cursor;
  struct rcall *c = arg;
  c->status = status;
  c->n = 0;
  if (status == FOLIO_REDIS_EREPLY) snprintf(c->err, sizeof c->err, "%s", folio_redis_errstr(r));
  if (status == 0 && n > 0) {
    snprintf(c->entry_id, sizeof c->entry_id, "%s", e[0].id);
    c->job_id[0] = '\0';
    if (strlen(e[0].job_id) < sizeof c->job_id)
      snprintf(c->job_id, sizeof c->job_id, "%s", e[0].job_id);
    c->n = 1;
  }
  sync_signal(&c->s);
}

static void rcall_run(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct rcall *c = arg;
  struct rp *rp = c->rp;
  int rc;
  char idle[24];
  switch (c->kind) {
  case R_READ:
    rc = folio_redis_read(rp->rd_block, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, rp->consumer, 1,
                          1000, rcall_entries, c);
    break;
  case R_RECLAIM:
    rc = folio_redis_reclaim(rp->rd, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, rp->consumer,
                             rp->cfg->visibility_timeout_ms, "0-0", 1, rcall_entries, c);
    break;
  case R_ACK:
    rc = folio_redis_ack(rp->rd, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, c->a, rcall_reply, c);
    break;
  case R_PUBLISH:
    rc = folio_redis_publish(rp->rd, c->a, c->b, c->blen, rcall_reply, c);
    break;
  case R_SET_IDLE: {
    snprintf(idle, sizeof idle, "%d", c->num);
    const char *argv[] = {"XCLAIM", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, rp->consumer, "0",
                          c->a, "IDLE", idle, "JUSTID"};
    rc = folio_redis_command(rp->rd, rcall_reply, c, 9, argv, NULL);
    break;
  }
  case R_GROUP:
  default: {
    /* from id 0, not $: a group created after the first dispatches (workers
     * started after the server) still delivers them; re-delivering old
     * entries costs one refused claim each */
    const char *argv[] = {"XGROUP", "CREATE", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, "0", "MKSTREAM"};
    rc = folio_redis_command(rp->rd, rcall_reply, c, 6, argv, NULL);
    break;
  }
  }
  if (rc != 0) {
    c->status = rc;
    sync_signal(&c->s);
  }
}

/* Runs one Redis call on the loop thread and waits for its outcome. Every
 * command that starts calls back exactly once (folio/redis.h), also when the
 * connection drops, so the wait ends. */
static int rcall(struct rp *rp, struct rcall *c) {
  sync_init(&c->s);
  c->rp = rp;
  c->status = FOLIO_REDIS_EDOWN;
  c->err[0] = '\0';
  c->n = 0;
  if (folio_loop_post(rp->loop, rcall_run, c) != 0) {
    sync_fini(&c->s);
    return FOLIO_REDIS_ENOMEM;
  }
  sync_wait(&c->s);
  sync_fini(&c->s);
  return c->status;
}

/* Publishes a job event; a hint, so a failure is only logged. */
static void publish(struct rp *rp, const char *job, enum folio_job_state st, int progress) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job, st, progress);
  if (n < 0) return;
  struct rcall c = {.kind = R_PUBLISH, .a = ch, .b = msg, .blen = (size_t)n};
  if (rcall(rp, &c) != 0)
    log_job(FOLIO_LOG_WARN, "event not published", job, 0, "error", folio_redis_strerror(c.status));
}

static void ack(struct rp *rp, const char *entry, const char *job) {
  struct rcall c = {.kind = R_ACK, .a = entry};
  if (rcall(rp, &c) != 0)
    log_job(FOLIO_LOG_WARN, "XACK failed; the entry will be re-delivered and skipped", job, 0,
            "error", c.err[0] ? c.err : folio_redis_strerror(c.status));
}

/* Makes the pending entry re-deliverable after delay_ms (XAUTOCLAIM takes
 * entries idle for the visibility timeout, so idle = vt - delay). */
static void redeliver_after(struct rp *rp, const char *entry, int delay_ms) {
  int vt = rp->cfg->visibility_timeout_ms;
  struct rcall c = {.kind = R_SET_IDLE, .a = entry, .num = delay_ms >= vt ? 0 : vt - delay_ms};
  if (rcall(rp, &c) != 0)
    log_job(FOLIO_LOG_WARN, "XCLAIM IDLE failed; re-delivery after the visibility timeout", NULL,
            0, "error", c.err[0] ? c.err : folio_redis_strerror(c.status));
}

/* ---- PostgreSQL ------------------------------------------------------------- */

static int db_connect(struct rp *rp, struct folio_pg_conn **c, const char *app) {
  if (*c && folio_pg_conn_ok(*c)) return 0;
  struct folio_pg_diag d;
  if (*c) {
    if (folio_pg_conn_reset(*c, &d) == 0) return 0;
  } else {
    struct folio_pg_conn_config pc = {.conninfo = rp->cfg->database_url, .application_name = app};
    folio_jobs_conn_config(&pc);
    if (folio_pg_conn_connect(&pc, c, &d) == 0) return 0;
  }
  log_job(FOLIO_LOG_WARN, "database unavailable", NULL, 0, "error", d.msg);
  return FOLIO_PG_ECONNECT;
}

/* The state of a job (for a claim that was refused), or UNSPECIFIED. */
static enum folio_job_state job_state(struct rp *rp, const char *job) {
  const char *vals[] = {job};
  PGresult *r = PQexecParams(folio_pg_conn_raw(rp->db), "SELECT state FROM jobs WHERE id = $1::uuid",
                             1, NULL, vals, NULL, NULL, 0);
  enum folio_job_state st = FOLIO_JOB_UNSPECIFIED;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
    st = folio_job_state_parse(PQgetvalue(r, 0, 0));
  PQclear(r);
  return st;
}

/* ---- artifacts: a multipart upload fed while hashing ------------------------ */

struct sink {
  struct rp *rp;
  struct folio_s3_upload *up; /* NULL once finished/aborted */
  bool begun;
  struct sync s; /* the upload's done callback */
  int status;    /* the upload's result */
  char err[320];
  crypto_hash_sha256_state sha;
  uint64_t size;
  char name[32];
  char key[320];
  char sha_hex[65];
  int format;
  uint32_t page;
  const char *content_type;
};

static void sink_done(void *arg, const struct folio_s3_result *r) {
  struct sink *k = arg;
  k->status = r->status;
  if (r->status)
    snprintf(k->err, sizeof k->err, "S3 upload of %s: %s%s%s%s%s", k->name,
             folio_s3_strerror(r->status), r->error_code[0] ? " " : "", r->error_code,
             r->error_message[0] ? ": " : "", r->error_message);
  sync_signal(&k->s);
}

static int sink_begin(struct sink *k, struct rp *rp, const char *tenant, const char *job,
                      const char *name, int format, uint32_t page, const char *ctype) {
  memset(k, 0, sizeof *k);
  k->rp = rp;
  snprintf(k->name, sizeof k->name, "%s", name);
  snprintf(k->key, sizeof k->key, "%s/%s/%s", tenant, job, name);
  k->format = format;
  k->page = page;
  k->content_type = ctype;
  crypto_hash_sha256_init(&k->sha);
  sync_init(&k->s);
  int rc = folio_s3_upload_begin(rp->s3, k->key, ctype, sink_done, k, &k->up);
  if (rc) {
    snprintf(k->err, sizeof k->err, "S3 upload of %s: %s", name, folio_s3_strerror(rc));
    k->status = rc;
    k->up = NULL;
    sync_fini(&k->s);
    return rc;
  }
  k->begun = true;
  return 0;
}

static int sink_write(void *ctx, const unsigned char *data, size_t len) {
  struct sink *k = ctx;
  crypto_hash_sha256_update(&k->sha, data, len);
  k->size += len;
  int rc = folio_s3_upload_write(k->up, data, len);
  return rc ? -1 : 0;
}

/* Completes the upload and waits for S3's answer. 0 or the upload's error. */
static int sink_finish(struct sink *k) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&k->sha, h);
  sodium_bin2hex(k->sha_hex, sizeof k->sha_hex, h, sizeof h);
  folio_s3_upload_finish(k->up);
  k->up = NULL;
  sync_wait(&k->s);
  return k->status;
}

/* Abandons an unfinished upload (the multipart upload is aborted on S3). */
static void sink_abort(struct sink *k) {
  if (!k->begun || !k->up) return;
  folio_s3_upload_abort(k->up);
  k->up = NULL;
  sync_wait(&k->s);
}

struct del {
  struct sync s;
  int status;
};
static void del_done(void *arg, const struct folio_s3_result *r) {
  struct del *d = arg;
  d->status = r->status;
  sync_signal(&d->s);
}

static int s3_delete(struct rp *rp, const char *key) {
  struct del d;
  sync_init(&d.s);
  int rc = folio_s3_delete(rp->s3, key, del_done, &d);
  if (rc == 0) {
    sync_wait(&d.s);
    rc = d.status;
  }
  sync_fini(&d.s);
  return rc;
}

/* ---- one job ---------------------------------------------------------------- */

enum stop_reason { STOP_NONE = 0, STOP_CANCEL, STOP_LOST, STOP_SHUTDOWN };

struct job {
  struct rp *rp;
  const char *id;
  const char *entry;
  struct folio_job_claim cl;
  /* shared with the heartbeat thread */
  _Atomic int progress;  /* percent */
  _Atomic int stop;      /* enum stop_reason */
  pthread_mutex_t hb_mu;
  pthread_cond_t hb_cv; /* on CLOCK_MONOTONIC */
  bool hb_quit;
  bool poked; /* an event arrived on the job's channel: check for a cancel now */
  /* our own events on the channel not yet seen coming back (oldest first):
   * their echo is not a reason to poke */
  char echo[8][FOLIO_JOBS_EVENT_MAX];
  size_t echo_len[8];
  int nechoes;
  pthread_t hb_thread;
  /* progress accounting: format fi of nf, done/total inside it */
  size_t fi, nf;
  /* artifacts */
  struct sink **sinks; /* each malloc'd: S3 callbacks hold their address */
  size_t nsinks, capsinks;
  /* outcome */
  bool transient;
  char code[40];
  char msg[1024];
};

static void job_fail(struct job *j, bool transient, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void job_fail(struct job *j, bool transient, const char *code, const char *fmt, ...) {
  if (j->code[0]) return; /* the first failure is the one reported */
  j->transient = transient;
  snprintf(j->code, sizeof j->code, "%s", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->msg, sizeof j->msg, fmt, ap);
  va_end(ap);
}

static void job_publish(struct job *j, enum folio_job_state st, int progress);

/* Absolute CLOCK_MONOTONIC time ns from now, for hb_cv. */
static struct timespec mono_after_ns(int64_t ns) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ns += ts.tv_nsec;
  ts.tv_sec += ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

/* The heartbeat thread: every heartbeat_ms (the lease, progress, and the
 * fallback cancel poll), and at once when an event on the job's channel pokes
 * it (a cancel arrives as such an event: see job_subscribe). Either way one
 * folio_jobs_heartbeat call both records liveness and reads cancel_requested. */
static void *heartbeat_main(void *arg) {
  struct job *j = arg;
  struct rp *rp = j->rp;
  int last_published = -1;
  bool cancel_seen = false;
  pthread_mutex_lock(&j->hb_mu);
  struct timespec due = mono_after_ns((int64_t)rp->cfg->heartbeat_ms * 1000000);
  while (!j->hb_quit) {
    int w = 0;
    if (!j->poked) w = pthread_cond_timedwait(&j->hb_cv, &j->hb_mu, &due);
    if (j->hb_quit) break;
    bool poked = j->poked;
    j->poked = false;
    if (!poked && w != ETIMEDOUT) continue; /* spurious wake-up */
    pthread_mutex_unlock(&j->hb_mu);
    if (grace_over()) {
      int none = STOP_NONE;
      atomic_compare_exchange_strong(&j->stop, &none, STOP_SHUTDOWN);
    }
    int pr = atomic_load(&j->progress);
    bool cancel = false;
    struct folio_pg_diag d;
    int rc = db_connect(rp, &rp->hb_db, "folio-worker-heartbeat");
    if (rc == 0) rc = folio_jobs_heartbeat(rp->hb_db, j->id, j->cl.attempt, pr, &cancel, &d);
    if (rc == FOLIO_JOBS_EFENCED) {
      log_job(FOLIO_LOG_WARN, "claim lost (reaped or re-claimed); stopping", j->id, j->cl.attempt,
              NULL, NULL);
      atomic_store(&j->stop, STOP_LOST);
    } else if (rc == 0 && cancel) {
      int none = STOP_NONE;
      atomic_compare_exchange_strong(&j->stop, &none, STOP_CANCEL);
      if (!cancel_seen)
        log_job(FOLIO_LOG_INFO, "cancel requested; stopping the render", j->id, j->cl.attempt,
                "noticed_by", poked ? "event" : "heartbeat");
      cancel_seen = true;
    } else if (rc == 0 && pr != last_published) {
      job_publish(j, FOLIO_JOB_RUNNING, pr);
      last_published = pr;
    }
    pthread_mutex_lock(&j->hb_mu);
    due = mono_after_ns((int64_t)rp->cfg->heartbeat_ms * 1000000);
  }
  pthread_mutex_unlock(&j->hb_mu);
  return NULL;
}

/* ---- cancel events ------------------------------------------------------------
 * The server publishes on the job's channel (folio_jobs_channel) when a
 * RUNNING job is cancelled, so the render process subscribes for the duration
 * of a delivery (on its own client: rd_sub is in subscriber mode). Every
 * message pokes the heartbeat thread, which re-reads cancel_requested at once:
 * messages are hints and their content is not trusted (a watcher's rule
 * too). Our own events come back the same way and are recognised as echoes
 * (on_job_event), or every progress event would trigger another heartbeat,
 * which publishes the next progress... A lost message (Redis down,
 * or the subscription not yet active when the cancel was published) is
 * covered by the heartbeat itself, the fallback poll; a re-subscription after
 * a reconnect pokes too, since messages may have been missed meanwhile. */

struct job_sub {
  struct sync s;
  struct job *j;
  struct folio_redis_sub *sub; /* NULL: not subscribed */
  char channel[FOLIO_JOBS_CHANNEL_MAX];
};

static void echo_drop_first(struct job *j) {
  memmove(j->echo[0], j->echo[1], sizeof j->echo[0] * (size_t)(j->nechoes - 1));
  memmove(&j->echo_len[0], &j->echo_len[1], sizeof j->echo_len[0] * (size_t)(j->nechoes - 1));
  j->nechoes--;
}

/* Our own publications come back in the order we sent them (one publishing
 * connection, one channel), interleaved with others' messages: a message
 * equal to the oldest unseen one of ours is its echo. If another publisher's
 * identical message arrives first, it is taken for the echo, and our real
 * echo, arriving next, no longer matches and pokes: a foreign message always
 * pokes, at worst one echo later. */
static void on_job_event(struct folio_redis *r, int status, const char *channel, const char *msg,
                         size_t len, void *arg) {
  (void)r, (void)channel;
  struct job *j = arg;
  if (status != 0) return; /* the subscription's last call (unsubscribe) */
  pthread_mutex_lock(&j->hb_mu);
  if (msg && j->nechoes > 0 && len == j->echo_len[0] && memcmp(msg, j->echo[0], len) == 0) {
    echo_drop_first(j);
  } else {
    if (!msg) j->nechoes = 0; /* (re)subscribed: echoes may have been lost */
    j->poked = true;
    pthread_cond_signal(&j->hb_cv);
  }
  pthread_mutex_unlock(&j->hb_mu);
}

/* publish() for the job while it is subscribed: the message is noted as an
 * expected echo first (it may come back before PUBLISH's reply), and
 * forgotten again if it was not published. */
static void job_publish(struct job *j, enum folio_job_state st, int progress) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(j->id, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, j->id, st, progress);
  if (n < 0) return;
  pthread_mutex_lock(&j->hb_mu);
  if (j->nechoes == (int)(sizeof j->echo / sizeof j->echo[0])) echo_drop_first(j);
  int slot = j->nechoes++;
  memcpy(j->echo[slot], msg, (size_t)n);
  j->echo_len[slot] = (size_t)n;
  pthread_mutex_unlock(&j->hb_mu);
  struct rcall c = {.kind = R_PUBLISH, .a = ch, .b = msg, .blen = (size_t)n};
  if (rcall(j->rp, &c) == 0) return;
  log_job(FOLIO_LOG_WARN, "event not published", j->id, 0, "error", folio_redis_strerror(c.status));
  pthread_mutex_lock(&j->hb_mu); /* forget it: the newest entry equal to msg */
  for (int i = j->nechoes - 1; i >= 0; i--) {
    if (j->echo_len[i] != (size_t)n || memcmp(j->echo[i], msg, (size_t)n) != 0) continue;
    memmove(j->echo[i], j->echo[i + 1], sizeof j->echo[0] * (size_t)(j->nechoes - 1 - i));
    memmove(&j->echo_len[i], &j->echo_len[i + 1], sizeof j->echo_len[0] * (size_t)(j->nechoes - 1 - i));
    j->nechoes--;
    break;
  }
  pthread_mutex_unlock(&j->hb_mu);
}

static void subscribe_on_loop(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct job_sub *x = arg;
  if (folio_redis_subscribe(x->j->rp->rd_sub, x->channel, on_job_event, x->j, &x->sub) != 0)
    x->sub = NULL;
  sync_signal(&x->s);
}

static void unsubscribe_on_loop(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct job_sub *x = arg;
  folio_redis_unsubscribe(x->j->rp->rd_sub, x->sub); /* its last callback runs inside */
  sync_signal(&x->s);
}

/* Subscribes to j's channel; returns once the SUBSCRIBE is queued on the
 * subscriber connection (the claim that follows cannot overtake it). A
 * failure is only logged: the heartbeat still polls. */
static void job_subscribe(struct job_sub *x, struct job *j) {
  x->j = j;
  x->sub = NULL;
  folio_jobs_channel(j->id, x->channel);
  sync_init(&x->s);
  if (folio_loop_post(j->rp->loop, subscribe_on_loop, x) == 0) sync_wait(&x->s);
  sync_fini(&x->s);
  if (!x->sub)
    log_job(FOLIO_LOG_WARN, "cannot subscribe to the job's events; cancels wait for a heartbeat",
            j->id, 0, NULL, NULL);
}

/* Ends the subscription; on return no callback refers to j any more. */
static void job_unsubscribe(struct job_sub *x) {
  if (!x->sub) return;
  sync_init(&x->s);
  /* must run: until it has, a callback may still refer to j */
  while (folio_loop_post(x->j->rp->loop, unsubscribe_on_loop, x) != 0) usleep(1000);
  sync_wait(&x->s);
  sync_fini(&x->s);
  x->sub = NULL;
}

static int on_progress(void *ctx, size_t done, size_t total) {
  struct job *j = ctx;
  size_t inner = total ? done * 100 / total : 100;
  int pr = (int)((j->fi * 100 + inner) / (j->nf ? j->nf : 1));
  if (pr > 99) pr = 99; /* 100 is SUCCEEDED's */
  atomic_store(&j->progress, pr);
  if (grace_over()) {
    int none = STOP_NONE;
    atomic_compare_exchange_strong(&j->stop, &none, STOP_SHUTDOWN);
  }
  return atomic_load(&j->stop) != STOP_NONE;
}

static struct sink *add_sink(struct job *j) {
  if (j->nsinks == j->capsinks) {
    size_t cap = j->capsinks ? j->capsinks * 2 : 8;
    struct sink **n = realloc(j->sinks, cap * sizeof *n);
    if (!n) return NULL;
    j->sinks = n;
    j->capsinks = cap;
  }
  struct sink *k = malloc(sizeof *k);
  if (k) j->sinks[j->nsinks++] = k;
  return k;
}

/* Drops the newest sink, whose upload never began. */
static void drop_last_sink(struct job *j) { free(j->sinks[--j->nsinks]); }

/* Renders one whole-document format into one artifact. */
typedef int (*doc_renderer)(const struct folio_layout_doc *, const struct folio_render_options *,
                            folio_render_write_fn, void *, struct folio_render_diag *);

static void note_sink_error(struct job *j, struct sink *k) {
  if (k->status) job_fail(j, true, "STORE_UNAVAILABLE", "%s", k->err);
}

/* How a render error ends the attempt. E_WRITE: an upload failed (its own
 * error was noted first); E_CANCELLED: j->stop says why. */
static void note_render_error(struct job *j, int rc, const struct folio_render_diag *rd) {
  static const struct {
    int rc;
    bool transient;
    const char *code;
  } kinds[] = {
      {FOLIO_RENDER_E_WRITE, true, "STORE_UNAVAILABLE"},
      {FOLIO_RENDER_E_NOMEM, true, "OUT_OF_MEMORY"},
      {FOLIO_RENDER_E_OVERFLOW, false, "TEXT_OVERFLOW"},
      {FOLIO_RENDER_E_IMAGE, false, "INVALID_IMAGE"},
      {FOLIO_RENDER_E_ARG, false, "INVALID_ARGUMENT"},
  };
  if (rc == FOLIO_RENDER_E_CANCELLED) return;
  bool transient = false;
  const char *code = "RENDER_FAILED";
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].rc == rc) transient = kinds[i].transient, code = kinds[i].code;
  job_fail(j, transient, code, "%s", rd->message[0] ? rd->message : folio_render_strerror(rc));
}

static int render_doc(struct job *j, const struct folio_layout_doc *doc,
                      const struct folio_render_options *opt, doc_renderer fn, const char *name,
                      int format, const char *ctype) {
  struct sink *k = add_sink(j);
  if (!k) {
    job_fail(j, true, "OUT_OF_MEMORY", "no memory for an artifact");
    return -1;
  }
  if (sink_begin(k, j->rp, j->cl.tenant, j->id, name, format, 0, ctype)) {
    note_sink_error(j, k);
    drop_last_sink(j);
    return -1;
  }
  struct folio_render_diag rd = {0};
  int rc = fn(doc, opt, sink_write, k, &rd);
  if (rc) {
    sink_abort(k);
    if (rc == FOLIO_RENDER_E_WRITE) note_sink_error(j, k); /* else: our own abort */
    note_render_error(j, rc, &rd);
    return -1;
  }
  if (sink_finish(k)) {
    note_sink_error(j, k);
    return -1;
  }
  return 0;
}

struct png_ctx {
  struct job *j;
  struct sink *cur;
};

static int png_begin(void *ctx, size_t page, folio_render_write_fn *write, void **wctx) {
  struct png_ctx *p = ctx;
  struct sink *k = add_sink(p->j);
  if (!k) return -1;
  char name[32];
  snprintf(name, sizeof name, "page-%04zu.png", page + 1);
  if (sink_begin(k, p->j->rp, p->j->cl.tenant, p->j->id, name, FOLIO_FORMAT_PNG,
                 (uint32_t)(page + 1), "image/png")) {
    note_sink_error(p->j, k);
    drop_last_sink(p->j);
    return -1;
  }
  p->cur = k;
  *write = sink_write;
  *wctx = k;
  return 0;
}

static int png_end(void *ctx, size_t page) {
  (void)page;
  struct png_ctx *p = ctx;
  struct sink *k = p->cur;
  p->cur = NULL;
  if (sink_finish(k)) {
    note_sink_error(p->j, k);
    return -1;
  }
  return 0;
}

/* Deletes every object this attempt created or started (partial uploads were
 * aborted already). */
static void remove_artifacts(struct job *j) {
  for (size_t i = 0; i < j->nsinks; i++) {
    struct sink *k = j->sinks[i];
    int rc = s3_delete(j->rp, k->key);
    if (rc)
      log_job(FOLIO_LOG_WARN, "could not delete a partial artifact", j->id, j->cl.attempt, "key",
              k->key);
  }
}

static void render_all(struct job *j) {
  struct folio_layout_doc *doc = NULL;
  struct folio_layout_diag ld = {0};
  int rc = folio_layout_decode((const char *)j->cl.layout, j->cl.layout_len, NULL, &doc, &ld);
  if (rc) {
    char *why = rc == FOLIO_LAYOUT_EINVAL ? folio_layout_diag_join(&ld) : NULL;
    if (rc == FOLIO_LAYOUT_EINVAL) job_fail(j, false, "INVALID_LAYOUT", "%s", why ? why : "invalid layout");
    else job_fail(j, true, "OUT_OF_MEMORY", "out of memory decoding the layout");
    free(why);
    folio_layout_diag_clear(&ld);
    return;
  }
  struct folio_render_options opt = {.dpi = (unsigned)j->cl.png_dpi,
                                     .threads = (unsigned)j->rp->cfg->render_threads,
                                     .progress = on_progress,
                                     .progress_ctx = j};
  size_t *pages = NULL;
  if (j->cl.page_range && *j->cl.page_range) {
    struct folio_render_diag rd = {0};
    if (folio_render_pages_parse(j->cl.page_range, doc->n_pages, &pages, &opt.n_pages, &rd)) {
      job_fail(j, false, "INVALID_ARGUMENT", "page_range: %s", rd.message);
      folio_layout_doc_free(doc);
      return;
    }
    opt.pages = pages;
  }
  bool want[4] = {false};
  for (size_t i = 0; i < j->cl.nformats; i++)
    if (j->cl.formats[i] >= 1 && j->cl.formats[i] <= 3) want[j->cl.formats[i]] = true;
  j->nf = (size_t)want[1] + want[2] + want[3];
  j->fi = 0;
  /* output order: the PDF, the PNG pages, the SLA (folio.v1.JobStatus) */
  if (want[FOLIO_FORMAT_PDF]) {
    if (render_doc(j, doc, &opt, folio_render_pdf, "document.pdf", FOLIO_FORMAT_PDF,
                   "application/pdf"))
      goto out;
    j->fi++;
  }
  if (want[FOLIO_FORMAT_PNG]) {
    struct png_ctx p = {.j = j};
    struct folio_render_diag rd = {0};
    rc = folio_render_png(doc, &opt, png_begin, png_end, &p, &rd);
    if (rc) {
      if (p.cur) {
        sink_abort(p.cur);
        if (rc == FOLIO_RENDER_E_WRITE) note_sink_error(j, p.cur);
      }
      note_render_error(j, rc, &rd);
      goto out;
    }
    j->fi++;
  }
  if (want[FOLIO_FORMAT_SLA]) {
    if (render_doc(j, doc, &opt, folio_render_sla, "document.sla", FOLIO_FORMAT_SLA,
                   "application/vnd.scribus"))
      goto out;
    j->fi++;
  }
out:
  free(pages);
  folio_layout_doc_free(doc);
}

static void tell_supervisor(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell_supervisor(const char *fmt, ...) {
  char buf[FOLIO_WORKER_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < sizeof buf) {
    ssize_t w;
    do w = write(FOLIO_WORKER_PIPE_FD, buf, (size_t)n);
    while (w < 0 && errno == EINTR);
  }
}

/* Records the outcome of a claimed attempt, then acks or leaves the entry. */
static void finish_job(struct job *j) {
  struct rp *rp = j->rp;
  struct folio_pg_diag d = {0};
  int stop = atomic_load(&j->stop);
  int rc;
  /* The grace period may run out after the render already ended. A render
   * that wrote every format is recorded as done, and a deterministic failure
   * as failed: handing either back would delete finished artifacts and render
   * the job again elsewhere (or fail it again there). */
  if (stop == STOP_SHUTDOWN &&
      ((!j->code[0] && j->nf > 0 && j->fi == j->nf) || (j->code[0] && !j->transient)))
    stop = STOP_NONE;
  if (stop == STOP_NONE && !j->code[0]) {
    struct folio_job_artifact *arts = calloc(j->nsinks ? j->nsinks : 1, sizeof *arts);
    for (size_t i = 0; arts && i < j->nsinks; i++) {
      struct sink *k = j->sinks[i];
      arts[i] = (struct folio_job_artifact){k->name, k->format, k->page, k->size, k->sha_hex,
                                            k->content_type, k->key};
    }
    rc = arts ? db_connect(rp, &rp->db, "folio-worker") : FOLIO_PG_ENOMEM;
    if (rc == 0) rc = folio_jobs_succeed(rp->db, j->id, j->cl.attempt, arts, j->nsinks, &d);
    free(arts);
    if (rc == 0) {
      log_job(FOLIO_LOG_INFO, "job succeeded", j->id, j->cl.attempt, NULL, NULL);
      publish(rp, j->id, FOLIO_JOB_SUCCEEDED, 100);
      ack(rp, j->entry, j->id);
      return;
    }
    if (rc == FOLIO_JOBS_EFENCED) {
      /* a cancel arrived, or the claim was lost: find out which */
      bool cancel = false;
      if (folio_jobs_heartbeat(rp->db, j->id, j->cl.attempt, -1, &cancel, &d) == 0 && cancel)
        stop = STOP_CANCEL;
      else
        stop = STOP_LOST;
    } else {
      job_fail(j, true, "DATABASE_UNAVAILABLE", "recording the artifacts: %s", d.msg);
    }
  }
  if (stop == STOP_LOST) {
    /* another attempt owns the job (and the same object keys): touch nothing */
    log_job(FOLIO_LOG_WARN, "claim lost; leaving the job to its current attempt", j->id,
            j->cl.attempt, NULL, NULL);
    return;
  }
  remove_artifacts(j);
  rc = db_connect(rp, &rp->db, "folio-worker");
  if (stop == STOP_CANCEL) {
    if (rc == 0) rc = folio_jobs_cancel_confirm(rp->db, j->id, j->cl.attempt, &d);
    if (rc == 0) {
      log_job(FOLIO_LOG_INFO, "job canceled", j->id, j->cl.attempt, NULL, NULL);
      publish(rp, j->id, FOLIO_JOB_CANCELED, atomic_load(&j->progress));
      ack(rp, j->entry, j->id);
    } else {
      log_job(FOLIO_LOG_WARN, "cancel not confirmed; the lease will expire", j->id, j->cl.attempt,
              "error", d.msg);
    }
    return;
  }
  enum folio_job_state st = FOLIO_JOB_UNSPECIFIED;
  if (stop == STOP_SHUTDOWN) {
    /* handed back, not failed: the attempt does not count (folio_jobs_release) */
    if (rc == 0)
      rc = folio_jobs_release(rp->db, j->id, j->cl.attempt,
                              "WORKER_SHUTDOWN: the worker shut down before the attempt finished "
                              "(grace period over)",
                              &st, &d);
    if (rc) {
      log_job(FOLIO_LOG_WARN, "hand-back not recorded; the heartbeat lease will expire", j->id,
              j->cl.attempt, "error", d.msg);
      return;
    }
    log_job(FOLIO_LOG_INFO, "job handed back (shutdown)", j->id, j->cl.attempt, "state",
            folio_job_state_name(st));
    publish(rp, j->id, st, atomic_load(&j->progress));
    if (st == FOLIO_JOB_QUEUED) redeliver_after(rp, j->entry, 0); /* to another consumer now */
    else ack(rp, j->entry, j->id);
    return;
  }
  if (rc == 0) rc = folio_jobs_fail(rp->db, j->id, j->cl.attempt, j->transient, j->code, j->msg, &st, &d);
  if (rc) {
    log_job(FOLIO_LOG_WARN, "failure not recorded; the heartbeat lease will expire", j->id,
            j->cl.attempt, "error", d.msg);
    return;
  }
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_WARN, "attempt failed");
  folio_log_str(&l, "job_id", j->id);
  folio_log_int(&l, "attempt", j->cl.attempt);
  folio_log_str(&l, "code", j->code);
  folio_log_str(&l, "error", j->msg);
  folio_log_str(&l, "state", folio_job_state_name(st));
  folio_log_end(&l);
  publish(rp, j->id, st, atomic_load(&j->progress));
  if (st == FOLIO_JOB_QUEUED) {
    redeliver_after(rp, j->entry,
                    folio_worker_backoff_ms(j->cl.attempt, 250, rp->cfg->visibility_timeout_ms));
  } else {
    ack(rp, j->entry, j->id);
  }
}

static void run_job(struct rp *rp, const char *entry, const char *job_id) {
  struct folio_arena *arena = folio_arena_create(0);
  if (!arena) return;
  struct job j = {.rp = rp, .id = job_id, .entry = entry};
  pthread_mutex_init(&j.hb_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* heartbeat_main's deadlines */
  pthread_cond_init(&j.hb_cv, &ca);
  pthread_condattr_destroy(&ca);
  /* before the claim, so a cancel of the running job cannot slip in between */
  struct job_sub sub = {0};
  if (folio_uuid_valid(job_id)) job_subscribe(&sub, &j);
  struct folio_pg_diag d = {0};
  int rc = db_connect(rp, &rp->db, "folio-worker");
  if (rc == 0) rc = folio_jobs_claim(rp->db, job_id, rp->consumer, arena, &j.cl, &d);
  if (rc == FOLIO_JOBS_ENOTFOUND || rc == FOLIO_JOBS_EINVAL) {
    log_job(FOLIO_LOG_WARN, "dispatched job does not exist; dropping the entry", job_id, 0, "error",
            d.msg);
    ack(rp, entry, job_id);
  } else if (rc == FOLIO_JOBS_EFENCED) {
    enum folio_job_state st = job_state(rp, job_id);
    if (st == FOLIO_JOB_RUNNING) {
      /* its owner acks it; if the owner died, the lease expires, the job is
       * re-queued, and this entry comes back */
      log_job(FOLIO_LOG_DEBUG, "duplicate delivery of a running job; left pending", job_id, 0,
              NULL, NULL);
    } else {
      log_job(FOLIO_LOG_INFO, "duplicate delivery; skipped", job_id, 0, "state",
              folio_job_state_name(st));
      if (st != FOLIO_JOB_UNSPECIFIED) ack(rp, entry, job_id);
    }
  } else if (rc) {
    rp->pg_failures++;
    log_job(FOLIO_LOG_WARN, "claim failed; will retry", job_id, 0, "error", d.msg);
    usleep((useconds_t)folio_worker_backoff_ms(rp->pg_failures, 100, 5000) * 1000);
  } else {
    rp->pg_failures = 0;
    log_job(FOLIO_LOG_INFO, "job claimed", job_id, j.cl.attempt, "tenant", j.cl.tenant);
    tell_supervisor("B %s %d\n", job_id, j.cl.attempt);
    job_publish(&j, FOLIO_JOB_RUNNING, 0);
    bool hb = spawn_quiet(&j.hb_thread, heartbeat_main, &j) == 0;
    if (!hb) job_fail(&j, true, "OUT_OF_MEMORY", "could not start the heartbeat thread");
    else render_all(&j);
    if (hb) {
      pthread_mutex_lock(&j.hb_mu);
      j.hb_quit = true;
      pthread_cond_signal(&j.hb_cv);
      pthread_mutex_unlock(&j.hb_mu);
      pthread_join(j.hb_thread, NULL);
    }
    finish_job(&j);
    tell_supervisor("E\n");
    for (size_t i = 0; i < j.nsinks; i++) {
      sync_fini(&j.sinks[i]->s);
      free(j.sinks[i]);
    }
    free(j.sinks);
  }
  job_unsubscribe(&sub);
  pthread_mutex_destroy(&j.hb_mu);
  pthread_cond_destroy(&j.hb_cv);
  folio_arena_destroy(arena);
}

/* ---- set-up and the main loop --------------------------------------------------- */

static void *loop_main(void *arg) {
  folio_loop_run(arg);
  return NULL;
}

struct bucket_wait {
  struct sync s;
  int status;
  char err[320];
};
static void bucket_done(void *arg, const struct folio_s3_result *r) {
  struct bucket_wait *b = arg;
  b->status = r->status;
  snprintf(b->err, sizeof b->err, "%s %s %s", folio_s3_strerror(r->status), r->error_code,
           r->error_message);
  sync_signal(&b->s);
}

static void stop_loop(struct folio_loop *loop, void *arg) {
  struct rp *rp = arg;
  folio_s3_client_destroy(rp->s3);
  folio_redis_destroy(rp->rd_block);
  folio_redis_destroy(rp->rd);
  folio_redis_destroy(rp->rd_sub);
  folio_loop_stop(loop);
}

int folio_worker_render_main(const struct folio_worker_config *cfg) {
  g_grace_ms = cfg->shutdown_grace_ms;
  /* Part buffers (8 MiB) and PNG pages are big, short-lived allocations: keep
   * them on mmap so a free returns the memory at once. glibc's default raises
   * the threshold after the first such free, and the heap then keeps the peak
   * (measured: 80 MiB instead of 42 MiB peak RSS for a 99 MiB artifact). */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  /* SIGTERM is taken by the main thread only (SA_RESTART): the loop and
   * heartbeat threads start with it blocked, so epoll_wait and libpq are never
   * interrupted. */
  struct sigaction sa = {.sa_handler = on_term, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return FOLIO_WORKER_EXIT_FATAL;

  struct rp rp = {.cfg = cfg};
  char host[64] = "worker";
  if (!cfg->worker_name) gethostname(host, sizeof host - 1);
  snprintf(rp.consumer, sizeof rp.consumer, "%s-%d", cfg->worker_name ? cfg->worker_name : host,
           cfg->child_slot);
  rp.loop = folio_loop_create();
  if (!rp.loop) return 1;
  char err[320];
  struct folio_redis_config rc = {.url = cfg->redis_url, .backoff_max_ms = 1000};
  if (folio_redis_create(rp.loop, &rc, &rp.rd_block, err, sizeof err) ||
      folio_redis_create(rp.loop, &rc, &rp.rd, err, sizeof err) ||
      folio_redis_create(rp.loop, &rc, &rp.rd_sub, err, sizeof err)) {
    log_job(FOLIO_LOG_ERROR, "bad Redis configuration", NULL, 0, "error", err);
    return FOLIO_WORKER_EXIT_FATAL;
  }
  rp.s3 = folio_s3_client_create(&cfg->s3, rp.loop, err, sizeof err);
  if (!rp.s3) {
    log_job(FOLIO_LOG_ERROR, "bad S3 configuration", NULL, 0, "error", err);
    return FOLIO_WORKER_EXIT_FATAL;
  }
  if (spawn_quiet(&rp.loop_thread, loop_main, rp.loop)) return 1;

  struct bucket_wait bw;
  sync_init(&bw.s);
  if (folio_s3_ensure_bucket(rp.s3, bucket_done, &bw) == 0) {
    sync_wait(&bw.s);
    if (bw.status)
      log_job(FOLIO_LOG_WARN, "S3 bucket check failed (uploads will retry)", NULL, 0, "error",
              bw.err);
  }
  sync_fini(&bw.s);
  struct rcall g = {.kind = R_GROUP};
  if (rcall(&rp, &g) != 0 && !strstr(g.err, "BUSYGROUP"))
    log_job(FOLIO_LOG_WARN, "creating the consumer group failed (retried when reading)", NULL, 0,
            "error", g.err[0] ? g.err : folio_redis_strerror(g.status));

  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "render process ready");
  folio_log_str(&l, "consumer", rp.consumer);
  folio_log_int(&l, "pid", getpid());
  folio_log_end(&l);

  int redis_failures = 0;
  while (!g_term) {
    struct rcall c = {.kind = R_READ};
    int64_t now = folio_clock_mono_ns();
    /* re-deliveries first: entries left by dead or slow consumers, and ours
     * after a transient failure */
    if (now - rp.last_reclaim_ns > (int64_t)cfg->heartbeat_ms * 1000000) {
      c.kind = R_RECLAIM;
      rp.last_reclaim_ns = now;
    }
    int st = rcall(&rp, &c);
    if (st == 0 && c.n == 0 && c.kind == R_RECLAIM) {
      c.kind = R_READ;
      st = rcall(&rp, &c);
    }
    if (st != 0) {
      if (st == FOLIO_REDIS_EREPLY && strstr(c.err, "NOGROUP")) {
        struct rcall gc = {.kind = R_GROUP};
        rcall(&rp, &gc);
      }
      redis_failures++;
      if (redis_failures == 1 || redis_failures % 20 == 0)
        log_job(FOLIO_LOG_WARN, "reading the dispatch stream failed", NULL, 0, "error",
                c.err[0] ? c.err : folio_redis_strerror(st));
      usleep((useconds_t)folio_worker_backoff_ms(redis_failures, 50, 2000) * 1000);
      continue;
    }
    redis_failures = 0;
    if (c.n == 0) continue;
    run_job(&rp, c.entry_id, c.job_id);
  }
  log_job(FOLIO_LOG_INFO, "render process stopping", NULL, 0, "consumer", rp.consumer);
  folio_loop_post(rp.loop, stop_loop, &rp);
  pthread_join(rp.loop_thread, NULL);
  folio_loop_destroy(rp.loop);
  folio_pg_conn_close(rp.db);
  folio_pg_conn_close(rp.hb_db);
  return 0;
}

