/* grpc.health.v1.Health for folio-server: Check and Watch over a fixed set of
 * services ("" and folio.v1.LayoutService), all SERVING until shutdown. */
#ifndef FOLIO_SERVER_HEALTH_H
#define FOLIO_SERVER_HEALTH_H

#include <stdbool.h>

#include "grpc/health/v1/health.cgrpc.h"

struct folio_health;

/* Returns NULL when out of memory. Destroy after the server is shut down
 * (every Watch call is then released). */
struct folio_health *folio_health_create(void);
void folio_health_destroy(struct folio_health *h); /* NULL allowed */
/* Registers the Health service on s (before cgrpc_server_start). */
int folio_health_register(struct folio_health *h, struct cgrpc_server *s);
/* Changes every known service's status and tells every Watch. Thread-safe. */
void folio_health_set_serving(struct folio_health *h, bool serving);

#endif
