/* folio_loop: a small epoll event loop that backend clients plug into.
 *
 * One loop runs on one thread (the "loop thread": whoever calls
 * folio_loop_run()). It offers exactly what libcurl multi, libpq and hiredis need
 * from a reactor: fd watches with read/write interest, one-shot and repeating
 * timers, and folio_loop_post() to run a function on the loop thread from any
 * other thread (eventfd wakeup). Backend clients never own the loop; they take a
 * loop and register their fds and timers on it (docs/architecture.md,
 * "Practices": libraries don't own the loop).
 *
 * Thread rules
 *  - folio_loop_post(), folio_loop_stop(), folio_loop_on_thread() and
 *    folio_loop_affine() may be called from any thread, at any time between
 *    create and destroy.
 *  - Everything else (watch, unwatch, timer start/stop, run) is for the loop
 *    thread only — or for any single thread while the loop is not running (set-up
 *    before run, tear-down after it returned). Those functions assert it
 *    (folio_loop_affine), and so do the loop-only entry points of the clients
 *    built on a loop (lib/redis commands, lib/pg async exec, the server's
 *    dispatch): a call from another thread while the loop runs aborts in a
 *    build with assertions instead of corrupting state now and then.
 *
 * Callback rules
 *  - Callbacks run on the loop thread, never re-entrantly from the registering
 *    call itself.
 *  - An fd callback runs for every readiness report until folio_loop_unwatch();
 *    after unwatch returns it never runs again for that registration, even if
 *    the event was already collected in the current iteration.
 *  - A timer callback runs once per expiry; after folio_loop_timer_stop() it
 *    never runs again. A one-shot timer is inactive when its callback starts, so
 *    the callback may start it again.
 *  - A function accepted by folio_loop_post() runs exactly once: on the loop
 *    thread while the loop runs, or — if the loop is destroyed first — inside
 *    folio_loop_destroy() on the destroying thread, so that it can free what it
 *    owns. Posted functions run in the order they were posted.
 *
 * Errors: functions return 0 or a negative errno value. */
#ifndef FOLIO_LOOP_H
#define FOLIO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct folio_loop;

/* Interest / readiness bits for fd watches. */
enum {
  FOLIO_LOOP_READ = 1u << 0,
  FOLIO_LOOP_WRITE = 1u << 1,
  FOLIO_LOOP_ERROR = 1u << 2, /* only reported (EPOLLERR/EPOLLHUP), never requested */
};

typedef void (*folio_loop_io_cb)(struct folio_loop *loop, int fd, unsigned events, void *arg);
typedef void (*folio_loop_fn)(struct folio_loop *loop, void *arg);

struct folio_loop_timer;
typedef void (*folio_loop_timer_cb)(struct folio_loop *loop, struct folio_loop_timer *t,
                                    void *arg);

/* A timer's memory belongs to the caller (embed it in your own struct); the loop
 * only links it while it is active. Zero-initialise it (or call
 * folio_loop_timer_init) before first use. The fields are private. */
struct folio_loop_timer {
  int64_t due_ns;
  uint64_t repeat_ns;
  folio_loop_timer_cb cb;
  void *arg;
  struct folio_loop_timer *prev, *next;
  bool active;
};

/* Returns a new loop (caller frees with folio_loop_destroy) or NULL with errno. */
struct folio_loop *folio_loop_create(void);
/* Runs posted functions still queued (see above), then frees the loop. Watches
 * and timers still registered are dropped without callbacks. NULL allowed.
 * Must not be called while folio_loop_run() is running. */
void folio_loop_destroy(struct folio_loop *loop);

/* Runs until folio_loop_stop(). Returns 0, or a negative errno if epoll fails.
 * The calling thread becomes the loop thread for the duration. */
int folio_loop_run(struct folio_loop *loop);
/* One iteration: waits at most timeout_ms (-1 = until something happens, 0 =
 * poll), dispatches what is ready. Returns the number of callbacks run (>= 0) or
 * a negative errno. For tests and for callers that drive the loop themselves. */
int folio_loop_run_once(struct folio_loop *loop, int timeout_ms);
/* Makes folio_loop_run() return after the current iteration. Any thread. A stop
 * requested before run() started makes the next run() return at once. */
void folio_loop_stop(struct folio_loop *loop);
/* True when called on the thread currently inside run()/run_once(). Any thread. */
bool folio_loop_on_thread(const struct folio_loop *loop);
/* True when the caller may use the loop-thread-only functions: it is the loop
 * thread, or the loop is not running (set-up, tear-down). For assertions:
 * assert(folio_loop_affine(loop)). Any thread. */
bool folio_loop_affine(const struct folio_loop *loop);

/* Watches fd for events (FOLIO_LOOP_READ | FOLIO_LOOP_WRITE); calling it again
 * for a watched fd replaces interest, callback and arg. events == 0 keeps the
 * registration with no interest. The fd stays owned by the caller; unwatch it
 * before closing it. Returns 0, -EINVAL, -ENOMEM or epoll's errno. */
int folio_loop_watch(struct folio_loop *loop, int fd, unsigned events, folio_loop_io_cb cb,
                     void *arg);
/* Stops watching fd; no callback for it runs afterwards. Unknown fd: -ENOENT. */
int folio_loop_unwatch(struct folio_loop *loop, int fd);

void folio_loop_timer_init(struct folio_loop_timer *t);
/* (Re)starts t: first expiry after delay_ms, then every repeat_ms (0 = one-shot).
 * Restarting an active timer reschedules it. t must stay valid while active. */
void folio_loop_timer_start(struct folio_loop *loop, struct folio_loop_timer *t,
                            uint64_t delay_ms, uint64_t repeat_ms, folio_loop_timer_cb cb,
                            void *arg);
/* Stops t if active (no callback afterwards); harmless on an inactive timer. */
void folio_loop_timer_stop(struct folio_loop *loop, struct folio_loop_timer *t);
bool folio_loop_timer_active(const struct folio_loop_timer *t);

/* Queues fn(loop, arg) to run on the loop thread and wakes the loop. Any thread,
 * also the loop thread itself (fn then runs in a later iteration, never inside
 * this call). Returns 0 (fn will run exactly once) or -ENOMEM (it never runs). */
int folio_loop_post(struct folio_loop *loop, folio_loop_fn fn, void *arg);

#endif
