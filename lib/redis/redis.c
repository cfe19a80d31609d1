/* Asynchronous Redis client on a folio_loop.
 *
 * Connection life: create → connect (AUTH, SELECT and re-SUBSCRIBEs are queued
 * right behind redisAsyncConnect, so they reach Redis before any user
 * command) → up → on drop or failed connect: every pending hiredis callback
 * runs with a NULL reply (our trampolines turn that into FOLIO_REDIS_EDOWN),
 * the context is gone (r->ac = NULL: commands fail fast), and a one-shot timer
 * reconnects after folio_backoff_ms(attempt).
 *
 * Loop adapter: hiredis asks for read/write interest through its ev hooks;
 * we keep one folio_loop watch on the socket whose interest follows those
 * hooks, and feed readiness back with redisAsyncHandleRead/Write (the same
 * shape as hiredis's own adapters/ for other loops).
 *
 * Subscriptions: hiredis keys subscription callbacks by channel, so all of
 * ours point at the client and fan out to a list of struct folio_redis_sub;
 * a channel is subscribed at Redis while at least one sub wants it. */
#include "folio/redis.h"

#include <assert.h>
#include <errno.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/backoff.h"
#include "folio/clock.h"
#include "folio/log.h"

struct folio_redis_sub {
  struct folio_redis_sub *next;
  struct folio_redis *r;
  char *channel;
  folio_redis_message_cb cb;
  void *arg;
  bool confirmed; /* Redis confirmed the subscription at least once */
};

struct folio_redis {
  struct folio_loop *loop;
  struct folio_redis_url url;
  int connect_timeout_ms, backoff_initial_ms, backoff_max_ms;
  redisAsyncContext *ac; /* NULL while down */
  int fd;                /* watched fd, -1 when none */
  unsigned interest;
  bool up;         /* connect callback reported success */
  bool destroying;
  int attempt;     /* consecutive failures, for the backoff */
  uint32_t rng;
  struct folio_loop_timer retry_timer, connect_timer;
  struct folio_redis_sub *subs;
  folio_redis_state_cb state_cb;
  void *state_arg;
  struct folio_redis_stats stats;
  char errstr[256]; /* the last error reply's text (folio_redis_errstr) */
};

const char *folio_redis_strerror(int code) {
  switch (code) {
    case FOLIO_REDIS_OK: return "ok";
    case FOLIO_REDIS_EDOWN: return "redis unavailable";
    case FOLIO_REDIS_EREPLY: return "redis error reply";
    case FOLIO_REDIS_EINVAL: return "invalid argument";
    case FOLIO_REDIS_ENOMEM: return "out of memory";
    case FOLIO_REDIS_EPROTO: return "unexpected redis reply";
    default: return "unknown redis error";
  }
}

/* ---- URL ------------------------------------------------------------------- */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Copies s[0..n) into out[cap] with %XX decoding; -1 if too long or bad escape. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) return -1;
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0) return -1;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if (c == '\0' || o + 1 >= cap) return -1;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

static int parse_int(const char *s, size_t n, int lo, int hi, int *out) {
  if (n == 0 || n > 9) return -1;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

#define URL_FAIL(...)                                  \
  do {                                                 \
    if (err && errcap) snprintf(err, errcap, __VA_ARGS__); \
    return FOLIO_REDIS_EINVAL;                         \
  } while (0)

int folio_redis_url_parse(const char *url, struct folio_redis_url *out, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  out->port = 6379;
  if (!url || !*url) URL_FAIL("FOLIO_REDIS_URL: empty");
  const char *p;
  if (url[0] == '/' || strncmp(url, "unix://", 7) == 0) {
    p = url[0] == '/' ? url : url + 7;
    if (*p != '/') URL_FAIL("FOLIO_REDIS_URL: unix socket path must be absolute (unix:///path)");
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);
    if (n >= sizeof out->path) URL_FAIL("FOLIO_REDIS_URL: socket path too long");
    memcpy(out->path, p, n);
    out->path[n] = '\0';
    out->port = 0;
    if (q) {
      if (strncmp(q + 1, "db=", 3) != 0 || parse_int(q + 4, strlen(q + 4), 0, 1000000, &out->db))
        URL_FAIL("FOLIO_REDIS_URL: query must be ?db=<number>");
    }
    return 0;
  }
  if (strncmp(url, "redis://", 8) != 0)
    URL_FAIL("FOLIO_REDIS_URL: scheme must be redis:// or unix://");
  p = url + 8;
  const char *end = p + strcspn(p, "/?#");
  const char *at = NULL;
  for (const char *s = p; s < end; s++)
    if (*s == '@') at = s;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (pct_decode(p, (size_t)(colon - p), out->user, sizeof out->user) ||
          pct_decode(colon + 1, (size_t)(at - colon - 1), out->password, sizeof out->password))
        URL_FAIL("FOLIO_REDIS_URL: bad user or password encoding");
    } else if (pct_decode(p, (size_t)(at - p), out->password, sizeof out->password)) {
      URL_FAIL("FOLIO_REDIS_URL: bad password encoding");
    }
    p = at + 1;
  }
  const char *hend;
  const char *port = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', (size_t)(end - p));
    if (!rb) URL_FAIL("FOLIO_REDIS_URL: unterminated [IPv6 address]");
    if ((size_t)(rb - p - 1) >= sizeof out->host) URL_FAIL("FOLIO_REDIS_URL: host too long");
    memcpy(out->host, p + 1, (size_t)(rb - p - 1));
    hend = rb + 1;
    if (hend < end && *hend == ':') port = hend + 1;
    else if (hend != end) URL_FAIL("FOLIO_REDIS_URL: junk after ]");
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    hend = colon ? colon : end;
    if ((size_t)(hend - p) >= sizeof out->host) URL_FAIL("FOLIO_REDIS_URL: host too long");
    memcpy(out->host, p, (size_t)(hend - p));
    if (colon) port = colon + 1;
  }
  if (!out->host[0]) URL_FAIL("FOLIO_REDIS_URL: host missing");
  if (port && parse_int(port, (size_t)(end - port), 1, 65535, &out->port))
    URL_FAIL("FOLIO_REDIS_URL: port must be 1..65535");
  if (*end == '/' && end[1]) {
    if (parse_int(end + 1, strcspn(end + 1, "?#"), 0, 1000000, &out->db))
      URL_FAIL("FOLIO_REDIS_URL: database must be a number (redis://host:port/<db>)");
  }
  return 0;
}

/* ---- loop adapter ------------------------------------------------------------- */

static void on_io(struct folio_loop *loop, int fd, unsigned events, void *arg) {
  struct folio_redis *r = arg;
  redisAsyncContext *ac = r->ac;
  if (!ac) return;
  if (events & (FOLIO_LOOP_READ | FOLIO_LOOP_ERROR)) redisAsyncHandleRead(ac);
  /* HandleRead may have dropped the connection (r->ac is then NULL or new). */
  if (r->ac == ac && (events & FOLIO_LOOP_WRITE)) redisAsyncHandleWrite(ac);
}

static void set_interest(struct folio_redis *r, unsigned interest) {
  if (r->fd < 0) return;
  r->interest = interest;
  folio_loop_watch(r->loop, r->fd, interest, on_io, r);
}

static void ev_add_read(void *p) {
  struct folio_redis *r = p;
  set_interest(r, r->interest | FOLIO_LOOP_READ);
}
static void ev_del_read(void *p) {
  struct folio_redis *r = p;
  set_interest(r, r->interest & ~(unsigned)FOLIO_LOOP_READ);
}
static void ev_add_write(void *p) {
  struct folio_redis *r = p;
  set_interest(r, r->interest | FOLIO_LOOP_WRITE);
}
static void ev_del_write(void *p) {
  struct folio_redis *r = p;
  set_interest(r, r->interest & ~(unsigned)FOLIO_LOOP_WRITE);
}
static void ev_cleanup(void *p) {
  struct folio_redis *r = p;
  if (r->fd >= 0) folio_loop_unwatch(r->loop, r->fd);
  r->fd = -1;
  r->interest = 0;
}

/* ---- connection --------------------------------------------------------------- */

static void start_connect(struct folio_redis *r);

static void on_retry(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  start_connect(arg);
}

/* The context is gone (hiredis frees it after the callback that told us). */
static void went_down(struct folio_redis *r, const char *why) {
  bool was_up = r->up;
  r->ac = NULL;
  r->up = false;
  if (r->fd >= 0) folio_loop_unwatch(r->loop, r->fd); /* hiredis closes it next */
  r->fd = -1;
  r->interest = 0;
  folio_loop_timer_stop(r->loop, &r->connect_timer);
  if (r->destroying) return;
  r->stats.failures++;
  int delay = folio_backoff_ms(r->attempt++, r->backoff_initial_ms, r->backoff_max_ms, folio_backoff_rand(&r->rng));
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_WARN, "redis down");
  folio_log_str(&l, "detail", why);
  folio_log_int(&l, "retry_ms", delay);
  folio_log_end(&l);
  folio_loop_timer_start(r->loop, &r->retry_timer, (uint64_t)delay, 0, on_retry, r);
  if (was_up && r->state_cb) r->state_cb(r, false, r->state_arg);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  struct folio_redis *r = ac->data;
  if (r->ac != ac) return;
  if (status != REDIS_OK) {
    went_down(r, ac->errstr[0] ? ac->errstr : "connect failed");
    return;
  }
  folio_loop_timer_stop(r->loop, &r->connect_timer);
  r->up = true;
  r->attempt = 0;
  r->stats.connects++;
  if (r->state_cb) r->state_cb(r, true, r->state_arg);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  struct folio_redis *r = ac->data;
  if (r->ac != ac) return;
  went_down(r, status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void on_connect_timeout(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  struct folio_redis *r = arg;
  redisAsyncContext *ac = r->ac;
  if (!ac || r->up) return;
  /* Not connected in time: drop the attempt. Pending callbacks run with NULL
   * inside redisAsyncFree; the disconnect callback does not (never connected). */
  went_down(r, "connect timed out");
  redisAsyncFree(ac);
}

static void ignore_reply(redisAsyncContext *ac, void *reply, void *priv) {
  redisReply *rep = reply;
  if (rep && rep->type == REDIS_REPLY_ERROR) folio_log(FOLIO_LOG_WARN, "redis preamble failed", rep->str);
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv);
static void send_subscribe(struct folio_redis *r, const char *channel) {
  const char *argv[2] = {"SUBSCRIBE", channel};
  redisAsyncCommandArgv(r->ac, on_sub_reply, r, 2, argv, NULL);
}

static bool channel_wanted(struct folio_redis *r, const char *channel, const struct folio_redis_sub *except) {
  for (struct folio_redis_sub *s = r->subs; s; s = s->next)
    if (s != except && strcmp(s->channel, channel) == 0) return true;
  return false;
}

static void start_connect(struct folio_redis *r) {
  redisAsyncContext *ac = r->url.path[0] ? redisAsyncConnectUnix(r->url.path)
                                         : redisAsyncConnect(r->url.host, r->url.port);
  if (!ac || ac->err) {
    const char *why = ac ? ac->errstr : "out of memory";
    char detail[160];
    snprintf(detail, sizeof detail, "%s", why);
    if (ac) redisAsyncFree(ac);
    went_down(r, detail);
    return;
  }
  r->ac = ac;
  ac->data = r;
  r->fd = ac->c.fd;
  r->interest = 0;
  ac->ev.data = r;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  /* hiredis queued the connect before our hooks existed: ask for writability
   * ourselves so the connect completes. */
  set_interest(r, FOLIO_LOOP_WRITE);
  folio_loop_timer_start(r->loop, &r->connect_timer, (uint64_t)r->connect_timeout_ms, 0,
                         on_connect_timeout, r);
  if (r->url.password[0]) {
    const char *argv[3] = {"AUTH", r->url.user[0] ? r->url.user : r->url.password, r->url.password};
    redisAsyncCommandArgv(ac, ignore_reply, NULL, r->url.user[0] ? 3 : 2, argv, NULL);
  }
  if (r->url.db != 0) {
    char db[16];
    snprintf(db, sizeof db, "%d", r->url.db);
    const char *argv[2] = {"SELECT", db};
    redisAsyncCommandArgv(ac, ignore_reply, NULL, 2, argv, NULL);
  }
  for (struct folio_redis_sub *s = r->subs; s; s = s->next) {
    bool first = true;
    for (struct folio_redis_sub *o = r->subs; o != s; o = o->next)
      if (strcmp(o->channel, s->channel) == 0) first = false;
    if (first) send_subscribe(r, s->channel);
  }
}

int folio_redis_create(struct folio_loop *loop, const struct folio_redis_config *cfg,
                       struct folio_redis **out, char *err, size_t errcap) {
  *out = NULL;
  struct folio_redis *r = calloc(1, sizeof *r);
  if (!r) {
    if (err && errcap) snprintf(err, errcap, "out of memory");
    return FOLIO_REDIS_ENOMEM;
  }
  static const struct folio_redis_config no_config; /* NULL: refused for its empty URL */
  if (!cfg) cfg = &no_config;
  int rc = folio_redis_url_parse(cfg->url, &r->url, err, errcap);
  if (rc) {
    free(r);
    return rc;
  }
  r->loop = loop;
  r->fd = -1;
  r->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 2000;
  r->backoff_initial_ms = cfg->backoff_initial_ms > 0 ? cfg->backoff_initial_ms : 50;
  r->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 2000;
  r->rng = (uint32_t)folio_clock_mono_ns() | 1u;
  folio_loop_timer_init(&r->retry_timer);
  folio_loop_timer_init(&r->connect_timer);
  start_connect(r);
  *out = r;
  return 0;
}

void folio_redis_destroy(struct folio_redis *r) {
  if (!r) return;
  assert(folio_loop_affine(r->loop));
  r->destroying = true;
  folio_loop_timer_stop(r->loop, &r->retry_timer);
  folio_loop_timer_stop(r->loop, &r->connect_timer);
  if (r->ac) {
    redisAsyncContext *ac = r->ac;
    redisAsyncFree(ac); /* runs pending callbacks with NULL replies */
    r->ac = NULL;
  }
  if (r->fd >= 0) folio_loop_unwatch(r->loop, r->fd);
  while (r->subs) {
    struct folio_redis_sub *s = r->subs;
    r->subs = s->next;
    s->cb(r, FOLIO_REDIS_EDOWN, s->channel, NULL, 0, s->arg);
    free(s->channel);
    free(s);
  }
  free(r);
}

void folio_redis_set_state_cb(struct folio_redis *r, folio_redis_state_cb cb, void *arg) {
  r->state_cb = cb;
  r->state_arg = arg;
}

bool folio_redis_connected(const struct folio_redis *r) { return r->up; }

void folio_redis_stats(const struct folio_redis *r, struct folio_redis_stats *out) {
  *out = r->stats;
}

const char *folio_redis_errstr(const struct folio_redis *r) { return r->errstr; }

/* ---- commands ------------------------------------------------------------------ */

enum req_kind { REQ_REPLY, REQ_ENTRIES, REQ_AUTOCLAIM, REQ_GROUP_CREATE };

struct req {
  enum req_kind kind;
  struct folio_redis *r;
  folio_redis_reply_cb reply_cb;
  folio_redis_entries_cb entries_cb;
  void *arg;
};

#define MAX_ENTRIES 256

static void on_reply(redisAsyncContext *ac, void *reply, void *priv) {
  struct req *q = priv;
  redisReply *rep = reply;
  struct folio_redis *r = q->r;
  int status = !rep ? FOLIO_REDIS_EDOWN : rep->type == REDIS_REPLY_ERROR ? FOLIO_REDIS_EREPLY : 0;
  if (q->kind == REQ_GROUP_CREATE && status == FOLIO_REDIS_EREPLY &&
      strncmp(rep->str, "BUSYGROUP", 9) == 0)
    status = 0; /* the group exists: that is what we wanted */
  if (status == FOLIO_REDIS_EREPLY)
    snprintf(r->errstr, sizeof r->errstr, "%.*s", (int)(rep->len < 255 ? rep->len : 255),
             rep->str ? rep->str : "");
  if (q->kind == REQ_REPLY || q->kind == REQ_GROUP_CREATE) {
    q->reply_cb(r, status, rep, q->arg);
  } else {
    struct folio_redis_entry entries[MAX_ENTRIES];
    const char *cursor = NULL;
    int n = 0;
    if (status == 0) {
      n = folio_redis_parse_entries(rep, q->kind == REQ_AUTOCLAIM, entries, MAX_ENTRIES, &cursor);
      if (n < 0) status = n;
    }
    q->entries_cb(r, status, status == 0 ? entries : NULL, status == 0 ? (size_t)n : 0, cursor,
                  q->arg);
  }
  free(q);
}

static int send_req(struct folio_redis *r, struct req *q, int argc, const char *const *argv,
                    const size_t *argvlen) {
  assert(folio_loop_affine(r->loop)); /* every command enters here */
  if (r->subs) { /* subscriber mode: Redis would refuse it, and the reply
                   * would arrive among the messages */
    free(q);
    return FOLIO_REDIS_EINVAL;
  }
  /* Down means down at once, as the header promises: also while a reconnect
   * attempt is still connecting (attempt > 0 after a loss). Only the very
   * first connect queues commands, since nothing says Redis is down yet. */
  if (!r->ac || r->destroying || (!r->up && r->attempt > 0)) {
    free(q);
    return FOLIO_REDIS_EDOWN;
  }
  q->r = r;
  /* hiredis wants const char ** (it never writes through it) */
  const char *small[16];
  const char **args = argc <= 16 ? small : malloc((size_t)argc * sizeof *args);
  if (!args) {
    free(q);
    return FOLIO_REDIS_ENOMEM;
  }
  for (int i = 0; i < argc; i++) args[i] = argv[i];
  int rc = redisAsyncCommandArgv(r->ac, on_reply, q, argc, args, argvlen);
  if (args != small) free(args);
  if (rc != REDIS_OK) {
    free(q);
    return FOLIO_REDIS_EDOWN;
  }
  r->stats.commands++;
  return 0;
}

static int reply_req(struct folio_redis *r, enum req_kind kind, folio_redis_reply_cb cb, void *arg,
                     int argc, const char *const *argv, const size_t *argvlen) {
  if (!cb) return FOLIO_REDIS_EINVAL;
  struct req *q = calloc(1, sizeof *q);
  if (!q) return FOLIO_REDIS_ENOMEM;
  q->kind = kind;
  q->reply_cb = cb;
  q->arg = arg;
  return send_req(r, q, argc, argv, argvlen);
}

static int entries_req(struct folio_redis *r, enum req_kind kind, folio_redis_entries_cb cb,
                       void *arg, int argc, const char *const *argv) {
  if (!cb) return FOLIO_REDIS_EINVAL;
  struct req *q = calloc(1, sizeof *q);
  if (!q) return FOLIO_REDIS_ENOMEM;
  q->kind = kind;
  q->entries_cb = cb;
  q->arg = arg;
  return send_req(r, q, argc, argv, NULL);
}

int folio_redis_command(struct folio_redis *r, folio_redis_reply_cb cb, void *arg, int argc,
                        const char *const *argv, const size_t *argvlen) {
  if (argc < 1 || !argv) return FOLIO_REDIS_EINVAL;
  return reply_req(r, REQ_REPLY, cb, arg, argc, argv, argvlen);
}

int folio_redis_group_create(struct folio_redis *r, const char *stream, const char *group,
                             const char *start_id, folio_redis_reply_cb cb, void *arg) {
  if (!stream || !group || !start_id) return FOLIO_REDIS_EINVAL;
  const char *argv[] = {"XGROUP", "CREATE", stream, group, start_id, "MKSTREAM"};
  return reply_req(r, REQ_GROUP_CREATE, cb, arg, 6, argv, NULL);
}

int folio_redis_dispatch(struct folio_redis *r, const char *stream, const char *job_id,
                         long maxlen, folio_redis_reply_cb cb, void *arg) {
  if (!stream || !job_id) return FOLIO_REDIS_EINVAL;
  char ml[24];
  snprintf(ml, sizeof ml, "%ld", maxlen);
  if (maxlen > 0) {
    const char *argv[] = {"XADD", stream, "MAXLEN", "~", ml, "*", "job", job_id};
    return reply_req(r, REQ_REPLY, cb, arg, 8, argv, NULL);
  }
  const char *argv[] = {"XADD", stream, "*", "job", job_id};
  return reply_req(r, REQ_REPLY, cb, arg, 5, argv, NULL);
}

int folio_redis_read(struct folio_redis *r, const char *stream, const char *group,
                     const char *consumer, int count, int block_ms, folio_redis_entries_cb cb,
                     void *arg) {
  if (count < 1 || count > MAX_ENTRIES) return FOLIO_REDIS_EINVAL;
  char c[16], b[16];
  snprintf(c, sizeof c, "%d", count);
  snprintf(b, sizeof b, "%d", block_ms);
  if (block_ms >= 0) {
    const char *argv[] = {"XREADGROUP", "GROUP", group, consumer, "COUNT", c, "BLOCK", b,
                          "STREAMS", stream, ">"};
    return entries_req(r, REQ_ENTRIES, cb, arg, 11, argv);
  }
  const char *argv[] = {"XREADGROUP", "GROUP", group, consumer, "COUNT", c, "STREAMS", stream, ">"};
  return entries_req(r, REQ_ENTRIES, cb, arg, 9, argv);
}

int folio_redis_ack(struct folio_redis *r, const char *stream, const char *group,
                    const char *entry_id, folio_redis_reply_cb cb, void *arg) {
  const char *argv[] = {"XACK", stream, group, entry_id};
  return reply_req(r, REQ_REPLY, cb, arg, 4, argv, NULL);
}

int folio_redis_reclaim(struct folio_redis *r, const char *stream, const char *group,
                        const char *consumer, int min_idle_ms, const char *start, int count,
                        folio_redis_entries_cb cb, void *arg) {
  if (count < 1 || count > MAX_ENTRIES || min_idle_ms < 0) return FOLIO_REDIS_EINVAL;
  char c[16], idle[16];
  snprintf(c, sizeof c, "%d", count);
  snprintf(idle, sizeof idle, "%d", min_idle_ms);
  const char *argv[] = {"XAUTOCLAIM", stream, group, consumer, idle, start ? start : "0-0",
                        "COUNT", c};
  return entries_req(r, REQ_AUTOCLAIM, cb, arg, 8, argv);
}

/* One entry: [id, [field, value, ...]] (or nil for an entry deleted under
 * XAUTOCLAIM in Redis 6.2). Returns 1 if stored, 0 if skipped, -1 if
 * malformed. An entry without a "job" field is stored with job_id "" (see
 * folio_redis_parse_entries): it is bad data, not a bad reply. */
static int parse_entry(const redisReply *e, struct folio_redis_entry *out) {
  if (e->type == REDIS_REPLY_NIL) return 0;
  if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
      e->element[0]->type != REDIS_REPLY_STRING)
    return -1;
  const redisReply *fields = e->element[1];
  if (fields->type == REDIS_REPLY_NIL) return 0; /* deleted, still pending */
  if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2) return -1;
  out->id = e->element[0]->str;
  out->job_id = "";
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply *k = fields->element[i], *v = fields->element[i + 1];
    if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && strcmp(k->str, "job") == 0)
      out->job_id = v->str;
  }
  return 1;
}

static int parse_list(const redisReply *list, struct folio_redis_entry *entries, size_t cap) {
  if (list->type != REDIS_REPLY_ARRAY) return FOLIO_REDIS_EPROTO;
  size_t n = 0;
  for (size_t i = 0; i < list->elements && n < cap; i++) {
    int rc = parse_entry(list->element[i], &entries[n]);
    if (rc < 0) return FOLIO_REDIS_EPROTO;
    n += (size_t)rc;
  }
  return (int)n;
}

int folio_redis_parse_entries(const redisReply *reply, bool autoclaim,
                              struct folio_redis_entry *entries, size_t cap,
                              const char **cursor) {
  if (cursor) *cursor = NULL;
  if (!reply) return FOLIO_REDIS_EPROTO;
  if (autoclaim) {
    /* [cursor, [entries...]] (6.2) or [cursor, [entries...], [deleted ids]] (7.0) */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
      return FOLIO_REDIS_EPROTO;
    if (cursor) *cursor = reply->element[0]->str;
    return parse_list(reply->element[1], entries, cap);
  }
  if (reply->type == REDIS_REPLY_NIL) return 0; /* BLOCK timed out */
  /* [[stream, [entries...]]] */
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1) return FOLIO_REDIS_EPROTO;
  const redisReply *s = reply->element[0];
  if (s->type != REDIS_REPLY_ARRAY || s->elements != 2) return FOLIO_REDIS_EPROTO;
  return parse_list(s->element[1], entries, cap);
}

/* ---- Pub/Sub ---------------------------------------------------------------------- */

int folio_redis_publish(struct folio_redis *r, const char *channel, const void *msg, size_t len,
                        folio_redis_reply_cb cb, void *arg) {
  const char *argv[] = {"PUBLISH", channel, msg};
  size_t lens[] = {7, strlen(channel), len};
  return reply_req(r, REQ_REPLY, cb, arg, 3, argv, lens);
}

/* Every subscription reply of this client lands here (privdata = client). */
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv) {
  struct folio_redis *r = priv;
  redisReply *rep = reply;
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return; /* drop: reconnect resubscribes */
  const redisReply *kind = rep->element[0], *chan = rep->element[1], *msg = rep->element[2];
  if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING) return;
  bool message = strcmp(kind->str, "message") == 0 && msg->type == REDIS_REPLY_STRING;
  /* "subscribe": subscribed, or subscribed again after a reconnect; from here
   * on no message is missed, so the caller re-reads what it may have missed
   * before (folio/redis.h: msg NULL, status 0). */
  if (!message && strcmp(kind->str, "subscribe") != 0) return;
  /* A callback may unsubscribe itself (or others): walk by a snapshot of
   * "next" taken before the call, and re-check membership. */
  for (struct folio_redis_sub *s = r->subs, *next; s; s = next) {
    next = s->next;
    if (strcmp(s->channel, chan->str) == 0) {
      if (message) {
        s->cb(r, 0, s->channel, msg->str, msg->len, s->arg);
      } else {
        s->confirmed = true;
        s->cb(r, 0, s->channel, NULL, 0, s->arg);
      }
    }
    bool still = false;
    for (struct folio_redis_sub *o = r->subs; o; o = o->next)
      if (o == next) still = true;
    if (!still) break;
  }
}

int folio_redis_subscribe(struct folio_redis *r, const char *channel, folio_redis_message_cb cb,
                          void *arg, struct folio_redis_sub **out) {
  assert(folio_loop_affine(r->loop));
  if (out) *out = NULL;
  if (!channel || !*channel || !cb || r->destroying) return FOLIO_REDIS_EINVAL;
  struct folio_redis_sub *s = calloc(1, sizeof *s);
  if (!s || !(s->channel = strdup(channel))) {
    free(s);
    return FOLIO_REDIS_ENOMEM;
  }
  s->r = r;
  s->cb = cb;
  s->arg = arg;
  bool had = channel_wanted(r, channel, NULL);
  s->next = r->subs;
  r->subs = s;
  if (had) {
    s->confirmed = true; /* the channel is already subscribed (or will be on connect) */
  } else if (r->ac) {
    send_subscribe(r, channel);
  }
  if (out) *out = s;
  return 0;
}

void folio_redis_unsubscribe(struct folio_redis *r, struct folio_redis_sub *s) {
  assert(folio_loop_affine(r->loop));
  struct folio_redis_sub **pp = &r->subs;
  while (*pp && *pp != s) pp = &(*pp)->next;
  if (!*pp) return;
  *pp = s->next;
  if (!channel_wanted(r, s->channel, NULL) && r->ac) {
    const char *argv[2] = {"UNSUBSCRIBE", s->channel};
    redisAsyncCommandArgv(r->ac, on_sub_reply, r, 2, argv, NULL);
  }
  s->cb(r, FOLIO_REDIS_EDOWN, s->channel, NULL, 0, s->arg);
  free(s->channel);
  free(s);
}
