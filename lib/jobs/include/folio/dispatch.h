/* folio_dispatch: the dispatch protocol between servers and workers, the one
 * place that spells its Redis stream commands.
 *
 * What travels. A server that committed a submission (or the reconciler,
 * re-dispatching) adds one entry to the stream FOLIO_JOBS_STREAM carrying
 * only the job id (field "job"); the layout stays in PostgreSQL, which is
 * the truth. Workers read the stream as consumers of one group,
 * FOLIO_JOBS_GROUP, named <FOLIO_WORKER_NAME or hostname>-<slot>.
 *
 * Delivery is at least once, and a duplicate is cheap: the worker's claim in
 * PostgreSQL is fenced, so a second delivery of a job that is running or
 * finished is refused and acked. A lost entry only costs latency: the
 * reconciler re-dispatches QUEUED jobs that have no recent dispatch.
 *  - An entry is acked (folio_dispatch_ack) only once its job's outcome is
 *    recorded, or when the claim shows there is nothing to do.
 *  - An entry left pending is re-delivered by folio_dispatch_reclaim (any
 *    consumer) once it has been idle for the visibility timeout;
 *    folio_dispatch_redeliver_after shortens that wait for a retry backoff.
 *  - Lag (folio_dispatch_lag): entries never delivered to any consumer. While
 *    it is > 0 the workers are behind and re-dispatching adds duplicates.
 *
 * The group's start id is "0", not "$" (decided). The group is created by
 * whoever reaches Redis first, a server or a worker, and again after it was
 * lost (FLUSHALL, a Redis without persistence restarted, the key evicted).
 * In each case entries may be in the stream already: dispatches made before
 * any worker started, or made after FLUSHALL while the servers stayed
 * connected (XADD recreates the stream, not the group). "$" would skip them
 * all — each such job then waits for the reconciler, seconds to a minute
 * under load — and whether they are skipped would depend on who came first.
 * "0" delivers them; the worst case, a group recreated on a long stream of
 * finished jobs, costs one refused claim per entry (bounded by MAXLEN).
 * An existing group is left as it is (BUSYGROUP is success): a second
 * creator never moves the group's position.
 *
 * Threads and callbacks: as lib/redis (folio/redis.h) — loop thread only; a
 * call that returns 0 calls back exactly once, one that fails never does. */
#ifndef FOLIO_DISPATCH_H
#define FOLIO_DISPATCH_H

#include <stdbool.h>

#include "folio/jobs.h"
#include "folio/redis.h"

/* The id a new group starts from (see above). */
#define FOLIO_DISPATCH_GROUP_START "0"

/* XGROUP CREATE FOLIO_JOBS_STREAM FOLIO_JOBS_GROUP 0 MKSTREAM; an existing
 * group is success. */
int folio_dispatch_group_create(struct folio_redis *r, folio_redis_reply_cb cb, void *arg);

/* True when a read failed because the group does not exist (the stream was
 * lost): create it (folio_dispatch_group_create) and read again. status and
 * err are what the read reported (err: folio_redis_errstr in the callback). */
bool folio_dispatch_no_group(int status, const char *err);

/* XADD FOLIO_JOBS_STREAM MAXLEN ~ FOLIO_JOBS_STREAM_MAXLEN * job <job_id>.
 * The reply is the new entry id. */
int folio_dispatch_send(struct folio_redis *r, const char *job_id, folio_redis_reply_cb cb,
                        void *arg);

/* XREADGROUP ... COUNT 1 [BLOCK block_ms] STREAMS FOLIO_JOBS_STREAM >: the
 * next entry never delivered to any consumer. Give a blocking reader its own
 * client (folio/redis.h). A timeout is success with n = 0. */
int folio_dispatch_read(struct folio_redis *r, const char *consumer, int block_ms,
                        folio_redis_entries_cb cb, void *arg);

/* XAUTOCLAIM ... consumer visibility_ms 0-0 COUNT 1: one entry that another
 * consumer (or this one) left pending for visibility_ms, now this
 * consumer's. */
int folio_dispatch_reclaim(struct folio_redis *r, const char *consumer, int visibility_ms,
                           folio_redis_entries_cb cb, void *arg);

/* XACK FOLIO_JOBS_STREAM FOLIO_JOBS_GROUP entry_id. */
int folio_dispatch_ack(struct folio_redis *r, const char *entry_id, folio_redis_reply_cb cb,
                       void *arg);

/* Makes a pending entry re-deliverable after delay_ms instead of the whole
 * visibility timeout: XCLAIM ... consumer 0 entry_id IDLE <idle> JUSTID with
 * idle = folio_dispatch_idle_for(delay_ms, visibility_ms). delay_ms 0 hands it
 * to the next reclaim at once. */
int folio_dispatch_redeliver_after(struct folio_redis *r, const char *consumer,
                                   const char *entry_id, int delay_ms, int visibility_ms,
                                   folio_redis_reply_cb cb, void *arg);
/* The idle time that makes an entry due for reclaim delay_ms from now:
 * visibility_ms - delay_ms, 0 when the delay is the whole timeout or more.
 * Pure. */
int folio_dispatch_idle_for(int delay_ms, int visibility_ms);

/* The group's lag: status 0 with lag >= 0, or -1 when unknown (no group yet,
 * Redis < 7, entries deleted); FOLIO_REDIS_EREPLY (no stream yet: nothing
 * waits in it) or FOLIO_REDIS_EDOWN with lag -1. */
typedef void (*folio_dispatch_lag_cb)(int status, long long lag, void *arg);
/* XINFO GROUPS FOLIO_JOBS_STREAM, reduced to our group's lag. Returns 0 or
 * a FOLIO_REDIS_E* code (then cb never runs). */
int folio_dispatch_lag(struct folio_redis *r, folio_dispatch_lag_cb cb, void *arg);
/* The lag of FOLIO_JOBS_GROUP in an XINFO GROUPS reply (RESP2: an array of
 * flat name/value arrays), or -1 when absent, unknown (nil) or malformed.
 * Pure; exposed for tests. */
long long folio_dispatch_parse_lag(const redisReply *reply);

#endif
