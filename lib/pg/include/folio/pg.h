/* folio_pg: PostgreSQL connections (libpq) with a fixed set of prepared
 * statements, a statement timeout, and a fixed-size pool.
 *
 * Every query folio runs is a prepared statement from a table the caller
 * registers once (struct folio_pg_stmt); a connection prepares the whole table
 * in one pipelined round trip right after it connects, so a query is always
 * one PQexecPrepared/PQsendQueryPrepared with parameters — never SQL text built
 * from values.
 *
 * Two ways to drive a connection:
 *  - blocking (this header): folio_pg_conn_exec() and folio_pg_conn_batch(),
 *    used by the CLI subcommands (migrate, apikey), tests and the worker;
 *  - non-blocking (folio/pg_async.h): the client exposes its fd, interest and a
 *    timer, and an adapter drives it from the event loop (docs/architecture.md,
 *    "Practices": libraries don't own the loop).
 *
 * Errors: functions return 0 or a negative FOLIO_PG_E* code; the readable
 * detail (never containing the password) is in the struct folio_pg_diag the
 * caller passes (may be NULL when the caller does not want it).
 * Thread-safety: a connection is used by one thread at a time; the pool is
 * thread-safe. */
#ifndef FOLIO_PG_H
#define FOLIO_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  FOLIO_PG_OK = 0,
  FOLIO_PG_ECONNECT = -1,  /* could not connect, or the connection broke */
  FOLIO_PG_EQUERY = -2,    /* the server rejected the statement (sqlstate set) */
  FOLIO_PG_ETIMEOUT = -3,  /* statement_timeout, or pool checkout timed out */
  FOLIO_PG_ECONFLICT = -4, /* serialization failure or deadlock: safe to retry */
  FOLIO_PG_EINVAL = -5,    /* bad argument (e.g. unknown statement index, bad URL) */
  FOLIO_PG_ENOMEM = -6,
  FOLIO_PG_ECLOSED = -7, /* the pool is shutting down */
};

/* Readable text for a FOLIO_PG_E* code (static storage). */
const char *folio_pg_strerror(int code);

/* Detail of the last failure. sqlstate is the 5-character SQLSTATE ("" when
 * the failure did not come from the server). */
struct folio_pg_diag {
  char sqlstate[6];
  char msg[512];
};

/* One prepared statement. The table passed to folio_pg_conn_connect() and the
 * strings it points to are borrowed for the connection's (or pool's)
 * lifetime; use static tables. name must be unique within the table. */
struct folio_pg_stmt {
  const char *name;
  const char *sql;
  int nparams;
  /* 1: results come in binary format (use it for bytea columns; cast the
   * other columns to text, whose binary form is the plain bytes). */
  int binary_results;
};

struct folio_pg_conn_config {
  /* A libpq connection string or URI (FOLIO_DATABASE_URL). Copied. */
  const char *conninfo;
  const struct folio_pg_stmt *stmts; /* borrowed, see above */
  size_t nstmts;
  /* statement_timeout set on every connection; 0 means the default, 5000 ms. */
  int statement_timeout_ms;
  /* Connect timeout; 0 means the default, 5 s. */
  int connect_timeout_s;
  /* application_name shown in pg_stat_activity; NULL means "folio". Copied. */
  const char *application_name;
};

/* A connection: the libpq handle plus the statements prepared on it. */
struct folio_pg_conn;

/* Connects, sets the statement timeout and prepares every statement.
 * On success *out is a connection the caller frees with folio_pg_conn_close().
 * On failure *out is NULL and diag says why. Blocking. */
int folio_pg_conn_connect(const struct folio_pg_conn_config *cfg, struct folio_pg_conn **out,
                          struct folio_pg_diag *diag);
/* Closes and frees (NULL allowed). Results obtained earlier stay valid. */
void folio_pg_conn_close(struct folio_pg_conn *c);
/* Drops the server connection and connects again with the same config,
 * preparing the statements again. Blocking. */
int folio_pg_conn_reset(struct folio_pg_conn *c, struct folio_pg_diag *diag);
/* The libpq handle, borrowed for the connection's lifetime (for PQescape*,
 * PQsocket, or simple-protocol commands such as migrations). */
PGconn *folio_pg_conn_raw(struct folio_pg_conn *c);
/* True while libpq reports CONNECTION_OK. */
bool folio_pg_conn_ok(const struct folio_pg_conn *c);

/* Parameters of one statement execution, text format unless lengths/formats
 * say otherwise (as in PQexecParams). All pointers borrowed for the call. */
struct folio_pg_params {
  int n;
  const char *const *values; /* NULL entry = SQL NULL */
  const int *lengths;        /* NULL = all text; needed for binary entries */
  const int *formats;        /* NULL = all text; 1 = binary */
};

/* Runs statement stmts[stmt] with params and waits. On success *res is a
 * result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) the caller frees with
 * PQclear(); it outlives the connection. On failure *res is NULL, diag is
 * filled, and the return says which kind of failure. */
int folio_pg_conn_exec(struct folio_pg_conn *c, int stmt, const struct folio_pg_params *params,
                       PGresult **res, struct folio_pg_diag *diag);

/* Runs n statements in pipeline mode as ONE implicit transaction (one Sync,
 * one commit): either every statement's effect commits or none does. On
 * success res[0..n) are results the caller PQclear()s. On failure every
 * res[i] is NULL and diag describes the first error. This is the primitive
 * behind group commit. */
int folio_pg_conn_batch(struct folio_pg_conn *c, size_t n, const int *stmts,
                        const struct folio_pg_params *params, PGresult **res,
                        struct folio_pg_diag *diag);

/* Runs a simple-protocol command (no parameters; may hold several statements),
 * for fixed SQL such as migrations and BEGIN/COMMIT. Returns the last
 * result's status like folio_pg_conn_exec; *res may be NULL when not wanted. */
int folio_pg_conn_command(struct folio_pg_conn *c, const char *sql, PGresult **res,
                          struct folio_pg_diag *diag);

/* Maps a failed PGresult (or NULL for a connection failure) to a FOLIO_PG_E*
 * code and fills diag. Exposed for the async client and tests. */
int folio_pg_classify(PGconn *conn, const PGresult *res, struct folio_pg_diag *diag);

/* ---- pool ---------------------------------------------------------------- */

struct folio_pg_pool_config {
  struct folio_pg_conn_config conn; /* copied as by folio_pg_conn_connect */
  int size;                         /* connections; 0 means 4 */
  /* A connection idle longer than this is checked (an empty query) before it
   * is handed out; 0 means 10000 ms. */
  int idle_check_ms;
  /* Reconnect backoff: first delay and cap; 0 means 50 ms and 2000 ms. */
  int backoff_initial_ms;
  int backoff_max_ms;
};

struct folio_pg_pool;

/* Creates the pool and opens its connections lazily (the first checkout of a
 * slot connects), so start-up does not fail when the database is briefly
 * down. *out is freed with folio_pg_pool_destroy(). */
int folio_pg_pool_create(const struct folio_pg_pool_config *cfg, struct folio_pg_pool **out,
                         struct folio_pg_diag *diag);
/* Waits until every connection is checked in, then closes them and frees the
 * pool (NULL allowed). Checkouts waiting at that time fail with ECLOSED. */
void folio_pg_pool_destroy(struct folio_pg_pool *p);

/* Takes a live connection, waiting up to timeout_ms (<0: forever) for a free
 * one. A connection idle past idle_check_ms is probed first; a dead one is
 * reconnected with exponential backoff (with jitter) until timeout_ms runs
 * out. The connection is the caller's until folio_pg_pool_checkin(). */
int folio_pg_pool_checkout(struct folio_pg_pool *p, int timeout_ms, struct folio_pg_conn **out,
                           struct folio_pg_diag *diag);
/* Returns a connection. A connection that is broken or was left inside a
 * transaction is reset before it is reused (by the next checkout). */
void folio_pg_pool_checkin(struct folio_pg_pool *p, struct folio_pg_conn *c);

/* Statistics for tests and metrics. */
struct folio_pg_pool_stats {
  int size, idle, in_use;
  uint64_t connects;  /* successful (re)connects */
  uint64_t probes;    /* idle checks run */
  uint64_t failures;  /* failed connect attempts */
};
void folio_pg_pool_stats(struct folio_pg_pool *p, struct folio_pg_pool_stats *out);


#endif
