/* What the server commands of the folio CLI share: connection flags and
 * environment, the one mapping from gRPC status to exit code, argument
 * parsing (durations, formats, numbers) and progress display. Kept free of
 * I/O beyond stderr so tests/unit/client can exercise it directly. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

void cli_conn_init(struct cli_conn *conn) {
  const char *a = getenv("FOLIO_ADDR"), *k = getenv("FOLIO_API_KEY"), *t = getenv("FOLIO_TLS_CA");
  conn->addr = a && *a ? a : FOLIO_CLIENT_DEFAULT_ADDR;
  conn->key = k && *k ? k : NULL;
  conn->tls_ca = t && *t ? t : NULL;
}

int cli_conn_flag(const char *cmd, int argc, char **argv, int *i, struct cli_conn *conn) {
  static const char *const names[] = {"--addr", "--key", "--tls-ca"};
  const char **slots[] = {&conn->addr, &conn->key, &conn->tls_ca};
  for (int k = 0; k < 3; k++) {
    size_t n = strlen(names[k]);
    if (strncmp(argv[*i], names[k], n)) continue;
    if (argv[*i][n] == '=') {
      *slots[k] = argv[*i] + n + 1;
      return 1;
    }
    if (argv[*i][n] != '\0') continue;
    if (*i + 1 >= argc) {
      fprintf(stderr, "folio %s: %s needs a value\n", cmd, names[k]);
      return -1;
    }
    *slots[k] = argv[++*i];
    return 1;
  }
  return 0;
}

int cli_read_input(const char *cmd, const char *path, char **data, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "folio %s: %s: %s\n", cmd, path, strerror(errno));
    return FOLIO_EXIT_IO;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (n + 1 >= cap) {
      char *p = realloc(buf, cap *= 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
    }
    size_t k = fread(buf + n, 1, cap - n - 1, f);
    n += k;
    if (k == 0) break;
  }
  int err = ferror(f);
  if (f != stdin) fclose(f);
  if (!buf) {
    fprintf(stderr, "folio %s: %s: out of memory\n", cmd, path);
    return FOLIO_EXIT_INTERNAL;
  }
  if (err) {
    fprintf(stderr, "folio %s: %s: read error\n", cmd, path);
    free(buf);
    return FOLIO_EXIT_IO;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

int cli_connect(const char *cmd, const struct cli_conn *conn, struct folio_client **out) {
  char *ca = NULL;
  size_t calen;
  int rc;
  if (conn->tls_ca && (rc = cli_read_input(cmd, conn->tls_ca, &ca, &calen)) != 0) return rc;
  struct folio_client_config cfg = {.addr = conn->addr, .api_key = conn->key, .tls_ca_pem = ca};
  struct folio_client_error err;
  rc = folio_client_connect(&cfg, out, &err) != 0 ? cli_fail(cmd, &err) : 0;
  free(ca);
  return rc;
}

int cli_parse_job_args(const char *cmd, const char *usage, int argc, char **argv,
                             struct cli_conn *conn, const struct cli_opt *opts,
                             size_t n, const char **id) {
  cli_conn_init(conn);
  *id = NULL;
  for (int i = 1; i < argc; i++) {
    int k = cli_conn_flag(cmd, argc, argv, &i, conn);
    if (k < 0) return FOLIO_EXIT_USAGE;
    if (k > 0) continue;
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return FOLIO_EXIT_OK;
    }
    const struct cli_opt *o = NULL;
    for (size_t j = 0; j < n && !o; j++)
      if (!strcmp(argv[i], opts[j].name)) o = &opts[j];
    if (o && o->flag) {
      *o->flag = true;
    } else if (o && i + 1 < argc) {
      *o->value = argv[++i];
    } else if (o) {
      fprintf(stderr, "folio %s: %s needs a value\n%s", cmd, o->name, usage);
      return FOLIO_EXIT_USAGE;
    } else if (argv[i][0] == '-' || *id) {
      fprintf(stderr, "folio %s: unexpected argument \"%s\"\n%s", cmd, argv[i], usage);
      return FOLIO_EXIT_USAGE;
    } else {
      *id = argv[i];
    }
  }
  if (!*id) {
    fprintf(stderr, "folio %s: the job id is required\n%s", cmd, usage);
    return FOLIO_EXIT_USAGE;
  }
  return -1;
}

int cli_exit_code(const struct folio_client_error *err) {
  if (err->local_io) return FOLIO_EXIT_IO;
  switch (err->code) {
    case GRPC_STATUS_OK: return FOLIO_EXIT_OK;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_OUT_OF_RANGE:
    case GRPC_STATUS_ALREADY_EXISTS: return FOLIO_EXIT_INVALID;
    case GRPC_STATUS_NOT_FOUND: return FOLIO_EXIT_NOT_FOUND;
    case GRPC_STATUS_UNAUTHENTICATED:
    case GRPC_STATUS_PERMISSION_DENIED: return FOLIO_EXIT_AUTH;
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return FOLIO_EXIT_UNAVAILABLE;
    case GRPC_STATUS_DATA_LOSS: return FOLIO_EXIT_IO;
    default: return FOLIO_EXIT_INTERNAL;
  }
}

int cli_fail(const char *cmd, const struct folio_client_error *err) {
  if (err->local_io) fprintf(stderr, "folio %s: %s\n", cmd, err->message);
  else fprintf(stderr, "folio %s: %s: %s\n", cmd, folio_client_status_name(err->code), err->message);
  return cli_exit_code(err);
}

int cli_parse_duration(const char *s, uint64_t *seconds) {
  if (!s || !isdigit((unsigned char)*s)) return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno) return -1;
  uint64_t mul = 1;
  if (*end) {
    switch (*end) {
      case 's': mul = 1; break;
      case 'm': mul = 60; break;
      case 'h': mul = 3600; break;
      case 'd': mul = 86400; break;
      default: return -1;
    }
    if (end[1]) return -1;
  }
  if (v > UINT64_MAX / mul) return -1;
  *seconds = (uint64_t)v * mul;
  return 0;
}

int cli_parse_formats(const char *s, int out[3]) {
  int n = 0;
  const char *p = s;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    int f;
    if (len == 3 && !strncmp(p, "pdf", 3)) f = FOLIO__V1__FORMAT__FORMAT_PDF;
    else if (len == 3 && !strncmp(p, "png", 3)) f = FOLIO__V1__FORMAT__FORMAT_PNG;
    else if (len == 3 && !strncmp(p, "sla", 3)) f = FOLIO__V1__FORMAT__FORMAT_SLA;
    else return -1;
    bool dup = false;
    for (int i = 0; i < n; i++) dup |= out[i] == f;
    if (!dup) out[n++] = f;
    if (!comma) break;
    p = comma + 1;
  }
  return n;
}

int cli_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v) {
  if (!s || !isdigit((unsigned char)*s)) return -1;
  errno = 0;
  char *end;
  unsigned long x = strtoul(s, &end, 10);
  if (errno || *end || x < lo || x > hi) return -1;
  *v = x;
  return 0;
}

const char *cli_state_name(int state) {
  switch (state) {
    case FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED: return "QUEUED";
    case FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING: return "RUNNING";
    case FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED: return "SUCCEEDED";
    case FOLIO__V1__JOB_STATE__JOB_STATE_FAILED: return "FAILED";
    case FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED: return "CANCELED";
    default: return "UNSPECIFIED";
  }
}

int cli_state_exit(int state) {
  switch (state) {
    case FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED: return FOLIO_EXIT_OK;
    case FOLIO__V1__JOB_STATE__JOB_STATE_FAILED:
    case FOLIO__V1__JOB_STATE__JOB_STATE_CANCELED: return FOLIO_EXIT_JOB;
    default: return -1;
  }
}

void cli_bar(char *out, size_t cap, int width, double fraction, const char *label,
                   const char *suffix) {
  if (cap == 0) return;
  if (width < 20) width = 20;
  if ((size_t)width + 1 > cap) width = (int)cap - 1;
  /* label (<= 1/3 of the line), " [", bar, "] ", "100%", " ", suffix */
  int lab = (int)strlen(label ? label : "");
  if (lab > width / 3) lab = width / 3;
  int suf = (int)strlen(suffix ? suffix : "");
  int fixed = lab + 2 + 2 + 4;
  if (suf > width - fixed - 1 - 10) suf = width - fixed - 1 - 10;
  if (suf < 0) suf = 0;
  int barw = width - fixed - (suf ? suf + 1 : 0);
  if (barw < 1) barw = 1;
  bool known = fraction >= 0;
  if (fraction > 1) fraction = 1;
  int fill = known ? (int)(fraction * barw + 0.5) : 0;
  char pct[8] = "    ";
  if (known) snprintf(pct, sizeof pct, "%3d%%", (int)(fraction * 100 + 0.5));
  size_t pos = 0;
  int n = snprintf(out, cap, "%.*s [", lab, label ? label : "");
  pos = n > 0 ? (size_t)n : 0;
  for (int i = 0; i < barw && pos + 1 < cap; i++) out[pos++] = i < fill ? '#' : '.';
  n = snprintf(out + pos, cap - pos, "] %s%s%.*s", pct, suf ? " " : "", suf, suffix ? suffix : "");
  pos += n > 0 ? (size_t)n : 0;
  /* pad to exactly width so a redraw covers the previous line */
  while (pos < (size_t)width && pos + 1 < cap) out[pos++] = ' ';
  out[pos < cap ? pos : cap - 1] = '\0';
}

void cli_progress_init(struct cli_progress *p, FILE *f) {
  memset(p, 0, sizeof *p);
  p->f = f;
  p->tty = isatty(fileno(f)) == 1;
  p->width = 80;
  struct winsize ws;
  if (p->tty && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    p->width = ws.ws_col - 1 > 200 ? 200 : ws.ws_col - 1;
}

void cli_progress_show(struct cli_progress *p, double fraction, const char *label,
                             const char *suffix, const char *line) {
  if (p->tty) {
    char bar[256];
    cli_bar(bar, sizeof bar, p->width, fraction, label, suffix);
    fprintf(p->f, "\r%s", bar);
    fflush(p->f);
    p->drawn = true;
  } else if (line && strcmp(line, p->last)) {
    snprintf(p->last, sizeof p->last, "%s", line);
    fprintf(p->f, "%s\n", line);
    fflush(p->f);
  }
}

void cli_progress_done(struct cli_progress *p) {
  if (p->drawn) fputc('\n', p->f);
  p->drawn = false;
}
