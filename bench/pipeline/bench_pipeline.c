/* The job pipeline benchmark's client side, driven by run.sh (which starts
 * the stack, folio-server and folio-worker, and runs the pgbench baselines).
 *
 *   bench_pipeline submit  ADDR KEY LAYOUT SECONDS CALLS CONNS IDS_OUT
 *   bench_pipeline status  ADDR KEY IDS_IN SECONDS CALLS CONNS
 *   bench_pipeline latency ADDR KEY LAYOUT JOBS DATABASE_URL
 *   bench_pipeline cache   prime|measure ADDR KEY LAYOUT N
 *
 * submit / status: CALLS unary calls kept in flight over CONNS HTTP/2
 * connections by one thread on one gRPC core completion queue (the async
 * C API). The same thread starts the next call as soon as one completes, so
 * the load generator costs one core at most and never queues work on its side:
 * the latency of a call is send to status. A first second warms up; then
 * calls that *complete* inside the measured SECONDS count towards the rate,
 * and their latencies (send→status) towards p50/p99. submit writes the job
 * ids it got to IDS_OUT (one a line); status asks for random ids from IDS_IN.
 * Any non-OK status is counted and the first one printed; the run fails when
 * more than 0.1% of calls fail.
 *
 * latency: JOBS sequential 1-page jobs through folio's C client (cgrpc's
 * blocking client): SubmitLayout, then WatchJob on the id, reading until the
 * terminal state. Submit→SUCCEEDED is the submit's send time to the moment
 * the watcher holds the SUCCEEDED message (what a caller waiting with
 * WatchJob sees). WatchJob delivery latency is measured against the job's
 * audit trail: every state or progress change the worker commits also
 * inserts a job_events row whose `at` is clock_timestamp() taken inside that
 * transaction, i.e. *before* its COMMIT (and its fsync) — so `at` is an
 * earlier-or-equal stand-in for the commit time, and receive − at is an upper
 * bound on commit→delivery (it also charges the rest of the transaction and
 * the flush to folio). For each event the delivery time is the first watch
 * message that reflects it or a later change (the server re-reads the row on
 * every notification, so a burst may arrive as one message showing the newest
 * state: the skipped change was still delivered then). Events already visible
 * in the watch's first message (the snapshot taken when the watch opened) are
 * not deliveries and are left out. Both clocks are this machine's
 * CLOCK_REALTIME (PostgreSQL's clock_timestamp() reads the same clock).
 *
 * The other modes send RenderOptions.cache = CACHE_POLICY_OFF: they measure
 * rendering and submitting, and the same layout again and again would
 * otherwise be answered by the render cache.
 *
 * cache: the render cache's hit against a plain SubmitLayout, one caller,
 * sequential calls. `prime` submits LAYOUT (PDF+PNG, cache on) and waits
 * for SUCCEEDED (a worker must run), which records the entry; `measure`
 * (run with the workers stopped, like submit) then alternates N plain
 * submits of the same layout (cache off: decode, commit, dispatch) with N
 * resubmits (cache on: decode, canonical form and key, commit of the hit,
 * the HEAD of each object, answered SUCCEEDED), and prints both latencies'
 * p50/p99 and their ratio.
 *
 * Output: one line per mode, `key=value` pairs, for run.sh to parse. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "folio/client.h"
#include "folio/v1/layout_service.pb-c.h"

/* Prints "bench_pipeline: WHAT DETAIL" and exits 1. */
static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_pipeline: %s %s\n", what, detail);
  exit(1);
}

static int64_t now_ns(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A growable array of int64 samples; the caller frees .v. */
struct samples {
  int64_t *v;
  size_t n, cap;
};

static void push(struct samples *s, int64_t x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) die("out of memory", "");
  }
  s->v[s->n++] = x;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) in ms; sorts s. 0 for no samples. */
static double quantile_ms(struct samples *s, double q) {
  if (s->n == 0) return 0;
  qsort(s->v, s->n, sizeof *s->v, cmp_i64);
  size_t i = (size_t)(q * (double)s->n + 0.999999);
  if (i > 0) i--;
  if (i >= s->n) i = s->n - 1;
  return (double)s->v[i] / 1e6;
}

/* CPU seconds this process used so far (user + system). */
static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) b = realloc(b, cap *= 2);
  }
  fclose(f);
  if (!b) die("out of memory", "");
  b[n] = '\0';
  *len = n;
  return b;
}

/* ---- submit / status: async unary calls on one completion queue ---------- */

enum mode { M_SUBMIT, M_STATUS };

struct slot {
  grpc_call *call;
  grpc_byte_buffer *req, *resp;
  grpc_metadata_array head, trail;
  grpc_status_code status;
  grpc_slice details;
  int64_t t0;
};

struct load {
  enum mode mode;
  grpc_completion_queue *cq;
  grpc_channel **ch;
  int nch;
  grpc_slice method;
  grpc_metadata auth;
  grpc_slice layout; /* submit: the packed SubmitLayoutRequest */
  char **ids;        /* status: the ids to ask for */
  size_t nids;
  FILE *ids_out;     /* submit: ids written here */
  uint64_t rng;
  int64_t t_measure, t_end; /* CLOCK_MONOTONIC ns */
  struct samples lat;
  long ok, failed, started;
  char first_error[256];
};

static uint64_t rnd(struct load *L) {
  L->rng ^= L->rng << 13;
  L->rng ^= L->rng >> 7;
  L->rng ^= L->rng << 17;
  return L->rng;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  grpc_slice s = grpc_slice_malloc(n);
  protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

static void start_call(struct load *L, struct slot *s, int i) {
  memset(s, 0, sizeof *s);
  if (L->mode == M_SUBMIT) {
    s->req = grpc_raw_byte_buffer_create(&L->layout, 1);
  } else {
    Folio__V1__GetStatusRequest rq = FOLIO__V1__GET_STATUS_REQUEST__INIT;
    rq.job_id = L->ids[rnd(L) % L->nids];
    s->req = pack(&rq.base);
  }
  s->call = grpc_channel_create_call(L->ch[i % L->nch], NULL, GRPC_PROPAGATE_DEFAULTS, L->cq,
                                     L->method, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = 1;
  ops[0].data.send_initial_metadata.metadata = &L->auth;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = s->req;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->head;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &s->resp;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &s->trail;
  ops[5].data.recv_status_on_client.status = &s->status;
  ops[5].data.recv_status_on_client.status_details = &s->details;
  s->t0 = now_ns(CLOCK_MONOTONIC);
  if (grpc_call_start_batch(s->call, ops, 6, s, NULL) != GRPC_CALL_OK) die("grpc_call_start_batch failed", "");
  L->started++;
}

/* Records the finished call in s and releases it. */
static void end_call(struct load *L, struct slot *s) {
  int64_t t1 = now_ns(CLOCK_MONOTONIC);
  if (s->status == GRPC_STATUS_OK && s->resp) {
    if (t1 >= L->t_measure && t1 < L->t_end) {
      L->ok++;
      push(&L->lat, t1 - s->t0);
    }
    if (L->mode == M_SUBMIT && L->ids_out) {
      grpc_byte_buffer_reader r;
      grpc_byte_buffer_reader_init(&r, s->resp);
      grpc_slice all = grpc_byte_buffer_reader_readall(&r);
      grpc_byte_buffer_reader_destroy(&r);
      Folio__V1__SubmitLayoutResponse *resp = folio__v1__submit_layout_response__unpack(
          NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
      if (resp) fprintf(L->ids_out, "%s\n", resp->job_id);
      folio__v1__submit_layout_response__free_unpacked(resp, NULL);
      grpc_slice_unref(all);
    }
  } else {
    L->failed++;
    if (!L->first_error[0]) {
      char *d = grpc_slice_to_c_string(s->details);
      snprintf(L->first_error, sizeof L->first_error, "status %d: %s", (int)s->status, d);
      gpr_free(d);
    }
  }
  grpc_metadata_array_destroy(&s->head);
  grpc_metadata_array_destroy(&s->trail);
  grpc_slice_unref(s->details);
  if (s->resp) grpc_byte_buffer_destroy(s->resp);
  grpc_byte_buffer_destroy(s->req);
  grpc_call_unref(s->call);
}

static int run_load(struct load *L, const char *addr, const char *key, double seconds, int calls,
                    int conns) {
  grpc_init();
  L->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)now_ns(CLOCK_REALTIME);
  L->cq = grpc_completion_queue_create_for_next(NULL);
  L->nch = conns;
  L->ch = calloc((size_t)conns, sizeof *L->ch);
  /* A local subchannel pool per channel: each channel is its own TCP/HTTP/2
   * connection, as with CONNS separate client processes. */
  static char local_pool[] = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
  grpc_arg arg = {.type = GRPC_ARG_INTEGER, .key = local_pool};
  arg.value.integer = 1;
  grpc_channel_args args = {.num_args = 1, .args = &arg};
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  for (int i = 0; i < conns; i++) L->ch[i] = grpc_channel_create(addr, creds, &args);
  grpc_channel_credentials_release(creds);
  char *bearer = malloc(strlen(key) + 8);
  sprintf(bearer, "Bearer %s", key);
  L->auth.key = grpc_slice_from_static_string("authorization");
  L->auth.value = grpc_slice_from_copied_string(bearer);
  free(bearer);
  L->method = grpc_slice_from_static_string(L->mode == M_SUBMIT
                                                ? "/folio.v1.LayoutService/SubmitLayout"
                                                : "/folio.v1.LayoutService/GetStatus");
  int64_t t = now_ns(CLOCK_MONOTONIC);
  L->t_measure = t + 1000000000;  /* one second of warm-up */
  L->t_end = L->t_measure + (int64_t)(seconds * 1e9);
  struct slot *slots = calloc((size_t)calls, sizeof *slots);
  for (int i = 0; i < calls; i++) start_call(L, &slots[i], i);
  int inflight = calls;
  while (inflight > 0) {
    grpc_event ev = grpc_completion_queue_next(L->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE) die("completion queue ended early", "");
    struct slot *s = ev.tag;
    if (!ev.success) die("a call's batch failed", "");
    end_call(L, s);
    inflight--;
    if (now_ns(CLOCK_MONOTONIC) < L->t_end) {
      start_call(L, s, (int)(s - slots));
      inflight++;
    }
  }
  grpc_completion_queue_shutdown(L->cq);
  while (grpc_completion_queue_next(L->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(L->cq);
  for (int i = 0; i < conns; i++) grpc_channel_destroy(L->ch[i]);
  free(L->ch);
  free(slots);
  grpc_slice_unref(L->auth.value);
  grpc_shutdown();

  double rate = (double)L->ok / seconds;
  double p50 = quantile_ms(&L->lat, 0.50), p99 = quantile_ms(&L->lat, 0.99);
  printf("%s calls=%d conns=%d seconds=%.1f ok=%ld failed=%ld rps=%.0f p50_ms=%.2f p99_ms=%.2f"
         " done=%ld cpu_s=%.2f\n",
         L->mode == M_SUBMIT ? "submit" : "status", calls, conns, seconds, L->ok, L->failed, rate,
         p50, p99, L->started, cpu_s());
  if (L->first_error[0]) fprintf(stderr, "bench_pipeline: first failure: %s\n", L->first_error);
  free(L->lat.v);
  return L->failed * 1000 > L->started ? 1 : 0;
}

/* ---- latency: sequential jobs, WatchJob, the audit trail ------------------ */

/* One message the watcher got: the state it shows and when it arrived. */
struct seen {
  int state, progress;
  int64_t at_us; /* CLOCK_REALTIME */
};

struct watch {
  struct seen v[256];
  int n;
};

static int on_job(const Folio__V1__Job *job, void *ud) {
  struct watch *w = ud;
  if (w->n < (int)(sizeof w->v / sizeof w->v[0]))
    w->v[w->n++] = (struct seen){(int)job->state, (int)job->progress_percent,
                                 now_ns(CLOCK_REALTIME) / 1000};
  return 0;
}

/* Position of a change in a job's life, comparable across messages and
 * events: RUNNING p% < RUNNING q% (p<q) < terminal. */
static int rank(int state, int progress) {
  switch (state) {
  case FOLIO__V1__JOB_STATE__JOB_STATE_QUEUED: return 0;
  case FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING: return 1 + progress;
  default: return 1000;
  }
}

/* Adds this job's delivery latencies (µs → ns) from its job_events rows. */
static int event_latencies(PGconn *pg, const char *id, const struct watch *w,
                           struct samples *out) {
  const char *p[1] = {id};
  PGresult *r = PQexecParams(pg,
                             "SELECT kind, (extract(epoch FROM at) * 1e6)::bigint,"
                             " coalesce(detail, '') FROM job_events WHERE job_id = $1::uuid"
                             " ORDER BY id",
                             1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) die("job_events:", PQerrorMessage(pg));
  int snapshot = w->n ? rank(w->v[0].state, w->v[0].progress) : 1000;
  int counted = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *kind = PQgetvalue(r, i, 0);
    int64_t at = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    int rk;
    if (strcmp(kind, "started") == 0) rk = rank(FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING, 0);
    else if (strcmp(kind, "progress") == 0)
      rk = rank(FOLIO__V1__JOB_STATE__JOB_STATE_RUNNING, atoi(PQgetvalue(r, i, 2)));
    else if (strcmp(kind, "succeeded") == 0 || strcmp(kind, "failed") == 0 ||
             strcmp(kind, "canceled") == 0)
      rk = 1000;
    else continue; /* submitted: before the watch; retried etc. do not occur here */
    if (rk <= snapshot) continue;
    for (int m = 1; m < w->n; m++) {
      if (rank(w->v[m].state, w->v[m].progress) >= rk) {
        push(out, (w->v[m].at_us - at) * 1000);
        counted++;
        break;
      }
    }
  }
  PQclear(r);
  return counted;
}

static int run_latency(const char *addr, const char *key, const char *layout_path, int jobs,
                       const char *dburl) {
  size_t len;
  char *layout = read_file(layout_path, &len);
  struct folio_client_config cfg = {.addr = addr, .api_key = key, .timeout_ms = 30000};
  struct folio_client *c;
  struct folio_client_error err;
  if (folio_client_connect(&cfg, &c, &err) != 0) die("connect:", err.message);
  PGconn *pg = PQconnectdb(dburl);
  if (PQstatus(pg) != CONNECTION_OK) die("database:", PQerrorMessage(pg));
  Folio__V1__Format fmts[] = {FOLIO__V1__FORMAT__FORMAT_PDF, FOLIO__V1__FORMAT__FORMAT_PNG};
  struct samples e2e = {0}, deliver = {0};
  int failed = 0;
  for (int j = 0; j < jobs; j++) {
    Folio__V1__SubmitLayoutRequest rq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
    rq.layout_json.data = (uint8_t *)layout;
    rq.layout_json.len = len;
    rq.n_formats = 2;
    rq.formats = fmts;
    Folio__V1__RenderOptions off = FOLIO__V1__RENDER_OPTIONS__INIT;
    off.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_OFF; /* render every time */
    rq.options = &off;
    Folio__V1__SubmitLayoutResponse *resp;
    int64_t t0 = now_ns(CLOCK_REALTIME);
    if (folio_client_submit(c, &rq, &resp, &err) != 0) die("submit:", err.message);
    char id[64];
    snprintf(id, sizeof id, "%s", resp->job_id);
    folio_client_free(resp);
    struct watch w = {.n = 0};
    Folio__V1__Job *last;
    if (folio_client_watch(c, id, on_job, &w, &last, &err) != 0) die("watch:", err.message);
    if (last->state != FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) {
      fprintf(stderr, "bench_pipeline: job %s ended in state %d: %s\n", id, (int)last->state,
              last->error ? last->error->message : "");
      failed++;
    } else {
      push(&e2e, w.v[w.n - 1].at_us * 1000 - t0);
    }
    folio_client_free(last);
    event_latencies(pg, id, &w, &deliver);
  }
  PQfinish(pg);
  folio_client_close(c);
  free(layout);
  size_t events = deliver.n;
  double e50 = quantile_ms(&e2e, 0.5), e99 = quantile_ms(&e2e, 0.99);
  double d50 = quantile_ms(&deliver, 0.5), d99 = quantile_ms(&deliver, 0.99);
  double dmax = deliver.n ? (double)deliver.v[deliver.n - 1] / 1e6 : 0;
  printf("latency jobs=%d failed=%d e2e_p50_ms=%.1f e2e_p99_ms=%.1f events=%zu"
         " watch_p50_ms=%.2f watch_p99_ms=%.2f watch_max_ms=%.2f\n",
         jobs, failed, e50, e99, events, d50, d99, dmax);
  free(e2e.v);
  free(deliver.v);
  return failed ? 1 : 0;
}

/* ---- cache: a hit against a plain submit ---------------------------------- */

static int run_cache(bool prime, const char *addr, const char *key, const char *layout_path,
                     int n) {
  size_t len;
  char *layout = read_file(layout_path, &len);
  struct folio_client_config cfg = {.addr = addr, .api_key = key, .timeout_ms = 30000};
  struct folio_client *c;
  struct folio_client_error err;
  if (folio_client_connect(&cfg, &c, &err) != 0) die("connect:", err.message);
  Folio__V1__Format fmts[] = {FOLIO__V1__FORMAT__FORMAT_PDF, FOLIO__V1__FORMAT__FORMAT_PNG};
  Folio__V1__SubmitLayoutRequest rq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
  rq.layout_json.data = (uint8_t *)layout;
  rq.layout_json.len = len;
  rq.n_formats = 2;
  rq.formats = fmts;
  Folio__V1__RenderOptions on = FOLIO__V1__RENDER_OPTIONS__INIT, off = on;
  off.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_OFF;
  Folio__V1__SubmitLayoutResponse *resp;
  int rc = 0;
  if (prime) {
    rq.options = &on;
    if (folio_client_submit(c, &rq, &resp, &err) != 0) die("submit:", err.message);
    char id[64];
    snprintf(id, sizeof id, "%s", resp->job_id);
    folio_client_free(resp);
    struct watch w = {.n = 0};
    Folio__V1__Job *last;
    if (folio_client_watch(c, id, on_job, &w, &last, &err) != 0) die("watch:", err.message);
    rc = last->state == FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED ? 0 : 1;
    printf("cache primed job=%s state=%d\n", id, (int)last->state);
    folio_client_free(last);
  } else {
    struct samples plain = {0}, hit = {0};
    int not_hit = 0;
    for (int i = 0; i < n + 5; i++) { /* the first 5 of each warm up */
      for (int k = 0; k < 2; k++) {
        rq.options = k ? &on : &off;
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        if (folio_client_submit(c, &rq, &resp, &err) != 0) die("submit:", err.message);
        int64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
        if (k && resp->state != FOLIO__V1__JOB_STATE__JOB_STATE_SUCCEEDED) not_hit++;
        folio_client_free(resp);
        if (i >= 5) push(k ? &hit : &plain, dt);
      }
    }
    double p50 = quantile_ms(&plain, 0.5), p99 = quantile_ms(&plain, 0.99);
    double h50 = quantile_ms(&hit, 0.5), h99 = quantile_ms(&hit, 0.99);
    printf("cache calls=%d not_hit=%d plain_p50_ms=%.2f plain_p99_ms=%.2f hit_p50_ms=%.2f"
           " hit_p99_ms=%.2f ratio_p50=%.2f\n",
           n, not_hit, p50, p99, h50, h99, p50 > 0 ? h50 / p50 : 0);
    free(plain.v);
    free(hit.v);
    rc = not_hit ? 1 : 0;
  }
  folio_client_close(c);
  free(layout);
  return rc;
}

int main(int argc, char **argv) {
  const char *usage =
      "usage: bench_pipeline submit ADDR KEY LAYOUT SECONDS CALLS CONNS IDS_OUT\n"
      "       bench_pipeline status ADDR KEY IDS_IN SECONDS CALLS CONNS\n"
      "       bench_pipeline latency ADDR KEY LAYOUT JOBS DATABASE_URL\n"
      "       bench_pipeline cache prime|measure ADDR KEY LAYOUT N\n";
  if (argc == 9 && strcmp(argv[1], "submit") == 0) {
    struct load L = {.mode = M_SUBMIT};
    size_t len;
    char *layout = read_file(argv[4], &len);
    Folio__V1__SubmitLayoutRequest rq = FOLIO__V1__SUBMIT_LAYOUT_REQUEST__INIT;
    Folio__V1__Format fmt = FOLIO__V1__FORMAT__FORMAT_PDF;
    rq.layout_json.data = (uint8_t *)layout;
    rq.layout_json.len = len;
    rq.n_formats = 1;
    rq.formats = &fmt;
    Folio__V1__RenderOptions off = FOLIO__V1__RENDER_OPTIONS__INIT;
    off.cache = FOLIO__V1__CACHE_POLICY__CACHE_POLICY_OFF; /* every submit a new job */
    rq.options = &off;
    grpc_byte_buffer *bb = pack(&rq.base);
    grpc_byte_buffer_reader r;
    grpc_byte_buffer_reader_init(&r, bb);
    L.layout = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(bb);
    free(layout);
    L.ids_out = fopen(argv[8], "w");
    if (!L.ids_out) die("cannot write", argv[8]);
    int rc = run_load(&L, argv[2], argv[3], atof(argv[5]), atoi(argv[6]), atoi(argv[7]));
    fclose(L.ids_out);
    return rc;
  }
  if (argc == 8 && strcmp(argv[1], "status") == 0) {
    struct load L = {.mode = M_STATUS};
    size_t len;
    char *text = read_file(argv[4], &len);
    size_t cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      if (L.nids == cap && !(L.ids = realloc(L.ids, (cap = cap * 2 + 1024) * sizeof *L.ids)))
        die("out of memory", "");
      L.ids[L.nids++] = line;
    }
    if (L.nids == 0) die("no job ids in", argv[4]);
    int rc = run_load(&L, argv[2], argv[3], atof(argv[5]), atoi(argv[6]), atoi(argv[7]));
    free(L.ids);
    free(text);
    return rc;
  }
  if (argc == 7 && strcmp(argv[1], "latency") == 0)
    return run_latency(argv[2], argv[3], argv[4], atoi(argv[5]), argv[6]);
  if (argc == 7 && strcmp(argv[1], "cache") == 0 &&
      (strcmp(argv[2], "prime") == 0 || strcmp(argv[2], "measure") == 0))
    return run_cache(strcmp(argv[2], "prime") == 0, argv[3], argv[4], argv[5], atoi(argv[6]));
  fputs(usage, stderr);
  return 2;
}
