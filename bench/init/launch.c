/* launch: starts an init as PID 1 of a fresh PID and mount namespace with its
 * own /proc, the way a container runtime would, and reports when it exec'd it.
 *
 *   launch [--cgroup PROCS_FILE] STAMP_FIFO INIT [ARGS...]
 *
 * With --cgroup, launch first moves itself into the cgroup whose cgroup.procs
 * is PROCS_FILE, so the init and all it starts run there, as in a container.
 * It matters for the scheduler: in the root cgroup the kernel's autogroup
 * gives each session a task group of its own, so an init whose child calls
 * setsid() (dumb-init's default) gets a placement no container gets
 * (docs/benchmarks.md, session 19).
 *
 * Writes "pid <host pid of init>" to STAMP_FIFO (a path: an init may close
 * inherited descriptors, as tazpod does), waits for init, then writes the
 * CLOCK_MONOTONIC time in ns taken just before exec as "t0 <ns>" and exits
 * with init's status. The time is kept in shared memory until then, not
 * written when taken: that write would wake the bench's driver inside the
 * interval it measures (on one CPU, the driver could run there). The same
 * for every init measured. */
#define _GNU_SOURCE
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int join_cgroup(const char *procs_file) {
  int fd = open(procs_file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("launch: open cgroup.procs");
    return -1;
  }
  int ok = dprintf(fd, "%d\n", (int)getpid()) > 0;
  if (!ok) perror("launch: join cgroup");
  close(fd);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "--cgroup") == 0) {
    if (join_cgroup(argv[2]) != 0) return 1;
    argv += 2;
    argc -= 2;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: launch [--cgroup PROCS_FILE] STAMP_FIFO INIT [ARGS...]\n");
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
  long long *t0 = mmap(NULL, sizeof *t0, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (t0 == MAP_FAILED) {
    perror("launch: mmap");
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
    *t0 = now_ns();
    execvp(argv[2], argv + 2);
    perror("launch: exec");
    _exit(127);
  }
  dprintf(stamp_fd, "pid %d\n", (int)pid);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (*t0 != 0) dprintf(stamp_fd, "t0 %lld\n", *t0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
