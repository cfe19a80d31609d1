/* Memory of other processes, read from /proc, for tests that bound a
 * server's or worker's footprint (Linux only).
 *
 *   proc_status_kb(pid, "VmHWM")  peak resident set size (KiB), -1 if gone
 *   proc_status_kb(pid, "VmRSS")  current resident set size (KiB)
 *   proc_reset_hwm(pid)           VmHWM := VmRSS (writes 5 to clear_refs),
 *                                 so the next peak is the next phase's own
 *   proc_children(ppid, out, cap) the pids whose parent is ppid
 *
 * The processes must belong to the test's user (clear_refs needs it). Include
 * after check.h. */
#ifndef FOLIO_TEST_PROCMEM_H
#define FOLIO_TEST_PROCMEM_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The value of "NAME:" in /proc/PID/status in KiB, or -1. */
static inline long proc_status_kb(pid_t pid, const char *name) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = strlen(name);
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, name, n) && line[n] == ':') kb = atol(line + n + 1);
  fclose(f);
  return kb;
}

/* Resets the peak RSS of pid; a CHECK failure when not allowed. */
static inline void proc_reset_hwm(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
  FILE *f = fopen(path, "w");
  CHECK_MSG(f, "cannot open %s", path);
  fputs("5", f);
  CHECK_MSG(fclose(f) == 0, "cannot reset the peak RSS of %d", (int)pid);
}

/* Fills out with up to cap children of ppid; returns how many were found. */
static inline size_t proc_children(pid_t ppid, pid_t *out, size_t cap) {
  DIR *d = opendir("/proc");
  CHECK(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *rp = strrchr(buf, ')'); /* the command name may hold spaces */
    int parent = 0;
    char state;
    if (!rp || sscanf(rp + 2, "%c %d", &state, &parent) != 2 || parent != ppid) continue;
    if (n < cap) out[n] = (pid_t)atoi(e->d_name);
    n++;
  }
  closedir(d);
  return n < cap ? n : cap;
}

#endif
