#include "certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static void run(const struct test_certs *c, const char *cmd) {
  char full[2048];
  snprintf(full, sizeof full, "cd '%s' && %s >>openssl.log 2>&1", c->dir, cmd);
  int rc = system(full);
  CHECK_MSG(rc == 0, "openssl step failed (%d): %s (see %s/openssl.log)", rc, cmd, c->dir);
}

static char *slurp(const struct test_certs *c, const char *name) {
  FILE *f = fopen(test_certs_path(c, name), "rb");
  CHECK_MSG(f, "cannot open %s", name);
  static char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strdup(buf);
  CHECK(p);
  return p;
}

const char *test_certs_path(const struct test_certs *c, const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", c->dir, name);
  return p;
}

/* A CA named <ca>, and a leaf <leaf> signed by it with extensions ext. */
static void make_ca(const struct test_certs *c, const char *ca) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.pem -days 2 -subj '/CN=cgrpc test %s'",
           ca, ca, ca);
  run(c, cmd);
}

static void make_leaf(const struct test_certs *c, const char *ca, const char *leaf,
                      const char *cn, const char *ext) {
  char cmd[1024];
  char name[64];
  snprintf(name, sizeof name, "%s.ext", leaf);
  FILE *f = fopen(test_certs_path(c, name), "w");
  CHECK(f);
  fprintf(f, "%s\n", ext);
  CHECK(fclose(f) == 0);
  snprintf(cmd, sizeof cmd,
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.csr -subj '/CN=%s'",
           leaf, leaf, cn);
  run(c, cmd);
  snprintf(cmd, sizeof cmd,
           "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial "
           "-out %s.pem -days 2 -extfile %s.ext",
           leaf, ca, ca, leaf, leaf);
  run(c, cmd);
}

void test_certs_make(struct test_certs *c) {
  memset(c, 0, sizeof *c);
  const char *tmp = getenv("TMPDIR");
  snprintf(c->dir, sizeof c->dir, "%s/cgrpc-certs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  CHECK(mkdtemp(c->dir));
  make_ca(c, "ca");
  make_leaf(c, "ca", "server", "localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  make_leaf(c, "ca", "client", "cgrpc test client", "extendedKeyUsage=clientAuth");
  make_ca(c, "other");
  make_leaf(c, "other", "otherclient", "cgrpc stranger", "extendedKeyUsage=clientAuth");
  c->ca = slurp(c, "ca.pem");
  c->server_cert = slurp(c, "server.pem");
  c->server_key = slurp(c, "server.key");
  c->client_cert = slurp(c, "client.pem");
  c->client_key = slurp(c, "client.key");
  c->other_ca = slurp(c, "other.pem");
  c->other_client_cert = slurp(c, "otherclient.pem");
  c->other_client_key = slurp(c, "otherclient.key");
}

void test_certs_free(struct test_certs *c) {
  free(c->ca);
  free(c->server_cert);
  free(c->server_key);
  free(c->client_cert);
  free(c->client_key);
  free(c->other_ca);
  free(c->other_client_cert);
  free(c->other_client_key);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", c->dir);
}
