#include "init/health_command.h"

#include <cstdio>

#include "session/control_client.h"
#include "session/protocol.h"

namespace tazpod::init {

int RunHealthCommand(const HealthCommand& command) {
  session::CallResult r =
      session::Call(command.socket, {{"v", session::kProtocolVersion}, {"op", "health.check"}}, nullptr, command.timeout);
  if (!r.delivered) {
    std::printf("unhealthy: %s\n", r.error.c_str());
    return 1;
  }
  if (!r.reply.value("ok", false)) {
    std::printf("unhealthy: %s\n", r.reply.value("error", std::string("the supervisor refused the check")).c_str());
    return 1;
  }
  const bool healthy = r.reply.value("healthy", false);
  if (healthy) {
    std::printf("healthy: vault %s, %d session(s)%s\n", r.reply.value("vault", "unknown").c_str(),
                r.reply.value("sessions", 0), r.reply.value("ready", false) ? "" : ", not ready for logins");
    return 0;
  }
  std::printf("unhealthy: %s\n", r.reply.value("reason", std::string("unknown")).c_str());
  return 1;
}

}  // namespace tazpod::init
