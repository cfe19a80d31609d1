/* Waiting for a folio-server a test (or benchmark) started to answer
 * grpc.health.v1 Check with SERVING. Needs the generated health stubs
 * (link folio_protos). Header-only, like check.h. */
#ifndef FOLIO_TEST_HEALTH_H
#define FOLIO_TEST_HEALTH_H

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgrpc/cgrpc.h"
#include "grpc/health/v1/health.cgrpc.h"

/* Asks ch's server for the overall health ("") every 100 ms, each try with a
 * 500 ms deadline, until it answers SERVING (returns 0), the process *pid
 * exits (returns -1 and sets *pid to 0; pid may be NULL when the server is
 * not a child) or timeout_ms passes (returns -2). ch is borrowed. */
static inline int proc_wait_healthy(struct cgrpc_channel *ch, pid_t *pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 100) {
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    struct cgrpc_call_options o = {.timeout_ms = 500};
    struct cgrpc_status st = {0};
    int rc = grpc__health__v1__health__check__call(ch, &req, &o, &resp, &st);
    cgrpc_status_clear(&st);
    if (rc == 0) {
      bool serving = resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
      protobuf_c_message_free_unpacked(&resp->base, NULL);
      if (serving) return 0;
    }
    int ws;
    if (pid && *pid > 0 && waitpid(*pid, &ws, WNOHANG) == *pid) {
      *pid = 0;
      return -1;
    }
    usleep(100000);
  }
  return -2;
}

#endif
