/* The test implementation of cgrpc_test.v1.Echo shared by cgrpc's tests, and
 * small helpers to start it and wait for what it observed. */
#ifndef CGRPC_TEST_ECHO_SERVER_H
#define CGRPC_TEST_ECHO_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cgrpc_test/v1/echo.cgrpc.h"

/* What the server observed; tests poll these with echo_wait_for(). */
struct echo_stats {
  atomic_int cancels_seen;    /* on_cancel callbacks (Say/Count wait_for_cancel) */
  atomic_int streams_stopped; /* Count streams that ended on a failed write */
  atomic_int calls_started;   /* calls arrived (on_call_start) */
  atomic_int calls_finished;  /* calls released (on_call_end) */
  _Atomic int64_t max_handler_ns; /* largest cgrpc_call_summary.handler_max_ns seen */
  atomic_int bad_handler_sums;    /* summaries whose handler_ns < handler_max_ns */
};
extern struct echo_stats echo_stats;

/* Creates, registers Echo and starts a server on 127.0.0.1:0 with cfg's
 * other settings (cfg may be NULL). Exits the test on failure. */
struct cgrpc_server *echo_server_start(const struct cgrpc_server_config *cfg);
/* Waits (up to 20 s, polling) until *v >= want; returns whether it got there. */
bool echo_wait_for(atomic_int *v, int want);
/* "127.0.0.1:<port>" for s, in a static buffer. */
const char *echo_target(struct cgrpc_server *s);

#endif
