/* Simulated Redis outages for tests running under scripts/stack.sh: stop the
 * stack's redis-server and start it again on the same port (so clients that
 * keep reconnecting to the same URL find it back). */
#ifndef FOLIO_TEST_OUTAGE_H
#define FOLIO_TEST_OUTAGE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

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
