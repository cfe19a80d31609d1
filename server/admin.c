/* See admin.h. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

bool folio_admin_is_command(int argc, char **argv) {
  return argc > 1 && (strcmp(argv[1], "migrate") == 0 || strcmp(argv[1], "apikey") == 0);
}

static void usage(void) {
  fprintf(stderr,
          "usage: folio-server migrate\n"
          "       folio-server apikey create --tenant TENANT\n"
          "       folio-server apikey revoke KEY_ID\n"
          "Options (or environment): --database-url URL (FOLIO_DATABASE_URL), "
          "--apikey-pepper SECRET (FOLIO_APIKEY_PEPPER)\n");
}

/* Takes "--name value" or "--name=value" at argv[*i]; returns the value. */
static const char *opt(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] == '\0' && *i + 1 < argc) return argv[++*i];
  return NULL;
}

int folio_admin_main(int argc, char **argv) {
  const char *url = getenv("FOLIO_DATABASE_URL"), *pepper = getenv("FOLIO_APIKEY_PEPPER");
  const char *tenant = NULL, *cmd = argv[1], *sub = NULL, *arg = NULL;
  for (int i = 2; i < argc; i++) {
    const char *v;
    if ((v = opt(argc, argv, &i, "--database-url"))) url = v;
    else if ((v = opt(argc, argv, &i, "--apikey-pepper"))) pepper = v;
    else if ((v = opt(argc, argv, &i, "--tenant"))) tenant = v;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "folio-server %s: unknown option \"%s\"\n", cmd, argv[i]);
      usage();
      return 2;
    } else if (!sub && strcmp(cmd, "apikey") == 0) sub = argv[i];
    else if (!arg) arg = argv[i];
    else {
      fprintf(stderr, "folio-server %s: unexpected argument \"%s\"\n", cmd, argv[i]);
      return 2;
    }
  }
  if (!url || !*url) {
    fprintf(stderr, "folio-server %s: FOLIO_DATABASE_URL (or --database-url) is required\n", cmd);
    return 2;
  }
  bool is_migrate = strcmp(cmd, "migrate") == 0;
  bool create = sub && strcmp(sub, "create") == 0, revoke = sub && strcmp(sub, "revoke") == 0;
  if (!is_migrate && !create && !revoke) {
    usage();
    return 2;
  }
  if (create && (!tenant || !*tenant)) {
    fprintf(stderr, "folio-server apikey create: --tenant TENANT is required\n");
    return 2;
  }
  if (revoke && !arg) {
    fprintf(stderr, "folio-server apikey revoke: the key id is required\n");
    return 2;
  }
  size_t plen = pepper ? strlen(pepper) : 0;
  if (create && (plen < FOLIO_APIKEY_PEPPER_MIN || plen > FOLIO_APIKEY_PEPPER_MAX)) {
    fprintf(stderr, "folio-server apikey: FOLIO_APIKEY_PEPPER must be %d..%d bytes (got %zu)\n",
            FOLIO_APIKEY_PEPPER_MIN, FOLIO_APIKEY_PEPPER_MAX, plen);
    return 2;
  }
  struct folio_pg_conn *c;
  struct folio_pg_diag d;
  memset(&d, 0, sizeof d);
  int applied = 0;
  if (folio_backend_connect(url, false, &c, &d) != 0) {
    fprintf(stderr, "folio-server %s: cannot connect to PostgreSQL: %s\n", cmd, d.msg);
    return 1;
  }
  int rc = folio_jobs_migrate(c, &applied, &d);
  folio_pg_conn_close(c);
  if (rc != 0) {
    fprintf(stderr, "folio-server %s: migration failed: %s\n", cmd, d.msg);
    return 1;
  }
  if (is_migrate) {
    printf("schema at version %d (%d migration%s applied now)\n", folio_jobs_schema_version(),
           applied, applied == 1 ? "" : "s");
    return 0;
  }
  if (folio_backend_connect(url, true, &c, &d) != 0) {
    fprintf(stderr, "folio-server apikey: cannot connect to PostgreSQL: %s\n", d.msg);
    return 1;
  }
  if (create) {
    char key[FOLIO_APIKEY_LEN + 1], id[FOLIO_UUID_STR_LEN + 1];
    rc = folio_jobs_apikey_create(c, tenant, (const uint8_t *)pepper, plen, key, id, &d);
    if (rc == 0) {
      printf("%s\n", key);
      fprintf(stderr, "key id %s for tenant \"%s\"; the key is shown only this once\n", id,
              tenant);
    }
  } else {
    rc = folio_jobs_apikey_revoke(c, arg, NULL, &d);
    if (rc == 0) printf("revoked %s\n", arg);
  }
  folio_pg_conn_close(c);
  if (rc != 0) {
    fprintf(stderr, "folio-server apikey %s: %s\n", sub, d.msg[0] ? d.msg : folio_jobs_strerror(rc));
    return 1;
  }
  return 0;
}
