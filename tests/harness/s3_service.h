/* Start/stop a throwaway Ceph RGW for a test program (scripts/services/rgw-up.sh
 * in a fresh temp dir; it picks the loopback port and retries when another
 * process binds it first, then writes it to DIR/port).
 *
 * An RGW that cannot start fails the test (exit 1), never skips it (77): ctest
 * counts a skip as not-failed, so CI would go green without having run a
 * single S3 check. A machine without Ceph must install it (scripts/deps.sh).
 *
 *   struct s3_service s;
 *   s3_service_start(&s, SCRIPTS_DIR);   // fails the test (exit 1) if it can't
 *   ... s.endpoint, s.access_key, s.secret_key ...
 *
 * Stopping is guaranteed: a guardian child process waits for the test process
 * to go away (however it ends: exit, CHECK failure, crash, SIGKILL from a ctest
 * timeout) and then runs rgw-down.sh --purge. It notices through a pipe whose
 * write end only the test holds. */
#ifndef FOLIO_TEST_S3_SERVICE_H
#define FOLIO_TEST_S3_SERVICE_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct s3_service {
  char dir[256];
  char endpoint[128];
  char access_key[64];
  char secret_key[64];
  int port;
};

/* A loopback port where a connection is refused, for as long as the test
 * keeps *hold open: a TCP socket bound to port 0 that never listens. Nothing
 * else can bind the port meanwhile (unlike a port that was free a moment ago,
 * which a parallel test may take and answer on). */
static int s3_service_refused_port(int *hold) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    perror("refused port");
    exit(1);
  }
  *hold = fd;
  return ntohs(a.sin_port);
}

static void s3_service_start(struct s3_service *s, const char *scripts_dir) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/folio-rgw.XXXXXX");
  if (!mkdtemp(s->dir)) {
    perror("mkdtemp");
    exit(1);
  }
  int guard[2];
  if (pipe2(guard, O_CLOEXEC) != 0) exit(1);
  pid_t g = fork();
  if (g == 0) { /* guardian: wait for EOF, then stop what rgw-up started */
    close(guard[1]);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    setsid(); /* outlive a process-group kill of the test */
    char c;
    while (read(guard[0], &c, 1) > 0) {
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/rgw-down.sh' '%s' --purge >/dev/null 2>&1", scripts_dir,
             s->dir);
    int rc = system(cmd);
    _exit(rc == 0 ? 0 : 1);
  }
  close(guard[0]); /* the test keeps guard[1] open until it exits */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s/rgw-up.sh' '%s' 0 > '%s/env' 2> '%s/up.log'", scripts_dir,
           s->dir, s->dir, s->dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "rgw-up.sh failed; its log:\n");
    snprintf(cmd, sizeof cmd, "tail -n 30 '%s/up.log' >&2", s->dir);
    if (system(cmd)) {
    }
    exit(1);
  }
  char path[300];
  snprintf(path, sizeof path, "%s/port", s->dir);
  FILE *f = fopen(path, "r");
  if (!f || fscanf(f, "%d", &s->port) != 1 || s->port <= 0) {
    fprintf(stderr, "rgw-up.sh succeeded but left no port in %s\n", path);
    exit(1);
  }
  fclose(f);
  snprintf(s->endpoint, sizeof s->endpoint, "http://127.0.0.1:%d", s->port);
  /* rgw-up.sh's defaults (it prints them as FOLIO_S3_* exports too) */
  snprintf(s->access_key, sizeof s->access_key, "folio-test");
  snprintf(s->secret_key, sizeof s->secret_key, "folio-test-secret-key");
  (void)guard;
}

#endif
