/* folio_loop implementation (contract in folio/loop.h).
 *
 * Design: one epoll fd; fd watches live in an array indexed by fd, each with a
 * generation number that is stored in the epoll event's data, so an event that
 * was collected for a registration that has since been removed (or replaced by
 * a new registration of a reused fd number) is recognised as stale and dropped.
 * Timers are caller-owned nodes in a list sorted by due time: folio's backends
 * keep a handful of timers (curl asks for one), so an O(n) insert is cheaper
 * than a heap and much simpler. Posted functions go into a mutex-protected FIFO;
 * an eventfd wakes epoll_wait. One iteration = wait, fds, due timers, posted
 * functions (taken as a batch, so a function that posts again runs next time). */
#include "folio/loop.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "folio/clock.h"

struct watch {
  folio_loop_io_cb cb;
  void *arg;
  unsigned events;
  uint32_t gen;
  bool used;
};

struct posted {
  folio_loop_fn fn;
  void *arg;
  struct posted *next;
};

struct folio_loop {
  int epfd;
  int evfd;
  struct watch *watches;
  size_t nwatches;
  uint32_t next_gen;
  struct folio_loop_timer *timers; /* sorted by due_ns, earliest first */
  pthread_mutex_t mu;              /* guards posted_* */
  struct posted *posted_head, *posted_tail;
  atomic_bool stop;
  atomic_bool running;
  pthread_t thread;
};

static uint32_t event_bits_to_epoll(unsigned events) {
  uint32_t e = 0;
  if (events & FOLIO_LOOP_READ) e |= EPOLLIN;
  if (events & FOLIO_LOOP_WRITE) e |= EPOLLOUT;
  return e;
}

struct folio_loop *folio_loop_create(void) {
  struct folio_loop *loop = calloc(1, sizeof *loop);
  if (!loop) return NULL;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  loop->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (loop->epfd < 0 || loop->evfd < 0) goto fail;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) != 0) goto fail;
  if (pthread_mutex_init(&loop->mu, NULL) != 0) goto fail;
  loop->next_gen = 1;
  return loop;
fail:;
  int err = errno;
  if (loop->epfd >= 0) close(loop->epfd);
  if (loop->evfd >= 0) close(loop->evfd);
  free(loop);
  errno = err;
  return NULL;
}

static struct posted *take_posted(struct folio_loop *loop) {
  pthread_mutex_lock(&loop->mu);
  struct posted *p = loop->posted_head;
  loop->posted_head = loop->posted_tail = NULL;
  pthread_mutex_unlock(&loop->mu);
  return p;
}

static int run_posted(struct folio_loop *loop, struct posted *p) {
  int n = 0;
  while (p) {
    struct posted *next = p->next;
    folio_loop_fn fn = p->fn;
    void *arg = p->arg;
    free(p);
    fn(loop, arg);
    n++;
    p = next;
  }
  return n;
}

void folio_loop_destroy(struct folio_loop *loop) {
  if (!loop) return;
  /* Posted functions run exactly once: drain until nothing new is posted. */
  struct posted *p;
  while ((p = take_posted(loop)) != NULL) run_posted(loop, p);
  for (struct folio_loop_timer *t = loop->timers; t;) {
    struct folio_loop_timer *next = t->next;
    t->active = false;
    t->prev = t->next = NULL;
    t = next;
  }
  close(loop->epfd);
  close(loop->evfd);
  pthread_mutex_destroy(&loop->mu);
  free(loop->watches);
  free(loop);
}

bool folio_loop_on_thread(const struct folio_loop *loop) {
  return atomic_load(&loop->running) && pthread_equal(loop->thread, pthread_self());
}

bool folio_loop_affine(const struct folio_loop *loop) {
  return !atomic_load(&loop->running) || pthread_equal(loop->thread, pthread_self());
}

static void wake(struct folio_loop *loop) {
  uint64_t one = 1;
  /* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
  ssize_t r = write(loop->evfd, &one, sizeof one);
  (void)r;
}

void folio_loop_stop(struct folio_loop *loop) {
  atomic_store(&loop->stop, true);
  wake(loop);
}

int folio_loop_post(struct folio_loop *loop, folio_loop_fn fn, void *arg) {
  struct posted *p = malloc(sizeof *p);
  if (!p) return -ENOMEM;
  p->fn = fn;
  p->arg = arg;
  p->next = NULL;
  pthread_mutex_lock(&loop->mu);
  bool was_empty = loop->posted_head == NULL;
  if (loop->posted_tail)
    loop->posted_tail->next = p;
  else
    loop->posted_head = p;
  loop->posted_tail = p;
  pthread_mutex_unlock(&loop->mu);
  if (was_empty) wake(loop);
  return 0;
}

int folio_loop_watch(struct folio_loop *loop, int fd, unsigned events, folio_loop_io_cb cb,
                     void *arg) {
  assert(folio_loop_affine(loop));
  if (fd < 0 || !cb || (events & ~(unsigned)(FOLIO_LOOP_READ | FOLIO_LOOP_WRITE))) return -EINVAL;
  if ((size_t)fd >= loop->nwatches) {
    size_t n = loop->nwatches ? loop->nwatches : 64;
    while (n <= (size_t)fd) n *= 2;
    struct watch *w = realloc(loop->watches, n * sizeof *w);
    if (!w) return -ENOMEM;
    memset(w + loop->nwatches, 0, (n - loop->nwatches) * sizeof *w);
    loop->watches = w;
    loop->nwatches = n;
  }
  struct watch *w = &loop->watches[fd];
  bool add = !w->used;
  uint32_t gen = add ? loop->next_gen++ : w->gen;
  if (loop->next_gen == 0) loop->next_gen = 1;
  struct epoll_event ev = {.events = event_bits_to_epoll(events),
                           .data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)gen << 32)};
  int rc = epoll_ctl(loop->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
  /* A registration outlives its fd when the owner closed the fd without
   * unwatching (epoll then forgets it): re-adding the new fd of that number is
   * what the caller means. */
  if (rc != 0 && !add && errno == ENOENT) rc = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
  if (rc != 0) return -errno;
  w->used = true;
  w->gen = gen;
  w->cb = cb;
  w->arg = arg;
  w->events = events;
  return 0;
}

int folio_loop_unwatch(struct folio_loop *loop, int fd) {
  assert(folio_loop_affine(loop));
  if (fd < 0 || (size_t)fd >= loop->nwatches || !loop->watches[fd].used) return -ENOENT;
  /* The fd may already be closed (epoll dropped it then); that is not an error. */
  epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
  memset(&loop->watches[fd], 0, sizeof loop->watches[fd]);
  return 0;
}

void folio_loop_timer_init(struct folio_loop_timer *t) { memset(t, 0, sizeof *t); }

bool folio_loop_timer_active(const struct folio_loop_timer *t) { return t->active; }

void folio_loop_timer_stop(struct folio_loop *loop, struct folio_loop_timer *t) {
  assert(folio_loop_affine(loop));
  if (!t->active) return;
  if (t->prev)
    t->prev->next = t->next;
  else
    loop->timers = t->next;
  if (t->next) t->next->prev = t->prev;
  t->prev = t->next = NULL;
  t->active = false;
}

static void timer_insert(struct folio_loop *loop, struct folio_loop_timer *t) {
  struct folio_loop_timer **pp = &loop->timers, *prev = NULL;
  /* Equal due times keep start order (insert after them). */
  while (*pp && (*pp)->due_ns <= t->due_ns) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  t->next = *pp;
  t->prev = prev;
  if (*pp) (*pp)->prev = t;
  *pp = t;
  t->active = true;
}

void folio_loop_timer_start(struct folio_loop *loop, struct folio_loop_timer *t,
                            uint64_t delay_ms, uint64_t repeat_ms, folio_loop_timer_cb cb,
                            void *arg) {
  assert(folio_loop_affine(loop));
  folio_loop_timer_stop(loop, t);
  t->due_ns = folio_clock_mono_ns() + (int64_t)delay_ms * 1000000;
  t->repeat_ns = repeat_ms * 1000000;
  t->cb = cb;
  t->arg = arg;
  timer_insert(loop, t);
}

static int timeout_for(struct folio_loop *loop, int timeout_ms) {
  if (!loop->timers) return timeout_ms;
  int64_t left = loop->timers->due_ns - folio_clock_mono_ns();
  int t = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
  if (timeout_ms < 0 || t < timeout_ms) return t;
  return timeout_ms;
}

static int run_timers(struct folio_loop *loop) {
  int n = 0;
  int64_t now = folio_clock_mono_ns();
  /* Only timers due now; a repeating timer rescheduled into the past (slow
   * callback) runs again next iteration, not in a tight loop here. */
  struct folio_loop_timer *t;
  int budget = 1024;
  while ((t = loop->timers) != NULL && t->due_ns <= now && budget-- > 0) {
    folio_loop_timer_stop(loop, t);
    if (t->repeat_ns) {
      t->due_ns = now + (int64_t)t->repeat_ns;
      timer_insert(loop, t);
    }
    t->cb(loop, t, t->arg);
    n++;
  }
  return n;
}

int folio_loop_run_once(struct folio_loop *loop, int timeout_ms) {
  bool was_running = atomic_load(&loop->running);
  if (!was_running) {
    loop->thread = pthread_self();
    atomic_store(&loop->running, true);
  }
  struct epoll_event evs[64];
  int n = epoll_wait(loop->epfd, evs, 64, timeout_for(loop, timeout_ms));
  int ran = 0;
  if (n < 0) {
    if (errno != EINTR) {
      int err = -errno;
      if (!was_running) atomic_store(&loop->running, false);
      return err;
    }
    n = 0;
  }
  for (int i = 0; i < n; i++) {
    uint64_t d = evs[i].data.u64;
    if (d == UINT64_MAX) {
      uint64_t v;
      ssize_t r = read(loop->evfd, &v, sizeof v);
      (void)r;
      continue;
    }
    int fd = (int)(uint32_t)d;
    uint32_t gen = (uint32_t)(d >> 32);
    if ((size_t)fd >= loop->nwatches) continue;
    struct watch *w = &loop->watches[fd];
    if (!w->used || w->gen != gen) continue; /* stale: unwatched meanwhile */
    unsigned got = 0;
    if (evs[i].events & EPOLLIN) got |= FOLIO_LOOP_READ;
    if (evs[i].events & EPOLLOUT) got |= FOLIO_LOOP_WRITE;
    if (evs[i].events & (EPOLLERR | EPOLLHUP)) got |= FOLIO_LOOP_ERROR;
    w->cb(loop, fd, got, w->arg);
    ran++;
  }
  ran += run_timers(loop);
  ran += run_posted(loop, take_posted(loop));
  if (!was_running) atomic_store(&loop->running, false);
  return ran;
}

int folio_loop_run(struct folio_loop *loop) {
  loop->thread = pthread_self();
  atomic_store(&loop->running, true);
  int rc = 0;
  while (!atomic_load(&loop->stop)) {
    int r = folio_loop_run_once(loop, -1);
    if (r < 0) {
      rc = r;
      break;
    }
  }
  atomic_store(&loop->stop, false);
  atomic_store(&loop->running, false);
  return rc;
}
