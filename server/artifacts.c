/* The artifact RPCs: GetArtifactUrl (a presigned S3 URL) and StreamArtifact.
 *
 * StreamArtifact pulls a ranged S3 GET through the loop thread and writes
 * chunks to the client, paced by gRPC flow control: bytes from S3 gather in
 * one buffer; a full chunk is written (cgrpc packs it at once, so the buffer
 * is free again) only when no write is in flight. The buffer reads ahead up
 * to `readahead` bytes (2 chunks, at least 256 KiB); beyond that the S3
 * consumer answers PAUSE, and S3 is resumed once the writes have drained the
 * buffer to half of it. The hysteresis matters: pausing and resuming curl at
 * every chunk cost more CPU than moving the bytes (bench/artifacts). Memory
 * per stream: the buffer (≤ readahead + one curl delivery) plus the packed
 * message in flight. No thread waits: the write callback hops to the loop
 * with folio_loop_post. A
 * cancelled call is noticed on the next S3 delivery, the next write
 * completion (ok = false) or the 250 ms tick, and stops the S3 transfer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "jobview.h"
#include "rpcstatus.h"

#define CHUNK_DEFAULT 65536
#define CHUNK_MIN 4096
#define CHUNK_MAX 1048576
#define READAHEAD_MIN (256 * 1024)

static bool check_name(struct cgrpc_call *call, const char *rpc, const char *name) {
  if (name && *name) return true;
  char msg[96];
  snprintf(msg, sizeof msg, "%s: name (the artifact, e.g. \"document.pdf\") is required", rpc);
  struct folio_rpc_violation v = {"name", "is required"};
  folio_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
  return false;
}

/* Finds the artifact, or finishes the call (NOT_FOUND / FAILED_PRECONDITION
 * / the database error) and returns NULL. */
static const struct folio_job_artifact *artifact_of(struct folio_job_lookup *lk, const char *rpc,
                                                    const char *name, int rc,
                                                    const struct folio_job_status *st,
                                                    const struct folio_pg_diag *d) {
  char what[160];
  if (rc != 0) {
    snprintf(what, sizeof what, "%s: %s", rpc,
             rc == FOLIO_JOBS_ENOTFOUND ? "no such job" : "cannot read the job");
    folio_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, what,
                   rc == FOLIO_JOBS_ENOTFOUND ? lk->job_id : d ? d->msg : NULL);
    return NULL;
  }
  if (st->state != FOLIO_JOB_SUCCEEDED) {
    snprintf(what, sizeof what, "%s: job %s is %s; artifacts exist once it SUCCEEDED", rpc,
             lk->job_id, folio_job_state_name(st->state));
    cgrpc_call_finish(lk->call, GRPC_STATUS_FAILED_PRECONDITION, what);
    return NULL;
  }
  const struct folio_job_artifact *a = folio_artifact_find(st, name);
  if (!a) {
    snprintf(what, sizeof what, "%s: job %s has no artifact named \"%.64s\"", rpc, lk->job_id,
             name);
    cgrpc_call_finish(lk->call, GRPC_STATUS_NOT_FOUND, what);
  }
  return a;
}

/* ---- GetArtifactUrl ------------------------------------------------------------ */

struct url_rpc {
  struct folio_job_lookup lk;
  const char *name;
  long ttl;
};

/* arena is ours (st and the signed URL live in it): reply, then free it. */
static void url_done(struct folio_job_lookup *lk, struct folio_arena *arena, int rc,
                     const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct url_rpc *x = lk->arg;
  const struct folio_job_artifact *a = artifact_of(lk, "GetArtifactUrl", x->name, rc, st, d);
  if (a) {
    char err[200];
    time_t exp;
    char *url = folio_artifact_sign(lk->b, arena, a, x->ttl, &exp, err, sizeof err);
    if (!url) {
      cgrpc_call_finish(lk->call, GRPC_STATUS_INTERNAL, err);
    } else {
      Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
      t.seconds = exp;
      Folio__V1__ArtifactUrl u = FOLIO__V1__ARTIFACT_URL__INIT;
      u.url = url;
      u.expires_at = &t;
      folio__v1__layout_service__get_artifact_url__reply(lk->call, &u);
    }
  }
  folio_arena_destroy(arena);
}

static void lookup_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct folio_job_lookup *lk = arg; /* first member of url_rpc / stream */
  lk->tenant = tenant;
  folio_job_lookup_start(lk);
}

static void get_artifact_url(struct cgrpc_call *call, const Folio__V1__GetArtifactUrlRequest *req,
                             void *impl) {
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "GetArtifactUrl", true)) return;
  long ttl;
  if (!folio_check_job_id(call, "GetArtifactUrl", req->job_id) ||
      !check_name(call, "GetArtifactUrl", req->name) ||
      !folio_check_ttl(call, "GetArtifactUrl", "ttl_seconds", req->ttl_seconds, &ttl))
    return;
  struct url_rpc *x = folio_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct url_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = url_done},
                        .name = req->name,
                        .ttl = ttl};
  x->lk.arg = x;
  folio_auth_call(b, call, "GetArtifactUrl", lookup_authed, x);
}

/* ---- StreamArtifact ------------------------------------------------------------------ */

struct stream {
  struct folio_job_lookup lk; /* first: lookup_authed casts */
  const Folio__V1__StreamArtifactRequest *req;
  size_t chunk;
  /* set once the artifact is known (loop thread from then on) */
  uint64_t total, next_offset, end; /* end: one past the last byte to send */
  char sha[65];
  struct folio_s3_get *get;
  struct folio_loop_timer tick;
  uint8_t *buf; /* the unsent bytes are buf[head .. head + len) */
  size_t head, len, cap, readahead;
  bool writing, paused, s3_done, finished, sent_any;
  int s3_status;
  long s3_http;
  char s3_err[256];
};

static void stream_finish(struct stream *x, grpc_status_code code, const char *msg) {
  if (x->finished) return;
  x->finished = true;
  folio_loop_timer_stop(x->lk.b->loop, &x->tick);
  free(x->buf);
  x->buf = NULL;
  folio_s3_get_release(x->get);
  x->get = NULL;
  cgrpc_call_finish(x->lk.call, code, msg);
}

static void stream_pump(struct stream *x);

static void on_chunk_written(struct cgrpc_call *call, bool ok, void *arg);

/* Sends one chunk of up to x->chunk bytes from the buffer. */
static void send_chunk(struct stream *x) {
  size_t n = x->len < x->chunk ? x->len : x->chunk;
  Folio__V1__ArtifactChunk c = FOLIO__V1__ARTIFACT_CHUNK__INIT;
  c.data.data = x->buf ? x->buf + x->head : NULL; /* NULL: an empty artifact */
  c.data.len = n;
  c.offset = x->next_offset;
  c.total_size = x->total;
  bool last = x->next_offset + n == x->end;
  if (last && x->end == x->total) c.sha256_hex = x->sha;
  x->writing = true;
  int rc = folio__v1__layout_service__stream_artifact__send(x->lk.call, &c, on_chunk_written, x);
  if (rc != 0) {
    x->writing = false;
    if (x->get) folio_s3_get_cancel(x->get);
    x->s3_status = FOLIO_S3_ECANCELED;
    return;
  }
  x->sent_any = true;
  x->next_offset += n;
  x->len -= n;
  x->head = x->len ? x->head + n : 0;
}

/* Decides what to do next; loop thread. */
static void stream_pump(struct stream *x) {
  if (x->finished || x->writing) return;
  bool gone = cgrpc_call_is_cancelled(x->lk.call);
  if (gone && !x->s3_done) {
    folio_s3_get_cancel(x->get);
    return; /* done runs with ECANCELED */
  }
  if (gone) {
    stream_finish(x, GRPC_STATUS_CANCELLED, "the client went away");
    return;
  }
  if (x->len >= x->chunk || (x->s3_done && x->s3_status == 0 && x->len > 0)) {
    send_chunk(x);
    if (x->paused && x->len <= x->readahead / 2) {
      x->paused = false;
      folio_s3_get_resume(x->get);
    }
    return;
  }
  if (!x->s3_done) return;
  if (x->s3_status == 0 && x->next_offset == x->end) {
    if (!x->sent_any) { /* an empty artifact: one empty final chunk */
      x->len = 0;
      send_chunk(x);
      return;
    }
    stream_finish(x, GRPC_STATUS_OK, NULL);
  } else if (x->s3_status == 0) {
    stream_finish(x, GRPC_STATUS_DATA_LOSS, "StreamArtifact: the store returned fewer bytes than "
                                            "the artifact's recorded size");
  } else {
    char what[128];
    snprintf(what, sizeof what, "StreamArtifact: reading the artifact from the store failed%s",
             x->sent_any ? " mid-stream (resume with offset)" : "");
    grpc_status_code code = folio_rpc_code(FOLIO_RPC_S3, x->s3_status, x->s3_http);
    if (code == GRPC_STATUS_CANCELLED || cgrpc_call_is_cancelled(x->lk.call)) {
      stream_finish(x, GRPC_STATUS_CANCELLED, "cancelled");
      return;
    }
    x->finished = true; /* folio_rpc_fail finishes; free the rest first */
    folio_loop_timer_stop(x->lk.b->loop, &x->tick);
    free(x->buf);
    x->buf = NULL;
    folio_s3_get_release(x->get);
    x->get = NULL;
    folio_rpc_fail(x->lk.call, FOLIO_RPC_S3, x->s3_status, x->s3_http, what, x->s3_err);
  }
}

static void written_on_loop(struct folio_loop *loop, void *arg) {
  struct stream *x = arg;
  x->writing = false;
  stream_pump(x);
}

static void on_chunk_written(struct cgrpc_call *call, bool ok, void *arg) {
  struct stream *x = arg;
  /* ok = false: the call went away; stream_pump sees is_cancelled. */
  folio_loop_post(x->lk.b->loop, written_on_loop, x);
}

static int on_s3_data(void *arg, const void *data, size_t len) {
  struct stream *x = arg;
  if (cgrpc_call_is_cancelled(x->lk.call)) return -1;
  if (x->head + x->len + len > x->cap) {
    if (x->head) { /* at most once per buffer's worth of bytes sent */
      memmove(x->buf, x->buf + x->head, x->len);
      x->head = 0;
    }
    if (x->len + len > x->cap) {
      size_t cap = x->cap ? x->cap : x->readahead;
      while (cap < x->len + len) cap *= 2;
      uint8_t *b = realloc(x->buf, cap);
      if (!b) return -1;
      x->buf = b;
      x->cap = cap;
    }
  }
  memcpy(x->buf + x->head + x->len, data, len);
  x->len += len;
  stream_pump(x);
  if (x->len >= x->readahead && x->writing) {
    x->paused = true;
    return FOLIO_S3_PAUSE;
  }
  return FOLIO_S3_CONTINUE;
}

static void on_s3_done(void *arg, const struct folio_s3_result *r) {
  struct stream *x = arg;
  x->s3_done = true;
  x->s3_status = r->status;
  x->s3_http = r->http_status;
  snprintf(x->s3_err, sizeof x->s3_err, "%s%s%s", r->error_code, *r->error_code ? " " : "",
           r->error_message);
  stream_pump(x);
}

static void on_stream_tick(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  stream_pump(arg);
}

static void stream_begin(struct stream *x, const struct folio_job_artifact *a);

/* arena is ours (st points into it); stream_begin copies what it keeps. */
static void stream_found(struct folio_job_lookup *lk, struct folio_arena *arena, int rc,
                         const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct stream *x = lk->arg;
  const Folio__V1__StreamArtifactRequest *req = x->req;
  const struct folio_job_artifact *a = artifact_of(lk, "StreamArtifact", req->name, rc, st, d);
  if (a) stream_begin(x, a);
  folio_arena_destroy(arena);
}

static void stream_begin(struct stream *x, const struct folio_job_artifact *a) {
  struct folio_job_lookup *lk = &x->lk;
  const Folio__V1__StreamArtifactRequest *req = x->req;
  x->total = a->size_bytes;
  snprintf(x->sha, sizeof x->sha, "%s", a->sha256_hex ? a->sha256_hex : "");
  if (req->offset > x->total || (req->offset == x->total && x->total > 0)) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "StreamArtifact: offset %llu is past the end of \"%s\" (%llu bytes)",
             (unsigned long long)req->offset, a->name, (unsigned long long)x->total);
    cgrpc_call_finish(lk->call, GRPC_STATUS_OUT_OF_RANGE, msg);
    return;
  }
  x->next_offset = req->offset;
  x->end = x->total;
  if (req->limit && req->limit < x->total - req->offset) x->end = req->offset + req->limit;
  folio_loop_timer_init(&x->tick);
  folio_loop_timer_start(lk->b->loop, &x->tick, 250, 250, on_stream_tick, x);
  if (x->total == 0) {
    x->s3_done = true;
    stream_pump(x);
    return;
  }
  struct folio_s3_range range = {.has_first = true, .has_last = true, .first = x->next_offset,
                                 .last = x->end - 1};
  int s3rc = folio_s3_get(lk->b->s3, a->object_key, &range, on_s3_data, on_s3_done, x, &x->get);
  if (s3rc != 0) {
    x->s3_done = true;
    x->s3_status = s3rc;
    snprintf(x->s3_err, sizeof x->s3_err, "%s", folio_s3_strerror(s3rc));
    stream_pump(x);
  }
}

static void stream_artifact(struct cgrpc_call *call, const Folio__V1__StreamArtifactRequest *req,
                            void *impl) {
  struct folio_backend *b = impl;
  if (!folio_backend_require(b, call, "StreamArtifact", true)) return;
  if (!folio_check_job_id(call, "StreamArtifact", req->job_id) ||
      !check_name(call, "StreamArtifact", req->name))
    return;
  size_t chunk = req->chunk_size ? req->chunk_size : CHUNK_DEFAULT;
  if (chunk < CHUNK_MIN || chunk > CHUNK_MAX) {
    char msg[128], desc[64];
    snprintf(desc, sizeof desc, "must be %d..%d bytes (0 = %d), got %u", CHUNK_MIN, CHUNK_MAX,
             CHUNK_DEFAULT, req->chunk_size);
    snprintf(msg, sizeof msg, "StreamArtifact: chunk_size %s", desc);
    struct folio_rpc_violation v = {"chunk_size", desc};
    folio_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
    return;
  }
  struct stream *x = folio_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct stream){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = stream_found},
                       .req = req,
                       .chunk = chunk,
                       .readahead = 2 * chunk > READAHEAD_MIN ? 2 * chunk : READAHEAD_MIN};
  x->lk.arg = x;
  folio_auth_call(b, call, "StreamArtifact", lookup_authed, x);
}

void folio_artifacts_handlers(struct folio__v1__layout_service__handlers *h) {
  h->stream_artifact = stream_artifact;
  h->get_artifact_url = get_artifact_url;
}
