// The gate: decides whether a login may have a shell.
//
// Every login proves the passphrase: the first login of an absent vault
// creates it (the client asked for the new passphrase twice), a locked vault
// is unlocked with it, an unlocked one checks it without touching the
// mapping. A login that arrives while another operation runs waits for it
// and still proves its own passphrase. Wrong passphrases are throttled with
// a growing delay shared by all logins (it is the vault that is guessed at).
// Success registers the session before the reply, so the count is right
// before the shell exists; the last session's exit asks for the lock.
//
// The gate knows the vault only through GateVault (implemented in init/),
// never LUKS itself.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "common/secret_buffer.h"
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
  };
  using Done = std::function<void(const Result&)>;
  virtual ~GateVault() = default;
  virtual std::string State() const = 0;  // "absent", "locked", "unlocked", ...
  virtual void WhenIdle(std::function<void()> then) = 0;
  virtual void Unlock(SecretBuffer passphrase, Done done) = 0;
  virtual void Verify(SecretBuffer passphrase, Done done) = 0;
  virtual void Lock(Done done) = 0;
};

struct GateSettings {
  std::size_t min_passphrase_length = 8;
  std::chrono::milliseconds throttle_base{1000};
  std::chrono::milliseconds throttle_cap{60000};
  std::chrono::milliseconds lock_grace{0};
  std::string user;
  std::string mountpoint;
};

class Gate {
 public:
  Gate(boost::asio::io_context& io, GateVault& vault, GateSettings settings);

  // Registers "gate.status" and "gate.login" on the control server.
  void Register(ControlServer& control);

  size_t sessions() const { return registry_.count(); }

 private:
  void Login(ControlRequest& request, ControlServer::Reply reply);
  void Decide(SecretBuffer passphrase, bool create, PeerCredentials peer, ControlServer::Reply reply);
  void OnLastSessionEnded();

  boost::asio::io_context& io_;
  GateVault& vault_;
  GateSettings settings_;
  Throttle throttle_;
  std::chrono::steady_clock::time_point next_attempt_{};
  SessionRegistry registry_;
  boost::asio::steady_timer lock_timer_;
};

}  // namespace tazpod::session
