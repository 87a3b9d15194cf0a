/* ptydrive: types into a program on a real PTY, for vm scenarios (the guest
 * has no Python). Test-only; never part of an image.
 *
 *   ptydrive SCRIPT -- COMMAND [ARGS...]
 *
 * COMMAND runs as the session leader of a new PTY (its controlling terminal,
 * as with `docker exec -it`). SCRIPT has one step per line:
 *   expect TEXT    wait until the output since the last match contains TEXT
 *   send TEXT      type TEXT; \r \n \t \\ and \xHH escapes
 *   sleep MS
 *   timeout S      the time limit of later expects (default: DRIVE_TIMEOUT
 *                  from the environment, else 60; the e2e tier sets it)
 *   hangup         close the terminal (the program sees a hangup)
 *   wait           wait for COMMAND to exit
 *   mark PATH      write COMMAND's pid to PATH (created whole, by rename):
 *                  tells the scenario that the steps before it are done
 *   await PATH     wait (reading output) until PATH exists: the scenario
 *                  says when to go on, e.g. after inspecting COMMAND
 * The whole transcript goes to stderr at the end. Exit status: COMMAND's
 * (128+N if killed by signal N) after `wait`, 0 without `wait`, 99 when an
 * expect or await timed out, 98 when a mark could not be written, 64 for a
 * bad SCRIPT (a number that is not one, an unknown step, an expect with no
 * text: each would drop a check unseen). Empty lines are skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char transcript[1 << 20];
static size_t transcript_len, matched_upto;
static int master = -1;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads what is there (waiting up to `ms`); returns 0 at end of output. */
static int pump(int ms) {
  if (master < 0) return 0;
  struct pollfd p = {master, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return 1;
  char buf[4096];
  ssize_t n = read(master, buf, sizeof buf);
  if (n <= 0) return 0; /* EIO: the other side closed */
  if (transcript_len + (size_t)n < sizeof transcript - 1) {
    memcpy(transcript + transcript_len, buf, (size_t)n);
    transcript_len += (size_t)n;
    transcript[transcript_len] = '\0';
  }
  return 1;
}

static size_t unescape(const char *in, char *out) {
  size_t n = 0;
  for (; *in; ++in) {
    if (*in != '\\' || !in[1]) { out[n++] = *in; continue; }
    ++in;
    if (*in == 'r') out[n++] = '\r';
    else if (*in == 'n') out[n++] = '\n';
    else if (*in == 't') out[n++] = '\t';
    else if (*in == 'x' && in[1] && in[2]) {
      char hex[3] = {in[1], in[2], 0};
      out[n++] = (char)strtol(hex, NULL, 16);
      in += 2;
    } else out[n++] = *in;
  }
  return n;
}

/* A whole number from 0 to `max`, or -1: a typo in a script must fail the
 * scenario, not become 0 as with atoi. */
static long number(const char *text, long max) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > max) return -1;
  return value;
}

static void dump(void) {
  fprintf(stderr, "---- ptydrive transcript ----\n%s\n---- end ----\n", transcript);
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: ptydrive SCRIPT -- COMMAND [ARGS...]\n");
    return 64;
  }
  int timeout_s = 60, status = 0, waited = 0;
  const char *default_timeout = getenv("DRIVE_TIMEOUT");
  if (default_timeout && *default_timeout) {
    long s = number(default_timeout, 24L * 3600);
    if (s < 0) {
      fprintf(stderr, "ptydrive: bad DRIVE_TIMEOUT \"%s\"\n", default_timeout);
      return 64;
    }
    timeout_s = (int)s;
  }
  FILE *script = fopen(argv[1], "re");
  if (!script) { perror("ptydrive: script"); return 64; }
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  if (pid < 0) { perror("ptydrive: forkpty"); return 1; }
  if (pid == 0) {
    /* As `docker exec` starts a process: every signal at its default. A
     * script's background job (`ptydrive ... &`) has SIGINT and SIGQUIT
     * ignored, and a Ctrl+C typed here must reach COMMAND as a user's would. */
    (void)signal(SIGINT, SIG_DFL); /* cannot fail for these */
    (void)signal(SIGQUIT, SIG_DFL);
    execvp(argv[3], argv + 3);
    _exit(127);
  }
  char line[4096], text[4096];
  while (fgets(line, sizeof line, script)) {
    line[strcspn(line, "\n")] = '\0';
    char *arg = strchr(line, ' ');
    if (arg) *arg++ = '\0'; else arg = line + strlen(line);
    if (line[0] == '\0' && *arg == '\0') continue; /* an empty line */
    if (!strcmp(line, "expect")) {
      if (*arg == '\0') { /* would match anything: a check lost */
        fprintf(stderr, "ptydrive: expect with no text\n");
        kill(pid, SIGKILL);
        return 64;
      }
      long long deadline = now_ms() + timeout_s * 1000LL;
      char *hit;
      while (!(hit = strstr(transcript + matched_upto, arg))) {
        if (now_ms() > deadline || !pump(100)) {
          if ((hit = strstr(transcript + matched_upto, arg))) break;
          fprintf(stderr, "ptydrive: expected \"%s\", not seen\n", arg);
          dump();
          kill(pid, SIGKILL);
          return 99;
        }
      }
      matched_upto = (size_t)(hit - transcript) + strlen(arg);
    } else if (!strcmp(line, "send")) {
      size_t n = unescape(arg, text);
      if (write(master, text, n) != (ssize_t)n) perror("ptydrive: write");
    } else if (!strcmp(line, "sleep")) {
      long ms = number(arg, 24L * 3600 * 1000);
      if (ms < 0) {
        fprintf(stderr, "ptydrive: bad sleep \"%s\"\n", arg);
        kill(pid, SIGKILL);
        return 64;
      }
      long long until = now_ms() + ms;
      while (now_ms() < until) pump((int)(until - now_ms()));
    } else if (!strcmp(line, "timeout")) {
      long s = number(arg, 24L * 3600);
      if (s < 0) {
        fprintf(stderr, "ptydrive: bad timeout \"%s\"\n", arg);
        kill(pid, SIGKILL);
        return 64;
      }
      timeout_s = (int)s;
    } else if (!strcmp(line, "mark")) {
      char tmp[4200];
      snprintf(tmp, sizeof tmp, "%s.tmp", arg);
      FILE *f = fopen(tmp, "we");
      if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0 || rename(tmp, arg) != 0) {
        perror("ptydrive: mark");
        kill(pid, SIGKILL);
        return 98;
      }
    } else if (!strcmp(line, "await")) {
      long long deadline = now_ms() + timeout_s * 1000LL;
      while (access(arg, F_OK) != 0) {
        if (now_ms() > deadline) {
          fprintf(stderr, "ptydrive: %s did not appear\n", arg);
          dump();
          kill(pid, SIGKILL);
          return 99;
        }
        if (!pump(100)) usleep(50000);
      }
    } else if (!strcmp(line, "hangup")) {
      close(master);
      master = -1;
    } else if (!strcmp(line, "wait")) {
      long long deadline = now_ms() + timeout_s * 1000LL;
      while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
          fprintf(stderr, "ptydrive: the program did not exit\n");
          dump();
          kill(pid, SIGKILL);
          return 99;
        }
        if (!pump(100)) usleep(50000);
      }
      while (pump(50)) {
      }
      waited = 1;
    } else {
      /* A misspelt or indented step would otherwise drop its check unseen. */
      fprintf(stderr, "ptydrive: unknown step \"%s\"\n", line);
      kill(pid, SIGKILL);
      return 64;
    }
  }
  dump();
  if (!waited) return 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
