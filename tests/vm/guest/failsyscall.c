/* failsyscall: runs a command in which one system call always fails with
 * a given error, for the vault's scenarios of what the kernel refuses
 * (a device that reports write-back errors on syncfs, say). Test-only;
 * never part of an image.
 *
 *   failsyscall NAME ERRNO COMMAND [ARG...]
 *
 * NAME is one of the calls named below; ERRNO a number (5 is EIO). A
 * seccomp filter, inherited by what COMMAND starts, with no_new_privs set:
 * it cannot be taken back. (No check of the architecture: a test filter,
 * not a security boundary.) */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
  const char *name;
  long number;
} calls[] = {
    {"syncfs", SYS_syncfs},
    {"fsync", SYS_fsync},
};

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: failsyscall NAME ERRNO COMMAND [ARG...]\n");
    return 64;
  }
  long number = -1;
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; ++i)
    if (strcmp(argv[1], calls[i].name) == 0) number = calls[i].number;
  char *end = NULL;
  const long error = strtol(argv[2], &end, 10);
  if (number < 0 || *end != '\0' || error <= 0 || error > 4095) {
    fprintf(stderr, "failsyscall: unknown call %s or bad errno %s\n", argv[1], argv[2]);
    return 64;
  }
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)error),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    perror("failsyscall: seccomp");
    return 1;
  }
  execvp(argv[3], argv + 3);
  perror("failsyscall: exec");
  return 127;
}
