/* The administrative subcommands folio-server exposes (migrate, apikey, tenant),
 * implemented here so the server only forwards argv. Blocking: they run
 * before (or instead of) serving. */
#include <stdlib.h>
#include <string.h>

#include "folio/render_cache.h"
#include "jobs_int.h"

int folio_jobs_pepper_from_env(uint8_t out[FOLIO_APIKEY_PEPPER_MAX], size_t *len,
                               struct folio_pg_diag *diag) {
  const char *p = getenv("FOLIO_API_KEY_PEPPER");
  size_t n = p ? strlen(p) : 0;
  if (n < FOLIO_APIKEY_PEPPER_MIN || n > FOLIO_APIKEY_PEPPER_MAX) {
    folio_jobs_diag(diag, "FOLIO_API_KEY_PEPPER must be set to a secret of %d..%d bytes (%s)",
                    FOLIO_APIKEY_PEPPER_MIN, FOLIO_APIKEY_PEPPER_MAX,
                    p ? "it has the wrong length" : "it is unset");
    return FOLIO_JOBS_EINVAL;
  }
  memcpy(out, p, n);
  *len = n;
  return 0;
}

static int usage(FILE *err) {
  fputs("usage: folio-server migrate\n"
        "       folio-server apikey create --tenant TENANT\n"
        "       folio-server apikey revoke KEY_ID|KEY [--tenant TENANT]\n"
        "       folio-server tenant list\n"
        "       folio-server tenant show TENANT\n"
        "       folio-server tenant set TENANT [--LIMIT VALUE|default]...\n"
        "         limits: --max-unfinished-jobs N  --submit-rate R  --submit-burst N\n"
        "                 --max-bytes-in-flight BYTES  --max-concurrent-decodes N\n"
        "                 --max-running-jobs N\n"
        "                 --render-cpu-ms MS  --render-image-cache-bytes BYTES\n"
        "                 --streams-per-tenant N  --layout-max-bytes BYTES\n"
        "                 --layout-max-image-bytes-total BYTES  --layout-max-pages N\n"
        "         default: back to the built-in default, or for render-*, streams-* and\n"
        "         layout-* to the process's own FOLIO_* setting (no override)\n"
        "       folio-server cache purge [--tenant TENANT]\n"
        "         forget render cache entries (of one tenant, or all); the jobs and\n"
        "         their artifacts stay\n"
        "environment: FOLIO_DATABASE_URL, FOLIO_API_KEY_PEPPER (apikey)\n",
        err);
  return 2;
}

/* Connects to FOLIO_DATABASE_URL, with or without the jobs statements. */
static struct folio_pg_conn *connect_db(bool stmts, FILE *err) {
  const char *url = getenv("FOLIO_DATABASE_URL");
  if (!url || !*url) {
    fputs("FOLIO_DATABASE_URL is not set\n", err);
    return NULL;
  }
  struct folio_pg_conn_config cfg = {.conninfo = url, .application_name = "folio-admin"};
  if (stmts) folio_jobs_conn_config(&cfg);
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  if (folio_pg_conn_connect(&cfg, &c, &d) != 0) {
    fprintf(err, "database: %s\n", d.msg);
    return NULL;
  }
  return c;
}

static const char *flag(int argc, char **argv, int from, const char *name) {
  for (int i = from; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return NULL;
}

static int cmd_migrate(FILE *out, FILE *err) {
  struct folio_pg_conn *c = connect_db(false, err);
  if (!c) return 1;
  int applied = 0;
  struct folio_pg_diag d;
  int rc = folio_jobs_migrate(c, &applied, &d);
  folio_pg_conn_close(c);
  if (rc) {
    fprintf(err, "migrate: %s\n", d.msg);
    return 1;
  }
  fprintf(out, "applied %d migration(s); schema version %d\n", applied, folio_jobs_schema_version());
  return 0;
}

static int cmd_apikey(int argc, char **argv, FILE *out, FILE *err) {
  if (argc < 2) return usage(err);
  uint8_t pepper[FOLIO_APIKEY_PEPPER_MAX];
  size_t plen = 0;
  struct folio_pg_diag d;
  bool create = strcmp(argv[1], "create") == 0;
  if (!create && strcmp(argv[1], "revoke") != 0) return usage(err);
  if (create && folio_jobs_pepper_from_env(pepper, &plen, &d) != 0) {
    fprintf(err, "%s\n", d.msg);
    return 1;
  }
  const char *tenant = flag(argc, argv, 2, "--tenant");
  if (create && !tenant) return usage(err);
  const char *target = NULL;
  if (!create) {
    for (int i = 2; i < argc; i++) {
      if (strcmp(argv[i], "--tenant") == 0) {
        i++;
        continue;
      }
      if (target) return usage(err);
      target = argv[i];
    }
    if (!target) return usage(err);
  }
  struct folio_pg_conn *c = connect_db(true, err);
  if (!c) return 1;
  int rc;
  if (create) {
    char key[FOLIO_APIKEY_LEN + 1], id[FOLIO_UUID_STR_LEN + 1];
    rc = folio_jobs_apikey_create(c, tenant, pepper, plen, key, id, &d);
    if (rc == 0) {
      fprintf(out, "%s\n", key);
      fprintf(err, "created API key %s for tenant %s; it is shown only this once\n", id, tenant);
    }
  } else {
    rc = folio_jobs_apikey_revoke(c, target, tenant, &d);
    if (rc == 0) fprintf(err, "revoked\n");
  }
  folio_pg_conn_close(c);
  if (rc) {
    fprintf(err, "apikey %s: %s\n", argv[1], d.msg);
    return rc == FOLIO_JOBS_EINVAL ? 2 : 1;
  }
  return 0;
}

/* ---- tenant ---------------------------------------------------------------- */

/* One tenant as `tenant show` prints it: a line per limit, the effective
 * value and where it comes from. */
static void print_tenant(const struct folio_tenant_info *t, void *arg) {
  FILE *out = arg;
  fprintf(out, "tenant %s\n  id %s\n  unfinished_jobs %lld\n", t->name, t->id,
          (long long)t->unfinished_jobs);
  for (size_t i = 0; i < folio_tenant_nlimits; i++) {
    const struct folio_tenant_limit_def *d = &folio_tenant_limit_defs[i];
    if (d->process && !t->overridden[i]) /* no value here: the process's own applies */
      fprintf(out, "  %s - (default: %s)\n", d->name, d->process);
    else
      fprintf(out, "  %s %.15g %s(%s)\n", d->name, folio_tenant_limit_get(&t->limits, i), d->unit,
              t->overridden[i] ? "set" : "default");
  }
}

static void print_row(const struct folio_tenant_info *t, void *arg) {
  FILE *out = arg;
  fprintf(out, "%s unfinished_jobs=%lld", t->name, (long long)t->unfinished_jobs);
  for (size_t i = 0; i < folio_tenant_nlimits; i++)
    if (t->overridden[i])
      fprintf(out, " %s=%.15g", folio_tenant_limit_defs[i].name,
              folio_tenant_limit_get(&t->limits, i));
  fputc('\n', out);
}

static int cmd_tenant(int argc, char **argv, FILE *out, FILE *err) {
  if (argc < 2) return usage(err);
  const char *verb = argv[1];
  bool list = strcmp(verb, "list") == 0, show = strcmp(verb, "show") == 0,
       set = strcmp(verb, "set") == 0;
  if ((list && argc != 2) || (show && argc != 3) || (set && argc < 3) || !(list || show || set))
    return usage(err);
  bool want[FOLIO_TENANT_MAX_LIMITS] = {false}, reset[FOLIO_TENANT_MAX_LIMITS] = {false};
  double value[FOLIO_TENANT_MAX_LIMITS] = {0};
  for (int i = 3; set && i < argc; i += 2) {
    int k = strncmp(argv[i], "--", 2) == 0 ? folio_tenant_limit_find(argv[i] + 2) : -1;
    if (k < 0 || i + 1 >= argc) {
      fprintf(err, "tenant set: %s: not a limit (or no value)\n", argv[i]);
      return usage(err);
    }
    want[k] = true;
    if (strcmp(argv[i + 1], "default") == 0) {
      reset[k] = true;
      continue;
    }
    char *end;
    value[k] = strtod(argv[i + 1], &end);
    if (end == argv[i + 1] || *end) {
      fprintf(err, "tenant set: %s: \"%s\" is not a number\n", argv[i], argv[i + 1]);
      return 2;
    }
  }
  if (set && argc == 3) {
    fputs("tenant set: name at least one limit\n", err);
    return usage(err);
  }
  struct folio_pg_conn *c = connect_db(true, err);
  if (!c) return 1;
  struct folio_pg_diag d;
  struct folio_tenant_info t;
  int rc;
  if (list) {
    rc = folio_jobs_tenant_list(c, print_row, out, &d);
  } else {
    rc = set ? folio_jobs_tenant_set(c, argv[2], want, reset, value, &d) : 0;
    if (rc == 0) rc = folio_jobs_tenant_get(c, argv[2], &t, &d);
    if (rc == 0) print_tenant(&t, out);
    if (rc == 0 && set)
      fprintf(err, "servers apply the new limits within %d ms\n", FOLIO_TENANT_LIMITS_TTL_MS);
  }
  folio_pg_conn_close(c);
  if (rc) {
    fprintf(err, "tenant %s: %s\n", verb, d.msg);
    return rc == FOLIO_JOBS_EINVAL ? 2 : 1;
  }
  return 0;
}

int folio_jobs_tenant_main(int argc, char **argv, FILE *out, FILE *err) {
  return cmd_tenant(argc, argv, out, err);
}

/* cache purge [--tenant T] (folio/render_cache.h) */
static int cmd_cache(int argc, char **argv, FILE *out, FILE *err) {
  const char *tenant = NULL;
  if (argc == 4 && strcmp(argv[2], "--tenant") == 0) tenant = argv[3];
  else if (argc != 2) return usage(err);
  if (strcmp(argv[1], "purge") != 0) return usage(err);
  struct folio_pg_conn *c = connect_db(true, err);
  if (!c) return 1;
  struct folio_pg_diag d;
  long n = 0;
  int rc = folio_jobs_cache_purge(c, tenant, &n, &d);
  folio_pg_conn_close(c);
  if (rc) {
    fprintf(err, "cache purge: %s\n", d.msg);
    return 1;
  }
  fprintf(out, "%ld render cache entries deleted\n", n);
  return 0;
}

int folio_jobs_admin_main(int argc, char **argv, FILE *out, FILE *err) {
  if (argc < 1) return usage(err);
  if (strcmp(argv[0], "migrate") == 0 && argc == 1) return cmd_migrate(out, err);
  if (strcmp(argv[0], "apikey") == 0) return cmd_apikey(argc, argv, out, err);
  if (strcmp(argv[0], "tenant") == 0) return cmd_tenant(argc, argv, out, err);
  if (strcmp(argv[0], "cache") == 0) return cmd_cache(argc, argv, out, err);
  return usage(err);
}
