/* lib/s3 against a real S3 implementation: a throwaway Ceph RGW started by this
 * program (tests/harness/s3_service.h), once for all cases below.
 *
 * Covered: bucket create-if-missing, PUT/GET/HEAD/DELETE with odd keys, ranged
 * GET (plain, suffix, open, 416), a 22 MiB multipart upload fed from another
 * thread with parts in flight at once and the memory bound checked, abort on
 * producer failure (no multipart upload left: ListMultipartUploads), GET with
 * pause/resume from another thread and cancel, wrong secret →
 * SignatureDoesNotMatch, NoSuchKey, presigned URLs fetched with the curl CLI
 * (200, tampered 403, expired 403, response-content-disposition honoured),
 * virtual-hosted addressing, retries on connection errors, client destroy with
 * operations pending, and the synchronous wrappers. */
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "folio/loop.h"
#include "folio/s3.h"
#include "s3_int.h"
#include "s3_service.h"
#include "xml.h"

static struct s3_service svc;
static struct folio_loop *loop;
static struct folio_s3_config cfg;

/* ---- helpers: one completion slot, the loop runs on this (main) thread ---- */

struct done {
  bool called;
  int calls;
  int status;
  long http;
  char code[64], msg[512], etag[128], ctype[64];
  uint64_t clen, size;
  int attempts, parts, peak_flight;
  size_t peak_buffered;
  struct folio_str body;
  int pauses;
};

static void on_done(void *arg, const struct folio_s3_result *r) {
  struct done *d = arg;
  d->calls++;
  d->called = true;
  d->status = r->status;
  d->http = r->http_status;
  snprintf(d->code, sizeof d->code, "%s", r->error_code);
  snprintf(d->msg, sizeof d->msg, "%s", r->error_message);
  snprintf(d->etag, sizeof d->etag, "%s", r->etag);
  snprintf(d->ctype, sizeof d->ctype, "%s", r->content_type);
  d->clen = r->content_length;
  d->size = r->object_size;
  d->attempts = r->attempts;
  d->parts = r->parts;
  d->peak_flight = r->peak_parts_in_flight;
  d->peak_buffered = r->peak_buffered;
}

static int collect(void *arg, const void *data, size_t len) {
  struct done *d = arg;
  folio_str_append(&d->body, data, len);
  return FOLIO_S3_CONTINUE;
}

static void wait_done(struct done *d) {
  for (int i = 0; !d->called; i++) {
    CHECK(folio_loop_run_once(loop, 1000) >= 0);
    CHECK_MSG(i < 600, "operation did not complete within 10 minutes of loop turns");
  }
  /* a second call would be a bug: turn the loop a little more to catch it */
  for (int i = 0; i < 3; i++) folio_loop_run_once(loop, 0);
  CHECK_EQ_INT(d->calls, 1);
}

static void reset(struct done *d) {
  folio_str_free(&d->body);
  memset(d, 0, sizeof *d);
}

static struct folio_s3_client *new_client(const struct folio_s3_config *c) {
  char err[256];
  struct folio_s3_client *cl = folio_s3_client_create(c, loop, err, sizeof err);
  CHECK_MSG(cl, "client: %s", err);
  return cl;
}

static void put(struct folio_s3_client *c, const char *key, const void *data, size_t len,
                const char *ctype) {
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_put(c, key, data, len, ctype, on_done, &d), 0);
  wait_done(&d);
  CHECK_MSG(d.status == 0, "PUT %s: %s %ld %s %s", key, folio_s3_strerror(d.status), d.http,
            d.code, d.msg);
  CHECK(d.etag[0] == '"');
}

static void get(struct folio_s3_client *c, const char *key, const struct folio_s3_range *r,
                struct done *d) {
  reset(d);
  CHECK_EQ_INT(folio_s3_get(c, key, r, collect, on_done, d, NULL), 0);
  wait_done(d);
}

/* ---- cases ---- */

static void test_bucket(struct folio_s3_client *c) {
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_ensure_bucket(c, on_done, &d), 0);
  wait_done(&d);
  CHECK_MSG(d.status == 0, "create bucket: %s %s", d.code, d.msg);
  reset(&d);
  CHECK_EQ_INT(folio_s3_ensure_bucket(c, on_done, &d), 0); /* already there: still fine */
  wait_done(&d);
  CHECK_MSG(d.status == 0, "ensure existing bucket: %s %s", d.code, d.msg);
}

static void test_round_trip(struct folio_s3_client *c) {
  static const char *keys[] = {"plain.txt", "dir/sub/a b+c=d&e~f.txt",
                               "utf8/\xc3\xbc\xe2\x82\xac\xe1\x88\xb4.pdf", "odd/%41?x#y;z,@!$'()*"};
  for (size_t k = 0; k < 4; k++) {
    char body[300];
    int n = snprintf(body, sizeof body, "object %zu: %s", k, keys[k]);
    put(c, keys[k], body, (size_t)n, "text/plain");
    struct done d = {0};
    CHECK_EQ_INT(folio_s3_head(c, keys[k], on_done, &d), 0);
    wait_done(&d);
    CHECK_MSG(d.status == 0, "HEAD %s: %s", keys[k], d.code);
    CHECK_EQ_INT(d.clen, n);
    CHECK_EQ_STR(d.ctype, "text/plain");
    get(c, keys[k], NULL, &d);
    CHECK_MSG(d.status == 0, "GET %s: %s %s", keys[k], d.code, d.msg);
    CHECK_EQ_INT(d.body.len, n);
    CHECK(memcmp(d.body.p, body, (size_t)n) == 0);
    reset(&d);
    CHECK_EQ_INT(folio_s3_delete(c, keys[k], on_done, &d), 0);
    wait_done(&d);
    CHECK_EQ_INT(d.status, 0);
    CHECK_EQ_INT(d.http, 204);
    get(c, keys[k], NULL, &d);
    CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
    CHECK_EQ_INT(d.http, 404);
    CHECK_EQ_STR(d.code, "NoSuchKey");
    CHECK_EQ_INT(d.body.len, 0); /* error bodies never reach the consumer */
    reset(&d);
    CHECK_EQ_INT(folio_s3_head(c, keys[k], on_done, &d), 0);
    wait_done(&d);
    CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
    CHECK_EQ_INT(d.http, 404);
    reset(&d);
  }
  /* empty object */
  put(c, "empty", "", 0, NULL);
  struct done d = {0};
  get(c, "empty", NULL, &d);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.body.len, 0);
  reset(&d);
  /* bad arguments fail at once, without a callback */
  CHECK_EQ_INT(folio_s3_put(c, "", "x", 1, NULL, on_done, &d), FOLIO_S3_EINVAL);
  struct folio_s3_range bad = {true, true, 10, 5, NULL};
  CHECK_EQ_INT(folio_s3_get(c, "k", &bad, collect, on_done, &d, NULL), FOLIO_S3_EINVAL);
  CHECK(!d.called);
}

static void test_ranges(struct folio_s3_client *c) {
  char obj[1000];
  for (int i = 0; i < 1000; i++) obj[i] = (char)('a' + i % 26);
  put(c, "ranges/obj", obj, sizeof obj, "application/octet-stream");
  struct done d = {0};
  struct folio_s3_range r = {true, true, 100, 199, NULL};
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.http, 206);
  CHECK_EQ_INT(d.body.len, 100);
  CHECK(memcmp(d.body.p, obj + 100, 100) == 0);
  CHECK_EQ_INT(d.size, 1000);
  r = (struct folio_s3_range){false, true, 0, 10, NULL}; /* suffix: the last 10 bytes */
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.http, 206);
  CHECK_EQ_INT(d.body.len, 10);
  CHECK(memcmp(d.body.p, obj + 990, 10) == 0);
  r = (struct folio_s3_range){true, false, 995, 0, NULL}; /* open: to the end */
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.body.len, 5);
  CHECK(memcmp(d.body.p, obj + 995, 5) == 0);
  r = (struct folio_s3_range){true, true, 2000, 2100, NULL};
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_INT(d.http, 416);
  CHECK_EQ_STR(d.code, "InvalidRange");
  /* If-Match (a resumed range read): the object's own ETag reads on, any
   * other is refused with 412, so a resume never splices two objects */
  r = (struct folio_s3_range){true, true, 0, 99, NULL};
  get(c, "ranges/obj", &r, &d);
  CHECK(d.etag[0] == '"');
  char etag[128];
  snprintf(etag, sizeof etag, "%s", d.etag);
  r = (struct folio_s3_range){true, true, 500, 599, etag};
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.http, 206);
  CHECK_EQ_INT(d.body.len, 100);
  CHECK(memcmp(d.body.p, obj + 500, 100) == 0);
  r = (struct folio_s3_range){true, true, 500, 599, "\"0123456789abcdef0123456789abcdef\""};
  get(c, "ranges/obj", &r, &d);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_INT(d.http, 412);
  CHECK_EQ_STR(d.code, "PreconditionFailed");
  r = (struct folio_s3_range){true, true, 0, 9, "bad\r\nX-Injected: 1"};
  CHECK_EQ_INT(folio_s3_get(c, "ranges/obj", &r, collect, on_done, &d, NULL), FOLIO_S3_EINVAL);
  reset(&d);
}

/* ---- multipart ---- */

#define MiB (1024u * 1024u)

struct producer {
  struct folio_s3_upload *u;
  size_t total;
  size_t fail_after; /* abort after this many bytes (0: finish normally) */
  atomic_bool wrote_three_parts;
  int write_rc;
  uint8_t sha[32];
};

static void fill(uint8_t *buf, size_t off, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)((off + i) * 2654435761u >> 13);
}

static void *produce(void *arg) {
  struct producer *p = arg;
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  uint8_t *buf = malloc(300 * 1024);
  size_t off = 0;
  while (off < p->total) {
    size_t n = 300 * 1024; /* odd-sized writes that straddle part boundaries */
    if (n > p->total - off) n = p->total - off;
    fill(buf, off, n);
    crypto_hash_sha256_update(&st, buf, n);
    /* parts 1 and 2 are posted; this write may block for a free buffer */
    if (off + n > 15 * MiB) atomic_store(&p->wrote_three_parts, true);
    int rc = folio_s3_upload_write(p->u, buf, n);
    if (rc) {
      p->write_rc = rc;
      break;
    }
    off += n;
    if (p->fail_after && off >= p->fail_after) break;
  }
  atomic_store(&p->wrote_three_parts, true);
  crypto_hash_sha256_final(&st, p->sha);
  free(buf);
  if (p->fail_after || p->write_rc)
    folio_s3_upload_abort(p->u);
  else
    folio_s3_upload_finish(p->u);
  return NULL;
}

/* Holds the loop thread until the producer has filled at least two parts, so
 * that those UploadParts are started together once the upload id arrives: the
 * concurrency check does not depend on timing. */
static void hold_loop(struct folio_loop *l, void *arg) {
  struct producer *p = arg;
  while (!atomic_load(&p->wrote_three_parts)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
}

static int count_multipart_uploads(struct folio_s3_client *c);

static void test_multipart(const struct folio_s3_config *base) {
  struct folio_s3_config mc = *base;
  mc.part_size = 5 * MiB;
  mc.parts_in_flight = 3;
  struct folio_s3_client *c = new_client(&mc);
  struct producer p = {.total = 22 * MiB};
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_upload_begin(c, "big/multi part.bin", "application/pdf", on_done, &d, &p.u), 0);
  CHECK_EQ_INT(folio_loop_post(loop, hold_loop, &p), 0);
  pthread_t th;
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &p), 0);
  wait_done(&d);
  pthread_join(th, NULL);
  CHECK_MSG(d.status == 0, "multipart: %s %ld %s %s", folio_s3_strerror(d.status), d.http, d.code, d.msg);
  CHECK_EQ_INT(d.parts, 5);
  CHECK_EQ_INT(d.clen, 22 * MiB);
  CHECK_MSG(d.peak_buffered <= 3 * 5 * MiB, "peak buffered %zu", d.peak_buffered);
  CHECK_MSG(d.peak_flight >= 2, "parts in flight at once: %d", d.peak_flight);
  printf("multipart: 22 MiB in %d parts, peak %d in flight, peak %zu MiB buffered, etag \"%s\"\n",
         d.parts, d.peak_flight, d.peak_buffered / MiB, d.etag);
  /* the object is whole: size by HEAD, content by hash of a streamed GET */
  struct done h = {0};
  CHECK_EQ_INT(folio_s3_head(c, "big/multi part.bin", on_done, &h), 0);
  wait_done(&h);
  CHECK_EQ_INT(h.clen, 22 * MiB);
  CHECK(strstr(h.etag, "-5\"") != NULL); /* AWS-style multipart ETag */
  CHECK_EQ_STR(h.ctype, "application/pdf");
  struct done g = {0};
  get(c, "big/multi part.bin", NULL, &g);
  CHECK_EQ_INT(g.status, 0);
  CHECK_EQ_INT(g.body.len, 22 * MiB);
  uint8_t sha[32];
  crypto_hash_sha256(sha, (const uint8_t *)g.body.p, g.body.len);
  CHECK(memcmp(sha, p.sha, 32) == 0);
  reset(&g);
  CHECK_EQ_INT(count_multipart_uploads(c), 0);

  /* without a content type, S3's default applies (curl's form type for POST
   * bodies must not leak into CreateMultipartUpload) */
  struct producer up = {.total = 6 * MiB};
  reset(&d);
  CHECK_EQ_INT(folio_s3_upload_begin(c, "big/untyped", NULL, on_done, &d, &up.u), 0);
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &up), 0);
  wait_done(&d);
  pthread_join(th, NULL);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.parts, 2);
  reset(&h);
  CHECK_EQ_INT(folio_s3_head(c, "big/untyped", on_done, &h), 0);
  wait_done(&h);
  CHECK_EQ_INT(h.clen, 6 * MiB);
  CHECK_MSG(!strstr(h.ctype, "form-urlencoded"), "content type %s", h.ctype);

  /* a small body through the upload API is a single PUT */
  struct folio_s3_upload *u;
  reset(&d);
  CHECK_EQ_INT(folio_s3_upload_begin(c, "big/small", NULL, on_done, &d, &u), 0);
  struct producer sp = {.u = u, .total = 1000};
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &sp), 0);
  wait_done(&d);
  pthread_join(th, NULL);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.clen, 1000);
  CHECK_EQ_INT(d.parts, 0);
  folio_s3_client_destroy(c);
}

/* ListMultipartUploads through the library's own request engine. */
struct list_ctx {
  struct done d;
  int uploads;
};
static void list_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct list_ctx *l = folio_s3_req_arg(rq);
  size_t len;
  const char *body = folio_s3_req_body(rq, &len);
  char err[160];
  struct folio_s3_xml_field f[] = {{"Upload", NULL, 0, 0}};
  CHECK_MSG(res->status == 0, "ListMultipartUploads: %s", res->error_code);
  CHECK_MSG(folio_s3_xml_parse(body, len, f, 1, err, sizeof err) == 0, "%s", err);
  l->uploads = f[0].count;
  on_done(&l->d, res);
}
static int count_multipart_uploads(struct folio_s3_client *c) {
  struct list_ctx l = {0};
  struct folio_s3_req_spec s = {.method = "GET", .query = {{"uploads", ""}}, .nquery = 1,
                                .keep_body = true, .idempotent = true,
                                .complete = list_done, .complete_arg = &l};
  folio_s3_req_start(c, &s);
  wait_done(&l.d);
  return l.uploads;
}

static void test_multipart_abort(const struct folio_s3_config *base) {
  struct folio_s3_config mc = *base;
  mc.part_size = 5 * MiB;
  mc.parts_in_flight = 2;
  struct folio_s3_client *c = new_client(&mc);
  struct producer p = {.total = 30 * MiB, .fail_after = 12 * MiB};
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_upload_begin(c, "big/aborted", NULL, on_done, &d, &p.u), 0);
  pthread_t th;
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &p), 0);
  wait_done(&d);
  pthread_join(th, NULL);
  CHECK_EQ_INT(d.status, FOLIO_S3_EABORTED);
  CHECK_EQ_INT(count_multipart_uploads(c), 0); /* nothing left behind on S3 */
  struct done h = {0};
  CHECK_EQ_INT(folio_s3_head(c, "big/aborted", on_done, &h), 0);
  wait_done(&h);
  CHECK_EQ_INT(h.http, 404);

  /* an S3-side failure (wrong secret) reaches done with S3's code; the
   * producer's next write reports it */
  struct folio_s3_config bad = mc;
  bad.secret_key = "not-the-secret";
  struct folio_s3_client *bc = new_client(&bad);
  struct producer bp = {.total = 30 * MiB};
  reset(&d);
  CHECK_EQ_INT(folio_s3_upload_begin(bc, "big/denied", NULL, on_done, &d, &bp.u), 0);
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &bp), 0);
  wait_done(&d);
  pthread_join(th, NULL);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_STR(d.code, "SignatureDoesNotMatch");
  CHECK(bp.write_rc == FOLIO_S3_EHTTP || bp.write_rc == 0);
  folio_s3_client_destroy(bc);
  CHECK_EQ_INT(count_multipart_uploads(c), 0);
  folio_s3_client_destroy(c);
}

/* ---- GET with backpressure ---- */

struct paced {
  struct done d;
  struct folio_s3_get *g;
  sem_t need_resume;
  atomic_bool stop;
  int cancel_after_pauses; /* 0: never */
  int long_pause_ms;       /* hold the first pause this long */
};

static int paced_data(void *arg, const void *data, size_t len) {
  struct paced *p = arg;
  folio_str_append(&p->d.body, data, len);
  p->d.pauses++;
  sem_post(&p->need_resume); /* "a gRPC write is in flight": pause until it completes */
  return FOLIO_S3_PAUSE;
}

static void *resumer(void *arg) {
  struct paced *p = arg;
  int n = 0;
  bool first = true;
  for (;;) {
    sem_wait(&p->need_resume);
    if (atomic_load(&p->stop)) return NULL;
    if (p->long_pause_ms && first) {
      struct timespec ts = {p->long_pause_ms / 1000, (p->long_pause_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
    first = false;
    if (p->cancel_after_pauses && ++n == p->cancel_after_pauses)
      folio_s3_get_cancel(p->g);
    else
      folio_s3_get_resume(p->g);
  }
}

static void run_paced(struct folio_s3_client *c, struct paced *p) {
  sem_init(&p->need_resume, 0, 0);
  pthread_t th;
  CHECK_EQ_INT(folio_s3_get(c, "paced", NULL, paced_data, on_done, &p->d, &p->g), 0);
  CHECK_EQ_INT(pthread_create(&th, NULL, resumer, p), 0);
  wait_done(&p->d);
  atomic_store(&p->stop, true);
  sem_post(&p->need_resume);
  pthread_join(th, NULL);
  folio_s3_get_resume(p->g); /* after done: harmless */
  folio_s3_get_release(p->g);
  for (int i = 0; i < 3; i++) folio_loop_run_once(loop, 0);
  sem_destroy(&p->need_resume);
}

static void test_backpressure(struct folio_s3_client *c) {
  size_t n = 3 * MiB;
  uint8_t *obj = malloc(n);
  fill(obj, 7, n);
  put(c, "paced", obj, n, NULL);
  struct paced p = {0};
  run_paced(c, &p);
  CHECK_MSG(p.d.status == 0, "paced GET: %s", p.d.msg);
  CHECK_EQ_INT(p.d.body.len, n);
  CHECK(memcmp(p.d.body.p, obj, n) == 0);
  CHECK_MSG(p.d.pauses > 1, "pauses: %d", p.d.pauses);
  printf("paced GET: 3 MiB in %d pause/resume steps\n", p.d.pauses);
  reset(&p.d);
  /* a pause longer than the low-speed limit: a paused transfer is not "slow",
   * it must survive (the gRPC client may be slow to take the next message) */
  struct folio_s3_config lc = cfg;
  lc.low_speed_timeout_s = 1;
  struct folio_s3_client *slow = new_client(&lc);
  struct paced l = {.long_pause_ms = 2500};
  run_paced(slow, &l);
  CHECK_MSG(l.d.status == 0, "GET paused for 2.5 s with a 1 s low-speed limit: %s %s",
            folio_s3_strerror(l.d.status), l.d.msg);
  CHECK_EQ_INT(l.d.body.len, n);
  reset(&l.d);
  folio_s3_client_destroy(slow);

  struct paced q = {.cancel_after_pauses = 2};
  run_paced(c, &q);
  CHECK_EQ_INT(q.d.status, FOLIO_S3_ECANCELED);
  CHECK(q.d.body.len < n);
  reset(&q.d);
  free(obj);
}

/* ---- auth and presigned URLs ---- */

static void test_wrong_secret(const struct folio_s3_config *base) {
  struct folio_s3_config bad = *base;
  bad.secret_key = "wrong-secret";
  struct folio_s3_client *c = new_client(&bad);
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_put(c, "denied", "x", 1, NULL, on_done, &d), 0);
  wait_done(&d);
  CHECK_EQ_INT(d.status, FOLIO_S3_EHTTP);
  CHECK_EQ_INT(d.http, 403);
  CHECK_EQ_STR(d.code, "SignatureDoesNotMatch");
  CHECK_EQ_INT(d.attempts, 1); /* 4xx is not retried */
  get(c, "ranges/obj", NULL, &d);
  CHECK_EQ_STR(d.code, "SignatureDoesNotMatch");
  reset(&d);
  folio_s3_client_destroy(c);
}

/* Fetches url with the curl CLI; returns the HTTP status, body and headers in
 * files under the service dir. */
static int curl_fetch(const char *url, char *body, size_t cap, char *headers, size_t hcap) {
  char cmd[4096], bf[300], hf[300];
  snprintf(bf, sizeof bf, "%s/fetch.body", svc.dir);
  snprintf(hf, sizeof hf, "%s/fetch.headers", svc.dir);
  snprintf(cmd, sizeof cmd, "curl -s --max-time 20 -o '%s' -D '%s' -w '%%{http_code}' '%s'", bf,
           hf, url);
  FILE *f = popen(cmd, "r");
  CHECK(f);
  int code = 0;
  CHECK(fscanf(f, "%d", &code) == 1);
  pclose(f);
  FILE *b = fopen(bf, "r");
  size_t n = b ? fread(body, 1, cap - 1, b) : 0;
  body[n] = '\0';
  if (b) fclose(b);
  FILE *h = fopen(hf, "r");
  n = h ? fread(headers, 1, hcap - 1, h) : 0;
  headers[n] = '\0';
  if (h) fclose(h);
  return code;
}

static void test_presign(struct folio_s3_client *c) {
  const char *key = "presign/r\xc3\xa9port 1+1=2.txt";
  put(c, key, "presigned body", 14, "text/plain");
  char err[256], body[4096], hdrs[4096];
  char *url = folio_s3_presign_get(&cfg, key, 600, NULL, time(NULL), err, sizeof err);
  CHECK_MSG(url, "%s", err);
  CHECK_EQ_INT(curl_fetch(url, body, sizeof body, hdrs, sizeof hdrs), 200);
  CHECK_EQ_STR(body, "presigned body");
  /* tamper with the signature's last hex digit, and with the key */
  char *t = strdup(url);
  char *last = t + strlen(t) - 1;
  *last = *last == '0' ? '1' : '0';
  CHECK_EQ_INT(curl_fetch(t, body, sizeof body, hdrs, sizeof hdrs), 403);
  CHECK(strstr(body, "SignatureDoesNotMatch"));
  free(t);
  t = strdup(url);
  char *sp = strstr(t, "presign/r");
  sp[8] = 'R';
  CHECK_EQ_INT(curl_fetch(t, body, sizeof body, hdrs, sizeof hdrs), 403);
  free(t);
  free(url);
  /* response-content-disposition is signed in and honoured */
  url = folio_s3_presign_get(&cfg, key, 600, "attachment; filename=\"report.pdf\"", time(NULL),
                             err, sizeof err);
  CHECK_MSG(url, "%s", err);
  CHECK_EQ_INT(curl_fetch(url, body, sizeof body, hdrs, sizeof hdrs), 200);
  CHECK_MSG(strcasestr(hdrs, "Content-Disposition: attachment; filename=\"report.pdf\""),
            "headers:\n%s", hdrs);
  free(url);
  /* expired: 1 s validity, fetched 3 s later */
  url = folio_s3_presign_get(&cfg, key, 1, NULL, time(NULL), err, sizeof err);
  CHECK(url);
  sleep(3);
  CHECK_EQ_INT(curl_fetch(url, body, sizeof body, hdrs, sizeof hdrs), 403);
  CHECK(strstr(body, "AccessDenied"));
  free(url);
  /* a URL signed for the future (clock skew) is not valid yet either way of
   * tampering: the date is part of the signature */
  CHECK(folio_s3_presign_get(&cfg, key, 0, NULL, time(NULL), err, sizeof err) == NULL);
  CHECK(strstr(err, "ttl"));
}

static void test_virtual_hosted(void) {
  struct folio_s3_config vc = cfg;
  char ep[128];
  snprintf(ep, sizeof ep, "http://localhost:%d", svc.port); /* RGW: rgw dns name = localhost */
  vc.endpoint = ep;
  vc.addressing = FOLIO_S3_VIRTUAL_HOSTED;
  struct folio_s3_client *c = new_client(&vc);
  put(c, "virtual/a b.txt", "vhost", 5, NULL);
  struct done d = {0};
  get(c, "virtual/a b.txt", NULL, &d);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.body.len, 5);
  reset(&d);
  char err[256], body[256], hdrs[2048];
  char *url = folio_s3_presign_get(&vc, "virtual/a b.txt", 60, NULL, time(NULL), err, sizeof err);
  CHECK(url && strncmp(url, "http://folio-test.localhost:", 28) == 0);
  CHECK_EQ_INT(curl_fetch(url, body, sizeof body, hdrs, sizeof hdrs), 200);
  CHECK_EQ_STR(body, "vhost");
  free(url);
  folio_s3_client_destroy(c);
}

static void test_retries_and_destroy(void) {
  /* nothing listens on this port: connection refused, retried, then reported */
  struct folio_s3_config rc = cfg;
  char ep[64];
  int hold;
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d", s3_service_refused_port(&hold));
  rc.endpoint = ep;
  rc.max_retries = 2;
  rc.retry_base_ms = 1;
  struct folio_s3_client *c = new_client(&rc);
  struct done d = {0};
  CHECK_EQ_INT(folio_s3_get(c, "k", NULL, collect, on_done, &d, NULL), 0);
  wait_done(&d);
  CHECK_EQ_INT(d.status, FOLIO_S3_ETRANSPORT);
  CHECK_EQ_INT(d.attempts, 3);
  CHECK(strstr(d.msg, "onnect"));
  reset(&d);
  /* destroy with operations pending: each done runs once, cancelled */
  struct done a = {0}, b = {0};
  CHECK_EQ_INT(folio_s3_head(c, "x", on_done, &a), 0);
  CHECK_EQ_INT(folio_s3_delete(c, "y", on_done, &b), 0);
  folio_loop_run_once(loop, 0); /* the posted starts run: both requests live */
  folio_s3_client_destroy(c);
  CHECK_EQ_INT(a.calls, 1);
  CHECK_EQ_INT(a.status, FOLIO_S3_ECANCELED);
  CHECK_EQ_INT(b.calls, 1);

  /* destroy while an upload's producer is blocked on full part buffers (the
   * CreateMultipartUpload keeps retrying against the dead port): done runs
   * once with ECANCELED, the producer's write returns ECANCELED, and its abort
   * after the destroy is still safe */
  rc.part_size = 5 * MiB;
  rc.parts_in_flight = 2;
  rc.max_retries = 1000;
  rc.retry_base_ms = 20;
  c = new_client(&rc);
  struct producer p = {.total = 30 * MiB};
  CHECK_EQ_INT(folio_s3_upload_begin(c, "never", NULL, on_done, &d, &p.u), 0);
  pthread_t th;
  CHECK_EQ_INT(pthread_create(&th, NULL, produce, &p), 0);
  for (int i = 0; i < 5; i++) folio_loop_run_once(loop, 20);
  folio_s3_client_destroy(c);
  CHECK_EQ_INT(d.calls, 1);
  CHECK_EQ_INT(d.status, FOLIO_S3_ECANCELED);
  pthread_join(th, NULL);
  CHECK_EQ_INT(p.write_rc, FOLIO_S3_ECANCELED);
  for (int i = 0; i < 3; i++) folio_loop_run_once(loop, 0); /* the producer's abort */
  CHECK_EQ_INT(d.calls, 1);
  reset(&d);
  close(hold);
}

static void test_sync(void) {
  struct folio_s3_sync_result r;
  CHECK_EQ_INT(folio_s3_sync_ensure_bucket(&cfg, &r), 0);
  CHECK_EQ_INT(folio_s3_sync_put(&cfg, "sync/k", "sync body", 9, NULL, &r), 0);
  void *out;
  size_t len;
  struct folio_s3_range rg = {true, true, 5, 8, NULL};
  CHECK_EQ_INT(folio_s3_sync_get(&cfg, "sync/k", &rg, &out, &len, &r), 0);
  CHECK_EQ_INT(len, 4);
  CHECK(memcmp(out, "body", 4) == 0);
  free(out);
  CHECK_EQ_INT(folio_s3_sync_head(&cfg, "sync/k", &r), 0);
  CHECK_EQ_INT(r.content_length, 9);
  CHECK_EQ_INT(folio_s3_sync_delete(&cfg, "sync/k", &r), 0);
  CHECK_EQ_INT(folio_s3_sync_get(&cfg, "sync/k", NULL, &out, &len, &r), FOLIO_S3_EHTTP);
  CHECK_EQ_STR(r.error_code, "NoSuchKey");
  CHECK(out == NULL);
}

int main(int argc, char **argv) {
  CHECK_MSG(argc == 2, "usage: %s SCRIPTS_SERVICES_DIR", argv[0]);
  CHECK(sodium_init() >= 0);
  s3_service_start(&svc, argv[1]);
  loop = folio_loop_create();
  cfg = (struct folio_s3_config){.endpoint = svc.endpoint,
                                 .region = "us-east-1",
                                 .bucket = "folio-test",
                                 .access_key = svc.access_key,
                                 .secret_key = svc.secret_key};
  struct folio_s3_client *c = new_client(&cfg);
  test_bucket(c);
  test_round_trip(c);
  test_ranges(c);
  test_multipart(&cfg);
  test_multipart_abort(&cfg);
  test_backpressure(c);
  test_wrong_secret(&cfg);
  test_presign(c);
  test_virtual_hosted();
  test_retries_and_destroy();
  test_sync();
  folio_s3_client_destroy(c);
  folio_loop_destroy(loop);
  return check_done();
}
