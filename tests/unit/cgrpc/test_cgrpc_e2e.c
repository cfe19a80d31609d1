/* cgrpc end to end in one process: the generated C client stubs against the
 * C server, every RPC kind, metadata both ways, status details, deadlines,
 * client cancellation, message-size limits, unknown methods and malformed
 * protobuf bytes sent raw through gRPC core. */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "echo_server.h"

/* protobuf-c string fields are char *; our literals are const. */
#define S(x) ((char *)(uintptr_t)(x))

static struct cgrpc_channel *channel_to(struct cgrpc_server *s) {
  char err[256] = "";
  struct cgrpc_channel *ch = cgrpc_channel_create(echo_target(s), NULL, err, sizeof err);
  CHECK_MSG(ch, "cgrpc_channel_create: %s", err);
  return ch;
}

static void test_unary(struct cgrpc_channel *ch) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  at.seconds = 1700000000;
  at.nanos = 42;
  req.text = S("hello");
  req.at = &at;
  struct cgrpc_metadata md[] = {{"x-test", "from-client", 11}};
  struct cgrpc_call_options opts = {.timeout_ms = 10000, .metadata = md, .metadata_count = 1};
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  int rc = cgrpc_test__v1__echo__say__call(ch, &req, &opts, &r, &st);
  CHECK_MSG(rc == 0, "rc=%d code=%d msg=%s", rc, st.code, st.message);
  CHECK_EQ_INT(st.code, GRPC_STATUS_OK);
  CHECK_EQ_STR(r->text, "hello");
  CHECK_EQ_STR(r->metadata_seen, "from-client");
  CHECK(r->has_deadline);
  CHECK(strncmp(r->peer, "ipv4:127.0.0.1:", 15) == 0);
  CHECK(r->at && r->at->seconds == 1700000000 && r->at->nanos == 42);
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-test-echo"), "hello");
  protobuf_c_message_free_unpacked(&r->base, NULL);
  cgrpc_status_clear(&st);
  cgrpc_status_clear(&st); /* a cleared status may be cleared again */

  /* Without a deadline the server sees none. */
  rc = cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, NULL);
  CHECK_EQ_INT(rc, 0);
  CHECK(!r->has_deadline);
  protobuf_c_message_free_unpacked(&r->base, NULL);

  /* A reply sent later from another thread. */
  req.delay_ms = 50;
  rc = cgrpc_test__v1__echo__say__call(ch, &req, &opts, &r, NULL);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_STR(r->text, "hello");
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_status_details(struct cgrpc_channel *ch) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.fail_code = GRPC_STATUS_FAILED_PRECONDITION;
  CgrpcTest__V1__EchoReply *r = (void *)1;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, &st), CGRPC_ESTATUS);
  CHECK(r == NULL);
  CHECK_EQ_INT(st.code, GRPC_STATUS_FAILED_PRECONDITION);
  CHECK_EQ_STR(st.message, "failed on request");
  CHECK(st.details == NULL);
  cgrpc_status_clear(&st);

  req.details = true;
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, &st), CGRPC_ESTATUS);
  static const unsigned char want[] = {0x08, 0x05, 0x12, 0x03, 'b', 'a', 'd', 0x00, 0xff};
  CHECK_EQ_INT(st.details_len, sizeof want);
  CHECK(memcmp(st.details, want, sizeof want) == 0);
  for (size_t i = 0; i < st.n_trailers; i++)
    CHECK(strcmp(st.trailers[i].key, "grpc-status-details-bin") != 0);
  cgrpc_status_clear(&st);
}

static void test_deadline(struct cgrpc_channel *ch) {
  int before = atomic_load(&echo_stats.cancels_seen);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.wait_for_cancel = true;
  struct cgrpc_call_options opts = {.timeout_ms = 200};
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, &opts, &r, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_DEADLINE_EXCEEDED);
  cgrpc_status_clear(&st);
  CHECK_MSG(echo_wait_for(&echo_stats.cancels_seen, before + 1),
            "the server never learned the deadline passed");
}

static void test_server_streaming(struct cgrpc_channel *ch) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("n");
  req.count = 5;
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(ch, &req, NULL);
  CHECK(c);
  CgrpcTest__V1__EchoReply *r;
  for (uint32_t i = 0; i < 5; i++) {
    CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(c, &r), 1);
    CHECK_EQ_INT(r->index, i);
    CHECK_EQ_STR(r->text, "n");
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(c, &r), 0);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(c, &st), 0);
  CHECK_EQ_INT(st.code, GRPC_STATUS_OK);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);
}

static void test_cancel_mid_stream(struct cgrpc_channel *ch) {
  int before = atomic_load(&echo_stats.streams_stopped);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("forever");
  req.wait_for_cancel = true;
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(ch, &req, NULL);
  CHECK(c);
  CgrpcTest__V1__EchoReply *r;
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(c, &r), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  cgrpc_client_call_cancel(c);
  /* Whatever was already in flight may still arrive; then the stream ends. */
  int got;
  while ((got = cgrpc_test__v1__echo__count__read(c, &r)) == 1)
    protobuf_c_message_free_unpacked(&r->base, NULL);
  CHECK_EQ_INT(got, 0);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(c, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_CANCELLED);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);
  CHECK_MSG(echo_wait_for(&echo_stats.streams_stopped, before + 1),
            "the server kept streaming after the client cancelled");
}

/* A reader that stops granting window leaves the server's write pending
 * forever; cgrpc_call_cancel_with_status still gets its status to the
 * client (trailers are not flow-controlled) and fails the pending write. */
static void test_cancel_with_status_stalled(struct cgrpc_server *s) {
  int before = atomic_load(&echo_stats.streams_stopped);
  char err[256];
  struct cgrpc_channel_config cfg = {.http2_stream_window = 65536};
  struct cgrpc_channel *slow = cgrpc_channel_create(echo_target(s), &cfg, err, sizeof err);
  CHECK_MSG(slow, "%s", err);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("big");
  req.wait_for_cancel = true;
  req.reply_bytes = 32768;
  req.cancel_after_ms = 500;
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(slow, &req, NULL);
  CHECK(c);
  CgrpcTest__V1__EchoReply *r;
  CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(c, &r), 1);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* read nothing more: the server's writes stall on the window */
  CHECK_MSG(echo_wait_for(&echo_stats.streams_stopped, before + 1),
            "the pending write did not fail after cgrpc_call_cancel_with_status");
  int got, n = 0;
  while ((got = cgrpc_test__v1__echo__count__read(c, &r)) == 1) {
    protobuf_c_message_free_unpacked(&r->base, NULL);
    n++;
  }
  CHECK(n < 10); /* at most what the window let through */
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_call_finish(c, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_ABORTED);
  CHECK_EQ_STR(st.message, "stalled reader");
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);
  cgrpc_channel_destroy(slow);
}

static void test_client_streaming(struct cgrpc_channel *ch) {
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__collect__start(ch, NULL);
  CHECK(c);
  const char *words[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
    req.text = S(words[i]);
    CHECK_EQ_INT(cgrpc_test__v1__echo__collect__write(c, &req), 0);
  }
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_test__v1__echo__collect__close_and_recv(c, &r, &st), 0);
  CHECK_EQ_STR(r->text, "a+b+c");
  protobuf_c_message_free_unpacked(&r->base, NULL);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);

  /* An empty client stream is fine too. */
  c = cgrpc_test__v1__echo__collect__start(ch, NULL);
  CHECK_EQ_INT(cgrpc_test__v1__echo__collect__close_and_recv(c, &r, NULL), 0);
  CHECK_EQ_STR(r->text, "");
  protobuf_c_message_free_unpacked(&r->base, NULL);
  cgrpc_client_call_destroy(c);
}

static void test_bidi(struct cgrpc_channel *ch) {
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__chat__start(ch, NULL);
  CHECK(c);
  for (uint32_t i = 0; i < 3; i++) {
    char text[16];
    snprintf(text, sizeof text, "m%u", i);
    CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
    req.text = text;
    CHECK_EQ_INT(cgrpc_test__v1__echo__chat__write(c, &req), 0);
    CgrpcTest__V1__EchoReply *r;
    CHECK_EQ_INT(cgrpc_test__v1__echo__chat__read(c, &r), 1);
    char want[24];
    snprintf(want, sizeof want, "re: m%u", i);
    CHECK_EQ_STR(r->text, want);
    CHECK_EQ_INT(r->index, i);
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  CHECK_EQ_INT(cgrpc_client_call_writes_done(c), 0);
  CgrpcTest__V1__EchoReply *r;
  CHECK_EQ_INT(cgrpc_test__v1__echo__chat__read(c, &r), 0);
  CHECK_EQ_INT(cgrpc_client_call_finish(c, NULL), 0);
  cgrpc_client_call_destroy(c);

  /* Destroying a call mid-stream cancels it and frees everything. */
  c = cgrpc_test__v1__echo__chat__start(ch, NULL);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("x");
  CHECK_EQ_INT(cgrpc_test__v1__echo__chat__write(c, &req), 0);
  cgrpc_client_call_destroy(c);
}

/* A handler that sleeps on the CQ thread shows up in handler_max_ns (and in
 * the sum handler_ns, never smaller). */
static void test_handler_time(struct cgrpc_channel *ch) {
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("slow");
  req.block_ms = 50;
  CgrpcTest__V1__EchoReply *r = NULL;
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, NULL), 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* The call is released (and reported) shortly after the reply arrives. */
  for (int i = 0; i < 2000 && atomic_load(&echo_stats.max_handler_ns) < 50 * 1000000LL; i++)
    usleep(10000);
  CHECK_MSG(atomic_load(&echo_stats.max_handler_ns) >= 50 * 1000000LL, "handler_max_ns = %lld",
            (long long)atomic_load(&echo_stats.max_handler_ns));
  CHECK_EQ_INT(atomic_load(&echo_stats.bad_handler_sums), 0);
}

static void test_unknown_method(struct cgrpc_channel *ch) {
  const struct cgrpc_method_desc bogus = {"/cgrpc_test.v1.Echo/Nope", CGRPC_METHOD_UNARY,
                                          &cgrpc_test__v1__echo_request__descriptor,
                                          &cgrpc_test__v1__echo_reply__descriptor};
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  ProtobufCMessage *r = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_client_unary(ch, &bogus, &req.base, NULL, &r, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_UNIMPLEMENTED);
  CHECK(strstr(st.message, "/cgrpc_test.v1.Echo/Nope") != NULL);
  cgrpc_status_clear(&st);
}

/* Sends raw bytes as the request of a unary method with gRPC core directly
 * and returns the status; *msg receives the status message (caller frees). */
static grpc_status_code raw_unary(const char *target, const char *method, const void *bytes,
                                  size_t len, char **msg) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create(target, creds, NULL);
  grpc_channel_credentials_release(creds);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_call *call = grpc_channel_create_call(
      ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, grpc_slice_from_static_string(method), NULL,
      gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(20, GPR_TIMESPAN)), NULL);
  grpc_slice s = grpc_slice_from_copied_buffer(bytes, len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  grpc_metadata_array imd, tmd;
  grpc_metadata_array_init(&imd);
  grpc_metadata_array_init(&tmd);
  grpc_byte_buffer *resp = NULL;
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &resp;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
  ops[5].data.recv_status_on_client.status = &code;
  ops[5].data.recv_status_on_client.status_details = &details;
  CHECK(grpc_call_start_batch(call, ops, 6, (void *)1, NULL) == GRPC_CALL_OK);
  grpc_event ev = grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  CHECK(ev.type == GRPC_OP_COMPLETE);
  *msg = grpc_slice_to_c_string(details);
  grpc_slice_unref(details);
  if (resp) grpc_byte_buffer_destroy(resp);
  grpc_byte_buffer_destroy(bb);
  grpc_metadata_array_destroy(&imd);
  grpc_metadata_array_destroy(&tmd);
  grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  grpc_channel_destroy(ch);
  return code;
}

static void test_malformed(struct cgrpc_server *s) {
  /* Field 1 (string) claims 100 bytes but 2 follow; then a bad wire type. */
  static const unsigned char truncated[] = {0x0a, 100, 'h', 'i'};
  static const unsigned char bad_wire[] = {0x0f, 0x01};
  static const unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const void *cases[] = {truncated, bad_wire, garbage};
  size_t lens[] = {sizeof truncated, sizeof bad_wire, sizeof garbage};
  for (int i = 0; i < 3; i++) {
    char *msg = NULL;
    grpc_status_code code = raw_unary(echo_target(s), "/cgrpc_test.v1.Echo/Say", cases[i], lens[i], &msg);
    CHECK_MSG(code == GRPC_STATUS_INVALID_ARGUMENT, "case %d: code %d (%s)", i, code, msg);
    CHECK(strstr(msg, "cgrpc_test.v1.EchoRequest") != NULL);
    gpr_free(msg);
  }
  /* The same on a client stream: the call is cancelled with INVALID_ARGUMENT. */
  char *msg = NULL;
  grpc_status_code code = raw_unary(echo_target(s), "/cgrpc_test.v1.Echo/Collect", truncated,
                                    sizeof truncated, &msg);
  CHECK_MSG(code == GRPC_STATUS_INVALID_ARGUMENT, "stream: code %d (%s)", code, msg);
  gpr_free(msg);
}

/* Exact strings: a NUL byte or invalid UTF-8 in a string field is refused
 * before the handler runs (no on_field_error hook here: cgrpc's own
 * INVALID_ARGUMENT naming the field), on a unary, a server-streaming and a
 * client-streaming call. */
static void test_inexact_strings(struct cgrpc_server *s) {
  static const unsigned char nul[] = {0x0a, 3, 'a', 0, 'b'};
  static const unsigned char bad_utf8[] = {0x0a, 2, 'a', 0xff};
  static const unsigned char good[] = {0x0a, 3, 'a', 'b', 'c'};
  struct {
    const char *method;
    const unsigned char *bytes;
    size_t len;
    grpc_status_code code;
    const char *want;
  } cases[] = {
      {"/cgrpc_test.v1.Echo/Say", nul, sizeof nul, GRPC_STATUS_INVALID_ARGUMENT,
       "/cgrpc_test.v1.Echo/Say: text contains a NUL byte"},
      {"/cgrpc_test.v1.Echo/Say", bad_utf8, sizeof bad_utf8, GRPC_STATUS_INVALID_ARGUMENT,
       "/cgrpc_test.v1.Echo/Say: text is not valid UTF-8"},
      {"/cgrpc_test.v1.Echo/Count", nul, sizeof nul, GRPC_STATUS_INVALID_ARGUMENT,
       "/cgrpc_test.v1.Echo/Count: text contains a NUL byte"},
      {"/cgrpc_test.v1.Echo/Collect", bad_utf8, sizeof bad_utf8, GRPC_STATUS_INVALID_ARGUMENT,
       "/cgrpc_test.v1.Echo/Collect: a stream message's text is not valid UTF-8"},
      {"/cgrpc_test.v1.Echo/Say", good, sizeof good, GRPC_STATUS_OK, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *msg = NULL;
    grpc_status_code code = raw_unary(echo_target(s), cases[i].method, cases[i].bytes, cases[i].len, &msg);
    CHECK_MSG(code == cases[i].code, "case %zu: code %d (%s)", i, code, msg);
    CHECK_MSG(strcmp(msg, cases[i].want) == 0, "case %zu: \"%s\", want \"%s\"", i, msg, cases[i].want);
    gpr_free(msg);
  }
}

static void test_size_limits(void) {
  struct cgrpc_server_config cfg = {.max_recv_bytes = 64 * 1024, .max_send_bytes = 64 * 1024};
  struct cgrpc_server *s = echo_server_start(&cfg);
  struct cgrpc_channel *ch = channel_to(s);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  static unsigned char big[100 * 1024];
  req.text = S("big");
  req.payload.data = big;
  req.payload.len = sizeof big;
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, &st), CGRPC_ESTATUS);
  CHECK_MSG(st.code == GRPC_STATUS_RESOURCE_EXHAUSTED, "oversize request: %d %s", st.code,
            st.message);
  cgrpc_status_clear(&st);

  /* Under the limit both ways works. */
  req.payload.len = 1000;
  req.reply_bytes = 1000;
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, &st), 0);
  CHECK_EQ_INT(r->payload.len, 1000);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  cgrpc_status_clear(&st);

  /* A reply over the server's send limit becomes RESOURCE_EXHAUSTED. */
  req.reply_bytes = 100 * 1024;
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(ch, &req, NULL, &r, &st), CGRPC_ESTATUS);
  CHECK_MSG(st.code == GRPC_STATUS_RESOURCE_EXHAUSTED, "oversize reply: %d %s", st.code,
            st.message);
  cgrpc_status_clear(&st);

  /* So does a stream message over the limit. */
  req.count = 2;
  struct cgrpc_client_call *c = cgrpc_test__v1__echo__count__start(ch, &req, NULL);
  CHECK_EQ_INT(cgrpc_test__v1__echo__count__read(c, &r), 0);
  CHECK_EQ_INT(cgrpc_client_call_finish(c, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
  cgrpc_status_clear(&st);
  cgrpc_client_call_destroy(c);

  /* The client's own receive limit applies to responses. */
  struct cgrpc_channel_config ccfg = {.max_recv_bytes = 4096};
  char err[128];
  struct cgrpc_channel *small = cgrpc_channel_create(echo_target(s), &ccfg, err, sizeof err);
  req.count = 0;
  req.reply_bytes = 10000;
  CHECK_EQ_INT(cgrpc_test__v1__echo__say__call(small, &req, NULL, &r, &st), CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
  cgrpc_status_clear(&st);
  cgrpc_channel_destroy(small);

  cgrpc_channel_destroy(ch);
  cgrpc_server_shutdown(s, 1000);
  cgrpc_server_destroy(s);
}

int main(void) {
  struct cgrpc_server *s = echo_server_start(NULL);
  struct cgrpc_channel *ch = channel_to(s);
  test_unary(ch);
  test_status_details(ch);
  test_deadline(ch);
  test_server_streaming(ch);
  test_cancel_mid_stream(ch);
  test_cancel_with_status_stalled(s);
  test_client_streaming(ch);
  test_bidi(ch);
  test_handler_time(ch);
  test_unknown_method(ch);
  test_malformed(s);
  test_inexact_strings(s);
  cgrpc_channel_destroy(ch);
  cgrpc_server_shutdown(s, 5000);
  cgrpc_server_destroy(s);
  test_size_limits();
  return check_done();
}
