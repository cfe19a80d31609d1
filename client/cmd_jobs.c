/* folio submit | status | watch | cancel: the job commands of the CLI. Each
 * parses its flags, makes one client-library call (two for submit --wait) and
 * maps the outcome to an exit code (cli.h). Human output goes to stdout;
 * progress and errors to stderr, so `id=$(folio submit x.json)` works. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "folio/layout.h" /* FOLIO_PNG_DPI_*: the submit check's bounds */
#include "folio/pdf_profile.h" /* the profiles' CLI names */

/* protobuf-c fields are char * but requests only read them. */
static char *pbstr(const char *s) { return (char *)(uintptr_t)s; }

static void print_time(FILE *f, const char *label, const Google__Protobuf__Timestamp *t, bool json) {
  if (!t) return;
  time_t s = (time_t)t->seconds;
  struct tm tm;
  char buf[40];
  gmtime_r(&s, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (json) fprintf(f, ",\"%s\":\"%s.%03dZ\"", label, buf, t->nanos / 1000000);
  else fprintf(f, "%-9s %s.%03dZ\n", label, buf, t->nanos / 1000000);
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

static const char *format_name(int f) {
  switch (f) {
    case FOLIO__V1__FORMAT__FORMAT_PDF: return "pdf";
    case FOLIO__V1__FORMAT__FORMAT_PNG: return "png";
    case FOLIO__V1__FORMAT__FORMAT_SLA: return "sla";
    default: return "unspecified";
  }
}

static const char *severity_name(Folio__V1__FindingSeverity s) {
  switch (s) {
  case FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_INFO: return "info";
  case FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_WARNING: return "warning";
  case FOLIO__V1__FINDING_SEVERITY__FINDING_SEVERITY_ERROR: return "error";
  default: return "unspecified";
  }
}

static const char *stage_name(Folio__V1__FindingStage s) {
  switch (s) {
  case FOLIO__V1__FINDING_STAGE__FINDING_STAGE_DECODE: return "decode";
  case FOLIO__V1__FINDING_STAGE__FINDING_STAGE_TYPESET: return "typeset";
  case FOLIO__V1__FINDING_STAGE__FINDING_STAGE_PAINT: return "paint";
  case FOLIO__V1__FINDING_STAGE__FINDING_STAGE_PREFLIGHT: return "preflight";
  default: return "unspecified";
  }
}

static void print_job_json(FILE *f, const Folio__V1__Job *j) {
  fprintf(f, "{\"job_id\":");
  json_str(f, j->job_id);
  fprintf(f, ",\"state\":\"%s\",\"progress_percent\":%u,\"attempts\":%u",
          cli_state_name(j->state), j->progress_percent, j->attempts);
  if (j->error && j->error->code && *j->error->code) {
    fprintf(f, ",\"error\":{\"code\":");
    json_str(f, j->error->code);
    fprintf(f, ",\"message\":");
    json_str(f, j->error->message);
    fputc('}', f);
  }
  print_time(f, "created_at", j->created_at, true);
  print_time(f, "started_at", j->started_at, true);
  print_time(f, "finished_at", j->finished_at, true);
  fprintf(f, ",\"formats\":[");
  for (size_t i = 0; i < j->n_formats; i++)
    fprintf(f, "%s\"%s\"", i ? "," : "", format_name(j->formats[i]));
  fprintf(f, "],\"labels\":{");
  for (size_t i = 0; i < j->n_labels; i++) {
    if (i) fputc(',', f);
    json_str(f, j->labels[i]->key);
    fputc(':', f);
    json_str(f, j->labels[i]->value);
  }
  fprintf(f, "},\"artifacts\":[");
  for (size_t i = 0; i < j->n_artifacts; i++) {
    const Folio__V1__Artifact *a = j->artifacts[i];
    fprintf(f, "%s{\"name\":", i ? "," : "");
    json_str(f, a->name);
    fprintf(f, ",\"format\":\"%s\",\"page\":%u,\"size_bytes\":%llu,\"sha256_hex\":",
            format_name(a->format), a->page, (unsigned long long)a->size_bytes);
    json_str(f, a->sha256_hex);
    fprintf(f, ",\"content_type\":");
    json_str(f, a->content_type);
    fprintf(f, ",\"signed_url\":");
    json_str(f, a->signed_url);
    print_time(f, "url_expires_at", a->url_expires_at, true);
    fputc('}', f);
  }
  fprintf(f, "],\"findings\":[");
  for (size_t i = 0; i < j->n_findings; i++) {
    const Folio__V1__Finding *x = j->findings[i];
    fprintf(f, "%s{\"code\":", i ? "," : "");
    json_str(f, x->code);
    fprintf(f, ",\"severity\":\"%s\",\"stage\":\"%s\",\"page\":%u,\"pointer\":", severity_name(x->severity),
            stage_name(x->stage), x->page);
    json_str(f, x->pointer);
    fprintf(f, ",\"message\":");
    json_str(f, x->message);
    fputc('}', f);
  }
  fprintf(f, "]}\n");
}

static void print_job(FILE *f, const Folio__V1__Job *j) {
  fprintf(f, "job       %s\nstate     %s (%u%%, attempt %u)\n", j->job_id,
          cli_state_name(j->state), j->progress_percent, j->attempts);
  if (j->error && j->error->code && *j->error->code)
    fprintf(f, "error     %s: %s\n", j->error->code, j->error->message ? j->error->message : "");
  print_time(f, "created", j->created_at, false);
  print_time(f, "started", j->started_at, false);
  print_time(f, "finished", j->finished_at, false);
  if (j->n_formats) {
    fprintf(f, "formats  ");
    for (size_t i = 0; i < j->n_formats; i++) fprintf(f, " %s", format_name(j->formats[i]));
    fputc('\n', f);
  }
  for (size_t i = 0; i < j->n_labels; i++)
    fprintf(f, "label     %s=%s\n", j->labels[i]->key, j->labels[i]->value);
  for (size_t i = 0; i < j->n_artifacts; i++) {
    const Folio__V1__Artifact *a = j->artifacts[i];
    fprintf(f, "artifact  %-16s %10llu bytes  sha256 %s\n", a->name,
            (unsigned long long)a->size_bytes, a->sha256_hex);
    if (a->signed_url && *a->signed_url) fprintf(f, "          %s\n", a->signed_url);
  }
  for (size_t i = 0; i < j->n_findings; i++) {
    const Folio__V1__Finding *x = j->findings[i];
    fprintf(f, "finding   %s %s page %u%s%s: %s\n", severity_name(x->severity), x->code, x->page,
            x->pointer && *x->pointer ? " " : "", x->pointer ? x->pointer : "", x->message ? x->message : "");
  }
}

/* Shows WatchJob updates as a progress bar (terminal) or lines. */
static int show_update(const Folio__V1__Job *j, void *ud) {
  struct cli_progress *p = ud;
  const char *st = cli_state_name(j->state);
  char line[160], label[48];
  snprintf(label, sizeof label, "%.8s", j->job_id);
  snprintf(line, sizeof line, "%s %s %u%%", j->job_id, st, j->progress_percent);
  cli_progress_show(p, j->progress_percent / 100.0, label, st, line);
  return 0;
}

/* Follows job_id to its end; prints the final state (and error) and returns
 * the exit code. */
static int follow(const char *cmd, struct folio_client *c, const char *job_id) {
  struct cli_progress p;
  cli_progress_init(&p, stderr);
  struct folio_client_error err;
  Folio__V1__Job *last = NULL;
  int rc = folio_client_watch(c, job_id, show_update, &p, &last, &err);
  cli_progress_done(&p);
  if (rc != 0) return cli_fail(cmd, &err);
  if (!last) {
    fprintf(stderr, "folio %s: the watch ended without any update\n", cmd);
    return FOLIO_EXIT_INTERNAL;
  }
  int code = cli_state_exit(last->state);
  if (code < 0) {
    fprintf(stderr, "folio %s: the watch ended while the job was %s\n", cmd,
            cli_state_name(last->state));
    code = FOLIO_EXIT_UNAVAILABLE;
  } else if (code != 0) {
    fprintf(stderr, "folio %s: job %s %s", cmd, last->job_id, cli_state_name(last->state));
    if (last->error && last->error->code && *last->error->code)
      fprintf(stderr, ": %s: %s", last->error->code, last->error->message ? last->error->message : "");
    fputc('\n', stderr);
  } else {
    fprintf(stderr, "job %s SUCCEEDED (%zu artifact%s)\n", last->job_id, last->n_artifacts,
            last->n_artifacts == 1 ? "" : "s");
  }
  folio_client_free(last);
  return code;
}

static const char submit_usage[] =
    "usage: folio submit LAYOUT.json [--format pdf,png,sla] [--dpi N] [--pages 1-3,5]\n"
    "                    [--png-include-bleed] [--label k=v]... [--idempotency-key K] [--wait]\n"
    "                    [--pdf-profile pdfa-2b|pdfx-4|pdfua-1]... [--fail-on-warnings]\n"
    "                    [--require-clean-preflight]\n"
    "                    [--addr HOST:PORT] [--key API_KEY] [--tls-ca CA.pem]\n"
    "Prints the job id. With --wait, follows the job (progress on stderr) and exits\n"
    "0 if it SUCCEEDED, 4 if it FAILED or was CANCELED. LAYOUT \"-\" reads stdin.\n";

#define MAX_LABELS 32

int cli_submit(int argc, char **argv) {
  struct cli_conn conn;
  cli_conn_init(&conn);
  const char *path = NULL, *pages = NULL, *idem = NULL;
  int formats[3] = {FOLIO__V1__FORMAT__FORMAT_PDF};
  int nformats = 1;
  unsigned long dpi = 0;
  bool wait = false, png_bleed = false, fail_on_warnings = false, clean_preflight = false;
  Folio__V1__SubmitLayoutRequest__LabelsEntry labels[MAX_LABELS], *lp[MAX_LABELS];
  size_t nlabels = 0;
  /* the first --pdf-profile is options.pdf_profile, the others
   * additional_pdf_profiles; the server checks the combination */
  Folio__V1__PdfProfile profiles[8];
  size_t nprofiles = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int k = cli_conn_flag("submit", argc, argv, &i, &conn);
    if (k < 0) return FOLIO_EXIT_USAGE;
    if (k > 0) continue;
    bool has_val = i + 1 < argc;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(submit_usage, stdout);
      return FOLIO_EXIT_OK;
    } else if (!strcmp(a, "--wait")) {
      wait = true;
    } else if (!strcmp(a, "--png-include-bleed")) {
      png_bleed = true;
    } else if (!strcmp(a, "--fail-on-warnings")) {
      fail_on_warnings = true; /* options.fail_on_warnings */
    } else if (!strcmp(a, "--require-clean-preflight")) {
      clean_preflight = true; /* options.require_clean_preflight */
    } else if (!strcmp(a, "--format") && has_val) {
      nformats = cli_parse_formats(argv[++i], formats);
      if (nformats < 0) {
        fprintf(stderr, "folio submit: --format \"%s\": expected a comma list of pdf, png, sla\n", argv[i]);
        return FOLIO_EXIT_USAGE;
      }
    } else if (!strcmp(a, "--dpi") && has_val) {
      if (cli_parse_uint(argv[++i], FOLIO_PNG_DPI_MIN, FOLIO_PNG_DPI_MAX, &dpi) != 0) {
        fprintf(stderr, "folio submit: --dpi \"%s\": expected a whole number %d..%d\n", argv[i],
                FOLIO_PNG_DPI_MIN, FOLIO_PNG_DPI_MAX);
        return FOLIO_EXIT_USAGE;
      }
    } else if (!strcmp(a, "--pages") && has_val) {
      pages = argv[++i];
    } else if (!strcmp(a, "--idempotency-key") && has_val) {
      idem = argv[++i];
    } else if (!strcmp(a, "--pdf-profile") && has_val) {
      int p = folio_pdf_profile_parse(argv[++i]);
      if (!p || nprofiles == sizeof profiles / sizeof profiles[0]) {
        fprintf(stderr, "folio submit: --pdf-profile \"%s\": expected pdfa-2b, pdfx-4 or pdfua-1\n", argv[i]);
        return FOLIO_EXIT_USAGE;
      }
      profiles[nprofiles++] = (Folio__V1__PdfProfile)p;
    } else if (!strcmp(a, "--label") && has_val) {
      char *kv = argv[++i], *eq = strchr(kv, '=');
      if (!eq || eq == kv) {
        fprintf(stderr, "folio submit: --label \"%s\": expected KEY=VALUE\n", kv);
        return FOLIO_EXIT_USAGE;
      }
      if (nlabels == MAX_LABELS) {
        fprintf(stderr, "folio submit: at most %d labels\n", MAX_LABELS);
        return FOLIO_EXIT_USAGE;
      }
      *eq = '\0';
      folio__v1__submit_layout_request__labels_entry__init(&labels[nlabels]);
      labels[nlabels].key = kv;
      labels[nlabels].value = eq + 1;
      lp[nlabels] = &labels[nlabels];
      nlabels++;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "folio submit: unknown option or missing value: \"%s\"\n%s", a, submit_usage);
      return FOLIO_EXIT_USAGE;
    } else if (!path) {
      path = a;
    } else {
      fprintf(stderr, "folio submit: unexpected argument \"%s\"\n%s", a, submit_usage);
      return FOLIO_EXIT_USAGE;
    }
  }
  if (!path) {
    fprintf(stderr, "folio submit: the layout file is required\n%s", submit_usage);
    return FOLIO_EXIT_USAGE;
  }
  size_t len;
  char *doc;
  int rc = cli_read_input("submit", path, &doc, &len);
  if (rc) return rc;
  Folio__V1__SubmitLayoutRequest req = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  Folio__V1__RenderOptions opts = FOLIO__V1__RENDER_OPTIONS__INIT;
  Folio__V1__Format fmts[3];
  for (int i = 0; i < nformats; i++) fmts[i] = (Folio__V1__Format)formats[i];
  req.layout_json.data = (uint8_t *)doc;
  req.layout_json.len = len;
  req.n_formats = (size_t)nformats;
  req.formats = fmts;
  opts.png_dpi = (uint32_t)dpi;
  opts.page_range = pbstr(pages ? pages : "");
  opts.png_include_bleed = png_bleed;
  opts.fail_on_warnings = fail_on_warnings;
  opts.require_clean_preflight = clean_preflight;
  if (nprofiles) {
    opts.pdf_profile = profiles[0];
    opts.additional_pdf_profiles = profiles + 1;
    opts.n_additional_pdf_profiles = nprofiles - 1;
  }
  req.options = &opts;
  req.idempotency_key = pbstr(idem ? idem : "");
  req.n_labels = nlabels;
  req.labels = lp;

  struct folio_client *c;
  rc = cli_connect("submit", &conn, &c);
  if (rc) {
    free(doc);
    return rc;
  }
  struct folio_client_error err;
  Folio__V1__SubmitLayoutResponse *resp = NULL;
  if (folio_client_submit(c, &req, &resp, &err) != 0) {
    rc = cli_fail("submit", &err);
  } else {
    printf("%s\n", resp->job_id);
    fflush(stdout);
    if (resp->deduplicated)
      fprintf(stderr, "folio submit: idempotency key matched job %s (deduplicated)\n", resp->job_id);
    if (wait) rc = follow("submit", c, resp->job_id);
  }
  folio_client_free(resp);
  folio_client_close(c);
  free(doc);
  return rc;
}

#define CONN_USAGE "[--addr HOST:PORT] [--key API_KEY] [--tls-ca CA.pem]"

static int get_status(struct folio_client *c, const char *id, Folio__V1__Job **job,
                      struct folio_client_error *err) {
  return folio_client_status(c, id, 0, job, err);
}

static void print_state(FILE *f, const Folio__V1__Job *j) {
  fprintf(f, "%s %s\n", j->job_id, cli_state_name(j->state));
}

/* status and cancel: one unary call on a job id, then print the job (with
 * print, or as JSON when the command accepts --json and got it). */
static int job_call(const char *cmd, const char *usage, int argc, char **argv,
                    int (*call)(struct folio_client *, const char *, Folio__V1__Job **,
                                struct folio_client_error *),
                    void (*print)(FILE *, const Folio__V1__Job *), bool accept_json) {
  struct cli_conn conn;
  const char *id;
  bool json = false;
  const struct cli_opt opts[] = {{"--json", NULL, &json}};
  int rc = cli_parse_job_args(cmd, usage, argc, argv, &conn, opts, accept_json, &id);
  if (rc >= 0) return rc;
  struct folio_client *c;
  if ((rc = cli_connect(cmd, &conn, &c))) return rc;
  struct folio_client_error err;
  Folio__V1__Job *job = NULL;
  if (call(c, id, &job, &err) != 0) {
    rc = cli_fail(cmd, &err);
  } else {
    (json ? print_job_json : print)(stdout, job);
    rc = FOLIO_EXIT_OK;
  }
  folio_client_free(job);
  folio_client_close(c);
  return rc;
}

int cli_status(int argc, char **argv) {
  static const char usage[] = "usage: folio status JOB_ID [--json] " CONN_USAGE "\n";
  return job_call("status", usage, argc, argv, get_status, print_job, true);
}

int cli_watch(int argc, char **argv) {
  static const char usage[] =
      "usage: folio watch JOB_ID " CONN_USAGE "\n"
      "Follows the job to its end: 0 if it SUCCEEDED, 4 if it FAILED or was CANCELED.\n";
  struct cli_conn conn;
  const char *id;
  int rc = cli_parse_job_args("watch", usage, argc, argv, &conn, NULL, 0, &id);
  if (rc >= 0) return rc;
  struct folio_client *c;
  if ((rc = cli_connect("watch", &conn, &c))) return rc;
  rc = follow("watch", c, id);
  folio_client_close(c);
  return rc;
}

int cli_cancel(int argc, char **argv) {
  static const char usage[] =
      "usage: folio cancel JOB_ID " CONN_USAGE "\n"
      "A finished job cannot be cancelled (FAILED_PRECONDITION, exit 3).\n";
  return job_call("cancel", usage, argc, argv, folio_client_cancel, print_state, false);
}
