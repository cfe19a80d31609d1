/* The one place where folio's internal error codes become gRPC status codes
 * (docs/architecture.md, "Practices": one error vocabulary per layer). Every handler that fails because a library call failed
 * finishes through srv_rpc_fail(); validation errors that the handler finds
 * itself use srv_rpc_bad_request() (INVALID_ARGUMENT with a
 * google.rpc.BadRequest in grpc-status-details-bin); retryable failures carry
 * a google.rpc.RetryInfo there. */
#ifndef FOLIO_SERVER_RPCSTATUS_H
#define FOLIO_SERVER_RPCSTATUS_H

#include <stddef.h>
#include <stdint.h>

#include "cgrpc/cgrpc.h"

/* Which vocabulary an error code belongs to (the numeric ranges overlap). */
enum folio_rpc_domain {
  FOLIO_RPC_DB,   /* FOLIO_JOBS_E* and FOLIO_PG_E* (lib/jobs returns both) */
  FOLIO_RPC_S3,   /* FOLIO_S3_E*; http_status refines EHTTP */
  FOLIO_RPC_POOL, /* -EAGAIN from the work pool: full */
};

/* The gRPC code for rc in domain d: the one table from internal results to
 * gRPC status codes (DB: ENOTFOUND NOT_FOUND, EPRECONDITION
 * FAILED_PRECONDITION, EINVAL INVALID_ARGUMENT, EAUTH UNAUTHENTICATED,
 * EFENCED/ECONFLICT/EABORTED ABORTED, ETIMEOUT RESOURCE_EXHAUSTED,
 * ECONNECT/ECLOSED UNAVAILABLE, else INTERNAL; S3: HTTP 404 NOT_FOUND, 416
 * OUT_OF_RANGE, 429/5xx/transport UNAVAILABLE, else INTERNAL; POOL: -EAGAIN
 * RESOURCE_EXHAUSTED). Pure. */
grpc_status_code srv_rpc_code(enum folio_rpc_domain d, int rc, long http_status);

/* Finishes call with srv_rpc_code(d, rc, http_status) and the message
 * "<what>: <detail>" (detail may be NULL). Retryable codes (UNAVAILABLE,
 * RESOURCE_EXHAUSTED, ABORTED) carry the retry hint three ways: response
 * metadata `retry-after-ms`, a google.rpc.Status with a google.rpc.RetryInfo
 * (retry_delay) in grpc-status-details-bin, and the message text. Any thread. */
void srv_rpc_fail(struct cgrpc_call *call, enum folio_rpc_domain d, int rc, long http_status,
                    const char *what, const char *detail);

/* One field violation: field is the request field path (e.g.
 * "options.png_dpi", "layout_json/pages/0/w"), description why. Borrowed. */
struct srv_rpc_violation {
  const char *field;
  const char *description;
};

/* Finishes call with code (usually INVALID_ARGUMENT), message, and a
 * google.rpc.Status{code, message, details: [Any(BadRequest{v[0..n)})]} in
 * grpc-status-details-bin. Falls back to a plain status when out of memory.
 * Any thread. */
void srv_rpc_bad_request(struct cgrpc_call *call, grpc_status_code code, const char *message,
                           const struct srv_rpc_violation *v, size_t n);

/* cgrpc_server_config.on_field_error: a request with a string field that is
 * not exact (a NUL byte, invalid UTF-8; cgrpc checks the wire bytes before
 * unpacking) is refused before its handler — and before authentication —
 * with INVALID_ARGUMENT and a BadRequest naming the field path. CQ thread. */
void srv_rpc_on_field_error(struct cgrpc_call *call, const struct cgrpc_field_error *err,
                              void *hook_ud);

/* Finishes call with RESOURCE_EXHAUSTED for a limit: message, and a
 * google.rpc.Status whose details are a google.rpc.QuotaFailure (one
 * violation: subject "tenant:<name>" (as google.rpc's "project:<id>"), and description
 * naming the limit and its value) and a google.rpc.RetryInfo
 * (retry_after_ms), which also goes in the `retry-after-ms` metadata. Falls
 * back to a plain status when out of memory. Any thread. */
void srv_rpc_quota_failure(struct cgrpc_call *call, const char *message, const char *subject,
                             const char *description, int64_t retry_after_ms);

/* protobuf-c message fields are `char *` even when only read (packing):
 * borrowed const strings go in through this. */
static inline char *srv_pb_str(const char *s) { return (char *)(uintptr_t)s; }

/* A hint for clients: how long to wait before retrying after
 * RESOURCE_EXHAUSTED/UNAVAILABLE. */
#define FOLIO_RPC_RETRY_AFTER_MS 200

#endif
