#include "vault/hooks.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/bounded_read.h"
#include "common/descriptors.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "vault/hook_output.h"

namespace tazpod::vault {

namespace {

// The user's supplementary groups, read (through NSS, which allocates)
// before the fork. Empty when they cannot be read: the hook then fails at
// setgroups rather than run with root's groups.
std::vector<gid_t> SupplementaryGroups(const HookUser& user) {
  std::vector<gid_t> groups(16);
  for (int attempt = 0; attempt < 4; ++attempt) {
    int count = static_cast<int>(groups.size());
    if (getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<size_t>(count));
      return groups;
    }
    groups.resize(static_cast<size_t>(count) + 16);  // count is now what it needs
  }
  return {};
}

// In the child: become the user for good, then exec. Only async-signal-safe
// calls; the environment and the groups were read before fork.
[[noreturn]] void ExecAsUser(const std::string& hook, const HookUser& user, const std::vector<gid_t>& groups,
                             const std::string& dir, char* const* envp, int output) {
  // A process group of its own, so that a timeout ends the hook's children
  // too: left running, they could hold the vault (and its key) open.
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);  // its dup2 copies stay open
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  // Both to its own pipe (the helper's stdout is its result line). Without
  // one, to /dev/null: never to the helper's stderr, where its lines would
  // reach the log unmarked (vault/hook_output.h). No /dev/null either: the
  // hook does not run.
  const int to = output >= 0 ? output : devnull;
  if (to < 0 || dup2(to, STDERR_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) _exit(126);
  CloseOnExecAboveStderr();
  (void)signal(SIGPIPE, SIG_DFL);  // the helper ignores it; an ignored signal stays so across exec
  if (groups.empty() || setgroups(groups.size(), groups.data()) != 0 || setgid(user.gid) != 0 ||
      setuid(user.uid) != 0)
    _exit(126);
  if (setuid(0) == 0) _exit(126);  // no way back to root, or we do not run
  if (chdir(dir.c_str()) != 0) _exit(126);
  const char* argv[] = {hook.c_str(), nullptr};
  execve(hook.c_str(), const_cast<char* const*>(argv), envp);
  _exit(127);
}

// At most what one pipe holds (its default size) is copied per wake-up: a
// child writing without pause never empties the pipe, and the helper must
// still look at the hook's exit and its deadline.
constexpr size_t kPipeBytes = 65536;

// A batch of whole lines of a hook's output (HookOutput's, at most
// PIPE_BUF) to stderr, in one write where it can.
void WriteToStderr(std::string_view lines) {
  while (!lines.empty()) {
    const ssize_t w = write(STDERR_FILENO, lines.data(), lines.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return;  // stderr gone: the output is lost, the hook goes on
    lines.remove_prefix(static_cast<size_t>(w));
  }
}

// Passes what waits in the hook's pipe to `lines`, at most kPipeBytes.
// False once the pipe has ended: every writer closed it.
bool CopyOutput(int from, HookOutput& lines) {
  return ReadUpTo(from, kPipeBytes, [&lines](std::string_view bytes) { lines.Take(bytes); }) != BoundedRead::kEnded;
}

// Waits for the hook until `deadline`, copying its output meanwhile. True
// when it exited (`*status` set), false at the deadline.
bool WaitCopying(pid_t pid, int output, HookOutput& lines, std::chrono::steady_clock::time_point deadline,
                 int* status) {
  bool open = output >= 0;
  for (;;) {
    const pid_t done = waitpid(pid, status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Woken by output, or after 20 ms to look at the hook's exit and the
    // deadline again (the helper has no event loop, and needs none).
    struct pollfd ready = {open ? output : -1, POLLIN, 0};
    poll(&ready, 1, 20);
    if (open && ready.revents != 0) open = CopyOutput(output, lines);
  }
}

}  // namespace

std::vector<std::string> RunHooks(const std::vector<std::string>& hooks, const char* phase,
                                  const HookUser& user, const std::string& vault_dir,
                                  std::chrono::milliseconds timeout) {
  std::vector<std::string> failures;
  std::vector<std::string> env = {"HOME=" + user.home, "USER=" + user.name, "LOGNAME=" + user.name,
                                  "PATH=/usr/local/bin:/usr/bin:/bin", "TAZPOD_VAULT=" + vault_dir,
                                  std::string("TAZPOD_HOOK=") + phase};
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::vector<gid_t> groups = SupplementaryGroups(user);

  for (const std::string& hook : hooks) {
    // The hook's own pipe for its output; without one (out of descriptors)
    // its output is discarded, and that is said.
    UniqueFd output;
    UniqueFd output_write;
    if (int fds[2]; pipe2(fds, O_CLOEXEC) == 0) {
      output.Reset(fds[0]);
      output_write.Reset(fds[1]);
      (void)fcntl(output.get(), F_SETFL, O_NONBLOCK);
    } else {
      (void)std::fprintf(stderr, "tazpod-vault-helper: hook output discarded: %s: pipe: %s\n",
                         EscapeUntrustedText(hook).c_str(), std::strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
      failures.push_back(hook + ": fork: " + std::strerror(errno));
      continue;
    }
    if (pid == 0) ExecAsUser(hook, user, groups, vault_dir, envp.data(), output_write.get());
    output_write.Reset();  // the hook's, and its children's, only
    setpgid(pid, pid);  // as the child does: whichever runs first, the group exists
    int status = 0;
    HookOutput lines(hook, WriteToStderr);
    const bool exited =
        WaitCopying(pid, output.get(), lines, std::chrono::steady_clock::now() + timeout, &status);
    if (!exited) {
      // The whole group, so the hook's own children die with it; the group
      // exists, since both sides call setpgid before the hook execs. And
      // the hook itself: it may have left its group for another of this
      // session (the helper's), and the wait below would last as long as
      // it chose.
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      // Dead at once, and reaped, unless another process traces it: a dead
      // tracee shows to its tracer first, and a plain wait would last as
      // long as the tracer chose. Then it is left, with its pipe, and is
      // PID 1's to reap once the helper has exited.
      constexpr std::chrono::seconds kReapAfterKill{2};
      if (WaitCopying(pid, output.get(), lines, std::chrono::steady_clock::now() + kReapAfterKill, &status))
        failures.push_back(hook + ": killed after the hook timeout");
      else
        failures.push_back(hook + ": killed after the hook timeout, and not reaped within " +
                           std::to_string(kReapAfterKill.count()) + " s (traced by another process?)");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      failures.push_back(hook + ": exit status " + std::to_string(code) +
                         (code == 127 ? " (not found or not executable)" : ""));
    }
    // What it wrote before it ended (at most a pipe's worth), then the pipe
    // is closed: a child it left running gets EPIPE from then on.
    if (output) (void)CopyOutput(output.get(), lines);
    lines.End();
  }
  return failures;
}

}  // namespace tazpod::vault
