/* lib/redis against a real redis-server (started by scripts/stack.sh): the
 * dispatch stream with a consumer group (XADD, XREADGROUP, XACK, XAUTOCLAIM),
 * Pub/Sub, and an outage: Redis is stopped and restarted on the same port;
 * commands fail fast meanwhile, then the client reconnects and resubscribes
 * by itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loop_wait.h"
#include "folio/clock.h"
#include "folio/redis.h"
#include "outage.h"

static struct folio_loop *loop;

struct result {
  bool done;
  int status;
  long long integer;
  char str[128];
  int type;
  size_t n;
  char ids[16][64];
  char jobs[16][64];
  char cursor[64];
};

static void reply_cb(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  struct result *res = arg;
  res->done = true;
  res->status = status;
  if (rep) {
    res->type = rep->type;
    res->integer = rep->integer;
    if (rep->str) snprintf(res->str, sizeof res->str, "%s", rep->str);
  }
}

static void entries_cb(struct folio_redis *r, int status, const struct folio_redis_entry *e,
                       size_t n, const char *cursor, void *arg) {
  struct result *res = arg;
  res->done = true;
  res->status = status;
  res->n = n;
  for (size_t i = 0; i < n && i < 16; i++) {
    snprintf(res->ids[i], sizeof res->ids[i], "%s", e[i].id);
    snprintf(res->jobs[i], sizeof res->jobs[i], "%s", e[i].job_id);
  }
  snprintf(res->cursor, sizeof res->cursor, "%s", cursor ? cursor : "");
}

static void state_cb(struct folio_redis *r, bool connected, void *arg) {
  bool *up = arg;
  *up = connected;
}

struct inbox {
  int messages, confirms, ended;
  char last[128];
};

static void message_cb(struct folio_redis *r, int status, const char *channel, const char *msg,
                       size_t len, void *arg) {
  struct inbox *in = arg;
  if (status != 0) {
    in->ended++;
  } else if (!msg) {
    in->confirms++;
  } else {
    in->messages++;
    snprintf(in->last, sizeof in->last, "%.*s", (int)len, msg);
  }
}

static struct folio_redis *client(bool *up) {
  struct folio_redis_config cfg = {.url = getenv("FOLIO_REDIS_URL"), .backoff_max_ms = 200};
  CHECK_MSG(cfg.url, "FOLIO_REDIS_URL is not set: run me under scripts/stack.sh run");
  struct folio_redis *r;
  char err[256];
  CHECK_MSG(folio_redis_create(loop, &cfg, &r, err, sizeof err) == 0, "%s", err);
  folio_redis_set_state_cb(r, state_cb, up);
  loop_run_until(loop, up, "connect");
  return r;
}

/* Publishes until someone receives it: subscriptions are confirmed asynchronously. */
static void publish_until_received(struct folio_redis *pub, const char *channel, const char *msg,
                                   struct inbox *in) {
  int before = in->messages;
  int64_t deadline = folio_clock_mono_ns() + 20LL * 1000000000;
  while (in->messages == before) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "message on %s never arrived", channel);
    struct result res = {0};
    CHECK(folio_redis_publish(pub, channel, msg, strlen(msg), reply_cb, &res) == 0);
    loop_run_until(loop, &res.done, "publish");
    CHECK_EQ_INT(res.status, 0);
    for (int i = 0; i < 4 && in->messages == before; i++) folio_loop_run_once(loop, 25);
  }
}

static void test_stream(struct folio_redis *r) {
  const char *stream = "folio:dispatch:test";
  struct result res = {0};
  CHECK(folio_redis_group_create(r, stream, "workers", "0", reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "group create");
  CHECK_EQ_INT(res.status, 0);
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_group_create(r, stream, "workers", "0", reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "group create again");
  CHECK_EQ_INT(res.status, 0); /* BUSYGROUP is success */

  const char *jobs[] = {"0190b5a4-0000-7000-8000-000000000001", "0190b5a4-0000-7000-8000-000000000002",
                        "0190b5a4-0000-7000-8000-000000000003"};
  for (int i = 0; i < 3; i++) {
    memset(&res, 0, sizeof res);
    CHECK(folio_redis_dispatch(r, stream, jobs[i], 100000, reply_cb, &res) == 0);
    loop_run_until(loop, &res.done, "xadd");
    CHECK_EQ_INT(res.status, 0);
    CHECK(strchr(res.str, '-') != NULL); /* an entry id like 1700000000000-0 */
  }
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_read(r, stream, "workers", "w1", 10, 100, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "xreadgroup");
  CHECK_EQ_INT(res.status, 0);
  CHECK_EQ_INT(res.n, 3);
  for (int i = 0; i < 3; i++) CHECK_EQ_STR(res.jobs[i], jobs[i]);
  char first[64];
  snprintf(first, sizeof first, "%s", res.ids[0]);
  /* nothing new: a blocking read times out with no entries */
  struct result none = {0};
  CHECK(folio_redis_read(r, stream, "workers", "w1", 10, 50, entries_cb, &none) == 0);
  loop_run_until(loop, &none.done, "empty xreadgroup");
  CHECK_EQ_INT(none.status, 0);
  CHECK_EQ_INT(none.n, 0);

  memset(&res, 0, sizeof res);
  CHECK(folio_redis_ack(r, stream, "workers", first, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "xack");
  CHECK_EQ_INT(res.integer, 1);

  /* w1 "died" holding two entries: w2 takes them over */
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_reclaim(r, stream, "workers", "w2", 0, "0-0", 10, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "xautoclaim");
  CHECK_EQ_INT(res.status, 0);
  CHECK_EQ_INT(res.n, 2);
  CHECK_EQ_STR(res.jobs[0], jobs[1]);
  CHECK_EQ_STR(res.jobs[1], jobs[2]);
  CHECK_EQ_STR(res.cursor, "0-0");
  /* with a long visibility timeout nothing is stale */
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_reclaim(r, stream, "workers", "w3", 600000, "0-0", 10, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "xautoclaim idle");
  CHECK_EQ_INT(res.n, 0);

  /* an error reply reaches the callback as EREPLY with its text */
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_read(r, "no-such-stream", "nogroup", "w1", 1, -1, entries_cb, &res) == 0);
  loop_run_until(loop, &res.done, "bad read");
  CHECK_EQ_INT(res.status, FOLIO_REDIS_EREPLY);
}

static void test_outage(struct folio_redis *r, bool *up, struct folio_redis *sub, bool *sub_up,
                        struct inbox *in) {
  outage_redis("down");
  int64_t deadline = folio_clock_mono_ns() + 20LL * 1000000000;
  while (*up || *sub_up) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "the clients never noticed the outage");
    folio_loop_run_once(loop, 50);
  }
  /* while down: commands fail at once and never call back */
  struct result res = {0};
  CHECK_EQ_INT(folio_redis_dispatch(r, "s", "x", 0, reply_cb, &res), FOLIO_REDIS_EDOWN);
  for (int i = 0; i < 5; i++) folio_loop_run_once(loop, 20);
  CHECK(!res.done);

  outage_redis("up");
  loop_run_until(loop, up, "reconnect");
  loop_run_until(loop, sub_up, "subscriber reconnect");
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_dispatch(r, "s", "x", 0, reply_cb, &res) == 0);
  loop_run_until(loop, &res.done, "xadd after restart");
  CHECK_EQ_INT(res.status, 0);
  /* the subscription came back by itself, and said so */
  struct folio_redis_stats st;
  folio_redis_stats(r, &st);
  CHECK(st.connects >= 2 && st.failures >= 1);
  publish_until_received(r, "folio:job:1", "after-restart", in);
  CHECK_EQ_STR(in->last, "after-restart");
  CHECK(in->confirms >= 2);
}

int main(void) {
  loop = folio_loop_create();
  CHECK(loop);
  char err[128];
  struct folio_redis_config bad = {.url = "http://x"};
  struct folio_redis *r;
  CHECK_EQ_INT(folio_redis_create(loop, &bad, &r, err, sizeof err), FOLIO_REDIS_EINVAL);
  CHECK(strstr(err, "scheme") != NULL);

  bool up = false, sub_up = false;
  r = client(&up);
  test_stream(r);

  struct folio_redis *sub = client(&sub_up);
  struct inbox in = {0}, other = {0};
  struct folio_redis_sub *s1, *s2;
  CHECK(folio_redis_subscribe(sub, "folio:job:1", message_cb, &in, &s1) == 0);
  CHECK(folio_redis_subscribe(sub, "folio:job:2", message_cb, &other, &s2) == 0);
  publish_until_received(r, "folio:job:1", "{\"state\":\"RUNNING\"}", &in);
  CHECK_EQ_STR(in.last, "{\"state\":\"RUNNING\"}");
  CHECK_EQ_INT(other.messages, 0);
  /* the first confirmation is reported too (msg NULL): a caller that read
   * state before it re-reads what was published in between */
  CHECK_EQ_INT(in.confirms, 1);
  for (int i = 0; i < 400 && other.confirms == 0; i++) folio_loop_run_once(loop, 50);
  CHECK_EQ_INT(other.confirms, 1);
  /* a subscribed client refuses ordinary commands instead of corrupting its stream */
  struct result res = {0};
  CHECK(folio_redis_dispatch(sub, "s", "x", 0, reply_cb, &res) != 0);

  test_outage(r, &up, sub, &sub_up, &in);

  folio_redis_unsubscribe(sub, s2);
  CHECK_EQ_INT(other.ended, 1);
  /* pending commands are failed, exactly once, by destroy */
  memset(&res, 0, sizeof res);
  CHECK(folio_redis_read(r, "folio:dispatch:test", "workers", "w9", 1, 5000, entries_cb, &res) == 0);
  folio_redis_destroy(r);
  CHECK(res.done);
  CHECK_EQ_INT(res.status, FOLIO_REDIS_EDOWN);
  folio_redis_destroy(sub);
  CHECK_EQ_INT(in.ended, 1);
  folio_loop_destroy(loop);
  return check_done();
}
