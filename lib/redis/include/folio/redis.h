/* folio_redis: an asynchronous Redis client (hiredis async) driven by a
 * folio_loop, with reconnect and the few operations folio needs: the dispatch
 * stream with a consumer group, and Pub/Sub of job events.
 *
 * Redis is a hint in folio, never the source of truth (PostgreSQL is): when
 * Redis is down, commands fail at once with FOLIO_REDIS_EDOWN (their callback
 * never runs) and the client keeps reconnecting with exponential backoff and
 * jitter in the background. Callers treat a failed dispatch as "the
 * reconciler will re-dispatch" — an accepted job never fails because of Redis.
 *
 * Threads: everything runs on the loop thread (folio/loop.h rules): create,
 * commands, destroy, and every callback. Callbacks: a command that returns 0
 * calls its callback exactly once — with the reply, with an error, or with
 * FOLIO_REDIS_EDOWN when the connection drops or the client is destroyed
 * first. A command that returns an error never calls back.
 *
 * Blocking commands (XREADGROUP with BLOCK) hold the connection for their
 * duration: give a consumer that blocks its own client. A client with
 * subscriptions is in subscriber mode and only accepts (un)subscribe calls
 * (anything else fails with FOLIO_REDIS_EINVAL): use a separate client for
 * Pub/Sub too. */
#ifndef FOLIO_REDIS_H
#define FOLIO_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/loop.h"

enum {
  FOLIO_REDIS_OK = 0,
  FOLIO_REDIS_EDOWN = -1,   /* not connected now, or the connection dropped */
  FOLIO_REDIS_EREPLY = -2,  /* Redis answered with an error (text in the diag) */
  FOLIO_REDIS_EINVAL = -3,  /* bad argument or URL */
  FOLIO_REDIS_ENOMEM = -4,
  FOLIO_REDIS_EPROTO = -5,  /* a reply of an unexpected shape */
};
const char *folio_redis_strerror(int code);

/* A parsed FOLIO_REDIS_URL:
 *   redis://[[user]:password@]host[:port][/db]   (host may be [v6 address])
 *   unix:///path/to/redis.sock[?db=N]            (or just /path/to/redis.sock)
 * Port defaults to 6379, db to 0. user/password may be %XX-escaped. */
struct folio_redis_url {
  char host[256]; /* empty for unix sockets */
  int port;
  char path[256]; /* unix socket path, empty for TCP */
  int db;
  char user[128];
  char password[256];
};
/* Pure. Returns 0 or FOLIO_REDIS_EINVAL with a message naming the problem in
 * err[errcap] (never echoing the password). */
int folio_redis_url_parse(const char *url, struct folio_redis_url *out, char *err, size_t errcap);

struct folio_redis_config {
  const char *url; /* FOLIO_REDIS_URL; copied (parsed) */
  int connect_timeout_ms;  /* 0 = 2000 */
  int backoff_initial_ms;  /* 0 = 50 */
  int backoff_max_ms;      /* 0 = 2000 */
};

struct folio_redis;

/* Optional: told about every connection change (connected = true once the
 * AUTH/SELECT preamble is queued and the socket is up; false when it drops).
 * Runs on the loop thread. */
typedef void (*folio_redis_state_cb)(struct folio_redis *r, bool connected, void *arg);

/* Creates the client and starts connecting (asynchronously: the first
 * commands may be issued at once; they queue until the socket is up).
 * On success *out belongs to the caller, freed with folio_redis_destroy().
 * err[errcap] (may be NULL/0) says what was wrong with the config. */
int folio_redis_create(struct folio_loop *loop, const struct folio_redis_config *cfg,
                       struct folio_redis **out, char *err, size_t errcap);
/* Fails every pending command and subscription (their callbacks run with
 * FOLIO_REDIS_EDOWN, inside this call), closes the socket and frees the
 * client. NULL allowed. Loop thread only, and not from inside one of this
 * client's callbacks. */
void folio_redis_destroy(struct folio_redis *r);
void folio_redis_set_state_cb(struct folio_redis *r, folio_redis_state_cb cb, void *arg);
bool folio_redis_connected(const struct folio_redis *r);

struct folio_redis_stats {
  uint64_t connects;   /* successful connects */
  uint64_t failures;   /* failed connects and drops */
  uint64_t commands;   /* commands sent */
};
void folio_redis_stats(const struct folio_redis *r, struct folio_redis_stats *out);
/* The text of the last error reply a command of this client received (e.g.
 * "NOGROUP No such key ..."), "" before the first. Borrowed: valid until the
 * next reply arrives, so read it inside the callback that got
 * FOLIO_REDIS_EREPLY (the entries callbacks get no reply to read it from).
 * Loop thread only. */
const char *folio_redis_errstr(const struct folio_redis *r);

/* The reply is borrowed: valid only during the callback. status is 0 (reply
 * set, not an error reply), FOLIO_REDIS_EREPLY (reply is the error reply) or
 * FOLIO_REDIS_EDOWN (reply NULL). */
typedef void (*folio_redis_reply_cb)(struct folio_redis *r, int status, const redisReply *reply,
                                     void *arg);

/* Any command, binary-safe (argvlen NULL = strlen). Arguments are copied. */
int folio_redis_command(struct folio_redis *r, folio_redis_reply_cb cb, void *arg, int argc,
                        const char *const *argv, const size_t *argvlen);

/* ---- the dispatch stream -------------------------------------------------- */

/* One stream entry: its id and the job id it carries. Borrowed: valid only
 * during the callback. job_id is "" when the entry has no "job" field (it
 * was not written by folio_redis_dispatch): the caller should XACK it (and
 * may XDEL it) so it is not re-delivered forever. job_id is not validated:
 * any text may arrive, the caller checks it. */
struct folio_redis_entry {
  const char *id;
  const char *job_id;
};
/* entries[0..n) on success; next_cursor is XAUTOCLAIM's cursor ("0-0" when
 * the scan is complete), NULL for XREADGROUP. */
typedef void (*folio_redis_entries_cb)(struct folio_redis *r, int status,
                                       const struct folio_redis_entry *entries, size_t n,
                                       const char *next_cursor, void *arg);

/* XGROUP CREATE stream group start_id MKSTREAM; an existing group is success
 * (and keeps its position). start_id is the caller's decision: "0" delivers
 * the entries already in the stream, "$" only later ones (folio's dispatch
 * stream uses "0": folio/dispatch.h says why). */
int folio_redis_group_create(struct folio_redis *r, const char *stream, const char *group,
                             const char *start_id, folio_redis_reply_cb cb, void *arg);
/* XADD stream MAXLEN ~ maxlen * job <job_id>: only the id travels, never the
 * layout. maxlen 0 = unbounded. The reply is the new entry id. */
int folio_redis_dispatch(struct folio_redis *r, const char *stream, const char *job_id,
                         long maxlen, folio_redis_reply_cb cb, void *arg);
/* XREADGROUP GROUP group consumer COUNT count [BLOCK block_ms] STREAMS stream >.
 * block_ms < 0: do not block. A timeout is success with n = 0. */
int folio_redis_read(struct folio_redis *r, const char *stream, const char *group,
                     const char *consumer, int count, int block_ms, folio_redis_entries_cb cb,
                     void *arg);
/* XACK stream group id. */
int folio_redis_ack(struct folio_redis *r, const char *stream, const char *group,
                    const char *entry_id, folio_redis_reply_cb cb, void *arg);
/* XAUTOCLAIM stream group consumer min_idle_ms start COUNT count: entries
 * delivered to a consumer that has not acked them for min_idle_ms (it died,
 * or is stuck) move to this consumer. Entries deleted meanwhile are skipped. */
int folio_redis_reclaim(struct folio_redis *r, const char *stream, const char *group,
                        const char *consumer, int min_idle_ms, const char *start, int count,
                        folio_redis_entries_cb cb, void *arg);

/* Decodes an XREADGROUP or XAUTOCLAIM reply into entries (pointers into the
 * reply). Pure; returns the number of entries (<= cap), or FOLIO_REDIS_EPROTO
 * when the reply itself is not of the shape Redis sends. *cursor receives
 * XAUTOCLAIM's cursor (NULL allowed). Exposed for tests.
 *
 * Contract change (issue 4): an entry without a "job" field used to fail the
 * whole reply with EPROTO, which hid every entry behind a poison one (and,
 * under XAUTOCLAIM, forever). Such an entry is now returned with job_id ""
 * so that the caller can acknowledge it; EPROTO is kept for replies whose
 * structure is broken (not an array, an entry not [id, [field, value...]],
 * an odd field list). Entries deleted while pending (nil) are skipped. */
int folio_redis_parse_entries(const redisReply *reply, bool autoclaim,
                              struct folio_redis_entry *entries, size_t cap,
                              const char **cursor);

/* ---- Pub/Sub ----------------------------------------------------------------- */

/* PUBLISH channel message. The reply is the number of receivers. */
int folio_redis_publish(struct folio_redis *r, const char *channel, const void *msg, size_t len,
                        folio_redis_reply_cb cb, void *arg);

/* Called for every message on the channel (msg borrowed for the call), and a
 * last time with msg = NULL and status FOLIO_REDIS_EDOWN when the
 * subscription ends (unsubscribe or destroy). With msg = NULL and status 0
 * each time Redis confirms the subscription — the first time, and again after
 * every reconnect (the client subscribes again by itself; while the
 * connection is down no messages arrive, Pub/Sub does not queue): from then
 * on nothing is missed, so a caller that read state before (a message
 * published between its read and the confirmation is lost) re-reads it. */
typedef void (*folio_redis_message_cb)(struct folio_redis *r, int status, const char *channel,
                                       const char *msg, size_t len, void *arg);

struct folio_redis_sub;
/* SUBSCRIBE channel. *out (NULL allowed) is the handle for unsubscribe, valid
 * until the final callback. Works while disconnected too (subscribes on
 * connect). */
int folio_redis_subscribe(struct folio_redis *r, const char *channel, folio_redis_message_cb cb,
                          void *arg, struct folio_redis_sub **out);
/* Ends the subscription; its final callback runs (now or when Redis confirms). */
void folio_redis_unsubscribe(struct folio_redis *r, struct folio_redis_sub *s);

#endif
