/* inflight: holds a file only through a descriptor in flight on a Unix
 * socket (sent with SCM_RIGHTS, never received), for the vault's lock
 * scenarios. Test-only; never part of an image.
 *
 *   inflight FILE
 *
 * Opens FILE (creating it), sends that descriptor over a socketpair it
 * keeps, closes its own copy, works in "/" with stdin and stdout on
 * /dev/null, says "in flight FILE" on stderr, then sleeps until a signal
 * ends it. From then on no /proc file of it names FILE's file system, and
 * no socket of it is bound there: only the socket's queue holds the file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: inflight FILE\n");
    return 64;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
    perror("inflight: socketpair");
    return 1;
  }
  int file = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (file < 0) {
    perror("inflight: open");
    return 1;
  }
  char byte = 0;
  struct iovec data = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control.space,
                           .msg_controllen = sizeof control.space};
  struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(rights), &file, sizeof file);
  if (sendmsg(pair[0], &message, 0) != 1) {
    perror("inflight: sendmsg");
    return 1;
  }
  close(file);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (chdir("/") != 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) {
    perror("inflight: /, /dev/null");
    return 1;
  }
  close(null);
  fprintf(stderr, "in flight %s\n", argv[1]);
  for (;;) pause();
}
