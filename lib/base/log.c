#include "folio/log.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "folio/clock.h"

static atomic_int g_level = FOLIO_LOG_INFO;
static atomic_int g_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void folio_log_set_level(enum folio_log_level level) { atomic_store(&g_level, (int)level); }
void folio_log_set_fd(int fd) { atomic_store(&g_fd, fd); }
bool folio_log_enabled(enum folio_log_level level) { return (int)level >= atomic_load(&g_level); }

int folio_log_parse_level(const char *s, enum folio_log_level *out) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum folio_log_level)i;
      return 0;
    }
  }
  if (strcmp(s, "warning") == 0) {
    *out = FOLIO_LOG_WARN;
    return 0;
  }
  return -1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool folio_json_quote(char *buf, size_t cap, size_t *pos, const char *s, size_t len) {
  size_t p = *pos;
  const unsigned char *u = (const unsigned char *)s;
#define PUT(ch)                   \
  do {                            \
    if (p >= cap) return false;   \
    buf[p++] = (char)(ch);        \
  } while (0)
  PUT('"');
  for (size_t i = 0; i < len;) {
    /* Most text is printable ASCII that needs no escape: copy a run at once. */
    size_t run = i;
    while (run < len && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\') run++;
    if (run > i) {
      if (cap - p < run - i) return false;
      memcpy(buf + p, u + i, run - i);
      p += run - i;
      i = run;
      continue;
    }
    unsigned char c = u[i];
    if (c == '"' || c == '\\') {
      PUT('\\');
      PUT(c);
      i++;
    } else if (c < 0x20) {
      static const char hex[] = "0123456789abcdef";
      const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
      if (esc) {
        PUT(esc[0]);
        PUT(esc[1]);
      } else {
        PUT('\\');
        PUT('u');
        PUT('0');
        PUT('0');
        PUT(hex[c >> 4]);
        PUT(hex[c & 15]);
      }
      i++;
    } else if (c < 0x80) {
      PUT(c);
      i++;
    } else {
      size_t n = utf8_len(u + i, len - i);
      if (n == 0) {
        PUT(0xEF);
        PUT(0xBF);
        PUT(0xBD);
        i++;
      } else {
        for (size_t k = 0; k < n; k++) PUT(u[i + k]);
        i += n;
      }
    }
  }
  PUT('"');
#undef PUT
  *pos = p;
  return true;
}

/* Room kept at the end of the buffer for ',"truncated":true}\n'. */
#define TAIL_RESERVE 24

static void raw(struct folio_logline *l, const char *s, size_t n) {
  if (l->truncated) return;
  if (l->len + n > FOLIO_LOGLINE_MAX - TAIL_RESERVE) {
    l->truncated = true;
    return;
  }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void key(struct folio_logline *l, const char *k) {
  if (l->truncated) return;
  size_t save = l->len;
  raw(l, ",", 1);
  if (!folio_json_quote(l->buf, FOLIO_LOGLINE_MAX - TAIL_RESERVE, &l->len, k, strlen(k))) {
    l->len = save;
    l->truncated = true;
    return;
  }
  raw(l, ":", 1);
}

void folio_log_begin(struct folio_logline *l, enum folio_log_level level, const char *msg) {
  l->enabled = folio_log_enabled(level);
  l->truncated = false;
  l->len = 0;
  if (!l->enabled) return;
  char ts[32];
  folio_clock_format_rfc3339(folio_clock_real_ns(), ts, sizeof ts);
  /* Pieces copied by hand: this runs once per logged call. */
  raw(l, "{\"ts\":\"", 7);
  raw(l, ts, strlen(ts));
  raw(l, "\",\"level\":\"", 11);
  raw(l, level_names[level], strlen(level_names[level]));
  raw(l, "\"", 1);
  folio_log_str(l, "msg", msg);
}

void folio_log_strn(struct folio_logline *l, const char *k, const char *val, size_t len) {
  if (!l->enabled || l->truncated) return;
  size_t save = l->len;
  key(l, k);
  if (l->truncated) return;
  if (!folio_json_quote(l->buf, FOLIO_LOGLINE_MAX - TAIL_RESERVE, &l->len, val, len)) {
    l->len = save;
    l->truncated = true;
  }
}

void folio_log_str(struct folio_logline *l, const char *k, const char *val) {
  if (!l->enabled) return;
  if (!val) {
    key(l, k);
    raw(l, "null", 4);
    return;
  }
  folio_log_strn(l, k, val, strlen(val));
}

void folio_log_int(struct folio_logline *l, const char *k, int64_t val) {
  if (!l->enabled) return;
  char tmp[24];
  size_t n = sizeof tmp;
  /* Digits from the right, through uint64_t so INT64_MIN has a magnitude. */
  uint64_t mag = val < 0 ? 0 - (uint64_t)val : (uint64_t)val;
  do {
    tmp[--n] = (char)('0' + mag % 10);
    mag /= 10;
  } while (mag);
  if (val < 0) tmp[--n] = '-';
  key(l, k);
  raw(l, tmp + n, sizeof tmp - n);
}

void folio_log_double(struct folio_logline *l, const char *k, double val) {
  if (!l->enabled) return;
  char tmp[48];
  int n = isfinite(val) ? snprintf(tmp, sizeof tmp, "%.6g", val) : snprintf(tmp, sizeof tmp, "null");
  key(l, k);
  raw(l, tmp, (size_t)n);
}

void folio_log_ms(struct folio_logline *l, const char *k, int64_t ns) {
  if (!l->enabled) return;
  if (ns == 0) {
    key(l, k);
    raw(l, "0", 1);
    return;
  }
  /* Six significant digits q of ns / 10^6, value = q * 10^(x - 5). */
  uint64_t v = (uint64_t)ns;
  int digits = 0;
  for (uint64_t t = v; t; t /= 10) digits++;
  uint64_t q = v;
  if (digits > 6) {
    uint64_t div = 1;
    for (int i = 6; i < digits; i++) div *= 10;
    uint64_t r = v % div;
    q = v / div;
    if (r * 2 > div) {
      q++;
    } else if (r * 2 == div) {
      /* An exact tie of the true value: printf rounds the double, which lies
       * above or below it; fma gives the sign of (double)(ns/1e6) * 1e6 - ns
       * exactly. Only a double that is the tie itself rounds half to even. */
      double err = fma((double)ns / 1e6, 1e6, -(double)ns);
      if (err > 0 || (err == 0 && (q & 1))) q++;
    }
  } else {
    for (int i = digits; i < 6; i++) q *= 10;
  }
  int x = digits - 7; /* decimal exponent of the value in ms */
  if (q == 1000000) {
    q = 100000;
    x++;
  }
  /* %g switches to exponent notation outside 1e-4 <= value < 1e6. */
  if (ns < 0 || x < -4 || x >= 6) {
    folio_log_double(l, k, (double)ns / 1e6);
    return;
  }
  char d[6];
  for (int i = 5; i >= 0; i--) {
    d[i] = (char)('0' + q % 10);
    q /= 10;
  }
  int last = 5; /* the last digit kept: %g drops trailing zeros of the fraction */
  while (last > x && last > 0 && d[last] == '0') last--;
  char tmp[16];
  size_t n = 0;
  if (x < 0) {
    tmp[n++] = '0';
    tmp[n++] = '.';
    for (int i = -1; i > x; i--) tmp[n++] = '0';
    for (int i = 0; i <= last; i++) tmp[n++] = d[i];
  } else {
    for (int i = 0; i <= x; i++) tmp[n++] = d[i];
    if (last > x) {
      tmp[n++] = '.';
      for (int i = x + 1; i <= last; i++) tmp[n++] = d[i];
    }
  }
  key(l, k);
  raw(l, tmp, n);
}

void folio_log_bool(struct folio_logline *l, const char *k, bool val) {
  if (!l->enabled) return;
  key(l, k);
  raw(l, val ? "true" : "false", val ? 4 : 5);
}

size_t folio_log_finish(struct folio_logline *l) {
  if (!l->enabled) return 0;
  if (l->truncated) {
    static const char t[] = ",\"truncated\":true";
    memcpy(l->buf + l->len, t, sizeof t - 1);
    l->len += sizeof t - 1;
  }
  l->buf[l->len++] = '}';
  l->buf[l->len++] = '\n';
  l->enabled = false;
  return l->len;
}

void folio_log_end(struct folio_logline *l) {
  if (folio_log_finish(l) == 0) return;
  int fd = atomic_load(&g_fd);
  size_t off = 0;
  while (off < l->len) {
    ssize_t w = write(fd, l->buf + off, l->len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    off += (size_t)w;
  }
  l->enabled = false;
}

void folio_log(enum folio_log_level level, const char *msg, const char *detail) {
  struct folio_logline l;
  folio_log_begin(&l, level, msg);
  if (detail) folio_log_str(&l, "detail", detail);
  folio_log_end(&l);
}
