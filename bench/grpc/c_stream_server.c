/* The cgrpc side of bench/grpc's streaming benchmark: folio.bench.v1.Bench/Stream
 * on the cgrpc runtime, the same write path folio-server's StreamArtifact uses.
 * A call sends total_bytes in chunk_bytes messages with one write in flight:
 * each write's completion (on a CQ thread) starts the next, so the producer is
 * paced by the client's flow control and memory stays flat.
 *
 *   FOLIO_LISTEN=127.0.0.1:PORT bench_grpc_c_stream_server [CQ_THREADS]   (PORT may be 0)
 *
 * Prints {"msg":"listening","address":"127.0.0.1:PORT",...} on stderr when
 * ready, with the port it bound; stops on SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.cgrpc.h"

#define MAX_CHUNK (1u << 20)

/* One stream's state, in the call's arena (lives until the call is released). */
struct stream_state {
  Folio__Bench__V1__Chunk chunk; /* data points into payload */
  uint64_t left;
};

static uint8_t payload[MAX_CHUNK]; /* the bytes every chunk carries; read-only after main() */

static void write_next(struct cgrpc_call *call, struct stream_state *s);

static void on_written(struct cgrpc_call *call, bool ok, void *ud) {
  if (!ok) { /* the client went away: stop producing */
    cgrpc_call_finish(call, GRPC_STATUS_CANCELLED, "client went away");
    return;
  }
  write_next(call, ud);
}

static void write_next(struct cgrpc_call *call, struct stream_state *s) {
  if (s->left == 0) {
    cgrpc_call_finish(call, GRPC_STATUS_OK, NULL);
    return;
  }
  if (s->chunk.data.len > s->left) s->chunk.data.len = (size_t)s->left;
  s->left -= s->chunk.data.len;
  int rc = folio__bench__v1__bench__stream__send(call, &s->chunk, on_written, s);
  if (rc != 0) cgrpc_call_finish(call, GRPC_STATUS_INTERNAL, cgrpc_strerror(rc));
}

static void handle_stream(struct cgrpc_call *call, const Folio__Bench__V1__StreamRequest *req, void *impl) {
  (void)impl;
  if (req->chunk_bytes == 0 || req->chunk_bytes > MAX_CHUNK) {
    cgrpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "chunk_bytes must be 1..1048576");
    return;
  }
  struct stream_state *s = cgrpc_call_alloc(call, sizeof *s);
  if (!s) {
    cgrpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  *s = (struct stream_state){.chunk = FOLIO__BENCH__V1__CHUNK__INIT, .left = req->total_bytes};
  s->chunk.data.data = payload;
  s->chunk.data.len = req->chunk_bytes;
  write_next(call, s);
}

static const struct folio__bench__v1__bench__handlers handlers = {.stream = handle_stream};

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  const char *listen = getenv("FOLIO_LISTEN");
  if (!listen || !*listen) {
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"FOLIO_LISTEN is not set\"}\n");
    return 2;
  }
  memset(payload, 'x', sizeof payload);
  char err[256];
  struct cgrpc_server_config cfg = {.listen = listen, .cq_threads = argc > 1 ? atoi(argv[1]) : 0};
  struct cgrpc_server *server = cgrpc_server_create(&cfg, err, sizeof err);
  if (!server) {
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"cannot create server\",\"detail\":\"%s\"}\n", err);
    return 1;
  }
  if (folio__bench__v1__bench__register(server, &handlers, NULL) != 0 ||
      cgrpc_server_start(server, err, sizeof err) != 0) {
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"cannot start server\",\"detail\":\"%s\"}\n", err);
    cgrpc_server_destroy(server);
    return 1;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* The bound port (FOLIO_LISTEN may say port 0); the host part as given. */
  const char *colon = strrchr(listen, ':');
  int hostlen = colon ? (int)(colon - listen) : (int)strlen(listen);
  fprintf(stderr, "{\"msg\":\"listening\",\"listen\":\"%s\",\"address\":\"%.*s:%d\",\"port\":%d}\n",
          listen, hostlen, listen, cgrpc_server_port(server), cgrpc_server_port(server));
  while (!stop) {
    struct timespec tick = {0, 50 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }
  cgrpc_server_shutdown(server, 1000);
  cgrpc_server_destroy(server);
  return 0;
}
