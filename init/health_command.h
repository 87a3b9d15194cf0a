// `tazpod health`: what `HEALTHCHECK CMD ["tazpod","health"]` runs, so a
// slim image needs no curl. Asks PID 1 over the control socket ("health.check",
// the same rules as /healthz) and prints one line saying why.
//
// Exit codes, as Docker's HEALTHCHECK wants them: 0 healthy, 1 unhealthy —
// including a supervisor that cannot be reached or does not answer within
// the timeout (a hung PID 1 is unhealthy; the probe itself never hangs).
#pragma once

#include <chrono>
#include <string>

namespace tazpod::init {

struct HealthCommand {
  std::string socket;
  std::chrono::milliseconds timeout{5000};
};

int RunHealthCommand(const HealthCommand& command);

}  // namespace tazpod::init
