/* The bridge to the loop thread: the main and heartbeat threads run Redis
 * commands by posting a function to the loop (folio_loop_post) and waiting on
 * a condition variable (struct sync) for the command's callback. Every
 * started command calls back exactly once (folio/redis.h), also when the
 * connection drops, so a wait always ends.
 *
 * Threads: worker_rcall and its wrappers on any thread but the loop thread
 * (they block on it); rcall_run and the callbacks on the loop thread. The
 * struct rcall is the caller's (on its stack) and is only touched by the loop
 * thread between the post and the signal. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "folio/dispatch.h"
#include "render_int.h"

void worker_sync_init(struct sync *s) {
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->done = false;
}
void worker_sync_fini(struct sync *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}
void worker_sync_signal(struct sync *s) {
  pthread_mutex_lock(&s->mu);
  s->done = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}
void worker_sync_wait(struct sync *s) {
  pthread_mutex_lock(&s->mu);
  while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
}
/* ---- Redis calls from the main and heartbeat threads ------------------------- */

static void rcall_reply(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  (void)r;
  struct rcall *c = arg;
  c->status = status;
  if (status == FOLIO_REDIS_EREPLY && rep && rep->str)
    snprintf(c->err, sizeof c->err, "%s", rep->str);
  worker_sync_signal(&c->s);
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
  worker_sync_signal(&c->s);
}

static void rcall_run(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct rcall *c = arg;
  struct rp *rp = c->rp;
  int rc;
  switch (c->kind) {
  case R_READ:
    rc = folio_dispatch_read(rp->rd_block, rp->consumer, 1000, rcall_entries, c);
    break;
  case R_RECLAIM:
    rc = folio_dispatch_reclaim(rp->rd, rp->consumer, rp->cfg->visibility_timeout_ms,
                                rcall_entries, c);
    break;
  case R_ACK:
    rc = folio_dispatch_ack(rp->rd, c->a, rcall_reply, c);
    break;
  case R_PUBLISH:
    rc = folio_redis_publish(rp->rd, c->a, c->b, c->blen, rcall_reply, c);
    break;
  case R_REDELIVER:
    rc = folio_dispatch_redeliver_after(rp->rd, rp->consumer, c->a, c->num,
                                        rp->cfg->visibility_timeout_ms, rcall_reply, c);
    break;
  case R_GROUP:
  default:
    rc = folio_dispatch_group_create(rp->rd, rcall_reply, c);
    break;
  }
  if (rc != 0) {
    c->status = rc;
    worker_sync_signal(&c->s);
  }
}

/* Runs one Redis call on the loop thread and waits for its outcome. Every
 * command that starts calls back exactly once (folio/redis.h), also when the
 * connection drops, so the wait ends. */
int worker_rcall(struct rp *rp, struct rcall *c) {
  worker_sync_init(&c->s);
  c->rp = rp;
  c->status = FOLIO_REDIS_EDOWN;
  c->err[0] = '\0';
  c->n = 0;
  if (folio_loop_post(rp->loop, rcall_run, c) != 0) {
    worker_sync_fini(&c->s);
    return FOLIO_REDIS_ENOMEM;
  }
  worker_sync_wait(&c->s);
  worker_sync_fini(&c->s);
  return c->status;
}

/* Publishes a job event; a hint, so a failure is only logged. */
void worker_publish(struct rp *rp, const char *job, enum folio_job_state st, int progress) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job, st, progress);
  if (n < 0) return;
  struct rcall c = {.kind = R_PUBLISH, .a = ch, .b = msg, .blen = (size_t)n};
  if (worker_rcall(rp, &c) != 0)
    worker_log_job(FOLIO_LOG_WARN, "event not published", job, 0, "error", folio_redis_strerror(c.status));
}

void worker_ack(struct rp *rp, const char *entry, const char *job) {
  struct rcall c = {.kind = R_ACK, .a = entry};
  if (worker_rcall(rp, &c) != 0)
    worker_log_job(FOLIO_LOG_WARN, "XACK failed; the entry will be re-delivered and skipped", job, 0,
            "error", c.err[0] ? c.err : folio_redis_strerror(c.status));
}

/* Makes the pending entry re-deliverable after delay_ms
 * (folio_dispatch_redeliver_after). */
void worker_redeliver_after(struct rp *rp, const char *entry, int delay_ms) {
  struct rcall c = {.kind = R_REDELIVER, .a = entry, .num = delay_ms};
  if (worker_rcall(rp, &c) != 0)
    worker_log_job(FOLIO_LOG_WARN, "XCLAIM IDLE failed; re-delivery after the visibility timeout", NULL,
            0, "error", c.err[0] ? c.err : folio_redis_strerror(c.status));
}
