/* The Echo test service. Handlers follow cgrpc's rules: never block the CQ
 * thread (delayed replies run on a thread of their own), finish each call
 * exactly once, from whatever thread. */
#include "echo_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

struct echo_stats echo_stats;

static void fill_reply(struct cgrpc_call *call, const CgrpcTest__V1__EchoRequest *req,
                       CgrpcTest__V1__EchoReply *r) {
  r->text = req->text;
  const char *seen = cgrpc_call_metadata(call, "x-test", NULL);
  r->metadata_seen = seen ? (char *)(uintptr_t)seen : (char *)(uintptr_t)"";
  r->has_deadline = cgrpc_call_deadline_ms(call) != INT64_MAX;
  r->peer = (char *)(uintptr_t)cgrpc_call_peer(call);
  r->at = req->at;
  if (req->reply_bytes) {
    r->payload.len = req->reply_bytes;
    r->payload.data = cgrpc_call_alloc(call, req->reply_bytes);
    memset(r->payload.data, 'r', req->reply_bytes);
  }
}

struct delayed {
  struct cgrpc_call *call;
  const CgrpcTest__V1__EchoRequest *req;
};

static void *delayed_reply(void *arg) {
  struct delayed *d = arg;
  struct timespec ts = {d->req->delay_ms / 1000, (long)(d->req->delay_ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  fill_reply(d->call, d->req, &r);
  cgrpc_test__v1__echo__say__reply(d->call, &r); /* from a non-CQ thread */
  free(d);
  return NULL;
}

static void on_cancel_finish(struct cgrpc_call *call, void *ud) {
  atomic_fetch_add(&echo_stats.cancels_seen, 1);
  cgrpc_call_finish(call, GRPC_STATUS_CANCELLED, "cancelled by the client");
}

static void say(struct cgrpc_call *call, const CgrpcTest__V1__EchoRequest *req, void *impl) {
  if (req->block_ms) { /* what a handler must never do; see test_handler_time */
    struct timespec ts = {req->block_ms / 1000, (long)(req->block_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
  if (req->wait_for_cancel) {
    if (cgrpc_call_on_cancel(call, on_cancel_finish, NULL) != 0) on_cancel_finish(call, NULL);
    return;
  }
  if (req->fail_code) {
    if (req->details) {
      static const unsigned char details[] = {0x08, 0x05, 0x12, 0x03, 'b', 'a', 'd', 0x00, 0xff};
      cgrpc_call_finish_details(call, (grpc_status_code)req->fail_code, "failed on request",
                                details, sizeof details);
    } else {
      cgrpc_call_finish(call, (grpc_status_code)req->fail_code, "failed on request");
    }
    return;
  }
  cgrpc_call_add_metadata(call, "x-test-echo", req->text, strlen(req->text));
  if (req->delay_ms) {
    struct delayed *d = malloc(sizeof *d);
    CHECK(d);
    d->call = call;
    d->req = req; /* lives until the call is released: after our reply */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, delayed_reply, d) == 0);
    pthread_detach(t);
    return;
  }
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  fill_reply(call, req, &r);
  cgrpc_test__v1__echo__say__reply(call, &r);
}

/* ---- Count: one write in flight, the next sent from the write callback ---- */

struct counter {
  const CgrpcTest__V1__EchoRequest *req;
  uint32_t next;
};

static void count_next(struct cgrpc_call *call, bool ok, void *ud) {
  struct counter *c = ud;
  if (!ok) {
    atomic_fetch_add(&echo_stats.streams_stopped, 1);
    cgrpc_call_finish(call, GRPC_STATUS_CANCELLED, "the client went away");
    return;
  }
  if (!c->req->wait_for_cancel && c->next >= c->req->count) {
    cgrpc_call_finish(call, GRPC_STATUS_OK, NULL);
    return;
  }
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  fill_reply(call, c->req, &r);
  r.index = c->next++;
  int rc = cgrpc_test__v1__echo__count__send(call, &r, count_next, c);
  if (rc != 0) cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, cgrpc_strerror(rc));
}

/* The call cannot be released before the cancel: with wait_for_cancel it
 * only finishes once a write failed, which the cancel causes. */
static void *cancel_later(void *arg) {
  struct delayed *d = arg;
  struct timespec ts = {d->req->cancel_after_ms / 1000,
                        (long)(d->req->cancel_after_ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
  CHECK_EQ_INT(cgrpc_call_cancel_with_status(d->call, GRPC_STATUS_ABORTED, "stalled reader"), 0);
  free(d);
  return NULL;
}

static void count(struct cgrpc_call *call, const CgrpcTest__V1__EchoRequest *req, void *impl) {
  struct counter *c = cgrpc_call_alloc(call, sizeof *c);
  c->req = req;
  c->next = 0;
  if (req->cancel_after_ms) {
    struct delayed *d = malloc(sizeof *d);
    CHECK(d);
    *d = (struct delayed){call, req};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_later, d) == 0);
    pthread_detach(t);
  }
  count_next(call, true, c);
}

/* ---- Collect: read until the end, then reply once ---- */

struct collector {
  char text[1024];
};

static void collect_read(struct cgrpc_call *call, const ProtobufCMessage *msg, void *ud) {
  struct collector *c = ud;
  if (!msg) {
    if (cgrpc_call_is_cancelled(call)) {
      cgrpc_call_finish(call, GRPC_STATUS_CANCELLED, "the stream failed");
      return;
    }
    CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
    r.text = c->text;
    cgrpc_test__v1__echo__collect__reply(call, &r);
    return;
  }
  const CgrpcTest__V1__EchoRequest *req = cgrpc_test__v1__echo__collect__request(msg);
  size_t used = strlen(c->text);
  snprintf(c->text + used, sizeof c->text - used, "%s%s", used ? "+" : "", req->text);
  CHECK(cgrpc_call_read(call, collect_read, c) == 0);
}

static void collect(struct cgrpc_call *call, void *impl) {
  struct collector *c = cgrpc_call_alloc(call, sizeof *c);
  c->text[0] = '\0';
  CHECK(cgrpc_call_read(call, collect_read, c) == 0);
}

/* ---- Chat: read one, write its echo, read the next once written ---- */

struct chat {
  uint32_t index;
  char text[256];
};

static void chat_read(struct cgrpc_call *call, const ProtobufCMessage *msg, void *ud);

static void chat_written(struct cgrpc_call *call, bool ok, void *ud) {
  if (!ok) {
    cgrpc_call_finish(call, GRPC_STATUS_CANCELLED, "the client went away");
    return;
  }
  CHECK(cgrpc_call_read(call, chat_read, ud) == 0);
}

static void chat_read(struct cgrpc_call *call, const ProtobufCMessage *msg, void *ud) {
  struct chat *c = ud;
  if (!msg) {
    cgrpc_call_finish(call, cgrpc_call_is_cancelled(call) ? GRPC_STATUS_CANCELLED : GRPC_STATUS_OK,
                      NULL);
    return;
  }
  const CgrpcTest__V1__EchoRequest *req = cgrpc_test__v1__echo__chat__request(msg);
  /* msg is valid only during this callback: copy what the reply needs. */
  snprintf(c->text, sizeof c->text, "re: %s", req->text);
  CgrpcTest__V1__EchoReply r = CGRPC_TEST__V1__ECHO_REPLY__INIT;
  r.text = c->text;
  r.index = c->index++;
  CHECK(cgrpc_test__v1__echo__chat__send(call, &r, chat_written, c) == 0);
}

static void chat(struct cgrpc_call *call, void *impl) {
  struct chat *c = cgrpc_call_alloc(call, sizeof *c);
  c->index = 0;
  CHECK(cgrpc_call_read(call, chat_read, c) == 0);
}

static const struct cgrpc_test__v1__echo__handlers handlers = {
    .say = say, .count = count, .collect = collect, .chat = chat};

static void on_start(struct cgrpc_call *call, void *ud) {
  atomic_fetch_add(&echo_stats.calls_started, 1);
}

static void on_end(struct cgrpc_call *call, const struct cgrpc_call_summary *s, void *ud) {
  int64_t seen = atomic_load(&echo_stats.max_handler_ns);
  while (s->handler_max_ns > seen &&
         !atomic_compare_exchange_weak(&echo_stats.max_handler_ns, &seen, s->handler_max_ns)) {
  }
  if (s->handler_ns < s->handler_max_ns) atomic_fetch_add(&echo_stats.bad_handler_sums, 1);
  atomic_fetch_add(&echo_stats.calls_finished, 1);
}

struct cgrpc_server *echo_server_start(const struct cgrpc_server_config *cfg) {
  struct cgrpc_server_config c = {0};
  if (cfg) c = *cfg;
  c.listen = "127.0.0.1:0";
  if (!c.cq_threads) c.cq_threads = 2;
  c.on_call_start = on_start;
  c.on_call_end = on_end;
  char err[256] = "";
  struct cgrpc_server *s = cgrpc_server_create(&c, err, sizeof err);
  CHECK_MSG(s, "cgrpc_server_create: %s", err);
  CHECK(cgrpc_test__v1__echo__register(s, &handlers, NULL) == 0);
  CHECK_MSG(cgrpc_server_start(s, err, sizeof err) == 0, "cgrpc_server_start: %s", err);
  CHECK(cgrpc_server_port(s) > 0);
  return s;
}

bool echo_wait_for(atomic_int *v, int want) {
  for (int i = 0; i < 2000; i++) {
    if (atomic_load(v) >= want) return true;
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  return atomic_load(v) >= want;
}

const char *echo_target(struct cgrpc_server *s) {
  static char buf[64];
  snprintf(buf, sizeof buf, "127.0.0.1:%d", cgrpc_server_port(s));
  return buf;
}
