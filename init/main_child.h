// Starting the main child: the command given after `tazpod init --`.
//
// Like tini, the child runs in its own process group with signal dispositions
// and mask back to defaults; when init has a controlling terminal (its stdin),
// the child's group becomes the terminal's foreground group, so an
// interactive shell gets working job control and Ctrl+C reaches the job, not
// init. Nothing init holds open reaches the child: every descriptor above
// stderr is closed on exec.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace tazpod::init {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  sigset_t original_mask;         // the mask init started with
};

struct SpawnResult {
  pid_t pid = -1;          // -1 when fork failed
  int exec_errno = 0;      // set when the child could not exec: it has exited
  int fork_errno = 0;
  bool has_terminal = false;  // the child's group was made the foreground group
};

// Starts the main child (vfork, then exec) and learns whether exec
// succeeded: init resumes only once the child has exec'd or given up. When it did not, the child has already _exit()ed with 127 or
// 126 and must still be reaped.
SpawnResult SpawnMainChild(const SpawnRequest& request);

// The shell's convention: 127 when the command was not found, 126 when it was
// found but could not be executed.
int ExitCodeForExecError(int exec_errno);

// The exit code init reports for a wait status: the exit status, or 128+N
// when the child died of signal N.
int ExitCodeForWaitStatus(int status);

// What init exits with for the main child's exit code: 0 when the code is
// one of `expected` (tini -e), the code itself otherwise. The 127 or 126 of
// a failed exec counts like any other, as it does in tini.
int ReportedExitCode(int code, const std::set<int>& expected);

}  // namespace tazpod::init
