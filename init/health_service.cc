#include "init/health_service.h"

#include <algorithm>

#include "common/audit.h"
#include "common/log.h"
#include "session/protocol.h"
#include "vault/vault_state.h"
#include "version.h"

namespace tazpod::init {

namespace {

constexpr std::chrono::milliseconds kFirstListenRetry{1000};
constexpr std::chrono::milliseconds kLastListenRetry{60000};

using vault::VaultState;

health::HttpResponse Probe(const health::Verdict& verdict) {
  return {verdict.ok ? 200u : 503u, "text/plain; charset=utf-8", verdict.reason + "\n"};
}

}  // namespace

HealthService::HealthService(boost::asio::io_context& io, const Config& config, Reaper& reaper,
                             const ComponentFailures& failures, VaultService* vault, session::Gate* gate,
                             session::ControlServer* control, std::string control_error)
    : io_(io),
      config_(config),
      reaper_(reaper),
      failures_(failures),
      vault_(vault),
      gate_(gate),
      control_(control),
      control_error_(std::move(control_error)),
      listen_retry_delay_(kFirstListenRetry) {
  policy_.max_vault_operation = config.health.max_vault_operation;
  if (vault_) {
    vault_->SetObserver([this](const std::string& operation, const VaultOutcome& outcome,
                               std::chrono::milliseconds duration) { OnVaultOperation(operation, outcome, duration); });
  }
}

void HealthService::OnVaultOperation(const std::string& operation, const VaultOutcome& outcome,
                                     std::chrono::milliseconds duration) {
  const double seconds = static_cast<double>(duration.count()) / 1000.0;
  // A wrong passphrase is a refused login (the gate counts it), not a failure.
  const bool refused = outcome.kind == "wrong_passphrase";
  if (operation == "unlock") {
    if (outcome.ok) ++counters_.unlocks_ok;
    else if (!refused) ++counters_.unlocks_failed;
    if (outcome.ok) unlock_seconds_.Observe(seconds);
  } else if (operation == "lock") {
    ++(outcome.ok ? counters_.locks_ok : counters_.locks_failed);
    if (outcome.ok) lock_seconds_.Observe(seconds);
  }
  if (!outcome.ok && outcome.kind == "system") ++counters_.component_failures;
  if (operation == "verify") return;  // every login verifies; the gate audits the login itself
  const std::string result = outcome.ok ? "ok" : outcome.kind;
  Audit(outcome.ok || refused ? LogLevel::kInfo : LogLevel::kError, "vault.operation",
        {{"operation", operation}, {"result", result}, {"duration_ms", static_cast<long long>(duration.count())},
         {"error", outcome.ok ? "" : outcome.message}});
}

health::ComponentHealth HealthService::ControlSocketHealth() const {
  if (!control_) return {"control_socket", "failed", true, control_error_};
  // Not failed while accepting fails: that mends itself once descriptors
  // are free again. But no login gets in meanwhile (Snapshot).
  if (control_->accept_failing()) return {"control_socket", "accept_failing", false, control_->accept_error()};
  return {"control_socket", "running", false, ""};
}

health::HealthSnapshot HealthService::Snapshot() const {
  health::HealthSnapshot s;
  s.now = std::chrono::steady_clock::now();
  s.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(s.now - started_);
  s.version = kVersion;
  // The reaper is listed always; any other component that failed once
  // listed its failure (init/component_failures.h).
  if (auto reaper = failures_.failed().find("reaper"); reaper != failures_.failed().end())
    s.components.push_back({"reaper", "failed", true, reaper->second});
  else
    s.components.push_back({"reaper", "running", false, ""});
  for (const auto& [name, error] : failures_.failed())
    if (name != "reaper") s.components.push_back({name, "failed", true, error});
  if (config_.session.control) s.components.push_back(ControlSocketHealth());
  if (config_.vault.enabled && !vault_ && !failures_.failed().contains("vault"))  // else listed above, with why
    s.components.push_back({"vault", "failed", true, "not started: no workstation user " + config_.session.user});
  if (config_.health.http)
    s.components.push_back(http_ ? health::ComponentHealth{"http", "running", false, ""}
                                 : health::ComponentHealth{"http", "failed", true, http_error_});
  for (VaultState state : {VaultState::kAbsent, VaultState::kUnlocking, VaultState::kUnlocked, VaultState::kLocking,
                           VaultState::kLocked, VaultState::kFailed})
    s.vault_state_names.emplace_back(vault::Name(state));
  if (vault_) {
    s.vault_state = vault::Name(vault_->state());
    if (vault_->state() == VaultState::kFailed) s.vault_reason = vault_->last_error();
    s.vault_busy_since = vault_->running_since();
    s.vault_operation = vault_->running_operation();
    s.last_error = vault_->last_error();
  } else {
    s.vault_state = "disabled";
  }
  s.accepting_logins = accepting_ && gate_ != nullptr && control_ != nullptr && !control_->accept_failing();
  if (gate_) {
    s.sessions = static_cast<int>(gate_->sessions());
    s.throttle_delay = gate_->retry_after();
    s.counters.logins_ok = gate_->stats().logins_ok;
    s.counters.logins_refused = gate_->stats().logins_refused;
    s.counters.passphrase_changes_ok = gate_->stats().passphrase_changes_ok;
    s.counters.passphrase_changes_refused = gate_->stats().passphrase_changes_refused;
    s.counters.throttle_delays = gate_->stats().throttle_delays;
    s.counters.throttle_delay_seconds = gate_->stats().throttle_delay_seconds;
  }
  s.counters.unlocks_ok = counters_.unlocks_ok;
  s.counters.unlocks_failed = counters_.unlocks_failed;
  s.counters.locks_ok = counters_.locks_ok;
  s.counters.locks_failed = counters_.locks_failed;
  s.counters.component_failures = counters_.component_failures;
  s.counters.zombies_reaped = reaper_.total_reaped();
  if (http_) {
    const health::HttpServerStats& h = http_->stats();
    s.counters.http_requests = h.requests;
    s.counters.http_connections_evicted = h.connections_evicted;
    s.counters.http_timeouts = h.timeouts;
    s.counters.http_bad_requests = h.bad_requests;
  }
  s.unlock_seconds = unlock_seconds_;
  s.lock_seconds = lock_seconds_;
  return s;
}

void HealthService::Start() {
  if (control_) {
    control_->Handle("health.check", [this](session::ControlRequest&, const session::ControlServer::Reply& reply) {
      health::HealthSnapshot s = Snapshot();
      health::Verdict live = health::Liveness(s, policy_);
      health::Verdict ready = health::Readiness(s, policy_);
      reply({{"v", session::kProtocolVersion}, {"ok", true}, {"healthy", live.ok}, {"ready", ready.ok},
             {"reason", live.reason}, {"vault", s.vault_state}, {"sessions", s.sessions}});
    });
  }
  if (config_.health.http) Listen();
}

void HealthService::Listen() {
  ++listen_attempts_;
  health::HttpLimits limits;
  limits.max_connections = static_cast<int>(config_.health.max_connections);
  limits.read_timeout = config_.health.read_timeout;
  std::unique_ptr<health::HttpServer> http;
  try {
    http = std::make_unique<health::HttpServer>(io_, config_.health.address, config_.health.port, limits);
    http->Route("/healthz", [this] { return Probe(health::Liveness(Snapshot(), policy_)); });
    http->Route("/readyz", [this] { return Probe(health::Readiness(Snapshot(), policy_)); });
    http->Route("/status", [this] {
      return health::HttpResponse{200, "application/json", health::StatusJson(Snapshot(), policy_)};
    });
    http->Route("/metrics", [this] {
      return health::HttpResponse{200, health::kMetricsContentType, health::MetricsText(Snapshot(), policy_)};
    });
    http_error_ = http->Start();
  } catch (const std::exception& e) {  // no descriptor for its timers: as any failed listen, tried again
    http_error_ = e.what();
  }
  if (!http_error_.empty()) {
    ListenLater();
    return;
  }
  http_ = std::move(http);
  if (listen_attempts_ > 1)
    Log(LogLevel::kInfo, "init.component.recovered", {{"component", "http"}, {"attempts", listen_attempts_}});
}

void HealthService::ListenLater() {
  if (!listen_retry_) {
    try {
      listen_retry_.emplace(io_);  // its descriptor only for an endpoint that failed
    } catch (const std::exception& e) {
      // Out of descriptors, likely what failed the listen too.
      Log(LogLevel::kError, "init.component.failed",
          {{"component", "http"}, {"error", http_error_ + "; not tried again: " + e.what()}});
      return;
    }
  }
  listen_retry_delay_ = listen_attempts_ == 1 ? kFirstListenRetry : std::min(2 * listen_retry_delay_, kLastListenRetry);
  // Said once at error level, then at debug each time: a port taken for
  // hours must not fill the log.
  Log(listen_attempts_ == 1 ? LogLevel::kError : LogLevel::kDebug, "init.component.failed",
      {{"component", "http"}, {"error", http_error_},
       {"retry_in_ms", static_cast<long long>(listen_retry_delay_.count())}});
  listen_retry_->expires_after(listen_retry_delay_);
  listen_retry_->async_wait([this](boost::system::error_code ec) {
    if (!ec) Listen();
  });
}

}  // namespace tazpod::init
