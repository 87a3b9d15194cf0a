#include "init/wiring.h"

#include <pwd.h>
#include <unistd.h>

#include <string>

#include "common/audit.h"
#include "common/flood_limit.h"
#include "common/log.h"
#include "session/protocol.h"
#include "vault/passphrase_limits.h"

namespace tazpod::init {

// The prompts stop where the helper does: a passphrase typed in full is one
// the vault can take.
static_assert(session::kMaxPassphraseBytes == vault::kMaxPassphraseBytes);

namespace {

using session::ControlRequest;
using session::ControlServer;

nlohmann::json ReplyOf(const VaultOutcome& o, const VaultService& vault) {
  nlohmann::json reply = {{"v", session::kProtocolVersion}, {"ok", o.ok}, {"state", vault::Name(vault.state())}};
  if (!o.ok) {
    reply["kind"] = o.kind;
    reply["error"] = o.message;
  } else if (!o.message.empty()) {
    reply["warning"] = o.message;
  }
  return reply;
}

// Whether the vault is left to lock: unlocked, or failed (a lock finishes
// what failed), as the state machine says. For the shutdown's steps, which
// ask once the vault is idle.
bool LockCanBegin(const VaultService& vault) {
  return vault::NextState(vault.state(), vault::VaultEvent::kLockBegin).has_value();
}

// Docker sets a container's hostname to its id, which makes it a name that
// is unique on the host, as device-mapper names must be.
std::string DefaultMappingName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !*host) return "tazpod-vault";
  std::string name = "tazpod-";
  for (const char* p = host; *p; ++p) name += (isalnum(static_cast<unsigned char>(*p)) || *p == '-') ? *p : '_';
  return name;
}

// The `tazpod vault` commands are for root (scripts, the image's tooling):
// they skip the gate's sessions and throttling, so the workstation user,
// who may reach the socket, goes through gate.* instead.
bool RootOnly(const ControlRequest& request, const ControlServer::Reply& reply) {
  if (request.peer.uid == 0) return true;
  LogFromPeer(LogLevel::kWarn, "control.refused", request.peer.uid,
              {{"reason", "root_only"}, {"op", request.op}, {"uid", request.peer.uid}});
  reply({{"v", session::kProtocolVersion}, {"ok", false}, {"kind", "denied"},
         {"error", request.op + " is for root; use tazpod login, lock or passwd"}});
  return false;
}

void RegisterVaultOps(ControlServer& control, VaultService& vault) {
  control.Handle("vault.status", [&vault](ControlRequest&, const ControlServer::Reply& reply) {
    nlohmann::json r = {{"v", session::kProtocolVersion}, {"ok", true}, {"state", vault::Name(vault.state())},
                        {"busy", vault.busy()}};
    if (!vault.last_error().empty()) r["last_error"] = vault.last_error();
    reply(r);
  });
  auto with_vault = [&vault](const ControlServer::Reply& reply) {
    return [&vault, reply](const VaultOutcome& o) { reply(ReplyOf(o, vault)); };
  };
  control.Handle("vault.unlock", [&vault, with_vault](ControlRequest& req, const ControlServer::Reply& reply) {
    if (!RootOnly(req, reply)) return;
    if (req.secret.size() == 0) return reply({{"v", session::kProtocolVersion}, {"ok", false}, {"kind", "invalid"}, {"error", "no passphrase"}});
    // Root's unlock creates the vault when there is none (scripts, the
    // image's tooling; docs/cli.md): root needs no first-login checks.
    vault.Unlock(std::move(req.secret), vault::IfNoImage::kCreate, with_vault(reply));
  }, ControlServer::Passphrase::kFromRoot);
  control.Handle("vault.verify", [&vault, with_vault](ControlRequest& req, const ControlServer::Reply& reply) {
    if (!RootOnly(req, reply)) return;
    if (req.secret.size() == 0) return reply({{"v", session::kProtocolVersion}, {"ok", false}, {"kind", "invalid"}, {"error", "no passphrase"}});
    vault.Verify(std::move(req.secret), with_vault(reply));
  }, ControlServer::Passphrase::kFromRoot);
  control.Handle("vault.passwd", [&vault, with_vault](ControlRequest& req, const ControlServer::Reply& reply) {
    if (!RootOnly(req, reply)) return;
    vault.ChangePassphrase(std::move(req.secret), with_vault(reply));
  }, ControlServer::Passphrase::kFromRoot);
  control.Handle("vault.lock", [&vault, with_vault](ControlRequest& req, const ControlServer::Reply& reply) {
    if (!RootOnly(req, reply)) return;
    vault.Lock(with_vault(reply));
  });
}

// An op that would be served were there a vault or a gate, and what it
// takes: the same as RegisterVaultOps and Gate::Register give it.
struct MissingOp {
  const char* op;
  ControlServer::Passphrase passphrase;
  bool root_only;
};

// Without a vault or a gate, their ops are answered all the same, saying
// why: `tazpod login`, `passwd`, `status`, `lock` and `vault` then print
// that ("there is no vault: it is disabled"), not `unknown op`. Each takes
// its passphrase as it would otherwise, dropped with the reply; the
// workstation user is refused root's ops as ever (`root_only`).
void RegisterMissing(ControlServer& control, std::initializer_list<MissingOp> ops, const std::string& why) {
  for (const MissingOp& missing : ops) {
    const bool root_only = missing.root_only;
    control.Handle(
        missing.op,
        [why, root_only](ControlRequest& request, const ControlServer::Reply& reply) {
          if (root_only && !RootOnly(request, reply)) return;
          reply({{"v", session::kProtocolVersion}, {"ok", false}, {"kind", "unavailable"}, {"error", why}});
        },
        missing.passphrase);
  }
}

void RegisterNoVault(ControlServer& control, const std::string& why) {
  using P = ControlServer::Passphrase;
  RegisterMissing(control,
                  {{"vault.status", P::kNone, false},
                   {"vault.unlock", P::kFromRoot, true},
                   {"vault.verify", P::kFromRoot, true},
                   {"vault.passwd", P::kFromRoot, true},
                   {"vault.lock", P::kNone, true}},
                  why);
}

void RegisterNoGate(ControlServer& control, const std::string& why) {
  using P = ControlServer::Passphrase;
  RegisterMissing(control,
                  {{"gate.status", P::kNone, false},
                   {"gate.login", P::kFromRoot, false},
                   {"gate.lock", P::kNone, false},
                   {"gate.passwd", P::kFromRootOrUser, false}},
                  why);
}

// Logged, and kept for health (init/component_failures.h): PID 1 goes on without it.
void ComponentFailed(Supervisor& supervisor, const char* component, const std::string& error) {
  Log(LogLevel::kError, "init.component.failed", {{"component", component}, {"error", error}});
  supervisor.failures().Record(component, error);
}

session::GateVault::Result ToGate(const VaultOutcome& o) {
  return {o.ok, o.kind == "wrong_passphrase", o.message, IsLastingRefusal(o)};
}

}  // namespace

std::string GateVaultAdapter::State() const { return std::string(vault::Name(vault_.state())); }
void GateVaultAdapter::WhenIdle(std::function<void()> then) { vault_.WhenIdle(std::move(then)); }
void GateVaultAdapter::Unlock(SecretBuffer p, bool may_create, Done done) {
  vault_.Unlock(std::move(p), may_create ? vault::IfNoImage::kCreate : vault::IfNoImage::kRefuse,
                [done](const VaultOutcome& o) { done(ToGate(o)); });
}
void GateVaultAdapter::Verify(SecretBuffer p, Done done) {
  vault_.Verify(std::move(p), [done](const VaultOutcome& o) { done(ToGate(o)); });
}
void GateVaultAdapter::Lock(Done done) {
  vault_.Lock([done](const VaultOutcome& o) { done(ToGate(o)); });
}
void GateVaultAdapter::ChangePassphrase(SecretBuffer both, Done done) {
  vault_.ChangePassphrase(std::move(both), [done](const VaultOutcome& o) { done(ToGate(o)); });
}
int GateVaultAdapter::MountNamespace() const { return vault_.mount_namespace(); }

namespace {

// Health watches whatever was built; it is built even when the rest failed,
// so that probes see the failure.
void AddHealth(boost::asio::io_context& io, Supervisor& supervisor, const Config& config, Components& c) {
  c.health = std::make_unique<HealthService>(io, config, supervisor.reaper(), supervisor.failures(), c.vault.get(),
                                             c.gate.get(), c.control.get(), c.control_error);
  c.health->Start();
  HealthService* health = c.health.get();
  supervisor.OnStopAccepting([health] { health->StopAccepting(); });
}

// The vault, the gate in front of it, and the vault's two shutdown steps.
// Each part is built whole before anything of it is started or handed to
// the supervisor, so that one that cannot be made (its timers' timerfds,
// with no descriptor left) is left out alone, not PID 1.
void StartVault(boost::asio::io_context& io, Supervisor& supervisor, const Config& config, uid_t uid, gid_t gid,
                const std::string& mountpoint, Components& c) {
  try {
    std::string name = config.vault.mapping_name.empty() ? DefaultMappingName() : config.vault.mapping_name;
    c.vault = std::make_unique<VaultService>(io, supervisor.reaper(), config.vault, uid, gid, mountpoint, name);
  } catch (const std::exception& e) {
    ComponentFailed(supervisor, "vault", std::string("cannot start: ") + e.what());
    return;
  }
  // Without a gate the vault still starts: its recovery clears what a
  // killed earlier run left in the kernel, its locks are still the
  // shutdown's, and root's `tazpod vault` commands still reach it. Only
  // logins are refused (health: not ready).
  try {
    c.gate_vault = std::make_unique<GateVaultAdapter>(*c.vault);
    session::GateSettings gate_settings;
    gate_settings.min_passphrase_length = config.session.min_passphrase_length;
    gate_settings.throttle_base = config.session.throttle_base;
    gate_settings.throttle_cap = config.session.throttle_cap;
    gate_settings.lock_grace = config.session.lock_grace;
    gate_settings.hangup_grace = config.session.hangup_grace;
    gate_settings.user = config.session.user;
    gate_settings.mountpoint = mountpoint;
    c.gate = std::make_unique<session::Gate>(io, *c.gate_vault, gate_settings);
  } catch (const std::exception& e) {
    c.gate_vault.reset();
    ComponentFailed(supervisor, "gate", std::string("cannot start: ") + e.what());
  }
  c.vault->Start([](const VaultOutcome&) {});
  VaultService* vault = c.vault.get();
  session::Gate* gate = c.gate.get();
  supervisor.OnStopAccepting([vault, gate] {
    vault->StopUnlocking();
    if (gate) gate->StopAdmitting();
  });
  // First shutdown step: lock, after any operation in progress.
  supervisor.AddShutdownStep("vault.lock", [vault](const Supervisor::StepDone& done) {
    vault->WhenIdle([vault, done] {
      // The pre-started helper may run this lock; none follows it, and the
      // one left waiting is killed and reaped before the step ends.
      vault->StopPrestarting();
      if (!LockCanBegin(*vault)) return vault->DismissStandby([done] { done(""); });
      vault->Lock([vault, done](const VaultOutcome& o) {
        std::string error = o.ok ? "" : o.message;
        vault->DismissStandby([done, error] { done(error); });
      });
    });
  });
  // And again once every other process is gone, if that lock could not
  // finish: a hold that only the SIGTERM to every process ended, or a
  // lock that outlasted the grace period and whose helper was ended with
  // the rest. PID 1 must not exit with the key in the kernel: dm-crypt's
  // mapping outlives the container.
  supervisor.AddFinalStep("vault.lock", [vault](const Supervisor::StepDone& done) {
    vault->WhenIdle([vault, done] {
      if (!LockCanBegin(*vault)) return done("");
      vault->Lock([done](const VaultOutcome& o) { done(o.ok ? "" : o.message); });
    });
  });
}

// The control socket, and every op on it: the vault's and the gate's, or
// what answers for them when there is none.
void StartControl(boost::asio::io_context& io, Supervisor& supervisor, const Config& config, uid_t uid, gid_t gid,
                  Components& c) {
  std::string err;
  try {
    c.control = std::make_unique<ControlServer>(io, config.session.socket, uid, gid);
    err = c.control->Listen();
  } catch (const std::exception& e) {  // as with the vault: its timers, nothing handed out yet
    err = std::string("cannot start: ") + e.what();
  }
  if (!err.empty()) {
    Log(LogLevel::kError, "init.component.failed", {{"component", "control"}, {"error", err}});
    c.control.reset();
    c.control_error = err;
    return;
  }
  Log(LogLevel::kInfo, "control.listen",
      {{"socket", config.session.socket}, {"root_socket", session::RootSocketPath(config.session.socket)}});
  const std::string why = !config.vault.enabled ? "there is no vault: it is disabled ([vault] enabled = false)"
                          : !c.vault ? "there is no vault: it could not start (PID 1's log says why)"
                                     : "there is no gate: it could not start (PID 1's log says why)";
  if (c.vault) RegisterVaultOps(*c.control, *c.vault);
  else RegisterNoVault(*c.control, why);
  if (c.gate) c.gate->Register(*c.control);
  else RegisterNoGate(*c.control, why);
  ControlServer* control = c.control.get();
  supervisor.OnStopAccepting([control] { control->StopAccepting(); });
}

}  // namespace

Components WireComponents(boost::asio::io_context& io, Supervisor& supervisor, const Config& config) {
  Components c;
  if (!config.health.audit_log.empty()) {
    if (std::string err = OpenAuditFile(config.health.audit_log); !err.empty()) {
      ComponentFailed(supervisor, "audit_log", err);
    }
  }
  // Only the vault and the control socket need the user: without them, no
  // NSS lookup (it maps NSS modules into PID 1 for the rest of its life).
  if (!config.vault.enabled && !config.session.control) {
    AddHealth(io, supervisor, config, c);
    return c;
  }
  struct passwd* user = getpwnam(config.session.user.c_str());
  if (!user) {
    Log(LogLevel::kError, "init.component.failed",
        {{"component", "session"}, {"error", "no such user: " + config.session.user}});
    c.control_error = "not started: no workstation user " + config.session.user;
    AddHealth(io, supervisor, config, c);
    return c;
  }
  const uid_t uid = user->pw_uid;
  const gid_t gid = user->pw_gid;
  const std::string home = user->pw_dir ? user->pw_dir : "/home/" + config.session.user;

  const std::string mountpoint = config.vault.mountpoint.empty() ? home + "/secrets" : config.vault.mountpoint;
  if (config.vault.enabled) StartVault(io, supervisor, config, uid, gid, mountpoint, c);
  if (config.session.control) StartControl(io, supervisor, config, uid, gid, c);
  AddHealth(io, supervisor, config, c);
  return c;
}

}  // namespace tazpod::init
