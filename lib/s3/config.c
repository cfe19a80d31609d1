/* Configuration, addressing and presigned URLs: everything of lib/s3 that does
 * no I/O. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

void folio_s3_set_err(char *err, size_t errcap, const char *fmt, ...) {
  if (!err || !errcap) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errcap, fmt, ap);
  va_end(ap);
}

const char *folio_s3_strerror(int code) {
  switch (code) {
  case FOLIO_S3_OK: return "OK";
  case FOLIO_S3_EINVAL: return "EINVAL";
  case FOLIO_S3_ENOMEM: return "ENOMEM";
  case FOLIO_S3_EHTTP: return "EHTTP";
  case FOLIO_S3_ETRANSPORT: return "ETRANSPORT";
  case FOLIO_S3_ECANCELED: return "ECANCELED";
  case FOLIO_S3_EABORTED: return "EABORTED";
  case FOLIO_S3_EPROTOCOL: return "EPROTOCOL";
  default: return "unknown";
  }
}

int folio_s3_endpoint_parse(const char *url, struct folio_s3_endpoint *ep, char *err,
                            size_t errcap) {
  memset(ep, 0, sizeof *ep);
  if (!url || !*url) {
    folio_s3_set_err(err, errcap, "S3 endpoint is empty");
    return FOLIO_S3_EINVAL;
  }
  const char *rest;
  if (strncmp(url, "http://", 7) == 0) {
    strcpy(ep->scheme, "http");
    rest = url + 7;
  } else if (strncmp(url, "https://", 8) == 0) {
    strcpy(ep->scheme, "https");
    rest = url + 8;
  } else {
    folio_s3_set_err(err, errcap, "S3 endpoint \"%s\": must start with http:// or https://", url);
    return FOLIO_S3_EINVAL;
  }
  size_t n = strcspn(rest, "/?#");
  if (n == 0 || n >= sizeof ep->hostport) {
    folio_s3_set_err(err, errcap, "S3 endpoint \"%s\": missing or too long host", url);
    return FOLIO_S3_EINVAL;
  }
  if (rest[n] && strcmp(rest + n, "/") != 0) {
    folio_s3_set_err(err, errcap,
                     "S3 endpoint \"%s\": must be scheme://host[:port] without a path", url);
    return FOLIO_S3_EINVAL;
  }
  for (size_t i = 0; i < n; i++) {
    char c = rest[i];
    if (c == '@' || c == ' ' || (unsigned char)c < 0x21 || (unsigned char)c > 0x7e) {
      folio_s3_set_err(err, errcap, "S3 endpoint \"%s\": invalid character in host", url);
      return FOLIO_S3_EINVAL;
    }
  }
  memcpy(ep->hostport, rest, n);
  return 0;
}

/* Bucket names per the S3 rules that matter for URLs: 3..63 of [a-z0-9.-]. */
static bool valid_bucket(const char *b) {
  size_t n = strlen(b);
  if (n < 3 || n > 63) return false;
  for (size_t i = 0; i < n; i++)
    if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
          b[i] == '.'))
      return false;
  return true;
}

int folio_s3_config_check(const struct folio_s3_config *cfg, char *err, size_t errcap) {
  struct folio_s3_endpoint ep;
  if (folio_s3_endpoint_parse(cfg->endpoint, &ep, err, errcap)) return FOLIO_S3_EINVAL;
  if (cfg->public_endpoint && *cfg->public_endpoint &&
      folio_s3_endpoint_parse(cfg->public_endpoint, &ep, err, errcap))
    return FOLIO_S3_EINVAL;
  if (!cfg->bucket || !valid_bucket(cfg->bucket)) {
    folio_s3_set_err(err, errcap, "S3 bucket \"%s\": must be 3-63 characters of a-z 0-9 . -",
                     cfg->bucket ? cfg->bucket : "");
    return FOLIO_S3_EINVAL;
  }
  if (!cfg->access_key || !*cfg->access_key || !cfg->secret_key || !*cfg->secret_key) {
    folio_s3_set_err(err, errcap, "S3 access key and secret key are required");
    return FOLIO_S3_EINVAL;
  }
  if (cfg->addressing != FOLIO_S3_PATH_STYLE && cfg->addressing != FOLIO_S3_VIRTUAL_HOSTED) {
    folio_s3_set_err(err, errcap, "S3 addressing style %d is unknown", (int)cfg->addressing);
    return FOLIO_S3_EINVAL;
  }
  if (cfg->addressing == FOLIO_S3_VIRTUAL_HOSTED && strchr(cfg->bucket, '.') &&
      strcmp(ep.scheme, "https") == 0) {
    folio_s3_set_err(err, errcap,
                     "S3 bucket \"%s\" contains '.', which breaks TLS with virtual-hosted "
                     "addressing: use path style",
                     cfg->bucket);
    return FOLIO_S3_EINVAL;
  }
  if (cfg->part_size && cfg->part_size < 5u * 1024 * 1024) {
    folio_s3_set_err(err, errcap, "S3 part size %zu is below the S3 minimum of 5 MiB",
                     cfg->part_size);
    return FOLIO_S3_EINVAL;
  }
  return 0;
}

static const char *env_or(const char *name, const char *dflt) {
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

int folio_s3_config_from_env(struct folio_s3_config *cfg, char *err, size_t errcap) {
  memset(cfg, 0, sizeof *cfg);
  cfg->endpoint = env_or("FOLIO_S3_ENDPOINT", NULL);
  cfg->public_endpoint = env_or("FOLIO_S3_PUBLIC_ENDPOINT", NULL);
  cfg->region = env_or("FOLIO_S3_REGION", "us-east-1");
  cfg->bucket = env_or("FOLIO_S3_BUCKET", NULL);
  cfg->access_key = env_or("FOLIO_S3_ACCESS_KEY", NULL);
  cfg->secret_key = env_or("FOLIO_S3_SECRET_KEY", NULL);
  const char *style = env_or("FOLIO_S3_ADDRESSING", "path");
  static const char *const required[] = {"FOLIO_S3_ENDPOINT", "FOLIO_S3_BUCKET",
                                         "FOLIO_S3_ACCESS_KEY", "FOLIO_S3_SECRET_KEY"};
  for (size_t i = 0; i < 4; i++)
    if (!env_or(required[i], NULL)) {
      folio_s3_set_err(err, errcap, "%s is not set", required[i]);
      return FOLIO_S3_EINVAL;
    }
  if (strcmp(style, "path") == 0) {
    cfg->addressing = FOLIO_S3_PATH_STYLE;
  } else if (strcmp(style, "virtual") == 0) {
    cfg->addressing = FOLIO_S3_VIRTUAL_HOSTED;
  } else {
    folio_s3_set_err(err, errcap, "FOLIO_S3_ADDRESSING=\"%s\": expected \"path\" or \"virtual\"",
                     style);
    return FOLIO_S3_EINVAL;
  }
  if (folio_s3_config_check(cfg, err, errcap)) return FOLIO_S3_EINVAL;
  return 0;
}

void folio_s3_target(const struct folio_s3_config *cfg, const struct folio_s3_endpoint *ep,
                     const char *key, struct folio_str *host, struct folio_str *path) {
  if (cfg->addressing == FOLIO_S3_VIRTUAL_HOSTED) {
    folio_str_printf(host, "%s.%s", cfg->bucket, ep->hostport);
    folio_str_printf(path, "/%s", key ? key : "");
  } else {
    folio_str_puts(host, ep->hostport);
    if (key)
      folio_str_printf(path, "/%s/%s", cfg->bucket, key);
    else
      folio_str_printf(path, "/%s", cfg->bucket);
  }
}

char *folio_s3_presign_get(const struct folio_s3_config *cfg, const char *key, long ttl_s,
                           const char *response_content_disposition, time_t now, char *err,
                           size_t errcap) {
  if (folio_s3_config_check(cfg, err, errcap)) return NULL;
  if (!key || !*key) {
    folio_s3_set_err(err, errcap, "presign: empty object key");
    return NULL;
  }
  if (ttl_s < 1 || ttl_s > 604800) {
    folio_s3_set_err(err, errcap, "presign: ttl %ld s outside 1..604800 (7 days)", ttl_s);
    return NULL;
  }
  struct folio_s3_endpoint ep;
  const char *base =
      cfg->public_endpoint && *cfg->public_endpoint ? cfg->public_endpoint : cfg->endpoint;
  if (folio_s3_endpoint_parse(base, &ep, err, errcap)) return NULL;
  struct folio_str host = {0}, path = {0}, url = {0};
  folio_s3_target(cfg, &ep, key, &host, &path);
  if (!folio_str_ok(&host) || !folio_str_ok(&path)) {
    folio_str_free(&host);
    folio_str_free(&path);
    folio_s3_set_err(err, errcap, "presign: out of memory");
    return NULL;
  }
  struct folio_s3_kv hdr = {"host", host.p};
  struct folio_s3_kv q = {"response-content-disposition", response_content_disposition};
  struct folio_s3_sigv4_request req = {"GET", path.p, &q, response_content_disposition ? 1 : 0,
                                       &hdr, 1, NULL};
  struct folio_s3_sigv4_creds creds = {cfg->access_key, cfg->secret_key,
                                       cfg->region && *cfg->region ? cfg->region : "us-east-1",
                                       "s3"};
  char date[17];
  folio_s3_sigv4_amz_date(now, date);
  char *query = NULL;
  int rc = folio_s3_sigv4_presign(&req, &creds, date, ttl_s, &query, NULL);
  if (rc == 0) {
    folio_str_printf(&url, "%s://%s", ep.scheme, host.p);
    folio_s3_sigv4_uri_encode(&url, path.p, path.len, true);
    folio_str_printf(&url, "?%s", query);
  }
  free(query);
  folio_str_free(&host);
  folio_str_free(&path);
  char *out = rc == 0 ? folio_str_take(&url) : NULL;
  if (!out) {
    folio_str_free(&url);
    folio_s3_set_err(err, errcap, "presign: %s", rc == -EINVAL ? "invalid input" : "out of memory");
  }
  return out;
}
