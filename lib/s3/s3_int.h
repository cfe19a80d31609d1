/* Private declarations shared by the files of lib/s3 (client.c, upload.c,
 * presign.c, sync.c). See docs/internals/s3.md for the invariants. */
#ifndef FOLIO_S3_INT_H
#define FOLIO_S3_INT_H

#include <curl/curl.h>
#include <stdatomic.h>

#include "folio/s3.h"
#include "sigv4.h"
#include "folio/str.h"

/* A parsed endpoint: scheme "http"/"https" and "host[:port]" exactly as it must
 * appear in the Host header and the URL. */
struct folio_s3_endpoint {
  char scheme[8];
  char hostport[256];
};

int folio_s3_endpoint_parse(const char *url, struct folio_s3_endpoint *ep, char *err,
                            size_t errcap);
/* Validates the fields every use of a config needs (endpoint, bucket, keys). */
int folio_s3_config_check(const struct folio_s3_config *cfg, char *err, size_t errcap);
/* Builds host header value and raw (unencoded) path for key (NULL: the bucket
 * itself) under the configured addressing style. */
void folio_s3_target(const struct folio_s3_config *cfg, const struct folio_s3_endpoint *ep,
                     const char *key, struct folio_str *host, struct folio_str *path);
void folio_s3_set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- requests (client.c) ---- */

struct folio_s3_req;
/* Called exactly once per request on the loop thread with its outcome; the
 * request is freed right after it returns. */
typedef void (*folio_s3_req_complete)(struct folio_s3_req *rq, struct folio_s3_result *res);

struct folio_s3_req_spec {
  const char *method;
  const char *key;           /* NULL: bucket-level request */
  struct folio_s3_kv query[2];
  size_t nquery;
  const void *body; /* borrowed until complete */
  size_t body_len;
  const char *payload_hash; /* NULL: computed here */
  const char *content_type; /* NULL: none */
  const char *range;        /* "bytes=..." or NULL */
  const char *if_match;     /* If-Match value or NULL */
  bool idempotent;           /* retried on 5xx/timeouts; every request is retried when the
                                connection could not be made (nothing was sent) */
  bool keep_body;           /* collect a 2xx body (XML replies) into res->... */
  folio_s3_data_cb on_data; /* stream 2xx body (GET) */
  void *data_arg;
  folio_s3_req_complete complete;
  void *complete_arg;
};

/* Starts a request on the loop thread. Returns the request, or NULL when it
 * could not even be set up (complete was then already called, with an error,
 * exactly once). */
struct folio_s3_req *folio_s3_req_start(struct folio_s3_client *c,
                                        const struct folio_s3_req_spec *spec);
/* Cancels a running or retry-waiting request: complete runs now with status. */
void folio_s3_req_cancel(struct folio_s3_req *rq, int status);
void *folio_s3_req_arg(const struct folio_s3_req *rq);
/* The 2xx body collected when keep_body was set ("" if none); borrowed for the
 * complete callback. */
const char *folio_s3_req_body(const struct folio_s3_req *rq, size_t *len);
/* The ETag header of the current attempt's reply ("" before one). */
const char *folio_s3_req_etag(const struct folio_s3_req *rq);
/* Pause bookkeeping for GET (see client.c). */
void folio_s3_req_resume(struct folio_s3_req *rq);

/* Client lifetime: the creator holds one reference (dropped by
 * folio_s3_client_destroy); every posted operation and every live upload holds
 * one, so work that reaches the loop after destroy still finds the client
 * (closing, its requests fail with ECANCELED at once). Any thread. */
void folio_s3_client_ref(struct folio_s3_client *c);
void folio_s3_client_unref(struct folio_s3_client *c);

/* Long-lived operations (uploads) register a closer so that destroy can end
 * them (their done runs with ECANCELED). add/remove: any thread; remove is
 * idempotent. close runs on the loop thread inside destroy. */
struct folio_s3_closer {
  void (*close)(struct folio_s3_closer *cl);
  struct folio_s3_closer *prev, *next;
  bool linked;
};
void folio_s3_client_add_closer(struct folio_s3_client *c, struct folio_s3_closer *cl);
void folio_s3_client_remove_closer(struct folio_s3_client *c, struct folio_s3_closer *cl);

struct folio_loop *folio_s3_client_loop(const struct folio_s3_client *c);
const struct folio_s3_config *folio_s3_client_config(const struct folio_s3_client *c);
bool folio_s3_client_closing(const struct folio_s3_client *c);

#endif
