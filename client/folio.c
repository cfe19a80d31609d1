/* `folio`: the command-line entry point. Subcommands live one group per file;
 * adding one is a line in the table below. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"render", "render a layout locally to PDF, PNG pages and/or Scribus SLA (no server)", cli_render},
    {"submit", "submit a layout to folio-server; --wait follows it to the end", cli_submit},
    {"status", "show a job, its artifacts and signed URLs (--json)", cli_status},
    {"watch", "follow a job until it finishes", cli_watch},
    {"cancel", "cancel a queued or running job", cli_cancel},
    {"fetch", "download artifacts through the server (resumes, verifies sha256)", cli_fetch},
    {"url", "print a signed S3 URL for an artifact (--ttl 1h)", cli_url},
};

static void usage(FILE *f) {
  fprintf(f, "usage: folio <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n`folio <command> --help` describes a command. Server commands take --addr\n"
             "(FOLIO_ADDR, default " FOLIO_CLIENT_DEFAULT_ADDR "), --key (FOLIO_API_KEY) and --tls-ca\n"
             "(FOLIO_TLS_CA). Exit codes: client/README.md.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return FOLIO_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return FOLIO_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "folio: unknown command \"%s\"\n", argv[1]);
  usage(stderr);
  return FOLIO_EXIT_USAGE;
}
