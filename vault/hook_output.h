// A hook's output on its way into PID 1's log: line by line, each line
// prefixed with the hook that wrote it, its control bytes escaped.
//
// The helper's stderr reaches `docker logs` as it is (docs/logging.md). A
// hook runs as the workstation user, and so does any child it starts: had
// its output passed through unchanged, it could write a line that looks
// like one of tazpod's own events (a "gate.accepted", say), or move the
// terminal's cursor over earlier lines. Prefixed and escaped, every line it
// writes begins with "tazpod-vault-helper: hook HOOK: " and holds no
// control byte but a tab.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tazpod::vault {

class HookOutput {
 public:
  // `write` takes each finished line, newline included, in one call (the
  // helper writes it to stderr in one write, so that no other line falls
  // inside it).
  HookOutput(std::string_view hook, std::function<void(std::string_view)> write);

  // Passes on the whole lines in `bytes` and keeps the rest for the next
  // call. A line longer than kMaxPiece bytes is passed on in pieces, each
  // with the prefix.
  void Take(std::string_view bytes);
  // Passes on what is left of an unfinished line (the hook ended without a
  // newline).
  void End();

  static constexpr size_t kMaxPiece = 512;

 private:
  void Pass(std::string_view piece);

  std::string prefix_;
  std::function<void(std::string_view)> write_;
  std::string partial_;
  bool cut_ = false;  // the last piece passed on was cut at kMaxPiece
};

// `text` with every byte below 0x20 but a tab, DEL, and the backslash
// written as \xNN (the backslash as \\): nothing in it moves a terminal's
// cursor or ends a line.
std::string EscapeControlBytes(std::string_view text);

}  // namespace tazpod::vault
