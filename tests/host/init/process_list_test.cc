// Which processes the shutdown stops when init is not PID 1: its
// descendants, read from the real /proc, and nothing else. IsDescendant is
// the check a pid listed a moment ago gets again once it is pinned by a
// pidfd, so that a pid freed and given to another process is left alone.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <vector>

#include "init/process_list.h"

using tazpod::init::IsDescendant;
using tazpod::init::ProcessesToStop;

namespace {

bool Contains(const std::vector<pid_t>& pids, pid_t pid) { return std::find(pids.begin(), pids.end(), pid) != pids.end(); }

// A child in a process group of its own, which has started a grandchild;
// both wait to be killed (and end themselves within a minute).
struct Family {
  pid_t child = -1;
  pid_t grandchild = -1;

  Family() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      setpgid(0, 0);
      alarm(60);
      pid_t grandchild_pid = fork();
      if (grandchild_pid == 0) {
        for (;;) pause();
      }
      if (write(fds[1], &grandchild_pid, sizeof grandchild_pid) != sizeof grandchild_pid) _exit(1);
      for (;;) pause();
    }
    close(fds[1]);
    REQUIRE(read(fds[0], &grandchild, sizeof grandchild) == sizeof grandchild);
    close(fds[0]);
    REQUIRE(grandchild > 0);
  }
  ~Family() {
    kill(-child, SIGKILL);
    kill(grandchild, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;
};

}  // namespace

TEST_CASE("process list: a child and a grandchild are descendants, nothing above or beside them is") {
  Family family;
  const pid_t self = getpid();
  CHECK(IsDescendant(family.child, self));
  CHECK(IsDescendant(family.grandchild, self));
  CHECK(IsDescendant(family.grandchild, family.child));
  CHECK_FALSE(IsDescendant(self, self));
  CHECK_FALSE(IsDescendant(getppid(), self));
  CHECK_FALSE(IsDescendant(family.child, family.grandchild));
  CHECK_FALSE(IsDescendant(1, self));

  auto listed = ProcessesToStop(self, /*is_pid1=*/false);
  REQUIRE(listed.has_value());
  CHECK(Contains(*listed, family.child));
  CHECK(Contains(*listed, family.grandchild));
  CHECK_FALSE(Contains(*listed, self));
  CHECK_FALSE(Contains(*listed, getppid()));
}

TEST_CASE("process list: a pid that is gone is no descendant") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(0);
  REQUIRE(waitpid(pid, nullptr, 0) == pid);
  // Reaped: the pid is free (or another process's, which is none of ours).
  CHECK_FALSE(IsDescendant(pid, getpid()));
}
