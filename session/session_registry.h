// SessionRegistry: the live login sessions, each bound to a pidfd of the
// process that became the user's shell.
//
// A pidfd names one process for good: when it exits the pidfd becomes
// readable, and a recycled pid can never be mistaken for it. The registry
// waits on the pidfds on the event loop (no polling), and calls `on_empty`
// when the last session has ended, SIGKILLed or not. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "common/unique_fd.h"

namespace tazpod::session {

// A pidfd of `pid`; invalid (errno set) when it has exited or pidfds are
// not available. Opened when a login arrives: from then on it names that
// process, however long the unlock takes, and a pid recycled meanwhile
// cannot take its place.
UniqueFd OpenProcess(pid_t pid);

class SessionRegistry {
 public:
  SessionRegistry(boost::asio::io_context& io, std::function<void()> on_empty);

  // Registers the process `pidfd` names (OpenProcess(pid)) as a session.
  // Returns 0, or why it was not (logged), when it must then not get a
  // shell: ESRCH when it has already exited, else the errno of the poll or
  // of the loop's refusal to watch it (ENOMEM, ENOSPC).
  int Add(UniqueFd pidfd, pid_t pid, uid_t uid);

  size_t count() const { return sessions_.size(); }

  // Sends `signal` to every session's process through its pidfd (never to a
  // recycled pid). Their exits are counted as usual.
  void SignalAll(int signal);

 private:
  struct Session {
    explicit Session(boost::asio::io_context& io) : pidfd(io) {}
    boost::asio::posix::stream_descriptor pidfd;
    uid_t uid = 0;
    std::chrono::steady_clock::time_point opened;
  };
  // Waits for the session's process to exit, then OnExit(pid).
  void WatchExit(pid_t pid, Session& session);
  void OnExit(pid_t pid);

  boost::asio::io_context& io_;
  std::function<void()> on_empty_;
  std::map<pid_t, std::unique_ptr<Session>> sessions_;
};

}  // namespace tazpod::session
