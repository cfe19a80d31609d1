/* The stack's Redis for tests running under scripts/stack.sh: commands with
 * redis-cli, and simulated outages (stop the stack's redis-server and start
 * it again on the same port, so clients that keep reconnecting to the same
 * URL find it back). */
#ifndef FOLIO_TEST_OUTAGE_H
#define FOLIO_TEST_OUTAGE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Runs `redis-cli -u $FOLIO_REDIS_URL ARGS` (ARGS: a printf format, quoted for
 * the shell by the caller), CHECKs that it exits 0 and returns the first line
 * of its output (static buffer, valid until the next call). */
static inline const char *redis_cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *redis_cli(const char *fmt, ...) {
  static char out[512];
  char args[512], cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "redis-cli -u '%s' %s", getenv("FOLIO_REDIS_URL"), args);
  FILE *p = popen(cmd, "r");
  CHECK_MSG(p, "%s", cmd);
  out[0] = '\0';
  if (!fgets(out, sizeof out, p)) out[0] = '\0';
  while (fgetc(p) != EOF) {
  }
  CHECK_MSG(pclose(p) == 0, "%s", cmd);
  out[strcspn(out, "\n")] = '\0';
  return out;
}

/* Runs scripts/services/redis-<verb>.sh on the stack's redis dir. */
static inline void outage_redis(const char *verb) {
  const char *dir = getenv("FOLIO_STACK_DIR"), *src = getenv("FOLIO_SOURCE_DIR");
  CHECK_MSG(dir && src, "FOLIO_STACK_DIR / FOLIO_SOURCE_DIR unset: run me under scripts/stack.sh");
  static char port[16];
  if (!port[0]) { /* remember the port before the first stop */
    char path[1024];
    snprintf(path, sizeof path, "%s/redis/port", dir);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(port, sizeof port, f));
    fclose(f);
    port[strcspn(port, "\n")] = '\0';
  }
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s/scripts/services/redis-%s.sh %s/redis %s >/dev/null", src, verb,
           dir, strcmp(verb, "up") == 0 ? port : "");
  CHECK_MSG(system(cmd) == 0, "%s failed", cmd);
}

#endif
