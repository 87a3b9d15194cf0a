/* sigwait_child FIFO: as the main child of an init, waits for SIGUSR1 and
 * writes the CLOCK_MONOTONIC time of each arrival as "got <ns>" to FIFO. */
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CLOEXEC) : 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  dprintf(fd, "ready\n");
  for (;;) {
    if (sigwaitinfo(&set, NULL) != SIGUSR1) continue;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    dprintf(fd, "got %lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
  }
}
