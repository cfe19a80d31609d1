/* TLS and mTLS: certificates made by the openssl CLI in a temp dir; the C
 * client against the C server with the right CA, the wrong CA, no TLS, and
 * (for mTLS) with no, a trusted and an untrusted client certificate. */
#include <string.h>

#include "certs.h"
#include "check.h"
#include "echo_server.h"

#define S(x) ((char *)(uintptr_t)(x))

/* Calls Say over a channel made with cfg (NULL = insecure); returns the
 * status code. */
static grpc_status_code say_over(struct cgrpc_server *s, const struct cgrpc_channel_config *cfg) {
  char err[256] = "";
  struct cgrpc_channel *ch = cgrpc_channel_create(echo_target(s), cfg, err, sizeof err);
  CHECK_MSG(ch, "channel: %s", err);
  CgrpcTest__V1__EchoRequest req = CGRPC_TEST__V1__ECHO_REQUEST__INIT;
  req.text = S("secret");
  CgrpcTest__V1__EchoReply *r = NULL;
  struct cgrpc_status st = {0};
  struct cgrpc_call_options opts = {.timeout_ms = 20000};
  int rc = cgrpc_test__v1__echo__say__call(ch, &req, &opts, &r, &st);
  grpc_status_code code = st.code;
  if (rc == 0) {
    CHECK_EQ_STR(r->text, "secret");
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  cgrpc_status_clear(&st);
  cgrpc_channel_destroy(ch);
  return code;
}

static void test_tls(const struct test_certs *c) {
  struct cgrpc_server_config cfg = {.tls_cert_pem = c->server_cert, .tls_key_pem = c->server_key};
  struct cgrpc_server *s = echo_server_start(&cfg);
  struct cgrpc_channel_config good = {.tls_root_pem = c->ca,
                                      .tls_target_name_override = "localhost"};
  CHECK_EQ_INT(say_over(s, &good), GRPC_STATUS_OK);
  /* 127.0.0.1 is in the certificate's SANs, so no override is needed. */
  struct cgrpc_channel_config by_ip = {.tls_root_pem = c->ca};
  CHECK_EQ_INT(say_over(s, &by_ip), GRPC_STATUS_OK);
  struct cgrpc_channel_config wrong_ca = {.tls_root_pem = c->other_ca,
                                          .tls_target_name_override = "localhost"};
  CHECK_EQ_INT(say_over(s, &wrong_ca), GRPC_STATUS_UNAVAILABLE);
  CHECK_EQ_INT(say_over(s, NULL), GRPC_STATUS_UNAVAILABLE);
  cgrpc_server_shutdown(s, 1000);
  cgrpc_server_destroy(s);
}

static void test_mtls(const struct test_certs *c) {
  struct cgrpc_server_config cfg = {.tls_cert_pem = c->server_cert,
                                    .tls_key_pem = c->server_key,
                                    .tls_client_ca_pem = c->ca};
  struct cgrpc_server *s = echo_server_start(&cfg);
  struct cgrpc_channel_config with_cert = {.tls_root_pem = c->ca,
                                           .tls_cert_pem = c->client_cert,
                                           .tls_key_pem = c->client_key,
                                           .tls_target_name_override = "localhost"};
  CHECK_EQ_INT(say_over(s, &with_cert), GRPC_STATUS_OK);
  struct cgrpc_channel_config no_cert = {.tls_root_pem = c->ca,
                                         .tls_target_name_override = "localhost"};
  CHECK_EQ_INT(say_over(s, &no_cert), GRPC_STATUS_UNAVAILABLE);
  struct cgrpc_channel_config stranger = {.tls_root_pem = c->ca,
                                          .tls_cert_pem = c->other_client_cert,
                                          .tls_key_pem = c->other_client_key,
                                          .tls_target_name_override = "localhost"};
  CHECK_EQ_INT(say_over(s, &stranger), GRPC_STATUS_UNAVAILABLE);
  cgrpc_server_shutdown(s, 1000);
  cgrpc_server_destroy(s);
}

static void test_bad_config(const struct test_certs *c) {
  char err[256] = "";
  struct cgrpc_server_config half = {.listen = "127.0.0.1:0", .tls_cert_pem = c->server_cert};
  CHECK(cgrpc_server_create(&half, err, sizeof err) == NULL);
  CHECK(strstr(err, "key") != NULL);
  struct cgrpc_server_config ca_only = {.listen = "127.0.0.1:0", .tls_client_ca_pem = c->ca};
  CHECK(cgrpc_server_create(&ca_only, err, sizeof err) == NULL);
  /* Garbage PEM: the server refuses to start and says why; nothing crashes. */
  struct cgrpc_server_config junk = {.listen = "127.0.0.1:0",
                                     .tls_cert_pem = "not a certificate",
                                     .tls_key_pem = "not a key"};
  struct cgrpc_server *s = cgrpc_server_create(&junk, err, sizeof err);
  CHECK(s);
  CHECK_EQ_INT(cgrpc_server_start(s, err, sizeof err), CGRPC_ESTARTUP);
  CHECK(strstr(err, "127.0.0.1:0") != NULL);
  cgrpc_server_destroy(s);
}

int main(void) {
  struct test_certs c;
  test_certs_make(&c);
  test_tls(&c);
  test_mtls(&c);
  test_bad_config(&c);
  test_certs_free(&c);
  return check_done();
}
