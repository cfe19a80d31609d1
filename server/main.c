/* folio-server: configuration, the gRPC server, per-call logging and request
 * correlation, and graceful shutdown.
 *
 * Signals: SIGTERM and SIGINT are blocked before any thread starts, so every
 * thread inherits the mask and the main thread alone receives them with
 * sigwait(). On the first one the server reports NOT_SERVING to health
 * watchers, stops accepting calls and gives in-flight calls
 * FOLIO_SHUTDOWN_GRACE_MS before cancelling them. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "backend.h"
#include "config.h"
#include "folio/cpus.h"
#include "folio/log.h"
#include "health.h"
#include "layout_service.h"
#include "logwriter.h"
#include "rpcstatus.h"

#ifndef FOLIO_VERSION
#define FOLIO_VERSION "0.0.0"
#endif

#define REQUEST_ID_MAX 128
/* Handlers must hand work off; 20 ms on a CQ thread is a bug worth a warning. */
#define BLOCKING_HANDLER_NS (20 * 1000 * 1000)

/* A client-supplied x-request-id is echoed when it is 1..128 visible ASCII
 * characters; anything else gets a fresh id (logging stays safe). */
static bool request_id_ok(const char *s, size_t len) {
  if (len == 0 || len > REQUEST_ID_MAX) return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] < 0x21 || s[i] > 0x7e) return false;
  return true;
}

/* 128 bits as 32 lowercase hex digits: unique, not secret. Each thread runs
 * splitmix64 from a seed drawn once from getrandom(), so an id costs no
 * system call. */
static void new_request_id(char out[33]) {
  static _Thread_local uint64_t state;
  static _Thread_local bool seeded;
  if (!seeded) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
      seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&seed;
    state = seed;
    seeded = true;
  }
  static const char hex[] = "0123456789abcdef";
  for (int half = 0; half < 2; half++) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (int i = 0; i < 16; i++) out[half * 16 + i] = hex[(z >> (60 - 4 * i)) & 15];
  }
  out[32] = '\0';
}

static void on_call_start(struct cgrpc_call *call, void *ud) {
  size_t len = 0;
  const char *rid = cgrpc_call_metadata(call, "x-request-id", &len);
  if (!rid || !request_id_ok(rid, len)) {
    char *fresh = cgrpc_call_alloc(call, 33);
    if (fresh) {
      new_request_id(fresh);
      len = 32;
    }
    rid = fresh;
  }
  if (rid) {
    cgrpc_call_set_user(call, (void *)(uintptr_t)rid);
    cgrpc_call_add_metadata(call, "x-request-id", rid, len);
  }
  cgrpc_call_add_metadata(call, "x-folio-version", FOLIO_VERSION, strlen(FOLIO_VERSION));
}

static void on_call_end(struct cgrpc_call *call, const struct cgrpc_call_summary *sum, void *ud) {
  struct folio_logline l;
  grpc_status_code code = sum->code;
  /* A callback that held a CQ thread this long broke the rule that work runs
   * elsewhere: say so at warn level. The longest single callback decides, not
   * the sum: a long stream adds up thousands of microsecond-long ones. */
  bool blocked = sum->handler_max_ns > BLOCKING_HANDLER_NS;
  enum folio_log_level level = code == GRPC_STATUS_INTERNAL || code == GRPC_STATUS_UNKNOWN ||
                                       code == GRPC_STATUS_DATA_LOSS
                                   ? FOLIO_LOG_ERROR
                               : blocked ? FOLIO_LOG_WARN
                                         : FOLIO_LOG_INFO;
  folio_log_begin(&l, level, "rpc");
  folio_log_str(&l, "method", sum->method);
  folio_log_int(&l, "code", code);
  folio_log_str(&l, "status", cgrpc_status_name(code));
  folio_log_bool(&l, "cancelled", sum->cancelled);
  folio_log_ms(&l, "duration_ms", sum->duration_ns);
  folio_log_ms(&l, "handler_ms", sum->handler_ns);
  folio_log_ms(&l, "handler_max_ms", sum->handler_max_ns);
  if (blocked) folio_log_bool(&l, "blocked_cq_thread", true);
  folio_log_str(&l, "peer", cgrpc_call_peer(call));
  folio_log_str(&l, "request_id", cgrpc_call_user(call));
  srv_logwriter_end(&l); /* never waits for stderr on a CQ thread */
}

/* Reads a whole PEM file; NULL (with errno) on failure. Caller frees. */
/* The backend loop reports PostgreSQL's reachability: LayoutService's
 * readiness (health.h). Runs on the I/O loop; set_ready never blocks. */
static void on_db_state(bool reachable, void *arg) { srv_health_set_ready(arg, reachable); }

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1) break;
    char *b = realloc(buf, cap * 2);
    if (!b) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = b;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    if (!errno) errno = EIO;
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

static int load_pem(const char *what, const char *path, char **out) {
  *out = NULL;
  if (!path) return 0;
  *out = read_file(path);
  if (*out) return 0;
  fprintf(stderr, "folio-server: %s: cannot read \"%s\": %s\n", what, path, strerror(errno));
  return -1;
}

/* The listen address with the bound port (differs when the port was 0). */
static void bound_address(const char *listen, int port, char *out, size_t cap) {
  const char *colon = strrchr(listen, ':');
  int hostlen = colon ? (int)(colon - listen) : (int)strlen(listen);
  snprintf(out, cap, "%.*s:%d", hostlen, listen, port);
}

int main(int argc, char **argv) {
  /* folio-server migrate | apikey create --tenant T | apikey revoke ID | tenant ... |
   * cache purge */
  if (argc > 1 && (strcmp(argv[1], "migrate") == 0 || strcmp(argv[1], "apikey") == 0 ||
                   strcmp(argv[1], "tenant") == 0 || strcmp(argv[1], "cache") == 0))
    return folio_jobs_admin_main(argc - 1, argv + 1, stdout, stderr);
  struct srv_config cfg;
  char err[512];
  if (srv_config_load(&cfg, argc, argv, err, sizeof err) != 0) {
    fprintf(stderr, "folio-server: %s\n", err);
    return 2;
  }
  if (cfg.help) {
    srv_config_usage(stdout);
    return 0;
  }
  if (cfg.version) {
    printf("folio-server %s\n", FOLIO_VERSION);
    return 0;
  }
  folio_log_set_level(cfg.log_level);

  char *cert = NULL, *key = NULL, *ca = NULL;
  if (load_pem("FOLIO_TLS_CERT", cfg.tls_cert_path, &cert) != 0 ||
      load_pem("FOLIO_TLS_KEY", cfg.tls_key_path, &key) != 0 ||
      load_pem("FOLIO_TLS_CLIENT_CA", cfg.tls_client_ca_path, &ca) != 0) {
    free(cert);
    free(key);
    return 2;
  }

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = 1;
  static struct srv_backend backend;
  if (srv_backend_start(&backend, &cfg, err, sizeof err) != 0) {
    folio_log(FOLIO_LOG_ERROR, "cannot start the backends", err);
    srv_backend_stop(&backend);
    free(cert);
    free(key);
    free(ca);
    return 1;
  }
  struct srv_health *health = srv_health_create();
  int cpus = folio_cpus_available();
  struct cgrpc_server_config scfg = {
      .listen = cfg.listen,
      .tls_cert_pem = cert,
      .tls_key_pem = key,
      .tls_client_ca_pem = ca,
      /* One CPU fewer than the process may use (at least 1): the backend
       * loop thread, which runs every database, Redis and S3 exchange, is
       * always busy when the server is; a CQ poller per CPU on top of it
       * only adds context switches (bench/pipeline, 2 CPUs: GetStatus
       * +15-18% with 1 CQ thread instead of 2). */
      .cq_threads = cfg.cq_threads > 0 ? cfg.cq_threads : cpus > 1 ? cpus - 1 : 1,
      .max_recv_bytes = cfg.max_recv_bytes,
      .max_send_bytes = cfg.max_send_bytes,
      .keepalive_time_ms = cfg.keepalive_time_ms,
      .keepalive_timeout_ms = cfg.keepalive_timeout_ms,
      .max_connection_idle_ms = cfg.max_connection_idle_ms,
      .max_connection_age_ms = cfg.max_connection_age_ms,
      .max_connection_age_grace_ms = cfg.max_connection_age_grace_ms,
      .max_concurrent_streams = cfg.max_concurrent_streams,
      .min_ping_interval_ms = cfg.min_ping_interval_ms,
      .max_ping_strikes = cfg.max_ping_strikes,
      .on_call_start = on_call_start,
      .on_call_end = on_call_end,
      .on_field_error = srv_rpc_on_field_error,
  };
  struct cgrpc_server *server = health ? cgrpc_server_create(&scfg, err, sizeof err) : NULL;
  /* The PEM copies are no longer needed; wipe the key. */
  if (key) memset(key, 0, strlen(key));
  free(cert);
  free(key);
  free(ca);
  if (!server) {
    folio_log(FOLIO_LOG_ERROR, "cannot create the server", health ? err : "out of memory");
    goto out;
  }
  static struct folio__v1__layout_service__handlers layout;
  srv_jobs_handlers(&layout);
  srv_artifacts_handlers(&layout);
  srv_artifacts_configure(&(struct srv_stream_limits){.stall_ms = cfg.stream_stall_ms,
                                                          .idle_ms = cfg.stream_idle_ms,
                                                          .per_tenant = cfg.streams_per_tenant});
  if (srv_backend_watch_db(&backend, on_db_state, health) != 0 ||
      srv_health_register(health, server) != 0 ||
      folio__v1__layout_service__register(server, &layout, &backend) != 0) {
    folio_log(FOLIO_LOG_ERROR, "cannot register the services", "out of memory");
    goto out;
  }
  if (cgrpc_server_start(server, err, sizeof err) != 0) {
    folio_log(FOLIO_LOG_ERROR, "cannot start", err);
    goto out;
  }
  /* From here on every line goes through the log writer, so lines from the
   * CQ threads and from here never interleave. 4 MiB absorbs bursts. */
  if (srv_logwriter_start(2, 4u << 20) != 0)
    folio_log(FOLIO_LOG_WARN, "log writer not started; logging directly", NULL);
  char addr[300];
  bound_address(cfg.listen, cgrpc_server_port(server), addr, sizeof addr);
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "listening");
  folio_log_str(&l, "address", addr);
  folio_log_bool(&l, "tls", cfg.tls_cert_path != NULL);
  folio_log_bool(&l, "mtls", cfg.tls_client_ca_path != NULL);
  folio_log_str(&l, "version", FOLIO_VERSION);
  srv_logwriter_end(&l);

  int sig = 0;
  sigwait(&sigs, &sig);
  folio_log_begin(&l, FOLIO_LOG_INFO, "shutting down");
  folio_log_str(&l, "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  folio_log_int(&l, "grace_ms", cfg.shutdown_grace_ms);
  srv_logwriter_end(&l);
  srv_health_set_serving(health, false);
  cgrpc_server_shutdown(server, cfg.shutdown_grace_ms); /* every call logged */
  srv_logwriter_stop();
  folio_log(FOLIO_LOG_INFO, "stopped", NULL);
  rc = 0;
out:
  srv_logwriter_stop();
  cgrpc_server_destroy(server);
  srv_backend_stop(&backend);
  srv_health_destroy(health);
  return rc;
}
