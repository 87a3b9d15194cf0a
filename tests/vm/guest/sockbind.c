/* sockbind: binds a listening Unix socket to a path and keeps it, the way
 * an agent does (gpg-agent's S.gpg-agent, ssh-agent -a PATH), for the vault
 * holder scenarios. Test-only; never part of an image.
 *
 *   sockbind PATH
 *
 * After the bind it works in "/" and keeps no other descriptor on PATH's
 * file system (stdin and stdout become /dev/null), so the socket is the
 * only thing that holds it. Prints "bound PATH" on stderr, then sleeps
 * until a signal ends it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (argc != 2 || strlen(argv[1]) >= sizeof address.sun_path) {
    fprintf(stderr, "usage: sockbind PATH (shorter than %zu bytes)\n", sizeof address.sun_path);
    return 64;
  }
  memcpy(address.sun_path, argv[1], strlen(argv[1]) + 1);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&address, sizeof address) != 0 || listen(s, 1) != 0) {
    perror("sockbind");
    return 1;
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (chdir("/") != 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) {
    perror("sockbind: /, /dev/null");
    return 1;
  }
  close(null);
  fprintf(stderr, "bound %s\n", argv[1]);
  for (;;) pause();
}
