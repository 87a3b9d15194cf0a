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
  const std::string text = EscapeUntrustedText(line);
  if (batch_.size() + prefix_.size() + text.size() + 1 > PIPE_BUF) Flush();
  batch_ += prefix_;
  batch_ += text;
  batch_ += '\n';
}

void HookOutput::Flush() {
  if (batch_.empty()) return;
  write_(batch_);
  batch_.clear();
}

}  // namespace tazpod::vault
