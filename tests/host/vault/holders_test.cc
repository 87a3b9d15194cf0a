// The holder search and its ending (vault/holders.h) on the host: a tmpfs
// mounted in a mount namespace of the case's own stands for the vault's
// file system, and the case's own children hold it. Each case runs in a
// child process, so that its namespace and any seccomp filter stay there.
// (The vm tier runs the same code on a real vault, with agents, threads
// and namespaces: tests/vm/scenarios/vault_lock_*.)
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/host/drop_capability.h"
#include "tests/host/on_tmpfs.h"
#include "tests/host/seccomp_deny.h"
#include "vault/holders.h"

namespace vault = tazpod::vault;

namespace {

using namespace std::chrono_literals;

// Runs `body` on a tmpfs of a mount namespace of its own, given to it as
// (path, device).
int WithFileSystem(const std::function<int(const std::string& path, dev_t dev)>& body) {
  return tazpod::testing::OnTmpfs("1m", body);
}

enum class Hold { kWorkingDirectory, kOpenFile };

// Starts a child that runs `setup` (false: it fails), then waits; it ends
// with the case or within a minute, should a case fail. Returns its pid
// once set up, or -1.
pid_t StartWaiting(const std::function<bool()>& setup) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(60);
    if (!setup()) _exit(1);
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  const bool there = pid > 0 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  return there ? pid : -1;
}

// Starts a process that holds `path` (works in it, or keeps a file in it
// open and works in "/"), ignoring SIGTERM if asked.
pid_t StartHolder(const std::string& path, bool ignore_term, Hold hold = Hold::kWorkingDirectory) {
  return StartWaiting([&] {
    if (ignore_term) (void)signal(SIGTERM, SIG_IGN);
    if (hold == Hold::kOpenFile)
      return open((path + "/held").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600) >= 0 && chdir("/") == 0;
    return chdir(path.c_str()) == 0;
  });
}

// How `pid`, a child, ended: the signal that killed it, or 0.
int KilledBy(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

// The common body: a process that obeys SIGTERM and one that ignores it
// hold `path`; EndHolders must name both, end the first with SIGTERM and
// the second with SIGKILL after the grace period, and leave the file
// system free to unmount.
int EndsBothHolders(const std::string& path, dev_t dev) {
  const pid_t obedient = StartHolder(path, false);
  const pid_t stubborn = StartHolder(path, true);
  if (obedient < 0 || stubborn < 0) return 10;
  if (vault::ProcessesHolding(dev).size() != 2) return 11;
  const auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> ended = vault::EndHolders(dev, 300ms);
  const bool waited = std::chrono::steady_clock::now() - start >= 300ms;
  const bool named = ended.size() == 2 && ((ended[0] == obedient && ended[1] == stubborn) ||
                                           (ended[0] == stubborn && ended[1] == obedient));
  if (!named) return 12;
  if (!waited) return 13;
  if (KilledBy(obedient) != SIGTERM) return 14;
  if (KilledBy(stubborn) != SIGKILL) return 15;
  if (!vault::ProcessesHolding(dev).empty()) return 16;
  if (umount2(path.c_str(), 0) != 0) return 17;
  return 0;
}

}  // namespace

TEST_CASE("holders: the processes working in a file system are named, then ended: SIGTERM, grace, SIGKILL") {
  // kill(2) denied: the signals go through the pidfds the search pinned.
  CHECK(WithFileSystem([](const std::string& path, dev_t dev) {
          if (!tazpod::testing::DenySyscall(SYS_kill, EPERM)) return 21;
          return EndsBothHolders(path, dev);
        }) == 0);
}

TEST_CASE("holders: without pidfd_open (before Linux 5.3, old seccomp profiles) they are still ended, by pid") {
  CHECK(WithFileSystem([](const std::string& path, dev_t dev) {
          if (!tazpod::testing::DenyPidfdOpen(ENOSYS)) return 20;
          return EndsBothHolders(path, dev);
        }) == 0);
}

TEST_CASE("holders: without statx (a seccomp profile older than it) they are still found, by stat") {
  CHECK(WithFileSystem([](const std::string& path, dev_t dev) {
          if (!tazpod::testing::DenySyscall(SYS_statx, EPERM)) return 20;
          return EndsBothHolders(path, dev);
        }) == 0);
}

// Starts a process that holds nothing (works in "/"), in a copy of the
// case's mount namespace when `copy`.
pid_t StartBystander(bool copy) {
  return StartWaiting([copy] { return (!copy || unshare(CLONE_NEWNS) == 0) && chdir("/") == 0; });
}

// With `sharing` in the caller's mount namespace and a process started
// in a copy of it: only the copy's process counts as mounting, and only it
// is ended (SIGTERM); `sharing` is left, then killed here. 0 when so.
int OnlyTheCopyIsEnded(dev_t dev, pid_t sharing) {
  const pid_t copied = StartBystander(true);
  if (sharing < 0 || copied < 0) return 10;
  const std::vector<pid_t> mounting = vault::ProcessesMounting(dev);
  if (mounting != std::vector<pid_t>{copied}) return 11;
  const std::vector<pid_t> ended = vault::EndHoldersAndMountCopies(dev, 300ms);
  if (ended != std::vector<pid_t>{copied}) return 12;
  if (KilledBy(copied) != SIGTERM) return 13;
  if (kill(sharing, 0) != 0) return 14;  // still there
  kill(sharing, SIGKILL);
  KilledBy(sharing);
  return 0;
}

// A copy of the mount namespace (unshare -m while the vault is mounted)
// keeps the vault mounted after its unmount: its processes are ended. A
// process in the caller's own namespace shares the mount the caller
// unmounts: ending it frees nothing, and in the container's namespace
// (private_mount_namespace = false) it would be PID 1, the main child.
TEST_CASE("holders: only a copy of the mount namespace counts as mounting, not the caller's own") {
  CHECK(WithFileSystem([](const std::string&, dev_t dev) { return OnlyTheCopyIsEnded(dev, StartBystander(false)); }) ==
        0);
}

// Without CAP_SYS_PTRACE (Docker's default set), root may not read the
// mount namespace of a process that is not dumpable (ssh-agent, gpg-agent
// make themselves so): such a process sharing the caller's namespace is
// still not taken for a copy, and is not ended.
TEST_CASE("holders: without CAP_SYS_PTRACE, a non-dumpable process in the caller's namespace is no copy") {
  CHECK(WithFileSystem([](const std::string&, dev_t dev) {
          const pid_t sharing =
              StartWaiting([] { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 && chdir("/") == 0; });
          if (!tazpod::testing::DropCapability(CAP_SYS_PTRACE)) return 20;
          return OnlyTheCopyIsEnded(dev, sharing);
        }) == 0);
}

TEST_CASE("holders: a process outside the file system is neither named nor ended") {
  CHECK(WithFileSystem([](const std::string& path, dev_t dev) {
          const pid_t outside = StartHolder("/", false);
          if (outside < 0) return 30;
          // Named by neither, so signalled by no one.
          const bool named = !vault::ProcessesHolding(dev).empty() || !vault::EndHolders(dev, 100ms).empty();
          kill(outside, SIGKILL);
          KilledBy(outside);
          if (named) return 31;
          return umount2(path.c_str(), 0) == 0 ? 0 : 33;
        }) == 0);
}

TEST_CASE("holders: with few descriptors, each of many stubborn holders is still found and killed") {
  // More holders than descriptors: pinning them all would leave the search
  // none to read /proc with. Past its reserve it signals by pid.
  CHECK(WithFileSystem([](const std::string& path, dev_t dev) {
          constexpr int kHolders = 150;
          struct rlimit limit {};
          if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 40;
          limit.rlim_cur = 128;
          if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 41;
          std::vector<pid_t> holders;
          for (int i = 0; i < kHolders; ++i) {
            const pid_t pid = StartHolder(path, true, Hold::kOpenFile);
            if (pid < 0) return 42;
            holders.push_back(pid);
          }
          const std::vector<pid_t> ended = vault::EndHolders(dev, 200ms);
          if (ended.size() != holders.size()) return 43;
          for (pid_t pid : holders) {
            if (KilledBy(pid) != SIGKILL) return 44;
          }
          return umount2(path.c_str(), 0) == 0 ? 0 : 45;
        }) == 0);
}

TEST_CASE("holders: a process's name is escaped in the description a lock's error carries") {
  // A user's process chooses its own name (PR_SET_NAME, up to 15 bytes);
  // the lock's error shows it to root's terminal (`tazpod vault status`).
  const pid_t named = StartWaiting([] { return prctl(PR_SET_NAME, "\x1b[2J\r\x7fx") == 0; });
  REQUIRE(named > 0);
  const std::string description = vault::DescribeProcess(named);
  kill(named, SIGKILL);
  KilledBy(named);
  CHECK(description == "pid " + std::to_string(named) + " (\\x1b[2J\\x0d\\x7fx)");
}
