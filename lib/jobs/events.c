/* Redis-facing names and the job event message of lib/jobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_int.h"

void folio_jobs_channel(const char *job_id, char out[FOLIO_JOBS_CHANNEL_MAX]) {
  snprintf(out, FOLIO_JOBS_CHANNEL_MAX, "folio:job:%s", job_id);
}

int folio_jobs_event_format(char *buf, size_t cap, const char *job_id, enum folio_job_state state,
                            int progress_percent) {
  const char *name = folio_job_state_name(state);
  if (!folio_uuid_valid(job_id) || !name || progress_percent < 0 || progress_percent > 100)
    return -1;
  int n = snprintf(buf, cap, "{\"job_id\":\"%s\",\"state\":\"%s\",\"progress\":%d}", job_id, name,
                   progress_percent);
  return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Matches the literal lit at *p and advances. */
static int expect(const char **p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) return -1;
  *p += n;
  return 0;
}

int folio_jobs_event_parse(const char *msg, size_t len, char job_id[FOLIO_UUID_STR_LEN + 1],
                           enum folio_job_state *state, int *progress_percent) {
  const char *p = msg, *end = msg + len;
  if (!msg || expect(&p, end, "{\"job_id\":\"")) return -1;
  if ((size_t)(end - p) < FOLIO_UUID_STR_LEN) return -1;
  memcpy(job_id, p, FOLIO_UUID_STR_LEN);
  job_id[FOLIO_UUID_STR_LEN] = '\0';
  if (!folio_uuid_valid(job_id)) return -1;
  p += FOLIO_UUID_STR_LEN;
  if (expect(&p, end, "\",\"state\":\"")) return -1;
  const char *q = memchr(p, '"', (size_t)(end - p));
  if (!q || q - p > 15 || memchr(p, '\0', (size_t)(q - p))) return -1; /* "RUNNING\0x" is not RUNNING */
  char name[16];
  memcpy(name, p, (size_t)(q - p));
  name[q - p] = '\0';
  *state = folio_job_state_parse(name);
  if (*state == FOLIO_JOB_UNSPECIFIED) return -1;
  p = q;
  if (expect(&p, end, "\",\"progress\":")) return -1;
  int v = 0, digits = 0;
  const char *num = p;
  while (p < end && *p >= '0' && *p <= '9' && digits < 3) v = v * 10 + (*p++ - '0'), digits++;
  if (digits > 1 && *num == '0') return -1; /* the format never writes leading zeros */
  if (digits == 0 || v > 100 || expect(&p, end, "}") || p != end) return -1;
  *progress_percent = v;
  return 0;
}
