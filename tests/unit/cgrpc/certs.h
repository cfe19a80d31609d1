/* Test certificates made with the openssl CLI in a fresh temp dir: a CA, a
 * server certificate for localhost/127.0.0.1 and a client certificate signed
 * by it, plus a second, unrelated CA with its own client certificate. */
#ifndef CGRPC_TEST_CERTS_H
#define CGRPC_TEST_CERTS_H

struct test_certs {
  char dir[256];
  char *ca, *server_cert, *server_key, *client_cert, *client_key; /* PEM text */
  char *other_ca, *other_client_cert, *other_client_key;
};

/* Creates everything or exits the test. */
void test_certs_make(struct test_certs *c);
/* "<dir>/<name>" in a static buffer (for tools that want file names). */
const char *test_certs_path(const struct test_certs *c, const char *name);
/* Frees the PEM text and removes the directory. */
void test_certs_free(struct test_certs *c);

#endif
