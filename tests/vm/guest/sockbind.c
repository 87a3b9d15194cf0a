/* sockbind: binds a listening Unix socket to a path and keeps it, the way
 * an agent does (gpg-agent's S.gpg-agent, ssh-agent -a PATH), for the vault
 * holder scenarios. Test-only; never part of an image.
 *
 *   sockbind [--not-dumpable] PATH
 *
 * --not-dumpable makes it not dumpable first, as ssh-agent makes itself:
 * then only CAP_SYS_PTRACE may look into its /proc/PID/fd.
 *
 * After the bind it works in "/" and keeps no other descriptor on PATH's
 * file system (stdin and stdout become /dev/null), so the socket is the
 * only thing that holds it. Prints "bound PATH" on stderr, then sleeps
 * until a signal ends it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  int not_dumpable = argc == 3 && strcmp(argv[1], "--not-dumpable") == 0;
  const char *path = argv[argc - 1];
  if (argc != 2 + not_dumpable || strlen(path) >= sizeof address.sun_path) {
    fprintf(stderr, "usage: sockbind [--not-dumpable] PATH (shorter than %zu bytes)\n", sizeof address.sun_path);
    return 64;
  }
  if (not_dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    perror("sockbind: prctl(PR_SET_DUMPABLE)");
    return 1;
  }
  memcpy(address.sun_path, path, strlen(path) + 1);
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
  fprintf(stderr, "bound %s\n", path);
  for (;;) pause();
}
