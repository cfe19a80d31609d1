/* lib/pg against a real PostgreSQL: the pool's liveness check and reconnect
 * after the server killed a connection, a connection returned inside a
 * transaction, checkout timeouts, statement_timeout, and many threads
 * sharing a small pool. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "pgtest.h"

static const struct folio_pg_stmt stmts[] = {
    {"t_pid", "SELECT pg_backend_pid()::text", 0, 0},
    {"t_echo", "SELECT $1::text || '!'", 1, 0},
};

static struct folio_pg_pool *make_pool(int size, int idle_check_ms) {
  struct folio_pg_pool_config cfg = {
      .conn = {.conninfo = pgtest_url(), .stmts = stmts, .nstmts = 2, .statement_timeout_ms = 200},
      .size = size,
      .idle_check_ms = idle_check_ms,
      .backoff_initial_ms = 5,
      .backoff_max_ms = 50};
  struct folio_pg_pool *p;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_pool_create(&cfg, &p, &d) == 0, "%s", d.msg);
  return p;
}

static long backend_pid(struct folio_pg_conn *c) {
  PGresult *r;
  struct folio_pg_diag d;
  CHECK_MSG(folio_pg_conn_exec(c, 0, NULL, &r, &d) == 0, "%s", d.msg);
  long pid = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return pid;
}

static void test_reconnect(struct folio_pg_conn *admin) {
  struct folio_pg_pool *p = make_pool(1, 1);
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_pg_pool_checkout(p, 5000, &c, &d), 0);
  long pid = backend_pid(c);
  folio_pg_pool_checkin(p, c);
  char q[128];
  snprintf(q, sizeof q, "SELECT pg_terminate_backend(%ld)::text", pid);
  CHECK_EQ_STR(pgtest_value(admin, q), "true");
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, NULL); /* idle longer than idle_check_ms */
  CHECK_EQ_INT(folio_pg_pool_checkout(p, 5000, &c, &d), 0);
  long pid2 = backend_pid(c); /* works: the probe found the dead one and reconnected */
  CHECK(pid2 != pid);
  struct folio_pg_pool_stats st;
  folio_pg_pool_stats(p, &st);
  CHECK(st.probes >= 1);
  CHECK_EQ_INT(st.connects, 2);
  CHECK_EQ_INT(st.in_use, 1);

  /* returned inside a transaction: reset before reuse */
  CHECK_EQ_INT(folio_pg_conn_command(c, "BEGIN", NULL, &d), 0);
  folio_pg_pool_checkin(p, c);
  CHECK_EQ_INT(folio_pg_pool_checkout(p, 5000, &c, &d), 0);
  CHECK_EQ_INT(PQtransactionStatus(folio_pg_conn_raw(c)), PQTRANS_IDLE);
  folio_pg_pool_stats(p, &st);
  CHECK_EQ_INT(st.connects, 3);

  /* all connections busy: checkout times out with a clear message */
  struct folio_pg_conn *c2;
  CHECK_EQ_INT(folio_pg_pool_checkout(p, 30, &c2, &d), FOLIO_PG_ETIMEOUT);
  CHECK(strstr(d.msg, "pool size 1") != NULL);

  /* statement_timeout (200 ms here) cancels a runaway statement */
  CHECK_EQ_INT(folio_pg_conn_command(c, "SELECT pg_sleep(5)", NULL, &d), FOLIO_PG_ETIMEOUT);
  CHECK_EQ_STR(d.sqlstate, "57014");
  /* parameters: always placeholders, checked for count */
  const char *v[1] = {"x'; DROP TABLE x; --"};
  struct folio_pg_params prm = {1, v, NULL, NULL};
  PGresult *r;
  CHECK_EQ_INT(folio_pg_conn_exec(c, 1, &prm, &r, &d), 0);
  CHECK_EQ_STR(PQgetvalue(r, 0, 0), "x'; DROP TABLE x; --!");
  PQclear(r);
  CHECK_EQ_INT(folio_pg_conn_exec(c, 1, NULL, &r, &d), FOLIO_PG_EINVAL);
  CHECK(strstr(d.msg, "t_echo takes 1") != NULL);
  CHECK_EQ_INT(folio_pg_conn_exec(c, 7, NULL, &r, &d), FOLIO_PG_EINVAL);
  folio_pg_pool_checkin(p, c);
  folio_pg_pool_destroy(p);
}

/* A statement table that does not prepare fails the connect, naming it. */
static void test_bad_statement(void) {
  static const struct folio_pg_stmt bad[] = {{"t_bad", "SELECT * FROM no_such_table", 0, 0}};
  struct folio_pg_conn_config cfg = {.conninfo = pgtest_url(), .stmts = bad, .nstmts = 1};
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  CHECK_EQ_INT(folio_pg_conn_connect(&cfg, &c, &d), FOLIO_PG_EQUERY);
  CHECK(strstr(d.msg, "t_bad") != NULL && strstr(d.msg, "no_such_table") != NULL);
  CHECK_EQ_STR(d.sqlstate, "42P01");
}

static struct folio_pg_pool *shared;
static void *worker(void *arg) {
  for (int i = 0; i < 50; i++) {
    struct folio_pg_conn *c;
    struct folio_pg_diag d;
    int rc = folio_pg_pool_checkout(shared, 10000, &c, &d);
    TCHECK(rc == 0, "%s", d.msg);
    const char *v[1] = {"hi"};
    struct folio_pg_params p = {1, v, NULL, NULL};
    PGresult *r;
    TCHECK(folio_pg_conn_exec(c, 1, &p, &r, &d) == 0, "%s", d.msg);
    TCHECK(strcmp(PQgetvalue(r, 0, 0), "hi!") == 0, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    folio_pg_pool_checkin(shared, c);
  }
  return NULL;
}

static void test_threads(void) {
  shared = make_pool(3, 10000);
  pthread_t t[8];
  for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  struct folio_pg_pool_stats st;
  folio_pg_pool_stats(shared, &st);
  CHECK(st.connects <= 3); /* never more connections than slots */
  CHECK_EQ_INT(st.in_use, 0);
  folio_pg_pool_destroy(shared);
}

int main(void) {
  struct folio_pg_conn *admin = pgtest_plain();
  test_reconnect(admin);
  test_bad_statement();
  test_threads();
  folio_pg_conn_close(admin);
  return check_done();
}
