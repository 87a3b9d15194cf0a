/* signal_sender PID COUNT FD: sends SIGUSR1 to PID (an init) COUNT times,
 * 2 ms apart, and after each one reads FD (the pipe sigwait_child writes
 * "got <ns>" lines to) until the child's stamp arrives; prints one latency
 * in ns per line: CLOCK_MONOTONIC just before kill() to the child's stamp.
 *
 * Why C and not the Python driver: the sender should do nothing between
 * kill() and blocking in read(). Python ran about 7 µs of interpreter after
 * its kill(), and whether that work fell inside the measured interval
 * depended on which task the scheduler ran first on a shared CPU, which
 * itself depended on how the init being measured slept (docs/benchmarks.md,
 * session 14). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The value of the next "got <ns>" line on fd; other lines are skipped.
 * Returns -1 at end of file or on a read error. */
static long long next_stamp(int fd) {
  static char buf[4096];
  static size_t len = 0;
  for (;;) {
    char *nl = memchr(buf, '\n', len);
    if (nl) {
      *nl = '\0';
      long long value = -1;
      int is_stamp = strncmp(buf, "got ", 4) == 0;
      if (is_stamp) value = strtoll(buf + 4, NULL, 10);
      size_t used = (size_t)(nl - buf) + 1;
      memmove(buf, nl + 1, len - used);
      len -= used;
      if (is_stamp) return value;
      continue;
    }
    if (len == sizeof buf) len = 0; /* an overlong line: drop it */
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    len += (size_t)n;
  }
}

/* A decimal number that fills the whole argument, or -1. */
static long number(const char *text) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  return (errno != 0 || end == text || *end != '\0' || value < 0) ? -1 : value;
}

int main(int argc, char **argv) {
  long pid = argc == 4 ? number(argv[1]) : -1;
  long count = argc == 4 ? number(argv[2]) : -1;
  long fd = argc == 4 ? number(argv[3]) : -1;
  if (pid <= 0 || count < 0 || fd < 0) {
    fprintf(stderr, "usage: signal_sender PID COUNT FD\n");
    return 2;
  }
  const struct timespec gap = {0, 2000000};
  for (long i = 0; i < count; ++i) {
    long long t0 = now_ns();
    if (kill((pid_t)pid, SIGUSR1) != 0) {
      perror("signal_sender: kill");
      return 1;
    }
    long long t1 = next_stamp((int)fd);
    if (t1 < 0) {
      fprintf(stderr, "signal_sender: the child's pipe ended\n");
      return 1;
    }
    printf("%lld\n", t1 - t0);
    nanosleep(&gap, NULL);
  }
  return 0;
}
