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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace

TEST_CASE("hooks: output reaches the caller's stderr, and a child left running does not keep it") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  const struct passwd* nobody = getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  char dir[] = "/tmp/tazpod-hooks-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  REQUIRE(chmod(dir, 0777) == 0);
  const std::string hook = std::string(dir) + "/hook";
  const std::string pid_file = std::string(dir) + "/writer.pid";
  // Starts a child in a session of its own that writes a line each 10 ms
  // for a minute, then says so on stdout and on stderr, and exits 0.
  std::ofstream(hook) << "#!/bin/sh\n"
                      << "setsid sh -c 'echo $$ > " << pid_file
                      << "; while :; do echo left-running; sleep 0.01; done' &\n"
                      << "while [ ! -s " << pid_file << " ]; do sleep 0.01; done\n"
                      << "echo hook-stdout\n"
                      << "echo hook-stderr >&2\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);

  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t caller = fork();
  REQUIRE(caller >= 0);
  if (caller == 0) {
    dup2(fds[1], STDERR_FILENO);
    const vault::HookUser user{nobody->pw_uid, nobody->pw_gid, "nobody", "/"};
    const std::vector<std::string> failures = vault::RunHooks({hook}, "unlock", user, dir, 10s);
    _exit(failures.empty() ? 0 : 1);
  }
  close(fds[1]);
  int status = -1;
  REQUIRE(waitpid(caller, &status, 0) == caller);
  // The caller is gone: only the child the hook left running could still
  // hold the pipe, and it must not.
  bool ended = false;
  const std::string text = ReadUntilEnd(fds[0], 3s, &ended);
  close(fds[0]);
  std::string writer;
  std::getline(std::ifstream(pid_file), writer);
  if (!writer.empty()) kill(std::stoi(writer), SIGKILL);
  std::filesystem::remove_all(dir);

  INFO(text);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // Each line the hook or its child wrote is the hook's: prefixed, never
  // passed on bare (vault/hook_output.h).
  const std::string prefix = "tazpod-vault-helper: hook " + hook + ": ";
  CHECK(text.find(prefix + "hook-stdout\n") != std::string::npos);
  CHECK(text.find(prefix + "hook-stderr\n") != std::string::npos);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) CHECK(line.rfind(prefix, 0) == 0);
  CHECK(ended);
}

// Out of descriptors for the hook's pipe, the hook still runs, its output
// discarded rather than written bare into the caller's stderr, and that is
// said.
TEST_CASE("hooks: without a pipe for its output, the hook runs and its output is discarded, not passed on bare") {
  if (geteuid() != 0) SKIP("hooks run as another user: needs root");
  const struct passwd* nobody = getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  char dir[] = "/tmp/tazpod-hooks-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  REQUIRE(chmod(dir, 0777) == 0);
  const std::string hook = std::string(dir) + "/hook";
  const std::string ran = std::string(dir) + "/ran";
  // Perl, not sh: dash and bash move the script's descriptor above 9,
  // which the descriptor limit below refuses.
  std::ofstream(hook) << "#!/usr/bin/perl\nprint \"bare-output\\n\";\nprint STDERR \"bare-error\\n\";\n"
                      << "open(my $f, '>', '" << ran << "') or exit 5;\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);
  const vault::HookUser user{nobody->pw_uid, nobody->pw_gid, "nobody", "/"};

  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t caller = fork();
  REQUIRE(caller >= 0);
  if (caller == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    // One descriptor left free: enough for the hook's /dev/null, not for a
    // pipe. (Every number below the lowest free one is in use; none above
    // it is counted on.)
    const int lowest_free = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    close(lowest_free);
    for (int fd = lowest_free + 1; fd < 1024; ++fd) close(fd);
    const struct rlimit one_free = {static_cast<rlim_t>(lowest_free + 1), static_cast<rlim_t>(lowest_free + 1)};
    if (setrlimit(RLIMIT_NOFILE, &one_free) != 0) _exit(3);
    const std::vector<std::string> failures = vault::RunHooks({hook}, "unlock", user, dir, 10s);
    for (const std::string& failure : failures) (void)!write(STDERR_FILENO, failure.data(), failure.size());
    _exit(failures.empty() ? 0 : 1);
  }
  close(fds[1]);
  int status = -1;
  REQUIRE(waitpid(caller, &status, 0) == caller);
  bool ended = false;
  const std::string text = ReadUntilEnd(fds[0], 3s, &ended);
  close(fds[0]);
  const bool hook_ran = std::filesystem::exists(ran);
  std::filesystem::remove_all(dir);

  INFO(text);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(hook_ran);
  CHECK(text.find("tazpod-vault-helper: hook output discarded: " + hook + ": pipe: ") != std::string::npos);
  CHECK(text.find("bare-") == std::string::npos);
  CHECK(ended);
}
