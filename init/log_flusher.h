// LogFlusher: writes the log's waiting lines once its descriptor can take
// them.
//
// PID 1's log never blocks (common/log.h, UseNonBlockingLog): lines that a
// stopped terminal or an undrained pipe cannot take wait. This puts a watch
// for "writable" on the loop while, and only while, lines wait: a terminal
// also reports input, and a watch left on it would wake init at each key
// typed in the main child's shell, where an idle init must not wake.
//
// The loop never waits on the log's descriptor itself, but on an epoll set
// of the flusher's own that watches it for room: Asio makes a descriptor
// it waits on non-blocking (FIONBIO), and for a socket the log's
// descriptor is a copy that shares its flags with the main child's stderr
// (common/log_output.h), which must stay as the child got it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <optional>

#include "common/unique_fd.h"

namespace tazpod::init {

class LogFlusher {
 public:
  // `log_fd`: what UseNonBlockingLog returned (not owned). Lines that
  // already wait are watched for at once. Without an epoll set (out of
  // descriptors, or epoll refuses the watch) nothing is watched: waiting
  // lines go out with the next line logged, which flushes first.
  LogFlusher(boost::asio::io_context& io, int log_fd);
  // No call comes from the log after this returns.
  ~LogFlusher();

  LogFlusher(const LogFlusher&) = delete;
  LogFlusher& operator=(const LogFlusher&) = delete;

 private:
  // On the loop: starts the watch unless one runs.
  void Watch();
  // Ends it, leaving the descriptor open.
  void StopWatch();

  boost::asio::io_context& io_;
  UniqueFd room_;  // epoll set: readable when the log's descriptor is writable
  std::optional<boost::asio::posix::stream_descriptor> watch_;
};

}  // namespace tazpod::init
