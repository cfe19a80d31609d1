/* See folio/cpus.h. */
#include "folio/cpus.h"

#include <sched.h>
#include <unistd.h>

int folio_cpus_available(void) {
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}
