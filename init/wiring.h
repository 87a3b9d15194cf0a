// Wiring: builds the vault service and the control server and connects them
// (the only place where vault and session meet), registers the control
// operations, the vault's "lock" as the first shutdown step, and the health
// service that watches them all.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "init/config.h"
#include "init/health_service.h"
#include "init/supervisor.h"
#include "init/vault_service.h"
#include "session/control_server.h"
#include "session/gate.h"

namespace tazpod::init {

// The vault as the gate sees it (session::GateVault), backed by VaultService.
class GateVaultAdapter : public session::GateVault {
 public:
  explicit GateVaultAdapter(VaultService& vault) : vault_(vault) {}
  std::string State() const override;
  void WhenIdle(std::function<void()> then) override;
  void Unlock(SecretBuffer passphrase, bool may_create, Done done) override;
  void Verify(SecretBuffer passphrase, Done done) override;
  void Lock(Done done) override;
  void ChangePassphrase(SecretBuffer both, Done done) override;
  int MountNamespace() const override;

 private:
  VaultService& vault_;
};

struct Components {
  std::unique_ptr<VaultService> vault;            // null when disabled or misconfigured
  std::unique_ptr<GateVaultAdapter> gate_vault;
  std::unique_ptr<session::Gate> gate;            // null without a vault
  std::unique_ptr<session::ControlServer> control;  // null when disabled or failed
  std::string control_error;                      // why it failed, for the health reason
  std::unique_ptr<HealthService> health;           // always; serves HTTP when configured
};

// A component that cannot start is logged as init.component.failed and
// left out, also one that cannot be made (no descriptor left for the
// timerfd of one of its timers: the gate, the control server): each is
// built whole before anything of it is started or given to `supervisor`,
// so that nothing names it once it is gone. The vault runs without a gate.
// Health reports each. Only an allocation that fails while the parts
// are connected throws out of here (init then exits 1, docs/init.md).
Components WireComponents(boost::asio::io_context& io, Supervisor& supervisor, const Config& config);

}  // namespace tazpod::init
