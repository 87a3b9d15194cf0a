#include "vault/hook_output.h"

#include <algorithm>
#include <utility>

namespace tazpod::vault {

std::string EscapeControlBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

HookOutput::HookOutput(std::string_view hook, std::function<void(std::string_view)> write)
    : prefix_("tazpod-vault-helper: hook " + EscapeControlBytes(hook) + ": "), write_(std::move(write)) {}

void HookOutput::Take(std::string_view bytes) {
  while (!bytes.empty()) {
    // The newline that ends a line just cut at kMaxPiece ends it: no empty
    // line after it.
    if (cut_ && bytes.front() == '\n') bytes.remove_prefix(1);
    cut_ = false;
    if (bytes.empty()) return;
    const size_t newline = bytes.find('\n');
    const size_t room = kMaxPiece - partial_.size();
    if (newline != std::string_view::npos && newline <= room) {
      partial_.append(bytes.substr(0, newline));
      bytes.remove_prefix(newline + 1);
      Pass(partial_);
      partial_.clear();
      continue;
    }
    const size_t take = std::min(bytes.size(), room);
    partial_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (partial_.size() == kMaxPiece) {
      Pass(partial_);
      partial_.clear();
      cut_ = true;
    }
  }
}

void HookOutput::End() {
  if (partial_.empty()) return;
  Pass(partial_);
  partial_.clear();
}

void HookOutput::Pass(std::string_view piece) {
  std::string line = prefix_;
  line += EscapeControlBytes(piece);
  line += '\n';
  write_(line);
}

}  // namespace tazpod::vault
