// The lock's unmount while the workstation user renames the vault's mount
// point in a loop, as any ungated process of theirs may: in their mount
// namespace (the container's own) it is an ordinary directory of theirs,
// and the kernel moves the helper's mount with it. Each unmount must still
// find the mount and take it off; a failed one would leave the file system,
// and its key, in the kernel.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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
    // Should the case's process be killed (a timeout), this must not spin on.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1) _exit(0);
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

// The mount point removed in the user's namespace between the look and the
// unmount: the kernel detaches the mount, and the unmount has nothing left
// to do here. Before, it failed with ENOENT, and the lock stopped short of
// removing the mapping.
int UnmountAfterRemoval() {
  if (!PrivateMountNamespace()) return kNoSetup;
  char dir[] = "/tmp/tazpod-mount-XXXXXX";
  if (mkdtemp(dir) == nullptr) return kNoSetup;
  const std::string a = std::string(dir) + "/secrets";
  int to_user[2];
  int to_helper[2];
  if (mkdir(a.c_str(), 0700) != 0 || pipe2(to_user, O_CLOEXEC) != 0 || pipe2(to_helper, O_CLOEXEC) != 0) return kNoSetup;
  const pid_t helper = fork();
  if (helper < 0) return kNoSetup;
  if (helper == 0) {
    if (!PrivateMountNamespace() || mount("tmpfs", a.c_str(), "tmpfs", 0, "size=64k") != 0) _exit(kNoSetup);
    struct stat st {};
    if (stat(a.c_str(), &st) != 0) _exit(kNoSetup);
    vault::MountLocation where = vault::FindMountOf(st.st_dev, a);
    if (!where) _exit(kNotFound);
    char byte = 'x';
    if (write(to_user[1], &byte, 1) != 1 || read(to_helper[0], &byte, 1) != 1) _exit(kNoSetup);
    if (auto error = vault::UnmountAt(where, "test")) {
      (void)std::fprintf(stderr, "%s\n", error->message.c_str());
      _exit(kNotUnmounted);
    }
    _exit(vault::FindMountOf(st.st_dev, a) ? kNotUnmounted : kAllUnmounted);
  }
  char byte = 0;
  int status = kNoSetup;
  if (read(to_user[0], &byte, 1) == 1 && rmdir(a.c_str()) == 0 && write(to_helper[1], &byte, 1) == 1) status = 0;
  int helper_status = 0;
  waitpid(helper, &helper_status, 0);
  rmdir(a.c_str());
  rmdir(dir);
  if (status != 0) return status;
  return WIFEXITED(helper_status) ? WEXITSTATUS(helper_status) : kNoSetup;
}

// `run` in a child process of its own (it changes its mount namespace):
// its exit status, or -1 when it did not exit.
int RunInChild(int (*run)()) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) _exit(run());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

// Exit statuses: 10 set-up, 11 the mount not found, 12 an unmount failed.

TEST_CASE("mount: an unmount whose mount point the user removed meanwhile finds nothing left to do") {
  CHECK(RunInChild(UnmountAfterRemoval) == kAllUnmounted);
}

TEST_CASE("mount: an unmount finds its mount again when the user renames the mount point meanwhile") {
  CHECK(RunInChild(UnmountWhileRenamed) == kAllUnmounted);
}
