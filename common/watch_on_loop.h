// WatchOnLoop: hands a descriptor to the event loop, or says why it could not.
//
// Asio's assign() adds the descriptor to the loop's epoll set, which the
// kernel can refuse: ENOMEM, or ENOSPC once the user's
// fs.epoll.max_user_watches is reached. Its throwing form would unwind
// through PID 1's handlers, past the state they were changing (a vault
// unlocked for a login nobody then follows), so every descriptor PID 1
// hands the loop after start goes through here and is refused like any
// failed syscall: right where it happens, with its errno.
//
// A refusal is not free: Asio's reactor allocates its record of the
// descriptor (168 bytes in Boost 1.81) before it calls epoll_ctl, and keeps
// it when the kernel refuses, until the loop ends. Refusals come only while
// the kernel is short of memory or watches, and PID 1's callers make at
// most one per vault operation, one per login let in, and one per process
// at shutdown.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include "common/unique_fd.h"

namespace tazpod {

// Returns 0 once `watcher` owns the descriptor (`fd` is then empty), or the
// errno of the refusal, with the descriptor still `fd`'s and `watcher`
// unchanged. A `watcher` already open is refused too (EBADF: Asio's
// already_open is not an errno).
inline int WatchOnLoop(boost::asio::posix::stream_descriptor& watcher, UniqueFd& fd) {
  if (watcher.is_open()) return EBADF;
  boost::system::error_code refused;
  watcher.assign(fd.get(), refused);
  if (refused) return refused.value();
  fd.Release();
  return 0;
}

}  // namespace tazpod
