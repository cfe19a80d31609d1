/* cgrpc: a small C runtime for gRPC services and clients on top of gRPC core
 * (grpc/grpc.h) and protobuf-c. The stubs that protoc-gen-cgrpc generates call
 * only this header. cgrpc knows nothing of folio and could ship on its own.
 *
 * Server model (docs/internals/cgrpc.md has the full contract):
 *  - A server owns N completion-queue threads. When a call arrives, the
 *    handler for its method runs on one of them with a struct cgrpc_call.
 *  - Handlers are asynchronous: they must return promptly (never block the
 *    CQ thread) and finish the call later, from ANY thread, exactly once,
 *    with cgrpc_call_reply() or cgrpc_call_finish*().
 *  - Streams: one write and one read in flight at a time; each completes by
 *    calling its callback exactly once on a CQ thread, so a producer is paced
 *    by the peer's flow control.
 *  - Request-scoped memory (the unpacked request, metadata copies, anything the
 *    handler takes with cgrpc_call_alloc) lives in a per-call arena freed when
 *    the call is released, after the handler finished it and gRPC is done.
 *
 * Client model: blocking calls on a per-call completion queue; a streaming
 * call may be read on one thread, written on another and cancelled from any.
 * Response messages are unpacked with the caller's ProtobufCAllocator (NULL =
 * protobuf-c's default) and freed by the caller with
 * protobuf_c_message_free_unpacked(msg, same allocator).
 *
 * Errors: functions return 0 (or a documented positive value) on success and a
 * negative enum cgrpc_err on failure; RPC outcomes arrive as a gRPC status. */
#ifndef CGRPC_H
#define CGRPC_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cgrpc_err {
  CGRPC_OK = 0,
  CGRPC_EINVAL = -1,   /* bad argument, or the call is in the wrong state */
  CGRPC_ENOMEM = -2,   /* out of memory */
  CGRPC_EBUSY = -3,    /* a write (or read) is already in flight */
  CGRPC_ETOOBIG = -4,  /* message larger than the configured send limit */
  CGRPC_EDONE = -5,    /* the call is finished or cancelled */
  CGRPC_ESTARTUP = -6, /* the server could not bind or start (see errbuf) */
  CGRPC_ESTATUS = -7,  /* the RPC ended with a non-OK status (see cgrpc_status) */
};
/* A static English string for an enum cgrpc_err value. */
const char *cgrpc_strerror(int err);
/* The canonical name of a gRPC status code ("OK", "NOT_FOUND", ...); static. */
const char *cgrpc_status_name(grpc_status_code code);

/* ---- Service descriptions (filled in by generated code) ------------------ */

enum cgrpc_method_kind {
  CGRPC_METHOD_UNARY = 0,
  CGRPC_METHOD_SERVER_STREAMING = 1,
  CGRPC_METHOD_CLIENT_STREAMING = 2,
  CGRPC_METHOD_BIDI_STREAMING = 3,
};

struct cgrpc_method_desc {
  const char *path; /* "/pkg.Service/Method" */
  enum cgrpc_method_kind kind;
  const ProtobufCMessageDescriptor *request;
  const ProtobufCMessageDescriptor *response;
};

struct cgrpc_service_desc {
  const char *name; /* "pkg.Service" */
  size_t n_methods;
  const struct cgrpc_method_desc *methods;
};

struct cgrpc_metadata {
  const char *key;   /* NUL-terminated, lower case */
  const char *value; /* value_len bytes; NUL-terminated as a convenience */
  size_t value_len;
};

/* ---- Server ---------------------------------------------------------------- */

struct cgrpc_server;
struct cgrpc_call;

/* The generic form of a generated dispatcher: runs on a CQ thread. request is
 * the unpacked request for unary and server-streaming methods (owned by the
 * call's arena, valid until the call is released) and NULL for client-streaming
 * and bidi methods. handlers/impl are what the service was registered with. */
typedef void (*cgrpc_dispatch_fn)(struct cgrpc_call *call, const ProtobufCMessage *request,
                                  const void *handlers, void *impl);

/* What the server tells cgrpc_server_config.on_call_end about a finished call. */
struct cgrpc_call_summary {
  const char *method;    /* "/pkg.Service/Method" as requested */
  grpc_status_code code; /* what the handler finished with (CANCELLED if it never ran) */
  bool cancelled;        /* the call did not run to completion (client cancel, deadline,
                            network, server shutdown) */
  int64_t duration_ns;   /* from arrival to release */
  int64_t handler_ns;    /* time the application's handler and callbacks held CQ
                            threads, summed over every callback of the call (a
                            long stream adds up thousands of short ones) */
  int64_t handler_max_ns; /* the longest single callback: it should stay near zero
                             (work belongs on other threads); a large value names
                             a handler that blocks a CQ thread */
};

/* A request refused before its handler ran because a string field is not
 * exact: proto3 strings must be valid UTF-8, and cgrpc also refuses a NUL
 * byte (protobuf-c would cut the string there, so the handler would see a
 * different string than the client sent). Both strings live in the call's
 * arena. */
struct cgrpc_field_error {
  const char *field;       /* path: "name", "options.page_range", "items[2].name",
                              "labels[\"k\"]" (a map value; the key as a JSON string
                              literal), "labels" (when the key itself is refused or
                              too long to quote: the description names the entry) */
  const char *description; /* "contains a NUL byte", "is not valid UTF-8", ... */
};

struct cgrpc_server_config {
  const char *listen; /* "host:port"; port 0 picks a free port (see cgrpc_server_port) */
  /* TLS: PEM text (not file names), copied by cgrpc_server_create; cgrpc's
   * copy of the key is wiped and freed once the server started. With cert and
   * key the server speaks TLS; with client_ca as well it requires and verifies
   * a client certificate (mTLS). All NULL = insecure. */
  const char *tls_cert_pem;
  const char *tls_key_pem;
  const char *tls_client_ca_pem;
  int cq_threads;          /* 0 = the number of CPUs this process may run on */
  int64_t max_recv_bytes;  /* 0 = gRPC's default (4 MiB); -1 = unlimited */
  int64_t max_send_bytes;  /* 0 = unlimited */
  /* HTTP/2 connection policy. Each 0 = gRPC's own default (in brackets).
   *  keepalive_time_ms: ping a connection after this long without activity
   *    [2 h]; keepalive_timeout_ms: close it when the ping's ACK does not come
   *    within this [20 s] (a half-open peer).
   *  max_connection_idle_ms: GOAWAY a connection without calls for this long
   *    [none]. max_connection_age_ms: GOAWAY any connection this old (with
   *    jitter) [none]; max_connection_age_grace_ms: then let its calls run for
   *    this long before closing [none].
   *  max_concurrent_streams: SETTINGS_MAX_CONCURRENT_STREAMS, the calls one
   *    connection may have open at once; more wait in the client [none].
   *  min_ping_interval_ms: a client ping sooner than this after the previous
   *    one (without data in between) is a strike [5 min]; max_ping_strikes:
   *    after this many strikes the connection is closed (GOAWAY
   *    ENHANCE_YOUR_CALM, "too_many_pings") [2]. */
  int64_t keepalive_time_ms, keepalive_timeout_ms;
  int64_t max_connection_idle_ms, max_connection_age_ms, max_connection_age_grace_ms;
  int max_concurrent_streams;
  int64_t min_ping_interval_ms;
  int max_ping_strikes;
  /* Optional hooks, both run on a CQ thread, must not block. on_call_start runs
   * before the handler (and before an unknown method is refused); it may read
   * request metadata and add response metadata. on_call_end runs once when the
   * call is released; the call's accessors still work during it. */
  void (*on_call_start)(struct cgrpc_call *call, void *hook_ud);
  void (*on_call_end)(struct cgrpc_call *call, const struct cgrpc_call_summary *summary,
                      void *hook_ud);
  /* Optional: every request (and every client-stream message) has each
   * string field checked on the wire before it is unpacked. When a unary or
   * server-streaming request fails the check, its handler never runs; with
   * on_field_error set, it runs instead (CQ thread, must not block) and must
   * finish the call exactly once (e.g. INVALID_ARGUMENT with a
   * google.rpc.BadRequest naming err->field); without it cgrpc finishes the
   * call with INVALID_ARGUMENT and a message naming the field. A stream
   * message that fails cancels the call with that status (no hook). */
  void (*on_field_error)(struct cgrpc_call *call, const struct cgrpc_field_error *err,
                         void *hook_ud);
  void *hook_ud;
};

/* Creates a server (does not listen yet). cfg and its strings are copied.
 * Returns NULL with a message in errbuf on failure. Free with
 * cgrpc_server_destroy (after cgrpc_server_shutdown if it was started). */
struct cgrpc_server *cgrpc_server_create(const struct cgrpc_server_config *cfg, char *errbuf,
                                         size_t errcap);

/* Adds a service (generated code calls this; use <svc>__register instead).
 * dispatch has svc->n_methods entries. svc, dispatch and handlers are
 * borrowed and must outlive the server (generated ones are static); impl is
 * passed to every handler. Only before cgrpc_server_start. */
int cgrpc_server_add_service(struct cgrpc_server *s, const struct cgrpc_service_desc *svc,
                             const cgrpc_dispatch_fn *dispatch, const void *handlers, void *impl);

/* Binds, starts the CQ threads and begins accepting calls. Returns 0 or
 * CGRPC_ESTARTUP with the reason in errbuf. */
int cgrpc_server_start(struct cgrpc_server *s, char *errbuf, size_t errcap);
/* The port actually bound (useful with port 0). */
int cgrpc_server_port(const struct cgrpc_server *s);

/* Graceful shutdown: stop accepting calls, let in-flight calls finish for up to
 * grace_ms, then cancel the rest (handlers see cancellation and must still
 * finish their calls), wait for every call to be released and stop the CQ
 * threads. Blocks; call from a thread that is not a CQ thread. Idempotent. */
void cgrpc_server_shutdown(struct cgrpc_server *s, int64_t grace_ms);
/* Frees the server; shuts it down with grace 0 first if needed. NULL allowed. */
void cgrpc_server_destroy(struct cgrpc_server *s);

/* ---- Server calls: everything below is thread-safe unless said otherwise --- */

/* Metadata the client sent: the first value for key (lower case), or NULL.
 * The returned string is NUL-terminated, its length in *len if len != NULL;
 * owned by the call's arena. */
const char *cgrpc_call_metadata(struct cgrpc_call *call, const char *key, size_t *len);
/* All request metadata; *count entries owned by the call's arena. */
const struct cgrpc_metadata *cgrpc_call_metadata_all(struct cgrpc_call *call, size_t *count);
/* The method path the client asked for ("/pkg.Service/Method"). Arena-owned. */
const char *cgrpc_call_method(const struct cgrpc_call *call);
/* The client's address, e.g. "ipv4:127.0.0.1:53012". Arena-owned. */
const char *cgrpc_call_peer(const struct cgrpc_call *call);
/* The deadline as Unix time in milliseconds, INT64_MAX when there is none. */
int64_t cgrpc_call_deadline_ms(const struct cgrpc_call *call);
/* True once gRPC reported the call cancelled (client cancel, deadline, network
 * loss, server shutdown). */
bool cgrpc_call_is_cancelled(const struct cgrpc_call *call);

/* Called (on a CQ thread) when the call is cancelled before the handler
 * finished it. One callback per call; registering again replaces it. Returns
 * 0 when registered, 1 when the call is already cancelled (cb will not run). */
typedef void (*cgrpc_cancel_cb)(struct cgrpc_call *call, void *ud);
int cgrpc_call_on_cancel(struct cgrpc_call *call, cgrpc_cancel_cb cb, void *ud);

/* Adds response initial metadata. key and value are copied. Only before the
 * first write/reply/finish; CGRPC_EINVAL after, or for an illegal key. */
int cgrpc_call_add_metadata(struct cgrpc_call *call, const char *key, const char *value,
                            size_t value_len);

/* Arena memory that lives until the call is released (max_align_t aligned,
 * not zeroed). NULL when out of memory. */
void *cgrpc_call_alloc(struct cgrpc_call *call, size_t n);
/* A slot for the application (e.g. a request id); not touched by cgrpc. */
void cgrpc_call_set_user(struct cgrpc_call *call, void *user);
void *cgrpc_call_user(const struct cgrpc_call *call);

/* Sends msg and status OK, finishing the call (unary and client-streaming).
 * msg is borrowed: packed before return. If the packed message is larger than
 * max_send_bytes the call finishes with RESOURCE_EXHAUSTED instead. Returns 0,
 * or CGRPC_EDONE if the call was already finished (a handler bug). */
int cgrpc_call_reply(struct cgrpc_call *call, const ProtobufCMessage *msg);

/* Finishes the call with a status. message may be NULL; copied. A write still
 * in flight completes first (its callback still runs). */
int cgrpc_call_finish(struct cgrpc_call *call, grpc_status_code code, const char *message);
/* Same, with a binary grpc-status-details-bin trailer (a serialized
 * google.rpc.Status); details copied. */
int cgrpc_call_finish_details(struct cgrpc_call *call, grpc_status_code code,
                              const char *message, const void *details, size_t details_len);

/* Ends the stream now with code and message, also while a write is in flight
 * that the peer does not take (a reader that stopped granting flow-control
 * window): the status goes out as trailers, which flow control does not hold
 * back, and the stream is reset. Then cgrpc_call_is_cancelled() is true and
 * a pending write or read completes with ok = false / msg = NULL. The handler
 * still finishes the call exactly once as usual (on_call_end reports the code
 * it finishes with). message may be NULL; copied. Returns 0, or CGRPC_EDONE
 * when the call was already finished. Any thread. */
int cgrpc_call_cancel_with_status(struct cgrpc_call *call, grpc_status_code code,
                                  const char *message);

/* Writes one stream message (server-streaming and bidi). msg is borrowed
 * (packed before return). done runs exactly once on a CQ thread when gRPC has
 * taken the message (ok = true) or the call went away (ok = false: stop
 * producing and finish the call). Only one write in flight: CGRPC_EBUSY
 * otherwise; CGRPC_ETOOBIG if over max_send_bytes (nothing sent, no callback);
 * CGRPC_EDONE once finished. On any error done never runs. */
typedef void (*cgrpc_write_cb)(struct cgrpc_call *call, bool ok, void *ud);
int cgrpc_call_write(struct cgrpc_call *call, const ProtobufCMessage *msg, cgrpc_write_cb done,
                     void *ud);

/* Memory a write may send from without copying it (zero-copy writes): the
 * region [base, base + len) and a reference count the caller keeps on it.
 * Each piece of the packed message that protobuf-c takes from inside the
 * region and that is at least CGRPC_LEND_MIN bytes long (in practice a
 * `bytes` or `string` field's payload) goes to gRPC as a slice pointing into
 * the region: ref(ud) is called once for it before cgrpc_call_write_lent
 * returns, and unref(ud) once when gRPC no longer needs it, on any thread and
 * possibly after the write callback ran (gRPC may hold the bytes until the
 * transport wrote them). Everything else (field tags, lengths, small fields)
 * is copied. Until the last unref the caller must neither free nor overwrite
 * the region's bytes the message referenced. ref/unref must be thread-safe
 * (an atomic count). */
#define CGRPC_LEND_MIN 1024
struct cgrpc_lend {
  const void *base;
  size_t len;
  void (*ref)(void *ud);
  void (*unref)(void *ud);
  void *ud;
};

/* cgrpc_call_write, sending lend's bytes by reference (see struct
 * cgrpc_lend). The bytes on the wire are exactly those of cgrpc_call_write
 * (protobuf-c's packing, field order kept). Same errors and callback
 * contract; on any error no reference is left taken. */
int cgrpc_call_write_lent(struct cgrpc_call *call, const ProtobufCMessage *msg,
                          const struct cgrpc_lend *lend, cgrpc_write_cb done, void *ud);

/* Reads the next client message (client-streaming and bidi). cb runs exactly
 * once on a CQ thread with msg = the message (valid only during the callback),
 * or msg = NULL at the end of the client's stream or when the call failed
 * (cgrpc_call_is_cancelled tells which). A malformed message cancels the call
 * with INVALID_ARGUMENT and is reported as msg = NULL. One read in flight:
 * CGRPC_EBUSY otherwise. On any error cb never runs. */
typedef void (*cgrpc_read_cb)(struct cgrpc_call *call, const ProtobufCMessage *msg, void *ud);
int cgrpc_call_read(struct cgrpc_call *call, cgrpc_read_cb cb, void *ud);

/* ---- Client ---------------------------------------------------------------- */

struct cgrpc_channel;
struct cgrpc_client_call;

struct cgrpc_channel_config {
  /* TLS when root_pem is set (PEM text, copied): the CA that signed the server.
   * cert_pem + key_pem add a client certificate (mTLS). target_name_override
   * checks the server certificate against that name instead of the host. */
  const char *tls_root_pem;
  const char *tls_cert_pem;
  const char *tls_key_pem;
  const char *tls_target_name_override;
  int64_t max_recv_bytes; /* 0 = gRPC default (4 MiB); -1 = unlimited */
  int64_t max_send_bytes; /* 0 = unlimited */
  /* 0 = gRPC's default flow control (the receive window grows with bandwidth
   * probing, to many MiB on a fast link). > 0: probing off and a per-stream
   * receive lookahead of about this many bytes, so a client that reads slowly
   * lets at most about this much pile up in its transport and the sender is
   * paced by its reads (e.g. tests of server-side backpressure). */
  int32_t http2_stream_window;
};

/* target is "host:port" (any gRPC target string). cfg may be NULL (insecure).
 * Returns NULL with errbuf set on failure. Free with cgrpc_channel_destroy once
 * every call on it is destroyed. */
struct cgrpc_channel *cgrpc_channel_create(const char *target,
                                           const struct cgrpc_channel_config *cfg, char *errbuf,
                                           size_t errcap);
void cgrpc_channel_destroy(struct cgrpc_channel *ch);

struct cgrpc_call_options {
  int64_t timeout_ms;                   /* 0 = no deadline */
  const struct cgrpc_metadata *metadata; /* borrowed for the duration of the start call */
  size_t metadata_count;
  ProtobufCAllocator *allocator;        /* for response messages; NULL = default */
  bool wait_for_ready;                  /* wait for the channel instead of failing fast */
};

/* The outcome of a client call. Every pointer is owned by the status and freed
 * by cgrpc_status_clear (which leaves it zeroed; a zeroed status may be
 * cleared again). */
struct cgrpc_status {
  grpc_status_code code;
  char *message;       /* NUL-terminated, never NULL after a call */
  uint8_t *details;    /* grpc-status-details-bin, or NULL */
  size_t details_len;
  struct cgrpc_metadata *headers; /* response initial metadata */
  size_t n_headers;
  struct cgrpc_metadata *trailers; /* trailing metadata (minus details) */
  size_t n_trailers;
};
void cgrpc_status_clear(struct cgrpc_status *st);
/* First value of key in st->headers, or NULL. */
const char *cgrpc_status_header(const struct cgrpc_status *st, const char *key);

/* A unary call: one request, one response. On OK returns 0 and *response is
 * set (caller frees with protobuf_c_message_free_unpacked and opts->allocator).
 * Otherwise returns CGRPC_ESTATUS and *response = NULL. status (may be NULL)
 * receives the outcome either way; clear it with cgrpc_status_clear. */
int cgrpc_client_unary(struct cgrpc_channel *ch, const struct cgrpc_method_desc *method,
                       const ProtobufCMessage *request, const struct cgrpc_call_options *opts,
                       ProtobufCMessage **response, struct cgrpc_status *status);

/* Starts a streaming call (sends the request metadata). opts may be NULL.
 * Returns NULL only when out of memory or on bad arguments; a call that
 * cannot reach the server reports it from read/finish. Destroy with
 * cgrpc_client_call_destroy. */
struct cgrpc_client_call *cgrpc_client_call_start(struct cgrpc_channel *ch,
                                                  const struct cgrpc_method_desc *method,
                                                  const struct cgrpc_call_options *opts);
/* Blocks until gRPC took the message (flow control). msg borrowed. 0, or
 * CGRPC_EDONE when the call is over (read the status with _finish). */
int cgrpc_client_call_write(struct cgrpc_client_call *cc, const ProtobufCMessage *msg);
/* Half-closes: the server sees the end of the client stream. */
int cgrpc_client_call_writes_done(struct cgrpc_client_call *cc);
/* Blocks for the next message: 1 with *msg set (caller frees it with
 * protobuf_c_message_free_unpacked and the call's allocator), 0 at the end of
 * the stream or when the call failed (then see _finish), CGRPC_EINVAL when a
 * malformed message arrived (the call is cancelled). */
int cgrpc_client_call_read(struct cgrpc_client_call *cc, ProtobufCMessage **msg);
/* Waits for the status (call after reading to the end, or after cancel).
 * Returns 0 for OK, CGRPC_ESTATUS otherwise; status may be NULL. */
int cgrpc_client_call_finish(struct cgrpc_client_call *cc, struct cgrpc_status *status);
/* Client streaming: half-closes, reads the one response and the status.
 * 0 with *response set (caller frees it with the call's allocator), or
 * CGRPC_ESTATUS with *response = NULL; status may be NULL. */
int cgrpc_client_call_close_and_recv(struct cgrpc_client_call *cc, ProtobufCMessage **response,
                                     struct cgrpc_status *status);
/* Cancels the call; any thread, any time before destroy. */
void cgrpc_client_call_cancel(struct cgrpc_client_call *cc);
/* Cancels the call if still running and frees it. NULL allowed. */
void cgrpc_client_call_destroy(struct cgrpc_client_call *cc);

#ifdef __cplusplus
}
#endif
#endif
