/* The pure parts of lib/jobs' dispatch protocol (folio/dispatch.h): the
 * group's start id, the idle time behind a re-delivery delay, the lag in an
 * XINFO GROUPS reply, and what counts as "no group". The commands themselves
 * run against Redis in tests/integration/jobs/test_dispatch. */
#include <string.h>

#include "check.h"
#include "folio/dispatch.h"
#include "redis_reply.h"

static redisReply *group(const char *name, redisReply *lag) {
  return reply_arr(6, (redisReply *[]){reply_str("name"), reply_str(name), reply_str("consumers"), reply_int(1), reply_str("lag"), lag});
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

  redisReply *two = reply_arr(2, (redisReply *[]){group("other", reply_int(7)), group(FOLIO_JOBS_GROUP, reply_int(3))});
  CHECK_EQ_INT(folio_dispatch_parse_lag(two), 3);
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_arr(1, (redisReply *[]){group("other", reply_int(7))})), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_arr(1, (redisReply *[]){group(FOLIO_JOBS_GROUP, reply_nil())})), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_arr(1, (redisReply *[]){group(FOLIO_JOBS_GROUP, reply_int(0))})), 0);
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_arr(0, NULL)), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_str("ERR no such key")), -1);
  CHECK_EQ_INT(folio_dispatch_parse_lag(NULL), -1);
  /* odd field list: the trailing key is ignored, not read past */
  redisReply *odd = reply_arr(3, (redisReply *[]){reply_str("name"), reply_str(FOLIO_JOBS_GROUP), reply_str("lag")});
  CHECK_EQ_INT(folio_dispatch_parse_lag(reply_arr(1, (redisReply *[]){odd})), -1);

  CHECK(folio_dispatch_no_group(FOLIO_REDIS_EREPLY, "NOGROUP No such key 'folio:{jobs}:dispatch'"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EREPLY, "ERR something else"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EDOWN, "NOGROUP stale text"));
  CHECK(!folio_dispatch_no_group(FOLIO_REDIS_EREPLY, NULL));
  return check_done();
}
