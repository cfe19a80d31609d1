/* Concurrency: several client threads run every RPC kind at once against a
 * server with two CQ threads, including races the handlers must survive —
 * replies sent from another thread just as the client's deadline passes,
 * clients cancelling streams at arbitrary points. Checks that each call ends
 * with one of the statuses its scenario allows and that every call the
 * server saw is released (ASan/LSan catch the rest). */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "echo_server.h"

#define S(x) ((char *)(uintptr_t)(x))
#define THREADS 6
#define ROUNDS 40

static struct cgrpc_channel *ch;

static void one_unary(unsigned i) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("u");
  req.delay_ms = i % 3 == 0 ? 20 + i % 15 : 0;
  /* Deadline near the delayed reply: either may win. */
  struct cgrpc_call_options opts = {.timeout_ms = req.delay_ms ? 20 + (i * 7) % 20 : 10000};
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  int rc = cgrpc_test__v1__echo__say__call(ch, &req, &opts, &r, &st);
  if (rc == 0) {
    CHECK_EQ_STR(r->text, "u");
    protobuf_c_message_free_unpacked(&r->base, NULL);
  } else {
    CHECK_MSG(req.delay_ms && st.code == GRPC_STATUS_DEADLINE_EXCEEDED, "unary: %d %s", st.code,
              st.message);
  }
  cgrpc_status_clear(&st);
}

static void one_stream(unsigned i) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("s");
  req.count = 20;
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(ch, &req, NULL);
  CHECK(c);
  unsigned stop_after = i % 4 == 0 ? i % 10 : 1000; /* some cancel part-way */
  CgrpcTest__V1__EchoReply *r;
  unsigned got = 0;
  while (got < stop_after && cgrpc_test__v1__echo__count__read(c, &r) == 1) {
    CHECK_EQ_INT(r->index, got);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    got++;
  }
  if (stop_after < 1000) cgrpc_client_call_cancel(c);
  struct cgrpc_status st = {0};
  int rc = cgrpc_client_call_finish(c, &st);
  if (stop_after >= 1000) {
    CHECK_MSG(rc == 0 && got == 20, "stream: rc %d got %u code %d", rc, got, st.code);
  } else {
    CHECK_MSG(st.code == GRPC_STATUS_CANCELLED || st.code == GRPC_STATUS_OK, "%d", st.code);
  }
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);
}

static void one_bidi(unsigned i) {
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__chat__start(ch, NULL);
  CHECK(c);
  unsigned n = 1 + i % 5;
  for (unsigned k = 0; k < n; k++) {
    CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
    req.text = S("b");
    CHECK_EQ_INT(cgrpc_test__v1__echo__chat__write(c, &req), 0);
    CgrpcTest__V1__EchoReply *r;
    CHECK_EQ_INT(cgrpc_test__v1__echo__chat__read(c, &r), 1);
    CHECK_EQ_STR(r->text, "re: b");
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  if (i % 3 == 0) {
    cgrpc_client_call_destroy(c); /* abandon mid-stream */
    return;
  }
  cgrpc_client_call_writes_done(c);
  CgrpcTest__V1__EchoReply *r;
  CHECK_EQ_INT(cgrpc_test__v1__echo__chat__read(c, &r), 0);
  CHECK_EQ_INT(cgrpc_client_call_finish(c, NULL), 0);
  cgrpc_client_call_destroy(c);
}

static void one_collect(unsigned i) {
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__collect__start(ch, NULL);
  for (unsigned k = 0; k < i % 4; k++) {
    CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
    req.text = S("c");
    CHECK_EQ_INT(cgrpc_test__v1__echo__collect__write(c, &req), 0);
  }
  CgrpcTest__V1__EchoReply *r = NULL;
  CHECK_EQ_INT(cgrpc_test__v1__echo__collect__close_and_recv(c, &r, NULL), 0);
  CHECK_EQ_INT(strlen(r->text), i % 4 ? 2 * (i % 4) - 1 : 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  cgrpc_client_call_destroy(c);
}

static void *worker(void *arg) {
  unsigned id = (unsigned)(uintptr_t)arg;
  for (unsigned round = 0; round < ROUNDS; round++) {
    unsigned i = id * 1000 + round;
    switch ((id + round) % 4) {
      case 0: one_unary(i); break;
      case 1: one_stream(i); break;
      case 2: one_bidi(i); break;
      default: one_collect(i); break;
    }
  }
  return NULL;
}

int main(void) {
  struct cgrpc_server *s = echo_server_start(NULL);
  char err[128];
  ch = cgrpc_channel_create(echo_target(s), NULL, err, sizeof err);
  CHECK(ch);
  pthread_t t[THREADS];
  for (unsigned i = 0; i < THREADS; i++)
    CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) == 0);
  for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  cgrpc_channel_destroy(ch);
  cgrpc_server_shutdown(s, 10000);
  /* Every call that reached the server was released. (Some never reach it:
   * a short deadline or an early cancel can end them on the client side.) */
  int started = atomic_load(&echo_stats.calls_started);
  CHECK_EQ_INT(atomic_load(&echo_stats.calls_finished), started);
  CHECK_MSG(started > THREADS * ROUNDS / 2, "only %d calls reached the server", started);
  cgrpc_server_destroy(s);
  return check_done();
}
