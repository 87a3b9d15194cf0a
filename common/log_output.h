// LogOutput: whole log lines to a descriptor that never blocks the writer.
//
// write(2) blocks on a terminal whose output is stopped (Ctrl+S typed in
// `docker run -it`) and on a pipe that nobody drains (a stalled log driver).
// A PID 1 blocked there reaps, forwards and answers nothing, and signals
// sent to it meanwhile merge into one. So PID 1 writes its lines to a
// non-blocking descriptor of its own (OpenNonBlocking, below), and what the
// descriptor cannot take now waits here, in order, until Flush() finds room.
// The wait is bounded: a line that does not fit is dropped whole and
// counted, never cut; a line already begun is always finished first.
//
// Not thread-safe: common/log.cc holds it under its lock.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace tazpod {

class LogOutput {
 public:
  static constexpr size_t kDefaultMaxWaiting = size_t{64} * 1024;

  // Writes to `fd`, which it does not own. A socket is written with
  // send(MSG_DONTWAIT), which never blocks whatever the flags of its open
  // file description (shared with the main child); anything else with
  // write(2), so `fd` must be non-blocking itself (OpenNonBlocking).
  explicit LogOutput(int fd, size_t max_waiting = kDefaultMaxWaiting);

  // Writes `line`, as much of it as the descriptor takes now, or, when lines
  // already wait, queues it behind them (the caller flushes first: one
  // write attempt a line). The rest waits. False when it was dropped: no
  // room to wait. A write error other than EAGAIN (a terminal hung up, a
  // pipe with no reader) drops what was to be written: there is nobody to
  // tell.
  bool Write(std::string_view line);

  // Writes what waits, as much as the descriptor takes now, in whole lines
  // of at most PIPE_BUF bytes a write (a longer line alone), so that a pipe
  // takes each write whole or not at all.
  void Flush();

  bool waiting() const { return !waiting_.empty(); }

  // The lines dropped since the last call.
  size_t TakeDropped();

 private:
  // Writes as much of `data` as the descriptor takes now; returns how much.
  // Anything but EAGAIN (or EINTR, retried) counts the data as written.
  size_t WriteNow(std::string_view data);

  int fd_;
  bool is_socket_;
  size_t max_waiting_;
  std::string waiting_;
  size_t dropped_ = 0;
};

// A descriptor of the same pipe, FIFO or terminal as `fd` whose writes
// return EAGAIN instead of blocking: a new open of /proc/self/fd/FD with
// O_NONBLOCK (and O_NOCTTY, close-on-exec). Setting O_NONBLOCK on `fd`
// itself would set it for every process that shares it, and the main child
// shares init's stderr. For a socket (systemd's journal stream), which
// cannot be opened again, a close-on-exec duplicate: LogOutput sends to it
// without blocking. Invalid for anything else (a regular file or /dev/null
// does not block for long), or when the open fails (no /proc, a FIFO whose
// reader is gone).
UniqueFd OpenNonBlocking(int fd);

}  // namespace tazpod
