/* The job pipeline end to end on real PostgreSQL and Redis, with the pieces
 * the server and the worker will use: submit (async, group commit) →
 * dispatch on the stream → a worker reads, claims, publishes progress,
 * succeeds, acks → a watcher sees every event. Then Redis goes away: a
 * submission still succeeds (PostgreSQL is the truth), dispatch fails fast,
 * and once Redis is back the reconciler finds the job and dispatches it. */
#include <stdio.h>
#include <string.h>

#include "folio/clock.h"
#include "folio/loop.h"
#include "folio/dispatch.h"
#include "folio/pg_async.h"
#include "folio/redis.h"
#include "outage.h"
#include "pgtest.h"

static struct folio_loop *loop;

static void spin_until(const int *count, int want, const char *what) {
  int64_t deadline = folio_clock_mono_ns() + 30LL * 1000000000;
  while (*count < want) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "timed out waiting for %s", what);
    folio_loop_run_once(loop, 50);
  }
}

static int ready;
static void on_pg_state(struct folio_pg_async *a, bool up, void *arg) { ready += up; }
static int redis_up, sub_up;
static void on_redis_state(struct folio_redis *r, bool up, void *arg) { *(int *)arg = up; }

static int submitted;
static struct folio_job_submitted sub_out;
static int sub_status;
static void on_submit(int status, const struct folio_job_submitted *out,
                      const struct folio_pg_diag *d, void *arg) {
  sub_status = status;
  if (out) sub_out = *out;
  submitted++;
}

static int replies, reply_status;
static char reply_str[128];
static void on_reply(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  reply_status = status;
  reply_str[0] = '\0';
  if (rep && rep->str) snprintf(reply_str, sizeof reply_str, "%s", rep->str);
  replies++;
}

static int reads;
static size_t nread;
static char read_id[64], read_job[64];
static void on_read(struct folio_redis *r, int status, const struct folio_redis_entry *e, size_t n,
                    const char *cursor, void *arg) {
  CHECK_EQ_INT(status, 0);
  nread = n;
  if (n) {
    snprintf(read_id, sizeof read_id, "%s", e[0].id);
    snprintf(read_job, sizeof read_job, "%s", e[0].job_id);
  }
  reads++;
}

static int events;
static enum folio_job_state event_states[16];
static void on_event(struct folio_redis *r, int status, const char *channel, const char *msg,
                     size_t len, void *arg) {
  if (status != 0 || !msg) return;
  char id[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state st;
  int pr;
  CHECK_MSG(folio_jobs_event_parse(msg, len, id, &st, &pr) == 0, "bad event %.*s", (int)len, msg);
  if (events < 16) event_states[events] = st;
  events++;
}

static void redis_cmd(struct folio_redis *r, int rc) {
  CHECK_EQ_INT(rc, 0);
  spin_until(&replies, replies + 1, "redis reply");
}

static void publish(struct folio_redis *r, const char *job_id, enum folio_job_state st, int pr) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job_id, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job_id, st, pr);
  CHECK(n > 0);
  int before = replies;
  CHECK_EQ_INT(folio_redis_publish(r, ch, msg, (size_t)n, on_reply, NULL), 0);
  spin_until(&replies, before + 1, "publish");
}

int main(void) {
  struct folio_pg_conn *plain = pgtest_plain();
  CHECK(folio_jobs_migrate(plain, NULL, NULL) == 0);
  struct folio_pg_conn *worker_db = pgtest_jobs();
  loop = folio_loop_create();

  struct folio_pg_async_config pcfg = {.conn = {.conninfo = pgtest_url()}};
  folio_jobs_conn_config(&pcfg.conn);
  struct folio_pg_async *db;
  CHECK(folio_pg_async_create(&pcfg, &db, NULL) == 0);
  folio_pg_async_set_state_cb(db, on_pg_state, NULL);
  CHECK(folio_pg_async_attach(db, loop) == 0);
  spin_until(&ready, 1, "postgres");

  struct folio_redis_config rcfg = {.url = getenv("FOLIO_REDIS_URL"), .backoff_max_ms = 200};
  struct folio_redis *rd, *watch;
  CHECK(folio_redis_create(loop, &rcfg, &rd, NULL, 0) == 0);
  CHECK(folio_redis_create(loop, &rcfg, &watch, NULL, 0) == 0);
  folio_redis_set_state_cb(rd, on_redis_state, &redis_up);
  folio_redis_set_state_cb(watch, on_redis_state, &sub_up);
  spin_until(&redis_up, 1, "redis");
  spin_until(&sub_up, 1, "redis (watcher)");
  redis_cmd(rd, folio_dispatch_group_create(rd, on_reply, NULL));
  CHECK_EQ_INT(reply_status, 0);

  /* ---- server: submit, dispatch the id, remember it was dispatched ---- */
  static const uint8_t layout[] = "{\"pages\":[]}";
  struct folio_job_submit s = {.tenant = "acme", .layout = layout, .layout_len = sizeof layout - 1};
  CHECK_EQ_INT(folio_jobs_submit_async(db, &s, on_submit, NULL), 0);
  spin_until(&submitted, 1, "submit");
  CHECK_EQ_INT(sub_status, 0);
  char job[FOLIO_UUID_STR_LEN + 1];
  snprintf(job, sizeof job, "%s", sub_out.job_id);
  char ch[FOLIO_JOBS_CHANNEL_MAX];
  folio_jobs_channel(job, ch);
  CHECK_EQ_INT(folio_redis_subscribe(watch, ch, on_event, NULL, NULL), 0);
  redis_cmd(rd, folio_redis_dispatch(rd, FOLIO_JOBS_STREAM, job, FOLIO_JOBS_STREAM_MAXLEN, on_reply, NULL));
  CHECK_EQ_INT(reply_status, 0);
  CHECK_EQ_INT(folio_jobs_mark_dispatched(worker_db, job, NULL), 0);

  /* ---- worker: read, claim, progress, succeed, ack ---- */
  CHECK_EQ_INT(folio_redis_read(rd, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, "worker-1", 1, 1000, on_read, NULL), 0);
  spin_until(&reads, 1, "xreadgroup");
  CHECK_EQ_INT(nread, 1);
  CHECK_EQ_STR(read_job, job);
  struct folio_arena *arena = folio_arena_create(0);
  struct folio_job_claim cl;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_jobs_claim(worker_db, job, "worker-1", arena, &cl, &d), 0);
  CHECK_EQ_INT(cl.layout_len, sizeof layout - 1);
  /* the watcher's subscription is confirmed asynchronously: publish until seen */
  int64_t deadline = folio_clock_mono_ns() + 20LL * 1000000000;
  while (events == 0) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "watcher never got an event");
    publish(rd, job, FOLIO_JOB_RUNNING, 0);
    for (int i = 0; i < 4 && events == 0; i++) folio_loop_run_once(loop, 25);
  }
  int seen = events;
  CHECK_EQ_INT(folio_jobs_heartbeat(worker_db, job, cl.attempt, 50, NULL, &d), 0);
  publish(rd, job, FOLIO_JOB_RUNNING, 50);
  struct folio_job_artifact art = {"document.pdf", FOLIO_FORMAT_PDF, 0, 10,
                                   "0000000000000000000000000000000000000000000000000000000000000000",
                                   "application/pdf", "t/acme/document.pdf"};
  CHECK_EQ_INT(folio_jobs_succeed(worker_db, job, cl.attempt, &art, 1, &d), 0);
  publish(rd, job, FOLIO_JOB_SUCCEEDED, 100);
  redis_cmd(rd, folio_redis_ack(rd, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, read_id, on_reply, NULL));
  spin_until(&events, seen + 2, "watch events");
  CHECK_EQ_INT(event_states[events - 1], FOLIO_JOB_SUCCEEDED);

  /* ---- Redis goes away: accepting jobs does not depend on it ---- */
  outage_redis("down");
  deadline = folio_clock_mono_ns() + 20LL * 1000000000;
  while (redis_up) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "outage not noticed");
    folio_loop_run_once(loop, 50);
  }
  submitted = 0;
  CHECK_EQ_INT(folio_jobs_submit_async(db, &s, on_submit, NULL), 0);
  spin_until(&submitted, 1, "submit during the outage");
  CHECK_EQ_INT(sub_status, 0); /* accepted */
  snprintf(job, sizeof job, "%s", sub_out.job_id);
  CHECK_EQ_INT(folio_redis_dispatch(rd, FOLIO_JOBS_STREAM, job, 0, on_reply, NULL), FOLIO_REDIS_EDOWN);

  outage_redis("up");
  spin_until(&redis_up, 1, "redis back");
  /* the reconciler: QUEUED, never dispatched → taken and dispatched */
  char **ids;
  size_t n;
  CHECK_EQ_INT(folio_jobs_take_undispatched(worker_db, 0, 100, arena, &ids, &n, &d), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_STR(ids[0], job);
  redis_cmd(rd, folio_dispatch_group_create(rd, on_reply, NULL));
  redis_cmd(rd, folio_redis_dispatch(rd, FOLIO_JOBS_STREAM, ids[0], FOLIO_JOBS_STREAM_MAXLEN, on_reply, NULL));
  CHECK_EQ_INT(reply_status, 0);
  reads = 0;
  CHECK_EQ_INT(folio_redis_read(rd, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, "worker-2", 1, 1000, on_read, NULL), 0);
  spin_until(&reads, 1, "read after outage");
  CHECK_EQ_STR(read_job, job);
  CHECK_EQ_INT(folio_jobs_claim(worker_db, job, "worker-2", arena, &cl, &d), 0);

  folio_redis_destroy(watch);
  folio_redis_destroy(rd);
  folio_pg_async_destroy(db);
  folio_arena_destroy(arena);
  folio_loop_destroy(loop);
  folio_pg_conn_close(worker_db);
  folio_pg_conn_close(plain);
  return check_done();
}
