// For the host cases that change their process for good (a seccomp filter
// cannot be taken back) or must own the children a supervisor stops: the
// case runs in a forked process of its own.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <exception>
#include <functional>

namespace tazpod::testing {

// Runs `body` in a child process and returns its exit status (or 128+N for
// a signal). Catch2's assertions do not reach back from there: the body
// returns the status instead (98: it threw).
inline int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception&) {
      code = 98;
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace tazpod::testing
