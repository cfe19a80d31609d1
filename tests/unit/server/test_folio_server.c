/* folio-server as a process: started on 127.0.0.1:0 by this test, which waits
 * for its "listening" line, then checks Health (Check and Watch), the
 * UNIMPLEMENTED LayoutService RPCs, request-id correlation, the version
 * header, the per-call JSON log line, SIGTERM (Watch sees NOT_SERVING, exit
 * 0) and configuration errors (exit 2).
 *
 *   test_folio_server <path to folio-server> */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certs.h"
#include "check.h"
#include "folio/v1/layout_service.cgrpc.h"
#include "grpc/health/v1/health.cgrpc.h"

#define S(x) ((char *)(uintptr_t)(x))

static const char *server_path;

/* A child process with its stderr collected by a thread. */
struct child {
  pid_t pid;
  int err_fd;
  pthread_t reader;
  pthread_mutex_t mu;
  char log[1 << 20];
  size_t len;
  bool eof;
};

static void *read_stderr(void *arg) {
  struct child *c = arg;
  char buf[4096];
  for (;;) {
    ssize_t n = read(c->err_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    pthread_mutex_lock(&c->mu);
    if (n <= 0) {
      c->eof = true;
      pthread_mutex_unlock(&c->mu);
      return NULL;
    }
    size_t room = sizeof c->log - 1 - c->len;
    size_t k = (size_t)n < room ? (size_t)n : room;
    memcpy(c->log + c->len, buf, k);
    c->len += k;
    c->log[c->len] = '\0';
    pthread_mutex_unlock(&c->mu);
  }
}

/* Starts folio-server with extra argv (NULL-terminated) and env pairs. */
static void child_start(struct child *c, char *const *args, char *const *env) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  c->pid = fork();
  CHECK(c->pid >= 0);
  if (c->pid == 0) {
    dup2(p[1], 2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    for (char *const *e = env; e && *e; e += 2) setenv(e[0], e[1], 1);
    char *argv[16] = {S(server_path)};
    int n = 1;
    for (char *const *a = args; a && *a && n < 15; a++) argv[n++] = *a;
    argv[n] = NULL;
    execv(server_path, argv);
    _exit(127);
  }
  close(p[1]);
  c->err_fd = p[0];
  CHECK(pthread_create(&c->reader, NULL, read_stderr, c) == 0);
}

/* Waits up to 20 s for needle in the log (or EOF); returns a pointer to the
 * line start inside a copy the caller frees, or NULL. */
static char *child_wait_log(struct child *c, const char *needle) {
  for (int i = 0; i < 2000; i++) {
    pthread_mutex_lock(&c->mu);
    char *hit = strstr(c->log, needle);
    bool eof = c->eof;
    char *copy = hit ? strdup(hit) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (copy || eof) return copy;
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* Waits (bounded) for the child to exit; returns its exit status or -1. */
static int child_wait(struct child *c) {
  int st = 0;
  for (int i = 0; i < 3000; i++) {
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if (r == c->pid) {
      pthread_join(c->reader, NULL);
      close(c->err_fd);
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  kill(c->pid, SIGKILL);
  waitpid(c->pid, &st, 0);
  pthread_join(c->reader, NULL);
  close(c->err_fd);
  return -1;
}

static int check_health(struct cgrpc_channel *ch, const char *service, struct cgrpc_status *st) {
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = S(service);
  Grpc__Health__V1__HealthCheckResponse *r = NULL;
  struct cgrpc_call_options opts = {.timeout_ms = 10000};
  int rc = grpc__health__v1__health__check__call(ch, &req, &opts, &r, st);
  int status = rc == 0 ? (int)r->status : -1;
  if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  return status;
}

/* Starts folio-server with env and waits for its "listening" line; writes
 * the address it reports into target. */
static void start_listening(struct child *c, char *const *env, char target[128]) {
  child_start(c, NULL, env);
  char *line = child_wait_log(c, "\"msg\":\"listening\"");
  CHECK_MSG(line, "folio-server never said it was listening:\n%s", c->log);
  char *a = strstr(line, "\"address\":\"");
  CHECK(a);
  a += strlen("\"address\":\"");
  size_t n = strcspn(a, "\"");
  CHECK(n < 128);
  memcpy(target, a, n);
  target[n] = '\0';
  free(line);
  CHECK(strncmp(target, "127.0.0.1:", 10) == 0 && atoi(target + 10) > 0);
}

static void test_running_server(void) {
  struct child c;
  char *env[] = {S("FOLIO_LISTEN"), S("127.0.0.1:0"), S("FOLIO_CQ_THREADS"), S("2"),
                 S("FOLIO_SHUTDOWN_GRACE_MS"), S("5000"), NULL};
  char target[128];
  start_listening(&c, env, target);

  char err[256];
  struct cgrpc_channel *ch = cgrpc_channel_create(target, NULL, err, sizeof err);
  CHECK(ch);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(check_health(ch, "", &st), GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  /* Request correlation: a generated id and the version come back. */
  const char *rid = cgrpc_status_header(&st, "x-request-id");
  CHECK(rid && strlen(rid) == 32);
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-folio-version"), FOLIO_VERSION);
  cgrpc_status_clear(&st);
  CHECK_EQ_INT(check_health(ch, "folio.v1.LayoutService", NULL),
               GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  CHECK_EQ_INT(check_health(ch, "no.such.Service", &st), -1);
  CHECK_EQ_INT(st.code, GRPC_STATUS_NOT_FOUND);
  cgrpc_status_clear(&st);

  /* Without backends configured, every LayoutService RPC is UNIMPLEMENTED
   * and says which setting is missing; a client x-request-id is echoed. */
  struct cgrpc_metadata md[] = {{"x-request-id", "req-42", 6}};
  struct cgrpc_call_options opts = {.timeout_ms = 10000, .metadata = md, .metadata_count = 1};
  Folio__V1__SubmitLayoutRequest sreq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  Folio__V1__SubmitLayoutResponse *sresp = NULL;
  CHECK_EQ_INT(folio__v1__layout_service__submit_layout__call(ch, &sreq, &opts, &sresp, &st),
               CGRPC_ESTATUS);
  CHECK_EQ_INT(st.code, GRPC_STATUS_UNIMPLEMENTED);
  CHECK(strstr(st.message, "SubmitLayout") && strstr(st.message, "not enabled"));
  CHECK_EQ_STR(cgrpc_status_header(&st, "x-request-id"), "req-42");
  cgrpc_status_clear(&st);
  const char *names[] = {"GetStatus", "CancelJob", "GetArtifactUrl", "StreamArtifact",
                         "WatchJob"};
  for (size_t i = 0; i < 5; i++) {
    const struct cgrpc_method_desc *m = NULL;
    for (size_t k = 0; k < folio__v1__layout_service__service.n_methods; k++) {
      const char *p = folio__v1__layout_service__methods[k].path;
      if (strcmp(strrchr(p, '/') + 1, names[i]) == 0) m = &folio__v1__layout_service__methods[k];
    }
    CHECK(m);
    /* An empty message is a valid request of every type. */
    Folio__V1__GetStatusRequest empty = FOLIO__V1__GET_STATUS_REQUEST__INIT;
    struct cgrpc_client_call *cc = cgrpc_client_call_start(ch, m, &opts);
    CHECK(cc);
    CHECK_EQ_INT(cgrpc_client_call_write(cc, &empty.base), 0);
    cgrpc_client_call_writes_done(cc);
    ProtobufCMessage *msg = NULL;
    CHECK_EQ_INT(cgrpc_client_call_read(cc, &msg), 0);
    CHECK_EQ_INT(cgrpc_client_call_finish(cc, &st), CGRPC_ESTATUS);
    CHECK_EQ_INT(st.code, GRPC_STATUS_UNIMPLEMENTED);
    CHECK_MSG(strstr(st.message, names[i]) && strstr(st.message, "not enabled"), "%s", st.message);
    cgrpc_status_clear(&st);
    cgrpc_client_call_destroy(cc);
  }
  char *logline = child_wait_log(&c, "\"request_id\":\"req-42\"");
  CHECK_MSG(logline, "no log line for request req-42:\n%s", c.log);
  free(logline);
  logline = child_wait_log(&c, "\"method\":\"/folio.v1.LayoutService/SubmitLayout\",\"code\":12");
  CHECK_MSG(logline, "no rpc log line for SubmitLayout:\n%s", c.log);
  CHECK(strstr(logline, "\"peer\":\"ipv4:127.0.0.1:") != NULL);
  free(logline);

  /* Watch: SERVING now, NOT_SERVING once the server is told to stop. */
  Grpc__Health__V1__HealthCheckRequest wreq = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  wreq.service = S("");
  struct cgrpc_client_call *w = grpc__health__v1__health__watch__start(ch, &wreq, NULL);
  Grpc__Health__V1__HealthCheckResponse *wr = NULL;
  CHECK_EQ_INT(grpc__health__v1__health__watch__read(w, &wr), 1);
  CHECK_EQ_INT(wr->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  protobuf_c_message_free_unpacked(&wr->base, NULL);
  /* A Watch of an unknown service says SERVICE_UNKNOWN and stays open. */
  wreq.service = S("no.such.Service");
  struct cgrpc_client_call *w2 = grpc__health__v1__health__watch__start(ch, &wreq, NULL);
  CHECK_EQ_INT(grpc__health__v1__health__watch__read(w2, &wr), 1);
  CHECK_EQ_INT(wr->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
  protobuf_c_message_free_unpacked(&wr->base, NULL);
  cgrpc_client_call_destroy(w2);

  CHECK(kill(c.pid, SIGTERM) == 0);
  CHECK_EQ_INT(grpc__health__v1__health__watch__read(w, &wr), 1);
  CHECK_EQ_INT(wr->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
  protobuf_c_message_free_unpacked(&wr->base, NULL);
  cgrpc_client_call_cancel(w);
  cgrpc_client_call_destroy(w);
  cgrpc_channel_destroy(ch);
  int code = child_wait(&c);
  CHECK_MSG(code == 0, "folio-server exited with %d:\n%s", code, c.log);
  CHECK(strstr(c.log, "\"msg\":\"stopped\"") != NULL);
}

/* TLS with a required client certificate, configured by FOLIO_TLS_*. */
static void test_mtls_server(void) {
  struct test_certs certs;
  test_certs_make(&certs);
  char cert[512], key[512], ca[512];
  snprintf(cert, sizeof cert, "%s", test_certs_path(&certs, "server.pem"));
  snprintf(key, sizeof key, "%s", test_certs_path(&certs, "server.key"));
  snprintf(ca, sizeof ca, "%s", test_certs_path(&certs, "ca.pem"));
  char *env[] = {S("FOLIO_LISTEN"), S("127.0.0.1:0"), S("FOLIO_TLS_CERT"), cert,
                 S("FOLIO_TLS_KEY"), key, S("FOLIO_TLS_CLIENT_CA"), ca, NULL};
  struct child c;
  char target[128];
  start_listening(&c, env, target);
  CHECK(strstr(c.log, "\"mtls\":true") != NULL);
  char err[256];
  struct cgrpc_channel_config good = {.tls_root_pem = certs.ca,
                                      .tls_cert_pem = certs.client_cert,
                                      .tls_key_pem = certs.client_key};
  struct cgrpc_channel *ch = cgrpc_channel_create(target, &good, err, sizeof err);
  CHECK_EQ_INT(check_health(ch, "", NULL),
               GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  cgrpc_channel_destroy(ch);
  struct cgrpc_channel_config no_cert = {.tls_root_pem = certs.ca};
  ch = cgrpc_channel_create(target, &no_cert, err, sizeof err);
  struct cgrpc_status st = {0};
  CHECK_EQ_INT(check_health(ch, "", &st), -1);
  CHECK_EQ_INT(st.code, GRPC_STATUS_UNAVAILABLE);
  cgrpc_status_clear(&st);
  cgrpc_channel_destroy(ch);
  CHECK(kill(c.pid, SIGTERM) == 0);
  CHECK_EQ_INT(child_wait(&c), 0);
  test_certs_free(&certs);
}

static void test_bad_config(void) {
  struct {
    char *env[3];
    char *args[3];
    const char *says;
  } cases[] = {
      {{S("FOLIO_MAX_RECV_BYTES"), S("lots"), NULL}, {NULL}, "FOLIO_MAX_RECV_BYTES"},
      {{S("FOLIO_CQ_THREADS"), S("0"), NULL}, {NULL}, "FOLIO_CQ_THREADS"},
      {{NULL}, {S("--log-level"), S("loud"), NULL}, "--log-level"},
      {{NULL}, {S("--shutdown-grace-ms=-5"), NULL}, "--shutdown-grace-ms"},
      {{NULL}, {S("--frobnicate"), NULL}, "--frobnicate"},
      {{S("FOLIO_STREAMS_PER_TENANT"), S("0"), NULL}, {NULL}, "FOLIO_STREAMS_PER_TENANT"},
      {{NULL}, {S("--max-concurrent-streams=-1"), NULL}, "--max-concurrent-streams"},
      {{S("FOLIO_KEEPALIVE_TIME_MS"), S("1h"), NULL}, {NULL}, "FOLIO_KEEPALIVE_TIME_MS"},
      {{S("FOLIO_TLS_CERT"), S("/nonexistent/cert.pem"), NULL}, {NULL}, "FOLIO_TLS_KEY"},
      {{NULL}, {S("--tls-cert=/nonexistent/c.pem"), S("--tls-key=/nonexistent/k.pem"), NULL},
       "/nonexistent/c.pem"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct child c;
    child_start(&c, cases[i].args, cases[i].env);
    int code = child_wait(&c);
    CHECK_MSG(code == 2, "case %zu: exit %d\n%s", i, code, c.log);
    CHECK_MSG(strstr(c.log, cases[i].says), "case %zu: message does not name %s:\n%s", i,
              cases[i].says, c.log);
  }
  /* Flags override the environment. */
  struct child c;
  char *env[] = {S("FOLIO_CQ_THREADS"), S("zero"), NULL};
  char *args[] = {S("--cq-threads=2"), S("--help"), NULL};
  child_start(&c, args, env);
  CHECK_MSG(child_wait(&c) == 0, "a flag did not override FOLIO_CQ_THREADS:\n%s", c.log);
  char *args2[] = {S("--help"), NULL};
  child_start(&c, args2, NULL);
  CHECK_EQ_INT(child_wait(&c), 0);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: test_folio_server <folio-server>");
  server_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  test_running_server();
  test_mtls_server();
  test_bad_config();
  return check_done();
}
