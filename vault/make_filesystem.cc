#include "vault/make_filesystem.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/descriptors.h"

namespace tazpod::vault {

namespace {

// Where mkfs.ext4 is looked for, in order: the system's own e2fsprogs.
// execvpe() would search the caller's PATH, not the one it is given, and
// PID 1's starts with /usr/local/sbin, where an image may put anything.
constexpr const char* kPrograms[] = {"/usr/sbin/mkfs.ext4", "/usr/bin/mkfs.ext4", "/sbin/mkfs.ext4",
                                     "/bin/mkfs.ext4"};

}  // namespace

VaultStatus MakeExt4(const std::string& device) {
  const char* const argv[] = {"mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", "-L", "tazpod-vault",
                              device.c_str(), nullptr};
  // For what mkfs runs in turn (none today), and its messages untranslated.
  const char* const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};
  const pid_t helper = getpid();
  pid_t pid = fork();
  if (pid < 0) return SystemError("mkfs", std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Dies with the helper: a helper killed by PID 1's timeout must not
    // leave mkfs writing to the mapping, which would keep it busy (and the
    // next unlock's recovery failing) until mkfs is done.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != helper) _exit(126);
    // Close-on-exec: mkfs gets the copy on stdin (dup2 clears the flag), not a stray fd.
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    // stderr stays: mkfs's own message is the best explanation of a failure.
    dup2(STDERR_FILENO, STDOUT_FILENO);
    // Nothing of the helper's but those three (libdevmapper's control
    // descriptor has no close-on-exec), and SIGPIPE as a program expects it.
    CloseOnExecAboveStderr();
    (void)signal(SIGPIPE, SIG_DFL);
    bool found = false;
    for (const char* program : kPrograms) {
      execve(program, const_cast<char* const*>(argv), const_cast<char* const*>(envp));
      found = found || (errno != ENOENT && errno != ENOTDIR);  // as execvp searches
    }
    _exit(found ? 126 : 127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return SystemError("mkfs", std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return SystemError("mkfs", "mkfs.ext4 not found (install e2fsprogs)");
  return SystemError("mkfs", "mkfs.ext4 " + device + " failed with status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
}

}  // namespace tazpod::vault
