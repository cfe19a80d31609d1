/* folio-server's administrative subcommands (blocking, one connection):
 *   folio-server migrate
 *   folio-server apikey create --tenant T   (prints the new key once)
 *   folio-server apikey revoke ID           (ID = key id or the full key)
 * They read FOLIO_DATABASE_URL and FOLIO_APIKEY_PEPPER (or --database-url,
 * --apikey-pepper). */
#ifndef FOLIO_SERVER_ADMIN_H
#define FOLIO_SERVER_ADMIN_H

#include <stdbool.h>

/* True when argv[1] names a subcommand. */
bool folio_admin_is_command(int argc, char **argv);
/* Runs it; returns the process exit status (0 ok, 1 failure, 2 usage). */
int folio_admin_main(int argc, char **argv);

#endif
