/* The Health service.
 *
 * Liveness vs readiness: the overall service "" is SERVING while the process
 * is up and not shutting down (liveness: restart me only if this fails);
 * folio.v1.LayoutService is SERVING only while its backends can serve it,
 * i.e. PostgreSQL is reachable (readiness: route traffic elsewhere while
 * NOT_SERVING). Redis and S3 do not count: a job is accepted without Redis
 * (the reconciler dispatches it later), and S3 only affects the artifact
 * RPCs. The backend loop reports PostgreSQL's state with
 * srv_health_set_ready(); nothing here blocks or waits on a backend.
 *
 * Watch keeps one struct watcher per open stream in a
 * list guarded by h->mu; each watcher has at most one write in flight and
 * sends the latest status when it differs from what it sent last, so a slow
 * watcher sees the newest state rather than a backlog. A watcher ends when
 * its client cancels (or the server cancels it at shutdown): it is finished
 * and freed by whichever of the cancel callback and the write callback runs
 * last. Lock order: h->mu, then cgrpc's call lock (cgrpc never calls us with
 * its lock held). */
#include "health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Grpc__Health__V1__HealthCheckResponse__ServingStatus serving_status;

struct watcher {
  struct watcher *next;
  struct srv_health *h;
  struct cgrpc_call *call;
  int service;       /* index in known_services, -1 when unknown */
  bool writing;      /* a write is in flight */
  bool cancelled;    /* the client went away */
  bool sent_any;
  serving_status sent;
};

struct srv_health {
  pthread_mutex_t mu;
  bool serving; /* the process: false once shutting down */
  bool ready;   /* the backends of folio.v1.LayoutService */
  struct watcher *watchers;
};

enum { SVC_OVERALL = 0, SVC_LAYOUT = 1 };
static const char *const known_services[] = {[SVC_OVERALL] = "", [SVC_LAYOUT] = "folio.v1.LayoutService"};

static int service_index(const char *service) {
  for (size_t i = 0; i < sizeof known_services / sizeof known_services[0]; i++)
    if (strcmp(service, known_services[i]) == 0) return (int)i;
  return -1;
}

static serving_status status_of(const struct srv_health *h, int service) {
  if (service < 0) return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
  bool up = h->serving && (service != SVC_LAYOUT || h->ready);
  return up ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static void check(struct cgrpc_call *call, const Grpc__Health__V1__HealthCheckRequest *req,
                  void *impl) {
  struct srv_health *h = impl;
  const char *svc = req->service ? req->service : "";
  int service = service_index(svc);
  if (service < 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "unknown service \"%.200s\"", svc);
    cgrpc_call_finish(call, GRPC_STATUS_NOT_FOUND, msg);
    return;
  }
  Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  pthread_mutex_lock(&h->mu);
  resp.status = status_of(h, service);
  pthread_mutex_unlock(&h->mu);
  grpc__health__v1__health__check__reply(call, &resp);
}

static void unlink_watcher_locked(struct watcher *w) {
  for (struct watcher **p = &w->h->watchers; *p; p = &(*p)->next) {
    if (*p == w) {
      *p = w->next;
      return;
    }
  }
}

/* Ends w's call and frees w. Under h->mu, with no write in flight. */
static void end_watcher_locked(struct watcher *w) {
  unlink_watcher_locked(w);
  cgrpc_call_finish(w->call, GRPC_STATUS_CANCELLED, "the watch ended");
  free(w);
}

static void on_written(struct cgrpc_call *call, bool ok, void *ud);

/* Sends the current status if w has not seen it. Under h->mu. */
static void pump_locked(struct watcher *w) {
  if (w->writing || w->cancelled) return;
  serving_status now = status_of(w->h, w->service);
  if (w->sent_any && w->sent == now) return;
  Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  resp.status = now;
  if (grpc__health__v1__health__watch__send(w->call, &resp, on_written, w) != 0) {
    w->cancelled = true;
    end_watcher_locked(w);
    return;
  }
  w->writing = true;
  w->sent = now;
  w->sent_any = true;
}

static void on_written(struct cgrpc_call *call, bool ok, void *ud) {
  struct watcher *w = ud;
  struct srv_health *h = w->h;
  pthread_mutex_lock(&h->mu);
  w->writing = false;
  if (!ok) w->cancelled = true;
  if (w->cancelled)
    end_watcher_locked(w);
  else
    pump_locked(w);
  pthread_mutex_unlock(&h->mu);
}

static void on_cancel(struct cgrpc_call *call, void *ud) {
  struct watcher *w = ud;
  struct srv_health *h = w->h;
  pthread_mutex_lock(&h->mu);
  w->cancelled = true;
  if (!w->writing) end_watcher_locked(w); /* else on_written ends it */
  pthread_mutex_unlock(&h->mu);
}

static void watch(struct cgrpc_call *call, const Grpc__Health__V1__HealthCheckRequest *req,
                  void *impl) {
  struct srv_health *h = impl;
  struct watcher *w = calloc(1, sizeof *w);
  if (!w) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->h = h;
  w->call = call;
  w->service = service_index(req->service ? req->service : "");
  pthread_mutex_lock(&h->mu);
  w->next = h->watchers;
  h->watchers = w;
  if (cgrpc_call_on_cancel(call, on_cancel, w) != 0) {
    end_watcher_locked(w); /* already cancelled */
  } else {
    pump_locked(w);
  }
  pthread_mutex_unlock(&h->mu);
}

static const struct grpc__health__v1__health__handlers handlers = {
    .check = check,
    .watch = watch,
};

struct srv_health *srv_health_create(void) {
  struct srv_health *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->mu, NULL);
  h->serving = true;
  h->ready = true;
  return h;
}

void srv_health_destroy(struct srv_health *h) {
  if (!h) return;
  pthread_mutex_destroy(&h->mu);
  free(h);
}

int srv_health_register(struct srv_health *h, struct cgrpc_server *s) {
  return grpc__health__v1__health__register(s, &handlers, h);
}

/* Tells every Watch the status that changed. Under h->mu. */
static void pump_all_locked(struct srv_health *h) {
  struct watcher *w = h->watchers;
  while (w) {
    struct watcher *next = w->next; /* pump may end and free w */
    pump_locked(w);
    w = next;
  }
}

void srv_health_set_serving(struct srv_health *h, bool serving) {
  pthread_mutex_lock(&h->mu);
  h->serving = serving;
  pump_all_locked(h);
  pthread_mutex_unlock(&h->mu);
}

void srv_health_set_ready(struct srv_health *h, bool ready) {
  pthread_mutex_lock(&h->mu);
  if (h->ready != ready) {
    h->ready = ready;
    pump_all_locked(h);
  }
  pthread_mutex_unlock(&h->mu);
}
