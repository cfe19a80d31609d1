/* The dispatch protocol's Redis commands (folio/dispatch.h): which stream,
 * which group, from which id, how many at a time. lib/redis builds and
 * decodes the commands; this file decides their arguments, once, for the
 * server and the worker. Loop thread only, like the client it drives. */
#include "folio/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int folio_dispatch_group_create(struct folio_redis *r, folio_redis_reply_cb cb, void *arg) {
  return folio_redis_group_create(r, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP,
                                  FOLIO_DISPATCH_GROUP_START, cb, arg);
}

bool folio_dispatch_no_group(int status, const char *err) {
  return status == FOLIO_REDIS_EREPLY && err && strncmp(err, "NOGROUP", 7) == 0;
}

int folio_dispatch_send(struct folio_redis *r, const char *job_id, folio_redis_reply_cb cb,
                        void *arg) {
  return folio_redis_dispatch(r, FOLIO_JOBS_STREAM, job_id, FOLIO_JOBS_STREAM_MAXLEN, cb, arg);
}

int folio_dispatch_read(struct folio_redis *r, const char *consumer, int block_ms,
                        folio_redis_entries_cb cb, void *arg) {
  /* one entry at a time: a render process takes one job at a time, and an
   * entry read but not started would wait a visibility timeout for reclaim */
  return folio_redis_read(r, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, consumer, 1, block_ms, cb, arg);
}

int folio_dispatch_reclaim(struct folio_redis *r, const char *consumer, int visibility_ms,
                           folio_redis_entries_cb cb, void *arg) {
  return folio_redis_reclaim(r, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, consumer, visibility_ms,
                             "0-0", 1, cb, arg);
}

int folio_dispatch_ack(struct folio_redis *r, const char *entry_id, folio_redis_reply_cb cb,
                       void *arg) {
  return folio_redis_ack(r, FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, entry_id, cb, arg);
}

int folio_dispatch_idle_for(int delay_ms, int visibility_ms) {
  return delay_ms >= visibility_ms ? 0 : visibility_ms - (delay_ms < 0 ? 0 : delay_ms);
}

int folio_dispatch_redeliver_after(struct folio_redis *r, const char *consumer,
                                   const char *entry_id, int delay_ms, int visibility_ms,
                                   folio_redis_reply_cb cb, void *arg) {
  if (!consumer || !entry_id) return FOLIO_REDIS_EINVAL;
  char idle[24];
  snprintf(idle, sizeof idle, "%d", folio_dispatch_idle_for(delay_ms, visibility_ms));
  const char *argv[] = {"XCLAIM", FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP, consumer, "0",
                        entry_id, "IDLE", idle, "JUSTID"};
  return folio_redis_command(r, cb, arg, 9, argv, NULL);
}

long long folio_dispatch_parse_lag(const redisReply *rep) {
  if (!rep || rep->type != REDIS_REPLY_ARRAY) return -1;
  for (size_t g = 0; g < rep->elements; g++) {
    const redisReply *e = rep->element[g];
    if (!e || e->type != REDIS_REPLY_ARRAY) continue;
    bool ours = false;
    long long lag = -1;
    for (size_t k = 0; k + 1 < e->elements; k += 2) {
      const redisReply *key = e->element[k], *val = e->element[k + 1];
      if (!key || !val || key->type != REDIS_REPLY_STRING) continue;
      if (!strcmp(key->str, "name") && val->type == REDIS_REPLY_STRING)
        ours = !strcmp(val->str, FOLIO_JOBS_GROUP);
      else if (!strcmp(key->str, "lag") && val->type == REDIS_REPLY_INTEGER)
        lag = val->integer;
    }
    if (ours) return lag;
  }
  return -1;
}

struct lag_call {
  folio_dispatch_lag_cb cb;
  void *arg;
};

static void on_groups(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  (void)r;
  struct lag_call c = *(struct lag_call *)arg;
  free(arg);
  c.cb(status, status == 0 ? folio_dispatch_parse_lag(rep) : -1, c.arg);
}

int folio_dispatch_lag(struct folio_redis *r, folio_dispatch_lag_cb cb, void *arg) {
  if (!cb) return FOLIO_REDIS_EINVAL;
  struct lag_call *c = malloc(sizeof *c);
  if (!c) return FOLIO_REDIS_ENOMEM;
  *c = (struct lag_call){cb, arg};
  const char *argv[] = {"XINFO", "GROUPS", FOLIO_JOBS_STREAM};
  int rc = folio_redis_command(r, on_groups, c, 3, argv, NULL);
  if (rc != 0) free(c);
  return rc;
}
