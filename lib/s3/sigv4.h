/* AWS Signature Version 4, as a pure module (no I/O, no clock, no globals).
 *
 * Private to lib/s3 (the S3 client and folio_s3_presign_get build on it) and
 * tested on its own: tests/unit/s3/test_sigv4.c checks it against the AWS SigV4
 * test-suite vectors and tests/unit/s3/sigv4_diff.py against botocore.
 *
 * Inputs are raw (not yet URI-encoded): the canonical form is built here, and
 * every caller that puts the same path/query on the wire must encode it with
 * folio_s3_sigv4_uri_encode() so that what is sent is what is signed.
 * Encoding rules (S3 flavour): RFC 3986 unreserved characters (A-Z a-z 0-9 - . _
 * ~) stay, every other byte becomes %XX (upper-case hex); in the path '/' stays
 * and each segment is encoded exactly once; the path is not normalised ("//",
 * "." and ".." are kept, as S3 requires). Query names and values are encoded
 * with '/' encoded too and sorted by encoded name, then encoded value.
 * Header names are lower-cased, values trimmed with inner whitespace runs
 * collapsed to one space, repeated headers joined with ',' in order.
 *
 * Ownership: strings in the result are malloc'd and freed by
 * folio_s3_sigv4_result_free(); inputs are only borrowed during the call. */
#ifndef FOLIO_S3_SIGV4_H
#define FOLIO_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "folio/str.h"

#define FOLIO_S3_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string. */
#define FOLIO_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct folio_s3_kv {
  const char *name;
  const char *value; /* NULL = "" */
};

struct folio_s3_sigv4_request {
  const char *method; /* "GET", "PUT", ... */
  const char *path;   /* raw absolute path: "/bucket/my key" (not encoded) */
  const struct folio_s3_kv *query; /* raw names/values, any order */
  size_t nquery;
  const struct folio_s3_kv *headers; /* every header to sign; must include host */
  size_t nheaders;
  const char *payload_hash; /* hex SHA-256 of the body or FOLIO_S3_UNSIGNED_PAYLOAD */
};

struct folio_s3_sigv4_creds {
  const char *access_key;
  const char *secret_key;
  const char *region;  /* "us-east-1" */
  const char *service; /* "s3" */
};

struct folio_s3_sigv4_result {
  char *canonical_request;
  char *string_to_sign;
  char *signed_headers; /* "host;x-amz-content-sha256;x-amz-date" */
  char *authorization;  /* value of the Authorization header */
  char signature[65];   /* lower-case hex */
};

/* Appends the encoding of s[0..len) to out: unreserved bytes stay, '/' stays
 * when keep_slash, everything else is %XX. */
void folio_s3_sigv4_uri_encode(struct folio_str *out, const char *s, size_t len,
                               bool keep_slash);

/* "20150830T123600Z" for t (UTC) into buf[17]. */
void folio_s3_sigv4_amz_date(time_t t, char buf[17]);

/* Lower-case hex SHA-256 of data into out[65]. */
void folio_s3_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date8), region), service),
 * "aws4_request"). date8 is "YYYYMMDD". */
void folio_s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                                const char *service, uint8_t out[32]);

/* Header authorization: fills every field of *out. amz_date is the value of the
 * x-amz-date header the request carries (it must be among req->headers for a
 * real request; the signer does not add it). Returns 0, -EINVAL (a NULL field,
 * a malformed amz_date, no host header) or -ENOMEM; on error *out is zeroed. */
int folio_s3_sigv4_sign(const struct folio_s3_sigv4_request *req,
                        const struct folio_s3_sigv4_creds *creds, const char *amz_date,
                        struct folio_s3_sigv4_result *out);

/* Query authorization (presigned URL): signs req with the X-Amz-Algorithm,
 * -Credential, -Date, -Expires, -SignedHeaders parameters added to its query and
 * UNSIGNED-PAYLOAD as payload hash (req->payload_hash is ignored), then returns
 * in *query_out (malloc'd, caller frees) the complete encoded query string
 * (without '?'), X-Amz-Signature last. out (optional) receives canonical
 * request, string to sign and signature for tests. Returns 0, -EINVAL
 * (expires outside 1..604800, NULL fields) or -ENOMEM. */
int folio_s3_sigv4_presign(const struct folio_s3_sigv4_request *req,
                           const struct folio_s3_sigv4_creds *creds, const char *amz_date,
                           long expires_s, char **query_out, struct folio_s3_sigv4_result *out);

void folio_s3_sigv4_result_free(struct folio_s3_sigv4_result *r);

#endif
