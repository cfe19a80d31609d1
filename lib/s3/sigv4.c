/* SigV4 signing (contract and encoding rules in sigv4.h). SHA-256 and
 * HMAC-SHA256 come from libsodium (crypto_hash_sha256, crypto_auth_hmacsha256). */
#include "sigv4.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hexdig[b[i] >> 4];
    out[2 * i + 1] = hexdig[b[i] & 15];
  }
  out[2 * n] = '\0';
}

static bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

void folio_s3_sigv4_uri_encode(struct folio_str *out, const char *s, size_t len,
                               bool keep_slash) {
  static const char up[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) || (keep_slash && c == '/')) {
      folio_str_putc(out, (char)c);
    } else {
      char e[3] = {'%', up[c >> 4], up[c & 15]};
      folio_str_append(out, e, 3);
    }
  }
}

void folio_s3_sigv4_amz_date(time_t t, char buf[17]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void folio_s3_sigv4_sha256_hex(const void *data, size_t len, char out[65]) {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, data, len);
  to_hex(h, sizeof h, out);
}

static void hmac(const uint8_t *key, size_t keylen, const char *msg, size_t msglen,
                 uint8_t out[32]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, keylen);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, msglen);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

void folio_s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                                const char *service, uint8_t out[32]) {
  /* The first key is "AWS4" + secret. HMAC-SHA256 replaces a key longer
   * than its 64-byte block by the key's SHA-256 (RFC 2104), so a long secret
   * is hashed here, streaming: no copy on the heap, nothing to fail. */
  size_t slen = strlen(secret);
  uint8_t k[64], a[32], b[32];
  size_t klen;
  if (4 + slen <= sizeof k) {
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    klen = 4 + slen;
  } else {
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"AWS4", 4);
    crypto_hash_sha256_update(&h, (const unsigned char *)secret, slen);
    crypto_hash_sha256_final(&h, k);
    sodium_memzero(&h, sizeof h);
    klen = 32;
  }
  hmac(k, klen, date8, 8, a);
  sodium_memzero(k, sizeof k);
  hmac(a, 32, region, strlen(region), b);
  hmac(b, 32, service, strlen(service), a);
  hmac(a, 32, "aws4_request", 12, out);
  sodium_memzero(a, sizeof a);
  sodium_memzero(b, sizeof b);
}

/* ---- canonical request ---- */

struct enc_pair {
  char *name, *value; /* encoded, malloc'd */
};

static int cmp_pair(const void *a, const void *b) {
  const struct enc_pair *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

struct hdr {
  char *name; /* lower-cased, malloc'd */
  const char *value;
  size_t order;
};

static int cmp_hdr(const void *a, const void *b) {
  const struct hdr *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c) return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Trimall: strip both ends, collapse inner whitespace runs to one space. */
static void put_trimmed(struct folio_str *s, const char *v) {
  bool pending_space = false, any = false;
  for (; *v; v++) {
    if (is_ws(*v)) {
      pending_space = any;
      continue;
    }
    if (pending_space) folio_str_putc(s, ' ');
    pending_space = false;
    any = true;
    folio_str_putc(s, *v);
  }
}

static int canonical_query(const struct folio_s3_kv *q, size_t n, struct folio_str *out) {
  if (n == 0) return 0;
  struct enc_pair *pairs = calloc(n, sizeof *pairs);
  if (!pairs) return -ENOMEM;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct folio_str a = {0}, b = {0};
    const char *v = q[i].value ? q[i].value : "";
    folio_s3_sigv4_uri_encode(&a, q[i].name, strlen(q[i].name), false);
    folio_s3_sigv4_uri_encode(&b, v, strlen(v), false);
    pairs[i].name = folio_str_take(&a);
    pairs[i].value = folio_str_take(&b);
    if (!pairs[i].name || !pairs[i].value) rc = -ENOMEM;
  }
  if (rc == 0) {
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (size_t i = 0; i < n; i++) {
      if (i) folio_str_putc(out, '&');
      folio_str_puts(out, pairs[i].name);
      folio_str_putc(out, '=');
      folio_str_puts(out, pairs[i].value);
    }
  }
  for (size_t i = 0; i < n; i++) {
    free(pairs[i].name);
    free(pairs[i].value);
  }
  free(pairs);
  return rc;
}

/* Appends canonical headers ("name:value\n"...) to creq and the signed header
 * list to signed_out. */
static int canonical_headers(const struct folio_s3_kv *h, size_t n, struct folio_str *creq,
                             struct folio_str *signed_out, bool *has_host) {
  struct hdr *hs = calloc(n ? n : 1, sizeof *hs);
  if (!hs) return -ENOMEM;
  int rc = 0;
  *has_host = false;
  for (size_t i = 0; i < n; i++) {
    if (!h[i].name || !h[i].name[0]) {
      rc = -EINVAL;
      break;
    }
    size_t len = strlen(h[i].name);
    hs[i].name = malloc(len + 1);
    if (!hs[i].name) {
      rc = -ENOMEM;
      break;
    }
    for (size_t j = 0; j <= len; j++) {
      char c = h[i].name[j];
      hs[i].name[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    hs[i].value = h[i].value ? h[i].value : "";
    hs[i].order = i;
    if (strcmp(hs[i].name, "host") == 0) *has_host = true;
  }
  if (rc == 0) {
    qsort(hs, n, sizeof *hs, cmp_hdr);
    for (size_t i = 0; i < n; i++) {
      bool first = i == 0 || strcmp(hs[i - 1].name, hs[i].name) != 0;
      if (first) {
        if (i) {
          folio_str_putc(creq, '\n');
          folio_str_putc(signed_out, ';');
        }
        folio_str_puts(creq, hs[i].name);
        folio_str_putc(creq, ':');
        folio_str_puts(signed_out, hs[i].name);
      } else {
        folio_str_putc(creq, ',');
      }
      put_trimmed(creq, hs[i].value);
    }
    folio_str_putc(creq, '\n');
  }
  for (size_t i = 0; i < n; i++) free(hs[i].name);
  free(hs);
  return rc;
}

static bool valid_amz_date(const char *d) {
  if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') return false;
  for (int i = 0; i < 15; i++)
    if (i != 8 && (d[i] < '0' || d[i] > '9')) return false;
  return true;
}

void folio_s3_sigv4_result_free(struct folio_s3_sigv4_result *r) {
  if (!r) return;
  free(r->canonical_request);
  free(r->string_to_sign);
  free(r->signed_headers);
  free(r->authorization);
  memset(r, 0, sizeof *r);
}

/* The shared core: canonical request → string to sign → signature. */
static int sign_core(const struct folio_s3_sigv4_request *req,
                     const struct folio_s3_sigv4_creds *c, const char *amz_date,
                     const char *payload_hash, struct folio_s3_sigv4_result *out) {
  memset(out, 0, sizeof *out);
  if (!req->method || !req->path || req->path[0] != '/' || !payload_hash || !c->access_key ||
      !c->secret_key || !c->region || !c->service || !valid_amz_date(amz_date))
    return -EINVAL;
  struct folio_str creq = {0}, sh = {0}, sts = {0};
  int rc = 0;
  bool has_host = false;
  folio_str_puts(&creq, req->method);
  folio_str_putc(&creq, '\n');
  folio_s3_sigv4_uri_encode(&creq, req->path, strlen(req->path), true);
  folio_str_putc(&creq, '\n');
  rc = canonical_query(req->query, req->nquery, &creq);
  if (rc == 0) {
    folio_str_putc(&creq, '\n');
    rc = canonical_headers(req->headers, req->nheaders, &creq, &sh, &has_host);
  }
  if (rc == 0 && !has_host) rc = -EINVAL;
  if (rc == 0) {
    folio_str_putc(&creq, '\n');
    folio_str_puts(&creq, sh.p ? sh.p : "");
    folio_str_putc(&creq, '\n');
    folio_str_puts(&creq, payload_hash);
    if (!folio_str_ok(&creq) || !folio_str_ok(&sh)) rc = -ENOMEM;
  }
  if (rc == 0) {
    char h[65];
    folio_s3_sigv4_sha256_hex(creq.p, creq.len, h);
    folio_str_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date,
                        amz_date, c->region, c->service, h);
    if (!folio_str_ok(&sts)) rc = -ENOMEM;
  }
  if (rc == 0) {
    uint8_t key[32], sig[32];
    folio_s3_sigv4_signing_key(c->secret_key, amz_date, c->region, c->service, key);
    hmac(key, 32, sts.p, sts.len, sig);
    sodium_memzero(key, sizeof key);
    to_hex(sig, 32, out->signature);
    out->canonical_request = folio_str_take(&creq);
    out->string_to_sign = folio_str_take(&sts);
    out->signed_headers = folio_str_take(&sh);
    return 0;
  }
  folio_str_free(&creq);
  folio_str_free(&sh);
  folio_str_free(&sts);
  return rc;
}

int folio_s3_sigv4_sign(const struct folio_s3_sigv4_request *req,
                        const struct folio_s3_sigv4_creds *c, const char *amz_date,
                        struct folio_s3_sigv4_result *out) {
  int rc = sign_core(req, c, amz_date, req->payload_hash, out);
  if (rc) return rc;
  struct folio_str a = {0};
  folio_str_printf(&a,
                      "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
                      "SignedHeaders=%s, Signature=%s",
                      c->access_key, amz_date, c->region, c->service, out->signed_headers,
                      out->signature);
  out->authorization = folio_str_take(&a);
  if (!out->authorization) {
    folio_s3_sigv4_result_free(out);
    return -ENOMEM;
  }
  return 0;
}

int folio_s3_sigv4_presign(const struct folio_s3_sigv4_request *req,
                           const struct folio_s3_sigv4_creds *c, const char *amz_date,
                           long expires_s, char **query_out, struct folio_s3_sigv4_result *out) {
  *query_out = NULL;
  if (expires_s < 1 || expires_s > 604800 || !c->access_key || !c->region || !c->service ||
      !valid_amz_date(amz_date) || (req->nquery && !req->query))
    return -EINVAL;
  /* The signed-header list is the lower-cased, sorted, de-duplicated names. */
  struct folio_s3_sigv4_result probe;
  struct folio_s3_sigv4_request r0 = *req;
  r0.nquery = 0;
  int rc = sign_core(&r0, c, amz_date, FOLIO_S3_UNSIGNED_PAYLOAD, &probe);
  if (rc) return rc;
  size_t n = req->nquery + 5;
  struct folio_s3_kv *q = calloc(n, sizeof *q);
  struct folio_str cred = {0}, exp = {0};
  folio_str_printf(&cred, "%s/%.8s/%s/%s/aws4_request", c->access_key, amz_date, c->region,
                      c->service);
  folio_str_printf(&exp, "%ld", expires_s);
  struct folio_s3_sigv4_result res;
  memset(&res, 0, sizeof res);
  if (!q || !folio_str_ok(&cred) || !folio_str_ok(&exp)) {
    rc = -ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < req->nquery; i++) q[i] = req->query[i];
  q[req->nquery + 0] = (struct folio_s3_kv){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
  q[req->nquery + 1] = (struct folio_s3_kv){"X-Amz-Credential", cred.p};
  q[req->nquery + 2] = (struct folio_s3_kv){"X-Amz-Date", amz_date};
  q[req->nquery + 3] = (struct folio_s3_kv){"X-Amz-Expires", exp.p};
  q[req->nquery + 4] = (struct folio_s3_kv){"X-Amz-SignedHeaders", probe.signed_headers};
  struct folio_s3_sigv4_request r1 = *req;
  r1.query = q;
  r1.nquery = n;
  rc = sign_core(&r1, c, amz_date, FOLIO_S3_UNSIGNED_PAYLOAD, &res);
  if (rc) goto done;
  /* The wire query: the canonical query string (already encoded and sorted,
   * which is a valid order to send) plus the signature. */
  {
    const char *cq = res.canonical_request;
    cq = strchr(cq, '\n') + 1; /* skip method */
    cq = strchr(cq, '\n') + 1; /* skip path */
    const char *end = strchr(cq, '\n');
    struct folio_str qs = {0};
    folio_str_append(&qs, cq, (size_t)(end - cq));
    folio_str_printf(&qs, "&X-Amz-Signature=%s", res.signature);
    *query_out = folio_str_take(&qs);
    if (!*query_out) rc = -ENOMEM;
  }
done:
  folio_s3_sigv4_result_free(&probe);
  folio_str_free(&cred);
  folio_str_free(&exp);
  free(q);
  if (rc == 0 && out)
    *out = res;
  else
    folio_s3_sigv4_result_free(&res);
  return rc;
}
