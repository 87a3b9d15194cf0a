/* orphans: makes N orphans for an init (or subreaper) to reap, for the vm
 * soak. Test-only; never part of an image. A bash loop would do the same,
 * but under software emulation 5,000 bash forks take minutes.
 *
 *   orphans N
 *
 * Each of N children forks a grandchild and exits at once; we reap the
 * children, so only the grandchildren are orphans. A grandchild exits only
 * after it has seen itself reparented (getppid() changed), so every one of
 * them dies as the reaper's child, never as ours. Prints "orphans N" when
 * all have been forked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  /* 1..1,000,000: a bad count must fail the scenario, never make 0 orphans. */
  char *end = NULL;
  errno = 0;
  long count = argc == 2 ? strtol(argv[1], &end, 10) : 0;
  if (argc != 2 || errno != 0 || end == argv[1] || *end != '\0' || count <= 0 || count > 1000000) {
    fprintf(stderr, "usage: orphans N\n");
    return 64;
  }
  const int n = (int)count;
  for (int i = 0; i < n; ++i) {
    pid_t child = fork();
    if (child < 0) {
      perror("orphans: fork");
      return 1;
    }
    if (child == 0) {
      pid_t parent = getpid();
      pid_t grandchild = fork();
      if (grandchild == 0) {
        while (getppid() == parent) usleep(1000);
        _exit(0);
      }
      _exit(grandchild < 0 ? 1 : 0);
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "orphans: child %d failed\n", i);
      return 1;
    }
  }
  printf("orphans %d\n", n);
  return 0;
}
