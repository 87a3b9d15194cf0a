/* zombies: as the main child of an init, makes N zombies that all become
 * init's at the same instant, and measures how long init takes to reap them.
 *
 *   zombies N FIFO
 *
 * A helper forks N children that exit at once and are never waited for, so
 * they stand as zombies; when the helper exits they are all reparented to
 * init. We then watch (kill(pid, 0)) until every one is gone, and print
 * "drain_ns <ns>" to FIFO. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  char *end = NULL;
  long n = argc > 1 ? strtol(argv[1], &end, 10) : 1000;
  if (argc > 1 && (*end != '\0' || n < 1 || n > 1000000)) {
    fprintf(stderr, "zombies: N must be 1..1000000\n");
    return 2;
  }
  int fd = argc > 2 ? open(argv[2], O_WRONLY | O_CLOEXEC) : 1;
  pid_t *pids = calloc((size_t)n, sizeof *pids);
  int to_parent[2];
  if (!pids) return 1;
  if (pipe2(to_parent, O_CLOEXEC) != 0) {
    free(pids);
    return 1;
  }

  pid_t helper = fork();
  if (helper == 0) {
    for (long i = 0; i < n; ++i) {
      pid_t c = fork();
      if (c == 0) _exit(0);
      pids[i] = c;
    }
    /* Let every child become a zombie before reporting. */
    for (long i = 0; i < n; ++i) {
      siginfo_t si;
      waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT);
    }
    if (write(to_parent[1], pids, sizeof *pids * (size_t)n) < 0) _exit(1);
    pause(); /* until killed: then the zombies go to init all at once */
    _exit(0);
  }
  close(to_parent[1]);
  size_t got = 0, want = sizeof *pids * (size_t)n;
  while (got < want) {
    ssize_t r = read(to_parent[0], (char *)pids + got, want - got);
    if (r <= 0) {
      free(pids);
      return 1;
    }
    got += (size_t)r;
  }
  long long t0 = now_ns();
  kill(helper, SIGKILL);
  waitpid(helper, NULL, 0);
  long left = n;
  while (left > 0) {
    left = 0;
    for (long i = 0; i < n; ++i) {
      if (pids[i] && kill(pids[i], 0) != 0 && errno == ESRCH) pids[i] = 0;
      if (pids[i]) ++left;
    }
  }
  dprintf(fd, "drain_ns %lld\n", now_ns() - t0);
  free(pids);
  return 0;
}
