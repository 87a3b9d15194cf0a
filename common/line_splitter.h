// Cuts bytes another process writes into a pipe into lines, however the
// reads split them: the helpers' stderr in PID 1 (init/stderr_relay.h), and
// each hook's output in the vault helper (vault/hook_output.h).
//
// A line is passed on once its newline comes, with the newline. A line
// longer than `max_line` bytes (the newline not counted) is passed on in
// pieces of `max_line` bytes, without one: a writer that never ends its
// line must not make the reader keep all of it. The newline that comes
// right after a piece, nothing between them, ends that piece's line and
// makes no empty line.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tazpod {

class LineSplitter {
 public:
  LineSplitter(size_t max_line, std::function<void(std::string_view)> line);

  // Passes on the lines `bytes` completes, and keeps the rest for the next
  // call. A line that comes whole in one call is passed on without a copy.
  void Take(std::string_view bytes);
  // Passes on what is left of an unfinished line, if anything (a writer
  // that ended, or was killed, mid-line).
  void End();

 private:
  void Pass(std::string_view line);

  size_t max_line_;
  std::function<void(std::string_view)> line_;
  std::string partial_;
  bool cut_ = false;  // the last thing passed on was a piece cut at max_line_
};

}  // namespace tazpod
