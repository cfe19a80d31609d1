/* Hand-built hiredis reply trees for tests of reply decoders (no server):
 *   reply_str("x"), reply_int(7), reply_nil(), reply_arr(n, (redisReply *[]){...}),
 *   reply_entry("1-0", "job-id")  // a stream entry [id, ["job", job-id]]
 * Nodes come from static pools (each test is its own process): nothing to
 * free, at most REPLY_POOL nodes and REPLY_POOL array slots per process;
 * strings are copied (up to 63 bytes). Running out fails the test. */
#ifndef FOLIO_TEST_REDIS_REPLY_H
#define FOLIO_TEST_REDIS_REPLY_H

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define REPLY_POOL 256

static redisReply reply_pool_[REPLY_POOL];
static redisReply *reply_ptrs_[REPLY_POOL];
static char reply_texts_[REPLY_POOL][64];
static size_t reply_npool_, reply_nptrs_;

static inline redisReply *reply_node_(int type) {
  CHECK_MSG(reply_npool_ < REPLY_POOL, "redis_reply.h: more than %d nodes", REPLY_POOL);
  redisReply *r = &reply_pool_[reply_npool_++];
  memset(r, 0, sizeof *r);
  r->type = type;
  return r;
}
static inline redisReply *reply_str(const char *s) {
  redisReply *r = reply_node_(REDIS_REPLY_STRING);
  char *t = reply_texts_[r - reply_pool_];
  snprintf(t, sizeof reply_texts_[0], "%s", s);
  r->str = t;
  r->len = strlen(t);
  return r;
}
static inline redisReply *reply_int(long long v) {
  redisReply *r = reply_node_(REDIS_REPLY_INTEGER);
  r->integer = v;
  return r;
}
static inline redisReply *reply_nil(void) { return reply_node_(REDIS_REPLY_NIL); }
static inline redisReply *reply_arr(size_t n, redisReply **el) {
  CHECK_MSG(reply_nptrs_ + n <= REPLY_POOL, "redis_reply.h: more than %d array slots", REPLY_POOL);
  redisReply *r = reply_node_(REDIS_REPLY_ARRAY);
  r->elements = n;
  r->element = &reply_ptrs_[reply_nptrs_];
  for (size_t i = 0; i < n; i++) reply_ptrs_[reply_nptrs_++] = el[i];
  return r;
}
static inline redisReply *reply_entry(const char *id, const char *job) {
  redisReply *f = reply_arr(2, (redisReply *[]){reply_str("job"), reply_str(job)});
  return reply_arr(2, (redisReply *[]){reply_str(id), f});
}

#endif
