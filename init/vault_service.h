// VaultService: the vault as PID 1 sees it. Owns the vault's state machine
// (vault/vault_state.h) and runs every operation in a tazpod-vault-helper
// process, one at a time, so the event loop never waits on PBKDF, mkfs or a
// device-mapper call.
//
// Each operation: check the transition is allowed (else answer at once and
// change nothing) → log it → hand the operation and the passphrase to a
// helper on a pipe → read its one-line result → reap it → apply the outcome
// → answer. A helper that overruns `operation_timeout` is SIGKILLed; an
// unlock or a lock it ran leaves the vault failed, and the next operation
// (or start-up) recovers what it left (a verify or a passphrase change
// changes no state).
//
// The helper is pre-started: once an operation is answered (and after
// start-up), the next one's helper is forked and exec'd at once and waits,
// blocked on its stdin, so an operation does not pay fork, exec and the
// loading of libcryptsetup. Each helper still runs one operation only. It is
// used only if it was started in the current mount namespace (start-up
// recovery runs before the private namespace exists, with a helper of its
// own); otherwise, or when it is gone, a helper is forked as before.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kernel_timer.h"
#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "init/config.h"
#include "init/helper_result.h"
#include "init/reaper.h"
#include "init/stderr_relay.h"
#include "vault/vault_state.h"

namespace tazpod::init {

class VaultService {
 public:
  using Done = std::function<void(const VaultOutcome&)>;
  // Told of every finished operation ("recover", "unlock", "lock", "verify",
  // "passwd"), for metrics and the audit log.
  using Observer = std::function<void(const std::string& operation, const VaultOutcome& outcome,
                                      std::chrono::milliseconds duration)>;

  // `owner_uid`/`owner_gid` own the mounted vault; `mountpoint` is resolved.
  VaultService(boost::asio::io_context& io, Reaper& reaper, VaultSettings settings, uid_t owner_uid,
               gid_t owner_gid, std::string mountpoint, std::string mapping_name);

  // Start-up recovery of what an earlier run left attached, then the state
  // is read from the system. `done` is called when the vault is ready.
  // Recovery runs in PID 1's own mount namespace (where an earlier run of
  // this container without a private namespace left its mount); then, when
  // configured, the private namespace is created and every later operation
  // runs in it. If it cannot be created the vault fails: it is never
  // mounted where ungated processes would see it. If recovery fails, the
  // vault is failed, and the unlock (which recovers first) or lock that
  // later succeeds in PID 1's namespace creates the private one (a lock
  // not at the shutdown, where no unlock would use it).
  void Start(const Done& done);
  ~VaultService();

  // Only an unlock that passed the first unlock's checks may create the
  // vault (`if_no_image`); any other that finds no image leaves it absent.
  void Unlock(SecretBuffer passphrase, vault::IfNoImage if_no_image, const Done& done);
  // A lock that finds no image (what a failed first unlock left) leaves
  // the vault absent, not locked.
  void Lock(const Done& done);
  // Proves a passphrase without changing anything (every login does).
  void Verify(SecretBuffer passphrase, const Done& done);
  // `both` is OLD, a NUL byte, NEW.
  void ChangePassphrase(SecretBuffer both, const Done& done);

  // Calls `then` once no operation is running (now, or when the running one
  // ends): the shutdown's lock waits this way for an unlock in progress.
  void WhenIdle(std::function<void()> then);

  vault::VaultState state() const { return state_; }
  bool busy() const { return running_ != nullptr || !ready_; }
  const std::string& last_error() const { return last_error_; }

  // Shutdown, first thing: every later unlock or passphrase change is
  // refused. A client whose connection was accepted before would otherwise
  // unlock the vault after the shutdown's lock, and init would exit with it
  // unlocked (or kill the helper half-way). A lock, a verify and the status
  // still answer.
  void StopUnlocking() { unlocking_ = false; }
  // Shutdown: no helper is pre-started any more (the one waiting may still
  // run the shutdown's lock) …
  void StopPrestarting();
  // … and then the waiting one is killed; `reaped` runs once it is reaped.
  void DismissStandby(std::function<void()> reaped = {});
  // The namespace the vault is mounted in, for sessions to join; -1 when the
  // vault is mounted in PID 1's own.
  int mount_namespace() const { return mount_namespace_.get(); }
  // The running helper's operation and start; empty/nullopt when idle.
  std::string running_operation() const;
  std::optional<std::chrono::steady_clock::time_point> running_since() const;

  void SetObserver(Observer observer) { observer_ = std::move(observer); }

 private:
  struct Run;
  struct Standby;
  // Forks and execs the helper for `operation` with pipes on its stdin and
  // stdout, and the relay on its stderr; returns its pid, or -1 (errno set).
  // Its stdout is on the loop before it starts.
  pid_t SpawnHelper(const std::string& operation, UniqueFd* input, boost::asio::posix::stream_descriptor* output);
  void StartStandby();
  bool TakeStandby(const std::string& operation, const SecretBuffer& secret, pid_t* pid,
                   boost::asio::posix::stream_descriptor* output, std::shared_ptr<Standby>* taken);
  void RunHelper(const std::string& operation, SecretBuffer secret, std::function<void(int, std::string)> finished);
  // Reads the helper's stdout into `run->text` until its end, calling
  // `progress` after each read and at the end.
  static void ReadOutput(std::shared_ptr<Run> run, std::function<void()> progress);
  void Transition(vault::VaultEvent event, const std::string& reason = "");
  // Creates the private mount namespace when it is configured and missing.
  // Only when PID 1's own namespace holds no vault mount: after a recovery
  // or a lock that succeeded. False, with the reason, if it cannot be made.
  bool EnsurePrivateNamespace(std::string* error);
  void RunIdleWaiters();
  std::vector<std::string> HelperArgs(const std::string& operation) const;

  boost::asio::io_context& io_;
  Reaper& reaper_;
  VaultSettings settings_;
  uid_t owner_uid_;
  gid_t owner_gid_;
  std::string mountpoint_;
  std::string mapping_name_;
  vault::VaultState state_ = vault::VaultState::kAbsent;
  bool ready_ = false;
  std::string last_error_;
  std::shared_ptr<Run> running_;
  std::deque<std::function<void()>> idle_waiters_;
  UniqueFd mount_namespace_;
  unsigned namespace_generation_ = 0;  // bumped when the private namespace is created
  std::shared_ptr<Standby> standby_;
  bool prestart_ = true;
  bool unlocking_ = true;
  Observer observer_;
  // Every helper's stderr (and its hooks' and mkfs's): passed on into the
  // log, which never blocks, rather than written to PID 1's stderr.
  StderrRelay stderr_relay_;
};

}  // namespace tazpod::init
