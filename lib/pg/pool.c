/* Fixed-size connection pool.
 *
 * Slots are fixed at creation; a slot's connection opens on first use and is
 * reopened (with exponential backoff and jitter) when it is found broken, so
 * the pool survives database restarts without the caller doing anything but
 * retrying its statement. The mutex guards only slot bookkeeping: connecting
 * and probing happen outside it, by the thread that checked the slot out. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/backoff.h"
#include "folio/clock.h"
#include "pg_int.h"

struct slot {
  struct folio_pg_conn *conn; /* NULL until first connected */
  bool in_use;
  bool broken; /* reconnect before handing out */
};

struct folio_pg_pool {
  struct folio_pg_pool_config cfg; /* cfg.conn points into own */
  struct folio_pg_owned_config own;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool closing;
  int in_use;
  uint64_t connects, probes, failures;
  uint32_t rng;
  struct slot *slots;
};

int folio_pg_pool_create(const struct folio_pg_pool_config *cfg, struct folio_pg_pool **out,
                         struct folio_pg_diag *diag) {
  *out = NULL;
  if (!cfg || !cfg->conn.conninfo) {
    folio_pg_diag_set(diag, NULL, "folio_pg_pool_create: conninfo is required");
    return FOLIO_PG_EINVAL;
  }
  struct folio_pg_pool *p = calloc(1, sizeof *p);
  if (!p) goto nomem;
  p->cfg = *cfg;
  if (folio_pg_conn_config_copy(&p->own, &cfg->conn) != 0) {
    free(p);
    goto nomem;
  }
  p->cfg.conn = p->own.cfg;
  if (p->cfg.size <= 0) p->cfg.size = 4;
  if (p->cfg.idle_check_ms <= 0) p->cfg.idle_check_ms = 10000;
  if (p->cfg.backoff_initial_ms <= 0) p->cfg.backoff_initial_ms = 50;
  if (p->cfg.backoff_max_ms <= 0) p->cfg.backoff_max_ms = 2000;
  p->slots = calloc((size_t)p->cfg.size, sizeof *p->slots);
  if (!p->slots) {
    folio_pg_conn_config_free(&p->own);
    free(p);
    goto nomem;
  }
  p->rng = (uint32_t)folio_clock_mono_ns() | 1u;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  *out = p;
  return 0;
nomem:
  folio_pg_diag_set(diag, NULL, "out of memory");
  return FOLIO_PG_ENOMEM;
}

void folio_pg_pool_destroy(struct folio_pg_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->closing = true;
  pthread_cond_broadcast(&p->cv);
  while (p->in_use > 0) pthread_cond_wait(&p->cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->cfg.size; i++) folio_pg_conn_close(p->slots[i].conn);
  free(p->slots);
  folio_pg_conn_config_free(&p->own);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

static void abs_deadline(struct timespec *ts, int64_t deadline_ns) {
  /* pthread_cond_timedwait uses CLOCK_REALTIME; convert the monotonic deadline */
  int64_t left = deadline_ns - folio_clock_mono_ns();
  if (left < 0) left = 0;
  int64_t t = folio_clock_real_ns() + left;
  ts->tv_sec = (time_t)(t / 1000000000);
  ts->tv_nsec = (long)(t % 1000000000);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Opens (or reopens) the slot's connection, retrying with backoff until the
 * deadline. Called without the mutex, by the thread that owns the slot. */
static int slot_connect(struct folio_pg_pool *p, struct slot *s, int64_t deadline_ns,
                        struct folio_pg_diag *diag) {
  for (int attempt = 0;; attempt++) {
    int rc;
    if (s->conn) {
      rc = folio_pg_conn_reset(s->conn, diag);
    } else {
      rc = folio_pg_conn_connect(&p->cfg.conn, &s->conn, diag);
    }
    pthread_mutex_lock(&p->mu);
    if (rc == 0) p->connects++; else p->failures++;
    uint32_t r = folio_backoff_rand(&p->rng);
    bool closing = p->closing;
    pthread_mutex_unlock(&p->mu);
    if (rc == 0) {
      s->broken = false;
      return 0;
    }
    if (rc == FOLIO_PG_EINVAL || rc == FOLIO_PG_ENOMEM || closing) return rc;
    int delay = folio_backoff_ms(attempt, p->cfg.backoff_initial_ms, p->cfg.backoff_max_ms, r);
    int64_t now = folio_clock_mono_ns();
    if (deadline_ns >= 0 && now + (int64_t)delay * 1000000 > deadline_ns) return rc;
    sleep_ms(delay);
  }
}

int folio_pg_pool_checkout(struct folio_pg_pool *p, int timeout_ms, struct folio_pg_conn **out,
                           struct folio_pg_diag *diag) {
  *out = NULL;
  int64_t deadline = timeout_ms < 0 ? -1 : folio_clock_mono_ns() + (int64_t)timeout_ms * 1000000;
  pthread_mutex_lock(&p->mu);
  struct slot *s = NULL;
  int idx = -1;
  for (;;) {
    if (p->closing) {
      pthread_mutex_unlock(&p->mu);
      folio_pg_diag_set(diag, NULL, "the connection pool is shutting down");
      return FOLIO_PG_ECLOSED;
    }
    /* Prefer a connected slot (most recently used first keeps hot
     * connections hot); fall back to an unconnected one. */
    for (int i = 0; i < p->cfg.size; i++) {
      struct slot *c = &p->slots[i];
      if (c->in_use) continue;
      if (!s || (c->conn && !s->conn) ||
          (c->conn && s->conn && c->conn->last_used_ns > s->conn->last_used_ns)) {
        s = c;
        idx = i;
      }
    }
    if (s) break;
    if (deadline < 0) {
      pthread_cond_wait(&p->cv, &p->mu);
    } else {
      struct timespec ts;
      abs_deadline(&ts, deadline);
      if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT) {
        pthread_mutex_unlock(&p->mu);
        folio_pg_diag_set(diag, NULL, "no database connection free within %d ms (pool size %d)",
                          timeout_ms, p->cfg.size);
        return FOLIO_PG_ETIMEOUT;
      }
    }
  }
  s->in_use = true;
  p->in_use++;
  pthread_mutex_unlock(&p->mu);

  int rc = 0;
  if (!s->conn || s->broken || !folio_pg_conn_ok(s->conn)) {
    rc = slot_connect(p, s, deadline, diag);
  } else if (folio_clock_mono_ns() - s->conn->last_used_ns >
             (int64_t)p->cfg.idle_check_ms * 1000000) {
    /* Liveness check: the empty query is one round trip and no work. */
    pthread_mutex_lock(&p->mu);
    p->probes++;
    pthread_mutex_unlock(&p->mu);
    if (folio_pg_conn_command(s->conn, "", NULL, NULL) != 0) rc = slot_connect(p, s, deadline, diag);
  }
  if (rc != 0) {
    pthread_mutex_lock(&p->mu);
    s->in_use = false;
    s->broken = true;
    p->in_use--;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return rc;
  }
  s->conn->slot = idx;
  *out = s->conn;
  return 0;
}

void folio_pg_pool_checkin(struct folio_pg_pool *p, struct folio_pg_conn *c) {
  if (!c) return;
  bool broken = !folio_pg_conn_ok(c) || PQtransactionStatus(c->pg) != PQTRANS_IDLE;
  c->last_used_ns = folio_clock_mono_ns();
  pthread_mutex_lock(&p->mu);
  struct slot *s = &p->slots[c->slot];
  s->in_use = false;
  s->broken = s->broken || broken;
  p->in_use--;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void folio_pg_pool_stats(struct folio_pg_pool *p, struct folio_pg_pool_stats *out) {
  pthread_mutex_lock(&p->mu);
  out->size = p->cfg.size;
  out->in_use = p->in_use;
  out->idle = p->cfg.size - p->in_use;
  out->connects = p->connects;
  out->probes = p->probes;
  out->failures = p->failures;
  pthread_mutex_unlock(&p->mu);
}
