/* The migrations compiled in from lib/jobs/migrations (see embed.cmake). */
#ifndef FOLIO_JOBS_MIGRATIONS_H
#define FOLIO_JOBS_MIGRATIONS_H

#include <stddef.h>

struct folio_jobs_migration {
  int version;     /* from the file name, NNNN */
  const char *name;
  const char *sql; /* the file's text, NUL-terminated */
};

extern const struct folio_jobs_migration folio_jobs_migrations[];
extern const size_t folio_jobs_nmigrations;

#endif
