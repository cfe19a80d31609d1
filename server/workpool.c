/* A bounded pool of N threads with per-owner fair queuing; see workpool.h.
 *
 * Tasks wait in one FIFO per owner (a tenant; "" for the server's own work).
 * A free thread serves the owners round-robin, skipping an owner that
 * already runs its share, so one tenant flooding the pool holds at most its
 * share of the threads and its queued tasks interleave with everybody
 * else's instead of standing in front of them. One mutex: tasks are coarse
 * (a layout decode, a database round trip), and a dispatch scans only the
 * owners with something queued or running, which is few. */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct task {
  struct task *next;
  srv_workpool_fn fn;
  void *arg;
};

struct owner {
  char name[129];
  int share;   /* running at most this many */
  int running;
  size_t queued;
  struct task *head, *tail;
};

struct srv_workpool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t cap, count; /* queued tasks, all owners */
  size_t owner_cap;  /* queued tasks of one owner */
  struct owner **owners; /* those with queued or running tasks */
  size_t nowners, owners_cap;
  size_t rr; /* index of the owner served last */
  bool stopping;
  int nthreads;
  pthread_t *threads;
};

/* Under p->mu. The owner's slot, created on demand (NULL: out of memory). */
static struct owner *owner_get(struct srv_workpool *p, const char *name) {
  for (size_t i = 0; i < p->nowners; i++)
    if (strcmp(p->owners[i]->name, name) == 0) return p->owners[i];
  if (p->nowners == p->owners_cap) {
    size_t n = p->owners_cap ? 2 * p->owners_cap : 8;
    struct owner **o = realloc(p->owners, n * sizeof *o);
    if (!o) return NULL;
    p->owners = o;
    p->owners_cap = n;
  }
  struct owner *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  snprintf(o->name, sizeof o->name, "%s", name);
  p->owners[p->nowners++] = o;
  return o;
}

/* Under p->mu: forgets an owner with nothing queued or running. */
static void owner_maybe_free(struct srv_workpool *p, struct owner *o) {
  if (o->running || o->queued) return;
  for (size_t i = 0; i < p->nowners; i++)
    if (p->owners[i] == o) {
      p->owners[i] = p->owners[--p->nowners];
      break;
    }
  free(o);
}

/* Under p->mu: the next owner round-robin with a task queued and a free
 * share, or NULL. */
static struct owner *pick(struct srv_workpool *p) {
  for (size_t k = 1; k <= p->nowners; k++) { /* starting after the last one served */
    size_t i = (p->rr + k) % p->nowners;
    struct owner *o = p->owners[i];
    if (o->queued && o->running < o->share) {
      p->rr = i;
      return o;
    }
  }
  return NULL;
}

static void *run(void *arg) {
  struct srv_workpool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    struct owner *o;
    while (!(o = pick(p)) && !(p->count == 0 && p->stopping)) pthread_cond_wait(&p->cv, &p->mu);
    if (!o) break; /* stopping and drained */
    struct task *t = o->head;
    o->head = t->next;
    if (!o->head) o->tail = NULL;
    o->queued--;
    o->running++;
    p->count--;
    pthread_mutex_unlock(&p->mu);
    t->fn(t->arg);
    free(t);
    pthread_mutex_lock(&p->mu);
    o->running--;
    bool waiting = o->queued > 0;
    owner_maybe_free(p, o);
    /* a thread may be waiting for this owner's share to free up */
    if (waiting || p->stopping) pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

struct srv_workpool *srv_workpool_create(int threads, size_t queue_cap) {
  if (threads < 1 || queue_cap < 1) {
    errno = EINVAL;
    return NULL;
  }
  struct srv_workpool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = calloc((size_t)threads, sizeof *p->threads);
  if (!p->threads) {
    free(p);
    errno = ENOMEM;
    return NULL;
  }
  p->cap = queue_cap;
  p->owner_cap = queue_cap / 2 > 0 ? queue_cap / 2 : 1;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (; p->nthreads < threads; p->nthreads++)
    if (pthread_create(&p->threads[p->nthreads], NULL, run, p) != 0) {
      srv_workpool_destroy(p);
      errno = EAGAIN;
      return NULL;
    }
  return p;
}

void srv_workpool_destroy(struct srv_workpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
  for (size_t i = 0; i < p->nowners; i++) free(p->owners[i]); /* drained: no tasks left */
  free(p->owners);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->threads);
  free(p);
}

int srv_workpool_threads(const struct srv_workpool *p) { return p->nthreads; }

int srv_workpool_submit_owned(struct srv_workpool *p, const char *owner, int share,
                                srv_workpool_fn fn, void *arg) {
  struct task *t = malloc(sizeof *t);
  if (!t) return -EAGAIN;
  *t = (struct task){NULL, fn, arg};
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  struct owner *o = NULL;
  bool owned = owner && *owner;
  if (p->stopping || p->count == p->cap || !(o = owner_get(p, owned ? owner : ""))) {
    rc = -EAGAIN;
  } else if (owned && o->queued >= p->owner_cap) {
    rc = -EAGAIN; /* its share is busy and its queue long: the others keep theirs */
  } else {
    o->share = owned ? (share < 1 ? 1 : share > p->nthreads ? p->nthreads : share) : p->nthreads;
    if (o->tail) o->tail->next = t;
    else o->head = t;
    o->tail = t;
    o->queued++;
    p->count++;
    pthread_cond_signal(&p->cv);
  }
  if (rc && o) owner_maybe_free(p, o);
  pthread_mutex_unlock(&p->mu);
  if (rc) free(t);
  return rc;
}

int srv_workpool_submit(struct srv_workpool *p, srv_workpool_fn fn, void *arg) {
  return srv_workpool_submit_owned(p, NULL, 0, fn, arg);
}

size_t srv_workpool_queued(struct srv_workpool *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = p->count;
  pthread_mutex_unlock(&p->mu);
  return n;
}
