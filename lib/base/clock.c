#include "folio/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t folio_clock_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t folio_clock_real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Every log line carries a timestamp, and most lines of a busy second share
 * its "YYYY-MM-DDTHH:MM:SS" part: each thread keeps the last one it formatted
 * and only appends the milliseconds when the second has not changed. */
char *folio_clock_format_rfc3339(int64_t real_ns, char *buf, size_t cap) {
  static _Thread_local int64_t cached_secs = -1;
  static _Thread_local char cached[24]; /* "YYYY-MM-DDTHH:MM:SS" + NUL */
  int64_t secs = real_ns / 1000000000;
  int ms = (int)((real_ns % 1000000000) / 1000000);
  if (real_ns < 0 || cap < 25) {
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
  }
  if (secs != cached_secs) {
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != 19) { /* a year beyond 9999: no fast path */
      snprintf(buf, cap, "%s.%03dZ", cached, ms);
      cached_secs = -1;
      return buf;
    }
    cached_secs = secs;
  }
  memcpy(buf, cached, 19);
  buf[19] = '.';
  buf[20] = (char)('0' + ms / 100);
  buf[21] = (char)('0' + ms / 10 % 10);
  buf[22] = (char)('0' + ms % 10);
  buf[23] = 'Z';
  buf[24] = '\0';
  return buf;
}
