// HealthService: what probes, Prometheus and `tazpod health` see of PID 1
// (docs/health.md).
//
// It reads the components' state in memory on each request (the vault
// service, the gate, the reaper, the control socket) into a
// health::HealthSnapshot, and lets health/ decide healthy and ready. It
// serves the HTTP endpoint on PID 1's loop (never blocked by a vault
// operation: those run in the helper) and the control op "health.check".
// It also keeps the vault's operation counts and durations, and writes the
// vault's audit events (common/audit.h), as the vault service's observer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/kernel_timer.h"
#include "health/health_model.h"
#include "health/http_server.h"
#include "init/component_failures.h"
#include "init/config.h"
#include "init/reaper.h"
#include "init/vault_service.h"
#include "session/control_server.h"
#include "session/gate.h"

namespace tazpod::init {

class HealthService {
 public:
  // Any component pointer may be null (disabled, or failed to start); a
  // configured one that is null has failed, and `control_error` says why
  // the control socket did. Each of `failures` is reported failed too.
  HealthService(boost::asio::io_context& io, const Config& config, Reaper& reaper, const ComponentFailures& failures,
                VaultService* vault, session::Gate* gate, session::ControlServer* control, std::string control_error);

  // Starts the HTTP endpoint when configured and registers "health.check".
  // An endpoint that cannot listen (its port taken, its address not there
  // yet) is logged and reported as a failed component, never fatal, and
  // tried again after 1 s, then after twice as long each time, at most
  // every minute, until it listens. Only then is a timer armed.
  void Start();

  // Shutdown began: no longer ready for logins.
  void StopAccepting() { accepting_ = false; }

  health::HealthSnapshot Snapshot() const;

 private:
  // Makes the HTTP endpoint and has it listen: on any failure, a throw
  // (no descriptor for its timers) included, ListenLater().
  void Listen();
  void ListenLater();
  // The control socket's entry: failed (it does not listen), accepting
  // failing for now, or running.
  health::ComponentHealth ControlSocketHealth() const;

  void OnVaultOperation(const std::string& operation, const VaultOutcome& outcome, std::chrono::milliseconds duration);

  boost::asio::io_context& io_;
  const Config& config_;
  Reaper& reaper_;
  const ComponentFailures& failures_;
  VaultService* vault_;
  session::Gate* gate_;
  session::ControlServer* control_;
  std::string control_error_;
  health::HealthPolicy policy_;
  std::unique_ptr<health::HttpServer> http_;
  std::string http_error_;
  std::optional<KernelTimer> listen_retry_;
  std::chrono::milliseconds listen_retry_delay_;
  int listen_attempts_ = 0;
  bool accepting_ = true;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  health::HealthCounters counters_;
  health::Histogram unlock_seconds_{health::DurationBuckets()};
  health::Histogram lock_seconds_{health::DurationBuckets()};
};

}  // namespace tazpod::init
