/* Small process helpers for C tests that start servers: a free loopback
 * port and running a shell command for its first output line. Include after
 * check.h. */
#ifndef FOLIO_TEST_TESTPROC_H
#define FOLIO_TEST_TESTPROC_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static inline int test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* Runs a shell command; returns its first output line without the newline
 * (a static buffer, valid until the next call; the rest of the output is
 * read and dropped) and sets *status to its exit status (-1 if killed). */
static inline const char *test_run(const char *cmd, int *status) {
  static char line[512];
  line[0] = '\0';
  FILE *p = popen(cmd, "r");
  CHECK_MSG(p, "popen %s", cmd);
  if (!fgets(line, sizeof line, p)) line[0] = '\0';
  while (fgetc(p) != EOF) {
  }
  int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  line[strcspn(line, "\n")] = '\0';
  return line;
}

#endif
