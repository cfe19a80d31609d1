/* grpc.health.v1.Health for folio-server: Check and Watch over a fixed set of
 * services. "" is liveness: SERVING until shutdown. folio.v1.LayoutService is
 * readiness: SERVING until shutdown and while its backends are ready
 * (srv_health_set_ready: PostgreSQL reachable). See docs/operations.md. */
#ifndef FOLIO_SERVER_HEALTH_H
#define FOLIO_SERVER_HEALTH_H

#include <stdbool.h>

#include "grpc/health/v1/health.cgrpc.h"

struct srv_health;

/* Returns NULL when out of memory. Destroy after the server is shut down
 * (every Watch call is then released). */
struct srv_health *srv_health_create(void);
void srv_health_destroy(struct srv_health *h); /* NULL allowed */
/* Registers the Health service on s (before cgrpc_server_start). */
int srv_health_register(struct srv_health *h, struct cgrpc_server *s);
/* Changes every known service's status and tells every Watch. Thread-safe. */
void srv_health_set_serving(struct srv_health *h, bool serving);
/* Readiness of folio.v1.LayoutService (starts true); a change is pushed to
 * every Watch of it. Thread-safe and non-blocking (Watch writes are started,
 * not waited for), so the backend loop thread may call it. */
void srv_health_set_ready(struct srv_health *h, bool ready);

#endif
