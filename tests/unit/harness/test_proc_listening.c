/* proc_spawn_listening (tests/harness/proc.h): the server gets
 * FOLIO_LISTEN=127.0.0.1:0 and the address comes from its own "listening"
 * line; a line already in the log from before the start does not count; a
 * server that exits first, or never says it listens (then it is killed),
 * fails the test with the end of its log. The servers are /bin/sh scripts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"

static char dir[] = "/tmp/folio-proc-listening.XXXXXX";
static pid_t owner; /* the children that fail exit through atexit too */

static void remove_dir(void) {
  if (getpid() != owner) return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Runs proc_spawn_listening(sh -c script) in a child process (a failure
 * exits it); returns the child's exit status, its stderr in err (cap). */
static int spawn_in_child(const char *script, const char *log, int timeout_ms, char *err,
                          size_t cap) {
  char errpath[128];
  snprintf(errpath, sizeof errpath, "%s/child.err", dir);
  fflush(NULL);
  pid_t c = fork();
  CHECK(c >= 0);
  if (c == 0) {
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0) _exit(99);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    char addr[64];
    pid_t p = proc_spawn_listening(argv, NULL, log, SIGKILL, timeout_ms, addr, sizeof addr);
    proc_kill(&p);
    _exit(0);
  }
  int ws;
  CHECK(waitpid(c, &ws, 0) == c);
  FILE *f = fopen(errpath, "r");
  CHECK(f);
  size_t n = fread(err, 1, cap - 1, f);
  err[n] = '\0';
  fclose(f);
  return proc_status(ws);
}

int main(void) {
  CHECK(mkdtemp(dir));
  owner = getpid();
  atexit(remove_dir);
  char log[128], err[8192], addr[64];
  snprintf(log, sizeof log, "%s/server.log", dir);

  /* The address is the one the server reports, and it was told port 0 (over
   * whatever FOLIO_LISTEN the caller passed). */
  const char *ok[] = {"/bin/sh", "-c",
                      "echo '{\"msg\":\"starting\"}'; [ \"$FOLIO_LISTEN\" = 127.0.0.1:0 ] && "
                      "echo '{\"level\":\"info\",\"msg\":\"listening\",\"address\":\"127.0.0.1:4242\"}'; "
                      "exec sleep 30",
                      NULL};
  const char *env[] = {"FOLIO_LISTEN=10.0.0.1:5", NULL};
  pid_t p = proc_spawn_listening(ok, env, log, SIGKILL, 20000, addr, sizeof addr);
  CHECK_EQ_STR(addr, "127.0.0.1:4242");
  CHECK(kill(p, 0) == 0); /* returned while it runs */
  proc_kill(&p);

  /* The log now holds a listening line: a new server that says nothing must
   * not be taken for listening. */
  CHECK_EQ_INT(spawn_in_child("exec sleep 30", log, 500, err, sizeof err), 1);
  CHECK_MSG(strstr(err, "logged no \"listening\" line"), "%s", err);

  /* Exits first: failure with its status and the end of its log. */
  CHECK_EQ_INT(spawn_in_child("echo 'cannot start: no database'; exit 3", log, 20000, err,
                              sizeof err),
               1);
  CHECK_MSG(strstr(err, "exited with status 3") && strstr(err, "cannot start: no database"), "%s",
            err);

  /* Never says it: killed, and the failure shows its log. */
  char script[256], pidpath[160];
  snprintf(pidpath, sizeof pidpath, "%s/quiet.pid", dir);
  snprintf(script, sizeof script, "echo $$ > '%s'; echo 'still connecting'; exec sleep 30",
           pidpath);
  CHECK_EQ_INT(spawn_in_child(script, log, 1000, err, sizeof err), 1);
  CHECK_MSG(strstr(err, "logged no \"listening\" line") && strstr(err, "still connecting"), "%s",
            err);
  FILE *f = fopen(pidpath, "r");
  int quiet = 0;
  CHECK(f && fscanf(f, "%d", &quiet) == 1 && quiet > 0);
  fclose(f);
  CHECK_MSG(kill(quiet, 0) != 0 && errno == ESRCH, "the silent server %d still runs", quiet);
  return check_done();
}
