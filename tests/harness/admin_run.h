/* Runs lib/jobs' admin command in-process, as `folio-server ARGS...` would,
 * capturing what it prints (tests of migrate / apikey / tenant).
 *
 *   int rc = admin_run("tenant", "show", "acme", NULL);
 *   // admin_out / admin_err hold stdout / stderr (NUL-terminated, truncated
 *   // at 4 KiB), valid until the next admin_run
 *
 * argv is built as main() would get it (writable copies, at most 16 args of
 * 127 bytes). Header-only; include after check.h. */
#ifndef FOLIO_TEST_ADMIN_RUN_H
#define FOLIO_TEST_ADMIN_RUN_H

#include <stdarg.h>
#include <stdio.h>

#include "check.h"
#include "folio/jobs.h"

static char admin_out[4096], admin_err[4096];

static inline int admin_run(const char *first, ...) {
  static char store[16][128];
  char *argv[16];
  int argc = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a && argc < 16; a = va_arg(ap, const char *)) {
    snprintf(store[argc], sizeof store[argc], "%s", a);
    argv[argc] = store[argc];
    argc++;
  }
  va_end(ap);
  FILE *out = tmpfile(), *err = tmpfile();
  CHECK(out && err);
  int rc = folio_jobs_admin_main(argc, argv, out, err);
  rewind(out);
  rewind(err);
  size_t n = fread(admin_out, 1, sizeof admin_out - 1, out);
  admin_out[n] = '\0';
  n = fread(admin_err, 1, sizeof admin_err - 1, err);
  admin_err[n] = '\0';
  fclose(out);
  fclose(err);
  return rc;
}

#endif
