/* The folio CLI: one command group per file (cmd_<group>.c), dispatched by
 * folio.c. Each command gets argv after the command name and returns the
 * process exit code (client/README.md: 0 ok, 2 usage, 3 invalid layout or
 * argument, 4 render failure / job failed or canceled, 5 I/O error, 6 not
 * found, 7 unauthenticated or permission denied, 8 server unavailable or
 * deadline, 1 anything else). cli_common.c holds what the server commands
 * share (connection flags, error reporting, parsing, progress bars). */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

enum {
  FOLIO_EXIT_OK = 0,
  FOLIO_EXIT_INTERNAL = 1, /* out of memory, unexpected failure */
  FOLIO_EXIT_USAGE = 2,    /* bad command line */
  FOLIO_EXIT_INVALID = 3,  /* the layout document is invalid (decoder errors on stderr) */
  FOLIO_EXIT_RENDER = 4,   /* rendering failed, e.g. a text overflow with policy "error" */
  FOLIO_EXIT_IO = 5,       /* reading the input or writing an output failed */
  FOLIO_EXIT_JOB = 4,      /* the job ended FAILED or CANCELED (same code as a local render failure) */
  FOLIO_EXIT_NOT_FOUND = 6,   /* NOT_FOUND: no such job (or another tenant's) or artifact */
  FOLIO_EXIT_AUTH = 7,        /* UNAUTHENTICATED / PERMISSION_DENIED */
  FOLIO_EXIT_UNAVAILABLE = 8, /* UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED */
};

struct cli_command {
  const char *name;
  const char *summary; /* one line for `folio --help` */
  int (*run)(int argc, char **argv);
};

/* cmd_render.c */
int cli_render(int argc, char **argv);
/* cmd_jobs.c */
int cli_submit(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_watch(int argc, char **argv);
int cli_cancel(int argc, char **argv);
/* cmd_fetch.c */
int cli_fetch(int argc, char **argv);
int cli_url(int argc, char **argv);

/* ---- cli_common.c --------------------------------------------------------- */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/client.h"

/* --addr/--key/--tls-ca, defaulting to FOLIO_ADDR / FOLIO_API_KEY /
 * FOLIO_TLS_CA. Strings borrowed from argv/environ. */
struct cli_conn {
  const char *addr, *key, *tls_ca;
};
void cli_conn_init(struct cli_conn *conn);
/* If argv[*i] is a connection flag, consumes it (and its value) and returns
 * 1; returns 0 if it is not one; -1 (message printed) if its value is missing. */
int cli_conn_flag(const char *cmd, int argc, char **argv, int *i, struct cli_conn *conn);
/* Reads a whole file ("-" = stdin) into *data (malloc'd, caller frees;
 * NUL-terminated, the NUL not counted in *len). On failure prints
 * "folio CMD: PATH: reason" and returns the exit code, else 0. */
int cli_read_input(const char *cmd, const char *path, char **data, size_t *len);
/* Connects (reading --tls-ca); on failure prints the error and returns the
 * exit code, else 0. */
int cli_connect(const char *cmd, const struct cli_conn *conn, struct folio_client **out);
/* The exit code for an error (see the enum above). */
int cli_exit_code(const struct folio_client_error *err);
/* Prints "folio CMD: STATUS_NAME: message" to stderr and returns the exit code. */
int cli_fail(const char *cmd, const struct folio_client_error *err);

/* A value option of a command: "--name" stores its argument in *value;
 * a flag (value == NULL) sets *flag. */
struct cli_opt {
  const char *name;
  const char **value;
  bool *flag;
};
/* Parses "CMD JOB_ID [options] [connection flags]" with opts (n of them):
 * -1 to go on with *id set, or an exit code to return (usage printed; --help
 * prints usage to stdout and gives 0). */
int cli_parse_job_args(const char *cmd, const char *usage, int argc, char **argv,
                             struct cli_conn *conn, const struct cli_opt *opts,
                             size_t n, const char **id);

/* "90s", "15m", "1h", "7d", or plain seconds "300" -> seconds (1..604800 is
 * the caller's business). Returns 0, or -1 if s is not a duration. */
int cli_parse_duration(const char *s, uint64_t *seconds);
/* "pdf,png,sla" -> formats (duplicates dropped) into out[3]; returns the
 * count, or -1 naming nothing (the caller prints the argument). */
int cli_parse_formats(const char *s, int out[3]);
/* A decimal in [lo, hi] -> *v; -1 if not. */
int cli_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v);
/* "JOB_STATE_RUNNING" -> "RUNNING". Static string. */
const char *cli_state_name(int state);
/* A job state's exit code: 0 for SUCCEEDED, FOLIO_EXIT_JOB for FAILED and
 * CANCELED, -1 while not terminal. */
int cli_state_exit(int state);

/* Renders a one-line progress bar of exactly width columns (width >= 20) into
 * out: "label [#####.....]  42% suffix", truncating label/suffix to fit.
 * fraction is clamped to [0, 1]; a negative fraction draws an empty bar and
 * no percentage (unknown). out needs width + 1 bytes. */
void cli_bar(char *out, size_t cap, int width, double fraction, const char *label,
                   const char *suffix);

/* A progress display on f: on a terminal one bar redrawn in place ("\r"),
 * otherwise plain lines, one per change of `line` (so logs stay readable). */
struct cli_progress {
  FILE *f;
  bool tty;
  int width;
  char last[256]; /* the last plain line printed */
  bool drawn;     /* a bar is on screen (needs a newline before other output) */
};
void cli_progress_init(struct cli_progress *p, FILE *f);
/* fraction < 0 = unknown; line is the plain-mode text (printed when it changed). */
void cli_progress_show(struct cli_progress *p, double fraction, const char *label,
                             const char *suffix, const char *line);
/* Ends the bar line, if any. */
void cli_progress_done(struct cli_progress *p);

#endif
