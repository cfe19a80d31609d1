/* Issue 4 §7, scale: 1,000 jobs from 8 concurrent callers against 2
 * folio-server processes and 2 folio-worker supervisors (2 render processes
 * each), all on one PostgreSQL / Redis / RGW (scripts/stack.sh).
 *
 * Caller c talks to server c % 2 as tenant c % 2 and submits its 125 keys;
 * then it re-submits 3 keys of caller c + 2 (same tenant, the other caller's
 * server when there are two): idempotent duplicates, possibly racing the
 * first submission. Expected: exactly 1,000 jobs, all SUCCEEDED, one
 * 'succeeded' event each, one 'started' event per attempt, their PDFs in S3,
 * nothing QUEUED/RUNNING or pending in the stream. The rates are printed,
 * never asserted on.
 *
 * usage: test_pipeline_scale folio-server folio-worker (under stack.sh run) */
#include "pipeline.h"

enum { CALLERS = 8, PER_CALLER = 125, DUPS = 3, JOBS = CALLERS * PER_CALLER };

int main(int argc, char **argv) {
  pipeline_setup(argc, argv);
  pipeline_start_servers(2);
  pipeline_start_workers(2, 2);
  printf("2 servers (%s, %s), 2 workers x 2 render processes\n", pl.addr[0], pl.addr[1]);

  static struct pl_sub subs[CALLERS][PER_CALLER + DUPS];
  static struct pl_caller callers[CALLERS];
  for (int c = 0; c < CALLERS; c++) {
    for (int i = 0; i < PER_CALLER; i++) snprintf(subs[c][i].key, sizeof subs[c][i].key, "scale-%d-%d", c, i);
    /* duplicates of the other caller of this tenant: keys it submits early, in
     * the middle and last (so some may race its own submission) */
    int other = (c + 2) % CALLERS, picks[DUPS] = {0, PER_CALLER / 2, PER_CALLER - 1};
    for (int i = 0; i < DUPS; i++)
      snprintf(subs[c][PER_CALLER + i].key, sizeof subs[c][0].key, "scale-%d-%d", other, picks[i]);
    callers[c] = (struct pl_caller){.server = c % 2, .tenant = c % 2, .subs = subs[c],
                                     .nsubs = PER_CALLER + DUPS};
  }
  double t0 = pl_now_s();
  for (int c = 0; c < CALLERS; c++) pl_caller_start(&callers[c]);
  for (int c = 0; c < CALLERS; c++) pthread_join(callers[c].thread, NULL);
  double t_sub = pl_now_s() - t0;
  size_t jobs = pipeline_check_submissions(&subs[0][0], CALLERS * (PER_CALLER + DUPS), JOBS);
  printf("submitted: %d calls (%zu jobs, %d idempotent duplicates) in %.1f s = %.0f calls/s\n",
         CALLERS * (PER_CALLER + DUPS), jobs, CALLERS * DUPS, t_sub,
         CALLERS * (PER_CALLER + DUPS) / t_sub);
  fflush(stdout);

  pipeline_wait_settled(240);
  double t_all = pl_now_s() - t0;
  printf("all %d jobs finished %.1f s after the first submission: %.1f jobs/s end to end\n", JOBS,
         t_all, JOBS / t_all);
  pipeline_check_exactly_once(JOBS);
  printf("  PostgreSQL: %d SUCCEEDED, 1 'succeeded' event each, no attempt started twice "
         "(%ld attempts in all), %d PDFs\n",
         JOBS, pl_count("SELECT sum(attempts) FROM jobs"), JOBS);
  pipeline_check_status(&subs[0][0], CALLERS * (PER_CALLER + DUPS));
  pipeline_check_objects(50);
  pipeline_wait_nothing_pending();
  printf("  Redis: no entry pending in the dispatch stream\n");
  /* Not asserted: the servers' reconciler re-dispatches every job that waited
   * in the queue longer than its grace period (5 s), though its first entry is
   * still in the stream; each extra entry costs a worker a refused claim. */
  long entries = atol(redis_cli("XLEN '%s'", FOLIO_JOBS_STREAM));
  printf("  dispatch stream: %ld entries for %d jobs (%ld re-dispatches of jobs still queued)\n",
         entries, JOBS, entries - JOBS);
  long per_worker[2] = {pl_count("SELECT count(*) FROM jobs WHERE worker_id LIKE 'pipeline-w0-%'"),
                        pl_count("SELECT count(*) FROM jobs WHERE worker_id LIKE 'pipeline-w1-%'")};
  printf("  rendered by worker 0: %ld, worker 1: %ld\n", per_worker[0], per_worker[1]);
  CHECK_EQ_INT(per_worker[0] + per_worker[1], JOBS);
  pipeline_stop_all();
  return pipeline_done();
}
