/* stamp FIFO: writes CLOCK_MONOTONIC in ns as "t1 <ns>" to FIFO and exits; built
 * static, so its first instruction runs right after the kernel's exec. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CLOEXEC) : 1;
  dprintf(fd, "t1 %lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
  return 0;
}
