/* Pure parts of lib/redis: FOLIO_REDIS_URL parsing and decoding of stream
 * replies (hand-built redisReply trees, including malformed ones). */
#include <string.h>

#include "check.h"
#include "folio/redis.h"
#include "redis_reply.h"

static void test_urls(void) {
  struct folio_redis_url u;
  char err[200];
  CHECK_EQ_INT(folio_redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err), 0);
  CHECK_EQ_STR(u.host, "127.0.0.1");
  CHECK_EQ_INT(u.port, 6380);
  CHECK_EQ_INT(u.db, 2);
  CHECK_EQ_STR(u.password, "");
  CHECK_EQ_INT(folio_redis_url_parse("redis://localhost", &u, err, sizeof err), 0);
  CHECK_EQ_INT(u.port, 6379);
  CHECK_EQ_INT(u.db, 0);
  CHECK_EQ_INT(folio_redis_url_parse("redis://:s%40cret@h:1/", &u, err, sizeof err), 0);
  CHECK_EQ_STR(u.password, "s@cret");
  CHECK_EQ_STR(u.user, "");
  CHECK_EQ_INT(folio_redis_url_parse("redis://folio:pw@[::1]:7000/3", &u, err, sizeof err), 0);
  CHECK_EQ_STR(u.user, "folio");
  CHECK_EQ_STR(u.password, "pw");
  CHECK_EQ_STR(u.host, "::1");
  CHECK_EQ_INT(u.port, 7000);
  CHECK_EQ_INT(u.db, 3);
  CHECK_EQ_INT(folio_redis_url_parse("unix:///tmp/r.sock?db=4", &u, err, sizeof err), 0);
  CHECK_EQ_STR(u.path, "/tmp/r.sock");
  CHECK_EQ_INT(u.db, 4);
  CHECK_EQ_INT(folio_redis_url_parse("/run/redis.sock", &u, err, sizeof err), 0);
  CHECK_EQ_STR(u.path, "/run/redis.sock");

  static const struct {
    const char *url, *needle;
  } bad[] = {
      {"", "empty"},
      {"http://h", "scheme"},
      {"redis://", "host missing"},
      {"redis://h:0", "port"},
      {"redis://h:99999", "port"},
      {"redis://h:12x", "port"},
      {"redis://h/abc", "database"},
      {"redis://[::1", "IPv6"},
      {"redis://:%zz@h", "password"},
      {"redis://:%4@h", "password"},
      {"unix://relative", "absolute"},
      {"unix:///s?x=1", "db="},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    CHECK_MSG(folio_redis_url_parse(bad[i].url, &u, err, sizeof err) == FOLIO_REDIS_EINVAL, "%s",
              bad[i].url);
    CHECK_MSG(strstr(err, bad[i].needle) != NULL, "%s: %s", bad[i].url, err);
  }
  CHECK_EQ_INT(folio_redis_url_parse(NULL, &u, err, sizeof err), FOLIO_REDIS_EINVAL);
  /* the password never shows in an error */
  CHECK_EQ_INT(folio_redis_url_parse("redis://:hunter2@h:bad", &u, err, sizeof err), FOLIO_REDIS_EINVAL);
  CHECK(strstr(err, "hunter2") == NULL);
}

static void test_entries(void) {
  struct folio_redis_entry e[4];
  const char *cursor;
  /* XREADGROUP: [[stream, [entries]]] */
  redisReply *list = reply_arr(2, (redisReply *[]){reply_entry("1-0", "a"), reply_entry("2-0", "b")});
  redisReply *xr = reply_arr(1, (redisReply *[]){reply_arr(2, (redisReply *[]){reply_str("s"), list})});
  CHECK_EQ_INT(folio_redis_parse_entries(xr, false, e, 4, &cursor), 2);
  CHECK_EQ_STR(e[0].id, "1-0");
  CHECK_EQ_STR(e[1].job_id, "b");
  CHECK(cursor == NULL);
  CHECK_EQ_INT(folio_redis_parse_entries(reply_nil(), false, e, 4, NULL), 0); /* BLOCK timeout */
  CHECK_EQ_INT(folio_redis_parse_entries(xr, false, e, 1, NULL), 1);    /* capped */
  /* XAUTOCLAIM 6.2 (nil for deleted) and 7.0 (third element) */
  redisReply *l62 = reply_arr(3, (redisReply *[]){reply_entry("3-0", "c"), reply_nil(), reply_entry("5-0", "d")});
  redisReply *ac62 = reply_arr(2, (redisReply *[]){reply_str("0-0"), l62});
  CHECK_EQ_INT(folio_redis_parse_entries(ac62, true, e, 4, &cursor), 2);
  CHECK_EQ_STR(cursor, "0-0");
  CHECK_EQ_STR(e[1].job_id, "d");
  redisReply *ac70 = reply_arr(3, (redisReply *[]){reply_str("7-0"), reply_arr(1, (redisReply *[]){reply_entry("6-0", "e")}),
                                            reply_arr(1, (redisReply *[]){reply_str("4-0")})});
  CHECK_EQ_INT(folio_redis_parse_entries(ac70, true, e, 4, &cursor), 1);
  CHECK_EQ_STR(cursor, "7-0");
  /* malformed shapes are EPROTO, never a crash */
  CHECK_EQ_INT(folio_redis_parse_entries(reply_str("x"), false, e, 4, NULL), FOLIO_REDIS_EPROTO);
  CHECK_EQ_INT(folio_redis_parse_entries(NULL, false, e, 4, NULL), FOLIO_REDIS_EPROTO);
  redisReply *nojob = reply_arr(2, (redisReply *[]){reply_str("1-0"), reply_arr(2, (redisReply *[]){reply_str("layout"), reply_str("x")})});
  /* an entry without a "job" field is returned with job_id "" (so the caller
   * can ack it), and does not hide the entries behind it */
  redisReply *nojobs = reply_arr(2, (redisReply *[]){nojob, reply_entry("2-0", "b")});
  redisReply *xnojob = reply_arr(1, (redisReply *[]){reply_arr(2, (redisReply *[]){reply_str("s"), nojobs})});
  CHECK_EQ_INT(folio_redis_parse_entries(xnojob, false, e, 4, NULL), 2);
  CHECK_EQ_STR(e[0].id, "1-0");
  CHECK_EQ_STR(e[0].job_id, "");
  CHECK_EQ_STR(e[1].job_id, "b");
  redisReply *acnojob = reply_arr(2, (redisReply *[]){reply_str("0-0"), reply_arr(1, (redisReply *[]){nojob})});
  CHECK_EQ_INT(folio_redis_parse_entries(acnojob, true, e, 4, NULL), 1);
  CHECK_EQ_STR(e[0].job_id, "");
  /* a "job" field that is not a string (never sent by Redis) counts as missing */
  redisReply *intjob = reply_arr(2, (redisReply *[]){reply_str("3-0"), reply_arr(2, (redisReply *[]){reply_str("job"), reply_nil()})});
  redisReply *acint = reply_arr(2, (redisReply *[]){reply_str("0-0"), reply_arr(1, (redisReply *[]){intjob})});
  CHECK_EQ_INT(folio_redis_parse_entries(acint, true, e, 4, NULL), 1);
  CHECK_EQ_STR(e[0].job_id, "");
  /* but a broken entry shape still fails the reply */
  redisReply *notentry = reply_arr(1, (redisReply *[]){reply_str("1-0")});
  redisReply *bad = reply_arr(1, (redisReply *[]){reply_arr(2, (redisReply *[]){reply_str("s"), reply_arr(1, (redisReply *[]){notentry})})});
  CHECK_EQ_INT(folio_redis_parse_entries(bad, false, e, 4, NULL), FOLIO_REDIS_EPROTO);
  redisReply *odd = reply_arr(2, (redisReply *[]){reply_str("1-0"), reply_arr(1, (redisReply *[]){reply_str("job")})});
  redisReply *bad2 = reply_arr(2, (redisReply *[]){reply_str("0-0"), reply_arr(1, (redisReply *[]){odd})});
  CHECK_EQ_INT(folio_redis_parse_entries(bad2, true, e, 4, NULL), FOLIO_REDIS_EPROTO);
  CHECK_EQ_INT(folio_redis_parse_entries(reply_arr(1, (redisReply *[]){reply_str("0-0")}), true, e, 4, NULL),
               FOLIO_REDIS_EPROTO);
}

int main(void) {
  test_urls();
  test_entries();
  CHECK(strcmp(folio_redis_strerror(FOLIO_REDIS_EDOWN), "redis unavailable") == 0);
  return check_done();
}
