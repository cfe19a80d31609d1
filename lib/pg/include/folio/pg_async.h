/* folio_pg_async: one non-blocking PostgreSQL connection in pipeline mode,
 * for the event loop (docs/architecture.md, "Practices": libraries don't own
 * the loop).
 *
 * The client does not own a loop. It exposes what a loop needs —
 * folio_pg_async_fd(), _interest() and _timeout_ms() — and one "work now"
 * entry, folio_pg_async_process(). An adapter (folio_pg_async_attach(), in
 * pg_loop.c) wires those to a folio_loop; another loop needs only another
 * small adapter. The client calls the adapter's notify hook whenever fd,
 * interest or timeout changed.
 *
 * Queries are prepared statements from the folio_pg_stmt table the
 * connection was configured with, sent with PQsendQueryPrepared in pipeline
 * mode, so many queries are in flight on one connection at once.
 *
 * Group commit: a statement sent with FOLIO_PG_ASYNC_GROUP does not get a
 * Sync of its own; every GROUP statement sent before the client next runs
 * (process, i.e. the next loop turn) shares one Sync, hence one implicit
 * transaction and one commit/WAL flush. While a group's commit is in flight
 * the next group stays open and keeps collecting (its statements already run
 * on the server) until that commit is acknowledged, so under load a commit
 * carries everything that arrived during the previous flush rather than one
 * loop turn's worth. If one of them fails, the others in
 * the group are not applied: their callbacks get FOLIO_PG_EABORTED, meaning
 * "nothing happened, send it again alone" (folio_jobs does so).
 *
 * Threads: one thread (the loop thread) uses a client. Callbacks run on it,
 * from folio_pg_async_process() or folio_pg_async_destroy(). Callback rule: a
 * call that returns 0 calls its callback exactly once (with the result, an
 * error, or FOLIO_PG_ECONNECT when the connection drops or the client is
 * destroyed); a call that returns an error never calls back. */
#ifndef FOLIO_PG_ASYNC_H
#define FOLIO_PG_ASYNC_H

#include "folio/pg.h"

struct folio_loop;

/* Only for async callbacks: the statement was not applied because another
 * statement of its group commit failed; sending it again alone is safe. */
#define FOLIO_PG_EABORTED (-8)

enum { FOLIO_PG_ASYNC_GROUP = 1 };

struct folio_pg_async;

/* res is borrowed (valid only during the callback; PQclear is the client's).
 * On failure res is NULL and diag (borrowed too) says why. */
typedef void (*folio_pg_async_cb)(struct folio_pg_async *a, int status, const PGresult *res,
                                  const struct folio_pg_diag *diag, void *arg);
/* Told when the connection becomes ready (true) or drops (false). */
typedef void (*folio_pg_async_state_cb)(struct folio_pg_async *a, bool ready, void *arg);
/* The adapter's hook: fd, interest or timeout changed. */
typedef void (*folio_pg_async_notify_cb)(struct folio_pg_async *a, void *arg);

struct folio_pg_async_config {
  struct folio_pg_conn_config conn; /* copied as by folio_pg_conn_connect */
  int backoff_initial_ms;           /* reconnect backoff; 0 = 50 */
  int backoff_max_ms;               /* 0 = 2000 */
  int max_inflight;                 /* queued + in-flight statements; 0 = 4096 */
};

/* Creates the client and starts connecting (non-blocking). *out is freed with
 * folio_pg_async_destroy(). Attach it to a loop before anything else. */
int folio_pg_async_create(const struct folio_pg_async_config *cfg, struct folio_pg_async **out,
                          struct folio_pg_diag *diag);
/* Fails every pending statement (callbacks run with FOLIO_PG_ECONNECT inside
 * this call), closes the connection, detaches and frees. NULL allowed. Not
 * from inside one of this client's callbacks. */
void folio_pg_async_destroy(struct folio_pg_async *a);

void folio_pg_async_set_state_cb(struct folio_pg_async *a, folio_pg_async_state_cb cb, void *arg);
bool folio_pg_async_ready(const struct folio_pg_async *a);

/* Sends stmts[stmt] with params (copied into libpq's buffer during the call,
 * so they may be freed on return). Returns 0, FOLIO_PG_ECONNECT while not
 * ready, FOLIO_PG_ETIMEOUT when max_inflight statements are outstanding
 * (backpressure: RESOURCE_EXHAUSTED upstream), or FOLIO_PG_EINVAL. */
int folio_pg_async_exec(struct folio_pg_async *a, int stmt, const struct folio_pg_params *params,
                        unsigned flags, folio_pg_async_cb cb, void *arg);

/* Statistics: how many Syncs (transactions) carried how many statements. */
struct folio_pg_async_stats {
  uint64_t statements, syncs, connects, failures;
  int inflight;
};
void folio_pg_async_stats(const struct folio_pg_async *a, struct folio_pg_async_stats *out);

/* ---- the loop-facing side ---------------------------------------------------- */

/* The socket (-1 while there is none), the FOLIO_LOOP_READ/WRITE interest
 * (bits equal folio/loop.h's), and the delay until process() must run
 * anyway (-1 = no timer; 0 = as soon as possible). */
int folio_pg_async_fd(const struct folio_pg_async *a);
unsigned folio_pg_async_interest(const struct folio_pg_async *a);
int folio_pg_async_timeout_ms(const struct folio_pg_async *a);
/* Does all work possible now: connects, flushes, reads and dispatches
 * results, sends pending Syncs, reconnects. events = readiness seen (0 when
 * called for the timer). */
void folio_pg_async_process(struct folio_pg_async *a, unsigned events);
/* Installs the adapter hook (NULL to detach). */
void folio_pg_async_set_notify(struct folio_pg_async *a, folio_pg_async_notify_cb cb, void *arg);

/* The folio_loop adapter: watches the fd with the wanted interest and runs
 * the timer. Loop thread only. Detached automatically by destroy. */
int folio_pg_async_attach(struct folio_pg_async *a, struct folio_loop *loop);

#endif
