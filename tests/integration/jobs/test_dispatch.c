/* lib/jobs' dispatch protocol (folio/dispatch.h) against a real redis-server
 * (started by scripts/stack.sh): the group's start id — entries added before
 * the group exists are delivered, whether the group is created first by a
 * server or a worker, and after FLUSHALL; a second creator does not move the
 * group; ack, reclaim, re-delivery after a backoff, and lag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loop_wait.h"
#include "folio/dispatch.h"

static struct folio_loop *loop;
static struct folio_redis *rd;

struct result {
  bool done;
  int status;
  long long integer;
  size_t n;
  char id[64], job[64], err[128];
};

static void reply_cb(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  struct result *res = arg;
  res->done = true;
  res->status = status;
  if (rep && rep->type == REDIS_REPLY_INTEGER) res->integer = rep->integer;
  if (rep && rep->str) snprintf(res->err, sizeof res->err, "%s", rep->str);
}

static void entries_cb(struct folio_redis *r, int status, const struct folio_redis_entry *e,
                       size_t n, const char *cursor, void *arg) {
  struct result *res = arg;
  res->done = true;
  res->status = status;
  res->n = n;
  if (status == FOLIO_REDIS_EREPLY) snprintf(res->err, sizeof res->err, "%s", folio_redis_errstr(r));
  if (n) {
    snprintf(res->id, sizeof res->id, "%s", e[0].id);
    snprintf(res->job, sizeof res->job, "%s", e[0].job_id);
  }
}

static void lag_cb(int status, long long lag, void *arg) {
  struct result *res = arg;
  res->done = true;
  res->status = status;
  res->integer = lag;
}

static int cmd(const char *a0, const char *a1) {
  struct result res = {0};
  const char *argv[] = {a0, a1};
  CHECK(folio_redis_command(rd, reply_cb, &res, a1 ? 2 : 1, argv, NULL) == 0);
  loop_run_until(loop, &res.done, a0);
  return res.status;
}

static void send(const char *job) {
  struct result res = {0};
  CHECK(folio_dispatch_send(rd, job, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XADD");
  CHECK_EQ_INT(res.status, 0);
}

static void group_create(void) {
  struct result res = {0};
  CHECK(folio_dispatch_group_create(rd, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XGROUP CREATE");
  CHECK_MSG(res.status == 0, "%s", res.err); /* BUSYGROUP is success too */
}

static struct result read1(const char *consumer) {
  struct result res = {0};
  CHECK(folio_dispatch_read(rd, consumer, -1, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XREADGROUP");
  return res;
}

static struct result reclaim1(const char *consumer, int vt_ms) {
  struct result res = {0};
  CHECK(folio_dispatch_reclaim(rd, consumer, vt_ms, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XAUTOCLAIM");
  return res;
}

static void ack(const char *id) {
  struct result res = {0};
  CHECK(folio_dispatch_ack(rd, id, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XACK");
  CHECK_EQ_INT(res.status, 0);
  CHECK_EQ_INT(res.integer, 1);
}

static long long lag(void) {
  struct result res = {0};
  CHECK(folio_dispatch_lag(rd, lag_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XINFO GROUPS");
  CHECK_EQ_INT(res.status, 0);
  return res.integer;
}

/* A read on a stream without our group: NOGROUP, recognised; creating the
 * group (as a worker does then) delivers what is already in the stream. */
static void read_expect_after_group(const char *consumer, const char *job) {
  struct result r = read1(consumer);
  CHECK_EQ_INT(r.status, FOLIO_REDIS_EREPLY);
  CHECK_MSG(folio_dispatch_no_group(r.status, r.err), "%s", r.err);
  group_create();
  r = read1(consumer);
  CHECK_MSG(r.status == 0 && r.n == 1, "status %d n %zu", r.status, r.n);
  CHECK_EQ_STR(r.job, job);
  ack(r.id);
}

int main(void) {
  loop = folio_loop_create();
  CHECK(loop);
  struct folio_redis_config cfg = {.url = getenv("FOLIO_REDIS_URL"), .backoff_max_ms = 200};
  CHECK_MSG(cfg.url, "FOLIO_REDIS_URL is not set: run me under scripts/stack.sh run");
  char err[256];
  CHECK_MSG(folio_redis_create(loop, &cfg, &rd, err, sizeof err) == 0, "%s", err);

  /* 1. a server dispatched before any group existed (no worker started yet):
   * the worker that creates the group gets the job */
  CHECK_EQ_INT(cmd("FLUSHALL", NULL), 0);
  send("job-before-group");
  read_expect_after_group("w-1", "job-before-group");

  /* 2. a second creator (a server reconnecting, another worker) does not move
   * the group: what is waiting stays waiting, what was acked stays acked */
  send("job-2");
  group_create();
  struct result r = read1("w-1");
  CHECK_MSG(r.status == 0 && r.n == 1, "status %d n %zu", r.status, r.n);
  CHECK_EQ_STR(r.job, "job-2");
  ack(r.id);
  r = read1("w-1");
  CHECK_EQ_INT(r.status, 0);
  CHECK_EQ_INT(r.n, 0);

  /* 3. FLUSHALL while everyone stays connected: the next XADD recreates the
   * stream without the group; nothing dispatched meanwhile is lost */
  CHECK_EQ_INT(cmd("FLUSHALL", NULL), 0);
  send("job-after-flush");
  read_expect_after_group("w-2", "job-after-flush");

  /* 4. the server creates the group first (its connect), on an empty stream */
  CHECK_EQ_INT(cmd("FLUSHALL", NULL), 0);
  group_create();
  send("job-4");
  r = read1("w-3");
  CHECK_EQ_STR(r.job, "job-4");
  char id4[64];
  snprintf(id4, sizeof id4, "%s", r.id);

  /* 5. left pending: not reclaimable before the visibility timeout, at once
   * after redeliver_after(0), and then the new consumer's */
  r = reclaim1("w-4", 60000);
  CHECK_EQ_INT(r.status, 0);
  CHECK_EQ_INT(r.n, 0);
  struct result res = {0};
  CHECK(folio_dispatch_redeliver_after(rd, "w-3", id4, 0, 60000, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XCLAIM IDLE");
  CHECK_EQ_INT(res.status, 0);
  r = reclaim1("w-4", 60000);
  CHECK_MSG(r.n == 1, "redeliver_after(0) did not make the entry due");
  CHECK_EQ_STR(r.job, "job-4");
  /* a delay keeps it from being due */
  memset(&res, 0, sizeof res);
  CHECK(folio_dispatch_redeliver_after(rd, "w-4", id4, 50000, 60000, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XCLAIM IDLE");
  r = reclaim1("w-5", 60000);
  CHECK_EQ_INT(r.n, 0);
  ack(id4);

  /* 6. lag: entries not yet delivered to any consumer */
  CHECK_EQ_INT(lag(), 0);
  send("job-6a");
  send("job-6b");
  CHECK_EQ_INT(lag(), 2);
  r = read1("w-6");
  CHECK_EQ_INT(lag(), 1);
  /* no stream at all: an error reply, lag unknown */
  CHECK_EQ_INT(cmd("FLUSHALL", NULL), 0);
  memset(&res, 0, sizeof res);
  CHECK(folio_dispatch_lag(rd, lag_cb, &res) == 0);
  loop_run_until(loop, &res.done, "XINFO GROUPS without a stream");
  CHECK_EQ_INT(res.status, FOLIO_REDIS_EREPLY);
  CHECK_EQ_INT(res.integer, -1);

  folio_redis_destroy(rd);
  folio_loop_destroy(loop);
  return check_done();
}
