/* ctlpoke: sends raw bytes to a Unix socket, for vm scenarios that feed PID
 * 1's control socket malformed messages (the guest has no Python).
 * Test-only; never part of an image.
 *
 *   ctlpoke SOCKET HEX [half-close|silent|wait-for FILE]
 *
 * HEX is the bytes to send ("" for none). half-close shuts down the writing
 * side after sending; silent sends nothing and just waits; wait-for
 * connects, then sends only once FILE exists (a request that arrives after
 * something the scenario does, on a connection made before it). Reads until the
 * server closes the connection (at most 20 s) and prints what came back,
 * non-printable bytes as '.', then "closed after N ms". Exit status: 0 when
 * the server closed the connection, 1 on a local error, 2 on our timeout. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ctlpoke SOCKET HEX [half-close|silent|wait-for FILE]\n");
    return 1;
  }
  const char *mode = argc > 3 ? argv[3] : "";
  if (strcmp(mode, "wait-for") == 0 && argc < 5) {
    fprintf(stderr, "ctlpoke: wait-for needs a FILE\n");
    return 1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("ctlpoke: connect");
    return 1;
  }
  if (strcmp(mode, "wait-for") == 0) {
    while (access(argv[4], F_OK) != 0) usleep(20000);
  }
  long long start = now_ms();
  if (strcmp(mode, "silent") != 0) {
    size_t n = strlen(argv[2]) / 2;
    unsigned char *bytes = malloc(n + 1);
    if (!bytes) return 1;
    for (size_t i = 0; i < n; ++i) {
      char pair[3] = {argv[2][2 * i], argv[2][2 * i + 1], '\0'};
      char *end = NULL;
      unsigned long byte = strtoul(pair, &end, 16);
      if (*end != '\0') {
        fprintf(stderr, "ctlpoke: HEX must be pairs of hex digits\n");
        free(bytes);
        return 1;
      }
      bytes[i] = (unsigned char)byte;
    }
    if (n && write(fd, bytes, n) != (ssize_t)n) {
      perror("ctlpoke: write");
      free(bytes);
      return 1;
    }
    free(bytes);
  }
  if (strcmp(mode, "half-close") == 0) shutdown(fd, SHUT_WR);
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int left = (int)(start + 20000 - now_ms());
    if (left <= 0 || poll(&p, 1, left) == 0) {
      printf("\nstill open after 20 s\n");
      return 2;
    }
    char buf[512];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) break;
    for (ssize_t i = 0; i < r; ++i) putchar(buf[i] >= 32 && buf[i] < 127 ? buf[i] : '.');
  }
  printf("\nclosed after %lld ms\n", now_ms() - start);
  return 0;
}
