/* Graceful shutdown: an in-flight call that finishes within the grace period
 * completes normally; calls and streams that would outlive it are cancelled
 * (their handlers learn it and finish), and shutdown returns. Also: a
 * started-but-idle server and a never-started one tear down cleanly. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "echo_server.h"

#define S(x) ((char *)(uintptr_t)(x))

struct pending_call {
  struct cgrpc_server *s;
  CgrpcTest__V1__EchoRequest req;
  grpc_status_code code;
  bool streaming;
};

static void *client_thread(void *arg) {
  struct pending_call *p = arg;
  char err[128];
  struct cgrpc_channel *ch = cgrpc_channel_create(echo_target(p->s), NULL, err, sizeof err);
  CHECK(ch);
  struct cgrpc_status st = {0};
  if (!p->streaming) {
    CgrpcTest__V1__EchoReply *r = NULL;
    cgrpc_test__v1__echo__say__call(ch, &p->req, NULL, &r, &st);
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  } else {
    struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(ch, &p->req, NULL);
    CgrpcTest__V1__EchoReply *r;
    while (cgrpc_test__v1__echo__count__read(c, &r) == 1) protobuf_c_message_free_unpacked(&r->base, NULL);
    cgrpc_client_call_finish(c, &st);
    cgrpc_client_call_destroy(c);
  }
  p->code = st.code;
  cgrpc_status_clear(&st);
  cgrpc_channel_destroy(ch);
  return NULL;
}

/* Starts a client call on its own thread and waits until the server has it. */
static pthread_t start_call(struct pending_call *p) {
  int before = atomic_load(&echo_stats.calls_started);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, client_thread, p) == 0);
  CHECK_MSG(echo_wait_for(&echo_stats.calls_started, before + 1), "the call never arrived");
  return t;
}

static void test_in_flight_call_completes(void) {
  struct cgrpc_server *s = echo_server_start(NULL);
  struct pending_call p = {.s = s, .req = CGRPC_TEST__V1__ECHO_REQUEST__INIT};
  p.req.text = S("late");
  p.req.delay_ms = 300; /* replied from another thread, well within the grace */
  pthread_t t = start_call(&p);
  cgrpc_server_shutdown(s, 20000);
  pthread_join(t, NULL);
  CHECK_EQ_INT(p.code, GRPC_STATUS_OK);
  cgrpc_server_shutdown(s, 0); /* idempotent */
  cgrpc_server_destroy(s);
}

static void test_grace_expires(void) {
  struct cgrpc_server *s = echo_server_start(NULL);
  int cancels = atomic_load(&echo_stats.cancels_seen);
  int stopped = atomic_load(&echo_stats.streams_stopped);
  struct pending_call unary = {.s = s, .req = CGRPC_TEST__V1__ECHO_REQUEST__INIT};
  unary.req.wait_for_cancel = true;
  struct pending_call stream = {.s = s, .req = CGRPC_TEST__V1__ECHO_REQUEST__INIT, .streaming = true};
  stream.req.wait_for_cancel = true;
  stream.req.text = S("tick");
  pthread_t t1 = start_call(&unary);
  pthread_t t2 = start_call(&stream);
  cgrpc_server_shutdown(s, 200);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  CHECK_MSG(unary.code == GRPC_STATUS_CANCELLED || unary.code == GRPC_STATUS_UNAVAILABLE,
            "unary: %d", unary.code);
  CHECK_MSG(stream.code == GRPC_STATUS_CANCELLED || stream.code == GRPC_STATUS_UNAVAILABLE,
            "stream: %d", stream.code);
  /* The handlers learned it: the unary one through on_cancel, the stream
   * through a failed write. */
  CHECK_EQ_INT(atomic_load(&echo_stats.cancels_seen), cancels + 1);
  CHECK_EQ_INT(atomic_load(&echo_stats.streams_stopped), stopped + 1);
  cgrpc_server_destroy(s);
}

static void test_idle_and_unstarted(void) {
  struct cgrpc_server *s = echo_server_start(NULL);
  cgrpc_server_destroy(s); /* destroy shuts down */
  struct cgrpc_server_config cfg = {.listen = "127.0.0.1:0"};
  char err[64];
  s = cgrpc_server_create(&cfg, err, sizeof err);
  CHECK(s);
  cgrpc_server_destroy(s);
  cgrpc_server_destroy(NULL);
}

int main(void) {
  test_in_flight_call_completes();
  test_grace_expires();
  test_idle_and_unstarted();
  return check_done();
}
