#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "folio/clock.h"
#include "folio/log.h"

static char out[8192];

static const char *capture(void (*fn)(void)) {
  int p[2];
  CHECK(pipe(p) == 0);
  folio_log_set_fd(p[1]);
  fn();
  close(p[1]);
  ssize_t n = read(p[0], out, sizeof out - 1);
  close(p[0]);
  out[n > 0 ? n : 0] = '\0';
  folio_log_set_fd(2);
  return out;
}

static void basic(void) {
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "rpc");
  folio_log_str(&l, "method", "/a.B/C");
  folio_log_int(&l, "status", 12);
  folio_log_double(&l, "ms", 1.5);
  folio_log_bool(&l, "ok", true);
  folio_log_str(&l, "peer", NULL);
  folio_log_strn(&l, "bin", "a\"b\\c\n\x01\xff", 8);
  folio_log_end(&l);
}

/* folio_log_int formats by hand: the extremes and zero. */
static void ints(void) {
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "ints");
  folio_log_int(&l, "min", INT64_MIN);
  folio_log_int(&l, "max", INT64_MAX);
  folio_log_int(&l, "zero", 0);
  folio_log_int(&l, "neg", -7);
  folio_log_end(&l);
}

static void filtered(void) { folio_log(FOLIO_LOG_DEBUG, "hidden", NULL); }

static void huge(void) {
  static char big[10000];
  memset(big, 'x', sizeof big - 1);
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_ERROR, "big");
  folio_log_str(&l, "v", big);
  folio_log_int(&l, "after", 1);
  folio_log_end(&l);
}

/* folio_log_ms must print exactly what "%.6g" of ns / 1e6 prints: every
 * value up to 2 ms (ties of the 7th digit included), then a spread of
 * magnitudes up to exponent notation. */
static void ms_matches_printf(void) {
  uint64_t x = 88172645463325252ull;
  int bad = 0;
  for (int64_t i = 0; i < 2200000 && bad < 5; i++) {
    int64_t ns = i;
    if (i >= 2000000) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      ns = (int64_t)(x % (UINT64_C(1) << (i % 50 + 1)));
    }
    struct folio_logline l;
    folio_log_begin(&l, FOLIO_LOG_ERROR, "x");
    size_t at = l.len + strlen(",\"k\":");
    folio_log_ms(&l, "k", ns);
    l.buf[l.len] = '\0';
    char want[48];
    snprintf(want, sizeof want, "%.6g", (double)ns / 1e6);
    if (strcmp(l.buf + at, want) != 0) {
      bad++;
      CHECK_MSG(false, "ns=%lld: folio_log_ms wrote %s, printf %s", (long long)ns, l.buf + at, want);
    }
  }
  CHECK(bad == 0);
}

int main(void) {
  ms_matches_printf();
  const char *s = capture(basic);
  CHECK_MSG(strstr(s, "\"level\":\"info\",\"msg\":\"rpc\",\"method\":\"/a.B/C\",\"status\":12,\"ms\":1.5,"
                      "\"ok\":true,\"peer\":null,\"bin\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\"}\n") != NULL,
            "%s", s);
  CHECK(strncmp(s, "{\"ts\":\"", 7) == 0);
  s = capture(ints);
  CHECK_MSG(strstr(s, "\"min\":-9223372036854775808,\"max\":9223372036854775807,\"zero\":0,"
                      "\"neg\":-7}\n") != NULL,
            "%s", s);
  /* The per-thread cached second and the milliseconds appended to it. */
  char ts[32];
  CHECK_EQ_STR(folio_clock_format_rfc3339(INT64_C(1796003879123000000), ts, sizeof ts),
               "2026-11-30T01:57:59.123Z");
  CHECK_EQ_STR(folio_clock_format_rfc3339(INT64_C(1796003879004999999), ts, sizeof ts),
               "2026-11-30T01:57:59.004Z");
  CHECK_EQ_STR(folio_clock_format_rfc3339(INT64_C(1796003880000000000), ts, sizeof ts),
               "2026-11-30T01:58:00.000Z");
  s = capture(filtered);
  CHECK_EQ_STR(s, "");
  s = capture(huge);
  CHECK_MSG(strstr(s, "\"msg\":\"big\",\"truncated\":true}\n") != NULL, "%s", s);
  enum folio_log_level lv;
  CHECK(folio_log_parse_level("warn", &lv) == 0 && lv == FOLIO_LOG_WARN);
  CHECK(folio_log_parse_level("loud", &lv) == -1);
  return check_done();
}
