/* Non-blocking PostgreSQL client: one connection in pipeline mode.
 *
 * States: CONNECTING (PQconnectPoll) → SETUP (session settings and every
 * PREPARE sent as one pipeline, waiting for its Sync) → READY → on any
 * failure DOWN (every queued statement fails with ECONNECT; a retry is due
 * after folio_backoff_ms) → CONNECTING ...
 *
 * The queue holds, in send order, one entry per statement and one per Sync.
 * libpq returns per statement one result and then NULL, per Sync one
 * PGRES_PIPELINE_SYNC; the reader walks the queue in step. GROUP statements
 * wait for the Sync that process() sends on the next loop turn, so all
 * statements sent in one turn commit together — unless a group's commit is
 * still in flight: then the open group keeps growing (its statements already
 * execute on the server, in the implicit transaction the next Sync closes)
 * and its Sync goes out when that commit's PGRES_PIPELINE_SYNC arrives. So
 * under load one commit (one WAL flush) carries everything that arrived
 * during the previous flush, instead of one flush per loop turn queued
 * behind each other on the single backend. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "folio/backoff.h"
#include "folio/clock.h"
#include "folio/log.h"
#include "folio/loop.h"
#include "folio/pg_async.h"
#include "pg_int.h"

enum state { ST_DOWN, ST_CONNECTING, ST_SETUP, ST_READY };
enum kind { K_STMT, K_SYNC, K_SETUP_STMT, K_SETUP_SYNC };

struct areq {
  struct areq *next;
  enum kind kind;
  bool got;      /* the statement's result arrived (held until its Sync) */
  bool group;    /* K_SYNC: it closed a group (counted in group_syncs) */
  int status;    /* its outcome so far */
  PGresult *res; /* held result, owned */
  struct folio_pg_diag diag;
  folio_pg_async_cb cb;
  void *arg;
};

struct folio_pg_async {
  struct folio_pg_owned_config own;
  int backoff_initial_ms, backoff_max_ms, max_inflight;
  PGconn *pg;
  enum state st;
  int fd;
  bool want_write;
  bool sync_pending; /* GROUP statements were sent without their Sync */
  int group_syncs;   /* Syncs closing a group, sent and not yet reached */
  bool flush_pending; /* statements sit in libpq's buffer: flush this turn */
  bool destroying;
  int attempt;
  int64_t retry_at_ns, connect_deadline_ns;
  struct areq *head, *tail;
  struct areq *cursor; /* the entry libpq's next result belongs to */
  int inflight; /* user statements in the queue */
  struct folio_pg_diag setup_diag;
  int setup_rc;
  uint32_t rng;
  folio_pg_async_state_cb state_cb;
  void *state_arg;
  folio_pg_async_notify_cb notify;
  void *notify_arg;
  void (*detach)(void *);
  void *detach_arg;
  const struct folio_loop *loop; /* the adapter's (NULL: driven by hand), for asserts */
  struct folio_pg_async_stats stats;
};

static void notify(struct folio_pg_async *a) {
  if (a->notify) a->notify(a, a->notify_arg);
}

static struct areq *push(struct folio_pg_async *a, enum kind k, folio_pg_async_cb cb, void *arg) {
  struct areq *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->kind = k;
  q->cb = cb;
  q->arg = arg;
  if (a->tail)
    a->tail->next = q;
  else
    a->head = q;
  a->tail = q;
  if (!a->cursor) a->cursor = q;
  if (k == K_STMT) a->inflight++;
  return q;
}

static void pop(struct folio_pg_async *a) {
  struct areq *q = a->head;
  a->head = q->next;
  if (!a->head) a->tail = NULL;
  if (a->cursor == q) a->cursor = q->next;
  if (q->kind == K_STMT) a->inflight--;
  if (q->group) a->group_syncs--;
  PQclear(q->res);
  free(q);
}

/* Closes the open group with a Sync. false when libpq or memory failed. */
static bool send_group_sync(struct folio_pg_async *a) {
  struct areq *q;
  if (!PQpipelineSync(a->pg) || !(q = push(a, K_SYNC, NULL, NULL))) return false;
  q->group = true;
  a->group_syncs++;
  a->sync_pending = false;
  a->stats.syncs++;
  return true;
}

/* The open group's Sync is due: nothing of an earlier group is committing. */
static bool group_sync_due(const struct folio_pg_async *a) {
  return a->sync_pending && a->group_syncs == 0 && a->st == ST_READY;
}

static void start_connect(struct folio_pg_async *a);

/* Drops the connection: every queued statement fails (once), a reconnect is
 * scheduled. diag describes why. */
static void fail_conn(struct folio_pg_async *a, const struct folio_pg_diag *why) {
  bool was_ready = a->st == ST_READY;
  a->st = ST_DOWN;
  a->fd = -1;
  a->want_write = false;
  a->sync_pending = false;
  a->group_syncs = 0;
  a->flush_pending = false;
  notify(a); /* the adapter unwatches before the socket closes */
  if (a->pg) PQfinish(a->pg);
  a->pg = NULL;
  a->stats.failures++;
  struct folio_pg_diag d = *why;
  /* No statement in the queue reached its Sync: whether it committed is
   * unknown, so each fails with ECONNECT (its callback runs once, here). */
  while (a->head) {
    struct areq *q = a->head;
    a->head = q->next;
    if (!a->head) a->tail = NULL;
    a->cursor = a->head;
    if (q->kind == K_STMT) {
      a->inflight--;
      q->cb(a, FOLIO_PG_ECONNECT, NULL, &d, q->arg);
    }
    PQclear(q->res);
    free(q);
  }
  if (a->destroying) return;
  int delay = folio_backoff_ms(a->attempt++, a->backoff_initial_ms, a->backoff_max_ms,
                               folio_backoff_rand(&a->rng));
  a->retry_at_ns = folio_clock_mono_ns() + (int64_t)delay * 1000000;
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_WARN, "postgres down");
  folio_log_str(&l, "detail", d.msg);
  folio_log_int(&l, "retry_ms", delay);
  folio_log_end(&l);
  if (was_ready && a->state_cb) a->state_cb(a, false, a->state_arg);
  notify(a);
}

static void fail_from_conn(struct folio_pg_async *a) {
  struct folio_pg_diag d;
  folio_pg_classify(a->pg, NULL, &d);
  fail_conn(a, &d);
}

static void start_connect(struct folio_pg_async *a) {
  char timeout[16];
  snprintf(timeout, sizeof timeout, "%d", a->own.cfg.connect_timeout_s);
  const char *values[] = {a->own.cfg.conninfo, timeout, a->own.cfg.application_name, NULL};
  a->pg = PQconnectStartParams(folio_pg_conn_keywords, values, 1);
  a->st = ST_CONNECTING;
  a->connect_deadline_ns = folio_clock_mono_ns() + (int64_t)a->own.cfg.connect_timeout_s * 1000000000;
  if (!a->pg || PQstatus(a->pg) == CONNECTION_BAD) {
    fail_from_conn(a);
    return;
  }
  a->fd = PQsocket(a->pg);
  a->want_write = true; /* PQconnectPoll starts as if it had returned WRITING */
  notify(a);
}

static void begin_setup(struct folio_pg_async *a) {
  if (PQsetnonblocking(a->pg, 1) != 0 || folio_pg_setup_send(a->pg, &a->own.cfg) != 0) {
    fail_from_conn(a);
    return;
  }
  a->st = ST_SETUP;
  a->setup_rc = 0;
  for (size_t i = 0; i < a->own.cfg.nstmts + 1; i++) push(a, K_SETUP_STMT, NULL, NULL);
  push(a, K_SETUP_SYNC, NULL, NULL);
}

static int result_status(struct folio_pg_async *a, const PGresult *r, struct folio_pg_diag *d) {
  switch (PQresultStatus(r)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
      return 0;
    case PGRES_PIPELINE_ABORTED:
      folio_pg_diag_set(d, NULL, "not applied: another statement of its group commit failed");
      return FOLIO_PG_EABORTED;
    default:
      return folio_pg_classify(a->pg, r, d);
  }
}

/* The Sync point was reached: the statements before it form one implicit
 * transaction. If any failed, none of them took effect: the failed one
 * reports its error, the others FOLIO_PG_EABORTED (also those libpq skipped).
 * Otherwise every one reports its result. Then the Sync entry is dropped.
 * Returns false when the connection failed (already handled). */
static bool reach_sync(struct folio_pg_async *a) {
  bool failed = false;
  struct areq *q = a->head;
  for (; q && (q->kind == K_STMT || q->kind == K_SETUP_STMT); q = q->next)
    if (q->got && q->status != 0 && q->status != FOLIO_PG_EABORTED) failed = true;
  if (!q) {
    struct folio_pg_diag d;
    folio_pg_diag_set(&d, NULL, "pipeline out of step: a sync nobody sent");
    fail_conn(a, &d);
    return false;
  }
  while (a->head->kind == K_STMT || a->head->kind == K_SETUP_STMT) {
    q = a->head;
    int status = q->got ? q->status : FOLIO_PG_EABORTED;
    if (failed && status == 0) status = FOLIO_PG_EABORTED;
    if (status == FOLIO_PG_EABORTED)
      folio_pg_diag_set(&q->diag, NULL, "not applied: another statement of its group commit failed");
    if (q->kind == K_SETUP_STMT) {
      if (status != 0 && a->setup_rc == 0) {
        a->setup_rc = status;
        a->setup_diag = q->diag;
      }
    } else {
      q->cb(a, status, status == 0 ? q->res : NULL, &q->diag, q->arg);
    }
    pop(a);
  }
  bool setup_done = a->head->kind == K_SETUP_SYNC;
  pop(a);
  if (setup_done) {
    if (a->setup_rc != 0) {
      fail_conn(a, &a->setup_diag);
      return false;
    }
    a->st = ST_READY;
    a->attempt = 0;
    a->stats.connects++;
    if (a->state_cb) a->state_cb(a, true, a->state_arg);
  }
  return true;
}

/* Reads every result that is available, walking the queue in step with
 * libpq: per statement one result then NULL (no NULL after an aborted one),
 * per Sync one PGRES_PIPELINE_SYNC. Results are held until their Sync.
 * Returns false when the connection failed (already handled). */
static bool drain(struct folio_pg_async *a) {
  while (a->pg && !PQisBusy(a->pg)) {
    PGresult *r = PQgetResult(a->pg);
    struct areq *c = a->cursor;
    if (!r) {
      /* end of the current statement's results, or nothing to read */
      if (c && c->got && (c->kind == K_STMT || c->kind == K_SETUP_STMT)) {
        a->cursor = c->next;
        continue;
      }
      return true;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      if (!reach_sync(a)) return false;
      continue;
    }
    if (c && c->got) c = a->cursor = c->next; /* its NULL never came */
    if (!c || c->kind == K_SYNC || c->kind == K_SETUP_SYNC) {
      struct folio_pg_diag d;
      folio_pg_diag_set(&d, NULL, "pipeline out of step: a result nobody asked for (%s)",
                        PQresStatus(PQresultStatus(r)));
      PQclear(r);
      fail_conn(a, &d);
      return false;
    }
    c->got = true;
    c->status = result_status(a, r, &c->diag);
    if (c->status == 0) {
      c->res = r;
    } else {
      PQclear(r);
    }
  }
  return true;
}

void folio_pg_async_process(struct folio_pg_async *a, unsigned events) {
  int64_t now = folio_clock_mono_ns();
  if (a->st == ST_DOWN) {
    if (now >= a->retry_at_ns) start_connect(a);
    notify(a);
    return;
  }
  if (a->st == ST_CONNECTING) {
    if (now >= a->connect_deadline_ns) {
      struct folio_pg_diag d;
      folio_pg_diag_set(&d, "08006", "connect timed out after %d s", a->own.cfg.connect_timeout_s);
      fail_conn(a, &d);
      return;
    }
    PostgresPollingStatusType ps = PQconnectPoll(a->pg);
    int fd = PQsocket(a->pg);
    if (fd != a->fd) { /* libpq moved on to another address */
      a->fd = -1;
      notify(a);
      a->fd = fd;
    }
    if (ps == PGRES_POLLING_FAILED) {
      fail_from_conn(a);
      return;
    }
    if (ps != PGRES_POLLING_OK) {
      a->want_write = ps == PGRES_POLLING_WRITING;
      notify(a);
      return;
    }
    begin_setup(a);
    if (a->st != ST_SETUP) return;
  }
  if (group_sync_due(a) && !send_group_sync(a)) {
    fail_from_conn(a);
    return;
  }
  a->flush_pending = false;
  int f = PQflush(a->pg);
  if (f < 0) {
    fail_from_conn(a);
    return;
  }
  a->want_write = f == 1;
  if ((events & 5u) || a->head) { /* FOLIO_LOOP_READ | FOLIO_LOOP_ERROR */
    if (!PQconsumeInput(a->pg)) {
      fail_from_conn(a);
      return;
    }
  }
  if (!drain(a)) return;
  if (group_sync_due(a)) { /* the previous group committed: close this one now */
    if (!send_group_sync(a) || (f = PQflush(a->pg)) < 0) {
      fail_from_conn(a);
      return;
    }
    a->want_write = f == 1;
  }
  notify(a);
}

int folio_pg_async_exec(struct folio_pg_async *a, int stmt, const struct folio_pg_params *p,
                        unsigned flags, folio_pg_async_cb cb, void *arg) {
  assert(!a->loop || folio_loop_affine(a->loop)); /* loop thread only (folio/pg_async.h) */
  if (!cb || stmt < 0 || (size_t)stmt >= a->own.cfg.nstmts ||
      (p ? p->n : 0) != a->own.cfg.stmts[stmt].nparams)
    return FOLIO_PG_EINVAL;
  if (a->st != ST_READY || a->destroying) return FOLIO_PG_ECONNECT;
  if (a->inflight >= a->max_inflight) return FOLIO_PG_ETIMEOUT;
  bool group = flags & FOLIO_PG_ASYNC_GROUP;
  if (!group && a->sync_pending) {
    /* close the open group first: this statement commits on its own */
    if (!send_group_sync(a)) return FOLIO_PG_ECONNECT;
  }
  const struct folio_pg_stmt *s = &a->own.cfg.stmts[stmt];
  if (!PQsendQueryPrepared(a->pg, s->name, p ? p->n : 0, p ? p->values : NULL,
                           p ? p->lengths : NULL, p ? p->formats : NULL, s->binary_results))
    return FOLIO_PG_ECONNECT;
  if (!push(a, K_STMT, cb, arg)) return FOLIO_PG_ENOMEM; /* (libpq will answer into the void) */
  a->stats.statements++;
  if (group) {
    a->sync_pending = true;
  } else {
    if (!PQpipelineSync(a->pg) || !push(a, K_SYNC, NULL, NULL)) {
      /* The statement is queued: it fails through its callback when
       * process() retries the Sync and meets the broken connection. */
      a->sync_pending = true;
    } else {
      a->stats.syncs++;
    }
  }
  a->flush_pending = true;
  notify(a); /* timeout 0: flush (and Sync) on this loop turn */
  return 0;
}

int folio_pg_async_create(const struct folio_pg_async_config *cfg, struct folio_pg_async **out,
                          struct folio_pg_diag *diag) {
  *out = NULL;
  if (!cfg || !cfg->conn.conninfo) {
    folio_pg_diag_set(diag, NULL, "folio_pg_async_create: conninfo is required");
    return FOLIO_PG_EINVAL;
  }
  struct folio_pg_async *a = calloc(1, sizeof *a);
  if (!a || folio_pg_conn_config_copy(&a->own, &cfg->conn) != 0) {
    free(a);
    folio_pg_diag_set(diag, NULL, "out of memory");
    return FOLIO_PG_ENOMEM;
  }
  a->backoff_initial_ms = cfg->backoff_initial_ms > 0 ? cfg->backoff_initial_ms : 50;
  a->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 2000;
  a->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 4096;
  a->rng = (uint32_t)folio_clock_mono_ns() | 1u;
  a->fd = -1;
  a->st = ST_DOWN;
  a->retry_at_ns = 0; /* connect on the first process() */
  *out = a;
  return 0;
}

void folio_pg_async_destroy(struct folio_pg_async *a) {
  if (!a) return;
  a->destroying = true;
  struct folio_pg_diag d;
  folio_pg_diag_set(&d, "08003", "the client was destroyed");
  fail_conn(a, &d);
  if (a->detach) a->detach(a->detach_arg);
  folio_pg_conn_config_free(&a->own);
  free(a);
}

void folio_pg_async_set_state_cb(struct folio_pg_async *a, folio_pg_async_state_cb cb, void *arg) {
  a->state_cb = cb;
  a->state_arg = arg;
}

bool folio_pg_async_ready(const struct folio_pg_async *a) { return a->st == ST_READY; }

void folio_pg_async_stats(const struct folio_pg_async *a, struct folio_pg_async_stats *out) {
  *out = a->stats;
  out->inflight = a->inflight;
}

int folio_pg_async_fd(const struct folio_pg_async *a) { return a->fd; }

unsigned folio_pg_async_interest(const struct folio_pg_async *a) {
  if (a->fd < 0) return 0;
  if (a->st == ST_CONNECTING) return a->want_write ? 2u : 1u; /* WRITE : READ */
  return 1u | (a->want_write ? 2u : 0u);
}

int folio_pg_async_timeout_ms(const struct folio_pg_async *a) {
  int64_t now = folio_clock_mono_ns();
  if (a->destroying) return -1;
  if (a->st == ST_DOWN) {
    int64_t ms = (a->retry_at_ns - now) / 1000000;
    return ms < 0 ? 0 : (int)ms;
  }
  if (a->flush_pending || group_sync_due(a)) return 0;
  if (a->st == ST_CONNECTING) {
    int64_t ms = (a->connect_deadline_ns - now) / 1000000 + 1;
    return ms < 0 ? 0 : (int)ms;
  }
  return -1;
}

void folio_pg_async_set_notify(struct folio_pg_async *a, folio_pg_async_notify_cb cb, void *arg) {
  a->notify = cb;
  a->notify_arg = arg;
}

void folio_pg_async_set_loop(struct folio_pg_async *a, const struct folio_loop *loop) {
  a->loop = loop;
}

void folio_pg_async_set_detach(struct folio_pg_async *a, void (*fn)(void *), void *arg) {
  a->detach = fn;
  a->detach_arg = arg;
}
