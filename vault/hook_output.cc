#include "vault/hook_output.h"

#include <limits.h>

#include <utility>

#include "common/log.h"

namespace tazpod::vault {

namespace {

std::string ShownPath(std::string_view hook) {
  if (hook.size() <= HookOutput::kMaxShownPath) return EscapeUntrustedText(hook);
  return EscapeUntrustedText(hook.substr(0, HookOutput::kMaxShownPath)) + "...";
}

}  // namespace

HookOutput::HookOutput(std::string_view hook, std::function<void(std::string_view)> write)
    : prefix_("tazpod-vault-helper: hook " + ShownPath(hook) + ": "),
      write_(std::move(write)),
      lines_(kMaxPiece, [this](std::string_view line) { Add(line); }) {}

void HookOutput::Take(std::string_view bytes) {
  lines_.Take(bytes);
  Flush();  // whole lines go out as they come, not at the hook's end
}

void HookOutput::End() {
  lines_.End();
  Flush();
}

void HookOutput::Add(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::string whole = prefix_;
  whole += EscapeUntrustedText(line);
  whole += '\n';
  if (batch_.size() + whole.size() > PIPE_BUF) Flush();
  batch_ += whole;
}

void HookOutput::Flush() {
  if (batch_.empty()) return;
  write_(batch_);
  batch_.clear();
}

}  // namespace tazpod::vault
