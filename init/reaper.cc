#include "init/reaper.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "common/log.h"
#include "init/main_child.h"

namespace tazpod::init {

void Reaper::Watch(pid_t pid, ExitCallback on_exit) { watched_[pid] = std::move(on_exit); }

void Reaper::RecordFailure(pid_t pid, const char* error) noexcept {
  // Logged first, as every component's failure is (ComponentFailures). The
  // error field copies a message of any length: out of memory, the failure
  // is only recorded.
  try {
    Log(LogLevel::kError, "init.component.failed", {{"component", "reaper"}, {"error", error}, {"pid", pid}});
  } catch (...) {
  }
  if (failures_) failures_->Record("reaper", error);
}

int Reaper::ReapAll() {
  int reaped = 0;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;  // 0: children left but none exited; ECHILD: none at all
    ++reaped;
    ++total_reaped_;
    auto it = watched_.find(pid);
    if (it != watched_.end()) {
      ExitCallback callback = std::move(it->second);
      watched_.erase(it);
      // A callback that throws must not end this loop: children that have
      // already exited would stay zombies until some other child's SIGCHLD
      // (theirs is spent), and the main child's exit could go unnoticed.
      try {
        callback(pid, status);
      } catch (const std::exception& e) {
        RecordFailure(pid, e.what());
      } catch (...) {
        RecordFailure(pid, "unknown");
      }
      continue;
    }
    // Checked first: a burst of thousands of orphans must not build a log
    // line each only to drop it.
    const LogLevel level = warn_on_foreign_ ? LogLevel::kWarn : LogLevel::kDebug;
    if (LogEnabled(level))
      Log(level, "init.reap.foreign", {{"pid", pid}, {"code", ExitCodeForWaitStatus(status)}});
  }
  return reaped;
}

bool Reaper::HasChildren() {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  // WNOWAIT: look without reaping.
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

}  // namespace tazpod::init
