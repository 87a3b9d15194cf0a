// StderrRelay: a pipe for the vault helper's stderr, whose lines PID 1
// passes on into its own log.
//
// The helper, the hooks it runs and mkfs would otherwise write to PID 1's
// stderr themselves, and a write to a terminal whose output is stopped
// (Ctrl+S in `docker run -it`), or to a pipe nobody drains, blocks: the
// unlock waited there until `vault.operation_timeout` killed it. Through
// the relay their lines go where PID 1's own go (common/log.h), which
// never blocks: a line waits, or is dropped whole and counted, and the
// writer goes on.
//
// One pipe serves every helper, one at a time: PID 1 keeps its write end
// for the next one, so the watch on the loop never ends, and costs nothing
// while the pipe is quiet (no timer, no wake-up). A line is passed on whole
// once its newline comes; one longer than kMaxLine is passed on in pieces.
//
// The pipe is read kTurnBytes at a time on each turn of the loop: a writer
// that never stops (a hook's child left running with the pipe as its
// stderr) keeps the relay busy, never the loop from reaping, signals,
// health or the control socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/bounded_read.h"
#include "common/line_splitter.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace tazpod::init {

class StderrRelay {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kTurnBytes = 16384;

  // Makes the pipe and starts reading it. Without a pipe (out of
  // descriptors), write_fd() is -1 and children keep PID 1's stderr; that
  // is logged, never thrown.
  explicit StderrRelay(boost::asio::io_context& io);
  // Passes on a last unfinished line.
  ~StderrRelay();

  StderrRelay(const StderrRelay&) = delete;
  StderrRelay& operator=(const StderrRelay&) = delete;

  // For a child to dup2() onto its stderr (close-on-exec here), or -1.
  int write_fd() const { return write_end_.get(); }

  // Reads what the pipe holds now (at most its size), without waiting, and
  // passes on its whole lines. PID 1 calls it before it logs what follows a
  // helper's lines (its result), so that they come out in the order they
  // were written.
  void Drain();
  // Passes on what is left of an unfinished line (a writer killed mid-line),
  // so that the next writer's line is not glued to it.
  void EndLine();

 private:
  // Makes the pipe and gives its read end to the loop. Returns 0, or the
  // errno of the step that failed, with nothing left open.
  int Open();
  // Waits on the loop for the pipe to be readable, then reads it.
  void Watch();
  // Reads up to kTurnBytes, then goes on at a later turn of the loop while
  // the pipe holds more, or watches it again once it is empty.
  void ReadOnTurns();
  // Reads until the pipe is empty or `budget` bytes are read, passing what
  // it reads to lines_.
  BoundedRead Read(size_t budget);

  boost::asio::posix::stream_descriptor reader_;
  UniqueFd write_end_;
  size_t pipe_size_ = 65536;
  // Each line into PID 1's log (PassOnLine, which adds the newline a piece
  // lacks): at most kMaxLine bytes with it, one PIPE_BUF write.
  LineSplitter lines_{kMaxLine - 1, [](std::string_view line) { PassOnLine(line); }};
  // A turn posted on the loop holds a weak copy: once the relay is
  // destroyed, the turn finds it expired and does nothing. Made with the
  // first turn posted.
  std::shared_ptr<char> alive_;
};

}  // namespace tazpod::init
