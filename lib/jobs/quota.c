/* The per-server limiter (folio/tenant.h): per tenant, the limits last
 * learned, a token bucket for SubmitLayout and the layout bytes in flight.
 *
 * A chained hash table of 256 buckets under one mutex; every operation is a
 * short walk of one chain, and the walk frees the entries it passes that
 * have been idle for IDLE_NS with nothing in flight, so the table holds
 * roughly the tenants active in the last minute. An entry forgotten and
 * re-created starts with a full bucket: that can admit one extra burst after
 * a minute of silence, which the bucket would have refilled anyway. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/tenant.h"

#define BUCKETS 256
#define IDLE_NS (60LL * 1000000000LL)
/* The retry hint when the bytes in flight are full: a decode of a large
 * layout takes about this long. */
#define BYTES_RETRY_MS 250

struct entry {
  struct entry *next;
  char tenant[129];
  struct folio_tenant_limits limits;
  double tokens;
  int64_t refilled_ns; /* when tokens was last brought up to date */
  int64_t used_ns;     /* last admit, learn or release */
  int64_t in_flight;   /* bytes */
};

struct folio_quota {
  pthread_mutex_t mu;
  struct entry *b[BUCKETS];
};

struct folio_quota *folio_quota_create(void) {
  struct folio_quota *q = calloc(1, sizeof *q);
  if (q) pthread_mutex_init(&q->mu, NULL);
  return q;
}

void folio_quota_destroy(struct folio_quota *q) {
  if (!q) return;
  for (size_t i = 0; i < BUCKETS; i++)
    for (struct entry *e = q->b[i], *n; e; e = n) {
      n = e->next;
      free(e);
    }
  pthread_mutex_destroy(&q->mu);
  free(q);
}

static size_t bucket_of(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h % BUCKETS;
}

/* Finds (create: or makes) tenant's entry; frees idle entries on the way.
 * Under q->mu. */
static struct entry *find(struct folio_quota *q, const char *tenant, bool create, int64_t now_ns) {
  struct entry **pp = &q->b[bucket_of(tenant)], *hit = NULL;
  while (*pp) {
    struct entry *e = *pp;
    if (strcmp(e->tenant, tenant) == 0) {
      hit = e;
    } else if (now_ns > 0 && e->in_flight == 0 && now_ns - e->used_ns > IDLE_NS) {
      *pp = e->next;
      free(e);
      continue;
    }
    pp = &e->next;
  }
  if (hit || !create) return hit;
  struct entry *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
  folio_tenant_limits_default(&e->limits);
  e->tokens = (double)e->limits.submit_burst;
  e->refilled_ns = e->used_ns = now_ns;
  e->next = q->b[bucket_of(tenant)];
  q->b[bucket_of(tenant)] = e;
  return e;
}

static void refill(struct entry *e, int64_t now_ns) {
  if (now_ns > e->refilled_ns) {
    e->tokens += e->limits.submit_rate * (double)(now_ns - e->refilled_ns) / 1e9;
    e->refilled_ns = now_ns;
  }
  if (e->tokens > (double)e->limits.submit_burst) e->tokens = (double)e->limits.submit_burst;
}

void folio_quota_learn(struct folio_quota *q, const char *tenant,
                       const struct folio_tenant_limits *l, int64_t now_ns) {
  pthread_mutex_lock(&q->mu);
  struct entry *e = find(q, tenant, true, now_ns);
  if (e) {
    refill(e, now_ns); /* at the old rate up to now */
    /* a raised burst is available at once (an operator raising a throttled
     * tenant's limits means now); a smaller one caps the tokens at once */
    if (l->submit_burst > e->limits.submit_burst)
      e->tokens += (double)(l->submit_burst - e->limits.submit_burst);
    e->limits = *l;
    refill(e, now_ns);
    e->used_ns = now_ns;
  }
  pthread_mutex_unlock(&q->mu);
}

void folio_quota_limits(struct folio_quota *q, const char *tenant, struct folio_tenant_limits *out) {
  pthread_mutex_lock(&q->mu);
  struct entry *e = find(q, tenant, false, 0);
  if (e) *out = e->limits;
  else folio_tenant_limits_default(out);
  pthread_mutex_unlock(&q->mu);
}

int folio_quota_admit(struct folio_quota *q, const char *tenant, size_t bytes, int64_t now_ns,
                      struct folio_quota_refusal *why) {
  int rc = 0;
  pthread_mutex_lock(&q->mu);
  struct entry *e = find(q, tenant, true, now_ns);
  if (!e) { /* out of memory: limiting nobody beats refusing everybody */
    pthread_mutex_unlock(&q->mu);
    return 0;
  }
  refill(e, now_ns);
  e->used_ns = now_ns;
  if (e->in_flight > 0 && e->in_flight + (int64_t)bytes > e->limits.max_bytes_in_flight) {
    *why = (struct folio_quota_refusal){"max_bytes_in_flight",
                                        (double)e->limits.max_bytes_in_flight, BYTES_RETRY_MS};
    rc = -1;
  } else if (e->tokens < 1.0) {
    double ms = ceil((1.0 - e->tokens) / e->limits.submit_rate * 1000.0);
    *why = (struct folio_quota_refusal){"submit_rate", e->limits.submit_rate,
                                        ms < 1 ? 1 : ms > 3600000 ? 3600000 : (int64_t)ms};
    rc = -1;
  } else {
    e->tokens -= 1.0;
    e->in_flight += (int64_t)bytes;
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void folio_quota_release(struct folio_quota *q, const char *tenant, size_t bytes) {
  pthread_mutex_lock(&q->mu);
  struct entry *e = find(q, tenant, false, 0);
  if (e) {
    e->in_flight -= (int64_t)bytes;
    if (e->in_flight < 0) e->in_flight = 0;
  }
  pthread_mutex_unlock(&q->mu);
}

int64_t folio_quota_in_flight(struct folio_quota *q, const char *tenant) {
  pthread_mutex_lock(&q->mu);
  struct entry *e = find(q, tenant, false, 0);
  int64_t n = e ? e->in_flight : 0;
  pthread_mutex_unlock(&q->mu);
  return n;
}
