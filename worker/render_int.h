/* The render process's files and what they share (docs/internals/worker.md).
 *
 *   render_proc.c  the process: signals, set-up, the read loop   main thread
 *   rcall.c        the bridge to the loop thread (rcall)          any thread -> loop
 *   sink.c         an artifact: S3 multipart upload while hashing main thread
 *   heartbeat.c    heartbeat, lease, cancel events                heartbeat thread + loop
 *   job.c          one job: claim, render, record the outcome     main thread
 *   rules.c        the decisions, pure (rules.h)                  none
 *
 * Ownership: struct rp lives on render_main's stack for the process's life;
 * struct job on run_job's stack for one delivery (the heartbeat thread and
 * the subscription's callback borrow it until they are joined/ended). */
#ifndef FOLIO_WORKER_RENDER_INT_H
#define FOLIO_WORKER_RENDER_INT_H

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/jobs.h"
#include "folio/log.h"
#include "folio/loop.h"
#include "folio/pg.h"
#include "folio/redis.h"
#include "folio/s3.h"
#include "rules.h"
#include "worker_int.h"

/* ---- render_proc.c: the process ---------------------------------------------- */

struct rp {
  const struct worker_config *cfg;
  struct folio_loop *loop;
  pthread_t loop_thread;
  struct folio_redis *rd_block; /* XREADGROUP BLOCK only */
  struct folio_redis *rd;       /* everything else */
  struct folio_redis *rd_sub;   /* subscriber mode: the running job's events */
  struct folio_s3_client *s3;
  struct folio_pg_conn *db;    /* main thread */
  struct folio_pg_conn *hb_db; /* heartbeat thread */
  char consumer[160];
  /* The render cache (folio/render_cache.h): this process's renderer
   * fingerprint (hex; "" when it could not be described - then no entry is
   * recorded), registered in PostgreSQL before the first entry. Main thread. */
  char renderer_hex[65];
  char *renderer_desc; /* malloc'd folio_render_describe(), versions only */
  bool renderer_registered;
  int64_t last_reclaim_ns;
  int pg_failures; /* consecutive, for the local backoff */
};

/* True once SIGTERM's grace period (FOLIO_SHUTDOWN_GRACE_MS) ran out: running
 * work is handed back. Any thread. */
bool worker_grace_over(void);
/* pthread_create with SIGTERM/SIGINT blocked in the new thread, so only the
 * main thread takes them. */
int worker_spawn_quiet(pthread_t *t, void *(*fn)(void *), void *arg);
/* One log line with pid, and job/attempt/key=val when given. Any thread. */
void worker_log_job(enum folio_log_level lv, const char *msg, const char *job, int attempt,
                    const char *key, const char *val);
/* Connects *c (or resets it) if it is not healthy. 0 or FOLIO_PG_ECONNECT
 * (logged). The thread that owns *c. */
int worker_db_connect(struct rp *rp, struct folio_pg_conn **c, const char *app);

/* ---- cache.c: the render cache (folio/render_cache.h) ----------------------------- */

/* Describes this process's renderer (folio_render_describe) and hashes it
 * into rp->renderer_hex; on failure the process records no cache entries. */
void worker_renderer_init(struct rp *rp);
void worker_renderer_fini(struct rp *rp);
/* The fingerprint to record a SUCCEEDED job's cache entry under, registered
 * in PostgreSQL on first use (rp->db must be connected); NULL: record none. */
const char *worker_renderer_for_entry(struct rp *rp);
/* Deletion safety: deletable[i] = no artifacts row of any job refers to
 * keys[i] (a cache hit shares its source job's objects). All false when
 * that cannot be established (the objects then stay: a leak, never a dead
 * artifact). 0 or the database error. */
int worker_objects_deletable(struct rp *rp, const char *const *keys, size_t n, bool *deletable);

/* ---- rcall.c: waiting for a callback on the loop thread ------------------------- */

struct sync {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
};

void worker_sync_init(struct sync *s);
void worker_sync_fini(struct sync *s);
void worker_sync_signal(struct sync *s);
void worker_sync_wait(struct sync *s);

/* The Redis calls of a render process; the dispatch ones are
 * folio/dispatch.h's. */
enum rkind { R_READ, R_RECLAIM, R_ACK, R_PUBLISH, R_REDELIVER, R_GROUP };

struct rcall {
  struct sync s;
  struct rp *rp;
  enum rkind kind;
  const char *a, *b; /* entry id / job id / channel / message */
  size_t blen;
  int num; /* R_REDELIVER: the delay, ms */
  int status;
  size_t n;
  char entry_id[64];
  char job_id[64];
  char err[256];
};

/* Runs one Redis call on the loop thread and waits for its outcome (never
 * from the loop thread). Returns c->status. */
int worker_rcall(struct rp *rp, struct rcall *c);
/* Publishes a job event; a hint, so a failure is only logged. */
void worker_publish(struct rp *rp, const char *job, enum folio_job_state st, int progress);
void worker_ack(struct rp *rp, const char *entry, const char *job);
/* Makes the pending entry re-deliverable after delay_ms. */
void worker_redeliver_after(struct rp *rp, const char *entry, int delay_ms);

/* ---- sink.c: an artifact ------------------------------------------------------------ */

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

int worker_sink_begin(struct sink *k, struct rp *rp, const char *tenant_id, const char *job,
                      const char *name, int format, uint32_t page, const char *ctype);
/* A folio_render_write_fn: hashes, counts and uploads. */
int worker_sink_write(void *ctx, const unsigned char *data, size_t len);
int worker_sink_finish(struct sink *k);
void worker_sink_abort(struct sink *k);
int worker_s3_delete(struct rp *rp, const char *key);

/* ---- job.c / heartbeat.c: one job ------------------------------------------------------ */

struct job {
  struct rp *rp;
  const char *id;
  const char *entry;
  struct folio_job_claim cl;
  struct folio_arena *arena; /* the claim's and the unpacked layout's; worker_run_job's */
  /* the job's budget (the process's with the tenant's overrides, budget.h),
   * set while render_all runs */
  const struct worker_budget *budget;
  /* shared with the heartbeat thread */
  _Atomic int progress;  /* percent */
  _Atomic int stop;      /* enum worker_stop */
  pthread_mutex_t hb_mu;
  pthread_cond_t hb_cv; /* on CLOCK_MONOTONIC */
  bool hb_quit;
  bool poked; /* an event arrived on the job's channel: check for a cancel now */
  /* our own events on the channel not yet seen coming back: their echo is
   * not a reason to poke (rules.h) */
  struct worker_echoes echoes;
  pthread_t hb_thread;
  /* progress accounting: format fi of nf, done/total inside it */
  size_t fi, nf;
  /* artifacts */
  struct sink **sinks; /* each malloc'd: S3 callbacks hold their address */
  size_t nsinks, capsinks;
  /* outcome */
  struct worker_failure fail; /* the first failure (rules.h) */
  /* what the stages reported (folio/findings.h), recorded with the outcome */
  struct folio_findings findings;
};

struct job_sub {
  struct sync s;
  struct job *j;
  struct folio_redis_sub *sub; /* NULL: not subscribed */
  char channel[FOLIO_JOBS_CHANNEL_MAX];
};

/* The heartbeat thread's body (arg: the struct job). */
void *worker_heartbeat_main(void *arg);
/* Publishes an event of j, noted first as an expected echo. */
void worker_job_publish(struct job *j, enum folio_job_state st, int progress);
void worker_job_subscribe(struct job_sub *x, struct job *j);
void worker_job_unsubscribe(struct job_sub *x);
/* One delivery: claim, render, record the outcome, ack or leave the entry. */
void worker_run_job(struct rp *rp, const char *entry, const char *job_id);

#endif
