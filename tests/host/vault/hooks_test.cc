// Hooks (vault/hooks.h) on the host, as root: their output reaches the
// caller's stderr while they run, each line marked as the hook's, and a child a hook leaves running does
// not keep that stderr (PID 1's log, through the helper) for itself. Each
// case runs RunHooks in a child process whose stderr is a pipe read here.
// (The vm tier runs hooks in a real vault: tests/vm/scenarios/vault_hooks_*.)
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vault/hooks.h"

namespace vault = tazpod::vault;
using namespace std::chrono_literals;

namespace {

// Everything read from `fd` until its end, or until `limit` passes: then
// `*ended` is false.
std::string ReadUntilEnd(int fd, std::chrono::milliseconds limit, bool* ended) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  *ended = false;
  while (std::chrono::steady_clock::now() < deadline) {
    struct pollfd ready = {fd, POLLIN, 0};
    if (poll(&ready, 1, 50) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) {
      *ended = true;
      break;
    }
    if (n > 0) text.append(chunk, static_cast<size_t>(n));
  }
  return text;
}

// A directory of its own for a test's hook, open to the hook's user,
// removed with it.
struct HookDir {
  HookDir() {
    REQUIRE(mkdtemp(path) != nullptr);
    REQUIRE(chmod(path, 0777) == 0);
  }
  ~HookDir() { std::filesystem::remove_all(path); }
  HookDir(const HookDir&) = delete;
  HookDir& operator=(const HookDir&) = delete;
  std::string File(const char* name) const { return std::string(path) + "/" + name; }
  char path[32] = "/tmp/tazpod-hooks-XXXXXX";
};

// How RunHooks went in a child process, with `hook` run as nobody.
struct HooksRun {
  int status = -1;    // the child's: exit 0 when no hook failed
  std::string text;   // what reached its stderr, failures included
  bool ended = false; // whether that stderr ended within 3 s of the child's exit
};

// Runs `hook` through RunHooks, with `timeout`, in a child process whose
// stderr is a pipe read here; `prepare` runs in the child first, `beside`
// here (given the child) before the child is waited for.
HooksRun RunHookAsNobody(const std::string& hook, const HookDir& dir, const std::function<void()>& prepare = {},
                         std::chrono::milliseconds timeout = 10s,
                         const std::function<void(pid_t)>& beside = {}) {
  const struct passwd* nobody = getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  const vault::HookUser user{nobody->pw_uid, nobody->pw_gid, "nobody", "/"};
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t caller = fork();
  REQUIRE(caller >= 0);
  if (caller == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (prepare) prepare();
    const std::vector<std::string> failures = vault::RunHooks({hook}, "unlock", user, dir.path, timeout);
    for (const std::string& failure : failures) (void)!write(STDERR_FILENO, failure.data(), failure.size());
    _exit(failures.empty() ? 0 : 1);
  }
  close(fds[1]);
  if (beside) beside(caller);
  HooksRun run;
  REQUIRE(waitpid(caller, &run.status, 0) == caller);
  // The caller is gone: only what a hook left running could still hold
  // the pipe.
  run.text = ReadUntilEnd(fds[0], 3s, &run.ended);
  close(fds[0]);
  return run;
}

}  // namespace

TEST_CASE("hooks: output reaches the caller's stderr, and a child left running does not keep it") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  HookDir dir;
  const std::string hook = dir.File("hook");
  const std::string pid_file = dir.File("writer.pid");
  // Starts a child in a session of its own that writes a line each 10 ms
  // for a minute, then says so on stdout and on stderr, and exits 0.
  std::ofstream(hook) << "#!/bin/sh\n"
                      << "setsid sh -c 'echo $$ > " << pid_file
                      << "; while :; do echo left-running; sleep 0.01; done' &\n"
                      << "while [ ! -s " << pid_file << " ]; do sleep 0.01; done\n"
                      << "echo hook-stdout\n"
                      << "echo hook-stderr >&2\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);

  const HooksRun run = RunHookAsNobody(hook, dir);
  std::string writer;
  std::getline(std::ifstream(pid_file), writer);
  if (!writer.empty()) kill(std::stoi(writer), SIGKILL);

  INFO(run.text);
  CHECK(WIFEXITED(run.status));
  CHECK(WEXITSTATUS(run.status) == 0);
  // Each line the hook or its child wrote is the hook's: prefixed, never
  // passed on bare (vault/hook_output.h).
  const std::string prefix = "tazpod-vault-helper: hook " + hook + ": ";
  CHECK(run.text.find(prefix + "hook-stdout\n") != std::string::npos);
  CHECK(run.text.find(prefix + "hook-stderr\n") != std::string::npos);
  std::istringstream lines(run.text);
  for (std::string line; std::getline(lines, line);) CHECK(line.rfind(prefix, 0) == 0);
  // The child the hook left running does not hold the caller's stderr.
  CHECK(run.ended);
}

// Out of descriptors for the hook's pipe, the hook still runs, its output
// discarded rather than written bare into the caller's stderr, and that is
// said.
TEST_CASE("hooks: without a pipe for its output, the hook runs and its output is discarded, not passed on bare") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  HookDir dir;
  const std::string hook = dir.File("hook");
  const std::string ran = dir.File("ran");
  // Perl, not sh: dash and bash move the script's descriptor above 9,
  // which the descriptor limit below refuses.
  std::ofstream(hook) << "#!/usr/bin/perl\nprint \"bare-output\\n\";\nprint STDERR \"bare-error\\n\";\n"
                      << "open(my $f, '>', '" << ran << "') or exit 5;\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);

  const HooksRun run = RunHookAsNobody(hook, dir, [] {
    // One descriptor left free: enough for the hook's /dev/null, not for a
    // pipe. (Every number below the lowest free one is in use; none above
    // it is counted on.)
    const int lowest_free = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    close(lowest_free);
    for (int fd = lowest_free + 1; fd < 1024; ++fd) close(fd);
    const struct rlimit one_free = {static_cast<rlim_t>(lowest_free + 1), static_cast<rlim_t>(lowest_free + 1)};
    if (setrlimit(RLIMIT_NOFILE, &one_free) != 0) _exit(3);
  });

  INFO(run.text);
  CHECK(WIFEXITED(run.status));
  CHECK(WEXITSTATUS(run.status) == 0);
  CHECK(std::filesystem::exists(ran));
  CHECK(run.text.find("tazpod-vault-helper: hook output discarded: " + hook + ": pipe: ") != std::string::npos);
  CHECK(run.text.find("bare-") == std::string::npos);
  CHECK(run.ended);
}

// A hook that another process traces when its time is up: killed, it is
// dead, but a dead tracee shows to its tracer first, and the caller's wait
// for it would last as long as the tracer chose (the user's process that
// attached, up to PID 1's operation timeout). The caller waits a moment,
// then reports the hook and goes on. The tracer here is the test.
TEST_CASE("hooks: a hook traced by another process when its time is up does not hold the caller") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  HookDir dir;
  const std::string hook = dir.File("hook");
  const std::string pid_file = dir.File("hook.pid");
  std::ofstream(hook) << "#!/bin/sh\necho $$ > " << pid_file << ".new\nmv " << pid_file << ".new " << pid_file
                      << "\nexec sleep 100\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);
  bool caller_went_on = false;
  // Time enough to attach on a loaded machine; the caller's 2 s after the
  // kill come on top, well inside the 15 s it is given below.
  const HooksRun run = RunHookAsNobody(hook, dir, {}, 3s, [&](pid_t caller) {
    std::string text;
    for (int i = 0; i < 500 && text.empty(); ++i) {
      std::this_thread::sleep_for(10ms);
      std::getline(std::ifstream(pid_file), text);
    }
    REQUIRE_FALSE(text.empty());
    const pid_t traced = std::stoi(text);
    REQUIRE(ptrace(PTRACE_SEIZE, traced, nullptr, nullptr) == 0);
    // Not waited for by its tracer: the caller must go on all the same.
    siginfo_t info{};
    for (int i = 0; i < 1500 && !caller_went_on; ++i) {
      std::this_thread::sleep_for(10ms);
      info.si_pid = 0;
      caller_went_on = waitid(P_PID, static_cast<id_t>(caller), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                       info.si_pid == caller;
    }
    // Let it go: the tracer reaps what the SIGKILL left.
    int status = 0;
    (void)waitpid(traced, &status, __WALL);
  });
  INFO(run.text);
  CHECK(caller_went_on);
  CHECK(run.text.find(hook + ": killed after the hook timeout, and not reaped") != std::string::npos);
}

// The helper ignores SIGPIPE (a stderr with no reader must not kill it
// mid-operation), and an ignored signal stays ignored across exec: the
// hook must get it back, or `yes | head` in a hook would never end.
TEST_CASE("hooks: a hook starts with SIGPIPE at its default although the helper ignores it") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  HookDir dir;
  const std::string hook = dir.File("hook");
  std::ofstream(hook) << "#!/bin/sh\n"
                      << "while read -r key value; do [ \"$key\" = SigIgn: ] && echo \"ignored=$value\"; done"
                      << " < /proc/$$/status\n"
                      << "exit 0\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);

  const HooksRun run = RunHookAsNobody(hook, dir, [] { (void)signal(SIGPIPE, SIG_IGN); });
  INFO(run.text);
  REQUIRE(WIFEXITED(run.status));
  REQUIRE(WEXITSTATUS(run.status) == 0);
  const size_t at = run.text.find("ignored=");
  REQUIRE(at != std::string::npos);
  const unsigned long long ignored = std::stoull(run.text.substr(at + 8, 16), nullptr, 16);
  CHECK((ignored & (1ULL << (SIGPIPE - 1))) == 0);
}
