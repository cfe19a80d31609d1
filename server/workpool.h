/* srv_workpool: a fixed set of threads running blocking work (layout
 * decoding, API-key verification, the reconciler's queries) off the gRPC
 * completion-queue threads and off the I/O loop.
 *
 * The queue is bounded: srv_workpool_submit() fails with -EAGAIN when it is
 * full, and the caller answers RESOURCE_EXHAUSTED with a retry hint instead of
 * queueing without bound (docs/architecture.md, "Practices":
 * backpressure everywhere).
 *
 * Fairness (docs/security.md, "Quotas and fairness"): a task may name
 * an owner (the tenant). Owners are served round-robin, each runs at most
 * its share of the threads at once, and one owner's queued tasks are capped
 * at half the queue, so a tenant flooding the pool with slow decodes delays
 * another tenant's task by at most one task's time per thread it does not
 * hold. Tasks without an owner (API-key checks, the server's own work) share
 * one queue, served in the same rotation, with no share limit. */
#ifndef FOLIO_SERVER_WORKPOOL_H
#define FOLIO_SERVER_WORKPOOL_H

#include <stddef.h>

struct srv_workpool;

typedef void (*srv_workpool_fn)(void *arg);

/* threads >= 1, queue_cap >= 1. NULL (errno set) on failure. Destroy with
 * srv_workpool_destroy. */
struct srv_workpool *srv_workpool_create(int threads, size_t queue_cap);
/* Runs every task still queued, joins the threads and frees. NULL allowed.
 * Not from a pool thread. */
void srv_workpool_destroy(struct srv_workpool *p);
/* Queues fn(arg) to run once on a pool thread. Any thread. 0, -EAGAIN when the
 * queue is full or the pool is stopping (fn never runs). */
int srv_workpool_submit(struct srv_workpool *p, srv_workpool_fn fn, void *arg);
/* srv_workpool_submit on behalf of owner (copied; NULL or "" = none):
 * at most share (clamped to 1..threads) of owner's tasks run at once, the
 * latest call's share applying. -EAGAIN also when owner already has half
 * the queue capacity waiting. */
int srv_workpool_submit_owned(struct srv_workpool *p, const char *owner, int share,
                                srv_workpool_fn fn, void *arg);
/* The number of threads (for shares). */
int srv_workpool_threads(const struct srv_workpool *p);
/* Tasks queued now (for logs and tests). */
size_t srv_workpool_queued(struct srv_workpool *p);

#endif
