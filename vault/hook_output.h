// A hook's output on its way into PID 1's log: line by line, each line
// prefixed with the hook that wrote it, escaped.
//
// The helper's stderr reaches `docker logs` as it is (docs/logging.md). A
// hook runs as the workstation user, and so does any child it starts: had
// its output passed through unchanged, it could write a line that looks
// like one of tazpod's own events (a "gate.accepted", say), or move the
// terminal's cursor over earlier lines. Prefixed and escaped
// (EscapeUntrustedText, common/log.h), every line it writes begins with
// "tazpod-vault-helper: hook HOOK: " and holds nothing that ends a line,
// starts a terminal's escape sequence or reorders text.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/line_splitter.h"

namespace tazpod::vault {

class HookOutput {
 public:
  // A line longer than this is passed on in pieces, each with the prefix.
  static constexpr size_t kMaxPiece = 512;
  // The hook's path in the prefix is cut to this many bytes (then "..."):
  // with the piece escaped (at most 4 bytes for each), a line stays below
  // PIPE_BUF and PID 1's relay's line, so it is never cut there.
  static constexpr size_t kMaxShownPath = 200;

  // `write` takes finished lines, newlines included, as many whole lines
  // at a time as fit in PIPE_BUF (the helper writes each batch in one
  // write, so that no other line falls inside one).
  HookOutput(std::string_view hook, std::function<void(std::string_view)> write);

  // Passes on the whole lines in `bytes` and keeps the rest for the next
  // call.
  void Take(std::string_view bytes);
  // Passes on what is left of an unfinished line (the hook ended without a
  // newline).
  void End();

 private:
  void Add(std::string_view line);
  void Flush();

  std::string prefix_;
  std::function<void(std::string_view)> write_;
  std::string batch_;
  LineSplitter lines_;
};

}  // namespace tazpod::vault
