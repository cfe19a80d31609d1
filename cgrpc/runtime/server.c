/* The cgrpc server: completion-queue threads, call dispatch and the per-call
 * state machine.
 *
 * Threads. Each completion queue has exactly one thread, and a call's batches
 * all complete on the queue it arrived on, so every completion of one call runs
 * serially on one thread. Handlers, though, may finish or write from any
 * thread, so the mutable state of a call is guarded by call->mu and batches are
 * started under it (grpc_call_start_batch is thread-safe; the lock only keeps
 * our flags consistent with what was started).
 *
 * Lifetime. A call holds references: one for the handler (dropped when the
 * status batch completes), one for the RECV_CLOSE_ON_SERVER op (dropped when
 * gRPC reports the call closed), and one per read/write in flight. The last
 * reference runs on_call_end, unrefs the grpc_call and frees the arena.
 *
 * Memory. Everything a call needs beyond its struct lives in its arena: the
 * unpacked request, metadata copies, response metadata, the status message.
 * Slices handed to gRPC point into the arena (static slices), valid because
 * the arena outlives every batch. Streamed client messages are unpacked into
 * a scratch arena that is reset before the next one. */
#include <assert.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgrpc_int.h"

/* Calls requested ahead of arrival on each completion queue: per registered
 * method, and for unknown methods (answered UNIMPLEMENTED). */
#define REQUESTS_PER_METHOD 4
#define REQUESTS_UNKNOWN 2

struct tag {
  void (*fn)(struct tag *t, bool ok);
};
#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct method_entry {
  const struct cgrpc_method_desc *desc;
  cgrpc_dispatch_fn dispatch;
  const void *handlers;
  void *impl;
  void *registered; /* grpc_server_register_method's handle */
  bool single_request; /* unary, server-streaming: gRPC pre-reads the request */
};

struct cq_worker {
  struct cgrpc_server *s;
  grpc_completion_queue *cq;
  pthread_t thread;
  bool thread_started;
};

/* One requested-but-not-yet-arrived call: of a registered method (m set;
 * gRPC fills deadline, and payload when the method has a single request), or
 * of any other path (m NULL; gRPC fills details). */
struct request {
  struct tag tag;
  struct cq_worker *w;
  const struct method_entry *m;
  grpc_call *call;
  grpc_call_details details;
  gpr_timespec deadline;
  grpc_metadata_array md;
  grpc_byte_buffer *payload;
};

struct cgrpc_server {
  struct cgrpc_server_config cfg; /* strings owned (strdup) */
  grpc_server *server;
  struct cq_worker *workers;
  int n_workers;
  struct method_entry *methods;
  size_t n_methods;
  int port;

  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool started, shutdown_started, shutdown_notified, shut_down;
  size_t live_calls;
  struct tag shutdown_tag;
};

struct cgrpc_call {
  struct cgrpc_server *s;
  grpc_call *call;
  gpr_timespec deadline;
  grpc_metadata_array req_md;
  const struct method_entry *m; /* NULL for an unknown method */
  const char *method;           /* the method's static path, or an arena copy */
  struct cgrpc_arena *arena;    /* guarded by mu */
  struct cgrpc_arena *scratch;  /* CQ thread only */
  int64_t start_ns;
  int64_t handler_ns;     /* time inside the application's callbacks; CQ thread only */
  int64_t handler_max_ns; /* the longest one of them; CQ thread only */
  void *user;
  atomic_bool cancelled;

  pthread_mutex_t mu;
  int refs;
  bool md_sent, finish_requested, finish_pending, write_busy, read_busy;
  grpc_status_code code;
  grpc_metadata *resp_md;
  size_t n_resp_md, cap_resp_md;
  struct cgrpc_metadata *md_view;
  size_t n_md_view;
  char *peer;
  cgrpc_cancel_cb cancel_cb;
  void *cancel_ud;

  struct tag close_tag;
  int close_cancelled;

  struct tag recv_tag;
  grpc_byte_buffer *recv_bb;
  cgrpc_read_cb read_cb;
  void *read_ud;

  struct tag write_tag;
  grpc_byte_buffer *write_bb;
  cgrpc_write_cb write_cb;
  void *write_ud;

  struct tag finish_tag;
  grpc_byte_buffer *finish_bb; /* the reply message, or NULL */
  grpc_slice finish_msg;       /* static slice into the arena */
  grpc_metadata details_md;
  bool has_details;
};

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs one application callback and adds the time it held the CQ thread to
 * the call's handler_ns, keeping the longest in handler_max_ns (both reported
 * in cgrpc_call_summary). */
#define TIMED(c, stmt)                                         \
  do {                                                         \
    int64_t t0_ = mono_ns();                                   \
    stmt;                                                      \
    int64_t d_ = mono_ns() - t0_;                              \
    (c)->handler_ns += d_;                                     \
    if (d_ > (c)->handler_max_ns) (c)->handler_max_ns = d_;    \
  } while (0)

/* A batch we built wrongly is a bug in cgrpc, never a runtime condition. */
static void start_batch(struct cgrpc_call *c, const grpc_op *ops, size_t n, struct tag *t) {
  grpc_call_error e = grpc_call_start_batch(c->call, ops, n, t, NULL);
  if (e != GRPC_CALL_OK) {
    fprintf(stderr, "cgrpc: grpc_call_start_batch failed: %s\n", grpc_call_error_to_string(e));
    abort();
  }
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* ---- call lifetime ---- */

static void call_release(struct cgrpc_call *c) {
  struct cgrpc_server *s = c->s;
  if (s->cfg.on_call_end) {
    struct cgrpc_call_summary sum = {
        .method = c->method,
        .code = c->code,
        .cancelled = atomic_load(&c->cancelled),
        .duration_ns = mono_ns() - c->start_ns,
        .handler_ns = c->handler_ns,
        .handler_max_ns = c->handler_max_ns,
    };
    s->cfg.on_call_end(c, &sum, s->cfg.hook_ud);
  }
  grpc_call_unref(c->call);
  grpc_metadata_array_destroy(&c->req_md);
  cgrpc_arena_destroy(c->scratch);
  cgrpc_arena_destroy(c->arena);
  pthread_mutex_destroy(&c->mu);
  free(c);
  pthread_mutex_lock(&s->mu);
  s->live_calls--;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void call_unref(struct cgrpc_call *c) {
  pthread_mutex_lock(&c->mu);
  int left = --c->refs;
  pthread_mutex_unlock(&c->mu);
  if (left == 0) call_release(c);
}

/* Adds the SEND_INITIAL_METADATA op when it was not sent yet. Under c->mu. */
static size_t add_initial_md_locked(struct cgrpc_call *c, grpc_op *op) {
  if (c->md_sent) return 0;
  c->md_sent = true;
  memset(op, 0, sizeof *op);
  op->op = GRPC_OP_SEND_INITIAL_METADATA;
  op->data.send_initial_metadata.count = c->n_resp_md;
  op->data.send_initial_metadata.metadata = c->resp_md;
  return 1;
}

static void start_finish_locked(struct cgrpc_call *c) {
  grpc_op ops[3];
  size_t n = add_initial_md_locked(c, &ops[0]);
  if (c->finish_bb) {
    memset(&ops[n], 0, sizeof ops[n]);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = c->finish_bb;
    n++;
  }
  memset(&ops[n], 0, sizeof ops[n]);
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = c->code;
  ops[n].data.send_status_from_server.status_details = &c->finish_msg;
  ops[n].data.send_status_from_server.trailing_metadata_count = c->has_details ? 1 : 0;
  ops[n].data.send_status_from_server.trailing_metadata = c->has_details ? &c->details_md : NULL;
  n++;
  start_batch(c, ops, n, &c->finish_tag);
}

static void on_finish_done(struct tag *t, bool ok) {
  struct cgrpc_call *c = CONTAINER(t, struct cgrpc_call, finish_tag);
  if (c->finish_bb) grpc_byte_buffer_destroy(c->finish_bb);
  c->finish_bb = NULL;
  call_unref(c); /* the handler's reference */
}

/* The one path by which every call ends. bb (the reply, may be NULL) is
 * consumed. */
static int finish_call(struct cgrpc_call *c, grpc_status_code code, const char *msg,
                       const void *details, size_t details_len, grpc_byte_buffer *bb) {
  pthread_mutex_lock(&c->mu);
  if (c->finish_requested) {
    pthread_mutex_unlock(&c->mu);
    if (bb) grpc_byte_buffer_destroy(bb);
    return CGRPC_EDONE;
  }
  size_t mlen = msg ? strlen(msg) : 0;
  char *mcopy = cgrpc_arena_strndup(c->arena, msg ? msg : "", mlen);
  void *dcopy = details_len ? cgrpc_arena_alloc(c->arena, details_len) : NULL;
  if (!mcopy || (details_len && !dcopy)) {
    /* Out of memory: still end the call, with a status that needs nothing. */
    code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    mcopy = NULL;
    details_len = 0;
    if (bb) grpc_byte_buffer_destroy(bb);
    bb = NULL;
  }
  c->finish_requested = true;
  c->code = code;
  c->finish_bb = bb;
  c->finish_msg = mcopy ? grpc_slice_from_static_buffer(mcopy, mlen) : grpc_empty_slice();
  if (details_len) {
    memcpy(dcopy, details, details_len);
    c->has_details = true;
    c->details_md.key = grpc_slice_from_static_string(CGRPC_DETAILS_KEY);
    c->details_md.value = grpc_slice_from_static_buffer(dcopy, details_len);
  }
  if (c->write_busy)
    c->finish_pending = true; /* started when the write completes */
  else
    start_finish_locked(c);
  pthread_mutex_unlock(&c->mu);
  return 0;
}

int cgrpc_call_finish(struct cgrpc_call *call, grpc_status_code code, const char *message) {
  return finish_call(call, code, message, NULL, 0, NULL);
}

int cgrpc_call_finish_details(struct cgrpc_call *call, grpc_status_code code,
                              const char *message, const void *details, size_t details_len) {
  return finish_call(call, code, message, details, details_len, NULL);
}

/* Packs msg (by reference to lend's bytes when lend is set) and checks it
 * against the send limit. On failure returns NULL and *size says why (the
 * packed size; 0 when out of memory). */
static grpc_byte_buffer *pack_limited(struct cgrpc_call *c, const ProtobufCMessage *msg,
                                      const struct cgrpc_lend *lend, size_t *size) {
  *size = protobuf_c_message_get_packed_size(msg);
  int64_t lim = c->s->cfg.max_send_bytes;
  if (lim > 0 && *size > (uint64_t)lim) return NULL;
  grpc_byte_buffer *bb = cgrpc_pack_lent(msg, lend, size);
  if (!bb) *size = 0;
  return bb;
}

int cgrpc_call_reply(struct cgrpc_call *call, const ProtobufCMessage *msg) {
  size_t size;
  grpc_byte_buffer *bb = pack_limited(call, msg, NULL, &size);
  if (!bb) {
    char m[160];
    snprintf(m, sizeof m, "response of %zu bytes exceeds the server's send limit of %lld bytes",
             size, (long long)call->s->cfg.max_send_bytes);
    return finish_call(call, GRPC_STATUS_RESOURCE_EXHAUSTED, m, NULL, 0, NULL);
  }
  return finish_call(call, GRPC_STATUS_OK, NULL, NULL, 0, bb);
}

/* ---- writes ---- */

static void on_write_done(struct tag *t, bool ok) {
  struct cgrpc_call *c = CONTAINER(t, struct cgrpc_call, write_tag);
  if (!ok) atomic_store(&c->cancelled, true); /* a failed op means a dead call */
  pthread_mutex_lock(&c->mu);
  c->write_busy = false;
  grpc_byte_buffer *bb = c->write_bb;
  c->write_bb = NULL;
  cgrpc_write_cb cb = c->write_cb;
  void *ud = c->write_ud;
  if (c->finish_pending) {
    c->finish_pending = false;
    start_finish_locked(c);
  }
  pthread_mutex_unlock(&c->mu);
  grpc_byte_buffer_destroy(bb);
  TIMED(c, cb(c, ok, ud));
  call_unref(c);
}

static int call_write(struct cgrpc_call *call, const ProtobufCMessage *msg,
                      const struct cgrpc_lend *lend, cgrpc_write_cb done, void *ud) {
  if (!call || !msg || !done) return CGRPC_EINVAL;
  pthread_mutex_lock(&call->mu);
  int err = call->finish_requested ? CGRPC_EDONE : call->write_busy ? CGRPC_EBUSY : 0;
  pthread_mutex_unlock(&call->mu);
  if (err) return err;
  size_t size;
  grpc_byte_buffer *bb = pack_limited(call, msg, lend, &size);
  if (!bb) return size ? CGRPC_ETOOBIG : CGRPC_ENOMEM;
  pthread_mutex_lock(&call->mu);
  if (call->finish_requested || call->write_busy) {
    err = call->finish_requested ? CGRPC_EDONE : CGRPC_EBUSY;
    pthread_mutex_unlock(&call->mu);
    grpc_byte_buffer_destroy(bb); /* drops the lent slices' references */
    return err;
  }
  grpc_op ops[2];
  size_t n = add_initial_md_locked(call, &ops[0]);
  memset(&ops[n], 0, sizeof ops[n]);
  ops[n].op = GRPC_OP_SEND_MESSAGE;
  ops[n].data.send_message.send_message = bb;
  n++;
  call->write_busy = true;
  call->write_bb = bb;
  call->write_cb = done;
  call->write_ud = ud;
  call->refs++;
  start_batch(call, ops, n, &call->write_tag);
  pthread_mutex_unlock(&call->mu);
  return 0;
}

int cgrpc_call_write(struct cgrpc_call *call, const ProtobufCMessage *msg, cgrpc_write_cb done,
                     void *ud) {
  return call_write(call, msg, NULL, done, ud);
}

int cgrpc_call_write_lent(struct cgrpc_call *call, const ProtobufCMessage *msg,
                          const struct cgrpc_lend *lend, cgrpc_write_cb done, void *ud) {
  if (lend && (!lend->base || !lend->ref || !lend->unref)) return CGRPC_EINVAL;
  return call_write(call, msg, lend, done, ud);
}

/* ---- the request of unary and server-streaming calls ---- */

/* bb is the request gRPC read before the call was handed to us (borrowed). */
static void deliver_request(struct cgrpc_call *c, grpc_byte_buffer *bb) {
  const struct cgrpc_method_desc *d = c->m->desc;
  if (!bb) {
    finish_call(c, GRPC_STATUS_INTERNAL, "the client sent no request message", NULL, 0, NULL);
    return;
  }
  pthread_mutex_lock(&c->mu);
  ProtobufCAllocator alloc;
  cgrpc_arena_allocator(c->arena, &alloc);
  bool refused;
  struct cgrpc_field_error fe;
  ProtobufCMessage *req = cgrpc_unpack_exact(d->request, &alloc, c->arena, bb, &refused, &fe);
  pthread_mutex_unlock(&c->mu);
  if (refused) {
    if (c->s->cfg.on_field_error) {
      TIMED(c, c->s->cfg.on_field_error(c, &fe, c->s->cfg.hook_ud));
    } else {
      char m[768];
      snprintf(m, sizeof m, "%s: %s %s", c->method, fe.field, fe.description);
      finish_call(c, GRPC_STATUS_INVALID_ARGUMENT, m, NULL, 0, NULL);
    }
    return;
  }
  if (!req) {
    char m[256];
    snprintf(m, sizeof m, "%s: the request is not a valid %s message (%zu bytes)", c->method,
             d->request->name, grpc_byte_buffer_length(bb));
    finish_call(c, GRPC_STATUS_INVALID_ARGUMENT, m, NULL, 0, NULL);
    return;
  }
  TIMED(c, c->m->dispatch(c, req, c->m->handlers, c->m->impl));
}

/* ---- reads of client streams ---- */

static void deliver_stream_msg(struct cgrpc_call *c, bool ok, grpc_byte_buffer *bb) {
  const ProtobufCMessage *msg = NULL;
  bool refused = false;
  struct cgrpc_field_error fe;
  if (ok && bb) {
    if (!c->scratch) c->scratch = cgrpc_arena_create(0);
    if (c->scratch) {
      cgrpc_arena_reset(c->scratch);
      ProtobufCAllocator alloc;
      cgrpc_arena_allocator(c->scratch, &alloc);
      msg = cgrpc_unpack_exact(c->m->desc->request, &alloc, c->scratch, bb, &refused, &fe);
    }
    if (!msg) {
      char m[768];
      if (refused)
        snprintf(m, sizeof m, "%s: a stream message's %s %s", c->method, fe.field, fe.description);
      else
        snprintf(m, sizeof m, "%s: a stream message is not a valid %s message (%zu bytes)",
                 c->method, c->m->desc->request->name, grpc_byte_buffer_length(bb));
      atomic_store(&c->cancelled, true);
      grpc_call_cancel_with_status(c->call, c->scratch ? GRPC_STATUS_INVALID_ARGUMENT
                                                       : GRPC_STATUS_RESOURCE_EXHAUSTED,
                                   m, NULL);
    }
  }
  pthread_mutex_lock(&c->mu);
  c->read_busy = false;
  cgrpc_read_cb cb = c->read_cb;
  void *ud = c->read_ud;
  pthread_mutex_unlock(&c->mu);
  TIMED(c, cb(c, msg, ud));
}

static void on_recv_done(struct tag *t, bool ok) {
  struct cgrpc_call *c = CONTAINER(t, struct cgrpc_call, recv_tag);
  if (!ok) atomic_store(&c->cancelled, true); /* a failed op means a dead call */
  grpc_byte_buffer *bb = c->recv_bb;
  c->recv_bb = NULL;
  deliver_stream_msg(c, ok, bb);
  if (bb) grpc_byte_buffer_destroy(bb);
  call_unref(c);
}

int cgrpc_call_read(struct cgrpc_call *call, cgrpc_read_cb cb, void *ud) {
  if (!call || !cb || !call->m) return CGRPC_EINVAL;
  enum cgrpc_method_kind k = call->m->desc->kind;
  if (k != CGRPC_METHOD_CLIENT_STREAMING && k != CGRPC_METHOD_BIDI_STREAMING) return CGRPC_EINVAL;
  pthread_mutex_lock(&call->mu);
  int err = call->finish_requested ? CGRPC_EDONE : call->read_busy ? CGRPC_EBUSY : 0;
  if (!err) {
    call->read_busy = true;
    call->read_cb = cb;
    call->read_ud = ud;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &call->recv_bb;
    call->refs++;
    start_batch(call, &op, 1, &call->recv_tag);
  }
  pthread_mutex_unlock(&call->mu);
  return err;
}

/* ---- cancellation ---- */

static void on_close_done(struct tag *t, bool ok) {
  struct cgrpc_call *c = CONTAINER(t, struct cgrpc_call, close_tag);
  cgrpc_cancel_cb cb = NULL;
  void *ud = NULL;
  pthread_mutex_lock(&c->mu);
  if (c->close_cancelled || !ok) {
    atomic_store(&c->cancelled, true);
    if (!c->finish_requested) {
      cb = c->cancel_cb;
      ud = c->cancel_ud;
    }
    c->cancel_cb = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  if (cb) TIMED(c, cb(c, ud));
  call_unref(c);
}

int cgrpc_call_on_cancel(struct cgrpc_call *call, cgrpc_cancel_cb cb, void *ud) {
  pthread_mutex_lock(&call->mu);
  int rc = atomic_load(&call->cancelled) ? 1 : 0;
  if (!rc) {
    call->cancel_cb = cb;
    call->cancel_ud = ud;
  }
  pthread_mutex_unlock(&call->mu);
  return rc;
}

bool cgrpc_call_is_cancelled(const struct cgrpc_call *call) { return atomic_load(&call->cancelled); }

int cgrpc_call_cancel_with_status(struct cgrpc_call *call, grpc_status_code code,
                                  const char *message) {
  pthread_mutex_lock(&call->mu);
  bool done = call->finish_requested;
  pthread_mutex_unlock(&call->mu);
  if (done) return CGRPC_EDONE;
  atomic_store(&call->cancelled, true);
  /* gRPC copies the message; the transport sends grpc-status/grpc-message
   * in a trailing HEADERS frame and then RST_STREAM */
  grpc_call_cancel_with_status(call->call, code, message ? message : "", NULL);
  return 0;
}

/* ---- accessors ---- */

static int build_md_view_locked(struct cgrpc_call *c) {
  if (c->md_view || c->req_md.count == 0) return 0;
  struct cgrpc_metadata *v = cgrpc_arena_alloc(c->arena, c->req_md.count * sizeof *v);
  if (!v) return CGRPC_ENOMEM;
  for (size_t i = 0; i < c->req_md.count; i++) {
    const grpc_metadata *md = &c->req_md.metadata[i];
    v[i].key = cgrpc_arena_strndup(c->arena, (const char *)GRPC_SLICE_START_PTR(md->key),
                                   GRPC_SLICE_LENGTH(md->key));
    v[i].value_len = GRPC_SLICE_LENGTH(md->value);
    v[i].value = cgrpc_arena_strndup(c->arena, (const char *)GRPC_SLICE_START_PTR(md->value),
                                     v[i].value_len);
    if (!v[i].key || !v[i].value) return CGRPC_ENOMEM;
  }
  c->md_view = v;
  c->n_md_view = c->req_md.count;
  return 0;
}

const struct cgrpc_metadata *cgrpc_call_metadata_all(struct cgrpc_call *call, size_t *count) {
  pthread_mutex_lock(&call->mu);
  int err = build_md_view_locked(call);
  *count = err ? 0 : call->n_md_view;
  const struct cgrpc_metadata *v = err ? NULL : call->md_view;
  pthread_mutex_unlock(&call->mu);
  return v;
}

const char *cgrpc_call_metadata(struct cgrpc_call *call, const char *key, size_t *len) {
  size_t n;
  const struct cgrpc_metadata *v = cgrpc_call_metadata_all(call, &n);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].key, key) == 0) {
      if (len) *len = v[i].value_len;
      return v[i].value;
    }
  }
  return NULL;
}

const char *cgrpc_call_method(const struct cgrpc_call *call) { return call->method; }

const char *cgrpc_call_peer(const struct cgrpc_call *call) {
  return call->peer ? call->peer : "unknown";
}

int64_t cgrpc_call_deadline_ms(const struct cgrpc_call *call) {
  gpr_timespec d = call->deadline;
  if (gpr_time_cmp(d, gpr_inf_future(d.clock_type)) == 0) return INT64_MAX;
  d = gpr_convert_clock_type(d, GPR_CLOCK_REALTIME);
  return d.tv_sec * 1000 + d.tv_nsec / 1000000;
}

int cgrpc_call_add_metadata(struct cgrpc_call *call, const char *key, const char *value,
                            size_t value_len) {
  size_t klen = strlen(key);
  grpc_slice ks = grpc_slice_from_static_buffer(key, klen);
  grpc_slice vs = grpc_slice_from_static_buffer(value, value_len);
  if (!grpc_header_key_is_legal(ks)) return CGRPC_EINVAL;
  if (!grpc_is_binary_header(ks) && !grpc_header_nonbin_value_is_legal(vs)) return CGRPC_EINVAL;
  pthread_mutex_lock(&call->mu);
  int err = 0;
  if (call->md_sent) {
    err = CGRPC_EINVAL;
  } else {
    if (call->n_resp_md == call->cap_resp_md) {
      size_t cap = call->cap_resp_md ? call->cap_resp_md * 2 : 4;
      grpc_metadata *a = cgrpc_arena_alloc(call->arena, cap * sizeof *a);
      if (!a) {
        err = CGRPC_ENOMEM;
        goto out;
      }
      if (call->n_resp_md) memcpy(a, call->resp_md, call->n_resp_md * sizeof *a);
      call->resp_md = a;
      call->cap_resp_md = cap;
    }
    char *k = cgrpc_arena_strndup(call->arena, key, klen);
    char *v = cgrpc_arena_strndup(call->arena, value, value_len);
    if (!k || !v) {
      err = CGRPC_ENOMEM;
      goto out;
    }
    grpc_metadata *md = &call->resp_md[call->n_resp_md++];
    memset(md, 0, sizeof *md);
    md->key = grpc_slice_from_static_buffer(k, klen);
    md->value = grpc_slice_from_static_buffer(v, value_len);
  }
out:
  pthread_mutex_unlock(&call->mu);
  return err;
}

void *cgrpc_call_alloc(struct cgrpc_call *call, size_t n) {
  pthread_mutex_lock(&call->mu);
  void *p = cgrpc_arena_alloc(call->arena, n);
  pthread_mutex_unlock(&call->mu);
  return p;
}

void cgrpc_call_set_user(struct cgrpc_call *call, void *user) { call->user = user; }
void *cgrpc_call_user(const struct cgrpc_call *call) { return call->user; }

/* ---- arrival ---- */

static void request_call(struct cq_worker *w, const struct method_entry *m);

static void free_request(struct request *r) {
  if (!r->m) grpc_call_details_destroy(&r->details);
  grpc_metadata_array_destroy(&r->md);
  if (r->payload) grpc_byte_buffer_destroy(r->payload);
  free(r);
}

/* Takes over r's call and metadata, and runs the call up to its handler. */
static void call_arrived(struct request *r) {
  struct cgrpc_server *s = r->w->s;
  struct cgrpc_call *c = calloc(1, sizeof *c);
  struct cgrpc_arena *arena = c ? cgrpc_arena_create(0) : NULL;
  const char *method =
      !arena ? NULL
      : r->m ? r->m->desc->path
             : cgrpc_arena_strndup(arena, (const char *)GRPC_SLICE_START_PTR(r->details.method),
                                   GRPC_SLICE_LENGTH(r->details.method));
  if (!method) {
    /* Out of memory before the call has a home: refuse it and drop it. */
    grpc_call_cancel_with_status(r->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "server out of memory",
                                 NULL);
    grpc_call_unref(r->call);
    cgrpc_arena_destroy(arena);
    free(c);
    return;
  }
  c->s = s;
  c->call = r->call;
  c->deadline = r->m ? r->deadline : r->details.deadline;
  c->req_md = r->md;
  grpc_metadata_array_init(&r->md); /* moved into the call */
  c->arena = arena;
  c->method = method;
  c->m = r->m;
  c->start_ns = mono_ns();
  c->code = GRPC_STATUS_CANCELLED;
  pthread_mutex_init(&c->mu, NULL);
  c->close_tag.fn = on_close_done;
  c->recv_tag.fn = on_recv_done;
  c->write_tag.fn = on_write_done;
  c->finish_tag.fn = on_finish_done;
  c->refs = 2; /* the handler's, and RECV_CLOSE_ON_SERVER's */
  pthread_mutex_lock(&s->mu);
  s->live_calls++;
  pthread_mutex_unlock(&s->mu);

  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  op.data.recv_close_on_server.cancelled = &c->close_cancelled;
  start_batch(c, &op, 1, &c->close_tag);

  /* The peer is read now: once the transport is gone gRPC no longer knows it. */
  char *peer = grpc_call_get_peer(c->call);
  if (peer) {
    c->peer = cgrpc_arena_strndup(c->arena, peer, strlen(peer));
    gpr_free(peer);
  }
  if (s->cfg.on_call_start) s->cfg.on_call_start(c, s->cfg.hook_ud);
  if (!c->m) {
    /* Every known method is registered, so anything else is unknown. */
    char m[300];
    snprintf(m, sizeof m, "unknown method %.256s", c->method);
    finish_call(c, GRPC_STATUS_UNIMPLEMENTED, m, NULL, 0, NULL);
  } else if (c->m->single_request) {
    deliver_request(c, r->payload);
  } else {
    TIMED(c, c->m->dispatch(c, NULL, c->m->handlers, c->m->impl));
  }
}

static void on_request_done(struct tag *t, bool ok) {
  struct request *r = CONTAINER(t, struct request, tag);
  if (ok) {
    request_call(r->w, r->m); /* keep the number of waiting requests constant */
    call_arrived(r);
  }
  /* !ok: the server is shutting down; nothing was received. */
  free_request(r);
}

static void request_call(struct cq_worker *w, const struct method_entry *m) {
  struct cgrpc_server *s = w->s;
  pthread_mutex_lock(&s->mu);
  bool stopping = s->shutdown_started;
  pthread_mutex_unlock(&s->mu);
  if (stopping) return;
  struct request *r = calloc(1, sizeof *r);
  if (!r) return; /* one fewer waiting request; the others keep serving */
  r->tag.fn = on_request_done;
  r->w = w;
  r->m = m;
  grpc_metadata_array_init(&r->md);
  grpc_call_error e;
  if (m) {
    e = grpc_server_request_registered_call(s->server, m->registered, &r->call, &r->deadline,
                                            &r->md, m->single_request ? &r->payload : NULL,
                                            w->cq, w->cq, &r->tag);
  } else {
    grpc_call_details_init(&r->details);
    e = grpc_server_request_call(s->server, &r->call, &r->details, &r->md, w->cq, w->cq, &r->tag);
  }
  if (e != GRPC_CALL_OK) free_request(r);
}

/* ---- threads and lifecycle ---- */

static void *cq_thread(void *arg) {
  struct cq_worker *w = arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    struct tag *t = ev.tag;
    t->fn(t, ev.success != 0);
  }
  return NULL;
}

static void on_shutdown_notified(struct tag *t, bool ok) {
  struct cgrpc_server *s = CONTAINER(t, struct cgrpc_server, shutdown_tag);
  pthread_mutex_lock(&s->mu);
  s->shutdown_notified = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* The key is secret: overwrite cgrpc's copy before freeing it. */
static void drop_key(struct cgrpc_server_config *c) {
  if (!c->tls_key_pem) return;
  char *k = (char *)(uintptr_t)c->tls_key_pem;
  explicit_bzero(k, strlen(k));
  free(k);
  c->tls_key_pem = NULL;
}

static void free_config(struct cgrpc_server_config *c) {
  cgrpc_free_const(c->listen);
  cgrpc_free_const(c->tls_cert_pem);
  drop_key(c);
  cgrpc_free_const(c->tls_client_ca_pem);
}

struct cgrpc_server *cgrpc_server_create(const struct cgrpc_server_config *cfg, char *errbuf,
                                         size_t errcap) {
  if (!cfg || !cfg->listen) {
    cgrpc_set_err(errbuf, errcap, "no listen address");
    return NULL;
  }
  if ((cfg->tls_cert_pem == NULL) != (cfg->tls_key_pem == NULL)) {
    cgrpc_set_err(errbuf, errcap, "TLS needs both a certificate and a key");
    return NULL;
  }
  if (cfg->tls_client_ca_pem && !cfg->tls_cert_pem) {
    cgrpc_set_err(errbuf, errcap, "a client CA (mTLS) needs a server certificate and key");
    return NULL;
  }
  struct cgrpc_server *s = calloc(1, sizeof *s);
  if (!s) {
    cgrpc_set_err(errbuf, errcap, "out of memory");
    return NULL;
  }
  s->cfg = *cfg;
  s->cfg.listen = dup_or_null(cfg->listen);
  s->cfg.tls_cert_pem = dup_or_null(cfg->tls_cert_pem);
  s->cfg.tls_key_pem = dup_or_null(cfg->tls_key_pem);
  s->cfg.tls_client_ca_pem = dup_or_null(cfg->tls_client_ca_pem);
  if (s->cfg.cq_threads <= 0) {
    /* The CPUs this process may run on (taskset, cgroups cpusets), not the
     * machine's: more pollers than CPUs only adds context switches. */
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    s->cfg.cq_threads = n > 0 ? n : 1;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->shutdown_tag.fn = on_shutdown_notified;
  grpc_init();
  return s;
}

int cgrpc_server_add_service(struct cgrpc_server *s, const struct cgrpc_service_desc *svc,
                             const cgrpc_dispatch_fn *dispatch, const void *handlers,
                             void *impl) {
  if (!s || !svc || !dispatch || s->started) return CGRPC_EINVAL;
  struct method_entry *m =
      realloc(s->methods, (s->n_methods + svc->n_methods) * sizeof *s->methods);
  if (!m) return CGRPC_ENOMEM;
  s->methods = m;
  for (size_t i = 0; i < svc->n_methods; i++) {
    m[s->n_methods++] = (struct method_entry){
        .desc = &svc->methods[i], .dispatch = dispatch[i], .handlers = handlers, .impl = impl};
  }
  return 0;
}

static grpc_server_credentials *server_creds(const struct cgrpc_server_config *c) {
  if (!c->tls_cert_pem) return grpc_insecure_server_credentials_create();
  grpc_ssl_pem_key_cert_pair pair = {.private_key = c->tls_key_pem, .cert_chain = c->tls_cert_pem};
  return grpc_ssl_server_credentials_create_ex(
      c->tls_client_ca_pem, &pair, 1,
      c->tls_client_ca_pem ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                           : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
      NULL);
}

int cgrpc_server_start(struct cgrpc_server *s, char *errbuf, size_t errcap) {
  if (!s || s->started) return CGRPC_EINVAL;
  grpc_arg args[12];
  size_t nargs = (size_t)cgrpc_size_args(s->cfg.max_recv_bytes, s->cfg.max_send_bytes, args);
  const struct cgrpc_server_config *c = &s->cfg;
  const struct {
    const char *key;
    int64_t v;
  } policy[] = {
      {GRPC_ARG_KEEPALIVE_TIME_MS, c->keepalive_time_ms},
      {GRPC_ARG_KEEPALIVE_TIMEOUT_MS, c->keepalive_timeout_ms},
      {GRPC_ARG_MAX_CONNECTION_IDLE_MS, c->max_connection_idle_ms},
      {GRPC_ARG_MAX_CONNECTION_AGE_MS, c->max_connection_age_ms},
      {GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, c->max_connection_age_grace_ms},
      {GRPC_ARG_MAX_CONCURRENT_STREAMS, c->max_concurrent_streams},
      {GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, c->min_ping_interval_ms},
      {GRPC_ARG_HTTP2_MAX_PING_STRIKES, c->max_ping_strikes},
  };
  for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++) {
    if (policy[i].v <= 0) continue;
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = (char *)(uintptr_t)policy[i].key; /* only read */
    args[nargs].value.integer = policy[i].v > INT_MAX ? INT_MAX : (int)policy[i].v;
    nargs++;
  }
  if (c->keepalive_time_ms > 0) {
    /* keepalive also on connections without calls, and with no cap on pings
     * sent while no data flows (a stalled stream is exactly that case) */
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = (char *)(uintptr_t)GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
    args[nargs++].value.integer = 1;
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = (char *)(uintptr_t)GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA;
    args[nargs++].value.integer = 0;
  }
  grpc_channel_args cargs = {.num_args = nargs, .args = args};
  s->server = grpc_server_create(&cargs, NULL);
  /* Registered methods let gRPC route without string matching and read the
   * single request of unary and server-streaming calls before handing the
   * call over, saving a batch per call. */
  for (size_t i = 0; i < s->n_methods; i++) {
    struct method_entry *m = &s->methods[i];
    enum cgrpc_method_kind k = m->desc->kind;
    m->single_request = k == CGRPC_METHOD_UNARY || k == CGRPC_METHOD_SERVER_STREAMING;
    m->registered = grpc_server_register_method(
        s->server, m->desc->path, NULL,
        m->single_request ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER : GRPC_SRM_PAYLOAD_NONE, 0);
    if (!m->registered) {
      cgrpc_set_err(errbuf, errcap, "method %s registered twice", m->desc->path);
      return CGRPC_EINVAL;
    }
  }
  s->n_workers = s->cfg.cq_threads;
  s->workers = calloc((size_t)s->n_workers, sizeof *s->workers);
  if (!s->workers) {
    cgrpc_set_err(errbuf, errcap, "out of memory");
    return CGRPC_ENOMEM;
  }
  for (int i = 0; i < s->n_workers; i++) {
    s->workers[i].s = s;
    s->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->workers[i].cq, NULL);
  }
  grpc_server_credentials *creds = server_creds(&s->cfg);
  if (!creds) {
    cgrpc_set_err(errbuf, errcap, "invalid TLS certificate, key or client CA");
    return CGRPC_ESTARTUP;
  }
  s->port = grpc_server_add_http2_port(s->server, s->cfg.listen, creds);
  grpc_server_credentials_release(creds);
  drop_key(&s->cfg); /* gRPC holds what it needs */
  if (s->port == 0) {
    cgrpc_set_err(errbuf, errcap, "cannot listen on %s (address in use, not local, or malformed)",
                  s->cfg.listen);
    return CGRPC_ESTARTUP;
  }
  grpc_server_start(s->server);
  s->started = true;
  for (int i = 0; i < s->n_workers; i++) {
    struct cq_worker *w = &s->workers[i];
    for (size_t m = 0; m < s->n_methods; m++)
      for (int k = 0; k < REQUESTS_PER_METHOD; k++) request_call(w, &s->methods[m]);
    for (int k = 0; k < REQUESTS_UNKNOWN; k++) request_call(w, NULL);
    if (pthread_create(&w->thread, NULL, cq_thread, w) != 0) {
      cgrpc_set_err(errbuf, errcap, "cannot start completion-queue thread %d", i);
      return CGRPC_ESTARTUP;
    }
    w->thread_started = true;
  }
  return 0;
}

int cgrpc_server_port(const struct cgrpc_server *s) { return s->port; }

static void timespec_add_ms(struct timespec *ts, int64_t ms) {
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000;
  if (ts->tv_nsec >= 1000000000) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000;
  }
}

/* Stops the CQ threads and frees queues and the grpc_server. Only after
 * every call is released (or when nothing ever started). */
static void stop_workers(struct cgrpc_server *s) {
  for (int i = 0; i < s->n_workers; i++) grpc_completion_queue_shutdown(s->workers[i].cq);
  for (int i = 0; i < s->n_workers; i++) {
    struct cq_worker *w = &s->workers[i];
    if (w->thread_started) {
      pthread_join(w->thread, NULL);
    } else {
      /* Never polled: drain it here (failed start). */
      while (grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
             GRPC_QUEUE_SHUTDOWN) {
      }
    }
    grpc_completion_queue_destroy(w->cq);
  }
  free(s->workers);
  s->workers = NULL;
  s->n_workers = 0;
}

void cgrpc_server_shutdown(struct cgrpc_server *s, int64_t grace_ms) {
  if (!s || !s->server) return;
  pthread_mutex_lock(&s->mu);
  if (s->shutdown_started) {
    while (!s->shut_down) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return;
  }
  s->shutdown_started = true;
  pthread_mutex_unlock(&s->mu);

  if (s->started) {
    grpc_server_shutdown_and_notify(s->server, s->workers[0].cq, &s->shutdown_tag);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    timespec_add_ms(&deadline, grace_ms > 0 ? grace_ms : 0);
    pthread_mutex_lock(&s->mu);
    bool cancelled = false;
    while (!s->shutdown_notified || s->live_calls > 0) {
      if (!cancelled) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) != 0) {
          pthread_mutex_unlock(&s->mu);
          grpc_server_cancel_all_calls(s->server);
          pthread_mutex_lock(&s->mu);
          cancelled = true;
        }
      } else {
        pthread_cond_wait(&s->cv, &s->mu);
      }
    }
    pthread_mutex_unlock(&s->mu);
  }
  stop_workers(s);
  grpc_server_destroy(s->server);
  s->server = NULL;
  pthread_mutex_lock(&s->mu);
  s->shut_down = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

void cgrpc_server_destroy(struct cgrpc_server *s) {
  if (!s) return;
  if (s->server) cgrpc_server_shutdown(s, 0);
  free(s->methods);
  free_config(&s->cfg);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
  grpc_shutdown();
}
