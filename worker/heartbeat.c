/* During a job: the heartbeat thread (lease, progress, the fallback cancel
 * poll) and the job's event subscription (a cancel arrives as an event; our
 * own events come back as echoes and are recognised).
 *
 * Threads: heartbeat_main on its own thread with its own PostgreSQL
 * connection (rp->hb_db); on_job_event and (un)subscribe_on_loop on the loop
 * thread; worker_job_publish and worker_job_(un)subscribe on the main or
 * heartbeat thread. What they share in struct job (poked, hb_quit, the echo
 * queue) is under j->hb_mu; progress and stop are atomics. The job is
 * borrowed: run_job joins the thread and ends the subscription before it
 * goes. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "render_int.h"


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
void *worker_heartbeat_main(void *arg) {
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
    if (worker_grace_over()) {
      int none = WORKER_STOP_NONE;
      atomic_compare_exchange_strong(&j->stop, &none, WORKER_STOP_SHUTDOWN);
    }
    int pr = atomic_load(&j->progress);
    bool cancel = false;
    struct folio_pg_diag d;
    int rc = worker_db_connect(rp, &rp->hb_db, "folio-worker-heartbeat");
    if (rc == 0) rc = folio_jobs_heartbeat(rp->hb_db, j->id, j->cl.attempt, pr, &cancel, &d);
    if (rc == FOLIO_JOBS_EFENCED) {
      worker_log_job(FOLIO_LOG_WARN, "claim lost (reaped or re-claimed); stopping", j->id, j->cl.attempt,
              NULL, NULL);
      atomic_store(&j->stop, WORKER_STOP_LOST);
    } else if (rc == 0 && cancel) {
      int none = WORKER_STOP_NONE;
      atomic_compare_exchange_strong(&j->stop, &none, WORKER_STOP_CANCEL);
      if (!cancel_seen)
        worker_log_job(FOLIO_LOG_INFO, "cancel requested; stopping the render", j->id, j->cl.attempt,
                "noticed_by", poked ? "event" : "heartbeat");
      cancel_seen = true;
    } else if (rc == 0 && pr != last_published) {
      worker_job_publish(j, FOLIO_JOB_RUNNING, pr);
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

/* Every message pokes the heartbeat unless it is the echo of one of ours
 * (worker_echo_is_ours: the rule and its limits are in rules.h). */
static void on_job_event(struct folio_redis *r, int status, const char *channel, const char *msg,
                         size_t len, void *arg) {
  (void)r, (void)channel;
  struct job *j = arg;
  if (status != 0) return; /* the subscription's last call (unsubscribe) */
  pthread_mutex_lock(&j->hb_mu);
  if (!worker_echo_is_ours(&j->echoes, msg, len)) {
    j->poked = true;
    pthread_cond_signal(&j->hb_cv);
  }
  pthread_mutex_unlock(&j->hb_mu);
}

/* worker_publish() for the job while it is subscribed: the message is noted as an
 * expected echo first (it may come back before PUBLISH's reply), and
 * forgotten again if it was not published. */
void worker_job_publish(struct job *j, enum folio_job_state st, int progress) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(j->id, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, j->id, st, progress);
  if (n < 0) return;
  pthread_mutex_lock(&j->hb_mu);
  worker_echo_expect(&j->echoes, msg, (size_t)n);
  pthread_mutex_unlock(&j->hb_mu);
  struct rcall c = {.kind = R_PUBLISH, .a = ch, .b = msg, .blen = (size_t)n};
  if (worker_rcall(j->rp, &c) == 0) return;
  worker_log_job(FOLIO_LOG_WARN, "event not published", j->id, 0, "error", folio_redis_strerror(c.status));
  pthread_mutex_lock(&j->hb_mu);
  worker_echo_forget(&j->echoes, msg, (size_t)n);
  pthread_mutex_unlock(&j->hb_mu);
}

static void subscribe_on_loop(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct job_sub *x = arg;
  if (folio_redis_subscribe(x->j->rp->rd_sub, x->channel, on_job_event, x->j, &x->sub) != 0)
    x->sub = NULL;
  worker_sync_signal(&x->s);
}

static void unsubscribe_on_loop(struct folio_loop *loop, void *arg) {
  (void)loop;
  struct job_sub *x = arg;
  folio_redis_unsubscribe(x->j->rp->rd_sub, x->sub); /* its last callback runs inside */
  worker_sync_signal(&x->s);
}

/* Subscribes to j's channel; returns once the SUBSCRIBE is queued on the
 * subscriber connection (the claim that follows cannot overtake it). A
 * failure is only logged: the heartbeat still polls. */
void worker_job_subscribe(struct job_sub *x, struct job *j) {
  x->j = j;
  x->sub = NULL;
  folio_jobs_channel(j->id, x->channel);
  worker_sync_init(&x->s);
  if (folio_loop_post(j->rp->loop, subscribe_on_loop, x) == 0) worker_sync_wait(&x->s);
  worker_sync_fini(&x->s);
  if (!x->sub)
    worker_log_job(FOLIO_LOG_WARN, "cannot subscribe to the job's events; cancels wait for a heartbeat",
            j->id, 0, NULL, NULL);
}

/* Ends the subscription; on return no callback refers to j any more. */
void worker_job_unsubscribe(struct job_sub *x) {
  if (!x->sub) return;
  worker_sync_init(&x->s);
  /* must run: until it has, a callback may still refer to j */
  while (folio_loop_post(x->j->rp->loop, unsubscribe_on_loop, x) != 0) usleep(1000);
  worker_sync_wait(&x->s);
  worker_sync_fini(&x->s);
  x->sub = NULL;
}
