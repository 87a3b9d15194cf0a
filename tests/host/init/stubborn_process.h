// The processes the shutdown tests start for the supervisor to stop: one
// that ignores SIGTERM, and what each such process does first so that a
// failing test cannot leave it behind for long.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace tazpod::testing {

// For the processes the cases start: a test that fails must not leave one
// behind holding CTest's output open, so each keeps none of it and ends
// itself within a minute.
inline void LeaveOutputAndLimitLife() {
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, STDOUT_FILENO);
  dup2(null, STDERR_FILENO);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_UNBLOCK, &all, nullptr);
  (void)signal(SIGALRM, SIG_DFL);
  alarm(60);
}

// A child that ignores SIGTERM and waits to be killed; returns once it
// ignores it.
inline pid_t StartStubborn() {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    LeaveOutputAndLimitLife();
    (void)signal(SIGTERM, SIG_IGN);
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  (void)!read(ready[0], &byte, 1);
  close(ready[0]);
  return pid;
}

}  // namespace tazpod::testing
