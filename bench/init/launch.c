/* launch: starts an init as PID 1 of a fresh PID and mount namespace with its
 * own /proc, the way a container runtime would, and reports when it exec'd it.
 *
 *   launch STAMP_FIFO INIT [ARGS...]
 *
 * Writes "pid <host pid of init>" and, just before exec, the CLOCK_MONOTONIC
 * time in ns as "t0 <ns>" to STAMP_FIFO (a path: an init may close inherited
 * descriptors, as tazpod does); then waits for init and exits with
 * its status. The same for every init measured, so its cost cancels out. */
#define _GNU_SOURCE
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: launch STAMP_FIFO INIT [ARGS...]\n");
    return 2;
  }
  int stamp_fd = open(argv[1], O_WRONLY | O_CLOEXEC);
  if (stamp_fd < 0) {
    perror("launch: open");
    return 1;
  }
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
    perror("launch: unshare");
    return 1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("launch: fork");
    return 1;
  }
  if (pid == 0) {
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
      perror("launch: mount /proc");
      _exit(1);
    }
    dprintf(stamp_fd, "t0 %lld\n", now_ns());
    execvp(argv[2], argv + 2);
    perror("launch: exec");
    _exit(127);
  }
  dprintf(stamp_fd, "pid %d\n", (int)pid);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
