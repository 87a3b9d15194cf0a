// The lock's unmount while the workstation user renames the vault's mount
// point in a loop, as any ungated process of theirs may: in their mount
// namespace (the container's own) it is an ordinary directory of theirs,
// and the kernel moves the helper's mount with it. Each unmount must still
// find the mount and take it off; a failed one would leave the file system,
// and its key, in the kernel.
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdio>
#include <string>

#include "vault/mount.h"

namespace vault = tazpod::vault;

namespace {

constexpr int kCycles = 200;

// Exit statuses of the case's process.
constexpr int kAllUnmounted = 0;
constexpr int kNoSetup = 10;
constexpr int kNotFound = 11;      // FindMountOf lost the mount
constexpr int kNotUnmounted = 12;  // UnmountAt failed

// A mount namespace of this process's own, with nothing shared back.
bool PrivateMountNamespace() {
  return unshare(CLONE_NEWNS) == 0 && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

int UnmountWhileRenamed() {
  // The user's namespace: the mount point is a plain directory there.
  if (!PrivateMountNamespace()) return kNoSetup;
  char dir[] = "/tmp/tazpod-mount-XXXXXX";
  if (mkdtemp(dir) == nullptr) return kNoSetup;
  const std::string a = std::string(dir) + "/secrets";
  const std::string b = std::string(dir) + "/s";
  if (mkdir(a.c_str(), 0700) != 0) return kNoSetup;
  const pid_t renamer = fork();
  if (renamer < 0) return kNoSetup;
  if (renamer == 0) {
    for (;;) {
      (void)rename(a.c_str(), b.c_str());
      (void)rename(b.c_str(), a.c_str());
    }
  }
  // The helper's namespace, where the vault is mounted.
  int status = kAllUnmounted;
  if (!PrivateMountNamespace()) status = kNoSetup;
  for (int i = 0; i < kCycles && status == kAllUnmounted; ++i) {
    std::string at;
    while (at.empty()) {
      if (mount("tmpfs", a.c_str(), "tmpfs", 0, "size=64k") == 0) at = a;
      else if (mount("tmpfs", b.c_str(), "tmpfs", 0, "size=64k") == 0) at = b;
    }
    struct stat st {};
    while (stat(a.c_str(), &st) != 0 && stat(b.c_str(), &st) != 0) {
    }
    vault::MountLocation where = vault::FindMountOf(st.st_dev, a);
    if (!where) {
      (void)std::fprintf(stderr, "cycle %d: not found\n", i);
      status = kNotFound;
    } else if (auto error = vault::UnmountAt(where, "test")) {
      (void)std::fprintf(stderr, "cycle %d: %s\n", i, error->message.c_str());
      status = kNotUnmounted;
    }
  }
  kill(renamer, SIGKILL);
  waitpid(renamer, nullptr, 0);
  // What a failed cycle left: the mount, wherever it is.
  while (umount2(a.c_str(), MNT_DETACH) == 0 || umount2(b.c_str(), MNT_DETACH) == 0) {
  }
  rmdir(a.c_str());
  rmdir(b.c_str());
  rmdir(dir);
  return status;
}

}  // namespace

TEST_CASE("mount: an unmount finds its mount again when the user renames the mount point meanwhile") {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(UnmountWhileRenamed());
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  // 10 set-up, 11 the mount not found, 12 an unmount failed.
  CHECK(WEXITSTATUS(status) == kAllUnmounted);
}
