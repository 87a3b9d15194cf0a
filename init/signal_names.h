// Signal names and numbers, both ways: "SIGTERM", "TERM" and "15" all parse
// to 15. Used by the configuration, the command line and the logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tazpod::init {

// Returns the signal number, or nullopt for an unknown name or a number
// outside 1..31 and SIGRTMIN..SIGRTMAX (32 and 33 are the C library's).
std::optional<int> ParseSignal(std::string_view text);

// "SIGTERM", or "SIG42" for a number without a name.
std::string SignalName(int signal);

}  // namespace tazpod::init
