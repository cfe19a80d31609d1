/* Structured logging: one JSON object per line on stderr.
 *
 *   struct folio_logline l;
 *   folio_log_begin(&l, FOLIO_LOG_INFO, "rpc");
 *   folio_log_str(&l, "method", "/folio.v1.LayoutService/GetStatus");
 *   folio_log_int(&l, "status", 0);
 *   folio_log_end(&l);      // {"ts":"…","level":"info","msg":"rpc","method":…}
 *
 * A line is built in a fixed buffer on the caller's stack and written with one
 * write(2), so lines from different threads never interleave. A line that would
 * overflow the buffer is cut and marked "truncated":true; it is never split.
 * Thread-safe. Never log secrets: callers pass only what may be shown. */
#ifndef FOLIO_LOG_H
#define FOLIO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum folio_log_level { FOLIO_LOG_DEBUG = 0, FOLIO_LOG_INFO, FOLIO_LOG_WARN, FOLIO_LOG_ERROR };

#define FOLIO_LOGLINE_MAX 4096

struct folio_logline {
  bool enabled; /* false when below the process level: the calls do nothing */
  bool truncated;
  size_t len;
  char buf[FOLIO_LOGLINE_MAX];
};

/* Process-wide minimum level (default INFO) and output fd (default 2). */
void folio_log_set_level(enum folio_log_level level);
/* Parses "debug|info|warn|error"; returns -1 for anything else. */
int folio_log_parse_level(const char *s, enum folio_log_level *out);
void folio_log_set_fd(int fd);
bool folio_log_enabled(enum folio_log_level level);

void folio_log_begin(struct folio_logline *l, enum folio_log_level level, const char *msg);
void folio_log_str(struct folio_logline *l, const char *key, const char *val); /* NULL → null */
void folio_log_strn(struct folio_logline *l, const char *key, const char *val, size_t len);
void folio_log_int(struct folio_logline *l, const char *key, int64_t val);
void folio_log_double(struct folio_logline *l, const char *key, double val);
/* ns nanoseconds as milliseconds, written exactly as folio_log_double(ns / 1e6)
 * would ("%.6g"), but from integer arithmetic, at a fraction of printf's cost
 * (one such value per logged call). */
void folio_log_ms(struct folio_logline *l, const char *key, int64_t ns);
void folio_log_bool(struct folio_logline *l, const char *key, bool val);
void folio_log_end(struct folio_logline *l);
/* Closes the line like folio_log_end (trailing "}\n") but writes nothing:
 * the whole line is then l->buf[0..return value), for callers that batch
 * lines themselves. Returns 0 (and leaves nothing) when the level was off. */
size_t folio_log_finish(struct folio_logline *l);

/* One-shot: a line with msg and an optional "detail" string. */
void folio_log(enum folio_log_level level, const char *msg, const char *detail);

/* Appends the JSON string-literal form of s[0..len) (with quotes) to buf of
 * capacity cap at *pos. Invalid UTF-8 bytes become U+FFFD. Returns false (and
 * leaves *pos unchanged) when it does not fit. Shared by everything that writes
 * JSON by hand. */
bool folio_json_quote(char *buf, size_t cap, size_t *pos, const char *s, size_t len);

#endif
