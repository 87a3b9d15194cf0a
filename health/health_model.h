// The health rules: from a snapshot of PID 1's state, whether it is alive
// (/healthz), whether it is ready to take logins (/readyz), and the bodies of
// /status (JSON) and /metrics (Prometheus text).
//
// Pure functions of a plain struct: init/ fills a HealthSnapshot from its
// components on each request (all in memory, on the loop), and the unit tests
// build snapshots by hand. Nothing here reads a clock, a file or the vault.
//
// What the snapshot holds is what the endpoints may show, so it holds no
// secret by construction: no passphrase, nor its length, no path inside the
// vault, nothing read from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "health/metrics.h"

namespace tazpod::health {

// One part of PID 1 that can fail on its own (the reaper, the control socket,
// the vault service, the HTTP endpoint...).
struct ComponentHealth {
  std::string name;      // stable, lower case: "reaper", "control_socket"
  std::string state;     // its own word for what it is doing: "running", "stopped"
  bool failed = false;   // a failed component makes PID 1 unhealthy
  std::string reason;    // why it failed, or what holds it back; empty when nothing does
};

// Event counts since PID 1 started. Monotonic: they only grow.
struct HealthCounters {
  std::uint64_t logins_ok = 0;          // passphrase accepted, shell started
  std::uint64_t logins_refused = 0;     // wrong passphrase (and other refusals by the gate)
  std::uint64_t passphrase_changes_ok = 0;       // `tazpod passwd` through the gate
  std::uint64_t passphrase_changes_refused = 0;  // as logins_refused, for those changes
  std::uint64_t unlocks_ok = 0;
  std::uint64_t unlocks_failed = 0;     // failures other than a wrong passphrase
  std::uint64_t locks_ok = 0;
  std::uint64_t locks_failed = 0;
  std::uint64_t throttle_delays = 0;    // wrong passphrases (logins and changes) that set a delay
  double throttle_delay_seconds = 0;    // the sum of those delays
  std::uint64_t zombies_reaped = 0;
  std::uint64_t component_failures = 0; // vault operations that failed with a system error
  // From HttpServer::stats().
  std::uint64_t http_requests = 0;
  std::uint64_t http_connections_evicted = 0;
  std::uint64_t http_timeouts = 0;
  std::uint64_t http_bad_requests = 0;
};

// Bucket bounds in seconds for vault operation durations: from a cheap test
// PBKDF to a first unlock with argon2id, mkfs and slow hooks.
std::vector<double> DurationBuckets();

struct HealthSnapshot {
  // When the snapshot was taken, on the clock of vault_busy_since.
  std::chrono::steady_clock::time_point now{};
  std::chrono::milliseconds uptime{0};  // since PID 1 started
  std::string version;                  // tazpod::kVersion

  std::vector<ComponentHealth> components;

  // The vault's state by its stable name (vault::Name(): "absent", "locked",
  // "unlocking", "unlocked", "locking", "failed").
  std::string vault_state;
  // Every state name the vault can be in, so /metrics shows 0 for the other
  // states rather than leaving them out. May be empty.
  std::vector<std::string> vault_state_names;
  // Why the vault is in "failed"; empty otherwise.
  std::string vault_reason;
  // Set while a vault operation runs: when it began, and which ("unlock",
  // "lock", "passwd"). An operation running past the policy's limit is a
  // wedged helper: PID 1 is then unhealthy.
  std::optional<std::chrono::steady_clock::time_point> vault_busy_since;
  std::string vault_operation;

  // False once shutdown began or while the gate cannot take logins (the
  // control socket is not served).
  bool accepting_logins = true;
  int sessions = 0;
  // How long the next login attempt must wait (the throttle); 0 when none.
  std::chrono::milliseconds throttle_delay{0};
  // The vault's last error (its last failure's message, kept after a
  // refused unlock too), for people; empty when none. Other components'
  // errors are in `components`.
  std::string last_error;

  HealthCounters counters;
  Histogram unlock_seconds{DurationBuckets()};
  Histogram lock_seconds{DurationBuckets()};
};

struct HealthPolicy {
  // A vault operation running longer than this makes PID 1 unhealthy.
  std::chrono::milliseconds max_vault_operation{std::chrono::minutes(5)};
};

struct Verdict {
  bool ok = true;
  std::string reason;  // "ok", or every reason it is not, joined by "; "
};

// /healthz: nothing has failed and no vault operation is stuck. That the
// loop answers at all is the rest of liveness.
Verdict Liveness(const HealthSnapshot& snapshot, const HealthPolicy& policy);

// /readyz: alive, and the gate is taking logins. A locked or absent vault is
// ready (a login unlocks it), and so is one being unlocked or locked (a login
// waits for the operation and then proves its passphrase).
Verdict Readiness(const HealthSnapshot& snapshot, const HealthPolicy& policy);

// /status: one JSON object and a newline (docs/health.md lists the fields).
std::string StatusJson(const HealthSnapshot& snapshot, const HealthPolicy& policy);

// /metrics: the Prometheus page (docs/health.md lists the metrics).
std::string MetricsText(const HealthSnapshot& snapshot, const HealthPolicy& policy);

// The content type of MetricsText() for the HTTP response.
inline constexpr const char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace tazpod::health
