/* The single-request operations of folio/s3.h (put, head, delete,
 * ensure_bucket, get). Each one copies what it needs, posts itself to the loop
 * thread and there becomes one folio_s3_req; the request's complete hook calls
 * the user's done callback exactly once. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

struct op {
  struct folio_s3_client *c;
  struct folio_s3_req_spec spec;
  char *key, *ctype, *range, *ifmatch, *body_copy;
  char hash[65];
  folio_s3_done_cb done;
  void *arg;
  struct folio_s3_get *get; /* GET only */
};

struct folio_s3_get {
  atomic_int refs; /* caller's handle (if any) + the operation until done */
  struct folio_loop *loop; /* the client's loop; outlives every handle */
  struct folio_s3_req *rq; /* loop thread only; NULL before start and after done */
  bool done;               /* loop thread only */
};

static void op_free(struct op *o) {
  free(o->key);
  free(o->ctype);
  free(o->range);
  free(o->ifmatch);
  free(o->body_copy);
  free(o);
}

static void get_unref(struct folio_s3_get *g) {
  if (g && atomic_fetch_sub(&g->refs, 1) == 1) free(g);
}

static void op_complete(struct folio_s3_req *rq, struct folio_s3_result *res) {
  struct op *o = folio_s3_req_arg(rq);
  if (o->get) {
    o->get->rq = NULL;
    o->get->done = true;
  }
  o->done(o->arg, res);
  get_unref(o->get);
  op_free(o);
}

static void op_start(struct folio_loop *loop, void *arg) {
  struct op *o = arg;
  struct folio_s3_client *c = o->c;
  struct folio_s3_req *rq = folio_s3_req_start(c, &o->spec);
  /* on failure op_complete already ran and freed o */
  if (rq && o->get) o->get->rq = rq;
  folio_s3_client_unref(c); /* taken by submit() */
}

static int submit(struct folio_s3_client *c, struct op *o) {
  o->spec.complete = op_complete;
  o->spec.complete_arg = o;
  folio_s3_client_ref(c);
  if (folio_loop_post(folio_s3_client_loop(c), op_start, o) != 0) {
    folio_s3_client_unref(c);
    if (o->get) free(o->get);
    op_free(o);
    return FOLIO_S3_ENOMEM;
  }
  return 0;
}

static struct op *op_new(struct folio_s3_client *c, const char *method, const char *key,
                         folio_s3_done_cb done, void *arg) {
  if (!c || !done) return NULL;
  struct op *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->c = c;
  o->done = done;
  o->arg = arg;
  o->spec.method = method;
  if (key) {
    o->key = strdup(key);
    if (!o->key) {
      free(o);
      return NULL;
    }
    o->spec.key = o->key;
  }
  o->spec.idempotent = true;
  return o;
}

static bool valid_key(const char *key) { return key && *key && strlen(key) <= 1024; }

int folio_s3_put(struct folio_s3_client *c, const char *key, const void *data, size_t len,
                 const char *content_type, folio_s3_done_cb done, void *arg) {
  if (!valid_key(key) || (!data && len)) return FOLIO_S3_EINVAL;
  struct op *o = op_new(c, "PUT", key, done, arg);
  if (!o) return c && done ? FOLIO_S3_ENOMEM : FOLIO_S3_EINVAL;
  if (content_type && !(o->ctype = strdup(content_type))) {
    op_free(o);
    return FOLIO_S3_ENOMEM;
  }
  o->spec.content_type = o->ctype;
  o->spec.body = data;
  o->spec.body_len = len;
  folio_s3_sigv4_sha256_hex(len ? data : "", len, o->hash); /* on the caller's thread */
  o->spec.payload_hash = o->hash;
  return submit(c, o);
}

int folio_s3_head(struct folio_s3_client *c, const char *key, folio_s3_done_cb done, void *arg) {
  if (!valid_key(key)) return FOLIO_S3_EINVAL;
  struct op *o = op_new(c, "HEAD", key, done, arg);
  if (!o) return c && done ? FOLIO_S3_ENOMEM : FOLIO_S3_EINVAL;
  return submit(c, o);
}

int folio_s3_delete(struct folio_s3_client *c, const char *key, folio_s3_done_cb done,
                    void *arg) {
  if (!valid_key(key)) return FOLIO_S3_EINVAL;
  struct op *o = op_new(c, "DELETE", key, done, arg);
  if (!o) return c && done ? FOLIO_S3_ENOMEM : FOLIO_S3_EINVAL;
  return submit(c, o);
}

/* CreateBucket; "already owned by you" is what ensure means by success. */
struct ensure {
  folio_s3_done_cb done;
  void *arg;
};

static void ensure_done(void *arg, const struct folio_s3_result *r) {
  struct ensure *e = arg;
  struct folio_s3_result copy = *r;
  if (r->status == FOLIO_S3_EHTTP && r->http_status == 409 &&
      strcmp(r->error_code, "BucketAlreadyOwnedByYou") == 0) {
    copy.status = FOLIO_S3_OK;
  }
  e->done(e->arg, &copy);
  free(e);
}

int folio_s3_ensure_bucket(struct folio_s3_client *c, folio_s3_done_cb done, void *arg) {
  struct ensure *e = calloc(1, sizeof *e);
  if (!e) return FOLIO_S3_ENOMEM;
  e->done = done;
  e->arg = arg;
  struct op *o = op_new(c, "PUT", NULL, ensure_done, e);
  if (!o) {
    free(e);
    return c && done ? FOLIO_S3_ENOMEM : FOLIO_S3_EINVAL;
  }
  const char *region = folio_s3_client_config(c)->region;
  if (strcmp(region, "us-east-1") != 0) {
    /* us-east-1 must not be named (AWS and RGW reject it); others must be */
    struct folio_str b = {0};
    folio_str_printf(&b,
                        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                        "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
                        "</CreateBucketConfiguration>",
                        region);
    o->body_copy = folio_str_take(&b);
    if (!o->body_copy) {
      free(e);
      op_free(o);
      return FOLIO_S3_ENOMEM;
    }
    o->spec.body = o->body_copy;
    o->spec.body_len = strlen(o->body_copy);
  }
  return submit(c, o);
}

int folio_s3_get(struct folio_s3_client *c, const char *key, const struct folio_s3_range *range,
                 folio_s3_data_cb on_data, folio_s3_done_cb done, void *arg,
                 struct folio_s3_get **out) {
  if (out) *out = NULL;
  if (!valid_key(key) || !on_data) return FOLIO_S3_EINVAL;
  if (range && ((!range->has_first && !range->has_last) ||
                (!range->has_first && range->last == 0) ||
                (range->has_first && range->has_last && range->last < range->first) ||
                (range->if_match && (!*range->if_match || strlen(range->if_match) > 127 ||
                                     strpbrk(range->if_match, "\r\n")))))
    return FOLIO_S3_EINVAL;
  struct op *o = op_new(c, "GET", key, done, arg);
  if (!o) return c && done ? FOLIO_S3_ENOMEM : FOLIO_S3_EINVAL;
  if (range) {
    char buf[64];
    if (!range->has_first)
      snprintf(buf, sizeof buf, "bytes=-%" PRIu64, range->last);
    else if (!range->has_last)
      snprintf(buf, sizeof buf, "bytes=%" PRIu64 "-", range->first);
    else
      snprintf(buf, sizeof buf, "bytes=%" PRIu64 "-%" PRIu64, range->first, range->last);
    if (!(o->range = strdup(buf))) {
      op_free(o);
      return FOLIO_S3_ENOMEM;
    }
    o->spec.range = o->range;
    if (range->if_match) {
      if (!(o->ifmatch = strdup(range->if_match))) {
        op_free(o);
        return FOLIO_S3_ENOMEM;
      }
      o->spec.if_match = o->ifmatch;
    }
  }
  o->spec.on_data = on_data;
  o->spec.data_arg = arg;
  o->get = calloc(1, sizeof *o->get);
  if (!o->get) {
    op_free(o);
    return FOLIO_S3_ENOMEM;
  }
  atomic_init(&o->get->refs, out ? 2 : 1);
  o->get->loop = folio_s3_client_loop(c);
  struct folio_s3_get *g = o->get;
  int rc = submit(c, o);
  if (rc == 0 && out) *out = g;
  return rc;
}

/* resume/cancel travel to the loop thread holding a reference */
struct get_msg {
  struct folio_s3_get *g;
  bool cancel;
};

static void get_msg_run(struct folio_loop *loop, void *arg) {
  struct get_msg *m = arg;
  struct folio_s3_get *g = m->g;
  if (!g->done && g->rq) {
    if (m->cancel)
      folio_s3_req_cancel(g->rq, FOLIO_S3_ECANCELED);
    else
      folio_s3_req_resume(g->rq);
  }
  get_unref(g);
  free(m);
}

static void get_msg_post(struct folio_s3_get *g, bool cancel, struct folio_loop *loop) {
  struct get_msg *m = malloc(sizeof *m);
  if (!m) return; /* resume/cancel lost under OOM; nothing better to do */
  m->g = g;
  m->cancel = cancel;
  atomic_fetch_add(&g->refs, 1);
  if (folio_loop_post(loop, get_msg_run, m) != 0) {
    atomic_fetch_sub(&g->refs, 1);
    free(m);
  }
}

const char *folio_s3_get_etag(const struct folio_s3_get *g) {
  return g && g->rq ? folio_s3_req_etag(g->rq) : "";
}

void folio_s3_get_resume(struct folio_s3_get *g) {
  if (g) get_msg_post(g, false, g->loop);
}

void folio_s3_get_cancel(struct folio_s3_get *g) {
  if (g) get_msg_post(g, true, g->loop);
}

void folio_s3_get_release(struct folio_s3_get *g) { get_unref(g); }
