// Reaps every child of init: its own, orphans the kernel reparented to it
// (for example what `docker exec` processes leave behind), and the main child.
//
// Components that start a process and need its exit status Watch() its pid;
// every other reaped process is "foreign" and only logged. Not thread-safe:
// used from the event loop only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>

#include "init/component_failures.h"

namespace tazpod::init {

class Reaper {
 public:
  using ExitCallback = std::function<void(pid_t pid, int wait_status)>;

  // What a callback throws is recorded in `failures` (when given) as the
  // reaper's failure.
  explicit Reaper(bool warn_on_foreign, ComponentFailures* failures = nullptr)
      : warn_on_foreign_(warn_on_foreign), failures_(failures) {}

  // Calls `on_exit` from ReapAll() when `pid` is reaped. What it throws is
  // logged (init.component.failed) and recorded, and the reaping goes on.
  void Watch(pid_t pid, ExitCallback on_exit);

  // Reaps every child that has exited, without blocking. Returns how many.
  int ReapAll();

  // True while init has at least one child, exited or not.
  static bool HasChildren();

  std::uint64_t total_reaped() const { return total_reaped_; }

 private:
  // Logs and records what a callback threw. Never throws: the pass must
  // go on to the children that exited after it.
  void RecordFailure(pid_t pid, const char* error) noexcept;

  bool warn_on_foreign_;
  ComponentFailures* failures_;
  std::map<pid_t, ExitCallback> watched_;
  std::uint64_t total_reaped_ = 0;
};

}  // namespace tazpod::init
