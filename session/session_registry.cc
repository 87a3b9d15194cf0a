#include "session/session_registry.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/system/error_code.hpp>

#include "common/log.h"
#include "common/pidfd.h"
#include "common/watch_on_loop.h"

namespace tazpod::session {

SessionRegistry::SessionRegistry(boost::asio::io_context& io, std::function<void()> on_empty)
    : io_(io), on_empty_(std::move(on_empty)) {}

UniqueFd OpenProcess(pid_t pid) { return OpenPidFd(pid); }

int SessionRegistry::Add(UniqueFd pidfd, pid_t pid, uid_t uid) {
  if (const PidfdPoll now = PollPidFd(pidfd.get()); now != PidfdPoll::kRunning) {
    const int why = now == PidfdPoll::kExited ? ESRCH : errno;
    Log(LogLevel::kWarn, "session.refused", {{"pid", pid}, {"error", why == ESRCH ? "it has exited" : std::strerror(why)}});
    return why;
  }
  auto session = std::make_unique<Session>(io_);
  // The vault is already unlocked for this login: refused, the gate locks
  // it as for a login that left, where a throw would leave it open with no
  // session to lock it.
  if (int refused = WatchOnLoop(session->pidfd, pidfd)) {
    Log(LogLevel::kError, "session.refused", {{"pid", pid}, {"error", std::strerror(refused)}});
    return refused;
  }
  session->uid = uid;
  session->opened = std::chrono::steady_clock::now();
  Session& watched = *session;
  sessions_[pid] = std::move(session);
  WatchExit(pid, watched);
  Log(LogLevel::kInfo, "session.open", {{"pid", pid}, {"uid", uid}, {"sessions", static_cast<long long>(sessions_.size())}});
  return 0;
}

void SessionRegistry::SignalAll(int signal) {
  for (auto& [pid, session] : sessions_) {
    if (syscall(SYS_pidfd_send_signal, session->pidfd.native_handle(), signal, nullptr, 0) != 0 && errno != ESRCH)
      Log(LogLevel::kWarn, "session.signal_failed", {{"pid", pid}, {"error", std::strerror(errno)}});
  }
}

void SessionRegistry::WatchExit(pid_t pid, Session& session) {
  session.pidfd.async_wait(boost::asio::posix::descriptor_base::wait_read, [this, pid](boost::system::error_code ec) {
    if (ec) return;
    auto it = sessions_.find(pid);
    if (it == sessions_.end()) return;
    // Only an exit the pidfd shows ends the session: the loop may have
    // woken this wait for another descriptor's event.
    if (!HasExited(it->second->pidfd.native_handle())) return WatchExit(pid, *it->second);
    OnExit(pid);
  });
}

void SessionRegistry::OnExit(pid_t pid) {
  auto it = sessions_.find(pid);
  if (it == sessions_.end()) return;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - it->second->opened);
  sessions_.erase(it);
  Log(LogLevel::kInfo, "session.close",
      {{"pid", pid}, {"duration_s", static_cast<long long>(seconds.count())}, {"sessions", static_cast<long long>(sessions_.size())},
       {"mono_us", MonoMicros()}});
  if (sessions_.empty() && on_empty_) on_empty_();
}

}  // namespace tazpod::session
