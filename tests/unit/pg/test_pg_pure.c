/* Pure parts of lib/pg and the shared backoff: no server needed. */
#include <string.h>

#include "check.h"
#include "folio/backoff.h"
#include "folio/pg.h"

static void test_backoff(void) {
  /* jitter keeps the delay in [d/2, d) and the cap holds */
  for (int attempt = 0; attempt < 40; attempt++) {
    int d = 50;
    for (int i = 0; i < attempt && d < 2000; i++) d *= 2;
    if (d > 2000) d = 2000;
    int lo = folio_backoff_ms(attempt, 50, 2000, 0);
    int hi = folio_backoff_ms(attempt, 50, 2000, 0xffffffffu);
    CHECK_MSG(lo == d / 2, "attempt %d: %d vs %d", attempt, lo, d / 2);
    CHECK_MSG(hi < d && hi >= d - 1, "attempt %d: %d vs %d", attempt, hi, d);
  }
  CHECK_EQ_INT(folio_backoff_ms(3, 0, 100, 7), 0);
  CHECK_EQ_INT(folio_backoff_ms(0, 1, 1, 0), 1);
  CHECK(folio_backoff_ms(1000000, 100, 50, 12345) <= 100); /* cap below initial: initial wins */
}

static void test_errors(void) {
  struct folio_pg_diag d;
  /* no connection at all is a connection failure, with a message */
  CHECK_EQ_INT(folio_pg_classify(NULL, NULL, &d), FOLIO_PG_ECONNECT);
  CHECK(d.msg[0] != '\0');
  CHECK_EQ_STR(d.sqlstate, "");
  for (int c = 0; c >= -8; c--) CHECK(folio_pg_strerror(c) && *folio_pg_strerror(c));
  /* bad configuration fails before any network */
  struct folio_pg_conn *conn;
  CHECK_EQ_INT(folio_pg_conn_connect(&(struct folio_pg_conn_config){0}, &conn, &d), FOLIO_PG_EINVAL);
  CHECK(conn == NULL);
  CHECK(strstr(d.msg, "conninfo") != NULL);
  struct folio_pg_pool *pool;
  CHECK_EQ_INT(folio_pg_pool_create(&(struct folio_pg_pool_config){0}, &pool, &d), FOLIO_PG_EINVAL);
  folio_pg_pool_destroy(NULL);
  folio_pg_conn_close(NULL);
}

/* A pool whose server does not exist: checkout retries with backoff until the
 * deadline, then reports the connection failure (and counts the attempts). */
static void test_pool_unreachable(void) {
  struct folio_pg_pool_config cfg = {
      .conn = {.conninfo = "postgresql://nobody@127.0.0.1:1/none", .connect_timeout_s = 1},
      .size = 2,
      .backoff_initial_ms = 5,
      .backoff_max_ms = 20};
  struct folio_pg_pool *p;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_pg_pool_create(&cfg, &p, &d), 0); /* lazy: no connect yet */
  struct folio_pg_conn *c;
  CHECK_EQ_INT(folio_pg_pool_checkout(p, 150, &c, &d), FOLIO_PG_ECONNECT);
  CHECK(c == NULL);
  CHECK(strstr(d.msg, "127.0.0.1") != NULL || strstr(d.msg, "connect") != NULL);
  struct folio_pg_pool_stats st;
  folio_pg_pool_stats(p, &st);
  CHECK(st.failures >= 2); /* it retried */
  CHECK_EQ_INT(st.in_use, 0);
  CHECK_EQ_INT(st.connects, 0);
  folio_pg_pool_destroy(p);
}

int main(void) {
  test_backoff();
  test_errors();
  test_pool_unreachable();
  return check_done();
}
