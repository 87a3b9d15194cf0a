// The gate: decides whether a login may have a shell.
//
// Every login proves the passphrase: the first login of an absent vault
// creates it (the client asked for the new passphrase twice), a locked vault
// is unlocked with it, an unlocked one checks it without touching the
// mapping. A login that arrives while another operation runs waits for it
// and still proves its own passphrase. Wrong passphrases are throttled with
// a growing delay shared by all of a caller's attempts (it is the vault that
// is guessed at, not a terminal). Root and the workstation user, the only
// two who may reach the socket, each have a delay of their own: the user's
// wrong `tazpod passwd` cannot hold back root's logins. Only root may log in
// (`tazpod login` starts as root, then drops to the user).
// Success registers the session before the reply, so the count is right
// before the shell exists; the last session's exit asks for the lock, and
// a lock that fails is asked for again, later each time, while no session
// is open.
//
// A session also gets the mount namespace the vault lives in (when there is
// one): the descriptor is passed with the accepted reply, and the login
// enters it before it drops to the user.
//
// The user's commands go through the gate too: `tazpod lock` (refused while
// sessions are live, unless forced: the sessions are hung up first) and
// `tazpod passwd` (throttled like a login: it, too, proves a passphrase).
//
// The gate knows the vault only through GateVault (implemented in init/),
// never LUKS itself.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kernel_timer.h"
#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "session/control_server.h"
#include "session/session_registry.h"
#include "session/throttle.h"

namespace tazpod::session {

// What the gate needs of the vault.
class GateVault {
 public:
  struct Result {
    bool ok = false;
    bool wrong_passphrase = false;
    std::string error;
    // Refused for a cause the next attempt would meet too (the image is in
    // use by another container, no keyslot fits the container's memory, a
    // new image would not fit in it).
    bool lasting = false;
  };
  using Done = std::function<void(const Result&)>;
  virtual ~GateVault() = default;
  virtual std::string State() const = 0;  // "absent", "locked", "unlocked", ...
  virtual void WhenIdle(std::function<void()> then) = 0;
  // `may_create`: the login passed the first login's checks, so the vault
  // may be created with this passphrase when there is none; otherwise an
  // unlock that finds no image fails and leaves the vault "absent".
  virtual void Unlock(SecretBuffer passphrase, bool may_create, Done done) = 0;
  virtual void Verify(SecretBuffer passphrase, Done done) = 0;
  virtual void Lock(Done done) = 0;
  // `both` is OLD, a NUL byte, NEW.
  virtual void ChangePassphrase(SecretBuffer both, Done done) = 0;
  // A descriptor of the mount namespace sessions must join, or -1.
  virtual int MountNamespace() const = 0;
};

struct GateSettings {
  std::size_t min_passphrase_length = 8;
  std::chrono::milliseconds throttle_base{1000};
  std::chrono::milliseconds throttle_cap{60000};
  std::chrono::milliseconds lock_grace{0};
  // A forced lock hangs sessions up (SIGHUP), then kills what is left after this.
  std::chrono::milliseconds hangup_grace{3000};
  // A lock of the gate's that fails is tried again after this, doubled
  // after each failure up to lock_retry_cap, while no session is open.
  std::chrono::milliseconds lock_retry_base{1000};
  std::chrono::milliseconds lock_retry_cap{60000};
  std::string user;
  std::string mountpoint;
};

// Counts since PID 1 started, for /metrics.
struct GateStats {
  // Each login or passphrase change ends in one of its two counts.
  std::uint64_t logins_ok = 0;
  std::uint64_t logins_refused = 0;   // any refusal: wrong passphrase, throttled, invalid, vault error
  std::uint64_t passphrase_changes_ok = 0;
  std::uint64_t passphrase_changes_refused = 0;  // as logins_refused, for `tazpod passwd`
  std::uint64_t throttle_delays = 0;  // wrong passphrases that set a delay (logins and changes)
  double throttle_delay_seconds = 0;  // the sum of those delays
};

class Gate {
 public:
  Gate(boost::asio::io_context& io, GateVault& vault, GateSettings settings);

  // Registers "gate.status", "gate.login", "gate.lock" and "gate.passwd" on
  // the control server.
  void Register(ControlServer& control);

  // The container is stopping: from now on no login is let in, including
  // one already waiting for the vault (it would get a shell that the
  // shutdown ends moments later).
  void StopAdmitting() { admitting_ = false; }

  size_t sessions() const { return registry_.count(); }
  const GateStats& stats() const { return stats_; }
  // How long until the next passphrase is heard (0 when not throttled):
  // the longer of root's delay and the user's, as the counters of wrong
  // passphrases (GateStats) count both.
  std::chrono::milliseconds retry_after() const;

 private:
  // Who a login or passwd request comes from: its credentials (SO_PEERCRED)
  // and its terminal, read from /proc once when the request arrives, so
  // every line about the attempt names the same one (the process may be
  // gone by the time its answer is logged).
  struct Caller {
    PeerCredentials peer;
    std::string tty;
  };
  static Caller CallerOf(const ControlRequest& request);

  // How soon one caller's next passphrase is heard.
  struct Attempts {
    explicit Attempts(const GateSettings& settings) : throttle(settings.throttle_base, settings.throttle_cap) {}
    Throttle throttle;
    std::chrono::steady_clock::time_point next_attempt{};
    std::string throttled_for = "too many wrong passphrases";  // why next_attempt is ahead
    std::chrono::steady_clock::time_point next_change{};  // a change's lasting refusal: the next change waits
  };
  // Root's, or the workstation user's (the only other uid the control
  // server lets in).
  Attempts& AttemptsOf(uid_t uid) { return uid == 0 ? root_attempts_ : user_attempts_; }

  void Login(ControlRequest& request, const ControlServer::Reply& reply);
  // `pidfd`: the login's, opened when its request arrived; shared, since
  // it waits in std::functions until the unlock is done.
  void Decide(SecretBuffer passphrase, const std::shared_ptr<UniqueFd>& pidfd, bool create, Caller caller,
              const ControlServer::Reply& reply);
  void LockRequest(ControlRequest& request, const ControlServer::Reply& reply);
  void Passwd(ControlRequest& request, const ControlServer::Reply& reply);
  // A refusal when attempts are held back (wrong passphrases, a lasting
  // vault refusal), else nullopt. `during`: "login" or "passwd".
  std::optional<nlohmann::json> Throttled(const Caller& caller, const char* during);
  // Counts a wrong passphrase and builds the refusal, with its delay and
  // the vault's `detail` (say, which keyslots it could not try).
  nlohmann::json WrongPassphrase(const Caller& caller, const char* during, const std::string& detail);
  // A right passphrase ends the caller's throttling: the count and the wait.
  void RightPassphrase(const Caller& caller);
  // Audits a login or change (`during`) the vault refused, and builds the
  // refusal. After a lasting cause the next attempt waits throttle_base:
  // such a refusal comes fast, and a loop would otherwise run the vault
  // helper, and write its log and audit lines, as fast as it connects. A
  // login's lasting refusal holds back the caller's logins and changes, a
  // change's only its changes (Attempts::next_change).
  nlohmann::json VaultRefused(const Caller& caller, const char* during, const GateVault::Result& result);
  // Counts a refused login or change (`during`: "login" or "passwd").
  void CountRefusal(const char* during);
  // Audits a refused login or passwd (gate.refused) and counts it.
  void Refused(const Caller& caller, const char* during, const std::string& reason, const std::string& error = "");
  // Refuses a login that found no vault and may not create one.
  void NoVaultYet(const Caller& caller, const ControlServer::Reply& reply);
  // Refuses a first login that finds a vault it did not make: the
  // passphrase it chose is not that vault's, so it is no guess, and is not
  // throttled as one.
  void MadeMeanwhile(const Caller& caller, const ControlServer::Reply& reply);
  // Refuses a login once the container is stopping (StopAdmitting).
  void RefuseStopping(const Caller& caller, const ControlServer::Reply& reply);
  void OnLastSessionEnded();
  // Locks once the vault is idle, if it is unlocked or failed and no
  // session is open; answers lock_waiters_.
  void LockNow(const char* reason);
  // A failed lock may leave the vault unlocked with nobody to lock it: no
  // session ends any more to ask again. So the gate asks again itself,
  // later and later (lock_retry_in_), until a lock succeeds, a session
  // opens, or the container stops (its shutdown locks).
  void RetryLockLater(const std::string& error);

  boost::asio::io_context& io_;
  GateVault& vault_;
  GateSettings settings_;
  Attempts root_attempts_;
  Attempts user_attempts_;
  SessionRegistry registry_;
  KernelTimer lock_timer_;  // the last session's lock_grace, or a lock's retry
  std::chrono::milliseconds lock_retry_in_{0};  // the current retry's delay; 0: none since the last success
  KernelTimer hangup_timer_;  // a forced lock's SIGKILL, hangup_grace after its SIGHUP
  bool hangup_pending_ = false;  // hangup_timer_ waits: a repeated force keeps its deadline
  // `tazpod lock` callers waiting for the lock to end.
  std::vector<ControlServer::Reply> lock_waiters_;
  GateStats stats_;
  bool admitting_ = true;
};

}  // namespace tazpod::session
