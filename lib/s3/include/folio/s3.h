/* folio_s3: an asynchronous S3 client on libcurl multi, driven by a folio_loop.
 *
 *   struct folio_s3_config cfg;
 *   folio_s3_config_from_env(&cfg, err, sizeof err);   // FOLIO_S3_* variables
 *   struct folio_s3_client *c = folio_s3_client_create(&cfg, loop, err, sizeof err);
 *   folio_s3_get(c, "jobs/42/page-1.png", &range, on_data, on_done, arg, &get);
 *   ... the loop thread runs folio_loop_run(loop) ...
 *   folio_s3_client_destroy(c);                        // on the loop thread
 *
 * Works against any S3 implementation (AWS S3, MinIO, Ceph RGW): requests are
 * signed with SigV4 (header auth, x-amz-content-sha256 always sent and signed),
 * path-style or virtual-hosted addressing, http or https.
 *
 * Threads. The client lives on its loop: create and destroy it on the loop
 * thread (or before the loop runs / after it stopped). Every operation below
 * (put, get, head, delete, upload_*, resume, cancel) may be called from ANY
 * thread: the request is handed to the loop thread with folio_loop_post().
 * folio_s3_presign_get() is a pure function (no client, no I/O).
 *
 * Callbacks. An operation that returns a negative code never calls back. One
 * that returns 0 calls its done callback exactly once, on the loop thread —
 * on success, on error, on cancel, and when the client is destroyed (status
 * FOLIO_S3_ECANCELED). The struct folio_s3_result and every string in it are
 * borrowed: valid only until the done callback returns.
 *
 * Retries. Idempotent requests (GET, HEAD, PUT, DELETE, UploadPart,
 * AbortMultipartUpload) are retried on 5xx, 429, timeouts and connection errors
 * with exponential backoff and full jitter (cfg.max_retries times); a GET is
 * retried only before its first body byte reached the consumer.
 * CreateMultipartUpload and CompleteMultipartUpload (POST) are not retried. */
#ifndef FOLIO_S3_H
#define FOLIO_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "folio/loop.h"

/* Result codes (0 = success). */
enum {
  FOLIO_S3_OK = 0,
  FOLIO_S3_EINVAL = -1,     /* bad argument or configuration (detail in err) */
  FOLIO_S3_ENOMEM = -2,
  FOLIO_S3_EHTTP = -3,      /* S3 answered with an error: http_status, error_code */
  FOLIO_S3_ETRANSPORT = -4, /* connection failed, timed out, TLS error: error_message */
  FOLIO_S3_ECANCELED = -5,  /* cancelled by the caller, or the client was destroyed */
  FOLIO_S3_EABORTED = -6,   /* a producer/consumer callback asked to stop */
  FOLIO_S3_EPROTOCOL = -7,  /* an unreadable reply (bad XML, missing UploadId) */
};
/* Static English name of a result code ("EHTTP" ...). */
const char *folio_s3_strerror(int code);

enum folio_s3_addressing {
  FOLIO_S3_PATH_STYLE = 0,     /* http://host:port/bucket/key (default, portable) */
  FOLIO_S3_VIRTUAL_HOSTED = 1, /* http://bucket.host:port/key */
};

/* Configuration. Strings are borrowed by the calls that take a config and copied
 * by folio_s3_client_create(). Zero values mean the documented default. */
struct folio_s3_config {
  const char *endpoint;        /* "http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com" */
  const char *public_endpoint; /* base of presigned URLs handed to clients; NULL: endpoint */
  const char *region;          /* default "us-east-1" */
  const char *bucket;
  const char *access_key;
  const char *secret_key;
  enum folio_s3_addressing addressing;
  long connect_timeout_ms; /* default 5000 */
  long request_timeout_ms; /* whole-request limit per attempt; default 300000. Not
                              applied to GETs streamed to a consumer (they may stay
                              paused as long as the consumer needs) */
  long low_speed_timeout_s; /* abort when < 1 byte/s for this long (time spent
                               paused does not count); default 30 */
  int max_retries;          /* default 3; negative: none */
  long retry_base_ms;       /* first backoff ceiling; default 100 (doubles, cap 5000) */
  size_t part_size;         /* multipart part size; default 8 MiB, minimum 5 MiB */
  int parts_in_flight;      /* part buffers per upload (filling + uploading); default 4 */
  long max_host_connections; /* curl connection cap per host; default 16 */
};

/* Fills cfg from FOLIO_S3_ENDPOINT, FOLIO_S3_PUBLIC_ENDPOINT, FOLIO_S3_REGION,
 * FOLIO_S3_BUCKET, FOLIO_S3_ACCESS_KEY, FOLIO_S3_SECRET_KEY and
 * FOLIO_S3_ADDRESSING ("path" | "virtual"); other fields zero (defaults).
 * Strings point into the environment (valid until it changes). Returns 0 or
 * FOLIO_S3_EINVAL naming the missing/invalid variable in err. */
int folio_s3_config_from_env(struct folio_s3_config *cfg, char *err, size_t errcap);

/* ---- presigned URLs (pure) ---- */

/* A presigned GET URL for key, valid ttl_s seconds (1..604800) from now (Unix
 * seconds), built on cfg->public_endpoint (or endpoint) with cfg->addressing.
 * response_content_disposition (optional, e.g. "attachment; filename=\"a.pdf\"")
 * is signed into the URL, so S3 answers with that Content-Disposition. Returns
 * a malloc'd URL (caller frees with free()) or NULL with the reason in err. */
char *folio_s3_presign_get(const struct folio_s3_config *cfg, const char *key, long ttl_s,
                           const char *response_content_disposition, time_t now, char *err,
                           size_t errcap);

/* ---- the client ---- */

struct folio_s3_client;

/* Validates cfg, copies it, sets up curl multi on loop. Returns the client
 * (free with folio_s3_client_destroy) or NULL with the reason in err. */
struct folio_s3_client *folio_s3_client_create(const struct folio_s3_config *cfg,
                                               struct folio_loop *loop, char *err,
                                               size_t errcap);
/* Cancels every pending operation (each done callback runs with
 * FOLIO_S3_ECANCELED, inside this call) and releases the client. Loop thread
 * only. NULL allowed. Operations submitted from other threads that reach the
 * loop after this call complete with FOLIO_S3_ECANCELED (the client's memory
 * lives until the last of them is done). An upload's producer sees
 * FOLIO_S3_ECANCELED from its next write and must still call finish or abort;
 * a multipart upload that already existed on S3 is not aborted (the client
 * can send nothing any more): keep an "abort incomplete multipart uploads"
 * lifecycle rule on the bucket. The loop must outlive the client and every
 * handle (folio_s3_get, folio_s3_upload). */
void folio_s3_client_destroy(struct folio_s3_client *c);

struct folio_s3_result {
  int status;          /* FOLIO_S3_OK or a negative code */
  long http_status;    /* 0 when no HTTP reply arrived */
  const char *error_code;    /* S3 <Code> ("NoSuchKey", "SignatureDoesNotMatch"), or "" */
  const char *error_message; /* S3 <Message> or a transport/protocol explanation, or "" */
  const char *etag;          /* ETag header (quotes included) or "" */
  const char *content_type;  /* or "" */
  uint64_t content_length;   /* bytes in this reply's body (HEAD: object size) */
  uint64_t object_size;      /* total object size (from Content-Range for ranges) */
  int attempts;              /* HTTP attempts made (retries + 1) */
  /* multipart uploads only: */
  uint64_t bytes_uploaded;
  int parts;
  int peak_parts_in_flight; /* most UploadPart requests running at once */
  size_t peak_buffered;     /* most bytes held in part buffers at once */
};

typedef void (*folio_s3_done_cb)(void *arg, const struct folio_s3_result *r);

/* PUT key from data[0..len) (borrowed until the done callback). content_type may
 * be NULL. The SHA-256 payload hash is computed on the calling thread. */
int folio_s3_put(struct folio_s3_client *c, const char *key, const void *data, size_t len,
                 const char *content_type, folio_s3_done_cb done, void *arg);
/* HEAD key: etag, content_type, content_length = object size. */
int folio_s3_head(struct folio_s3_client *c, const char *key, folio_s3_done_cb done, void *arg);
/* DELETE key (S3 answers 204 also for a missing key). */
int folio_s3_delete(struct folio_s3_client *c, const char *key, folio_s3_done_cb done,
                    void *arg);
/* Creates cfg.bucket unless it exists (CreateBucket; BucketAlreadyOwnedByYou
 * counts as success). Meant for start-up. */
int folio_s3_ensure_bucket(struct folio_s3_client *c, folio_s3_done_cb done, void *arg);

/* ---- GET with a pausable consumer ---- */

/* A byte range: first..last inclusive. has_first=false: the last `last` bytes
 * (suffix range, "bytes=-N"); has_last=false: from first to the end.
 * if_match (optional, borrowed for the call, at most 127 bytes): an ETag the
 * object must still have, sent as If-Match; S3 answers 412
 * PreconditionFailed (EHTTP) when the object was replaced since. A GET that
 * resumes an earlier one by range passes the earlier reply's ETag
 * (folio_s3_get_etag) so the bytes it appends are from the same object. */
struct folio_s3_range {
  bool has_first, has_last;
  uint64_t first, last;
  const char *if_match;
};

enum { FOLIO_S3_CONTINUE = 0, FOLIO_S3_PAUSE = 1 };
/* Called on the loop thread with the next body bytes (borrowed for the call).
 * Return FOLIO_S3_CONTINUE, FOLIO_S3_PAUSE (the bytes are consumed; no more are
 * delivered until folio_s3_get_resume()), or a negative value to stop the
 * transfer (done then reports FOLIO_S3_EABORTED). Only called for successful
 * (2xx) replies. */
typedef int (*folio_s3_data_cb)(void *arg, const void *data, size_t len);

struct folio_s3_get;

/* GET key (range NULL: whole object). If out is non-NULL it receives a handle
 * for resume/cancel that the caller must release with folio_s3_get_release()
 * (before or after done ran). Range errors arrive as EHTTP with http_status
 * 416 (InvalidRange). */
int folio_s3_get(struct folio_s3_client *c, const char *key, const struct folio_s3_range *range,
                 folio_s3_data_cb on_data, folio_s3_done_cb done, void *arg,
                 struct folio_s3_get **out);
/* The ETag of the reply whose body is being delivered (quotes included), or
 * "" before any reply. Loop thread only, meant to be called from on_data;
 * the string is borrowed until on_data returns. */
const char *folio_s3_get_etag(const struct folio_s3_get *g);
/* Resume a paused GET. Any thread; harmless when not paused or already done. */
void folio_s3_get_resume(struct folio_s3_get *g);
/* Stop the GET; done runs with FOLIO_S3_ECANCELED unless it already ran. Any
 * thread. A GET stopped before its body was read to the end closes its
 * connection (curl cannot reuse it), so the per-host connection slot
 * (max_host_connections) is free again once done ran. */
void folio_s3_get_cancel(struct folio_s3_get *g);
/* Drops the caller's reference. Any thread. NULL allowed. */
void folio_s3_get_release(struct folio_s3_get *g);

/* ---- multipart upload fed by a producer ---- */

struct folio_s3_upload;

/* Starts an upload of key. The producer (any thread but the loop thread) then
 * calls folio_s3_upload_write() as data becomes available and ends with exactly
 * one of folio_s3_upload_finish() or folio_s3_upload_abort(); after that call
 * the handle must not be used. Parts of cfg.part_size bytes are uploaded while
 * the producer keeps writing, up to cfg.parts_in_flight buffers at once, so the
 * memory used is at most parts_in_flight × part_size. A body smaller than one
 * part is sent with a single PUT (no multipart upload is created). On any
 * failure the multipart upload is aborted on S3 (AbortMultipartUpload), so no
 * parts are left behind, and done reports the first error. */
int folio_s3_upload_begin(struct folio_s3_client *c, const char *key, const char *content_type,
                          folio_s3_done_cb done, void *arg, struct folio_s3_upload **out);
/* Copies data into part buffers; blocks while all part buffers are in use
 * (backpressure). Returns 0, or the upload's error code once it has failed (the
 * producer should then stop and call abort or finish, which reports it). Must
 * not be called on the loop thread (FOLIO_S3_EINVAL). */
int folio_s3_upload_write(struct folio_s3_upload *u, const void *data, size_t len);
/* No more data: uploads the last part and completes the upload. Returns at once;
 * done reports the outcome. */
void folio_s3_upload_finish(struct folio_s3_upload *u);
/* The producer failed: cancels parts in flight, aborts the multipart upload and
 * reports FOLIO_S3_EABORTED to done (unless an earlier error is reported). */
void folio_s3_upload_abort(struct folio_s3_upload *u);

/* ---- synchronous convenience (CLI, tests) ---- */

/* Runs a private loop and client for one call. data for put; out for get
 * receives a malloc'd body (caller frees) and its length. r's strings are copied
 * into the caller-provided error buffers of struct folio_s3_sync_result. */
struct folio_s3_sync_result {
  int status;
  long http_status;
  char error_code[64];
  char error_message[256];
  char etag[128];
  uint64_t content_length;
};
int folio_s3_sync_put(const struct folio_s3_config *cfg, const char *key, const void *data,
                      size_t len, const char *content_type, struct folio_s3_sync_result *r);
int folio_s3_sync_get(const struct folio_s3_config *cfg, const char *key,
                      const struct folio_s3_range *range, void **out, size_t *out_len,
                      struct folio_s3_sync_result *r);
int folio_s3_sync_head(const struct folio_s3_config *cfg, const char *key,
                       struct folio_s3_sync_result *r);
int folio_s3_sync_delete(const struct folio_s3_config *cfg, const char *key,
                         struct folio_s3_sync_result *r);
int folio_s3_sync_ensure_bucket(const struct folio_s3_config *cfg,
                                struct folio_s3_sync_result *r);

#endif
