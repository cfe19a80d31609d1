/* Issue 4 §7, Redis loss mid-run: 2 folio-server processes and 2 folio-worker
 * supervisors run while 4 callers keep submitting; Redis is emptied
 * (FLUSHALL: the stream, its consumer group and every pending entry are gone)
 * and later stopped and started again on the same port (empty again).
 *
 * PostgreSQL is the source of truth: every accepted job must still end
 * SUCCEEDED exactly once (the servers' reconciler re-dispatches QUEUED jobs
 * without a live dispatch; the workers reconnect and recreate the consumer
 * group, which is checked after each loss). Submissions must keep being
 * accepted while Redis is gone.
 *
 * usage: test_pipeline_redis_loss folio-server folio-worker (under stack.sh run) */
#include "pipeline.h"

/* Each caller submits BURST jobs at once (a backlog of queued jobs for the
 * FLUSHALL to lose), then one every PACE_MS (submissions go on through both
 * losses). */
enum { CALLERS = 4, PER_CALLER = 60, JOBS = CALLERS * PER_CALLER, BURST = 15, PACE_MS = 100 };

static atomic_int submitted;

static void wait_submitted(int n) {
  for (int i = 0; i < 1200 && atomic_load(&submitted) < n; i++) proc_sleep_ms(50);
  CHECK_MSG(atomic_load(&submitted) >= n, "the callers are stuck at %d submissions",
            atomic_load(&submitted));
}

static long in_state(const char *state) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE state = '%s'", state);
  return pl_count(sql);
}
static long succeeded(void) { return in_state("SUCCEEDED"); }

/* The workers recreate the consumer group (after the loss nothing else does
 * while the servers stay connected). redis-cli prints XINFO GROUPS' reply one
 * value a line: "name", the group's name, "consumers", ... */
static void wait_group(const char *after) {
  char cmd[1024], out[64] = "";
  snprintf(cmd, sizeof cmd, "redis-cli -u '%s' XINFO GROUPS '%s' 2>&1 | grep -cx '%s'",
           getenv("FOLIO_REDIS_URL"), FOLIO_JOBS_STREAM, FOLIO_JOBS_GROUP);
  for (int i = 0; i < 600; i++) {
    proc_run_line(cmd, out, sizeof out);
    if (atoi(out) == 1) break;
    proc_sleep_ms(100);
  }
  CHECK_MSG(atoi(out) == 1, "consumer group %s not recreated after %s", FOLIO_JOBS_GROUP, after);
  printf("  consumer group %s is back after %s\n", FOLIO_JOBS_GROUP, after);
}

int main(int argc, char **argv) {
  pipeline_setup(argc, argv);
  pipeline_start_servers(2);
  pipeline_start_workers(2, 2);
  printf("2 servers (%s, %s), 2 workers x 2 render processes\n", pl.addr[0], pl.addr[1]);

  static struct pl_sub subs[CALLERS][PER_CALLER];
  static struct pl_caller callers[CALLERS];
  for (int c = 0; c < CALLERS; c++) {
    for (int i = 0; i < PER_CALLER; i++)
      snprintf(subs[c][i].key, sizeof subs[c][i].key, "loss-%d-%d", c, i);
    callers[c] = (struct pl_caller){.server = c % 2, .tenant = c % 2, .subs = subs[c],
                                     .nsubs = PER_CALLER, .burst = BURST, .pace_ms = PACE_MS,
                                     .submitted = &submitted};
  }
  for (int c = 0; c < CALLERS; c++) pl_caller_start(&callers[c]);

  /* 1. FLUSHALL while jobs are queued (their stream entries are lost with
   * it), running (their acks will fail) and being submitted */
  long queued = 0, running = 0;
  for (int i = 0; i < 1200; i++) {
    queued = in_state("QUEUED");
    running = in_state("RUNNING");
    if (queued >= 10 && running >= 1) break;
    proc_sleep_ms(20);
  }
  CHECK_MSG(queued >= 10 && running >= 1, "no backlog to lose: %ld QUEUED, %ld RUNNING", queued,
            running);
  const char *r = redis_cli("FLUSHALL");
  CHECK_MSG(!strcmp(r, "OK"), "FLUSHALL: %s", r);
  printf("FLUSHALL after %d submissions: %ld QUEUED, %ld RUNNING, %ld SUCCEEDED just before\n",
         atomic_load(&submitted), queued, running, succeeded());
  fflush(stdout);
  wait_group("FLUSHALL");

  /* 2. Redis stopped, submissions go on, then Redis back on the same port */
  wait_submitted(JOBS / 2);
  outage_redis("down");
  int at_down = atomic_load(&submitted);
  printf("Redis stopped after %d submissions, %ld SUCCEEDED\n", at_down, succeeded());
  fflush(stdout);
  wait_submitted(at_down + 20); /* accepted while Redis is down */
  outage_redis("up");
  char restarted_at[64]; /* PostgreSQL's clock, as started_at is */
  snprintf(restarted_at, sizeof restarted_at, "%s", pgtest_value(pl.db, "SELECT now()::text"));
  printf("Redis started again after %d submissions, %ld SUCCEEDED\n", atomic_load(&submitted),
         succeeded());
  fflush(stdout);
  wait_group("the restart");

  for (int c = 0; c < CALLERS; c++) pthread_join(callers[c].thread, NULL);
  pipeline_check_submissions(&subs[0][0], JOBS, JOBS);
  printf("all %d submissions accepted (also while Redis was down)\n", JOBS);
  pipeline_wait_settled(180);
  pipeline_check_exactly_once(JOBS);
  printf("  PostgreSQL: %d SUCCEEDED, 1 'succeeded' event each, no attempt started twice "
         "(%ld attempts in all)\n",
         JOBS, pl_count("SELECT sum(attempts) FROM jobs"));
  pipeline_check_status(&subs[0][0], JOBS);
  pipeline_check_objects(20);
  pipeline_wait_nothing_pending();
  printf("  Redis: no entry pending in the dispatch stream\n");
  /* both workers came back: each claimed jobs after the restart */
  for (int w = 0; w < pl.nworkers; w++) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM jobs WHERE worker_id LIKE 'pipeline-w%d-%%' AND started_at > '%s'",
             w, restarted_at);
    long n = pl_count(sql);
    printf("  worker %d rendered %ld jobs after the restart\n", w, n);
    CHECK_MSG(n >= 1, "worker %d took no job after Redis came back", w);
  }
  pipeline_stop_all();
  return pipeline_done();
}
