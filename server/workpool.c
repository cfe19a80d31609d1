/* A bounded FIFO of (fn, arg) served by N threads; see workpool.h. A ring
 * buffer under one mutex: tasks are coarse (a layout decode, a database round
 * trip), so the lock is never the bottleneck. */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct task {
  folio_workpool_fn fn;
  void *arg;
};

struct folio_workpool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct task *ring;
  size_t cap, head, count;
  bool stopping;
  int nthreads;
  pthread_t *threads;
};

static void *run(void *arg) {
  struct folio_workpool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->count == 0 && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
    if (p->count == 0) break; /* stopping and drained */
    struct task t = p->ring[p->head];
    p->head = (p->head + 1) % p->cap;
    p->count--;
    pthread_mutex_unlock(&p->mu);
    t.fn(t.arg);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

struct folio_workpool *folio_workpool_create(int threads, size_t queue_cap) {
  if (threads < 1 || queue_cap < 1) {
    errno = EINVAL;
    return NULL;
  }
  struct folio_workpool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->ring = calloc(queue_cap, sizeof *p->ring);
  p->threads = calloc((size_t)threads, sizeof *p->threads);
  if (!p->ring || !p->threads) goto fail;
  p->cap = queue_cap;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (; p->nthreads < threads; p->nthreads++)
    if (pthread_create(&p->threads[p->nthreads], NULL, run, p) != 0) {
      folio_workpool_destroy(p);
      errno = EAGAIN;
      return NULL;
    }
  return p;
fail:
  free(p->ring);
  free(p->threads);
  free(p);
  errno = ENOMEM;
  return NULL;
}

void folio_workpool_destroy(struct folio_workpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->ring);
  free(p->threads);
  free(p);
}

int folio_workpool_submit(struct folio_workpool *p, folio_workpool_fn fn, void *arg) {
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  if (p->stopping || p->count == p->cap) {
    rc = -EAGAIN;
  } else {
    p->ring[(p->head + p->count) % p->cap] = (struct task){fn, arg};
    p->count++;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

size_t folio_workpool_queued(struct folio_workpool *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = p->count;
  pthread_mutex_unlock(&p->mu);
  return n;
}
