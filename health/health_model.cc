#include "health/health_model.h"

#include <nlohmann/json.hpp>

namespace tazpod::health {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

double Seconds(milliseconds duration) { return static_cast<double>(duration.count()) / 1000.0; }

// How long the running vault operation has run; zero when none runs.
milliseconds BusyFor(const HealthSnapshot& snapshot) {
  if (!snapshot.vault_busy_since) return milliseconds(0);
  const auto busy = duration_cast<milliseconds>(snapshot.now - *snapshot.vault_busy_since);
  return busy.count() > 0 ? busy : milliseconds(0);
}

std::string WholeSeconds(milliseconds duration) { return std::to_string(duration.count() / 1000) + "s"; }

void AddReason(Verdict& verdict, const std::string& reason) {
  if (verdict.ok) {
    verdict.ok = false;
    verdict.reason = reason;
  } else {
    verdict.reason += "; " + reason;
  }
}

}  // namespace

std::vector<double> DurationBuckets() { return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}; }

Verdict Liveness(const HealthSnapshot& snapshot, const HealthPolicy& policy) {
  Verdict verdict;
  for (const ComponentHealth& component : snapshot.components) {
    if (!component.failed) continue;
    AddReason(verdict, component.name + " failed" + (component.reason.empty() ? "" : ": " + component.reason));
  }
  if (snapshot.vault_state == "failed")
    AddReason(verdict, "vault failed" + (snapshot.vault_reason.empty() ? "" : ": " + snapshot.vault_reason));
  const milliseconds busy = BusyFor(snapshot);
  if (snapshot.vault_busy_since && busy > policy.max_vault_operation) {
    const std::string operation = snapshot.vault_operation.empty() ? "operation" : snapshot.vault_operation;
    AddReason(verdict, "vault " + operation + " running for " + WholeSeconds(busy) + " (limit " +
                           WholeSeconds(policy.max_vault_operation) + ")");
  }
  if (verdict.ok) verdict.reason = "ok";
  return verdict;
}

Verdict Readiness(const HealthSnapshot& snapshot, const HealthPolicy& policy) {
  Verdict verdict = Liveness(snapshot, policy);
  if (!snapshot.accepting_logins) AddReason(verdict, "not accepting logins");
  return verdict;
}

std::string StatusJson(const HealthSnapshot& snapshot, const HealthPolicy& policy) {
  const Verdict live = Liveness(snapshot, policy);
  const Verdict ready = Readiness(snapshot, policy);
  nlohmann::json vault = {{"state", snapshot.vault_state}};
  if (!snapshot.vault_reason.empty()) vault["reason"] = snapshot.vault_reason;
  if (snapshot.vault_busy_since) {
    vault["operation"] = snapshot.vault_operation;
    vault["operation_seconds"] = Seconds(BusyFor(snapshot));
  }
  nlohmann::json components = nlohmann::json::array();
  for (const ComponentHealth& c : snapshot.components) {
    nlohmann::json entry = {{"name", c.name}, {"state", c.state}, {"failed", c.failed}};
    if (!c.reason.empty()) entry["reason"] = c.reason;
    components.push_back(std::move(entry));
  }
  const HealthCounters& n = snapshot.counters;
  const nlohmann::json status = {
      {"healthy", live.ok},
      {"ready", ready.ok},
      {"reason", ready.reason},
      {"version", snapshot.version},
      {"uptime_seconds", Seconds(snapshot.uptime)},
      {"vault", std::move(vault)},
      {"sessions", snapshot.sessions},
      {"accepting_logins", snapshot.accepting_logins},
      {"throttle_delay_seconds", Seconds(snapshot.throttle_delay)},
      {"last_error", snapshot.last_error},
      {"components", std::move(components)},
      {"counters",
       {{"logins_ok", n.logins_ok},
        {"logins_refused", n.logins_refused},
        {"passphrase_changes_ok", n.passphrase_changes_ok},
        {"passphrase_changes_refused", n.passphrase_changes_refused},
        {"unlocks_ok", n.unlocks_ok},
        {"unlocks_failed", n.unlocks_failed},
        {"locks_ok", n.locks_ok},
        {"locks_failed", n.locks_failed},
        {"throttle_delays", n.throttle_delays},
        {"zombies_reaped", n.zombies_reaped},
        {"component_failures", n.component_failures}}},
  };
  // Replace, not throw, on invalid UTF-8 in a reason: nothing throws to the loop.
  return status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string MetricsText(const HealthSnapshot& snapshot, const HealthPolicy& policy) {
  const HealthCounters& n = snapshot.counters;
  MetricsWriter w;

  w.Family("tazpod_build_info", MetricType::kGauge, "Always 1; the version of tazpod in a label.");
  w.Sample(1, {{"version", snapshot.version}});
  w.Gauge("tazpod_uptime_seconds", "Seconds since PID 1 started.", Seconds(snapshot.uptime));
  w.Gauge("tazpod_healthy", "1 when /healthz answers 200.", Liveness(snapshot, policy).ok ? 1 : 0);
  w.Gauge("tazpod_ready", "1 when /readyz answers 200.", Readiness(snapshot, policy).ok ? 1 : 0);

  w.Family("tazpod_component_failed", MetricType::kGauge, "1 when the component has failed.");
  for (const ComponentHealth& c : snapshot.components) w.Sample(c.failed ? 1 : 0, {{"component", c.name}});
  w.Counter("tazpod_component_failures_total", "Vault operations that failed with a system error.",
            static_cast<double>(n.component_failures));

  w.Family("tazpod_vault_state", MetricType::kGauge, "1 for the state the vault is in, 0 for the others.");
  bool current_listed = false;
  for (const std::string& name : snapshot.vault_state_names) {
    current_listed = current_listed || name == snapshot.vault_state;
    w.Sample(name == snapshot.vault_state ? 1 : 0, {{"state", name}});
  }
  if (!current_listed && !snapshot.vault_state.empty()) w.Sample(1, {{"state", snapshot.vault_state}});
  w.Gauge("tazpod_vault_operation_seconds", "How long the running vault operation has run; 0 when none.",
          Seconds(BusyFor(snapshot)));

  w.Family("tazpod_vault_unlocks_total", MetricType::kCounter, "Vault unlocks by result (wrong passphrases are logins).");
  w.Sample(static_cast<double>(n.unlocks_ok), {{"result", "ok"}});
  w.Sample(static_cast<double>(n.unlocks_failed), {{"result", "failed"}});
  w.Family("tazpod_vault_locks_total", MetricType::kCounter, "Vault locks by result.");
  w.Sample(static_cast<double>(n.locks_ok), {{"result", "ok"}});
  w.Sample(static_cast<double>(n.locks_failed), {{"result", "failed"}});
  w.Family("tazpod_vault_unlock_duration_seconds", MetricType::kHistogram, "Duration of vault unlocks.");
  w.HistogramSamples(snapshot.unlock_seconds);
  w.Family("tazpod_vault_lock_duration_seconds", MetricType::kHistogram, "Duration of vault locks.");
  w.HistogramSamples(snapshot.lock_seconds);

  w.Gauge("tazpod_sessions", "Open gated sessions.", snapshot.sessions);
  w.Family("tazpod_logins_total", MetricType::kCounter, "Login attempts by result.");
  w.Sample(static_cast<double>(n.logins_ok), {{"result", "ok"}});
  w.Sample(static_cast<double>(n.logins_refused), {{"result", "refused"}});
  w.Family("tazpod_passphrase_changes_total", MetricType::kCounter, "Passphrase changes through the gate by result.");
  w.Sample(static_cast<double>(n.passphrase_changes_ok), {{"result", "ok"}});
  w.Sample(static_cast<double>(n.passphrase_changes_refused), {{"result", "refused"}});
  w.Counter("tazpod_throttle_delays_total", "Wrong passphrases (logins and changes) that set a throttle delay.",
            static_cast<double>(n.throttle_delays));
  w.Counter("tazpod_throttle_delay_seconds_total", "Seconds of the throttle delays those wrong passphrases set, in all.",
            n.throttle_delay_seconds);
  w.Gauge("tazpod_throttle_current_delay_seconds",
          "How long the next passphrase attempt must wait: the longer of root's delay and the user's.",
          Seconds(snapshot.throttle_delay));

  w.Counter("tazpod_zombies_reaped_total", "Child processes reaped by PID 1.", static_cast<double>(n.zombies_reaped));

  w.Counter("tazpod_http_requests_total", "Requests answered by the health endpoint, the reply taken whole.",
            static_cast<double>(n.http_requests));
  w.Counter("tazpod_http_connections_evicted_total",
            "Connections closed to make room for a new one: the one waiting longest on its client.",
            static_cast<double>(n.http_connections_evicted));
  w.Counter("tazpod_http_timeouts_total", "Connections dropped by a read, write or linger deadline (not idle kept-alive ones, which end so by design).",
            static_cast<double>(n.http_timeouts));
  w.Counter("tazpod_http_bad_requests_total", "Requests refused as malformed, oversized or with a body.",
            static_cast<double>(n.http_bad_requests));
  return w.text();
}

}  // namespace tazpod::health
