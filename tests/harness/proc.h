/* Child processes for integration tests: the folio-server / folio-worker
 * binaries a test starts itself, and the shell commands it runs.
 *
 *   pid_t p = proc_spawn(argv, env, log_path);   // dies with the test (PDEATHSIG)
 *   ...
 *   int st = proc_stop(&p, 30000);               // SIGTERM, wait, else SIGKILL
 *
 * A spawned child gets PR_SET_PDEATHSIG, so it never outlives the test however
 * the test ends (CHECK failure, crash, SIGKILL from a ctest timeout); a test
 * still stops what it started (proc_stop / proc_kill) to check exit statuses.
 *
 * Ports: a server a test starts binds port 0 itself and reports the port it
 * got (proc_spawn_listening); a test never picks a "free" port first and
 * hands it over, because another test running in parallel can take it in
 * between (ctest -j).
 * Header-only, like check.h: every function is static. */
#ifndef FOLIO_TEST_PROC_H
#define FOLIO_TEST_PROC_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static inline void proc_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Runs cmd with /bin/sh, copies the first line of its output (without the
 * newline) into line (cap bytes; may be NULL), drains the rest. Returns the
 * exit status, or -1 when it did not exit normally. */
static inline int proc_run_line(const char *cmd, char *line, size_t cap) {
  FILE *p = popen(cmd, "r");
  CHECK_MSG(p, "popen %s", cmd);
  char first[1024] = "";
  if (!fgets(first, sizeof first, p)) first[0] = '\0';
  while (fgetc(p) != EOF) {
  }
  int st = pclose(p);
  first[strcspn(first, "\n")] = '\0';
  if (line && cap) snprintf(line, cap, "%s", first);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* proc_run_line into a static buffer: returns the first output line (valid
 * until the next call) and sets *status. For tests that print or compare it. */
static inline const char *proc_run(const char *cmd, int *status) {
  static char line[1024];
  *status = proc_run_line(cmd, line, sizeof line);
  return line;
}

/* Starts argv[0] (a path, or a name looked up in PATH) with argv, plus the NAME=VALUE settings of env
 * (NULL-terminated; env itself may be NULL) on top of the test's environment.
 * stdout and stderr are appended to log (created). The child gets
 * PR_SET_PDEATHSIG(sig_on_parent_death). Returns its pid. Everything is
 * borrowed for the call only. */
static inline pid_t proc_spawn(const char *const argv[], const char *const env[], const char *log,
                               int sig_on_parent_death) {
  pid_t me = getpid();
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, sig_on_parent_death);
    if (getppid() != me) _exit(1); /* the test died before prctl */
    for (size_t i = 0; env && env[i]; i++) {
      const char *eq = strchr(env[i], '=');
      char k[128];
      if (!eq || (size_t)(eq - env[i]) >= sizeof k) _exit(126);
      snprintf(k, sizeof k, "%.*s", (int)(eq - env[i]), env[i]);
      setenv(k, eq + 1, 1);
    }
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execvp(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  return pid;
}

/* Exit status of a waited-for child: its exit code, or 128 + the signal. */
static inline int proc_status(int ws) { return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws); }

/* SIGKILL and reap *pid (if > 0); *pid becomes 0. */
static inline void proc_kill(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
  }
}

/* SIGTERM, then wait up to grace_ms for *pid to exit; after that SIGKILL.
 * Returns its exit status (proc_status), or -1 when it had to be killed
 * (or *pid was not running). *pid becomes 0. */
static inline int proc_stop(pid_t *pid, int grace_ms) {
  if (*pid <= 0) return -1;
  kill(*pid, SIGTERM);
  int ws;
  for (int waited = 0; waited <= grace_ms; waited += 20) {
    if (waitpid(*pid, &ws, WNOHANG) == *pid) {
      *pid = 0;
      return proc_status(ws);
    }
    proc_sleep_ms(20);
  }
  proc_kill(pid);
  return -1;
}

/* The tail of path (at most max bytes) on stderr, for a failure message. */
static inline void proc_log_tail(const char *path, long max) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "  (no log at %s)\n", path);
    return;
  }
  fseek(f, 0, SEEK_END);
  long end = ftell(f);
  fseek(f, end > max ? end - max : 0, SEEK_SET);
  fprintf(stderr, "--- last %ld bytes of %s\n", end > max ? max : end, path);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stderr);
  fprintf(stderr, "--- end of %s\n", path);
  fclose(f);
}

/* Looks in log, from byte offset `from` on, for a complete line (ending in
 * '\n') holding "msg":"listening" and an "address":"HOST:PORT" field; copies
 * the address into addr (cap bytes). Returns 1 when found, else 0. */
static inline int proc_find_listening(const char *log, long from, char *addr, size_t cap) {
  FILE *f = fopen(log, "r");
  if (!f) return 0;
  fseek(f, from, SEEK_SET);
  char line[8192];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    const char *a;
    if (!strchr(line, '\n') || !strstr(line, "\"msg\":\"listening\"") ||
        !(a = strstr(line, "\"address\":\"")))
      continue;
    a += strlen("\"address\":\"");
    size_t n = strcspn(a, "\"\n");
    if (a[n] == '"' && n > 0 && n < cap && memchr(a, ':', n)) {
      memcpy(addr, a, n);
      addr[n] = '\0';
      found = 1;
    }
  }
  fclose(f);
  return found;
}

/* proc_spawn for a server that binds its port itself: argv, env, log and
 * sig_on_parent_death as for proc_spawn, plus FOLIO_LISTEN=127.0.0.1:0 (set
 * after env, so it wins). Waits up to timeout_ms for the server's JSON log
 * line {"msg":"listening",...,"address":"127.0.0.1:PORT"} (folio-server
 * writes it at level info once it listens: FOLIO_LOG_LEVEL must be info or
 * debug) among the lines appended to log after the spawn, and copies that
 * address into addr (cap bytes). Never returns without an address: when the
 * server exits first, or says nothing in time, it is killed and the test
 * fails showing the end of log. Returns the pid. */
static inline pid_t proc_spawn_listening(const char *const argv[], const char *const env[],
                                         const char *log, int sig_on_parent_death,
                                         int timeout_ms, char *addr, size_t cap) {
  const char *all[64];
  size_t n = 0;
  for (; env && env[n]; n++) {
    CHECK_MSG(n < 62, "proc_spawn_listening: too many env settings");
    all[n] = env[n];
  }
  all[n++] = "FOLIO_LISTEN=127.0.0.1:0";
  all[n] = NULL;
  struct stat sb;
  long from = stat(log, &sb) == 0 ? (long)sb.st_size : 0; /* log may be appended to */
  pid_t pid = proc_spawn(argv, all, log, sig_on_parent_death);
  for (int waited = 0;; waited += 20) {
    if (proc_find_listening(log, from, addr, cap)) return pid;
    int ws;
    if (waitpid(pid, &ws, WNOHANG) == pid) {
      fprintf(stderr, "%s exited with status %d before it listened\n", argv[0], proc_status(ws));
      proc_log_tail(log, 3000);
      CHECK_MSG(0, "%s did not start (log: %s)", argv[0], log);
    }
    if (waited >= timeout_ms) {
      proc_kill(&pid);
      fprintf(stderr, "%s logged no \"listening\" line with an address in %d ms\n", argv[0],
              timeout_ms);
      proc_log_tail(log, 3000);
      CHECK_MSG(0, "%s did not listen (log: %s; is FOLIO_LOG_LEVEL info?)", argv[0], log);
    }
    proc_sleep_ms(20);
  }
}

/* `SERVER apikey create --tenant TENANT` (FOLIO_DATABASE_URL and
 * FOLIO_API_KEY_PEPPER from the environment); writes the new key (the text
 * printed once) into out (cap bytes). */
static inline void proc_apikey_create(const char *server, const char *tenant, char *out,
                                      size_t cap) {
  char cmd[1024], key[256];
  snprintf(cmd, sizeof cmd, "'%s' apikey create --tenant '%s' 2>/dev/null", server, tenant);
  int st = proc_run_line(cmd, key, sizeof key);
  CHECK_MSG(st == 0 && key[0], "apikey create --tenant %s: status %d, \"%s\"", tenant, st, key);
  size_t n = strlen(key);
  CHECK_MSG(n < cap, "API key of %zu bytes does not fit in %zu", n, cap);
  memcpy(out, key, n + 1);
}

/* An API key for tenant, as the `authorization` value "Bearer <key>" into
 * out (cap bytes); checks the key has FOLIO_APIKEY_LEN's length when the
 * caller knows it (key_len > 0). */
static inline void proc_bearer_create(const char *server, const char *tenant, size_t key_len,
                                      char *out, size_t cap) {
  char k[256];
  proc_apikey_create(server, tenant, k, sizeof k);
  CHECK_MSG(!key_len || strlen(k) == key_len, "apikey create: \"%s\"", k);
  int n = snprintf(out, cap, "Bearer %s", k);
  CHECK_MSG(n > 0 && (size_t)n < cap, "bearer of %d bytes does not fit in %zu", n, cap);
}

/* `SERVER migrate`, printing its first line; checks it succeeded. */
static inline void proc_migrate(const char *server) {
  char cmd[1024];
  int st;
  snprintf(cmd, sizeof cmd, "'%s' migrate", server);
  printf("migrate: %s\n", proc_run(cmd, &st));
  CHECK_EQ_INT(st, 0);
}

/* `SERVER tenant set TENANT ARGS` (ARGS: "--submit-rate 1000 ...", trusted
 * test text); checks it succeeded. */
static inline void proc_tenant_set(const char *server, const char *tenant, const char *args) {
  char cmd[1024], line[256];
  snprintf(cmd, sizeof cmd, "'%s' tenant set '%s' %s 2>&1 >/dev/null", server, tenant, args);
  int st = proc_run_line(cmd, line, sizeof line);
  CHECK_MSG(st == 0, "tenant set %s %s: status %d, \"%s\"", tenant, args, st, line);
}

#endif
