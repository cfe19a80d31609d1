/* The cgrpc client: channels and blocking calls.
 *
 * Each call has its own pluck completion queue and a fixed tag per kind of
 * batch (start, initial metadata, status, write, close, read), so a reader
 * thread, a writer thread and the caller of _finish can each pluck their own
 * completion. RECV_INITIAL_METADATA and RECV_STATUS_ON_CLIENT are started with
 * the call and plucked lazily; _destroy cancels the call if needed and plucks
 * whatever is still outstanding before freeing anything. */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cgrpc_int.h"

struct cgrpc_channel {
  grpc_channel *ch;
};

enum { TAG_START, TAG_MD, TAG_STATUS, TAG_WRITE, TAG_CLOSE, TAG_READ, N_TAGS };

struct cgrpc_client_call {
  grpc_call *call;
  grpc_completion_queue *cq;
  const struct cgrpc_method_desc *method;
  ProtobufCAllocator *alloc;
  char tags[N_TAGS]; /* addresses used as tags */
  bool pending[N_TAGS];
  pthread_mutex_t mu; /* guards pending[] */

  grpc_metadata_array initial_md, trailing_md;
  grpc_status_code status;
  grpc_slice status_details;
  grpc_byte_buffer *recv_bb;
  bool malformed; /* a response did not unpack: the call was cancelled */
};

struct cgrpc_channel *cgrpc_channel_create(const char *target,
                                           const struct cgrpc_channel_config *cfg, char *errbuf,
                                           size_t errcap) {
  static const struct cgrpc_channel_config none;
  if (!cfg) cfg = &none;
  if (!target) {
    cgrpc_set_err(errbuf, errcap, "no target");
    return NULL;
  }
  if ((cfg->tls_cert_pem == NULL) != (cfg->tls_key_pem == NULL)) {
    cgrpc_set_err(errbuf, errcap, "a client certificate needs both cert and key");
    return NULL;
  }
  struct cgrpc_channel *c = calloc(1, sizeof *c);
  if (!c) {
    cgrpc_set_err(errbuf, errcap, "out of memory");
    return NULL;
  }
  grpc_init();
  grpc_arg args[5];
  int n = cgrpc_size_args(cfg->max_recv_bytes, cfg->max_send_bytes, args);
  static char bdp_key[] = GRPC_ARG_HTTP2_BDP_PROBE;
  static char lookahead_key[] = GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES;
  if (cfg->http2_stream_window > 0) {
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = bdp_key;
    args[n].value.integer = 0;
    n++;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = lookahead_key;
    args[n].value.integer = cfg->http2_stream_window;
    n++;
  }
  static char override_key[] = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
  if (cfg->tls_target_name_override) {
    args[n].type = GRPC_ARG_STRING;
    args[n].key = override_key;
    args[n].value.string = (char *)(uintptr_t)cfg->tls_target_name_override;
    n++;
  }
  grpc_channel_args cargs = {.num_args = (size_t)n, .args = args};
  grpc_channel_credentials *creds;
  if (cfg->tls_root_pem) {
    grpc_ssl_pem_key_cert_pair pair = {.private_key = cfg->tls_key_pem,
                                       .cert_chain = cfg->tls_cert_pem};
    creds = grpc_ssl_credentials_create(cfg->tls_root_pem, cfg->tls_cert_pem ? &pair : NULL, NULL,
                                        NULL);
  } else {
    creds = grpc_insecure_credentials_create();
  }
  c->ch = grpc_channel_create(target, creds, &cargs);
  grpc_channel_credentials_release(creds);
  return c;
}

void cgrpc_channel_destroy(struct cgrpc_channel *ch) {
  if (!ch) return;
  grpc_channel_destroy(ch->ch);
  free(ch);
  grpc_shutdown();
}

/* ---- status ---- */

void cgrpc_status_clear(struct cgrpc_status *st) {
  if (!st) return;
  free(st->message);
  free(st->details);
  for (size_t i = 0; i < st->n_headers; i++) {
    cgrpc_free_const(st->headers[i].key);
    cgrpc_free_const(st->headers[i].value);
  }
  free(st->headers);
  for (size_t i = 0; i < st->n_trailers; i++) {
    cgrpc_free_const(st->trailers[i].key);
    cgrpc_free_const(st->trailers[i].value);
  }
  free(st->trailers);
  memset(st, 0, sizeof *st);
}

const char *cgrpc_status_header(const struct cgrpc_status *st, const char *key) {
  for (size_t i = 0; i < st->n_headers; i++)
    if (strcmp(st->headers[i].key, key) == 0) return st->headers[i].value;
  return NULL;
}

static char *slice_strdup(grpc_slice s) {
  size_t n = GRPC_SLICE_LENGTH(s);
  char *p = malloc(n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, GRPC_SLICE_START_PTR(s), n);
  p[n] = '\0';
  return p;
}

/* Copies md into a malloc'd array; the details trailer goes to st instead
 * when details != NULL. */
static void copy_md(const grpc_metadata_array *md, struct cgrpc_metadata **out, size_t *n_out,
                    struct cgrpc_status *details) {
  *out = md->count ? calloc(md->count, sizeof **out) : NULL;
  *n_out = 0;
  for (size_t i = 0; i < md->count; i++) {
    const grpc_metadata *m = &md->metadata[i];
    if (details && grpc_slice_str_cmp(m->key, CGRPC_DETAILS_KEY) == 0) {
      free(details->details);
      details->details_len = GRPC_SLICE_LENGTH(m->value);
      details->details = (uint8_t *)slice_strdup(m->value);
      continue;
    }
    if (!*out) continue;
    struct cgrpc_metadata *d = &(*out)[*n_out];
    d->key = slice_strdup(m->key);
    d->value = slice_strdup(m->value);
    d->value_len = GRPC_SLICE_LENGTH(m->value);
    if (!d->key || !d->value) {
      cgrpc_free_const(d->key);
      cgrpc_free_const(d->value);
      continue;
    }
    (*n_out)++;
  }
}

static void fill_status(struct cgrpc_client_call *cc, struct cgrpc_status *st) {
  memset(st, 0, sizeof *st);
  st->code = cc->status;
  st->message = slice_strdup(cc->status_details);
  copy_md(&cc->initial_md, &st->headers, &st->n_headers, NULL);
  copy_md(&cc->trailing_md, &st->trailers, &st->n_trailers, st);
}

/* ---- calls ---- */

static void *tag_of(struct cgrpc_client_call *cc, int which) { return &cc->tags[which]; }

static bool start_ops(struct cgrpc_client_call *cc, const grpc_op *ops, size_t n, int which) {
  pthread_mutex_lock(&cc->mu);
  grpc_call_error e = grpc_call_start_batch(cc->call, ops, n, tag_of(cc, which), NULL);
  if (e == GRPC_CALL_OK) cc->pending[which] = true;
  pthread_mutex_unlock(&cc->mu);
  return e == GRPC_CALL_OK;
}

/* Waits for the batch `which` if it is outstanding; returns its success. */
static bool pluck(struct cgrpc_client_call *cc, int which) {
  pthread_mutex_lock(&cc->mu);
  bool pend = cc->pending[which];
  pthread_mutex_unlock(&cc->mu);
  if (!pend) return true;
  grpc_event ev =
      grpc_completion_queue_pluck(cc->cq, tag_of(cc, which), gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  pthread_mutex_lock(&cc->mu);
  cc->pending[which] = false;
  pthread_mutex_unlock(&cc->mu);
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

static gpr_timespec deadline_of(const struct cgrpc_call_options *o) {
  if (!o || o->timeout_ms <= 0) return gpr_inf_future(GPR_CLOCK_REALTIME);
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                      gpr_time_from_millis(o->timeout_ms, GPR_TIMESPAN));
}

/* Builds the SEND_INITIAL_METADATA op; md[] receives the converted entries. */
static void initial_md_op(const struct cgrpc_call_options *o, grpc_metadata *md, grpc_op *op) {
  size_t n = o ? o->metadata_count : 0;
  for (size_t i = 0; i < n; i++) {
    memset(&md[i], 0, sizeof md[i]);
    md[i].key = grpc_slice_from_static_string(o->metadata[i].key);
    md[i].value = grpc_slice_from_static_buffer(o->metadata[i].value, o->metadata[i].value_len);
  }
  memset(op, 0, sizeof *op);
  op->op = GRPC_OP_SEND_INITIAL_METADATA;
  op->data.send_initial_metadata.count = n;
  op->data.send_initial_metadata.metadata = n ? md : NULL;
  if (o && o->wait_for_ready) op->flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY;
}

/* Creates the call and, in *md, room for opts' metadata (freed by the caller
 * once the SEND_INITIAL_METADATA batch completed). NULL when out of memory. */
static struct cgrpc_client_call *call_new(struct cgrpc_channel *ch,
                                          const struct cgrpc_method_desc *method,
                                          const struct cgrpc_call_options *opts,
                                          grpc_metadata **md) {
  size_t n = opts ? opts->metadata_count : 0;
  *md = n ? calloc(n, sizeof **md) : NULL;
  struct cgrpc_client_call *cc = n && !*md ? NULL : calloc(1, sizeof *cc);
  if (!cc) {
    free(*md);
    *md = NULL;
    return NULL;
  }
  cc->method = method;
  cc->alloc = opts ? opts->allocator : NULL;
  pthread_mutex_init(&cc->mu, NULL);
  grpc_metadata_array_init(&cc->initial_md);
  grpc_metadata_array_init(&cc->trailing_md);
  cc->status_details = grpc_empty_slice();
  cc->status = GRPC_STATUS_UNKNOWN;
  cc->cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_slice path = grpc_slice_from_static_string(method->path);
  cc->call = grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cc->cq, path, NULL,
                                      deadline_of(opts), NULL);
  return cc;
}

/* Starts the two receive batches every call has. */
static void start_receivers(struct cgrpc_client_call *cc) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_INITIAL_METADATA;
  op.data.recv_initial_metadata.recv_initial_metadata = &cc->initial_md;
  start_ops(cc, &op, 1, TAG_MD);
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  op.data.recv_status_on_client.trailing_metadata = &cc->trailing_md;
  op.data.recv_status_on_client.status = &cc->status;
  op.data.recv_status_on_client.status_details = &cc->status_details;
  start_ops(cc, &op, 1, TAG_STATUS);
}

struct cgrpc_client_call *cgrpc_client_call_start(struct cgrpc_channel *ch,
                                                  const struct cgrpc_method_desc *method,
                                                  const struct cgrpc_call_options *opts) {
  if (!ch || !method) return NULL;
  grpc_metadata *md;
  struct cgrpc_client_call *cc = call_new(ch, method, opts, &md);
  if (!cc) return NULL;
  grpc_op op;
  initial_md_op(opts, md, &op);
  start_ops(cc, &op, 1, TAG_START);
  start_receivers(cc);
  pluck(cc, TAG_START); /* metadata slices point into opts: wait until sent */
  free(md);
  return cc;
}

int cgrpc_client_call_write(struct cgrpc_client_call *cc, const ProtobufCMessage *msg) {
  if (!cc || !msg) return CGRPC_EINVAL;
  size_t size;
  grpc_byte_buffer *bb = cgrpc_pack(msg, &size);
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_MESSAGE;
  op.data.send_message.send_message = bb;
  bool ok = start_ops(cc, &op, 1, TAG_WRITE) && pluck(cc, TAG_WRITE);
  grpc_byte_buffer_destroy(bb);
  return ok ? 0 : CGRPC_EDONE;
}

int cgrpc_client_call_writes_done(struct cgrpc_client_call *cc) {
  if (!cc) return CGRPC_EINVAL;
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  bool ok = start_ops(cc, &op, 1, TAG_CLOSE) && pluck(cc, TAG_CLOSE);
  return ok ? 0 : CGRPC_EDONE;
}

/* Unpacks the received buffer; a malformed one cancels the call. */
static int take_message(struct cgrpc_client_call *cc, ProtobufCMessage **msg) {
  grpc_byte_buffer *bb = cc->recv_bb;
  cc->recv_bb = NULL;
  if (!bb) return 0;
  *msg = cgrpc_unpack(cc->method->response, cc->alloc, bb);
  grpc_byte_buffer_destroy(bb);
  if (!*msg) {
    cc->malformed = true;
    grpc_call_cancel_with_status(cc->call, GRPC_STATUS_INTERNAL,
                                 "the server sent a malformed response message", NULL);
    return CGRPC_EINVAL;
  }
  return 1;
}

int cgrpc_client_call_read(struct cgrpc_client_call *cc, ProtobufCMessage **msg) {
  if (!cc || !msg) return CGRPC_EINVAL;
  *msg = NULL;
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &cc->recv_bb;
  if (!start_ops(cc, &op, 1, TAG_READ) || !pluck(cc, TAG_READ)) {
    if (cc->recv_bb) grpc_byte_buffer_destroy(cc->recv_bb);
    cc->recv_bb = NULL;
    return 0;
  }
  return take_message(cc, msg);
}

int cgrpc_client_call_finish(struct cgrpc_client_call *cc, struct cgrpc_status *status) {
  if (!cc) return CGRPC_EINVAL;
  pluck(cc, TAG_MD);
  pluck(cc, TAG_STATUS);
  if (status) fill_status(cc, status);
  return cc->status == GRPC_STATUS_OK ? 0 : CGRPC_ESTATUS;
}

int cgrpc_client_call_close_and_recv(struct cgrpc_client_call *cc, ProtobufCMessage **response,
                                     struct cgrpc_status *status) {
  if (!cc || !response) return CGRPC_EINVAL;
  *response = NULL;
  cgrpc_client_call_writes_done(cc);
  ProtobufCMessage *m = NULL;
  int got = cgrpc_client_call_read(cc, &m);
  int rc = cgrpc_client_call_finish(cc, status);
  if (rc == 0 && got == 1) {
    *response = m;
    return 0;
  }
  if (m) protobuf_c_message_free_unpacked(m, cc->alloc);
  return CGRPC_ESTATUS;
}

void cgrpc_client_call_cancel(struct cgrpc_client_call *cc) {
  if (cc) grpc_call_cancel(cc->call, NULL);
}

void cgrpc_client_call_destroy(struct cgrpc_client_call *cc) {
  if (!cc) return;
  pthread_mutex_lock(&cc->mu);
  bool running = cc->pending[TAG_STATUS];
  pthread_mutex_unlock(&cc->mu);
  if (running) grpc_call_cancel(cc->call, NULL);
  for (int i = 0; i < N_TAGS; i++) pluck(cc, i);
  if (cc->recv_bb) grpc_byte_buffer_destroy(cc->recv_bb);
  grpc_call_unref(cc->call);
  grpc_completion_queue_shutdown(cc->cq);
  while (grpc_completion_queue_pluck(cc->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cc->cq);
  grpc_metadata_array_destroy(&cc->initial_md);
  grpc_metadata_array_destroy(&cc->trailing_md);
  grpc_slice_unref(cc->status_details);
  pthread_mutex_destroy(&cc->mu);
  free(cc);
}

int cgrpc_client_unary(struct cgrpc_channel *ch, const struct cgrpc_method_desc *method,
                       const ProtobufCMessage *request, const struct cgrpc_call_options *opts,
                       ProtobufCMessage **response, struct cgrpc_status *status) {
  if (response) *response = NULL;
  if (!ch || !method || !request || !response) return CGRPC_EINVAL;
  grpc_metadata *md;
  struct cgrpc_client_call *cc = call_new(ch, method, opts, &md);
  if (!cc) return CGRPC_ENOMEM;
  /* Everything in one batch: one round trip through the completion queue. */
  size_t size;
  grpc_byte_buffer *bb = cgrpc_pack(request, &size);
  grpc_op ops[6];
  initial_md_op(opts, md, &ops[0]);
  memset(&ops[1], 0, sizeof ops[1] * 5);
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &cc->initial_md;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &cc->recv_bb;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &cc->trailing_md;
  ops[5].data.recv_status_on_client.status = &cc->status;
  ops[5].data.recv_status_on_client.status_details = &cc->status_details;
  start_ops(cc, ops, 6, TAG_STATUS);
  pluck(cc, TAG_STATUS);
  grpc_byte_buffer_destroy(bb);
  free(md);
  int rc = CGRPC_ESTATUS;
  if (cc->status == GRPC_STATUS_OK) {
    ProtobufCMessage *m = NULL;
    if (take_message(cc, &m) == 1) {
      *response = m;
      rc = 0;
    } else if (!cc->malformed) {
      cc->status = GRPC_STATUS_INTERNAL; /* OK without a message breaks the protocol */
      grpc_slice_unref(cc->status_details);
      cc->status_details = grpc_slice_from_static_string("the server sent no response message");
    } else {
      cc->status = GRPC_STATUS_INTERNAL;
      grpc_slice_unref(cc->status_details);
      cc->status_details = grpc_slice_from_static_string("the server sent a malformed response");
    }
  }
  if (status) fill_status(cc, status);
  cgrpc_client_call_destroy(cc);
  return rc;
}
