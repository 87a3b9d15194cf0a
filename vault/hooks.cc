#include "vault/hooks.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/descriptors.h"

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
                             const std::string& dir, char* const* envp) {
  // A process group of its own, so that a timeout ends the hook's children
  // too: left running, they could hold the vault (and its key) open.
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);  // its dup2 copy stays open
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  dup2(STDERR_FILENO, STDOUT_FILENO);  // the helper's stdout is its result line
  CloseOnExecAboveStderr();
  if (groups.empty() || setgroups(groups.size(), groups.data()) != 0 || setgid(user.gid) != 0 ||
      setuid(user.uid) != 0)
    _exit(126);
  if (setuid(0) == 0) _exit(126);  // no way back to root, or we do not run
  if (chdir(dir.c_str()) != 0) _exit(126);
  const char* argv[] = {hook.c_str(), nullptr};
  execve(hook.c_str(), const_cast<char* const*>(argv), envp);
  _exit(127);
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
    pid_t pid = fork();
    if (pid < 0) {
      failures.push_back(hook + ": fork: " + std::strerror(errno));
      continue;
    }
    if (pid == 0) ExecAsUser(hook, user, groups, vault_dir, envp.data());
    setpgid(pid, pid);  // as the child does: whichever runs first, the group exists
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    pid_t done = 0;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (done == 0) {
      // The whole group, so the hook's own children die with it; the group
      // exists, since both sides call setpgid before the hook execs.
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      failures.push_back(hook + ": killed after the hook timeout");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      failures.push_back(hook + ": exit status " + std::to_string(code) +
                         (code == 127 ? " (not found or not executable)" : ""));
    }
  }
  return failures;
}

}  // namespace tazpod::vault
