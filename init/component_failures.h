// ComponentFailures: what failed inside PID 1 without ending it.
//
// PID 1 never exits for an error in a component: an exception caught at the
// event loop, a reaper callback or a shutdown step that threw, an audit log
// that could not be opened. Each is logged as init.component.failed, and
// kept here, so that health reports it (docs/health.md): /healthz answers
// 503 naming it. It stays failed until init exits: work that a handler
// threw away (a reply, a callback, a state change) may have left its
// component half done, which no one can tell from outside.
//
// The components that mend themselves keep their own state instead: the
// HTTP endpoint (it listens again), the signal thread (the loop reads the
// signals itself). Used from the event loop only.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tazpod::init {

class ComponentFailures {
 public:
  // Keeps `error` as `component`'s last. Never throws: out of memory, the
  // failure is only logged (the caller logs it in every case).
  void Record(std::string_view component, std::string_view error) noexcept;

  // Each failed component's last error, by name.
  const std::map<std::string, std::string, std::less<>>& failed() const { return failed_; }

 private:
  std::map<std::string, std::string, std::less<>> failed_;
};

}  // namespace tazpod::init
