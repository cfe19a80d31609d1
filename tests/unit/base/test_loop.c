/* folio_loop: fd watches, timers, cross-thread post, stop, and the
 * exactly-once / never-after-unwatch rules of folio/loop.h. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "folio/loop.h"

struct pipes {
  int a[2], b[2];
  int a_calls, b_calls;
};

static void on_b(struct folio_loop *loop, int fd, unsigned ev, void *arg) {
  struct pipes *p = arg;
  p->b_calls++;
}

/* Reading end a: unwatches b in the same iteration, so b's already-collected
 * event must be dropped. */
static void on_a(struct folio_loop *loop, int fd, unsigned ev, void *arg) {
  struct pipes *p = arg;
  p->a_calls++;
  CHECK(ev & FOLIO_LOOP_READ);
  char c;
  CHECK_EQ_INT(read(fd, &c, 1), 1);
  CHECK_EQ_INT(folio_loop_unwatch(loop, p->b[0]), 0);
}

static void test_watch_unwatch(void) {
  struct folio_loop *loop = folio_loop_create();
  CHECK(loop);
  struct pipes p = {0};
  CHECK_EQ_INT(pipe(p.a), 0);
  CHECK_EQ_INT(pipe(p.b), 0);
  CHECK_EQ_INT(folio_loop_watch(loop, p.a[0], FOLIO_LOOP_READ, on_a, &p), 0);
  CHECK_EQ_INT(folio_loop_watch(loop, p.b[0], FOLIO_LOOP_READ, on_b, &p), 0);
  /* a is registered first, so epoll reports it first */
  CHECK_EQ_INT(write(p.a[1], "x", 1), 1);
  CHECK_EQ_INT(write(p.b[1], "y", 1), 1);
  for (int i = 0; i < 3; i++) CHECK(folio_loop_run_once(loop, 0) >= 0);
  CHECK_EQ_INT(p.a_calls, 1);
  /* b may have been reported before a in the first batch; if a ran first, b
   * must never be called after the unwatch */
  CHECK(p.b_calls <= 1);
  int b_before = p.b_calls;
  for (int i = 0; i < 3; i++) CHECK(folio_loop_run_once(loop, 0) >= 0);
  CHECK_EQ_INT(p.b_calls, b_before);
  CHECK_EQ_INT(folio_loop_unwatch(loop, p.b[0]), -ENOENT);
  CHECK_EQ_INT(folio_loop_watch(loop, -1, FOLIO_LOOP_READ, on_a, &p), -EINVAL);
  /* write interest on a pipe's write end is ready at once */
  CHECK_EQ_INT(folio_loop_watch(loop, p.b[1], FOLIO_LOOP_WRITE, on_b, &p), 0);
  CHECK(folio_loop_run_once(loop, 1000) >= 1);
  CHECK_EQ_INT(p.b_calls, b_before + 1);
  /* interest 0 keeps the registration quiet */
  CHECK_EQ_INT(folio_loop_watch(loop, p.b[1], 0, on_b, &p), 0);
  CHECK_EQ_INT(folio_loop_run_once(loop, 0), 0);
  CHECK_EQ_INT(p.b_calls, b_before + 1);
  CHECK_EQ_INT(folio_loop_unwatch(loop, p.b[1]), 0);
  CHECK_EQ_INT(folio_loop_unwatch(loop, p.a[0]), 0);
  for (int i = 0; i < 2; i++) {
    close(p.a[i]);
    close(p.b[i]);
  }
  folio_loop_destroy(loop);
}

struct timers {
  struct folio_loop_timer once, rep, never;
  int once_calls, rep_calls, never_calls;
  int order[8], norder;
};

static void on_once(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct timers *ts = arg;
  ts->once_calls++;
  CHECK(!folio_loop_timer_active(t)); /* one-shot: inactive inside its callback */
  ts->order[ts->norder++] = 1;
}
static void on_rep(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct timers *ts = arg;
  if (ts->norder < 8) ts->order[ts->norder++] = 2;
  if (++ts->rep_calls == 3) {
    folio_loop_timer_stop(loop, t);
    folio_loop_stop(loop);
  }
}
static void on_never(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  ((struct timers *)arg)->never_calls++;
}

static void test_timers(void) {
  struct folio_loop *loop = folio_loop_create();
  struct timers ts = {0};
  folio_loop_timer_init(&ts.once);
  folio_loop_timer_init(&ts.rep);
  folio_loop_timer_init(&ts.never);
  folio_loop_timer_start(loop, &ts.rep, 5, 5, on_rep, &ts);
  folio_loop_timer_start(loop, &ts.once, 1, 0, on_once, &ts);
  folio_loop_timer_start(loop, &ts.never, 1, 0, on_never, &ts);
  folio_loop_timer_stop(loop, &ts.never);
  folio_loop_timer_stop(loop, &ts.never); /* harmless twice */
  CHECK_EQ_INT(folio_loop_run(loop), 0);
  CHECK_EQ_INT(ts.once_calls, 1);
  CHECK_EQ_INT(ts.rep_calls, 3);
  CHECK_EQ_INT(ts.never_calls, 0);
  CHECK_EQ_INT(ts.order[0], 1); /* the 1 ms timer fires before the 5 ms one */
  CHECK(!folio_loop_timer_active(&ts.rep));
  /* a timer still active at destroy is dropped without a callback */
  folio_loop_timer_start(loop, &ts.never, 100000, 0, on_never, &ts);
  folio_loop_destroy(loop);
  CHECK_EQ_INT(ts.never_calls, 0);
  CHECK(!folio_loop_timer_active(&ts.never));
}

#define POSTERS 4
#define POSTS 5000

struct post_state {
  struct folio_loop *loop;
  atomic_int ran;
  int on_thread_failures;
  int last_seq[POSTERS];
  int order_failures;
};

struct post_arg {
  struct post_state *st;
  int poster, seq;
};

static void posted_fn(struct folio_loop *loop, void *arg) {
  struct post_arg *pa = arg;
  struct post_state *st = pa->st;
  if (!folio_loop_on_thread(loop)) st->on_thread_failures++;
  if (pa->seq != st->last_seq[pa->poster] + 1) st->order_failures++;
  st->last_seq[pa->poster] = pa->seq;
  if (atomic_fetch_add(&st->ran, 1) + 1 == POSTERS * POSTS) folio_loop_stop(loop);
  free(pa);
}

static void *poster(void *arg) {
  struct post_arg *proto = arg;
  CHECK(!folio_loop_on_thread(proto->st->loop));
  for (int i = 1; i <= POSTS; i++) {
    struct post_arg *pa = malloc(sizeof *pa);
    *pa = (struct post_arg){proto->st, proto->poster, i};
    CHECK_EQ_INT(folio_loop_post(proto->st->loop, posted_fn, pa), 0);
  }
  return NULL;
}

static void test_post_threads(void) {
  struct post_state st = {.loop = folio_loop_create()};
  pthread_t th[POSTERS];
  struct post_arg protos[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    protos[i] = (struct post_arg){&st, i, 0};
    CHECK_EQ_INT(pthread_create(&th[i], NULL, poster, &protos[i]), 0);
  }
  CHECK_EQ_INT(folio_loop_run(st.loop), 0);
  for (int i = 0; i < POSTERS; i++) pthread_join(th[i], NULL);
  CHECK_EQ_INT(atomic_load(&st.ran), POSTERS * POSTS);
  CHECK_EQ_INT(st.on_thread_failures, 0);
  CHECK_EQ_INT(st.order_failures, 0); /* FIFO per posting thread */
  folio_loop_destroy(st.loop);
}

static void count_fn(struct folio_loop *loop, void *arg) { (*(int *)arg)++; }

static void repost_fn(struct folio_loop *loop, void *arg) {
  int *n = arg;
  if ((*n)++ < 3) CHECK_EQ_INT(folio_loop_post(loop, repost_fn, n), 0);
}

static void test_post_exactly_once(void) {
  struct folio_loop *loop = folio_loop_create();
  int n = 0;
  /* a post from the loop thread runs in a later iteration, not inline */
  CHECK_EQ_INT(folio_loop_post(loop, repost_fn, &n), 0);
  CHECK(folio_loop_run_once(loop, 0) >= 1);
  CHECK_EQ_INT(n, 1);
  /* stop before run: run returns at once; pending posts still run, at destroy */
  folio_loop_stop(loop);
  CHECK_EQ_INT(folio_loop_run(loop), 0);
  int m = 0;
  CHECK_EQ_INT(folio_loop_post(loop, count_fn, &m), 0);
  CHECK_EQ_INT(folio_loop_post(loop, count_fn, &m), 0);
  folio_loop_destroy(loop); /* runs repost chain to its end and both counts */
  CHECK_EQ_INT(m, 2);
  CHECK_EQ_INT(n, 4);
  folio_loop_destroy(NULL);
}

/* ---- affinity: folio_loop_affine, and the asserts built on it ---- */

struct affine_state {
  struct folio_loop *loop;
  atomic_bool running;
  atomic_bool on_loop_affine;
};

static void note_affine(struct folio_loop *loop, void *arg) {
  struct affine_state *s = arg;
  atomic_store(&s->on_loop_affine, folio_loop_affine(loop));
  atomic_store(&s->running, true);
}

static void *run_loop(void *arg) {
  folio_loop_run(arg);
  return NULL;
}

static void *affine_elsewhere(void *arg) {
  return (void *)(intptr_t)folio_loop_affine(arg);
}

/* Starts s->loop on its own thread and waits until it runs. */
static pthread_t start_loop_thread(struct affine_state *s) {
  pthread_t t;
  CHECK_EQ_INT(pthread_create(&t, NULL, run_loop, s->loop), 0);
  CHECK_EQ_INT(folio_loop_post(s->loop, note_affine, s), 0);
  while (!atomic_load(&s->running)) usleep(1000);
  return t;
}

static void test_affine(void) {
  struct affine_state s = {.loop = folio_loop_create()};
  /* set-up: any single thread may use it */
  CHECK(folio_loop_affine(s.loop));
  pthread_t other;
  void *res;
  CHECK_EQ_INT(pthread_create(&other, NULL, affine_elsewhere, s.loop), 0);
  pthread_join(other, &res);
  CHECK(res != NULL);
  /* running: only its own thread */
  pthread_t t = start_loop_thread(&s);
  CHECK(atomic_load(&s.on_loop_affine));
  CHECK(!folio_loop_affine(s.loop));
  folio_loop_stop(s.loop);
  pthread_join(t, NULL);
  /* tear-down: any single thread again */
  CHECK(folio_loop_affine(s.loop));
  folio_loop_destroy(s.loop);

#ifndef NDEBUG
  /* a loop-only call from another thread while the loop runs aborts */
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct affine_state c = {.loop = folio_loop_create()};
    start_loop_thread(&c);
    struct folio_loop_timer tm;
    folio_loop_timer_init(&tm);
    folio_loop_timer_start(c.loop, &tm, 1000, 0, NULL, NULL); /* must abort here */
    _exit(0);
  }
  int status = 0;
  CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
            "a timer started off the loop thread did not abort (status %d)", status);
#endif
}

int main(void) {
  test_affine();
  test_watch_unwatch();
  test_timers();
  test_post_threads();
  test_post_exactly_once();
  return check_done();
}
