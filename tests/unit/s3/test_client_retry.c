/* Retry policy and error surfacing of the S3 client, against a scripted HTTP
 * responder on 127.0.0.1 (a thread of this test). This checks only the
 * client's reaction to status codes; signatures are checked against real S3
 * (tests/integration/s3) and botocore (sigv4_diff.py).
 *
 * Covered: 503, 500 and 429 are retried for idempotent requests and the result
 * reports the attempts; 4xx is not retried; a POST (CompleteMultipartUpload
 * kind) is never retried; S3's <Code>/<Message> reach the caller; each attempt
 * carries a fresh signature with x-amz-content-sha256; connections are reused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "folio/loop.h"
#include "folio/s3.h"
#include "s3_int.h"

struct reply {
  int status;
  const char *body;
};

static struct reply script[16];
static int nscript, next_reply;
static atomic_int requests, connections;
static int listen_fd;
static char last_request[8192];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *server(void *arg) {
  for (;;) {
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0) return NULL;
    atomic_fetch_add(&connections, 1);
    char buf[16384];
    size_t have = 0;
    for (;;) {
      char *end = NULL;
      while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) goto closed;
        have += (size_t)n;
      }
      size_t head = (size_t)(end + 4 - buf);
      buf[have] = '\0';
      size_t clen = 0;
      char *cl = strcasestr(buf, "\r\ncontent-length:");
      if (cl && cl < end) clen = strtoul(cl + 17, NULL, 10);
      while (have < head + clen) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) goto closed;
        have += (size_t)n;
      }
      pthread_mutex_lock(&mu);
      snprintf(last_request, sizeof last_request, "%.*s", (int)head, buf);
      struct reply r = next_reply < nscript ? script[next_reply++] : (struct reply){200, ""};
      pthread_mutex_unlock(&mu);
      atomic_fetch_add(&requests, 1);
      char out[4096];
      int n = snprintf(out, sizeof out,
                       "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nETag: \"e\"\r\n"
                       "Content-Type: application/xml\r\n\r\n%s",
                       r.status, strlen(r.body), r.body);
      if (write(fd, out, (size_t)n) != n) goto closed;
      memmove(buf, buf + head + clen, have - head - clen);
      have -= head + clen;
    }
  closed:
    close(fd);
  }
}

struct done {
  int calls, status, attempts;
  long http;
  char code[64], msg[128];
};

static void on_done(void *arg, const struct folio_s3_result *r) {
  struct done *d = arg;
  d->calls++;
  d->status = r->status;
  d->attempts = r->attempts;
  d->http = r->http_status;
  snprintf(d->code, sizeof d->code, "%s", r->error_code);
  snprintf(d->msg, sizeof d->msg, "%s", r->error_message);
}

static struct folio_loop *loop;

static void wait_done(struct done *d) {
  for (int i = 0; d->calls == 0 && i < 10000; i++) CHECK(folio_loop_run_once(loop, 100) >= 0);
  CHECK_EQ_INT(d->calls, 1);
}

static void set_script(const struct reply *r, int n) {
  pthread_mutex_lock(&mu);
  memcpy(script, r, (size_t)n * sizeof *r);
  nscript = n;
  next_reply = 0;
  pthread_mutex_unlock(&mu);
  atomic_store(&requests, 0);
}

static int nodata(void *arg, const void *d, size_t n) { return FOLIO_S3_CONTINUE; }

static void complete_post(struct folio_s3_req *rq, struct folio_s3_result *res) {
  on_done(folio_s3_req_arg(rq), res);
}

int main(void) {
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  CHECK(bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0);
  CHECK(listen(listen_fd, 16) == 0);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, server, NULL) == 0);
  char ep[64];
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d", ntohs(a.sin_port));
  loop = folio_loop_create();
  struct folio_s3_config cfg = {.endpoint = ep, .bucket = "bkt", .access_key = "AK",
                                .secret_key = "SK", .max_retries = 3, .retry_base_ms = 1};
  char err[256];
  struct folio_s3_client *c = folio_s3_client_create(&cfg, loop, err, sizeof err);
  CHECK_MSG(c, "%s", err);

  static const char slow[] = "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>";
  static const char internal[] = "<Error><Code>InternalError</Code><Message>oops</Message></Error>";
  /* 503, 500, 429, then success: retried three times */
  struct reply r1[] = {{503, slow}, {500, internal}, {429, slow}, {200, ""}};
  set_script(r1, 4);
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_put(c, "a b", "xyz", 3, "text/plain", on_done, &d), 0);
  wait_done(&d);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.attempts, 4);
  CHECK_EQ_INT(atomic_load(&requests), 4);
  pthread_mutex_lock(&mu);
  CHECK(strstr(last_request, "PUT /bkt/a%20b HTTP/1.1"));
  CHECK(strstr(last_request, "x-amz-content-sha256: 3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282"));
  CHECK(strstr(last_request, "Authorization: AWS4-HMAC-SHA256 Credential=AK/"));
  CHECK(strstr(last_request, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"));
  pthread_mutex_unlock(&mu);
  CHECK_EQ_INT(atomic_load(&connections), 1); /* one connection for all four */

  /* more 5xx than retries: the last error is reported with S3's code */
  struct reply r2[] = {{503, slow}, {503, slow}, {503, slow}, {503, slow}, {200, ""}};
  set_script(r2, 5);
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(folio_s3_get(c, "k", NULL, nodata, on_done, &d, NULL), 0);
  wait_done(&d);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_INT(d.http, 503);
  CHECK_EQ_STR(d.code, "SlowDown");
  CHECK_EQ_STR(d.msg, "Reduce your rate");
  CHECK_EQ_INT(d.attempts, 4);

  /* 4xx: no retry */
  struct reply r3[] = {{403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"}};
  set_script(r3, 1);
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(folio_s3_delete(c, "k", on_done, &d), 0);
  wait_done(&d);
  CHECK_EQ_STR(d.code, "AccessDenied");
  CHECK_EQ_INT(d.attempts, 1);
  CHECK_EQ_INT(atomic_load(&requests), 1);

  /* a non-idempotent POST is not retried even on 500 */
  struct reply r4[] = {{500, internal}, {200, ""}};
  set_script(r4, 2);
  memset(&d, 0, sizeof d);
  struct folio_s3_req_spec s = {.method = "POST", .key = "k", .query = {{"uploadId", "x"}},
                                .nquery = 1, .body = "<x/>", .body_len = 4, .idempotent = false,
                                .keep_body = true, .complete = complete_post, .complete_arg = &d};
  folio_s3_req_start(c, &s);
  wait_done(&d);
  CHECK_EQ_STR(d.code, "InternalError");
  CHECK_EQ_INT(d.attempts, 1);
  CHECK_EQ_INT(atomic_load(&requests), 1);

  /* an unreadable error body is reported, not crashed on */
  struct reply r5[] = {{400, "<Error><Code>Bad"}};
  set_script(r5, 1);
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(folio_s3_head(c, "k", on_done, &d), 0);
  wait_done(&d);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_INT(d.http, 400);

  folio_s3_client_destroy(c);
  folio_loop_destroy(loop);
  shutdown(listen_fd, SHUT_RDWR);
  close(listen_fd);
  pthread_join(th, NULL);
  return check_done();
}
