/* Parsing of folio-server's settings. One table describes every knob: its
 * flag, its variable, its default and how to parse it, so --help, the
 * environment and the flags cannot drift apart. */
#include "config.h"

#include "layout_service.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STRING, K_LEVEL, K_THREADS, K_BYTES, K_MS, K_COUNT };

struct knob {
  const char *flag; /* without the leading -- */
  const char *env;
  enum kind kind;
  const char *def;  /* shown in --help */
  const char *help;
};

static const struct knob knobs[] = {
    {"listen", "FOLIO_LISTEN", K_STRING, "127.0.0.1:50051",
     "host:port to serve gRPC on (port 0 picks a free port)"},
    {"tls-cert", "FOLIO_TLS_CERT", K_STRING, "(none: plaintext)",
     "PEM certificate chain file; with --tls-key enables TLS"},
    {"tls-key", "FOLIO_TLS_KEY", K_STRING, "(none)", "PEM private key file"},
    {"tls-client-ca", "FOLIO_TLS_CLIENT_CA", K_STRING, "(none)",
     "PEM CA file; when set, clients must present a certificate it signed (mTLS)"},
    {"log-level", "FOLIO_LOG_LEVEL", K_LEVEL, "info", "debug | info | warn | error"},
    {"cq-threads", "FOLIO_CQ_THREADS", K_THREADS, "CPUs available to the process - 1 (min 1)",
     "completion-queue threads, 1..256"},
    {"max-recv-bytes", "FOLIO_MAX_RECV_BYTES", K_BYTES, "64MiB",
     "largest request message accepted (bytes, or with KiB/MiB/GiB), up to 2GiB-1"},
    {"max-send-bytes", "FOLIO_MAX_SEND_BYTES", K_BYTES, "64MiB",
     "largest response message sent (bytes, or with KiB/MiB/GiB), up to 2GiB-1"},
    {"shutdown-grace-ms", "FOLIO_SHUTDOWN_GRACE_MS", K_MS, "10000",
     "on SIGTERM/SIGINT, how long in-flight calls may run before they are cancelled"},
    {"database-url", "FOLIO_DATABASE_URL", K_STRING, "(none: job RPCs unavailable)",
     "PostgreSQL connection string or URI (the job store)"},
    {"redis-url", "FOLIO_REDIS_URL", K_STRING, "(none: no dispatch, WatchJob polls)",
     "redis://[[user]:password@]host[:port][/db] or unix:///path (dispatch, job events)"},
    {"api-key-pepper", "FOLIO_API_KEY_PEPPER", K_STRING, "(none; required with a database)",
     "16..64 byte secret keying API-key hashes; every server and `apikey create` must share it"},
    {"s3-endpoint", "FOLIO_S3_ENDPOINT", K_STRING, "(none: artifact RPCs unavailable)",
     "S3 endpoint URL the server reads artifacts from"},
    {"s3-public-endpoint", "FOLIO_S3_PUBLIC_ENDPOINT", K_STRING, "the S3 endpoint",
     "S3 endpoint URL put into signed URLs handed to clients"},
    {"s3-region", "FOLIO_S3_REGION", K_STRING, "us-east-1", "S3 region (SigV4 scope)"},
    {"s3-bucket", "FOLIO_S3_BUCKET", K_STRING, "(none)", "artifact bucket (created if missing)"},
    {"s3-access-key", "FOLIO_S3_ACCESS_KEY", K_STRING, "(none)", "S3 access key id"},
    {"s3-secret-key", "FOLIO_S3_SECRET_KEY", K_STRING, "(none)", "S3 secret key (never logged)"},
    {"s3-addressing", "FOLIO_S3_ADDRESSING", K_STRING, "path", "path | virtual"},
    {"decode-threads", "FOLIO_DECODE_THREADS", K_THREADS, "CPUs available to the process",
     "threads decoding layouts and verifying API keys, 1..256"},
    {"db-connections", "FOLIO_DB_CONNECTIONS", K_THREADS, "CPUs available to the process (at most 16)",
     "non-blocking PostgreSQL connections the I/O loop spreads job statements over, 1..16"},
    {"decode-queue", "FOLIO_DECODE_QUEUE", K_COUNT, "256",
     "decodes waiting for a thread before SubmitLayout answers RESOURCE_EXHAUSTED, 1..1000000"},
    {"stream-stall-ms", "FOLIO_STREAM_STALL_MS", K_MS, "2000",
     "a StreamArtifact client that takes nothing this long gives up its S3 connection "
     "(resumed by range when it reads again); 0 = default"},
    {"stream-idle-ms", "FOLIO_STREAM_IDLE_MS", K_MS, "60000",
     "a StreamArtifact chunk the client does not take for this long ends the stream (ABORTED); "
     "0 = default"},
    {"streams-per-tenant", "FOLIO_STREAMS_PER_TENANT", K_COUNT, "8",
     "concurrent StreamArtifact calls per tenant on this server; more get RESOURCE_EXHAUSTED"},
    {"keepalive-time-ms", "FOLIO_KEEPALIVE_TIME_MS", K_MS, "60000",
     "ping a connection after this long without activity; 0 = gRPC's default (2 h)"},
    {"keepalive-timeout-ms", "FOLIO_KEEPALIVE_TIMEOUT_MS", K_MS, "20000",
     "close a connection whose ping is not answered within this (a half-open peer)"},
    {"max-connection-idle-ms", "FOLIO_MAX_CONNECTION_IDLE_MS", K_MS, "300000",
     "close (GOAWAY) a connection that has had no call for this long; 0 = never"},
    {"max-connection-age-ms", "FOLIO_MAX_CONNECTION_AGE_MS", K_MS, "1800000",
     "close (GOAWAY) any connection this old (±10% jitter), so clients rebalance; 0 = never"},
    {"max-connection-age-grace-ms", "FOLIO_MAX_CONNECTION_AGE_GRACE_MS", K_MS, "300000",
     "after max-connection-age, how long its calls may still run; 0 = unlimited"},
    {"max-concurrent-streams", "FOLIO_MAX_CONCURRENT_STREAMS", K_COUNT, "100",
     "calls one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)"},
    {"min-ping-interval-ms", "FOLIO_MIN_PING_INTERVAL_MS", K_MS, "10000",
     "a client ping sooner than this after the previous one, with no data sent, is a strike"},
    {"max-ping-strikes", "FOLIO_MAX_PING_STRIKES", K_COUNT, "2",
     "strikes before the connection is closed (GOAWAY too_many_pings)"},
};
enum { N_KNOBS = sizeof knobs / sizeof knobs[0] };

/* Secrets are read from the environment only: a command line shows in ps(1). */
static bool env_only(const struct knob *k) {
  return strcmp(k->flag, "api-key-pepper") == 0 || strcmp(k->flag, "s3-secret-key") == 0;
}

void srv_config_usage(FILE *out) {
  fprintf(out,
          "usage: folio-server [--flag=value | --flag value]...\n"
          "Serves folio.v1.LayoutService and grpc.health.v1.Health over gRPC.\n"
          "Every flag has an environment variable; flags override the environment.\n\n");
  for (size_t i = 0; i < N_KNOBS; i++) {
    char flag[40];
    snprintf(flag, sizeof flag, env_only(&knobs[i]) ? "(env only)" : "--%s", knobs[i].flag);
    fprintf(out, "  %-20s %-24s %s\n  %-44s default: %s\n", flag, knobs[i].env, knobs[i].help, "",
            knobs[i].def);
  }
  fprintf(out, "  --%-18s %-24s %s\n", "help", "", "print this text and exit");
  fprintf(out, "  --%-18s %-24s %s\n", "version", "", "print the version and exit");
}

/* Parses a decimal integer with an optional binary unit suffix. */
static int parse_bytes(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-' || *s == '+') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  unsigned long long mul = 1;
  if (*end) {
    if (strcmp(end, "KiB") == 0) mul = 1ull << 10;
    else if (strcmp(end, "MiB") == 0) mul = 1ull << 20;
    else if (strcmp(end, "GiB") == 0) mul = 1ull << 30;
    else return -1;
  }
  if (v > (unsigned long long)INT_MAX / mul) return -1;
  v *= mul;
  if (v == 0) return -1;
  *out = (int64_t)v;
  return 0;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  if (!*s) return -1;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* Applies one setting; source names where it came from (for the message). */
static int apply(struct srv_config *cfg, const struct knob *k, const char *val,
                 const char *source, char *err, size_t errcap) {
  int64_t v = 0;
  const char *want = NULL;
  switch (k->kind) {
    case K_STRING:
      if (!*val) want = "a non-empty value";
      break;
    case K_LEVEL:
      if (folio_log_parse_level(val, &cfg->log_level) != 0) want = "debug, info, warn or error";
      break;
    case K_THREADS:
      if (parse_int(val, 1, 256, &v) != 0) want = "an integer from 1 to 256";
      break;
    case K_BYTES:
      if (parse_bytes(val, &v) != 0)
        want = "a byte count from 1 to 2147483647, optionally with KiB, MiB or GiB";
      break;
    case K_MS:
      if (parse_int(val, 0, 3600000, &v) != 0) want = "milliseconds from 0 to 3600000";
      break;
    case K_COUNT:
      if (parse_int(val, 1, 1000000, &v) != 0) want = "an integer from 1 to 1000000";
      break;
  }
  if (want) {
    snprintf(err, errcap, "%s: invalid value \"%s\": expected %s", source, val, want);
    return -1;
  }
  const char *f = k->flag;
  if (strcmp(f, "listen") == 0) cfg->listen = val;
  else if (strcmp(f, "tls-cert") == 0) cfg->tls_cert_path = val;
  else if (strcmp(f, "tls-key") == 0) cfg->tls_key_path = val;
  else if (strcmp(f, "tls-client-ca") == 0) cfg->tls_client_ca_path = val;
  else if (strcmp(f, "max-recv-bytes") == 0) cfg->max_recv_bytes = v;
  else if (strcmp(f, "max-send-bytes") == 0) cfg->max_send_bytes = v;
  else if (strcmp(f, "shutdown-grace-ms") == 0) cfg->shutdown_grace_ms = v;
  else if (strcmp(f, "cq-threads") == 0) cfg->cq_threads = (int)v;
  else if (strcmp(f, "decode-threads") == 0) cfg->decode_threads = (int)v;
  else if (strcmp(f, "decode-queue") == 0) cfg->decode_queue = v;
  else if (strcmp(f, "db-connections") == 0) {
    if (v > 16) {
      snprintf(err, errcap, "%s: invalid value \"%s\": expected an integer from 1 to 16", source, val);
      return -1;
    }
    cfg->db_connections = (int)v;
  }
  else if (strcmp(f, "stream-stall-ms") == 0) cfg->stream_stall_ms = v;
  else if (strcmp(f, "stream-idle-ms") == 0) cfg->stream_idle_ms = v;
  else if (strcmp(f, "streams-per-tenant") == 0) cfg->streams_per_tenant = (int)v;
  else if (strcmp(f, "keepalive-time-ms") == 0) cfg->keepalive_time_ms = v;
  else if (strcmp(f, "keepalive-timeout-ms") == 0) cfg->keepalive_timeout_ms = v;
  else if (strcmp(f, "max-connection-idle-ms") == 0) cfg->max_connection_idle_ms = v;
  else if (strcmp(f, "max-connection-age-ms") == 0) cfg->max_connection_age_ms = v;
  else if (strcmp(f, "max-connection-age-grace-ms") == 0) cfg->max_connection_age_grace_ms = v;
  else if (strcmp(f, "max-concurrent-streams") == 0) cfg->max_concurrent_streams = (int)v;
  else if (strcmp(f, "min-ping-interval-ms") == 0) cfg->min_ping_interval_ms = v;
  else if (strcmp(f, "max-ping-strikes") == 0) cfg->max_ping_strikes = (int)v;
  else if (strcmp(f, "database-url") == 0) cfg->database_url = val;
  else if (strcmp(f, "redis-url") == 0) cfg->redis_url = val;
  else if (strcmp(f, "api-key-pepper") == 0) cfg->apikey_pepper = val;
  else if (strcmp(f, "s3-endpoint") == 0) cfg->s3_endpoint = val;
  else if (strcmp(f, "s3-public-endpoint") == 0) cfg->s3_public_endpoint = val;
  else if (strcmp(f, "s3-region") == 0) cfg->s3_region = val;
  else if (strcmp(f, "s3-bucket") == 0) cfg->s3_bucket = val;
  else if (strcmp(f, "s3-access-key") == 0) cfg->s3_access_key = val;
  else if (strcmp(f, "s3-secret-key") == 0) cfg->s3_secret_key = val;
  else if (strcmp(f, "s3-addressing") == 0) cfg->s3_addressing = val;
  return 0;
}

int srv_config_load(struct srv_config *cfg, int argc, char **argv, char *err,
                             size_t errcap) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen = "127.0.0.1:50051";
  cfg->log_level = FOLIO_LOG_INFO;
  cfg->max_recv_bytes = 64 << 20;
  cfg->max_send_bytes = 64 << 20;
  cfg->shutdown_grace_ms = 10000;
  cfg->decode_queue = 256;
  cfg->stream_stall_ms = FOLIO_STREAM_STALL_MS_DEFAULT;
  cfg->stream_idle_ms = FOLIO_STREAM_IDLE_MS_DEFAULT;
  cfg->streams_per_tenant = FOLIO_STREAMS_PER_TENANT_DEFAULT;
  cfg->keepalive_time_ms = FOLIO_KEEPALIVE_TIME_MS_DEFAULT;
  cfg->keepalive_timeout_ms = FOLIO_KEEPALIVE_TIMEOUT_MS_DEFAULT;
  cfg->max_connection_idle_ms = FOLIO_MAX_CONNECTION_IDLE_MS_DEFAULT;
  cfg->max_connection_age_ms = FOLIO_MAX_CONNECTION_AGE_MS_DEFAULT;
  cfg->max_connection_age_grace_ms = FOLIO_MAX_CONNECTION_AGE_GRACE_MS_DEFAULT;
  cfg->max_concurrent_streams = FOLIO_MAX_CONCURRENT_STREAMS_DEFAULT;
  cfg->min_ping_interval_ms = FOLIO_MIN_PING_INTERVAL_MS_DEFAULT;
  cfg->max_ping_strikes = FOLIO_MAX_PING_STRIKES_DEFAULT;
  /* Flags first, so a flag's value replaces the variable's before either is
   * parsed: a bad variable that a flag overrides is not an error. */
  const char *flag_val[N_KNOBS] = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      cfg->help = true;
      continue;
    }
    if (strcmp(a, "--version") == 0) {
      cfg->version = true;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      snprintf(err, errcap, "unexpected argument \"%s\" (see --help)", a);
      return -1;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    size_t k = N_KNOBS;
    for (size_t j = 0; j < N_KNOBS; j++)
      if (strlen(knobs[j].flag) == nlen && strncmp(knobs[j].flag, name, nlen) == 0) k = j;
    if (k == N_KNOBS) {
      snprintf(err, errcap, "unknown flag \"%s\" (see --help)", a);
      return -1;
    }
    if (env_only(&knobs[k])) {
      snprintf(err, errcap, "--%s is not a flag: a secret on a command line shows in ps; set %s",
               knobs[k].flag, knobs[k].env);
      return -1;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
      if (i + 1 >= argc) {
        snprintf(err, errcap, "--%s needs a value", knobs[k].flag);
        return -1;
      }
      val = argv[++i];
    }
    flag_val[k] = val;
  }
  for (size_t k = 0; k < N_KNOBS; k++) {
    char source[64];
    const char *val = flag_val[k];
    if (val) {
      snprintf(source, sizeof source, "--%s", knobs[k].flag);
    } else {
      val = getenv(knobs[k].env);
      snprintf(source, sizeof source, "%s", knobs[k].env);
    }
    if (val && apply(cfg, &knobs[k], val, source, err, errcap) != 0) return -1;
  }
  if ((cfg->tls_cert_path == NULL) != (cfg->tls_key_path == NULL)) {
    snprintf(err, errcap, "TLS needs both FOLIO_TLS_CERT (--tls-cert) and FOLIO_TLS_KEY (--tls-key)");
    return -1;
  }
  if (cfg->tls_client_ca_path && !cfg->tls_cert_path) {
    snprintf(err, errcap, "FOLIO_TLS_CLIENT_CA (--tls-client-ca) needs FOLIO_TLS_CERT and FOLIO_TLS_KEY");
    return -1;
  }
  /* the decode limits (FOLIO_LAYOUT_*), shared with folio-worker: lib/layout/limits.c */
  if (folio_layout_limits_from_env(&cfg->layout_limits, err, errcap)) return -1;
  return 0;
}
