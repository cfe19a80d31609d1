/* Time helpers. All thread-safe, none can fail. */
#ifndef FOLIO_CLOCK_H
#define FOLIO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: for durations and deadlines. */
int64_t folio_clock_mono_ns(void);
/* CLOCK_REALTIME in nanoseconds since the Unix epoch: for timestamps. */
int64_t folio_clock_real_ns(void);
/* RFC 3339 UTC with milliseconds, e.g. "2026-11-29T01:57:59.123Z", into buf
 * (at least 25 bytes). Returns buf. */
char *folio_clock_format_rfc3339(int64_t real_ns, char *buf, size_t cap);

#endif
