// Wiring: builds the vault service and the control server and connects them
// (the only place where vault and session meet), registers the control
// operations, and the vault's "lock" as the first shutdown step.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "init/config.h"
#include "init/supervisor.h"
#include "init/vault_service.h"
#include "session/control_server.h"

namespace tazpod::init {

struct Components {
  std::unique_ptr<VaultService> vault;            // null when disabled or misconfigured
  std::unique_ptr<session::ControlServer> control;  // null when disabled or failed
};

// Never fails PID 1: a component that cannot start is logged as
// init.component.failed and left out.
Components WireComponents(boost::asio::io_context& io, Supervisor& supervisor, const Config& config);

}  // namespace tazpod::init
