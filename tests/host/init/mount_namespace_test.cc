// The vault's private mount namespace (init/mount_namespace.h), on this
// machine's kernel: a mount made inside it is invisible outside, and the
// namespace outlives the process that created it.
#include "init/mount_namespace.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/host/drop_capability.h"

namespace {

bool MountedHere(const std::string& path) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line))
    if (line.find(" " + path + " ") != std::string::npos) return true;
  return false;
}

// Runs `body` in a child that first enters `ns`; returns its exit status.
template <typename Body>
int InChild(int ns, Body body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setns(ns, CLONE_NEWNS) != 0) _exit(90);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

}  // namespace

TEST_CASE("a mount in the private namespace is invisible outside it", "[namespace]") {
  char dir[] = "/tmp/tazpod-ns-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = dir;
  std::string error;
  tazpod::UniqueFd ns = tazpod::init::CreatePrivateMountNamespace(&error);
  INFO(error);
  REQUIRE(ns.valid());

  // Inside: mount a tmpfs, and it stays there after this child exits (the
  // descriptor keeps the namespace alive).
  CHECK(InChild(ns.get(), [&] { return mount("tmpfs", path.c_str(), "tmpfs", 0, "size=1M") == 0 ? 0 : 1; }) == 0);
  CHECK(InChild(ns.get(), [&] { return MountedHere(path) ? 0 : 1; }) == 0);
  // Outside: nothing, not even by propagation.
  CHECK_FALSE(MountedHere(path));
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK(InChild(ns.get(), [&] {
          struct stat inside;
          return stat(path.c_str(), &inside) == 0 && inside.st_dev != st.st_dev ? 0 : 1;
        }) == 0);

  CHECK(InChild(ns.get(), [&] { return umount(path.c_str()) == 0 ? 0 : 1; }) == 0);
  rmdir(dir);
}

// PID 1 is not dumpable, and Docker's default capabilities (compose.yaml's
// set) lack CAP_SYS_PTRACE: the namespace must still be made, as PID 1
// would make it there. (Opening /proc/CHILD/ns/mnt of a non-dumpable child
// would need CAP_SYS_PTRACE.)
TEST_CASE("the namespace is made by a non-dumpable process without CAP_SYS_PTRACE", "[namespace]") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!tazpod::testing::DropCapability(CAP_SYS_PTRACE)) _exit(91);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(92);
    std::string error;
    tazpod::UniqueFd ns = tazpod::init::CreatePrivateMountNamespace(&error);
    _exit(ns.valid() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
