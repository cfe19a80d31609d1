/* The pure parts of lib/jobs' dispatch protocol (folio/dispatch.h): the
 * group's start id, the idle time behind a re-delivery delay, the lag in an
 * XINFO GROUPS reply, and what counts as "no group". The commands themselves
 * run against Redis in tests/integration/jobs/test_dispatch. */
#include <string.h>

#include "check.h"
#include "folio/dispatch.h"

static redisReply pool[64];
static redisReply *ptrs[128];
static size_t npool, nptrs;

static redisReply *str(const char *s) {
  redisReply *r = &pool[npool++];
  memset(r, 0, sizeof *r);
  r->type = REDIS_REPLY_STRING;
  r->str = (char *)(uintptr_t)s; /* never written through */
  r->len = strlen(s);
  return r;
}
static redisReply *num(long long v) {
  redisReply *r = &pool[npool++];
  memset(r, 0, sizeof *r);
  r->type = REDIS_REPLY_INTEGER;
  r->integer = v;
  return r;
}
static redisReply *nil(void) {
  redisReply *r = &pool[npool++];
  memset(r, 0, sizeof *r);
  r->type = REDIS_REPLY_NIL;
  return r;
}
static redisReply *arr(size_t n, redisReply **el) {
  redisReply *r = &pool[npool++];
  memset(r, 0, sizeof *r);
  r->type = REDIS_REPLY_ARRAY;
  r->elements = n;
  r->element = &ptrs[nptrs];
  for (size_t i = 0; i < n; i++) ptrs[nptrs++] = el[i];
  return r;
}
static redisReply *group(const char *name, redisReply *lag) {
  return arr(6, (redisReply *[]){str("name"), str(name), str("consumers"), num(1), str("lag"), lag});
}

int main(void) {
  /* decided: "0" (folio/dispatch.h says why); "$" would skip entries
   * dispatched before the group was (re)created */
  CHECK_EQ_STR(FOLIO_DISPATCH_GROUP_START, "0");

  CHECK_EQ_INT(folio_dispatch_idle_for(0, 30000), 30000);    /* due at once */
  CHECK_EQ_INT(folio_dispatch_idle_for(250, 30000), 29750);
  CHECK_EQ_INT(folio_dispatch_idle_for(30000, 30000), 0);    /* the whole timeout */
  CHECK_EQ_INT(folio_dispatch_idle_for(90000, 30000), 0);
  CHECK_EQ_INT(folio_dispatch_idle_for(-5, 30000), 30000);

  redisReply *two = arr(2, (redisReply *[]){group("other", num(7)), group(FOLIO_JOBS_GROUP, num(3))});
  CHECK_EQ_INT(folio_dispatch_parse_lag(two), 3);
  CHECK_EQ_INT(folio_dispatch_parse_lag(arr(1, (redisReply *[]){group("other", num(7))})), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(arr(1, (redisReply *[]){group(FOLIO_JOBS_GROUP, nil())})), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(arr(1, (redisReply *[]){group(FOLIO_JOBS_GROUP, num(0))})), 0);
  CHECK_EQ_INT(folio_dispatch_parse_lag(arr(0, NULL)), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(str("ERR no such key")), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(NULL), -1);
  /* odd field list: the trailing key is ignored, not read past */
  redisReply *odd = arr(3, (redisReply *[]){str("name"), str(FOLIO_JOBS_GROUP), str("lag")});
  CHECK_EQ_INT(folio_dispatch_parse_lag(arr(1, (redisReply *[]){odd})), -1);

  CHECK(folio_dispatch_no_group(FOLIO_REDIS_EREPLY, "NOGROUP No such key 'folio:{jobs}:dispatch'"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EREPLY, "ERR something else"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EDOWN, "NOGROUP stale text"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EREPLY, NULL));
  return check_done();
}
