/* lib/pg internals shared by pg.c, pool.c and async.c. */
#ifndef FOLIO_PG_INT_H
#define FOLIO_PG_INT_H

#include <stdarg.h>

#include "folio/pg.h"

/* A config whose strings are owned copies (cfg points into the copies). */
struct folio_pg_owned_config {
  struct folio_pg_conn_config cfg;
  char *conninfo;
  char *application_name;
};

struct folio_pg_conn {
  PGconn *pg; /* NULL after a failure that left no usable connection */
  struct folio_pg_owned_config own;
  int64_t last_used_ns;            /* pool: monotonic time of the last checkin */
  int slot;                        /* pool: index, -1 outside a pool */
};

/* Formats into diag (NULL allowed), trimming libpq's trailing newline. */
void folio_pg_diag_set(struct folio_pg_diag *d, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Deep-copies the strings of src (defaults applied); free with _free. */
int folio_pg_conn_config_copy(struct folio_pg_owned_config *dst,
                              const struct folio_pg_conn_config *src);
void folio_pg_conn_config_free(struct folio_pg_owned_config *c);

/* The PQconnectdbParams / PQconnectStartParams keywords folio passes
 * (dbname carries the whole conninfo, expanded). */
extern const char *const folio_pg_conn_keywords[];

/* Queues "SET statement_timeout" and every PREPARE in pipeline mode and a
 * Sync; the caller collects 1 + nstmts results and the sync. -1 on failure. */
int folio_pg_setup_send(PGconn *pg, const struct folio_pg_conn_config *cfg);

struct folio_pg_async;
/* The loop adapter's teardown, run by folio_pg_async_destroy(). */
void folio_pg_async_set_detach(struct folio_pg_async *a, void (*fn)(void *), void *arg);
/* The loop the adapter drives it from: exec asserts it runs on that loop's
 * thread (folio_loop_affine). */
struct folio_loop;
void folio_pg_async_set_loop(struct folio_pg_async *a, const struct folio_loop *loop);

#endif
