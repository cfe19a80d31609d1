/* The folio CLI: one command group per file (cmd_<group>.c), dispatched by
 * folio.c. Each command gets argv after the command name and returns the
 * process exit code (see docs: 0 ok, 2 usage, 3 invalid layout, 4 render
 * failure, 5 I/O error, 1 anything else). */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

enum {
  FOLIO_EXIT_OK = 0,
  FOLIO_EXIT_INTERNAL = 1, /* out of memory, unexpected failure */
  FOLIO_EXIT_USAGE = 2,    /* bad command line */
  FOLIO_EXIT_INVALID = 3,  /* the layout document is invalid (decoder errors on stderr) */
  FOLIO_EXIT_RENDER = 4,   /* rendering failed, e.g. a text overflow with policy "error" */
  FOLIO_EXIT_IO = 5,       /* reading the input or writing an output failed */
};

struct folio_cli_command {
  const char *name;
  const char *summary; /* one line for `folio --help` */
  int (*run)(int argc, char **argv);
};

/* cmd_render.c */
int folio_cli_render(int argc, char **argv);

#endif
