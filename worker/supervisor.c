/* The folio-worker supervisor: starts N render processes, restarts them when
 * they die, enforces the per-attempt render timeout, and records the attempts
 * that died with them.
 *
 * A render process is this same binary re-executed with --render-process=N
 * (fork + exec, so it starts from a clean image: no inherited threads, locks
 * or Redis sockets). Its end of a pipe is fd 3; it writes "B <job> <attempt>"
 * when an attempt starts and "E" when its outcome is recorded. So the
 * supervisor always knows which attempt a process holds: when the process
 * dies (a crash in rendering, SIGKILL, or killed here for exceeding
 * FOLIO_RENDER_TIMEOUT_MS) the attempt is failed as transient at once
 * (WORKER_CRASHED / RENDER_TIMEOUT / WORKER_SHUTDOWN), which re-queues the job
 * or ends it ATTEMPTS_EXHAUSTED — except a process killed here because the
 * shutdown grace period ran out: its attempt is handed back without counting
 * (folio_jobs_release). Its stream entry, still pending, is
 * re-delivered by XAUTOCLAIM after the visibility timeout. If the supervisor
 * cannot record it (database down, or the whole machine died), the heartbeat
 * lease does: every supervisor reaps RUNNING jobs whose heartbeat is older
 * than the visibility timeout (folio_jobs_reap_stale).
 *
 * Everything here runs on one thread, a folio_loop: a signalfd (SIGCHLD,
 * SIGTERM, SIGINT), the pipes, a 100 ms tick, and a Redis client that
 * publishes the state changes recorded here. The few PostgreSQL calls are
 * blocking; they are rare (a death, a reap every half visibility timeout). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "folio/arena.h"
#include "folio/clock.h"
#include "folio/jobs.h"
#include "folio/loop.h"
#include "folio/pg.h"
#include "folio/redis.h"
#include "worker_int.h"

#define RESTART_STABLE_NS (10LL * 1000000000) /* lived this long: not a crash loop */

struct sup;

struct slot {
  struct sup *sup;
  int index;
  pid_t pid; /* 0 when not running */
  int fd;    /* read end of its pipe, -1 when closed */
  char buf[256];
  size_t blen;
  char job[FOLIO_UUID_STR_LEN + 1]; /* "" when idle */
  int attempt;
  int64_t job_start_ns;
  bool timed_out; /* we killed it for the render timeout */
  bool shut_down; /* we killed it because the shutdown grace period was over */
  int crashes;    /* consecutive quick abnormal exits */
  int64_t started_ns;
  int64_t restart_at_ns;
};

struct sup {
  const struct worker_config *cfg;
  char **argv;
  struct folio_loop *loop;
  int sigfd;
  struct folio_loop_timer tick;
  struct slot *slots;
  int alive;
  struct folio_redis *rd;
  struct folio_pg_conn *db;
  bool shutting;
  int64_t kill_at_ns;
  int64_t last_reap_ns;
  int status;
};

static void logf_slot(enum folio_log_level lv, const char *msg, const struct slot *s,
                      const char *key, const char *val) {
  struct folio_logline l;
  folio_log_begin(&l, lv, msg);
  folio_log_int(&l, "slot", s->index);
  if (s->pid) folio_log_int(&l, "pid", s->pid);
  if (s->job[0]) folio_log_str(&l, "job_id", s->job);
  if (key) folio_log_str(&l, key, val);
  folio_log_end(&l);
}

static struct folio_pg_conn *db(struct sup *sp) {
  struct folio_pg_diag d;
  if (sp->db && folio_pg_conn_ok(sp->db)) return sp->db;
  if (sp->db) {
    if (folio_pg_conn_reset(sp->db, &d) == 0) return sp->db;
  } else {
    struct folio_pg_conn_config pc = {.conninfo = sp->cfg->database_url,
                                      .application_name = "folio-worker-supervisor"};
    folio_jobs_conn_config(&pc);
    if (folio_pg_conn_connect(&pc, &sp->db, &d) == 0) return sp->db;
  }
  folio_log(FOLIO_LOG_WARN, "supervisor: database unavailable", d.msg);
  return NULL;
}

static void publish_done(struct folio_redis *r, int status, const redisReply *rep, void *arg) {
  (void)r, (void)status, (void)rep, (void)arg;
}

static void publish(struct sup *sp, const char *job, enum folio_job_state st) {
  char ch[FOLIO_JOBS_CHANNEL_MAX], msg[FOLIO_JOBS_EVENT_MAX];
  folio_jobs_channel(job, ch);
  int n = folio_jobs_event_format(msg, sizeof msg, job, st, -1);
  if (n > 0) folio_redis_publish(sp->rd, ch, msg, (size_t)n, publish_done, NULL);
}

/* ---- render processes ---------------------------------------------------- */

static void on_pipe(struct folio_loop *loop, int fd, unsigned ev, void *arg);

static void start_slot(struct sup *sp, struct slot *s) {
  int p[2];
  if (pipe2(p, O_CLOEXEC)) {
    logf_slot(FOLIO_LOG_ERROR, "pipe failed", s, "error", strerror(errno));
    s->restart_at_ns = folio_clock_mono_ns() + 1000000000;
    return;
  }
  char slotarg[40];
  snprintf(slotarg, sizeof slotarg, "--render-process=%d", s->index);
  int argc = 0;
  while (sp->argv[argc]) argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) {
    close(p[0]);
    close(p[1]);
    return;
  }
  for (int i = 0; i < argc; i++) args[i] = sp->argv[i];
  args[argc] = slotarg;
  pid_t pid = fork();
  if (pid == 0) {
    /* the child: fd 3 = pipe, nothing else inherited, default signals, and
     * told (SIGTERM: hand work back) if the supervisor dies */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (dup2(p[1], FOLIO_WORKER_PIPE_FD) < 0) _exit(127);
    close_range(FOLIO_WORKER_PIPE_FD + 1, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv("/proc/self/exe", args);
    _exit(127);
  }
  free(args);
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    logf_slot(FOLIO_LOG_ERROR, "fork failed", s, "error", strerror(errno));
    s->restart_at_ns = folio_clock_mono_ns() + 1000000000;
    return;
  }
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  s->pid = pid;
  s->fd = p[0];
  s->blen = 0;
  s->job[0] = '\0';
  s->timed_out = false;
  s->shut_down = false;
  s->started_ns = folio_clock_mono_ns();
  s->restart_at_ns = 0;
  sp->alive++;
  folio_loop_watch(sp->loop, s->fd, FOLIO_LOOP_READ, on_pipe, s);
  logf_slot(FOLIO_LOG_INFO, "render process started", s, NULL, NULL);
}

static void handle_line(struct slot *s, char *line) {
  if (line[0] == 'B') {
    char job[FOLIO_UUID_STR_LEN + 1];
    int attempt;
    if (sscanf(line, "B %36s %d", job, &attempt) == 2 && folio_uuid_valid(job)) {
      memcpy(s->job, job, sizeof s->job);
      s->attempt = attempt;
      s->job_start_ns = folio_clock_mono_ns();
    }
  } else if (line[0] == 'E') {
    s->job[0] = '\0';
  }
}

/* Reads what the process wrote; closes the pipe at EOF. */
static void drain(struct sup *sp, struct slot *s) {
  while (s->fd >= 0) {
    ssize_t n = read(s->fd, s->buf + s->blen, sizeof s->buf - 1 - s->blen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      folio_loop_unwatch(sp->loop, s->fd);
      close(s->fd);
      s->fd = -1;
      return;
    }
    s->blen += (size_t)n;
    s->buf[s->blen] = '\0';
    char *nl;
    while ((nl = memchr(s->buf, '\n', s->blen))) {
      *nl = '\0';
      handle_line(s, s->buf);
      size_t used = (size_t)(nl - s->buf) + 1;
      memmove(s->buf, nl + 1, s->blen - used);
      s->blen -= used;
    }
    if (s->blen == sizeof s->buf - 1) s->blen = 0; /* garbage: drop */
  }
}

static void on_pipe(struct folio_loop *loop, int fd, unsigned ev, void *arg) {
  (void)loop, (void)fd, (void)ev;
  struct slot *s = arg;
  drain(s->sup, s);
}

/* The process of slot s ended with wait status ws. */
static void reaped(struct sup *sp, struct slot *s, int ws) {
  drain(sp, s);
  if (s->fd >= 0) {
    folio_loop_unwatch(sp->loop, s->fd);
    close(s->fd);
    s->fd = -1;
  }
  char how[64];
  if (WIFSIGNALED(ws)) snprintf(how, sizeof how, "signal %s", sigabbrev_np(WTERMSIG(ws)) ? sigabbrev_np(WTERMSIG(ws)) : "?");
  else snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(ws));
  bool clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
  logf_slot(clean ? FOLIO_LOG_INFO : FOLIO_LOG_WARN, "render process ended", s, "how", how);
  if (s->job[0]) {
    const char *code = s->timed_out ? "RENDER_TIMEOUT" : sp->shutting ? "WORKER_SHUTDOWN" : "WORKER_CRASHED";
    char msg[256];
    if (s->timed_out)
      snprintf(msg, sizeof msg, "the render took longer than FOLIO_RENDER_TIMEOUT_MS=%d ms and was killed",
               sp->cfg->render_timeout_ms);
    else
      snprintf(msg, sizeof msg, "the render process died (%s) during attempt %d", how, s->attempt);
    struct folio_pg_conn *c = db(sp);
    enum folio_job_state st = FOLIO_JOB_UNSPECIFIED;
    struct folio_pg_diag d = {0};
    int rc = FOLIO_PG_ECONNECT;
    /* killed by the shutdown backstop: handed back, not counted; anything
     * else that ends a process mid-job is a failed attempt */
    if (c && s->shut_down && !s->timed_out)
      rc = folio_jobs_release(c, s->job, s->attempt,
                              "WORKER_SHUTDOWN: the render process was stopped at the end of the "
                              "shutdown grace period",
                              &st, &d);
    else if (c)
      rc = folio_jobs_fail(c, s->job, s->attempt, true, code, msg, &st, &d);
    if (rc == 0) {
      logf_slot(FOLIO_LOG_WARN, s->shut_down && !s->timed_out ? "attempt handed back with its process" : "attempt failed with its process", s, "state", folio_job_state_name(st));
      publish(sp, s->job, st);
    } else if (rc != FOLIO_JOBS_EFENCED) {
      logf_slot(FOLIO_LOG_WARN, "could not record the lost attempt; the heartbeat lease will", s,
                "error", d.msg);
    }
    s->job[0] = '\0';
  }
  s->pid = 0;
  sp->alive--;
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == FOLIO_WORKER_EXIT_FATAL) {
    folio_log(FOLIO_LOG_ERROR, "a render process cannot start with this configuration; stopping",
              NULL);
    sp->status = 1;
    if (!sp->shutting) {
      sp->shutting = true;
      sp->kill_at_ns = folio_clock_mono_ns() + 5LL * 1000000000;
      for (int i = 0; i < sp->cfg->workers; i++)
        if (sp->slots[i].pid) kill(sp->slots[i].pid, SIGTERM);
    }
  }
  if (sp->shutting) {
    if (sp->alive == 0) folio_loop_stop(sp->loop);
    return;
  }
  int64_t now = folio_clock_mono_ns();
  if (!clean && !s->timed_out && now - s->started_ns < RESTART_STABLE_NS) s->crashes++;
  else s->crashes = 0;
  int delay = s->crashes ? worker_retry_ms(s->crashes, 200, 30000) : 0;
  s->restart_at_ns = now + (int64_t)delay * 1000000;
}

static void on_signal(struct folio_loop *loop, int fd, unsigned ev, void *arg) {
  (void)loop, (void)ev;
  struct sup *sp = arg;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int ws;
      pid_t pid;
      while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
        for (int i = 0; i < sp->cfg->workers; i++)
          if (sp->slots[i].pid == pid) reaped(sp, &sp->slots[i], ws);
    } else if (!sp->shutting) {
      struct folio_logline l;
      folio_log_begin(&l, FOLIO_LOG_INFO, "shutting down: no new jobs, running ones get the grace period");
      folio_log_int(&l, "grace_ms", sp->cfg->shutdown_grace_ms);
      folio_log_end(&l);
      sp->shutting = true;
      /* the processes hand their work back when the grace period ends; this
       * is the backstop if one does not */
      sp->kill_at_ns = folio_clock_mono_ns() + ((int64_t)sp->cfg->shutdown_grace_ms + 5000) * 1000000;
      for (int i = 0; i < sp->cfg->workers; i++)
        if (sp->slots[i].pid) kill(sp->slots[i].pid, SIGTERM);
      if (sp->alive == 0) folio_loop_stop(sp->loop);
    }
  }
}

static void reap_stale(struct sup *sp) {
  struct folio_pg_conn *c = db(sp);
  if (!c) return;
  struct folio_arena *a = folio_arena_create(0);
  if (!a) return;
  char **ids;
  size_t n = 0;
  struct folio_pg_diag d;
  if (folio_jobs_reap_stale(c, sp->cfg->visibility_timeout_ms, 100, a, &ids, &n, &d) == 0) {
    for (size_t i = 0; i < n; i++) {
      struct folio_logline l;
      folio_log_begin(&l, FOLIO_LOG_WARN, "job re-queued: its worker stopped heartbeating");
      folio_log_str(&l, "job_id", ids[i]);
      folio_log_end(&l);
      publish(sp, ids[i], FOLIO_JOB_QUEUED);
    }
  }
  folio_arena_destroy(a);
}

static void on_tick(struct folio_loop *loop, struct folio_loop_timer *t, void *arg) {
  (void)loop, (void)t;
  struct sup *sp = arg;
  int64_t now = folio_clock_mono_ns();
  for (int i = 0; i < sp->cfg->workers; i++) {
    struct slot *s = &sp->slots[i];
    if (s->pid) {
      drain(sp, s);
      if (s->job[0] && !s->timed_out &&
          now - s->job_start_ns > (int64_t)sp->cfg->render_timeout_ms * 1000000) {
        s->timed_out = true;
        logf_slot(FOLIO_LOG_WARN, "render timeout: killing the render process", s, NULL, NULL);
        kill(s->pid, SIGKILL);
      }
      if (sp->shutting && now > sp->kill_at_ns) {
        s->shut_down = true;
        kill(s->pid, SIGKILL);
      }
    } else if (!sp->shutting && now >= s->restart_at_ns) {
      start_slot(sp, s);
    }
  }
  if (!sp->shutting && now - sp->last_reap_ns > (int64_t)sp->cfg->visibility_timeout_ms * 500000) {
    sp->last_reap_ns = now;
    reap_stale(sp);
  }
}

int worker_supervise(const struct worker_config *cfg, char **argv) {
  struct sup sp = {.cfg = cfg, .argv = argv, .sigfd = -1};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  sp.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  sp.loop = folio_loop_create();
  sp.slots = calloc((size_t)cfg->workers, sizeof *sp.slots);
  if (sp.sigfd < 0 || !sp.loop || !sp.slots) {
    folio_log(FOLIO_LOG_ERROR, "supervisor set-up failed", strerror(errno));
    return 1;
  }
  char err[256];
  struct folio_redis_config rc = {.url = cfg->redis_url, .backoff_max_ms = 1000};
  if (folio_redis_create(sp.loop, &rc, &sp.rd, err, sizeof err)) {
    folio_log(FOLIO_LOG_ERROR, "bad Redis configuration", err);
    return 1;
  }
  for (int i = 0; i < cfg->workers; i++) {
    sp.slots[i].sup = &sp;
    sp.slots[i].index = i;
    sp.slots[i].fd = -1;
  }
  struct folio_logline l;
  folio_log_begin(&l, FOLIO_LOG_INFO, "folio-worker starting");
  folio_log_int(&l, "workers", cfg->workers);
  folio_log_int(&l, "render_timeout_ms", cfg->render_timeout_ms);
  folio_log_int(&l, "visibility_timeout_ms", cfg->visibility_timeout_ms);
  folio_log_int(&l, "pid", getpid());
  folio_log_end(&l);
  folio_loop_watch(sp.loop, sp.sigfd, FOLIO_LOOP_READ, on_signal, &sp);
  folio_loop_timer_init(&sp.tick);
  folio_loop_timer_start(sp.loop, &sp.tick, 0, 100, on_tick, &sp);
  folio_loop_run(sp.loop);
  folio_loop_timer_stop(sp.loop, &sp.tick);
  folio_loop_unwatch(sp.loop, sp.sigfd);
  folio_redis_destroy(sp.rd);
  folio_loop_destroy(sp.loop);
  folio_pg_conn_close(sp.db);
  close(sp.sigfd);
  free(sp.slots);
  folio_log(FOLIO_LOG_INFO, "folio-worker stopped", NULL);
  return sp.status;
}
