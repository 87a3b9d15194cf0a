// For host tests that need a file system of their own: a tmpfs in a mount
// namespace of the test's own, in a child process, so that nothing is left
// mounted whatever the test does.
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <functional>
#include <string>

namespace tazpod::testing {

// Runs `body` in a child with a private mount namespace and a tmpfs of
// `size` (mount's size= option, e.g. "1m") on a fresh directory, given to
// it as (path, device). Returns the child's exit status: `body`'s return
// value, or 90 to 92 when the setup failed.
inline int OnTmpfs(const char* size, const std::function<int(const std::string& path, dev_t dev)>& body) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    char dir[] = "/tmp/tazpod-test-fs-XXXXXX";
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(90);
    const std::string options = std::string("size=") + size;
    if (mkdtemp(dir) == nullptr || mount("tazpod-test", dir, "tmpfs", 0, options.c_str()) != 0) _exit(91);
    struct stat st {};
    if (stat(dir, &st) != 0) _exit(92);
    const int code = body(dir, st.st_dev);
    umount2(dir, MNT_DETACH);
    rmdir(dir);
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace tazpod::testing
