#include "common/line_splitter.h"

#include <algorithm>
#include <utility>

namespace tazpod {

LineSplitter::LineSplitter(size_t max_line, std::function<void(std::string_view)> line)
    : max_line_(max_line), line_(std::move(line)) {}

void LineSplitter::Take(std::string_view bytes) {
  while (!bytes.empty()) {
    // Only while nothing came since the piece: once the rest of that line
    // has begun, its newline ends it.
    if (cut_ && partial_.empty() && bytes.front() == '\n') {
      bytes.remove_prefix(1);
      cut_ = false;
      continue;
    }
    const size_t newline = bytes.find('\n');
    const size_t room = max_line_ - partial_.size();
    if (newline != std::string_view::npos && newline <= room) {
      if (partial_.empty()) {
        Pass(bytes.substr(0, newline + 1));
      } else {
        partial_.append(bytes.substr(0, newline + 1));
        Pass(partial_);
        partial_.clear();
      }
      bytes.remove_prefix(newline + 1);
      continue;
    }
    const size_t take = std::min(bytes.size(), room);
    partial_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (partial_.size() == max_line_) {
      Pass(partial_);
      partial_.clear();
      cut_ = true;
    }
  }
}

void LineSplitter::End() {
  cut_ = false;  // the next writer's first newline is its own
  if (partial_.empty()) return;
  Pass(partial_);
  partial_.clear();
}

void LineSplitter::Pass(std::string_view line) {
  cut_ = false;
  line_(line);
}

}  // namespace tazpod
