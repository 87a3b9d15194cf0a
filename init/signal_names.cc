#include "init/signal_names.h"

#include <charconv>
#include <csignal>

namespace tazpod::init {

namespace {

struct Named {
  int number;
  const char* name;
};

constexpr Named kSignals[] = {
    {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},
    {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"},     {SIGABRT, "SIGABRT"},
    {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},       {SIGKILL, "SIGKILL"},
    {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"},     {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},
    {SIGSTKFLT, "SIGSTKFLT"}, {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"},
    {SIGSTOP, "SIGSTOP"},     {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"},
    {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"},     {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
    {SIGWINCH, "SIGWINCH"},   {SIGIO, "SIGIO"},         {SIGPWR, "SIGPWR"},
    {SIGSYS, "SIGSYS"},
};

}  // namespace

std::optional<int> ParseSignal(std::string_view text) {
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size()) {
    // 32 and 33 (below SIGRTMIN) are glibc's own, for thread cancellation
    // and set*id(): init never receives them, and to send one is to
    // interrupt another program's C library, not to signal it.
    if (number >= 1 && number < 32) return number;
    if (number >= SIGRTMIN && number <= SIGRTMAX) return number;
    return std::nullopt;
  }
  std::string_view bare = text;
  if (bare.substr(0, 3) == "SIG") bare.remove_prefix(3);
  for (const Named& s : kSignals) {
    if (std::string_view(s.name).substr(3) == bare) return s.number;
  }
  return std::nullopt;
}

std::string SignalName(int signal) {
  for (const Named& s : kSignals) {
    if (s.number == signal) return s.name;
  }
  return "SIG" + std::to_string(signal);
}

}  // namespace tazpod::init
