/* The folio_loop adapter for folio_pg_async: one fd watch whose interest
 * follows the client, and one timer for its timeout. All on the loop thread. */
#include <stdlib.h>

#include "folio/loop.h"
#include "folio/pg_async.h"
#include "pg_int.h"

_Static_assert(FOLIO_LOOP_READ == 1u && FOLIO_LOOP_WRITE == 2u && FOLIO_LOOP_ERROR == 4u,
               "pg_async uses folio_loop's event bits");

struct adapter {
  struct folio_loop *loop;
  struct folio_pg_async *a;
  int fd; /* watched fd, -1 = none */
  unsigned interest;
  struct folio_loop_timer timer;
};

static void sync_io(struct folio_pg_async *a, void *arg);

static void on_io(struct folio_loop *loop, int fd, unsigned events, void *arg) {
  struct adapter *ad = arg;
  folio_pg_async_process(ad->a, events);
}

static void on_timer(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct adapter *ad = arg;
  folio_pg_async_process(ad->a, 0);
}

static void sync_io(struct folio_pg_async *a, void *arg) {
  struct adapter *ad = arg;
  int fd = folio_pg_async_fd(a);
  unsigned interest = folio_pg_async_interest(a);
  if (ad->fd >= 0 && ad->fd != fd) {
    folio_loop_unwatch(ad->loop, ad->fd);
    ad->fd = -1;
  }
  if (fd >= 0 && (fd != ad->fd || interest != ad->interest)) {
    if (folio_loop_watch(ad->loop, fd, interest, on_io, ad) == 0) {
      ad->fd = fd;
      ad->interest = interest;
    }
  }
  int t = folio_pg_async_timeout_ms(a);
  if (t < 0) {
    folio_loop_timer_stop(ad->loop, &ad->timer);
  } else {
    folio_loop_timer_start(ad->loop, &ad->timer, (uint64_t)t, 0, on_timer, ad);
  }
}

static void detach(void *arg) {
  struct adapter *ad = arg;
  if (ad->fd >= 0) folio_loop_unwatch(ad->loop, ad->fd);
  folio_loop_timer_stop(ad->loop, &ad->timer);
  free(ad);
}

int folio_pg_async_attach(struct folio_pg_async *a, struct folio_loop *loop) {
  struct adapter *ad = calloc(1, sizeof *ad);
  if (!ad) return FOLIO_PG_ENOMEM;
  ad->loop = loop;
  ad->a = a;
  ad->fd = -1;
  folio_loop_timer_init(&ad->timer);
  folio_pg_async_set_notify(a, sync_io, ad);
  folio_pg_async_set_detach(a, detach, ad);
  folio_pg_async_set_loop(a, loop);
  sync_io(a, ad);
  return 0;
}
