/* libFuzzer target for the parsers lib/redis and lib/jobs apply to bytes that
 * come from outside: Redis replies to XREADGROUP/XAUTOCLAIM (RESP, decoded
 * by hiredis's reader, then folio_redis_parse_entries), FOLIO_REDIS_URL, job
 * event messages from Pub/Sub, and the page-range grammar a submission's
 * options.page_range must follow (lib/layout's folio/pagerange.h), and the
 * stored findings list (jobs.findings, lib/base's folio/findings.h) GetStatus
 * parses. The first byte picks the parser. Any
 * input must give a result or a clean refusal: no crash, leak or UB. */
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/findings.h"
#include "folio/jobs.h"
#include "folio/pagerange.h"
#include "folio/redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const struct folio_redis_entry *e, int n) {
  size_t sum = 0;
  for (int i = 0; i < n; i++) sum += strlen(e[i].id) + strlen(e[i].job_id);
  return sum;
}

/* hiredis 0.14's reader allocates whatever a length prefix announces (it has
 * no maxelements); folio trusts its Redis that far. Keep the fuzzer on our
 * code: refuse inputs announcing more than 4096 elements or bytes. */
static bool huge_prefix(const uint8_t *d, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) {
    if (d[i] != '*' && d[i] != '$') continue;
    long v = 0;
    for (size_t j = i + 1; j < n && d[j] >= '0' && d[j] <= '9'; j++)
      if ((v = v * 10 + (d[j] - '0')) > 4096) return true;
  }
  return false;
}

static void replies(const uint8_t *data, size_t size) {
  if (huge_prefix(data, size)) return;
  redisReader *r = redisReaderCreate();
  if (!r) return;
  if (redisReaderFeed(r, (const char *)data, size) == REDIS_OK) {
    for (int k = 0; k < 16; k++) {
      void *reply = NULL;
      if (redisReaderGetReply(r, &reply) != REDIS_OK || !reply) break;
      struct folio_redis_entry e[8];
      const char *cursor;
      for (int mode = 0; mode < 2; mode++) {
        int n = folio_redis_parse_entries(reply, mode == 1, e, 8, &cursor);
        if (n > 8 || (n < 0 && n != FOLIO_REDIS_EPROTO)) abort();
        if (n > 0) {
          volatile size_t s = touch(e, n);
          (void)s;
        }
        if (mode == 1 && n >= 0 && !cursor) abort(); /* XAUTOCLAIM always has a cursor */
      }
      freeReplyObject(reply);
    }
  }
  redisReaderFree(r);
}

static void url(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return;
  memcpy(s, data, size);
  s[size] = '\0';
  struct folio_redis_url u;
  char err[128];
  int rc = folio_redis_url_parse(s, &u, err, sizeof err);
  if (rc != 0 && (rc != FOLIO_REDIS_EINVAL || !err[0])) abort(); /* refusals say why */
  if (rc == 0 && !u.path[0] && (!u.host[0] || u.port < 1 || u.port > 65535)) abort();
  free(s);
}

static void event(const uint8_t *data, size_t size) {
  char id[FOLIO_UUID_STR_LEN + 1];
  enum folio_job_state st;
  int pr;
  if (folio_jobs_event_parse((const char *)data, size, id, &st, &pr) != 0) return;
  /* whatever parses formats back to the same bytes */
  char buf[FOLIO_JOBS_EVENT_MAX];
  int n = folio_jobs_event_format(buf, sizeof buf, id, st, pr);
  if (n < 0) abort();
  if ((size_t)n != size || memcmp(buf, data, size) != 0) abort();
}

/* The grammar check and the parse against a page count agree: what checks
 * parses for exactly `need` pages (ascending, distinct, in range) and is
 * past the end for fewer; what does not check never parses. */
static void pages(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return;
  memcpy(s, data, size);
  s[size] = '\0';
  char why[FOLIO_PAGES_WHY_MAX] = "";
  size_t need = 0, *l = NULL, n = 0;
  int rc = folio_layout_pages_check(s, &need, why, sizeof why);
  if (rc != 0) {
    if (rc != FOLIO_PAGES_ESYNTAX || !why[0]) abort();
    if (folio_layout_pages_parse(s, 4096, &l, &n, NULL, 0) != FOLIO_PAGES_ESYNTAX || l) abort();
  } else if (need <= 4096) {
    if (folio_layout_pages_parse(s, need, &l, &n, why, sizeof why) != 0) abort();
    for (size_t i = 0; i < n; i++)
      if (l[i] >= need || (i && l[i] <= l[i - 1])) abort();
    if (need && (!n || l[n - 1] + 1 != need)) abort(); /* the highest page named is selected */
    free(l);
    l = NULL;
    if (need && folio_layout_pages_parse(s, need - 1, &l, &n, why, sizeof why) != FOLIO_PAGES_EPAST)
      abort();
  }
  free(l);
  free(s);
}

/* Whatever parses is bounded and exact, and serialises to text that parses
 * back to the same entries. */
static void findings(const uint8_t *data, size_t size) {
  struct folio_findings f, g;
  folio_findings_init(&f, 0);
  folio_findings_init(&g, 0);
  if (folio_findings_from_json(&f, (const char *)data, size) == 0) {
    if (f.n > FOLIO_FINDINGS_MAX) abort();
    char *js;
    size_t len;
    if (folio_findings_to_json(&f, &js, &len) == 0) {
      if (folio_findings_from_json(&g, js, len) != 0 || g.n != f.n) abort();
      for (size_t i = 0; i < f.n; i++) {
        const struct folio_finding *a = &f.items[i], *b = &g.items[i];
        if (strcmp(a->code, b->code) || a->severity != b->severity || a->stage != b->stage || a->page != b->page ||
            strcmp(a->pointer, b->pointer) || strcmp(a->message, b->message) || a->omitted != b->omitted)
          abort();
      }
      free(js);
    }
  }
  folio_findings_fini(&f);
  folio_findings_fini(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 5) {
    case 0: replies(data + 1, size - 1); break;
    case 1: url(data + 1, size - 1); break;
    case 2: event(data + 1, size - 1); break;
    case 3: pages(data + 1, size - 1); break;
    default: findings(data + 1, size - 1); break;
  }
  return 0;
}
