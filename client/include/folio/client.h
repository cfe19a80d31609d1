/* folio client library: a thin, blocking C wrapper over the generated cgrpc
 * stubs of folio.v1.LayoutService, used by the `folio` CLI and usable by any
 * C program.
 *
 * Threads: a struct folio_client may be used from several threads at once
 * (gRPC channels are thread-safe); every call blocks the calling thread.
 * Errors: every function returns 0 on success or a negative value on failure,
 * and then fills the caller's struct folio_client_error (never allocated).
 * Messages: responses are protobuf-c messages allocated by the library and
 * owned by the caller, freed with folio_client_free(msg). */
#ifndef FOLIO_CLIENT_H
#define FOLIO_CLIENT_H

#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/v1/layout_service.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_CLIENT_DEFAULT_ADDR "127.0.0.1:50051"

struct folio_client;

/* What went wrong. code is the gRPC status (GRPC_STATUS_OK never appears in a
 * filled error); local failures use GRPC_STATUS_INVALID_ARGUMENT (bad argument),
 * GRPC_STATUS_INTERNAL (out of memory) or GRPC_STATUS_DATA_LOSS (checksum
 * mismatch), with local_io set for file-system errors. message is the
 * server's message (or ours), followed by the JSON Pointers of a
 * google.rpc.BadRequest, one per line. */
struct folio_client_error {
  grpc_status_code code;
  bool local_io;      /* a local file could not be read or written */
  char message[4096]; /* NUL-terminated */
};
/* "NOT_FOUND", ...; static. */
const char *folio_client_status_name(grpc_status_code code);

struct folio_client_config {
  const char *addr;        /* "host:port"; NULL = FOLIO_CLIENT_DEFAULT_ADDR */
  const char *api_key;     /* sent as "authorization: Bearer <key>"; NULL = none */
  const char *tls_ca_pem;  /* PEM text of the CA that signed the server (copied); NULL = plaintext */
  int64_t timeout_ms;      /* deadline of each unary call; 0 = 30 s. Streams have none. */
};

/* Connects lazily (the first call dials). cfg's strings are copied. *out is
 * freed with folio_client_close. */
int folio_client_connect(const struct folio_client_config *cfg, struct folio_client **out,
                         struct folio_client_error *err);
/* Frees the client; no call may be running. NULL allowed. */
void folio_client_close(struct folio_client *c);
/* Frees any message this library returned. NULL allowed. */
void folio_client_free(void *msg);

/* SubmitLayout. req is borrowed. *resp owned by the caller. */
int folio_client_submit(struct folio_client *c, const Folio__V1__SubmitLayoutRequest *req,
                        Folio__V1__SubmitLayoutResponse **resp, struct folio_client_error *err);
/* GetStatus; url_ttl_seconds 0 = the server's default. */
int folio_client_status(struct folio_client *c, const char *job_id, uint32_t url_ttl_seconds,
                        Folio__V1__Job **job, struct folio_client_error *err);
/* CancelJob. */
int folio_client_cancel(struct folio_client *c, const char *job_id, Folio__V1__Job **job,
                        struct folio_client_error *err);
/* GetArtifactUrl; ttl_seconds 0 = the server's default. */
int folio_client_url(struct folio_client *c, const char *job_id, const char *name,
                     uint32_t ttl_seconds, Folio__V1__ArtifactUrl **url,
                     struct folio_client_error *err);

/* WatchJob: calls cb for every update (job borrowed, valid during the call
 * only) until the stream ends after a terminal state. cb returns 0 to go on,
 * nonzero to stop (the call is cancelled, and folio_client_watch returns 0).
 * *final (may be NULL) receives the last update, owned by the caller. */
typedef int (*folio_client_watch_cb)(const Folio__V1__Job *job, void *ud);
int folio_client_watch(struct folio_client *c, const char *job_id, folio_client_watch_cb cb,
                       void *ud, Folio__V1__Job **final, struct folio_client_error *err);

/* Progress of a download: bytes in the file so far, of total (0 = unknown). */
typedef void (*folio_client_progress_cb)(uint64_t have, uint64_t total, void *ud);

/* How to continue a download into path, given what is already there.
 * Hashes the existing prefix so the finished file can be verified as a
 * whole. */
struct folio_client_resume {
  uint64_t offset;  /* the first byte to request */
  bool complete;    /* path already holds exactly the artifact (size and sha256 match) */
  bool restarted;   /* an unusable file (too long, or full with the wrong sha256) was
                       truncated to 0 */
  unsigned char state[512]; /* the SHA-256 state over bytes [0, offset) (opaque) */
};
/* Opens path (creating it) and plans the resume against the artifact's size
 * and sha256 (expected_sha256_hex may be NULL: then a full-size file is
 * re-fetched). Returns the open fd (O_RDWR, positioned at offset) or -1 with
 * err filled. The caller closes the fd. */
int folio_client_resume_plan(const char *path, uint64_t total, const char *expected_sha256_hex,
                             struct folio_client_resume *plan, struct folio_client_error *err);

/* Fetches artifact `name` of job_id into path via StreamArtifact, resuming
 * what path already holds, verifying the whole file's sha256 against the
 * server's. On a checksum mismatch the file is removed (code DATA_LOSS).
 * progress may be NULL. *resumed_from (may be NULL) receives the offset the
 * transfer started at. */
int folio_client_fetch(struct folio_client *c, const char *job_id, const char *name,
                       const char *path, folio_client_progress_cb progress, void *ud,
                       uint64_t *resumed_from, struct folio_client_error *err);

#ifdef __cplusplus
}
#endif
#endif
