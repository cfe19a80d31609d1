/* The artifact RPCs: GetArtifactUrl (a presigned S3 URL) and StreamArtifact.
 *
 * StreamArtifact pulls a ranged S3 GET through the loop thread and writes
 * chunks to the client, paced by gRPC flow control: bytes from S3 are copied
 * once, from curl's receive buffer into reference-counted blocks (struct
 * blk); a full chunk is written, only when no write is in flight, by
 * reference: cgrpc_call_write_lent frames the message's small fields and
 * hands gRPC a slice pointing into the block, which keeps the block alive
 * until the transport has written it (a block is reused only once gRPC let
 * go of it). Blocks hold a whole number of chunks, so a chunk never spans
 * two. The profile before and after: docs/performance.md. The buffered bytes read
 * ahead up to `readahead` bytes (2 chunks, at least 256 KiB); beyond that the S3
 * consumer answers PAUSE, and S3 is resumed once the writes have drained the
 * buffer to half of it. The hysteresis matters: pausing and resuming curl at
 * every chunk cost more CPU than moving the bytes (bench/artifacts). Memory
 * per stream: the buffer (≤ readahead + one curl delivery) plus the packed
 * message in flight. No thread waits: the write callback hops to the loop
 * with folio_loop_post. A cancelled call is noticed on the next S3 delivery,
 * the next write completion (ok = false) or the 250 ms tick, and stops the
 * S3 transfer.
 *
 * A client that stops reading must not keep an S3 connection (16 per host,
 * shared by every tenant). When S3 has been paused for limits.stall_ms
 * (the client took nothing), the GET is cancelled, which closes its
 * connection; the bytes already buffered stay. When the client has taken
 * the buffer down to half the read-ahead, a new GET asks for the rest from
 * fetch_next, with If-Match on the first reply's ETag so that every byte
 * comes from the object the recorded sha256 describes (a replaced object
 * ends the stream with ABORTED). A chunk that the client does not take for
 * limits.idle_ms ends the stream: cgrpc_call_cancel_with_status sends
 * ABORTED "stream idle" as trailers, which flow control does not hold back.
 * Each tenant holds at most limits.per_tenant streams at once (per server),
 * or its own streams_per_tenant (folio-server tenant set), above or below;
 * over it RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/clock.h"

#include "auth.h"
#include "logwriter.h"
#include "jobview.h"
#include "rpcstatus.h"

#define CHUNK_DEFAULT 65536
#define CHUNK_MIN 4096
#define CHUNK_MAX 1048576
#define READAHEAD_MIN (256 * 1024)
#define BLOCK_MIN (128 * 1024) /* a block holds the fewest chunks reaching this */
#define SPARE_BLOCKS 4         /* sent blocks a stream keeps for reuse, at most */
#define SPARE_BYTES (2 * 1024 * 1024) /* ... and at most this many bytes of them (one at least) */

static bool check_name(struct cgrpc_call *call, const char *rpc, const char *name) {
  if (name && *name) return true;
  char msg[96];
  snprintf(msg, sizeof msg, "%s: name (the artifact, e.g. \"document.pdf\") is required", rpc);
  struct srv_rpc_violation v = {"name", "is required"};
  srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
  return false;
}

/* Finds the artifact, or finishes the call (NOT_FOUND / FAILED_PRECONDITION
 * / the database error) and returns NULL. */
static const struct folio_job_artifact *artifact_of(struct srv_job_lookup *lk, const char *rpc,
                                                    const char *name, int rc,
                                                    const struct folio_job_status *st,
                                                    const struct folio_pg_diag *d) {
  char what[160];
  if (rc != 0) {
    snprintf(what, sizeof what, "%s: %s", rpc,
             rc == FOLIO_JOBS_ENOTFOUND ? "no such job" : "cannot read the job");
    srv_rpc_fail(lk->call, FOLIO_RPC_DB, rc, 0, what,
                   rc == FOLIO_JOBS_ENOTFOUND ? lk->job_id : d ? d->msg : NULL);
    return NULL;
  }
  if (st->state != FOLIO_JOB_SUCCEEDED) {
    snprintf(what, sizeof what, "%s: job %s is %s; artifacts exist once it SUCCEEDED", rpc,
             lk->job_id, folio_job_state_name(st->state));
    cgrpc_call_finish(lk->call, GRPC_STATUS_FAILED_PRECONDITION, what);
    return NULL;
  }
  const struct folio_job_artifact *a = srv_artifact_find(st, name);
  if (!a) {
    snprintf(what, sizeof what, "%s: job %s has no artifact named \"%.64s\"", rpc, lk->job_id,
             name);
    cgrpc_call_finish(lk->call, GRPC_STATUS_NOT_FOUND, what);
  }
  return a;
}

/* ---- GetArtifactUrl ------------------------------------------------------------ */

struct url_rpc {
  struct srv_job_lookup lk;
  const char *name;
  long ttl;
};

/* arena is ours (st and the signed URL live in it): reply, then free it. */
static void url_done(struct srv_job_lookup *lk, struct folio_arena *arena, int rc,
                     const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct url_rpc *x = lk->arg;
  const struct folio_job_artifact *a = artifact_of(lk, "GetArtifactUrl", x->name, rc, st, d);
  if (a) {
    char err[200];
    time_t exp;
    char *url = srv_artifact_sign(lk->b, arena, a, x->ttl, &exp, err, sizeof err);
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
  struct srv_job_lookup *lk = arg; /* first member of url_rpc / stream */
  lk->tenant = tenant;
  srv_job_lookup_start(lk);
}

static void get_artifact_url(struct cgrpc_call *call, const Folio__V1__GetArtifactUrlRequest *req,
                             void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "GetArtifactUrl", true)) return;
  long ttl;
  if (!srv_check_job_id(call, "GetArtifactUrl", req->job_id) ||
      !check_name(call, "GetArtifactUrl", req->name) ||
      !srv_check_ttl(call, "GetArtifactUrl", "ttl_seconds", req->ttl_seconds, &ttl))
    return;
  struct url_rpc *x = srv_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct url_rpc){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = url_done},
                        .name = req->name,
                        .ttl = ttl};
  x->lk.arg = x;
  srv_auth_call(b, call, "GetArtifactUrl", lookup_authed, x);
}

/* ---- StreamArtifact ------------------------------------------------------------------ */

static struct srv_stream_limits limits = {
    .stall_ms = FOLIO_STREAM_STALL_MS_DEFAULT,
    .idle_ms = FOLIO_STREAM_IDLE_MS_DEFAULT,
    .per_tenant = FOLIO_STREAMS_PER_TENANT_DEFAULT,
};

void srv_artifacts_configure(const struct srv_stream_limits *l) {
  limits.stall_ms = l->stall_ms > 0 ? l->stall_ms : FOLIO_STREAM_STALL_MS_DEFAULT;
  limits.idle_ms = l->idle_ms > 0 ? l->idle_ms : FOLIO_STREAM_IDLE_MS_DEFAULT;
  limits.per_tenant = l->per_tenant > 0 ? l->per_tenant : FOLIO_STREAMS_PER_TENANT_DEFAULT;
}

/* Stream slots per tenant: one entry per tenant with a stream open, freed when
 * its last stream ends. Taken on an auth thread, given back on the loop
 * thread: a mutex. */
struct tenant_slots {
  struct tenant_slots *next;
  int n;
  char name[];
};
#define SLOT_BUCKETS 64
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tenant_slots *slots[SLOT_BUCKETS];

static struct tenant_slots **slot_find(const char *tenant) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const char *p = tenant; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  struct tenant_slots **pp = &slots[h % SLOT_BUCKETS];
  while (*pp && strcmp((*pp)->name, tenant) != 0) pp = &(*pp)->next;
  return pp;
}

/* 0: taken; 1: the tenant already holds cap; -1: out of memory. */
static int slot_take(const char *tenant, int cap) {
  pthread_mutex_lock(&slots_mu);
  struct tenant_slots **pp = slot_find(tenant);
  int rc = 0;
  if (!*pp) {
    size_t len = strlen(tenant);
    struct tenant_slots *t = malloc(sizeof *t + len + 1);
    if (t) {
      memcpy(t->name, tenant, len + 1);
      t->n = 0;
      t->next = NULL;
      *pp = t;
    }
  }
  if (!*pp)
    rc = -1;
  else if ((*pp)->n >= cap)
    rc = 1;
  else
    (*pp)->n++;
  pthread_mutex_unlock(&slots_mu);
  return rc;
}

static void slot_give(const char *tenant) {
  pthread_mutex_lock(&slots_mu);
  struct tenant_slots **pp = slot_find(tenant);
  struct tenant_slots *t = *pp;
  if (t && --t->n == 0) {
    *pp = t->next;
    free(t);
  }
  pthread_mutex_unlock(&slots_mu);
}

/* Bytes from S3, filled front to back on the loop thread and never
 * overwritten while referenced. refs: the stream's one (while the block is
 * listed or kept as a spare) plus one per slice gRPC holds (struct
 * cgrpc_lend), dropped on any thread; the last one frees it. */
struct blk {
  atomic_int refs;
  struct blk *next;
  size_t fill, cap;
  uint8_t data[];
};

static void blk_ref(void *ud) {
  struct blk *b = ud;
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void blk_unref(void *ud) {
  struct blk *b = ud;
  if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

/* Whether gRPC still reads the block (only the stream's reference is left
 * otherwise: it may be refilled). */
static bool blk_shared(struct blk *b) {
  return atomic_load_explicit(&b->refs, memory_order_acquire) > 1;
}

struct stream {
  struct srv_job_lookup lk; /* first: lookup_authed casts */
  const Folio__V1__StreamArtifactRequest *req;
  const char *object_key; /* copied into the call's arena */
  size_t chunk;
  bool slot; /* holds one of the tenant's stream slots */
  /* set once the artifact is known (loop thread from then on) */
  uint64_t total, next_offset, end; /* end: one past the last byte to send */
  uint64_t fetch_next;              /* next byte to come from S3 (= next_offset + len) */
  char sha[65];
  char etag[128]; /* the first reply's; resumed GETs send it as If-Match */
  struct folio_s3_get *get;
  struct folio_loop_timer tick;
  /* The unsent bytes: from blocks->data[head] on, through the listed blocks
   * up to tail->fill; len of them. Blocks are block_cap bytes, a multiple of
   * chunk, and filled to the brim before the next one starts. */
  struct blk *blocks, *tail;
  struct blk *spare[SPARE_BLOCKS]; /* sent blocks, reused once gRPC let go */
  size_t head, len, block_cap, readahead;
  int spares_max; /* SPARE_BLOCKS, fewer for big blocks (SPARE_BYTES) */
  bool writing, paused, s3_done, finished, sent_any;
  /* A stalled client: the S3 GET is cancelled (releasing) and, once its done
   * ran, the stream holds no S3 transfer (released) until the client has
   * taken enough for a new ranged GET from fetch_next. */
  bool releasing, released;
  int64_t paused_ns;      /* when S3 was paused (valid while paused) */
  int64_t write_ns;       /* when the write in flight started */
  grpc_status_code abort_code; /* OK, or why the stream was cut (idle) */
  char abort_msg[160];
  int s3_status;
  long s3_http;
  char s3_err[256];
};

/* Everything a finished stream held, before the call is finished. */
static void stream_free(struct stream *x) {
  x->finished = true;
  folio_loop_timer_stop(x->lk.b->loop, &x->tick);
  while (x->blocks) {
    struct blk *b = x->blocks;
    x->blocks = b->next;
    blk_unref(b); /* freed now, or when gRPC drops the slices it holds */
  }
  x->tail = NULL;
  for (int i = 0; i < SPARE_BLOCKS; i++) {
    blk_unref(x->spare[i]);
    x->spare[i] = NULL;
  }
  x->len = 0;
  folio_s3_get_release(x->get);
  x->get = NULL;
  if (x->slot) slot_give(x->lk.tenant);
  x->slot = false;
}

static void stream_finish(struct stream *x, grpc_status_code code, const char *msg) {
  if (x->finished) return;
  stream_free(x);
  cgrpc_call_finish(x->lk.call, code, msg);
}

static void stream_pump(struct stream *x);
static void on_chunk_written(struct cgrpc_call *call, bool ok, void *arg);
static int on_s3_data(void *arg, const void *data, size_t len);
static void on_s3_done(void *arg, const struct folio_s3_result *r);

/* Starts the GET of fetch_next .. end-1; loop thread. A resumed GET carries
 * the first reply's ETag as If-Match, so the bytes it appends belong to the
 * object whose recorded sha256 the final chunk carries. */
static void s3_start(struct stream *x) {
  x->s3_done = false;
  x->s3_status = 0;
  x->paused = false;
  struct folio_s3_range range = {.has_first = true, .has_last = true, .first = x->fetch_next,
                                 .last = x->end - 1, .if_match = x->etag[0] ? x->etag : NULL};
  int s3rc = folio_s3_get(x->lk.b->s3, x->object_key, &range, on_s3_data, on_s3_done, x, &x->get);
  if (s3rc != 0) {
    x->s3_done = true;
    x->s3_status = s3rc;
    snprintf(x->s3_err, sizeof x->s3_err, "%s", folio_s3_strerror(s3rc));
  }
}

/* The client took bytes: resume or restart S3 once the buffer is down to
 * half the read-ahead (the hysteresis: see the top of the file). */
static void s3_refill(struct stream *x) {
  if (!x->paused || x->releasing || x->len > x->readahead / 2) return;
  x->paused = false;
  if (x->released) {
    x->released = false;
    s3_start(x);
  } else {
    folio_s3_get_resume(x->get);
  }
}

/* A block to fill: a spare gRPC no longer reads, or a new one. NULL when out
 * of memory. */
static struct blk *blk_take(struct stream *x) {
  for (int i = 0; i < SPARE_BLOCKS; i++) {
    struct blk *b = x->spare[i];
    if (b && !blk_shared(b)) {
      x->spare[i] = NULL;
      b->fill = 0;
      b->next = NULL;
      return b;
    }
  }
  struct blk *b = malloc(sizeof *b + x->block_cap);
  if (!b) return NULL;
  atomic_init(&b->refs, 1);
  b->next = NULL;
  b->fill = 0;
  b->cap = x->block_cap;
  return b;
}

/* Appends S3 bytes to the blocks; false when out of memory. */
static bool buf_append(struct stream *x, const uint8_t *data, size_t len) {
  while (len) {
    if (!x->tail || x->tail->fill == x->tail->cap) {
      struct blk *b = blk_take(x);
      if (!b) return false;
      if (x->tail)
        x->tail->next = b;
      else {
        x->blocks = b;
        x->head = 0;
      }
      x->tail = b;
    }
    struct blk *t = x->tail;
    size_t n = t->cap - t->fill < len ? t->cap - t->fill : len;
    memcpy(t->data + t->fill, data, n);
    t->fill += n;
    x->len += n;
    data += n;
    len -= n;
  }
  return true;
}

/* The head block was sent to its end: keep it as a spare (refilled once gRPC
 * let go of it) or drop the stream's reference. */
static void buf_pop(struct stream *x) {
  struct blk *b = x->blocks;
  x->blocks = b->next;
  if (!x->blocks) x->tail = NULL;
  x->head = 0;
  for (int i = 0; i < x->spares_max; i++)
    if (!x->spare[i]) {
      x->spare[i] = b;
      return;
    }
  blk_unref(b);
}

/* Sends one chunk of up to x->chunk bytes from the head block, by
 * reference (struct blk). */
static void send_chunk(struct stream *x) {
  struct blk *b = x->blocks;
  size_t n = x->len < x->chunk ? x->len : x->chunk;
  if (b && n > b->fill - x->head) n = b->fill - x->head; /* never: chunks tile blocks */
  Folio__V1__ArtifactChunk c; /* _init: the INIT macro casts away const (clang) */
  folio__v1__artifact_chunk__init(&c);
  c.data.data = b ? b->data + x->head : NULL; /* NULL: nothing to send */
  c.data.len = n;
  c.offset = x->next_offset;
  c.total_size = x->total;
  bool last = x->next_offset + n == x->end;
  if (last && x->end == x->total) c.sha256_hex = x->sha;
  x->writing = true;
  x->write_ns = folio_clock_mono_ns();
  struct cgrpc_lend lend = {.base = b ? b->data : NULL,
                            .len = b ? b->fill : 0,
                            .ref = blk_ref,
                            .unref = blk_unref,
                            .ud = b};
  int rc = cgrpc_call_write_lent(x->lk.call, &c.base, b ? &lend : NULL, on_chunk_written, x);
  if (rc != 0) {
    x->writing = false;
    if (x->get && !x->s3_done) folio_s3_get_cancel(x->get);
    x->s3_status = FOLIO_S3_ECANCELED;
    return;
  }
  x->sent_any = true;
  x->next_offset += n;
  x->len -= n;
  x->head += n;
  if (b && x->head == b->cap) buf_pop(x);
}

/* Decides what to do next; loop thread. */
static void stream_pump(struct stream *x) {
  if (x->finished || x->writing) return;
  bool gone = cgrpc_call_is_cancelled(x->lk.call);
  bool s3_live = x->get && !x->s3_done && !x->released;
  if (gone && s3_live) {
    folio_s3_get_cancel(x->get); /* again is harmless */
    return;                      /* done runs with ECANCELED */
  }
  if (gone) {
    if (x->abort_code != GRPC_STATUS_OK)
      stream_finish(x, x->abort_code, x->abort_msg); /* what the client was told */
    else
      stream_finish(x, GRPC_STATUS_CANCELLED, "the client went away");
    return;
  }
  if (x->len >= x->chunk || (x->s3_done && x->s3_status == 0 && x->len > 0)) {
    send_chunk(x);
    s3_refill(x);
    return;
  }
  if (x->released) { /* less than a chunk buffered and no transfer: fetch more */
    x->paused = true;
    s3_refill(x);
    return;
  }
  if (!x->s3_done) return;
  if (x->s3_status == 0 && x->next_offset == x->end) {
    if (!x->sent_any) { /* nothing to send (an empty artifact, offset == size): */
      x->len = 0;       /* one empty final chunk, with the sha256 */
      send_chunk(x);
      return;
    }
    stream_finish(x, GRPC_STATUS_OK, NULL);
  } else if (x->s3_status == 0) {
    stream_finish(x, GRPC_STATUS_DATA_LOSS, "StreamArtifact: the store returned fewer bytes than "
                                            "the artifact's recorded size");
  } else if (x->s3_status == FOLIO_S3_EHTTP && x->s3_http == 412) {
    char what[200];
    snprintf(what, sizeof what,
             "StreamArtifact: the artifact was replaced in the store while streaming; "
             "download it again from offset 0 (sent up to %llu)",
             (unsigned long long)x->next_offset);
    stream_finish(x, GRPC_STATUS_ABORTED, what);
  } else {
    char what[128];
    snprintf(what, sizeof what, "StreamArtifact: reading the artifact from the store failed%s",
             x->sent_any ? " mid-stream (resume with offset)" : "");
    grpc_status_code code = srv_rpc_code(FOLIO_RPC_S3, x->s3_status, x->s3_http);
    if (code == GRPC_STATUS_CANCELLED || cgrpc_call_is_cancelled(x->lk.call)) {
      stream_finish(x, GRPC_STATUS_CANCELLED, "cancelled");
      return;
    }
    stream_free(x); /* srv_rpc_fail finishes */
    srv_rpc_fail(x->lk.call, FOLIO_RPC_S3, x->s3_status, x->s3_http, what, x->s3_err);
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
  if (!x->etag[0]) snprintf(x->etag, sizeof x->etag, "%s", folio_s3_get_etag(x->get));
  if (!buf_append(x, data, len)) return -1;
  x->fetch_next += len;
  stream_pump(x);
  if (x->len >= x->readahead && x->writing) {
    x->paused = true;
    x->paused_ns = folio_clock_mono_ns();
    return FOLIO_S3_PAUSE;
  }
  return FOLIO_S3_CONTINUE;
}

static void on_s3_done(void *arg, const struct folio_s3_result *r) {
  struct stream *x = arg;
  if (x->releasing) {
    x->releasing = false;
    folio_s3_get_release(x->get);
    x->get = NULL;
    if (!cgrpc_call_is_cancelled(x->lk.call)) {
      if (x->fetch_next == x->end) { /* every byte arrived before the cancel did */
        x->s3_done = true;
        x->s3_status = 0;
      } else { /* cancelled as asked, or failed: a fresh GET surfaces a lasting error */
        x->released = true;
        struct folio_logline l;
        folio_log_begin(&l, FOLIO_LOG_DEBUG, "stream stalled: S3 transfer released");
        folio_log_str(&l, "request_id", cgrpc_call_user(x->lk.call));
        folio_log_int(&l, "next_offset", (int64_t)x->next_offset);
        folio_log_int(&l, "fetched_to", (int64_t)x->fetch_next);
        srv_logwriter_end(&l);
      }
      stream_pump(x);
      return;
    }
  }
  x->s3_done = true;
  x->s3_status = r->status;
  x->s3_http = r->http_status;
  snprintf(x->s3_err, sizeof x->s3_err, "%s%s%s", r->error_code, *r->error_code ? " " : "",
           r->error_message);
  stream_pump(x);
}

/* Every 250 ms: notices a cancelled call, and a client that takes nothing.
 * After limits.stall_ms with S3 paused, the S3 GET is released (its
 * connection closed, the per-host slot free for other streams); after
 * limits.idle_ms with one write waiting for the client, the stream ends with
 * ABORTED. */
static void on_stream_tick(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct stream *x = arg;
  if (x->finished) return;
  int64_t now = folio_clock_mono_ns();
  if (x->writing && x->abort_code == GRPC_STATUS_OK &&
      now - x->write_ns >= limits.idle_ms * 1000000) {
    x->abort_code = GRPC_STATUS_ABORTED;
    snprintf(x->abort_msg, sizeof x->abort_msg,
             "StreamArtifact: stream idle for %lld s (the client took no data); resume with "
             "offset %llu",
             (long long)(limits.idle_ms / 1000), (unsigned long long)x->next_offset);
    cgrpc_call_cancel_with_status(x->lk.call, x->abort_code, x->abort_msg);
    /* the write completes with ok = false; stream_pump then stops S3 and
     * finishes */
  }
  if (x->paused && x->get && !x->s3_done && !x->releasing && !x->released &&
      now - x->paused_ns >= limits.stall_ms * 1000000) {
    x->releasing = true;
    folio_s3_get_cancel(x->get);
  }
  stream_pump(x);
}

static void stream_begin(struct stream *x, const struct folio_job_artifact *a);

/* arena is ours (st points into it); stream_begin copies what it keeps. */
static void stream_found(struct srv_job_lookup *lk, struct folio_arena *arena, int rc,
                         const struct folio_job_status *st, const struct folio_pg_diag *d) {
  struct stream *x = lk->arg;
  const Folio__V1__StreamArtifactRequest *req = x->req;
  /* the tenant's slot goes back before artifact_of finishes the call */
  if (rc != 0 || st->state != FOLIO_JOB_SUCCEEDED || !srv_artifact_find(st, req->name)) {
    slot_give(lk->tenant);
    x->slot = false;
  }
  const struct folio_job_artifact *a = artifact_of(lk, "StreamArtifact", req->name, rc, st, d);
  if (a) stream_begin(x, a);
  folio_arena_destroy(arena);
}

static void stream_begin(struct stream *x, const struct folio_job_artifact *a) {
  struct srv_job_lookup *lk = &x->lk;
  const Folio__V1__StreamArtifactRequest *req = x->req;
  x->total = a->size_bytes;
  snprintf(x->sha, sizeof x->sha, "%s", a->sha256_hex ? a->sha256_hex : "");
  if (req->offset > x->total) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "StreamArtifact: offset %llu is past the end of \"%s\" (%llu bytes)",
             (unsigned long long)req->offset, a->name, (unsigned long long)x->total);
    stream_finish(x, GRPC_STATUS_OUT_OF_RANGE, msg);
    return;
  }
  x->next_offset = x->fetch_next = req->offset;
  x->end = x->total;
  if (req->limit && req->limit < x->total - req->offset) x->end = req->offset + req->limit;
  folio_loop_timer_init(&x->tick);
  folio_loop_timer_start(lk->b->loop, &x->tick, 250, 250, on_stream_tick, x);
  if (x->next_offset == x->end) { /* offset == size (or an empty artifact) */
    x->s3_done = true;
    stream_pump(x);
    return;
  }
  size_t klen = strlen(a->object_key) + 1;
  char *key = cgrpc_call_alloc(lk->call, klen);
  if (key) memcpy(key, a->object_key, klen);
  x->object_key = key;
  if (!key) {
    stream_finish(x, GRPC_STATUS_RESOURCE_EXHAUSTED, "StreamArtifact: out of memory");
    return;
  }
  s3_start(x);
  stream_pump(x);
}

static void stream_authed(struct cgrpc_call *call, const char *tenant, void *arg) {
  struct stream *x = arg;
  x->lk.tenant = tenant;
  /* the server's cap, or the tenant's streams_per_tenant override (learned
   * with the API-key check; folio/tenant.h) */
  struct folio_tenant_limits tl;
  folio_quota_limits(x->lk.b->quota, tenant, &tl);
  int cap = tl.streams_per_tenant > 0
                ? (tl.streams_per_tenant > INT_MAX ? INT_MAX : (int)tl.streams_per_tenant)
                : limits.per_tenant;
  int rc = slot_take(tenant, cap);
  if (rc != 0) {
    char msg[300], desc[120], subject[160];
    snprintf(desc, sizeof desc, "at most %d concurrent StreamArtifact calls per tenant (%s)", cap,
             tl.streams_per_tenant > 0 ? "streams_per_tenant, the tenant's"
                                       : "FOLIO_STREAMS_PER_TENANT");
    snprintf(msg, sizeof msg, "StreamArtifact: %s%s; finish or cancel one (retry in %d ms)",
             rc < 0 ? "out of memory counting streams; " : "", desc, FOLIO_RPC_RETRY_AFTER_MS);
    snprintf(subject, sizeof subject, "tenant:%s", tenant);
    srv_rpc_quota_failure(call, msg, subject, desc, FOLIO_RPC_RETRY_AFTER_MS);
    return;
  }
  x->slot = true;
  srv_job_lookup_start(&x->lk);
}

static void stream_artifact(struct cgrpc_call *call, const Folio__V1__StreamArtifactRequest *req,
                            void *impl) {
  struct srv_backend *b = impl;
  if (!srv_backend_require(b, call, "StreamArtifact", true)) return;
  if (!srv_check_job_id(call, "StreamArtifact", req->job_id) ||
      !check_name(call, "StreamArtifact", req->name))
    return;
  size_t chunk = req->chunk_size ? req->chunk_size : CHUNK_DEFAULT;
  if (chunk < CHUNK_MIN || chunk > CHUNK_MAX) {
    char msg[128], desc[64];
    snprintf(desc, sizeof desc, "must be %d..%d bytes (0 = %d), got %u", CHUNK_MIN, CHUNK_MAX,
             CHUNK_DEFAULT, req->chunk_size);
    snprintf(msg, sizeof msg, "StreamArtifact: chunk_size %s", desc);
    struct srv_rpc_violation v = {"chunk_size", desc};
    srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
    return;
  }
  struct stream *x = srv_call_ctx(call, sizeof *x);
  if (!x) return;
  *x = (struct stream){.lk = {.b = b, .call = call, .job_id = req->job_id, .cb = stream_found},
                       .req = req,
                       .chunk = chunk,
                       .block_cap = (BLOCK_MIN + chunk - 1) / chunk * chunk,
                       .readahead = 2 * chunk > READAHEAD_MIN ? 2 * chunk : READAHEAD_MIN};
  x->spares_max = (int)(SPARE_BYTES / x->block_cap);
  if (x->spares_max < 1) x->spares_max = 1;
  if (x->spares_max > SPARE_BLOCKS) x->spares_max = SPARE_BLOCKS;
  x->lk.arg = x;
  srv_auth_call(b, call, "StreamArtifact", stream_authed, x);
}

void srv_artifacts_handlers(struct folio__v1__layout_service__handlers *h) {
  h->stream_artifact = stream_artifact;
  h->get_artifact_url = get_artifact_url;
}
