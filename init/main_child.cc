#include "init/main_child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "common/descriptors.h"
#include "common/unique_fd.h"
#include "init/signals.h"

namespace tazpod::init {

namespace {

[[noreturn]] void RunChild(const SpawnRequest& request, char* const* argv, int error_fd,
                           bool has_terminal) {
  // Own process group, and the terminal's foreground when init has one.
  // SIGTTOU is still blocked here, so tcsetpgrp() from a background group works.
  setpgid(0, 0);
  if (has_terminal) tcsetpgrp(STDIN_FILENO, getpgrp());
  ResetSignalsForChild(request.original_mask);
  setrlimit(RLIMIT_CORE, &request.original_core_limit);
  // The exec drops everything but what the child is meant to have.
  CloseOnExecAboveStderr();
  execvp(argv[0], argv);
  int err = errno;
  ssize_t ignored = write(error_fd, &err, sizeof err);
  (void)ignored;
  _exit(ExitCodeForExecError(err));
}

}  // namespace

int ExitCodeForExecError(int exec_errno) { return exec_errno == ENOENT ? 127 : 126; }

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

  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC) and the read below sees end-of-file.
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.fork_errno = errno;
    return result;
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  result.has_terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) >= 0;
  pid_t pid = fork();
  if (pid < 0) {
    result.fork_errno = errno;
    return result;
  }
  if (pid == 0) RunChild(request, argv.data(), write_end.get(), result.has_terminal);

  // Also from the parent, so the group exists whichever runs first.
  setpgid(pid, pid);
  result.pid = pid;
  write_end.Reset();
  int err = 0;
  ssize_t n;
  do {
    n = read(read_end.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof err)) result.exec_errno = err;
  return result;
}

}  // namespace tazpod::init
