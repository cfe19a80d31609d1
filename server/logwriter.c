/* Double buffering: producers append whole lines to `fill` under mu; the
 * writer swaps it with its own empty buffer and writes outside the lock, so
 * a producer waits at most for a memcpy, never for I/O. Every write(2)
 * carries only whole lines.
 *
 * Wakeups are batched: a producer signals only when the writer sleeps on the
 * condition variable, and a writer woken that way lingers LINGER_NS before it
 * takes the buffer, so under load it is woken (a futex call and a context
 * switch) and writes at most about once per LINGER_NS rather than once per
 * call. A line reaches the fd at most LINGER_NS plus one write later. */
#include "logwriter.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 1 ms: far below anything a reader of the log notices. */
#define LINGER_NS 1000000

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool running, stopping;
  bool sleeping; /* the writer waits on cv: the next line must signal it */
  int fd;
  size_t cap;
  char *fill, *spare; /* cap bytes each */
  size_t fill_len;
  uint64_t dropped;
} w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = 2};

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return; /* nowhere left to report it */
    }
    p += k;
    n -= (size_t)k;
  }
}

static void *writer(void *arg) {
  (void)arg;
  pthread_mutex_lock(&w.mu);
  for (;;) {
    bool slept = false;
    while (w.fill_len == 0 && w.dropped == 0 && !w.stopping) {
      w.sleeping = slept = true;
      pthread_cond_wait(&w.cv, &w.mu);
      w.sleeping = false;
    }
    if (w.fill_len == 0 && w.dropped == 0 && w.stopping) break;
    if (slept && !w.stopping) {
      /* Let the lines of the next LINGER_NS join this one's write. */
      pthread_mutex_unlock(&w.mu);
      struct timespec ts = {0, LINGER_NS};
      while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
      }
      pthread_mutex_lock(&w.mu);
    }
    char *buf = w.fill;
    size_t len = w.fill_len;
    uint64_t dropped = w.dropped;
    w.fill = w.spare;
    w.fill_len = 0;
    w.dropped = 0;
    pthread_mutex_unlock(&w.mu);
    write_all(w.fd, buf, len);
    if (dropped) {
      struct folio_logline l;
      folio_log_begin(&l, FOLIO_LOG_WARN, "log lines dropped");
      folio_log_int(&l, "count", (int64_t)dropped);
      folio_log_str(&l, "why", "stderr was slower than the calls being logged");
      size_t n = folio_log_finish(&l);
      write_all(w.fd, l.buf, n);
    }
    pthread_mutex_lock(&w.mu);
    w.spare = buf;
  }
  pthread_mutex_unlock(&w.mu);
  return NULL;
}

int srv_logwriter_start(int fd, size_t cap) {
  char *a = malloc(cap), *b = malloc(cap);
  if (!a || !b) {
    free(a);
    free(b);
    return -1;
  }
  pthread_mutex_lock(&w.mu);
  w.fd = fd;
  w.cap = cap;
  w.fill = a;
  w.spare = b;
  w.fill_len = 0;
  w.dropped = 0;
  w.stopping = false;
  int rc = pthread_create(&w.thread, NULL, writer, NULL);
  w.running = rc == 0;
  pthread_mutex_unlock(&w.mu);
  if (rc != 0) {
    free(a);
    free(b);
    return -1;
  }
  return 0;
}

void srv_logwriter_end(struct folio_logline *l) {
  size_t n = folio_log_finish(l);
  if (n == 0) return;
  pthread_mutex_lock(&w.mu);
  if (!w.running) {
    pthread_mutex_unlock(&w.mu);
    write_all(w.fd, l->buf, n);
    return;
  }
  if (w.cap - w.fill_len < n) {
    w.dropped++;
  } else {
    memcpy(w.fill + w.fill_len, l->buf, n);
    w.fill_len += n;
  }
  if (w.sleeping) {
    w.sleeping = false; /* one signal per sleep, however many lines follow */
    pthread_cond_signal(&w.cv);
  }
  pthread_mutex_unlock(&w.mu);
}

void srv_logwriter_stop(void) {
  pthread_mutex_lock(&w.mu);
  if (!w.running) {
    pthread_mutex_unlock(&w.mu);
    return;
  }
  w.stopping = true;
  pthread_cond_signal(&w.cv);
  pthread_mutex_unlock(&w.mu);
  pthread_join(w.thread, NULL);
  pthread_mutex_lock(&w.mu);
  w.running = false;
  free(w.fill);
  free(w.spare);
  w.fill = w.spare = NULL;
  pthread_mutex_unlock(&w.mu);
}
