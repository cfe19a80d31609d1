/* How many CPUs this process may run on: the affinity mask (taskset, cgroup
 * cpusets), not the machine's count, so thread pools sized from it do not
 * oversubscribe a container. Thread-safe; no allocation. */
#ifndef FOLIO_CPUS_H
#define FOLIO_CPUS_H

/* The CPUs in this process's affinity mask; the online CPUs when the mask
 * cannot be read; never less than 1. */
int folio_cpus_available(void);

#endif
