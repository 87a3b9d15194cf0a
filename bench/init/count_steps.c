/* count_steps: how many instructions a program runs from its exec to its
 * first fork, per mapped object (the program, ld.so, libc...). For an init,
 * that is everything between its exec and the start of its main child.
 *
 *   count_steps PROGRAM [ARGS...]
 *
 * Single-steps PROGRAM under ptrace and stops at its first clone, clone3,
 * fork or vfork system call, then prints one line per object,
 * "<instructions> <path>", and the total. An exact count where a timing is
 * noisy (docs/benchmarks.md); it says nothing of page faults or cache
 * misses. x86-64 only. Takes about a second per 300,000 instructions. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__)
int main(void) {
  fprintf(stderr, "count_steps: x86-64 only\n");
  return 2;
}
#else

struct steps {
  unsigned long long *rips;
  size_t count, capacity;
};

static int record(struct steps *s, unsigned long long rip) {
  if (s->count == s->capacity) {
    size_t capacity = s->capacity ? s->capacity * 2 : 1 << 16;
    unsigned long long *rips = realloc(s->rips, capacity * sizeof *rips);
    if (!rips) return -1;
    s->rips = rips;
    s->capacity = capacity;
  }
  s->rips[s->count++] = rip;
  return 0;
}

/* True when the instruction at regs->rip is `syscall` making a new process. */
static int at_fork(pid_t pid, const struct user_regs_struct *regs) {
  errno = 0;
  // NOLINTNEXTLINE(performance-no-int-to-ptr): ptrace takes the address to read as a pointer
  long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)regs->rip, NULL);
  if (errno != 0 || (word & 0xffff) != 0x050f) return 0;
  return regs->rax == SYS_clone || regs->rax == SYS_clone3 || regs->rax == SYS_fork ||
         regs->rax == SYS_vfork;
}

/* Counts the steps that fall in each mapping of /proc/PID/maps, by path. */
static int report(pid_t pid, const struct steps *s) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *maps = fopen(path, "re");
  if (!maps) {
    perror("count_steps: /proc/PID/maps");
    return -1;
  }
  enum { kMaxObjects = 64 };
  char names[kMaxObjects][256];
  unsigned long long low[kMaxObjects], high[kMaxObjects], counted[kMaxObjects] = {0};
  int objects = 0;
  char line[512];
  while (objects < kMaxObjects && fgets(line, sizeof line, maps)) {
    /* "low-high perms offset dev inode   path" */
    char *end;
    low[objects] = strtoull(line, &end, 16);
    if (*end != '-') continue;
    high[objects] = strtoull(end + 1, &end, 16);
    const char *name = strpbrk(end, "/[");
    snprintf(names[objects], sizeof names[objects], "%.*s", name ? (int)strcspn(name, "\n") : 11,
             name ? name : "[anonymous]");
    ++objects;
  }
  (void)fclose(maps); /* read only: nothing to lose */
  unsigned long long elsewhere = 0;
  for (size_t i = 0; i < s->count; ++i) {
    int found = 0;
    for (int o = 0; o < objects && !found; ++o)
      if (s->rips[i] >= low[o] && s->rips[i] < high[o]) {
        counted[o] += 1;
        found = 1;
      }
    if (!found) ++elsewhere;
  }
  /* One line per path: an object has several mappings. */
  for (int o = 0; o < objects; ++o) {
    if (!counted[o]) continue;
    for (int p = o + 1; p < objects; ++p)
      if (strcmp(names[p], names[o]) == 0) {
        counted[o] += counted[p];
        counted[p] = 0;
      }
    printf("%llu %s\n", counted[o], names[o]);
  }
  if (elsewhere) printf("%llu [unmapped by then]\n", elsewhere);
  printf("%zu total\n", s->count);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: count_steps PROGRAM [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("count_steps: fork");
    return 1;
  }
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0 || raise(SIGSTOP) != 0) _exit(127);
    execvp(argv[1], argv + 1);
    perror("count_steps: exec");
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
      // NOLINTNEXTLINE(performance-no-int-to-ptr): ptrace takes the options in its pointer argument
      ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0 ||
      ptrace(PTRACE_CONT, pid, NULL, NULL) != 0 || waitpid(pid, &status, 0) != pid ||
      status >> 8 != (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
    fprintf(stderr, "count_steps: %s did not reach its exec under ptrace\n", argv[1]);
    kill(pid, SIGKILL);
    return 1;
  }
  struct steps steps = {0};
  int rc = 0;
  int pass_on = 0; /* a signal the program got while stepping: delivered on the next step */
  for (;;) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0) {
      perror("count_steps: PTRACE_GETREGS");
      rc = 1;
      break;
    }
    if (at_fork(pid, &regs)) break;
    /* After a signal stop the instruction at rip has not run yet. */
    if (!pass_on && record(&steps, regs.rip) != 0) {
      fprintf(stderr, "count_steps: out of memory\n");
      rc = 1;
      break;
    }
    // NOLINTNEXTLINE(performance-no-int-to-ptr): ptrace takes the signal to deliver in its pointer argument
    if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)pass_on) != 0 || waitpid(pid, &status, 0) != pid) {
      perror("count_steps: single step");
      rc = 1;
      break;
    }
    if (!WIFSTOPPED(status)) {
      fprintf(stderr, "count_steps: %s ended before it forked\n", argv[1]);
      rc = 1;
      break;
    }
    pass_on = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
  }
  if (rc == 0 && report(pid, &steps) != 0) rc = 1;
  free(steps.rips);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return rc;
}
#endif
