/* folio-server's configuration: FOLIO_* environment first, command-line flags
 * override (docs/operations.md lists every knob). */
#ifndef FOLIO_SERVER_CONFIG_H
#define FOLIO_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/layout.h"
#include "folio/log.h"

struct folio_server_config {
  const char *listen;          /* borrowed from environ/argv */
  const char *tls_cert_path;   /* NULL = insecure */
  const char *tls_key_path;
  const char *tls_client_ca_path;
  enum folio_log_level log_level;
  int cq_threads;              /* 0 = one per online CPU */
  int64_t max_recv_bytes;
  int64_t max_send_bytes;
  int64_t shutdown_grace_ms;
  bool help, version;
  /* Backends (server/backend.c); NULL = not configured. */
  const char *database_url;
  const char *redis_url;
  const char *apikey_pepper;   /* 16..64 bytes keying the stored API-key hashes */
  const char *s3_endpoint, *s3_public_endpoint, *s3_region, *s3_bucket;
  const char *s3_access_key, *s3_secret_key, *s3_addressing;
  int decode_threads;          /* 0 = CPUs available (folio_cpus_available) */
  int64_t decode_queue;        /* queued decodes before RESOURCE_EXHAUSTED */
  int db_connections;          /* async PostgreSQL connections; 0 = CPUs, at most 16 */
  struct folio_layout_limits layout_limits; /* FOLIO_LAYOUT_* (environment only) */
};

/* Fills cfg from env (getenv) then argv. Strings in cfg point into argv or
 * the environment. On a bad value returns -1 and writes one line naming the
 * variable/flag, the value and what is allowed into err. */
int folio_server_config_load(struct folio_server_config *cfg, int argc, char **argv, char *err,
                             size_t errcap);
/* Prints the usage text (every flag and variable with its default). */
void folio_server_config_usage(FILE *out);

#endif
