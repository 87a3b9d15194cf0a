#include "session/gate.h"

#include <memory>

#include "common/log.h"
#include "session/protocol.h"

namespace tazpod::session {

namespace {

using Clock = std::chrono::steady_clock;

long long MillisUntil(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return ms > 0 ? ms : 0;
}

nlohmann::json Refusal(const std::string& kind, const std::string& error) {
  return {{"v", kProtocolVersion}, {"ok", false}, {"kind", kind}, {"error", error}};
}

}  // namespace

Gate::Gate(boost::asio::io_context& io, GateVault& vault, GateSettings settings)
    : io_(io),
      vault_(vault),
      settings_(std::move(settings)),
      throttle_(settings_.throttle_base, settings_.throttle_cap),
      registry_(io, [this] { OnLastSessionEnded(); }),
      lock_timer_(io) {}

void Gate::Register(ControlServer& control) {
  control.Handle("gate.status", [this](ControlRequest&, ControlServer::Reply reply) {
    reply({{"v", kProtocolVersion},
           {"ok", true},
           {"vault", vault_.State()},
           {"first_login", vault_.State() == "absent"},
           {"min_length", settings_.min_passphrase_length},
           {"sessions", registry_.count()},
           {"retry_after_ms", MillisUntil(next_attempt_)}});
  });
  control.Handle("gate.login", [this](ControlRequest& request, ControlServer::Reply reply) { Login(request, reply); });
}

void Gate::Login(ControlRequest& request, ControlServer::Reply reply) {
  const PeerCredentials peer = request.peer;
  if (request.secret.size() == 0) return reply(Refusal("invalid", "no passphrase"));
  if (Clock::now() < next_attempt_) {
    long long wait = MillisUntil(next_attempt_);
    Log(LogLevel::kWarn, "gate.refused", {{"reason", "throttled"}, {"pid", peer.pid}, {"retry_after_ms", wait}});
    nlohmann::json r = Refusal("throttled", "too many wrong passphrases: wait before trying again");
    r["retry_after_ms"] = wait;
    return reply(r);
  }
  const bool create = request.header.value("create", false);
  // Move-only secrets cannot live in a std::function: share them.
  auto passphrase = std::make_shared<SecretBuffer>(std::move(request.secret));
  Log(LogLevel::kInfo, "gate.attempt", {{"pid", peer.pid}, {"uid", peer.uid}, {"vault", vault_.State()}});
  // A login during another operation (an unlock by a racing login, a lock)
  // waits for it, then proves its own passphrase.
  vault_.WhenIdle([this, passphrase, create, peer, reply] { Decide(std::move(*passphrase), create, peer, reply); });
}

void Gate::Decide(SecretBuffer passphrase, bool create, PeerCredentials peer, ControlServer::Reply reply) {
  const std::string state = vault_.State();
  if (state == "absent" && !create)
    return reply(Refusal("refused", "there is no vault yet: log in again to create it"));
  if (state == "absent" && passphrase.size() < settings_.min_passphrase_length)
    return reply(Refusal("invalid", "the passphrase must have at least " +
                                        std::to_string(settings_.min_passphrase_length) + " characters"));
  lock_timer_.cancel();
  auto finish = [this, peer, reply](const GateVault::Result& result) {
    if (result.wrong_passphrase) {
      throttle_.RecordFailure();
      auto delay = throttle_.Delay();
      next_attempt_ = Clock::now() + delay;
      Log(LogLevel::kWarn, "gate.refused",
          {{"reason", "wrong_passphrase"}, {"pid", peer.pid}, {"uid", peer.uid},
           {"failures", throttle_.consecutive_failures()}, {"delay_s", static_cast<long long>(delay.count() / 1000)}});
      nlohmann::json r = Refusal("wrong_passphrase", "wrong passphrase");
      r["retry_after_ms"] = static_cast<long long>(delay.count());
      if (registry_.count() == 0) OnLastSessionEnded();
      return reply(r);
    }
    if (!result.ok) {
      Log(LogLevel::kError, "gate.refused", {{"reason", "vault_error"}, {"pid", peer.pid}, {"error", result.error}});
      return reply(Refusal("vault", result.error));
    }
    throttle_.RecordSuccess();
    if (!registry_.Add(peer.pid, peer.uid)) {
      if (registry_.count() == 0) OnLastSessionEnded();
      return reply(Refusal("gone", "the login process is gone"));
    }
    Log(LogLevel::kInfo, "gate.accepted", {{"pid", peer.pid}, {"uid", peer.uid}});
    reply({{"v", kProtocolVersion}, {"ok", true}, {"user", settings_.user}, {"mountpoint", settings_.mountpoint},
           {"sessions", registry_.count()}});
  };
  if (state == "unlocked") vault_.Verify(std::move(passphrase), finish);
  else vault_.Unlock(std::move(passphrase), finish);
}

void Gate::OnLastSessionEnded() {
  auto lock = [this] {
    vault_.WhenIdle([this] {
      if (registry_.count() != 0 || vault_.State() != "unlocked") return;
      Log(LogLevel::kInfo, "gate.lock", {{"reason", "last_session_exit"}});
      vault_.Lock([](const GateVault::Result& r) {
        if (!r.ok) Log(LogLevel::kError, "gate.lock.failed", {{"error", r.error}});
      });
    });
  };
  if (settings_.lock_grace.count() == 0) return lock();
  lock_timer_.expires_after(settings_.lock_grace);
  lock_timer_.async_wait([lock](boost::system::error_code ec) {
    if (!ec) lock();
  });
}

}  // namespace tazpod::session
