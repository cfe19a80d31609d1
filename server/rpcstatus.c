/* Error mapping and rich error details; see rpcstatus.h. The whole table
 * from folio's internal codes (lib/jobs, lib/pg, lib/s3, the work pool) to
 * gRPC status codes is srv_rpc_code below: the libraries know nothing of
 * gRPC, and the server is the only program that answers RPCs. */
#include "rpcstatus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/jobs.h"
#include "folio/pg_async.h"
#include "folio/s3.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

grpc_status_code srv_rpc_code(enum folio_rpc_domain d, int rc, long http_status) {
  if (rc == 0) return GRPC_STATUS_OK;
  switch (d) {
    case FOLIO_RPC_DB:
      switch (rc) {
        case FOLIO_JOBS_EINVAL: return GRPC_STATUS_INVALID_ARGUMENT;
        case FOLIO_PG_EINVAL: return GRPC_STATUS_INVALID_ARGUMENT;
        case FOLIO_JOBS_ENOTFOUND: return GRPC_STATUS_NOT_FOUND;
        case FOLIO_JOBS_EPRECONDITION: return GRPC_STATUS_FAILED_PRECONDITION;
        case FOLIO_JOBS_EFENCED: return GRPC_STATUS_ABORTED;
        case FOLIO_PG_ECONFLICT: return GRPC_STATUS_ABORTED; /* retry */
        case FOLIO_PG_EABORTED: return GRPC_STATUS_ABORTED;  /* a group-commit neighbour failed: retry */
        case FOLIO_JOBS_EAUTH: return GRPC_STATUS_UNAUTHENTICATED;
        case FOLIO_JOBS_EQUOTA: return GRPC_STATUS_RESOURCE_EXHAUSTED; /* a tenant limit */
        case FOLIO_PG_ETIMEOUT: return GRPC_STATUS_RESOURCE_EXHAUSTED; /* busy: retry later */
        case FOLIO_PG_ECONNECT: return GRPC_STATUS_UNAVAILABLE;
        case FOLIO_PG_ECLOSED: return GRPC_STATUS_UNAVAILABLE; /* shutting down */
        default: return GRPC_STATUS_INTERNAL;                 /* EQUERY, ENOMEM, unknown */
      }
    case FOLIO_RPC_S3:
      switch (rc) {
        case FOLIO_S3_EHTTP:
          if (http_status == 404) return GRPC_STATUS_NOT_FOUND;
          if (http_status == 416) return GRPC_STATUS_OUT_OF_RANGE;
          if (http_status == 429 || http_status == 503 || http_status >= 500)
            return GRPC_STATUS_UNAVAILABLE;
          return GRPC_STATUS_INTERNAL; /* 403 etc.: the server's credentials */
        case FOLIO_S3_ETRANSPORT: return GRPC_STATUS_UNAVAILABLE;
        case FOLIO_S3_ECANCELED: return GRPC_STATUS_CANCELLED;
        case FOLIO_S3_ENOMEM: return GRPC_STATUS_RESOURCE_EXHAUSTED;
        default: return GRPC_STATUS_INTERNAL;
      }
    case FOLIO_RPC_POOL:
      return rc == -EAGAIN ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL;
  }
  return GRPC_STATUS_INTERNAL;
}

/* One google.protobuf.Any of a google.rpc.Status's details. */
struct detail {
  const char *type_url;
  const uint8_t *data;
  size_t len;
};

/* Finishes call with code and message, and a google.rpc.Status{code,
 * message, details: [Any{type_url, data}...]} in grpc-status-details-bin; a
 * plain status when out of memory. */
static void finish_with_details(struct cgrpc_call *call, grpc_status_code code,
                                const char *message, const struct detail *dt, size_t n) {
  Google__Protobuf__Any any[2], *anyp[2];
  if (n > 2) n = 2;
  for (size_t i = 0; i < n; i++) {
    google__protobuf__any__init(&any[i]);
    any[i].type_url = srv_pb_str(dt[i].type_url);
    any[i].value.data = (uint8_t *)(uintptr_t)dt[i].data; /* only read while packing */
    any[i].value.len = dt[i].len;
    anyp[i] = &any[i];
  }
  /* _init functions, not the INIT macros: those cast away const (clang's -Wcast-qual) */
  Google__Rpc__Status st;
  google__rpc__status__init(&st);
  st.code = (int32_t)code;
  st.message = srv_pb_str(message);
  st.n_details = n;
  st.details = anyp;
  size_t stlen = google__rpc__status__get_packed_size(&st);
  uint8_t *stbuf = malloc(stlen ? stlen : 1);
  if (!stbuf) {
    cgrpc_call_finish(call, code, message);
    return;
  }
  google__rpc__status__pack(&st, stbuf);
  cgrpc_call_finish_details(call, code, message, stbuf, stlen);
  free(stbuf);
}

static void finish_with_detail(struct cgrpc_call *call, grpc_status_code code, const char *message,
                               const char *type_url, const uint8_t *detail, size_t len) {
  struct detail d = {type_url, detail, len};
  finish_with_details(call, code, message, &d, 1);
}

/* A google.rpc.RetryInfo{retry_delay = ms} into buf (>= 32 bytes); its length. */
static size_t pack_retry_info(int64_t ms, uint8_t *buf) {
  Google__Protobuf__Duration delay = GOOGLE__PROTOBUF__DURATION__INIT;
  delay.seconds = ms / 1000;
  delay.nanos = (int32_t)(ms % 1000) * 1000000;
  Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
  ri.retry_delay = &delay;
  if (google__rpc__retry_info__get_packed_size(&ri) > 32) return 0;
  return google__rpc__retry_info__pack(&ri, buf);
}

void srv_rpc_quota_failure(struct cgrpc_call *call, const char *message, const char *subject,
                             const char *description, int64_t retry_after_ms) {
  if (retry_after_ms < 1) retry_after_ms = 1;
  char v[24];
  int vn = snprintf(v, sizeof v, "%lld", (long long)retry_after_ms);
  cgrpc_call_add_metadata(call, "retry-after-ms", v, (size_t)vn);
  Google__Rpc__QuotaFailure__Violation viol;
  google__rpc__quota_failure__violation__init(&viol);
  viol.subject = srv_pb_str(subject);
  viol.description = srv_pb_str(description);
  Google__Rpc__QuotaFailure__Violation *vp = &viol;
  Google__Rpc__QuotaFailure qf;
  google__rpc__quota_failure__init(&qf);
  qf.n_violations = 1;
  qf.violations = &vp;
  size_t qlen = google__rpc__quota_failure__get_packed_size(&qf);
  uint8_t *qbuf = malloc(qlen ? qlen : 1);
  uint8_t ribuf[32];
  size_t rilen = pack_retry_info(retry_after_ms, ribuf);
  if (!qbuf || !rilen) {
    free(qbuf);
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, message);
    return;
  }
  google__rpc__quota_failure__pack(&qf, qbuf);
  struct detail d[2] = {{"type.googleapis.com/google.rpc.QuotaFailure", qbuf, qlen},
                        {"type.googleapis.com/google.rpc.RetryInfo", ribuf, rilen}};
  finish_with_details(call, GRPC_STATUS_RESOURCE_EXHAUSTED, message, d, 2);
  free(qbuf);
}

void srv_rpc_fail(struct cgrpc_call *call, enum folio_rpc_domain d, int rc, long http_status,
                    const char *what, const char *detail) {
  grpc_status_code code = srv_rpc_code(d, rc, http_status);
  bool retry = code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_RESOURCE_EXHAUSTED ||
               code == GRPC_STATUS_ABORTED;
  char msg[768];
  int len = snprintf(msg, sizeof msg, "%s%s%s", what, detail && *detail ? ": " : "",
                     detail ? detail : "");
  if (retry && len > 0 && (size_t)len < sizeof msg)
    snprintf(msg + len, sizeof msg - (size_t)len, " (retry in %d ms)", FOLIO_RPC_RETRY_AFTER_MS);
  if (!retry) {
    cgrpc_call_finish(call, code, msg);
    return;
  }
  char v[16];
  int n = snprintf(v, sizeof v, "%d", FOLIO_RPC_RETRY_AFTER_MS);
  cgrpc_call_add_metadata(call, "retry-after-ms", v, (size_t)n);
  /* the same hint in the standard error model: google.rpc.RetryInfo */
  uint8_t ribuf[32];
  size_t rilen = pack_retry_info(FOLIO_RPC_RETRY_AFTER_MS, ribuf);
  if (!rilen) {
    cgrpc_call_finish(call, code, msg);
    return;
  }
  finish_with_detail(call, code, msg, "type.googleapis.com/google.rpc.RetryInfo", ribuf, rilen);
}

void srv_rpc_bad_request(struct cgrpc_call *call, grpc_status_code code, const char *message,
                           const struct srv_rpc_violation *v, size_t n) {
  Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
  Google__Rpc__BadRequest__FieldViolation *fv = calloc(n ? n : 1, sizeof *fv);
  Google__Rpc__BadRequest__FieldViolation **fvp = calloc(n ? n : 1, sizeof *fvp);
  uint8_t *brbuf = NULL;
  if (!fv || !fvp) goto plain;
  for (size_t i = 0; i < n; i++) {
    google__rpc__bad_request__field_violation__init(&fv[i]);
    fv[i].field = srv_pb_str(v[i].field);
    fv[i].description = srv_pb_str(v[i].description);
    fvp[i] = &fv[i];
  }
  br.n_field_violations = n;
  br.field_violations = fvp;
  size_t brlen = google__rpc__bad_request__get_packed_size(&br);
  brbuf = malloc(brlen ? brlen : 1);
  if (!brbuf) goto plain;
  google__rpc__bad_request__pack(&br, brbuf);
  finish_with_detail(call, code, message, "type.googleapis.com/google.rpc.BadRequest", brbuf,
                     brlen);
  free(brbuf);
  free(fv);
  free(fvp);
  return;
plain:
  free(brbuf);
  free(fv);
  free(fvp);
  cgrpc_call_finish(call, code, message);
}

void srv_rpc_on_field_error(struct cgrpc_call *call, const struct cgrpc_field_error *err,
                              void *hook_ud) {
  (void)hook_ud;
  const char *method = cgrpc_call_method(call), *slash = method ? strrchr(method, '/') : NULL;
  char msg[768];
  snprintf(msg, sizeof msg, "%s: invalid request: %s %s", slash ? slash + 1 : "?", err->field,
           err->description);
  struct srv_rpc_violation v = {err->field, err->description};
  srv_rpc_bad_request(call, GRPC_STATUS_INVALID_ARGUMENT, msg, &v, 1);
}
