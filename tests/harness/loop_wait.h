/* Driving a folio_loop from a test's main thread until a callback has run:
 * loop_run_until(loop, &done, "what") fails the test after a generous bound
 * (a hang guard, not a timing assertion: 20 s). Link folio_base. */
#ifndef FOLIO_TEST_LOOP_WAIT_H
#define FOLIO_TEST_LOOP_WAIT_H

#include <stdbool.h>

#include "check.h"
#include "folio/clock.h"
#include "folio/loop.h"

static inline void loop_run_until(struct folio_loop *loop, const bool *flag, const char *what) {
  int64_t deadline = folio_clock_mono_ns() + 20LL * 1000000000;
  while (!*flag) {
    CHECK_MSG(folio_clock_mono_ns() < deadline, "timed out waiting for %s", what);
    folio_loop_run_once(loop, 50);
  }
}

#endif
