/* Multipart upload fed by a producer thread (contract in folio/s3.h).
 *
 * Two sides share one struct folio_s3_upload:
 *  - the producer (any thread but the loop's) fills part buffers; a full buffer
 *    is hashed (SHA-256, on the producer's thread, so the loop never hashes
 *    megabytes) and posted to the loop; finish/abort are posted the same way, so
 *    the loop sees the producer's messages in order;
 *  - the loop thread runs the S3 side: CreateMultipartUpload when the first full
 *    part exists (a body smaller than a part becomes one PUT), UploadPart for
 *    every part (several at once), CompleteMultipartUpload after the last, and
 *    AbortMultipartUpload on any failure.
 * Memory: a part buffer is counted from the moment the producer takes it until
 * its UploadPart completes; the producer blocks while `buffers` equals
 * parts_in_flight, so at most parts_in_flight × part_size bytes are held.
 * Lifetime: two references, the producer's (dropped when the loop handles its
 * finish/abort message) and the loop's (dropped after done was called). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "s3_int.h"
#include "xml.h"

struct part {
  struct part *next;
  int number;
  size_t len, cap; /* cap: the mapping's size */
  char sha[65];
  char data[];
};

/* Part buffers are mapped, not malloc'd: they are big (part_size, 8 MiB by
 * default) and short-lived, so each goes back to the system when released
 * whatever the process's malloc policy. (glibc raises its mmap threshold
 * after the first big free and its heap then keeps the peak: a render
 * process held 80 instead of 42 MiB for a 99 MiB artifact. Forcing every
 * allocation above 256 KiB onto mmap instead, as folio-worker did, made
 * cairo's own buffers fault in afresh on every job and doubled a one-page
 * render: docs/performance.md.) Only the bytes written are touched, so a
 * small artifact costs a few pages. */
static struct part *part_alloc(size_t part_size) {
  size_t cap = sizeof(struct part) + part_size;
  void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  struct part *p = m;
  p->next = NULL;
  p->len = 0;
  p->cap = cap;
  return p;
}

static void part_free(struct part *p) {
  if (p) munmap(p, p->cap);
}

struct inflight {
  struct inflight *next, *prev;
  struct folio_s3_upload *u;
  struct part *p;
  struct folio_s3_req *rq;
};

struct folio_s3_upload {
  struct folio_s3_closer closer; /* first member: destroy ends the upload */
  atomic_int refs;
  struct folio_s3_client *c;
  struct folio_loop *loop;
  char *key, *ctype;
  folio_s3_done_cb done;
  void *arg;
  size_t part_size;
  int max_buffers;

  pthread_mutex_t mu; /* guards the block below */
  pthread_cond_t cv;
  int buffers;
  size_t buffered, peak_buffered;
  int status; /* first error; the producer's writes return it */

  /* producer thread only */
  struct part *filling;
  int nparts; /* parts handed to the loop */

  /* loop thread only */
  char upload_id[512];
  bool have_id, creating, finishing, failing, reported, completing;
  struct folio_s3_req *ctl; /* create/complete/abort/single PUT in flight */
  struct part *qhead, *qtail;
  struct inflight *flying;
  int in_flight, peak_in_flight, final_parts, parts_done;
  uint64_t bytes_done;
  char **etags; /* by part number - 1 */
  int etags_cap;
  long err_http;
  char err_code[64];
  char err_msg[512];
  char final_etag[128];
  char *complete_body;
};

static void upload_unref(struct folio_s3_upload *u) {
  if (atomic_fetch_sub(&u->refs, 1) != 1) return;
  while (u->qhead) {
    struct part *p = u->qhead;
    u->qhead = p->next;
    part_free(p);
  }
  part_free(u->filling);
  for (int i = 0; i < u->etags_cap; i++) free(u->etags[i]);
  free(u->etags);
  free(u->complete_body);
  free(u->key);
  free(u->ctype);
  pthread_mutex_destroy(&u->mu);
  pthread_cond_destroy(&u->cv);
  folio_s3_client_remove_closer(u->c, &u->closer);
  folio_s3_client_unref(u->c);
  free(u);
}

/* A part buffer is no longer held: let a blocked producer continue. */
static void release_buffer(struct folio_s3_upload *u, struct part *p) {
  part_free(p);
  pthread_mutex_lock(&u->mu);
  u->buffers--;
  u->buffered -= u->part_size;
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

/* ---- loop side ---- */

static void report(struct folio_s3_upload *u) {
  if (u->reported) return;
  u->reported = true;
  folio_s3_client_remove_closer(u->c, &u->closer);
  pthread_mutex_lock(&u->mu);
  int status = u->status;
  size_t peak = u->peak_buffered;
  pthread_mutex_unlock(&u->mu);
  struct folio_s3_result res = {
      .status = status,
      .http_status = u->err_http,
      .error_code = u->err_code,
      .error_message = u->err_msg,
      .etag = u->final_etag,
      .content_type = "",
      .content_length = u->bytes_done,
      .object_size = u->bytes_done,
      .attempts = 1,
      .bytes_uploaded = u->bytes_done,
      .parts = u->parts_done,
      .peak_parts_in_flight = u->peak_in_flight,
      .peak_buffered = peak,
  };
  u->done(u->arg, &res);
  upload_unref(u);
}

static void set_error(struct folio_s3_upload *u, int status, long http, const char *code,
                      const char *msg) {
  pthread_mutex_lock(&u->mu);
  if (u->status == 0) u->status = status;
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
  u->err_http = http;
  snprintf(u->err_code, sizeof u->err_code, "%s", code ? code : "");
  snprintf(u->err_msg, sizeof u->err_msg, "%s", msg ? msg : "");
}

static void abort_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct folio_s3_upload *u = folio_s3_req_arg(rq);
  u->ctl = NULL;
  if (res->status != FOLIO_S3_OK) {
    size_t n = strlen(u->err_msg);
    snprintf(u->err_msg + n, sizeof u->err_msg - n,
             " (AbortMultipartUpload failed too: %s %s %s)", folio_s3_strerror(res->status),
             res->error_code, res->error_message);
  }
  report(u);
}

static void start_abort(struct folio_s3_upload *u) {
  struct folio_s3_req_spec s = {.method = "DELETE",
                                .key = u->key,
                                .query = {{"uploadId", u->upload_id}},
                                .nquery = 1,
                                .idempotent = true,
                                .complete = abort_done,
                                .complete_arg = u};
  u->ctl = folio_s3_req_start(u->c, &s);
}

/* The first failure wins; everything in flight is cancelled, the multipart
 * upload (if one exists) is aborted, then done is called. */
static void fail(struct folio_s3_upload *u, int status, long http, const char *code,
                 const char *msg) {
  if (u->failing || u->reported) return;
  u->failing = true;
  set_error(u, status, http, code, msg);
  while (u->qhead) {
    struct part *p = u->qhead;
    u->qhead = p->next;
    release_buffer(u, p);
  }
  u->qtail = NULL;
  while (u->flying) folio_s3_req_cancel(u->flying->rq, FOLIO_S3_ECANCELED);
  if (u->creating) return; /* create_done aborts once the upload id is known */
  if (u->have_id)
    start_abort(u);
  else if (!u->ctl)
    report(u);
}

static void fail_res(struct folio_s3_upload *u, const struct folio_s3_result *r,
                     const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, r->error_message);
  fail(u, r->status, r->http_status, r->error_code, msg);
}

static void pump(struct folio_s3_upload *u);

static void complete_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct folio_s3_upload *u = folio_s3_req_arg(rq);
  u->ctl = NULL;
  u->completing = false;
  if (res->status != FOLIO_S3_OK) {
    fail_res(u, res, "CompleteMultipartUpload");
    return;
  }
  /* S3 may answer 200 and put an <Error> in the body; RGW sends an empty ETag */
  size_t len;
  const char *body = folio_s3_req_body(rq, &len);
  char code[64], msg[256], etag[128], xerr[160];
  struct folio_s3_xml_field f[] = {{"Error", NULL, 0, 0},
                                   {"Code", code, sizeof code, 0},
                                   {"Message", msg, sizeof msg, 0},
                                   {"ETag", etag, sizeof etag, 0}};
  if (folio_s3_xml_parse(body, len, f, 4, xerr, sizeof xerr) != 0) {
    fail(u, FOLIO_S3_EPROTOCOL, res->http_status, "", xerr);
    return;
  }
  if (f[0].count) {
    fail(u, FOLIO_S3_EHTTP, res->http_status, code, msg);
    return;
  }
  snprintf(u->final_etag, sizeof u->final_etag, "%s", etag);
  report(u);
}

static void maybe_complete(struct folio_s3_upload *u) {
  if (!u->finishing || u->failing || u->completing || !u->have_id || u->in_flight ||
      u->qhead || u->parts_done != u->final_parts)
    return;
  struct folio_str x = {0};
  folio_str_puts(&x, "<CompleteMultipartUpload>");
  for (int i = 0; i < u->final_parts; i++) {
    folio_str_printf(&x, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
    for (const char *e = u->etags[i]; *e; e++) {
      if (*e == '"')
        folio_str_puts(&x, "&quot;");
      else if (*e == '&')
        folio_str_puts(&x, "&amp;");
      else if (*e == '<')
        folio_str_puts(&x, "&lt;");
      else
        folio_str_putc(&x, *e);
    }
    folio_str_puts(&x, "</ETag></Part>");
  }
  folio_str_puts(&x, "</CompleteMultipartUpload>");
  if (!folio_str_ok(&x)) {
    folio_str_free(&x);
    fail(u, FOLIO_S3_ENOMEM, 0, "", "out of memory building CompleteMultipartUpload");
    return;
  }
  /* the body must outlive the request (curl reads it in place) */
  free(u->complete_body);
  u->complete_body = folio_str_take(&x);
  u->completing = true;
  struct folio_s3_req_spec s = {.method = "POST",
                                .key = u->key,
                                .query = {{"uploadId", u->upload_id}},
                                .nquery = 1,
                                .body = u->complete_body,
                                .body_len = strlen(u->complete_body),
                                .keep_body = true,
                                .idempotent = false,
                                .complete = complete_done,
                                .complete_arg = u};
  u->ctl = folio_s3_req_start(u->c, &s);
}

static void part_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct inflight *e = folio_s3_req_arg(rq);
  struct folio_s3_upload *u = e->u;
  if (e->prev)
    e->prev->next = e->next;
  else
    u->flying = e->next;
  if (e->next) e->next->prev = e->prev;
  u->in_flight--;
  struct part *p = e->p;
  free(e);
  if (res->status == FOLIO_S3_OK && !res->etag[0]) {
    struct folio_s3_result r2 = *res;
    r2.status = FOLIO_S3_EPROTOCOL;
    r2.error_message = "UploadPart reply carries no ETag header";
    release_buffer(u, p);
    fail_res(u, &r2, "UploadPart");
    return;
  }
  if (res->status != FOLIO_S3_OK) {
    release_buffer(u, p);
    if (res->status != FOLIO_S3_ECANCELED || !u->failing) fail_res(u, res, "UploadPart");
    return;
  }
  if (p->number > u->etags_cap) {
    int cap = u->etags_cap ? u->etags_cap : 16;
    while (cap < p->number) cap *= 2;
    char **n = realloc(u->etags, (size_t)cap * sizeof *n);
    if (!n) {
      release_buffer(u, p);
      fail(u, FOLIO_S3_ENOMEM, 0, "", "out of memory recording part ETags");
      return;
    }
    memset(n + u->etags_cap, 0, (size_t)(cap - u->etags_cap) * sizeof *n);
    u->etags = n;
    u->etags_cap = cap;
  }
  u->etags[p->number - 1] = strdup(res->etag);
  if (!u->etags[p->number - 1]) {
    release_buffer(u, p);
    fail(u, FOLIO_S3_ENOMEM, 0, "", "out of memory recording part ETags");
    return;
  }
  u->parts_done++;
  u->bytes_done += p->len;
  release_buffer(u, p);
  pump(u);
}

static void start_part(struct folio_s3_upload *u, struct part *p) {
  struct inflight *e = calloc(1, sizeof *e);
  if (!e) {
    release_buffer(u, p);
    fail(u, FOLIO_S3_ENOMEM, 0, "", "out of memory starting UploadPart");
    return;
  }
  char num[16];
  snprintf(num, sizeof num, "%d", p->number);
  e->u = u;
  e->p = p;
  e->next = u->flying;
  if (u->flying) u->flying->prev = e;
  u->flying = e;
  if (++u->in_flight > u->peak_in_flight) u->peak_in_flight = u->in_flight;
  struct folio_s3_req_spec s = {.method = "PUT",
                                .key = u->key,
                                .query = {{"partNumber", num}, {"uploadId", u->upload_id}},
                                .nquery = 2,
                                .body = p->data,
                                .body_len = p->len,
                                .payload_hash = p->sha,
                                .idempotent = true,
                                .complete = part_done,
                                .complete_arg = e};
  struct folio_s3_req *rq = folio_s3_req_start(u->c, &s);
  if (rq) e->rq = rq; /* else part_done already ran and freed e */
}

static void create_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct folio_s3_upload *u = folio_s3_req_arg(rq);
  u->ctl = NULL;
  u->creating = false;
  if (res->status != FOLIO_S3_OK) {
    if (u->failing)
      report(u); /* the producer aborted meanwhile; its error stands */
    else
      fail_res(u, res, "CreateMultipartUpload");
    return;
  }
  size_t len;
  const char *body = folio_s3_req_body(rq, &len);
  char xerr[160];
  struct folio_s3_xml_field f[] = {{"UploadId", u->upload_id, sizeof u->upload_id, 0}};
  int prc = folio_s3_xml_parse(body, len, f, 1, xerr, sizeof xerr);
  if (prc == 0 && f[0].count && u->upload_id[0]) u->have_id = true;
  if (u->failing) { /* the producer aborted meanwhile */
    if (u->have_id)
      start_abort(u);
    else
      report(u);
    return;
  }
  if (!u->have_id) {
    fail(u, FOLIO_S3_EPROTOCOL, res->http_status, "",
         prc ? xerr : "CreateMultipartUpload reply has no UploadId");
    return;
  }
  pump(u);
}

static void pump(struct folio_s3_upload *u) {
  if (u->failing || u->reported) return;
  if (!u->have_id) {
    if (u->qhead && !u->creating) {
      u->creating = true;
      struct folio_s3_req_spec s = {.method = "POST",
                                    .key = u->key,
                                    .query = {{"uploads", ""}},
                                    .nquery = 1,
                                    .content_type = u->ctype,
                                    .keep_body = true,
                                    .idempotent = false,
                                    .complete = create_done,
                                    .complete_arg = u};
      u->ctl = folio_s3_req_start(u->c, &s);
    }
    return;
  }
  while (u->qhead && !u->failing) {
    struct part *p = u->qhead;
    u->qhead = p->next;
    if (!u->qhead) u->qtail = NULL;
    start_part(u, p);
  }
  maybe_complete(u);
}

static void close_upload(struct folio_s3_closer *cl) {
  struct folio_s3_upload *u = (struct folio_s3_upload *)(void *)cl;
  fail(u, FOLIO_S3_ECANCELED, 0, "", "the S3 client was destroyed");
}

/* ---- messages from the producer ---- */

enum msg_kind { MSG_PART, MSG_FINISH, MSG_ABORT };

struct msg {
  enum msg_kind kind;
  struct folio_s3_upload *u;
  struct part *p;
  int nparts;
};

struct single {
  struct folio_s3_upload *u;
  struct part *p;
};

static void single_put_done(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct single *s = folio_s3_req_arg(rq);
  struct folio_s3_upload *u = s->u;
  u->ctl = NULL;
  if (s->p) {
    u->bytes_done = s->p->len;
    release_buffer(u, s->p);
  }
  free(s);
  if (res->status != FOLIO_S3_OK) {
    set_error(u, res->status, res->http_status, res->error_code, res->error_message);
  } else {
    u->parts_done = 0;
    snprintf(u->final_etag, sizeof u->final_etag, "%s", res->etag);
  }
  report(u);
}

/* Queues p (NULL: nothing) behind the parts waiting for an upload id or a
 * start, then starts what can start. */
static void enqueue_and_pump(struct folio_s3_upload *u, struct part *p) {
  if (p) {
    p->next = NULL;
    if (u->qtail)
      u->qtail->next = p;
    else
      u->qhead = p;
    u->qtail = p;
  }
  pump(u);
}

static void on_msg(struct folio_loop *loop, void *arg) {
  struct msg *m = arg;
  struct folio_s3_upload *u = m->u;
  struct part *p = m->p;
  enum msg_kind kind = m->kind;
  int nparts = m->nparts;
  free(m);
  if (u->reported || u->failing) {
    if (p) release_buffer(u, p);
    if (kind != MSG_PART) upload_unref(u); /* the producer's reference */
    return;
  }
  switch (kind) {
  case MSG_PART:
    enqueue_and_pump(u, p);
    break;
  case MSG_FINISH:
    u->finishing = true;
    u->final_parts = nparts;
    if (nparts <= 1 && !u->have_id && !u->creating && !u->qhead) {
      /* the whole body fits one part (or is empty): one PUT, no multipart */
      struct single *s = calloc(1, sizeof *s);
      if (!s) {
        if (p) release_buffer(u, p);
        fail(u, FOLIO_S3_ENOMEM, 0, "", "out of memory");
        upload_unref(u);
        break;
      }
      s->u = u;
      s->p = p;
      struct folio_s3_req_spec sp = {.method = "PUT",
                                     .key = u->key,
                                     .body = p ? p->data : NULL,
                                     .body_len = p ? p->len : 0,
                                     .payload_hash = p ? p->sha : NULL,
                                     .content_type = u->ctype,
                                     .idempotent = true,
                                     .complete = single_put_done,
                                     .complete_arg = s};
      u->ctl = folio_s3_req_start(u->c, &sp);
    } else {
      enqueue_and_pump(u, p);
    }
    upload_unref(u);
    break;
  case MSG_ABORT:
    if (p) release_buffer(u, p);
    fail(u, FOLIO_S3_EABORTED, 0, "", "the producer aborted the upload");
    upload_unref(u);
    break;
  }
}

/* ---- producer side ---- */

static int post_msg(struct folio_s3_upload *u, enum msg_kind kind, struct part *p) {
  struct msg *m = malloc(sizeof *m);
  if (!m) return FOLIO_S3_ENOMEM;
  *m = (struct msg){kind, u, p, u->nparts};
  if (folio_loop_post(u->loop, on_msg, m) != 0) {
    free(m);
    return FOLIO_S3_ENOMEM;
  }
  return 0;
}

int folio_s3_upload_begin(struct folio_s3_client *c, const char *key, const char *content_type,
                          folio_s3_done_cb done, void *arg, struct folio_s3_upload **out) {
  *out = NULL;
  if (!c || !key || !*key || strlen(key) > 1024 || !done) return FOLIO_S3_EINVAL;
  struct folio_s3_upload *u = calloc(1, sizeof *u);
  if (!u) return FOLIO_S3_ENOMEM;
  const struct folio_s3_config *cfg = folio_s3_client_config(c);
  u->c = c;
  u->loop = folio_s3_client_loop(c);
  u->done = done;
  u->arg = arg;
  u->part_size = cfg->part_size;
  u->max_buffers = cfg->parts_in_flight;
  u->key = strdup(key);
  u->ctype = content_type ? strdup(content_type) : NULL;
  atomic_init(&u->refs, 2);
  if (!u->key || (content_type && !u->ctype) || pthread_mutex_init(&u->mu, NULL) != 0) {
    free(u->key);
    free(u->ctype);
    free(u);
    return FOLIO_S3_ENOMEM;
  }
  pthread_cond_init(&u->cv, NULL);
  u->closer.close = close_upload;
  folio_s3_client_ref(c);
  folio_s3_client_add_closer(c, &u->closer);
  *out = u;
  return 0;
}

static int current_status(struct folio_s3_upload *u) {
  pthread_mutex_lock(&u->mu);
  int s = u->status;
  pthread_mutex_unlock(&u->mu);
  return s;
}

static int submit_filling(struct folio_s3_upload *u) {
  struct part *p = u->filling;
  u->filling = NULL;
  p->number = ++u->nparts;
  folio_s3_sigv4_sha256_hex(p->data, p->len, p->sha);
  int rc = post_msg(u, MSG_PART, p);
  if (rc) release_buffer(u, p);
  return rc;
}

int folio_s3_upload_write(struct folio_s3_upload *u, const void *data, size_t len) {
  if (!u || (!data && len) || folio_loop_on_thread(u->loop)) return FOLIO_S3_EINVAL;
  const char *d = data;
  while (len) {
    if (!u->filling) {
      pthread_mutex_lock(&u->mu);
      while (u->status == 0 && u->buffers >= u->max_buffers) pthread_cond_wait(&u->cv, &u->mu);
      int st = u->status;
      if (st == 0) {
        u->buffers++;
        u->buffered += u->part_size;
        if (u->buffered > u->peak_buffered) u->peak_buffered = u->buffered;
      }
      pthread_mutex_unlock(&u->mu);
      if (st) return st;
      u->filling = part_alloc(u->part_size);
      if (!u->filling) {
        pthread_mutex_lock(&u->mu);
        u->buffers--;
        u->buffered -= u->part_size;
        pthread_mutex_unlock(&u->mu);
        return FOLIO_S3_ENOMEM;
      }
    }
    size_t room = u->part_size - u->filling->len;
    size_t n = len < room ? len : room;
    memcpy(u->filling->data + u->filling->len, d, n);
    u->filling->len += n;
    d += n;
    len -= n;
    if (u->filling->len == u->part_size) {
      int rc = submit_filling(u);
      if (rc) return rc;
    }
  }
  return current_status(u);
}

void folio_s3_upload_finish(struct folio_s3_upload *u) {
  if (!u) return;
  struct part *p = u->filling;
  if (p && p->len == 0) {
    u->filling = NULL;
    release_buffer(u, p);
    p = NULL;
  }
  if (p) {
    u->filling = NULL;
    p->number = ++u->nparts;
    folio_s3_sigv4_sha256_hex(p->data, p->len, p->sha);
  }
  if (post_msg(u, MSG_FINISH, p) != 0) {
    /* cannot reach the loop: nothing sensible is left but to leak the upload's
     * loop side; report via status for a later write (none will come) */
    if (p) release_buffer(u, p);
    upload_unref(u);
  }
}

void folio_s3_upload_abort(struct folio_s3_upload *u) {
  if (!u) return;
  struct part *p = u->filling;
  u->filling = NULL;
  if (post_msg(u, MSG_ABORT, p) != 0) {
    if (p) release_buffer(u, p);
    upload_unref(u);
  }
}
