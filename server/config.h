/* folio-server's configuration: FOLIO_* environment first, command-line flags
 * override (docs/operations.md lists every knob). */
#ifndef FOLIO_SERVER_CONFIG_H
#define FOLIO_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/layout.h"
#include "folio/log.h"

/* The HTTP/2 connection policy's defaults (docs/security.md, "Streams and
 * connections"). */
#define FOLIO_KEEPALIVE_TIME_MS_DEFAULT 60000
#define FOLIO_KEEPALIVE_TIMEOUT_MS_DEFAULT 20000
#define FOLIO_MAX_CONNECTION_IDLE_MS_DEFAULT 300000
#define FOLIO_MAX_CONNECTION_AGE_MS_DEFAULT 1800000
#define FOLIO_MAX_CONNECTION_AGE_GRACE_MS_DEFAULT 300000
#define FOLIO_MAX_CONCURRENT_STREAMS_DEFAULT 100
#define FOLIO_MIN_PING_INTERVAL_MS_DEFAULT 10000
#define FOLIO_MAX_PING_STRIKES_DEFAULT 2

struct srv_config {
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
  /* StreamArtifact (server/layout_service.h has the defaults) */
  int64_t stream_stall_ms, stream_idle_ms;
  int streams_per_tenant;
  /* HTTP/2 connection policy (cgrpc_server_config; 0 = gRPC's default) */
  int64_t keepalive_time_ms, keepalive_timeout_ms;
  int64_t max_connection_idle_ms, max_connection_age_ms, max_connection_age_grace_ms;
  int max_concurrent_streams;
  int64_t min_ping_interval_ms;
  int max_ping_strikes;
  struct folio_layout_limits layout_limits; /* FOLIO_LAYOUT_* (environment only) */
};

/* Fills cfg from env (getenv) then argv. Strings in cfg point into argv or
 * the environment. On a bad value returns -1 and writes one line naming the
 * variable/flag, the value and what is allowed into err. */
int srv_config_load(struct srv_config *cfg, int argc, char **argv, char *err,
                             size_t errcap);
/* Prints the usage text (every flag and variable with its default). */
void srv_config_usage(FILE *out);

#endif
