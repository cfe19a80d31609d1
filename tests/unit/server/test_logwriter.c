/* folio-server's log writer: lines come out whole and in order; when the
 * output is stuck and the buffer full, lines are dropped (never waited for)
 * and the count is reported; stop writes out everything queued. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "logwriter.h"

#define LINES 1000

struct sink {
  int fd;
  char *buf;
  size_t len, cap;
};

static void *drain(void *arg) {
  struct sink *s = arg;
  for (;;) {
    if (s->cap - s->len < 4096) {
      s->cap *= 2;
      s->buf = realloc(s->buf, s->cap);
      CHECK(s->buf);
    }
    ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
    if (n <= 0) break;
    s->len += (size_t)n;
  }
  s->buf[s->len] = '\0';
  return NULL;
}

int main(void) {
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
  CHECK(srv_logwriter_start(p[1], 1024) == 0);
  /* Nobody reads yet: the writer blocks once the pipe is full, the buffer
   * fills, and the rest must be dropped without blocking us. */
  for (int i = 0; i < LINES; i++) {
    struct folio_logline l;
    folio_log_begin(&l, FOLIO_LOG_INFO, "line");
    folio_log_int(&l, "i", i);
    srv_logwriter_end(&l);
  }
  struct sink s = {.fd = p[0], .cap = 1 << 16};
  s.buf = malloc(s.cap);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, drain, &s) == 0);
  srv_logwriter_stop();
  srv_logwriter_stop(); /* idempotent */
  close(p[1]);
  pthread_join(t, NULL);

  int kept = 0, last = -1;
  long dropped = 0;
  for (char *line = s.buf; *line;) {
    char *nl = strchr(line, '\n');
    CHECK_MSG(nl, "a partial line: %s", line);
    *nl = '\0';
    CHECK_MSG(line[0] == '{' && nl[-1] == '}', "not a JSON object line: %s", line);
    char *c = strstr(line, "\"msg\":\"log lines dropped\"");
    if (c) {
      dropped += atol(strstr(line, "\"count\":") + 8);
    } else {
      char *ip = strstr(line, "\"i\":");
      CHECK(ip);
      int i = atoi(ip + 4);
      CHECK_MSG(i > last, "out of order: %d after %d", i, last);
      last = i;
      kept++;
    }
    line = nl + 1;
  }
  CHECK_EQ_INT(kept + dropped, LINES);
  CHECK_MSG(dropped > 0, "nothing dropped although the output was stuck");
  CHECK(kept > 0);
  free(s.buf);
  close(p[0]);

  /* Not running: lines are written directly. */
  struct folio_logline l;
  folio_log_set_level(FOLIO_LOG_ERROR);
  folio_log_begin(&l, FOLIO_LOG_INFO, "below the level");
  srv_logwriter_end(&l); /* nothing happens */
  return check_done();
}
