/* folio-worker configuration: FOLIO_* environment first, flags override.
 * S3 settings come from the FOLIO_S3_* environment only (folio/s3.h), so the
 * secret key never appears on a command line (visible in ps). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "folio/backoff.h"
#include "folio/cpus.h"
#include "worker_int.h"

static const char usage[] =
    "usage: folio-worker [options]\n"
    "Renders queued folio jobs: a supervisor process and N render processes.\n"
    "Every option may also be given in the environment (in brackets); flags win.\n"
    "  --database-url URL         PostgreSQL (FOLIO_DATABASE_URL, required)\n"
    "  --redis-url URL            Redis (FOLIO_REDIS_URL, required)\n"
    "  --workers N                render processes (FOLIO_WORKERS, default: CPUs available)\n"
    "  --render-timeout-ms MS     per attempt; the render process is killed and the\n"
    "                             attempt fails RENDER_TIMEOUT (FOLIO_RENDER_TIMEOUT_MS, 600000)\n"
    "  --visibility-timeout-ms MS an unacknowledged delivery is re-delivered after this;\n"
    "                             also the heartbeat lease (FOLIO_VISIBILITY_TIMEOUT_MS, 30000)\n"
    "  --shutdown-grace-ms MS     SIGTERM: time to finish running jobs\n"
    "                             (FOLIO_SHUTDOWN_GRACE_MS, 30000)\n"
    "  --heartbeat-ms MS          heartbeat, progress and fallback cancel poll\n"
    "                             (FOLIO_HEARTBEAT_MS, 1000)\n"
    "  --render-threads N         PNG rasterizing threads per job (FOLIO_RENDER_THREADS, 1)\n"
    "  --s3-parts-in-flight N     multipart buffers per upload (FOLIO_S3_PARTS_IN_FLIGHT, 2)\n"
    "  --worker-name NAME         consumer-name prefix (FOLIO_WORKER_NAME, default hostname)\n"
    "  --log-level LEVEL          debug|info|warn|error (FOLIO_LOG_LEVEL, info)\n"
    "  --help                     this text\n"
    "S3: FOLIO_S3_ENDPOINT, FOLIO_S3_REGION, FOLIO_S3_BUCKET, FOLIO_S3_ACCESS_KEY,\n"
    "FOLIO_S3_SECRET_KEY, FOLIO_S3_ADDRESSING (environment only). See docs/operations-worker.md.\n";

static int parse_int(const char *name, const char *s, int lo, int hi, int *out, char *err,
                     size_t cap) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    snprintf(err, cap, "%s: \"%s\" is not an integer in %d..%d", name, s, lo, hi);
    return -1;
  }
  *out = (int)v;
  return 0;
}

struct knob {
  const char *flag, *env;
  int *ival;
  const char **sval;
  int lo, hi;
};

static int set_knob(const struct knob *k, const char *name, const char *v, char *err, size_t cap) {
  if (k->sval) {
    if (!*v) {
      snprintf(err, cap, "%s must not be empty", name);
      return -1;
    }
    *k->sval = v;
    return 0;
  }
  return parse_int(name, v, k->lo, k->hi, k->ival, err, cap);
}

int worker_config_load(struct worker_config *cfg, int argc, char **argv, char *err,
                             size_t cap) {
  memset(cfg, 0, sizeof *cfg);
  int cpus = folio_cpus_available();
  cfg->workers = cpus > 256 ? 256 : cpus;
  cfg->render_timeout_ms = 600000;
  cfg->visibility_timeout_ms = 30000;
  cfg->shutdown_grace_ms = 30000;
  cfg->heartbeat_ms = 1000;
  cfg->render_threads = 1;
  cfg->s3_parts_in_flight = 2;
  cfg->child_slot = -1;
  const char *level = NULL;
  struct knob knobs[] = {
      {"--database-url", "FOLIO_DATABASE_URL", NULL, &cfg->database_url, 0, 0},
      {"--redis-url", "FOLIO_REDIS_URL", NULL, &cfg->redis_url, 0, 0},
      {"--workers", "FOLIO_WORKERS", &cfg->workers, NULL, 1, 256},
      {"--render-timeout-ms", "FOLIO_RENDER_TIMEOUT_MS", &cfg->render_timeout_ms, NULL, 100, INT_MAX},
      {"--visibility-timeout-ms", "FOLIO_VISIBILITY_TIMEOUT_MS", &cfg->visibility_timeout_ms, NULL, 500, INT_MAX},
      {"--shutdown-grace-ms", "FOLIO_SHUTDOWN_GRACE_MS", &cfg->shutdown_grace_ms, NULL, 0, INT_MAX},
      {"--heartbeat-ms", "FOLIO_HEARTBEAT_MS", &cfg->heartbeat_ms, NULL, 50, 60000},
      {"--render-threads", "FOLIO_RENDER_THREADS", &cfg->render_threads, NULL, 1, 16},
      {"--s3-parts-in-flight", "FOLIO_S3_PARTS_IN_FLIGHT", &cfg->s3_parts_in_flight, NULL, 1, 64},
      {"--worker-name", "FOLIO_WORKER_NAME", NULL, &cfg->worker_name, 0, 0},
      {"--log-level", "FOLIO_LOG_LEVEL", NULL, &level, 0, 0},
      {"--render-process", NULL, &cfg->child_slot, NULL, 0, 255},
  };
  size_t nk = sizeof knobs / sizeof knobs[0];
  for (size_t i = 0; i < nk; i++) {
    const char *v = knobs[i].env ? getenv(knobs[i].env) : NULL;
    if (v && *v && set_knob(&knobs[i], knobs[i].env, v, err, cap)) return -1;
  }
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(usage, stdout);
      return 1;
    }
    const struct knob *k = NULL;
    const char *v = NULL;
    for (size_t i = 0; i < nk && !k; i++) {
      size_t fl = strlen(knobs[i].flag);
      if (!strncmp(arg, knobs[i].flag, fl) && (arg[fl] == '=' || arg[fl] == '\0')) {
        k = &knobs[i];
        if (arg[fl] == '=') v = arg + fl + 1;
        else if (a + 1 < argc) v = argv[++a];
        else {
          snprintf(err, cap, "%s needs a value", knobs[i].flag);
          return -1;
        }
      }
    }
    if (!k) {
      snprintf(err, cap, "unknown argument \"%s\" (see --help)", arg);
      return -1;
    }
    if (set_knob(k, k->flag, v, err, cap)) return -1;
  }
  if (!cfg->database_url) {
    snprintf(err, cap, "FOLIO_DATABASE_URL (or --database-url) is required");
    return -1;
  }
  if (!cfg->redis_url) {
    snprintf(err, cap, "FOLIO_REDIS_URL (or --redis-url) is required");
    return -1;
  }
  cfg->log_level = FOLIO_LOG_INFO;
  if (level && folio_log_parse_level(level, &cfg->log_level)) {
    snprintf(err, cap, "log level \"%s\" is not debug|info|warn|error", level);
    return -1;
  }
  if (cfg->heartbeat_ms * 3 > cfg->visibility_timeout_ms) {
    snprintf(err, cap,
             "the visibility timeout (%d ms) must be at least 3 heartbeats (%d ms each): it is "
             "also the heartbeat lease",
             cfg->visibility_timeout_ms, cfg->heartbeat_ms);
    return -1;
  }
  char s3err[256];
  if (folio_s3_config_from_env(&cfg->s3, s3err, sizeof s3err)) {
    snprintf(err, cap, "S3: %s", s3err);
    return -1;
  }
  cfg->s3.parts_in_flight = cfg->s3_parts_in_flight;
  return 0;
}

int worker_retry_ms(int n, int initial_ms, int cap_ms) {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint32_t)rand();
  return folio_backoff_ms(n < 1 ? 0 : n - 1, initial_ms, cap_ms, r);
}
