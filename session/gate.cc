#include "session/gate.h"

#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/audit.h"
#include "common/flood_limit.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/proc_stat.h"
#include "session/protocol.h"

namespace tazpod::session {

namespace {

// What the vault says of a wrong passphrase when it has nothing to add.
constexpr const char* kPlainWrongPassphrase = "wrong passphrase";
constexpr const char* kLastingCause = "the vault refused the last attempt for a cause that lasts";

using Clock = std::chrono::steady_clock;

// A pidfd of the process that connected, one that can signal it (a forced
// lock hangs sessions up through it): the one the kernel recorded at
// connect() where it has SO_PEERPIDFD, else the process with its pid now.
// Invalid when there is none, with the call that failed in *call and its
// errno set (ESRCH: the process is gone).
UniqueFd OpenPeerProcess(const PeerCredentials& peer, const char** call) {
  *call = "pidfd_open";
  if (peer.gone) {
    errno = ESRCH;
    return UniqueFd();
  }
  if (peer.pidfd) *call = "fcntl(F_DUPFD_CLOEXEC)";  // out of descriptors, say
  UniqueFd process = peer.pidfd ? UniqueFd(fcntl(peer.pidfd->get(), F_DUPFD_CLOEXEC, 0)) : OpenProcess(peer.pid);
  if (!process) return process;
  // A seccomp profile that predates pidfds refuses this too, even where
  // SO_PEERPIDFD made pidfd_open unneeded.
  *call = "pidfd_send_signal";
  if (const int error = SendSignal(peer.pid, process.get(), 0)) {
    process.Reset();
    errno = error;
  }
  return process;
}

long long MillisUntil(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return ms > 0 ? ms : 0;
}

nlohmann::json Refusal(const std::string& kind, const std::string& error) {
  return {{"v", kProtocolVersion}, {"ok", false}, {"kind", kind}, {"error", error}};
}

// The terminal of the process that connected as the kernel knows it
// (/proc/PID/stat, tty_nr): "pts/3", "tty1", "none", or "unknown" once that
// process is gone. Read here rather than trusted from the client. Read by
// pid, then checked through the connection's pidfd: a pid goes to another
// process only once its own is reaped, so one still there after the read
// means the read was its. (Without SO_PEERPIDFD, before Linux 6.5, the pid
// alone: a login whose maker is gone may show the tty of the pid's next
// owner; docs/gate.md.)
std::string TtyOf(const PeerCredentials& peer) {
  if (peer.gone) return "unknown";
  const std::optional<ProcStat> stat = ReadProcStat(peer.pid);
  if (!stat) return "unknown";
  if (peer.pidfd && SendSignal(peer.pid, peer.pidfd->get(), 0) == ESRCH) return "unknown";
  const unsigned long tty_nr = stat->tty_nr;
  if (tty_nr == 0) return "none";
  const unsigned major = (tty_nr >> 8) & 0xfff;
  const unsigned minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
  return std::to_string(major) + ":" + std::to_string(minor);
}

nlohmann::json Done(const std::string& state) { return {{"v", kProtocolVersion}, {"ok", true}, {"vault", state}}; }

}  // namespace

Gate::Gate(boost::asio::io_context& io, GateVault& vault, GateSettings settings)
    : io_(io),
      vault_(vault),
      settings_(std::move(settings)),
      root_attempts_(settings_),
      user_attempts_(settings_),
      registry_(io, [this] { OnLastSessionEnded(); }),
      lock_timer_(io),
      hangup_timer_(io) {}

void Gate::Register(ControlServer& control) {
  control.Handle("gate.status", [this](ControlRequest& request, const ControlServer::Reply& reply) {
    const Attempts& attempts = AttemptsOf(request.peer.uid);  // the waits are the asker's own
    reply({{"v", kProtocolVersion},
           {"ok", true},
           {"vault", vault_.State()},
           {"first_login", vault_.State() == "absent"},
           {"min_length", settings_.min_passphrase_length},
           {"sessions", registry_.count()},
           {"user", settings_.user},
           {"mountpoint", settings_.mountpoint},
           {"retry_after_ms", MillisUntil(attempts.next_attempt)},
           // A passphrase change may wait longer than a login (VaultRefused).
           {"change_retry_after_ms", MillisUntil(std::max(attempts.next_change, attempts.next_attempt))}});
  });
  control.Handle(
      "gate.login", [this](ControlRequest& request, const ControlServer::Reply& reply) { Login(request, reply); },
      ControlServer::Passphrase::kFromRoot);
  control.Handle("gate.lock", [this](ControlRequest& request, const ControlServer::Reply& reply) { LockRequest(request, reply); });
  control.Handle(
      "gate.passwd", [this](ControlRequest& request, const ControlServer::Reply& reply) { Passwd(request, reply); },
      ControlServer::Passphrase::kFromRootOrUser);
}

std::optional<nlohmann::json> Gate::Throttled(const Caller& caller, const char* during) {
  const Attempts& attempts = AttemptsOf(caller.peer.uid);
  const bool change_paused = std::strcmp(during, "passwd") == 0 && attempts.next_change > attempts.next_attempt;
  const Clock::time_point until = change_paused ? attempts.next_change : attempts.next_attempt;
  if (Clock::now() >= until) return std::nullopt;
  long long wait = MillisUntil(until);
  CountRefusal(during);
  AuditFromPeer(LogLevel::kWarn, "gate.refused", caller.peer.uid,
                {{"reason", "throttled"}, {"pid", caller.peer.pid}, {"uid", caller.peer.uid}, {"tty", caller.tty}, {"retry_after_ms", wait}});
  const std::string why = change_paused ? std::string(kLastingCause) : attempts.throttled_for;
  nlohmann::json r = Refusal("throttled", why + ": wait before trying again");
  r["retry_after_ms"] = wait;
  return r;
}

nlohmann::json Gate::WrongPassphrase(const Caller& caller, const char* during, const std::string& detail) {
  Attempts& attempts = AttemptsOf(caller.peer.uid);
  attempts.throttle.RecordFailure();
  auto delay = attempts.throttle.Delay();
  attempts.next_attempt = Clock::now() + delay;
  attempts.throttled_for = "too many wrong passphrases";
  CountRefusal(during);
  ++stats_.throttle_delays;
  stats_.throttle_delay_seconds += static_cast<double>(delay.count()) / 1000.0;
  Audit(LogLevel::kWarn, "gate.refused",
        {{"reason", "wrong_passphrase"}, {"during", during}, {"pid", caller.peer.pid}, {"uid", caller.peer.uid},
         {"tty", caller.tty}, {"failures", attempts.throttle.consecutive_failures()},
         {"delay_s", static_cast<long long>(delay.count() / 1000)}, {"delay_ms", static_cast<long long>(delay.count())},
         {"error", detail == kPlainWrongPassphrase ? "" : detail}});
  nlohmann::json r = Refusal("wrong_passphrase", detail.empty() ? kPlainWrongPassphrase : detail);
  r["retry_after_ms"] = static_cast<long long>(delay.count());
  return r;
}

void Gate::CountRefusal(const char* during) {
  if (std::strcmp(during, "passwd") == 0) {
    ++stats_.passphrase_changes_refused;
  } else {
    ++stats_.logins_refused;
  }
}

void Gate::Refused(const Caller& caller, const char* during, const std::string& reason, const std::string& error) {
  CountRefusal(during);
  AuditFromPeer(error.empty() ? LogLevel::kWarn : LogLevel::kError, "gate.refused", caller.peer.uid,
                {{"reason", reason}, {"during", during}, {"pid", caller.peer.pid}, {"uid", caller.peer.uid}, {"tty", caller.tty},
         {"error", error}});
}

nlohmann::json Gate::VaultRefused(const Caller& caller, const char* during, const GateVault::Result& result) {
  Refused(caller, during, "vault_error", result.error);
  nlohmann::json r = Refusal("vault", result.error);
  if (!result.lasting) return r;
  Attempts& attempts = AttemptsOf(caller.peer.uid);
  const Clock::time_point until = Clock::now() + settings_.throttle_base;
  if (std::strcmp(during, "passwd") == 0) {
    // Left to changes: a keyslot the container's memory cannot open stops
    // a change, which must rewrite every keyslot the old passphrase opens,
    // but not a login, which may open another.
    attempts.next_change = std::max(attempts.next_change, until);
    r["retry_after_ms"] = MillisUntil(std::max(attempts.next_change, attempts.next_attempt));
    return r;
  }
  if (until > attempts.next_attempt) {  // else a wrong passphrase's wait is longer
    attempts.next_attempt = until;
    attempts.throttled_for = kLastingCause;
  }
  r["retry_after_ms"] = MillisUntil(attempts.next_attempt);
  return r;
}

std::chrono::milliseconds Gate::retry_after() const {
  return std::chrono::milliseconds(
      MillisUntil(std::max(root_attempts_.next_attempt, user_attempts_.next_attempt)));
}

Gate::Caller Gate::CallerOf(const ControlRequest& request) {
  return Caller{request.peer, TtyOf(request.peer)};
}

void Gate::Login(ControlRequest& request, const ControlServer::Reply& reply) {
  const Caller caller = CallerOf(request);
  // `tazpod login` starts as root and drops to the user only once it is
  // let in. Another uid's login could only guess, or hold a session (and
  // so the vault) open without a shell.
  if (caller.peer.uid != 0) {
    Refused(caller, "login", "not_root");
    return reply(Refusal("denied", "gate.login is for root: tazpod login starts as root (docker exec)"));
  }
  // Outside PID 1's PID namespace (host root through nsenter without -p,
  // another container sharing the socket's directory), the kernel gives
  // the pid as 0, and PID 1 can neither tell such sessions apart nor signal
  // them (pidfd_send_signal refuses, EINVAL): refused, saying where to go.
  if (caller.peer.pid == 0) {
    Refused(caller, "login", "outside_pid_namespace");
    return reply(Refusal("refused", "the login process is outside the container's PID namespace: log in from "
                                    "inside it (docker exec, or nsenter with --pid)"));
  }
  if (request.secret.size() == 0) {
    Refused(caller, "login", "no_passphrase");
    return reply(Refusal("invalid", "no passphrase"));
  }
  std::string error;
  const std::optional<bool> flag = RequestFlag(request.header, "create", &error);
  if (!flag) {
    Refused(caller, "login", "invalid_header");
    return reply(Refusal("invalid", error));
  }
  // A passphrase that would be set must be one `tazpod passwd` can change:
  // it sends OLD NUL NEW. (Only a client of its own could send one; the
  // prompt never takes a NUL.) One that is only tried is left to the vault.
  if (*flag && std::memchr(request.secret.data(), '\0', request.secret.size()) != nullptr) {
    Refused(caller, "login", "malformed");
    return reply(Refusal("invalid", "a passphrase cannot hold a NUL byte"));
  }
  if (auto refusal = Throttled(caller, "login")) return reply(*refusal);
  const bool create = *flag;
  // The session is this process: named by a pidfd now, not by its pid once
  // the unlock is done, when a client that died meanwhile may have left
  // its pid to another process. Better still, by the pidfd the kernel gave
  // for the connection: the request may come long after the connect(), from
  // a process that inherited the socket, once the pid went to another.
  const char* call = "";
  UniqueFd process = OpenPeerProcess(caller.peer, &call);
  if (!process) {
    const int open_error = errno;
    if (open_error == ESRCH) {
      Refused(caller, "login", "gone");
      return reply(Refusal("gone", "the login process is gone"));
    }
    // pidfds missing (ENOSYS, before Linux 5.3), refused by a seccomp
    // profile that predates them (EPERM), or PID 1 out of descriptors: the
    // session could not be tracked, so no login may be let in. Every login
    // would fail so: the message names the cause, not the caller.
    const std::string cause = std::string(call) + ": " + std::strerror(open_error);
    Refused(caller, "login", "no_pidfd", cause);
    std::string text = "the login process cannot be tracked (" + cause + ")";
    if (open_error == ENOSYS || open_error == EPERM)
      text += ": sessions need pidfd_open and pidfd_send_signal, from Linux 5.3, allowed by the container's "
              "seccomp profile";
    return reply(Refusal("refused", text));
  }
  // Move-only values cannot live in a std::function: share them.
  auto passphrase = std::make_shared<SecretBuffer>(std::move(request.secret));
  auto pidfd = std::make_shared<UniqueFd>(std::move(process));
  LogFromPeer(LogLevel::kInfo, "gate.attempt", caller.peer.uid,
              {{"pid", caller.peer.pid}, {"uid", caller.peer.uid}, {"tty", caller.tty}, {"vault", vault_.State()}});
  // A login during another operation (an unlock by a racing login, a lock)
  // waits for it, then proves its own passphrase.
  vault_.WhenIdle([this, passphrase, pidfd, create, caller, reply] {
    Decide(std::move(*passphrase), pidfd, create, caller, reply);
  });
}

void Gate::Decide(SecretBuffer passphrase, const std::shared_ptr<UniqueFd>& pidfd, bool create, Caller caller,
                  const ControlServer::Reply& reply) {
  // A login that died while it waited (killed, its terminal closed) would
  // have its passphrase unlock the vault for no one, and run the unlock
  // hooks.
  if (HasExited(pidfd->get())) {
    Refused(caller, "login", "gone");
    return reply(Refusal("gone", "the login process is gone"));
  }
  // Again, now that its turn has come: logins that arrived together all
  // passed the check on arrival, and one of those ahead of it may have been
  // a wrong passphrase. Otherwise parallel guesses would each be tried.
  if (auto refusal = Throttled(caller, "login")) return reply(*refusal);
  if (!admitting_) return RefuseStopping(caller, reply);
  // A lock was asked for and has not run yet: a forced one hanging the
  // sessions up (it kills those left), or one about to run, the sessions
  // gone. A login let in now would be killed or locked under, or would make
  // the lock fail ("a new session opened meanwhile"); it may log in again
  // once the lock is done.
  if (!lock_waiters_.empty()) {
    Refused(caller, "login", "locking");
    return reply(Refusal("refused", "the vault is being locked: log in again once it is"));
  }
  const std::string state = vault_.State();
  if (state == "absent" && !create) return NoVaultYet(caller, reply);
  // A first login (the client asked twice: `create`) may make the vault
  // when there is none: in an absent vault, or a failed one, whose failed
  // first unlock left no image. Any other unlock never creates one.
  const bool may_create = create && (state == "absent" || state == "failed");
  // Asked as a first login, yet there is a vault now: another login made
  // it since this one asked. The passphrase just chosen is not that
  // vault's, and must not be tried on it as a guess, throttling the user
  // for a race they did not run. (Another container that made the vault on
  // a shared volume leaves this state absent: the unlock finds it, below.)
  if (create && !may_create) return MadeMeanwhile(caller, reply);
  if (may_create && Utf8Characters(passphrase.view()) < settings_.min_passphrase_length) {
    Refused(caller, "login", "too_short");
    return reply(Refusal("invalid", "the passphrase must have at least " +
                                        std::to_string(settings_.min_passphrase_length) + " characters"));
  }
  // A pending lock (the last session's lock_grace) is left to run: only a
  // session that opens stops it. A login that fails must not restart the
  // grace period, or guessing would keep the vault unlocked; one that
  // succeeds is safe either way, since the lock waits for the vault to be
  // idle and then finds the session.
  // An unlock from an absent vault that found one the new passphrase does
  // not open: made since this login asked, by another container on the
  // same volume. As above, no guess. It is tried once: the vault is locked
  // now, and the next first login is refused before any unlock; absent
  // again only once its image is gone. Not from a failed vault: an unlock
  // broken off (its helper killed) leaves it failed, and could be made to
  // again and again, each time for a guess nobody throttled.
  const bool made_elsewhere_if_refused = may_create && state == "absent";
  // An unlocked vault is only checked: this login opens nothing.
  const bool opens_vault = state != "unlocked";
  auto finish = [this, caller, reply, pidfd, made_elsewhere_if_refused, opens_vault](const GateVault::Result& result) {
    if (result.wrong_passphrase && made_elsewhere_if_refused) return MadeMeanwhile(caller, reply);
    if (result.wrong_passphrase) return reply(WrongPassphrase(caller, "login", result.error));
    // The vault refused because the container began to stop meanwhile.
    if (!result.ok && !admitting_) return RefuseStopping(caller, reply);
    // The unlock found no image and may not create one: the next login is
    // a first login, asked twice. Not when the vault refused to create it
    // for a cause that lasts (an image the memory limit cannot hold): the
    // user must hear that cause, and the next attempt wait.
    if (!result.ok && !result.lasting && vault_.State() == "absent") return NoVaultYet(caller, reply);
    if (!result.ok) {
      // An unlock that failed part-way (its helper killed once the vault was
      // mounted) leaves it failed, perhaps open; with no session, no exit
      // would ever lock it. Locked now, and tried again if that fails.
      if (vault_.State() == "failed" && registry_.count() == 0) LockNow("unlock_failed");
      return reply(VaultRefused(caller, "login", result));
    }
    RightPassphrase(caller);
    // The container began to stop while the passphrase was checked.
    if (!admitting_) return RefuseStopping(caller, reply);
    if (const int not_added = registry_.Add(std::move(*pidfd), caller.peer.pid, caller.peer.uid)) {
      // Not gone, but PID 1 could not follow the session (its event loop
      // refused one more descriptor): the user hears why, not that their
      // login vanished.
      const bool gone = not_added == ESRCH;
      const std::string cause = gone ? "" : std::string("PID 1 cannot watch it: ") + std::strerror(not_added);
      Refused(caller, "login", gone ? "gone" : "untracked", cause);
      // It may have unlocked the vault itself, with no lock pending then:
      // the vault must not stay open for nobody. (It proved the passphrase,
      // so this restart of the grace period is no guesser's.) One it found
      // unlocked stays so: the gate locks only what its logins opened, and
      // a lock its sessions' end started is still pending.
      if (opens_vault && registry_.count() == 0) OnLastSessionEnded();
      if (gone) return reply(Refusal("gone", "the login process is gone"));
      return reply(Refusal("refused", "the login process cannot be tracked (" + cause + ")"));
    }
    lock_timer_.cancel();
    lock_retry_in_ = {};
    ++stats_.logins_ok;
    Audit(LogLevel::kInfo, "gate.accepted", {{"pid", caller.peer.pid}, {"uid", caller.peer.uid}, {"tty", caller.tty}});
    nlohmann::json r = {{"v", kProtocolVersion}, {"ok", true}, {"user", settings_.user},
                        {"mountpoint", settings_.mountpoint}, {"sessions", registry_.count()}};
    const int ns = vault_.MountNamespace();
    r["mount_namespace"] = ns >= 0;
    if (ns >= 0) return reply.WithDescriptor(r, ns);
    reply(r);
  };
  if (state == "unlocked") vault_.Verify(std::move(passphrase), finish);
  else vault_.Unlock(std::move(passphrase), may_create, finish);
}

void Gate::NoVaultYet(const Caller& caller, const ControlServer::Reply& reply) {
  Refused(caller, "login", "no_vault");
  reply(Refusal("refused", "there is no vault yet: log in again to create it"));
}

void Gate::MadeMeanwhile(const Caller& caller, const ControlServer::Reply& reply) {
  Refused(caller, "login", "made_meanwhile");
  reply(Refusal("refused", "the vault was created meanwhile, by another login: log in again with its passphrase"));
}

void Gate::RefuseStopping(const Caller& caller, const ControlServer::Reply& reply) {
  Refused(caller, "login", "stopping");
  reply(Refusal("refused", "the container is stopping"));
}

void Gate::LockRequest(ControlRequest& request, const ControlServer::Reply& reply) {
  const PeerCredentials peer = request.peer;
  std::string error;
  const std::optional<bool> flag = RequestFlag(request.header, "force", &error);
  if (!flag) return reply(Refusal("invalid", error));
  const bool force = *flag;
  vault_.WhenIdle([this, force, peer, reply] {
    const std::string state = vault_.State();
    if (state != "unlocked" && state != "failed") return reply(Done(state));
    if (registry_.count() == 0) {
      lock_waiters_.push_back(reply);
      return LockNow("requested");
    }
    if (!force) {
      nlohmann::json r = Refusal("sessions", std::to_string(registry_.count()) +
                                                 " session(s) are open: end them first, or use --force to end them");
      r["sessions"] = registry_.count();
      return reply(r);
    }
    Audit(LogLevel::kWarn, "gate.lock.force", {{"pid", peer.pid}, {"uid", peer.uid}, {"sessions", registry_.count()}});
    lock_waiters_.push_back(reply);
    // As if their terminals went away; the last exit then locks (now,
    // without the grace: lock_waiters_ is not empty).
    registry_.SignalAll(SIGHUP);
    registry_.SignalAll(SIGCONT);
    // Asked again, it keeps the first deadline: set anew each time, a loop
    // of requests would put the SIGKILL off, and every login with it.
    if (hangup_pending_) return;
    hangup_pending_ = true;
    hangup_timer_.expires_after(settings_.hangup_grace);
    hangup_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      hangup_pending_ = false;
      if (registry_.count() > 0) registry_.SignalAll(SIGKILL);
    });
  });
}

void Gate::Passwd(ControlRequest& request, const ControlServer::Reply& reply) {
  const Caller caller = CallerOf(request);
  const char* data = request.secret.data();
  const size_t size = request.secret.size();
  const void* nul = size ? std::memchr(data, '\0', size) : nullptr;
  if (!nul) {
    Refused(caller, "passwd", "malformed");
    return reply(Refusal("invalid", "expected the old and the new passphrase"));
  }
  const size_t new_length = size - (static_cast<const char*>(nul) - data) - 1;
  if (std::memchr(static_cast<const char*>(nul) + 1, '\0', new_length) != nullptr) {
    Refused(caller, "passwd", "malformed");
    return reply(Refusal("invalid", "the new passphrase cannot hold a NUL byte"));
  }
  if (Utf8Characters(std::string_view(static_cast<const char*>(nul) + 1, new_length)) <
      settings_.min_passphrase_length) {
    Refused(caller, "passwd", "too_short");
    return reply(Refusal("invalid", "the new passphrase must have at least " +
                                        std::to_string(settings_.min_passphrase_length) + " characters"));
  }
  if (auto refusal = Throttled(caller, "passwd")) return reply(*refusal);
  auto both = std::make_shared<SecretBuffer>(std::move(request.secret));
  vault_.WhenIdle([this, both, caller, reply] {
    if (auto refusal = Throttled(caller, "passwd")) return reply(*refusal);  // as in Decide
    if (vault_.State() == "absent") {
      Refused(caller, "passwd", "no_vault");
      return reply(Refusal("refused", "there is no vault yet"));
    }
    vault_.ChangePassphrase(std::move(*both), [this, caller, reply](const GateVault::Result& result) {
      if (result.wrong_passphrase) return reply(WrongPassphrase(caller, "passwd", result.error));
      if (!result.ok) return reply(VaultRefused(caller, "passwd", result));
      RightPassphrase(caller);
      ++stats_.passphrase_changes_ok;
      Audit(LogLevel::kInfo, "gate.passwd", {{"pid", caller.peer.pid}, {"uid", caller.peer.uid}, {"tty", caller.tty}});
      reply(Done(vault_.State()));
    });
  });
}

void Gate::RightPassphrase(const Caller& caller) {
  Attempts& attempts = AttemptsOf(caller.peer.uid);
  attempts.throttle.RecordSuccess();
  attempts.next_attempt = {};  // a wrong guess that raced it leaves no wait behind
}

void Gate::OnLastSessionEnded() {
  hangup_timer_.cancel();
  hangup_pending_ = false;
  if (settings_.lock_grace.count() == 0 || !lock_waiters_.empty()) return LockNow("last_session_exit");
  lock_timer_.expires_after(settings_.lock_grace);
  lock_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) LockNow("last_session_exit");
  });
}

void Gate::LockNow(const char* reason) {
  vault_.WhenIdle([this, reason] {
    auto answer = [this](const nlohmann::json& r) {
      std::vector<ControlServer::Reply> waiters = std::move(lock_waiters_);
      lock_waiters_.clear();
      for (const auto& reply : waiters) reply(r);
    };
    const std::string state = vault_.State();
    if (registry_.count() != 0 || (state != "unlocked" && state != "failed")) {
      lock_retry_in_ = {};  // nothing to lock now: a later failure starts again at the base delay
      if (registry_.count() != 0) return answer(Refusal("sessions", "a new session opened meanwhile"));
      return answer(Done(state));
    }
    Log(LogLevel::kInfo, "gate.lock", {{"reason", reason}});
    vault_.Lock([this, answer](const GateVault::Result& r) {
      if (!r.ok) {
        RetryLockLater(r.error);
        return answer(Refusal("vault", r.error));
      }
      lock_retry_in_ = {};
      answer(Done(vault_.State()));
    });
  });
}

void Gate::RetryLockLater(const std::string& error) {
  if (!admitting_) {
    Log(LogLevel::kError, "gate.lock.failed", {{"error", error}});
    return;
  }
  lock_retry_in_ = lock_retry_in_.count() == 0 ? settings_.lock_retry_base
                                               : std::min(2 * lock_retry_in_, settings_.lock_retry_cap);
  Log(LogLevel::kError, "gate.lock.failed", {{"error", error}, {"retry_in_ms", lock_retry_in_.count()}});
  lock_timer_.expires_after(lock_retry_in_);
  lock_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && admitting_) LockNow("retry");
  });
}

}  // namespace tazpod::session
