/* folio fetch | url: getting artifacts out. fetch streams through the server
 * (StreamArtifact; resume + sha256 in the client library), url asks the server
 * to sign a direct S3 download URL (GetArtifactUrl). Without --name both pick
 * the job's first artifact (the PDF when there is one), found by GetStatus. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

#define CONN_USAGE "[--addr HOST:PORT] [--key API_KEY] [--tls-ca CA.pem]"

struct fetch_progress {
  struct cli_progress p;
  const char *name;
};

static void human_bytes(char *out, size_t cap, uint64_t n) {
  if (n >= 10u << 20) snprintf(out, cap, "%.1f MiB", n / 1048576.0);
  else if (n >= 10u << 10) snprintf(out, cap, "%.1f KiB", n / 1024.0);
  else snprintf(out, cap, "%" PRIu64 " B", n);
}

static void on_progress(uint64_t have, uint64_t total, void *ud) {
  struct fetch_progress *fp = ud;
  if (!fp->p.tty) return; /* plain mode prints one line per file when it is done */
  char a[32], b[32], suffix[80];
  human_bytes(a, sizeof a, have);
  human_bytes(b, sizeof b, total);
  snprintf(suffix, sizeof suffix, "%s / %s", a, b);
  cli_progress_show(&fp->p, total ? (double)have / (double)total : -1, fp->name, suffix, NULL);
}

/* An artifact name that is safe to use as a file name inside a directory. */
static bool safe_name(const char *n) {
  return n && *n && n[0] != '.' && !strchr(n, '/') && strlen(n) < 200;
}

static int fetch_one(struct folio_client *c, const char *id, const char *name, const char *path) {
  struct fetch_progress fp = {.name = name};
  cli_progress_init(&fp.p, stderr);
  struct folio_client_error err;
  uint64_t from = 0;
  int rc = folio_client_fetch(c, id, name, path, on_progress, &fp, &from, &err);
  cli_progress_done(&fp.p);
  if (rc != 0) return cli_fail("fetch", &err);
  struct stat sb;
  uint64_t size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
  if (from) fprintf(stderr, "%s: resumed at byte %" PRIu64 "\n", path, from);
  fprintf(stderr, "%s: %" PRIu64 " bytes, sha256 verified\n", path, size);
  printf("%s\n", path);
  fflush(stdout);
  return FOLIO_EXIT_OK;
}

/* The job's artifact list (GetStatus; URLs signed for ttl seconds): 0 with
 * *job set (caller frees), or the exit code, printed. A job without
 * artifacts (not finished, failed) is FAILED_PRECONDITION, exit 3. */
static int job_artifacts(const char *cmd, struct folio_client *c, const char *id, uint32_t ttl,
                         Folio__V1__Job **job) {
  struct folio_client_error err;
  if (folio_client_status(c, id, ttl, job, &err) != 0) return cli_fail(cmd, &err);
  if ((*job)->n_artifacts > 0) return 0;
  fprintf(stderr, "folio %s: FAILED_PRECONDITION: job %s is %s and has no artifacts\n", cmd, id,
          cli_state_name((*job)->state));
  return FOLIO_EXIT_INVALID;
}

int cli_fetch(int argc, char **argv) {
  static const char usage[] =
      "usage: folio fetch JOB_ID [--name NAME] [-o FILE | --out DIR] " CONN_USAGE "\n"
      "Downloads through the server (StreamArtifact). A partial file is resumed;\n"
      "the result is verified against the artifact's sha256. Without --name, the\n"
      "job's first artifact (the PDF if any) into ./NAME or FILE; --out DIR fetches\n"
      "every artifact (or just --name) into DIR. Prints the paths written.\n";
  struct cli_conn conn;
  const char *id, *name = NULL, *file = NULL, *dir = NULL;
  const struct cli_opt opts[] = {{"--name", &name, NULL}, {"-o", &file, NULL}, {"--out", &dir, NULL}};
  int rc = cli_parse_job_args("fetch", usage, argc, argv, &conn, opts, 3, &id);
  if (rc >= 0) return rc;
  if (file && dir) {
    fprintf(stderr, "folio fetch: -o FILE and --out DIR exclude each other\n%s", usage);
    return FOLIO_EXIT_USAGE;
  }
  if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "folio fetch: %s: %s\n", dir, strerror(errno));
    return FOLIO_EXIT_IO;
  }
  struct folio_client *c;
  rc = cli_connect("fetch", &conn, &c);
  if (rc) return rc;
  Folio__V1__Job *job = NULL;
  if ((!name || dir) && (rc = job_artifacts("fetch", c, id, 0, &job)) != 0) goto out;
  size_t n = dir && !name ? job->n_artifacts : 1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *nm = name ? name : job->artifacts[i]->name;
    char path[4096];
    if ((dir || !file) && !safe_name(nm)) {
      fprintf(stderr, "folio fetch: artifact name \"%s\" is not a safe file name; use -o FILE\n", nm);
      rc = FOLIO_EXIT_IO;
      break;
    }
    if (dir) snprintf(path, sizeof path, "%s/%s", dir, nm);
    else snprintf(path, sizeof path, "%s", file ? file : nm);
    rc = fetch_one(c, id, nm, path);
  }
out:
  folio_client_free(job);
  folio_client_close(c);
  return rc;
}

int cli_url(int argc, char **argv) {
  static const char usage[] =
      "usage: folio url JOB_ID [--name NAME] [--ttl DURATION] " CONN_USAGE "\n"
      "Prints a presigned S3 GET URL for the artifact (default: the job's first),\n"
      "valid for DURATION (90s, 15m, 1h, 7d; at most 7d; default: the server's, 15m).\n";
  struct cli_conn conn;
  const char *id, *name = NULL, *ttl_arg = NULL;
  const struct cli_opt opts[] = {{"--name", &name, NULL}, {"--ttl", &ttl_arg, NULL}};
  int rc = cli_parse_job_args("url", usage, argc, argv, &conn, opts, 2, &id);
  if (rc >= 0) return rc;
  uint64_t ttl = 0;
  if (ttl_arg && (cli_parse_duration(ttl_arg, &ttl) != 0 || ttl < 1 || ttl > 604800)) {
    fprintf(stderr, "folio url: --ttl \"%s\": expected a duration from 1s to 7d (90s, 15m, 1h, 7d)\n",
            ttl_arg);
    return FOLIO_EXIT_USAGE;
  }
  struct folio_client *c;
  rc = cli_connect("url", &conn, &c);
  if (rc) return rc;
  struct folio_client_error err;
  Folio__V1__Job *job = NULL;
  Folio__V1__ArtifactUrl *u = NULL;
  if (!name) {
    if ((rc = job_artifacts("url", c, id, 1, &job)) != 0) goto out;
    name = job->artifacts[0]->name;
  }
  if (folio_client_url(c, id, name, (uint32_t)ttl, &u, &err) != 0) {
    rc = cli_fail("url", &err);
    goto out;
  }
  printf("%s\n", u->url);
  if (u->expires_at) {
    time_t s = (time_t)u->expires_at->seconds;
    struct tm tm;
    char buf[40];
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s: expires %s\n", name, buf);
  }
out:
  folio_client_free(u);
  folio_client_free(job);
  folio_client_close(c);
  return rc;
}
