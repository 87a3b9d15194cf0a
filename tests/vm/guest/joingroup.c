/* joingroup: moves itself into its parent's process group, then runs a
 * command as the same process, for the hook scenario: a hook that leaves
 * the process group the vault helper made for it, as any hook may (it is
 * the user's program, in the helper's session). Test-only; never part of
 * an image.
 *
 *   joingroup COMMAND [ARG...] */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: joingroup COMMAND [ARG...]\n");
    return 64;
  }
  const pid_t group = getpgid(getppid());
  if (group < 0 || setpgid(0, group) != 0) {
    perror("joingroup: setpgid");
    return 1;
  }
  execvp(argv[1], argv + 1);
  perror("joingroup: exec");
  return 127;
}
