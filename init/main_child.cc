#include "init/main_child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "common/descriptors.h"
#include "init/signals.h"

namespace tazpod::init {

namespace {

// Runs in the vfork()ed child, on init's memory and stack until the exec:
// it may only call async-signal-safe functions, must not return, and reports
// a failed exec through `exec_errno`, which init reads once it resumes.
[[noreturn]] void RunChild(const SpawnRequest& request, char* const* argv, volatile int* exec_errno,
                           bool has_terminal) {
  // Own process group, and the terminal's foreground when init has one.
  // SIGTTOU is still blocked here, so tcsetpgrp() from a background group works.
  setpgid(0, 0);
  if (has_terminal) tcsetpgrp(STDIN_FILENO, getpgrp());
  ResetSignalsForChild(request.original_mask);
  // The exec drops everything but what the child is meant to have.
  CloseOnExecAboveStderr();
  execvp(argv[0], argv);
  *exec_errno = errno;
  _exit(ExitCodeForExecError(errno));
}

}  // namespace

int ExitCodeForExecError(int exec_errno) { return exec_errno == ENOENT ? 127 : 126; }

int ReportedExitCode(int code, const std::set<int>& expected) { return expected.count(code) != 0 ? 0 : code; }

int ExitCodeForWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

SpawnResult SpawnMainChild(const SpawnRequest& request) {
  SpawnResult result;
  // argv is built before fork: the child may only call async-signal-safe code.
  std::vector<char*> argv;
  for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  result.has_terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) >= 0;
  // vfork, not fork: init is suspended until the child has exec'd (or
  // failed to), which it would wait for anyway, and the kernel copies none
  // of init's page tables, nor does the child take a copy-on-write fault
  // for each page it touches before exec (33 fewer page faults; exec ->
  // main child went from 1.15x to 1.06x tini, docs/benchmarks.md).
  volatile int exec_errno = 0;
  // NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.vfork): init is meant to wait for the exec (above)
  pid_t pid = vfork();
  if (pid < 0) {
    result.fork_errno = errno;
    return result;
  }
  // NOLINTNEXTLINE(clang-analyzer-unix.Vfork): RunChild makes only async-signal-safe calls, then exec or _exit
  if (pid == 0) RunChild(request, argv.data(), &exec_errno, result.has_terminal);

  // The child has already made its process group (it ran first).
  result.pid = pid;
  result.exec_errno = exec_errno;
  return result;
}

}  // namespace tazpod::init
