/* Reconnect backoff shared by the backend clients (pg, redis, s3).
 * Header-only and pure: no state, no clock, no randomness of its own. */
#ifndef FOLIO_BACKOFF_H
#define FOLIO_BACKOFF_H

#include <stdint.h>

/* The delay before retry number attempt (0-based): min(cap_ms, initial_ms *
 * 2^attempt), scaled by a jitter factor in [0.5, 1.0) taken from r (any
 * 32-bit random value), so many clients that lost the same server do not
 * reconnect in lockstep. Never less than 1 ms when initial_ms > 0. */
static inline int folio_backoff_ms(int attempt, int initial_ms, int cap_ms, uint32_t r) {
  if (initial_ms <= 0) return 0;
  if (cap_ms < initial_ms) cap_ms = initial_ms;
  int64_t d = initial_ms;
  for (int i = 0; i < attempt && d < cap_ms; i++) d *= 2;
  if (d > cap_ms) d = cap_ms;
  /* factor = 0.5 + (r / 2^32) / 2, in integer arithmetic */
  int64_t j = d / 2 + (int64_t)(((uint64_t)(d - d / 2) * r) >> 32);
  return j < 1 ? 1 : (int)j;
}

/* A small xorshift32 step for the jitter: *state must start non-zero (e.g.
 * the monotonic clock | 1). Not for anything secret. */
static inline uint32_t folio_backoff_rand(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

#endif
