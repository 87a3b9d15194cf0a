// Refused logins: what the user is told, and what the audit keeps.
//
// The gate runs with a real control socket in a forked process, logging to
// a file; the vault is a test double that refuses every passphrase.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "session/control_client.h"
#include "session/gate.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;
using tazpod::testing::CountOf;

namespace {

// How a RefusingVault refuses.
enum class Refusal { kWrongPassphrase, kFailure, kLastingFailure };

// A vault in `state` ("locked" unless told) that takes no passphrase,
// saying `why`.
class RefusingVault : public session::GateVault {
 public:
  RefusingVault(std::string why, Refusal how, std::string state)
      : why_(std::move(why)), how_(how), state_(std::move(state)) {}
  std::string State() const override { return state_; }
  void WhenIdle(std::function<void()> then) override { then(); }
  void Unlock(SecretBuffer, bool, Done done) override { done(Answer()); }
  void Verify(SecretBuffer, Done done) override { done(Answer()); }
  void Lock(Done done) override { done({false, false, "the vault was asked to lock"}); }
  void ChangePassphrase(SecretBuffer, Done done) override { done(Answer()); }
  int MountNamespace() const override { return -1; }

 private:
  Result Answer() const {
    return {false, how_ == Refusal::kWrongPassphrase, why_, how_ == Refusal::kLastingFailure};
  }
  std::string why_;
  Refusal how_;
  std::string state_;
};

// The gate over RefusingVault(why), in a process of its own, logging to a
// file in a directory of its own; both go at the end.
class RefusingGate {
 public:
  explicit RefusingGate(const std::string& why, Refusal how = Refusal::kWrongPassphrase,
                        const std::string& state = "locked")
      : gate_([&](const std::string& socket_path, const std::string& log_path) {
          RefusingVault vault(why, how, state);
          tazpod::testing::ServeGate(socket_path, vault, log_path);
        }) {}
  // A gate.login with `passphrase`; `create` as a first login asks.
  session::CallResult Login(const std::string& passphrase, bool create = false) {
    SecretBuffer secret;
    secret.Append(passphrase.data(), passphrase.size());
    return gate_.Call({{"v", 1}, {"op", "gate.login"}, {"create", create}}, &secret);
  }
  // A gate.status.
  session::CallResult Status() { return gate_.Call({{"v", 1}, {"op", "gate.status"}}); }
  // A gate.passwd with `both` (old, NUL, new).
  session::CallResult Passwd(SecretBuffer& both) { return gate_.Call({{"v", 1}, {"op", "gate.passwd"}}, &both); }
  // Stops the gate; returns its log.
  std::string Stop() { return gate_.Stop(); }

 private:
  tazpod::testing::GateProcess gate_;
};

using tazpod::testing::kUserGid;
using tazpod::testing::kUserUid;

// One request to the gate on `socket_path`, with `secret` if not empty,
// sent as kUserUid from a child process: the gate tells callers apart by
// the uid the kernel gives it. (The secret is made in the child: a
// SecretBuffer's memory is not inherited.)
session::CallResult CallAsUser(const std::string& socket_path, const nlohmann::json& header,
                               const std::string& secret = "") {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  tazpod::UniqueFd read_end(fds[0]);
  tazpod::UniqueFd write_end(fds[1]);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!tazpod::testing::BecomeUser()) _exit(2);
    SecretBuffer buffer;
    buffer.Append(secret.data(), secret.size());
    session::CallResult r =
        session::Call(socket_path, header, secret.empty() ? nullptr : &buffer, std::chrono::seconds(10));
    const std::string text = r.delivered ? "R" + r.reply.dump() : "E" + r.error;
    _exit(write(write_end.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  write_end.Reset();
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(read_end.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    text.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(!text.empty());
  session::CallResult result;
  result.delivered = text[0] == 'R';
  if (result.delivered) result.reply = nlohmann::json::parse(text.substr(1));
  else result.error = text.substr(1);
  return result;
}

}  // namespace

// Root and the workstation user each have a delay of their own: the user's
// processes (a compromised one, say) could otherwise send a wrong `tazpod
// passwd` each time the delay ends, and keep the owner's logins waiting.
// Only root may log in at all: `tazpod login` starts as root.
TEST_CASE("gate: the user's wrong passphrases do not hold back root's logins, and only root logs in") {
  if (geteuid() != 0) SKIP("connects as another uid: needs root");
  tazpod::testing::GateProcess gate([](const std::string& socket_path, const std::string& log_path) {
    // The test's directory is root's 0700: the user must pass through it.
    (void)chmod(std::filesystem::path(socket_path).parent_path().c_str(), 0711);
    RefusingVault vault("wrong passphrase", Refusal::kWrongPassphrase, "unlocked");
    tazpod::testing::ServeGate(socket_path, vault, log_path, {}, kUserUid, kUserGid);
  });
  const std::string socket = gate.socket_path();
  const nlohmann::json passwd = {{"v", 1}, {"op", "gate.passwd"}};
  const nlohmann::json login = {{"v", 1}, {"op", "gate.login"}, {"create", false}};
  const nlohmann::json status = {{"v", 1}, {"op", "gate.status"}};
  const std::string old_and_new = std::string("a wrong old passphrase") + '\0' + "a new passphrase";

  session::CallResult user_wrong = CallAsUser(socket, passwd, old_and_new);
  session::CallResult user_again = CallAsUser(socket, passwd, old_and_new);
  session::CallResult user_status = CallAsUser(socket, status);
  session::CallResult root_status = gate.Call(status);
  SecretBuffer guess;
  guess.Append("a passphrase", 12);
  session::CallResult root_login = gate.Call(login, &guess);
  session::CallResult user_login = CallAsUser(socket, login, "a passphrase");
  const std::string log = gate.Stop();
  INFO(log);

  INFO(user_wrong.error);
  REQUIRE(user_wrong.delivered);
  CHECK(user_wrong.reply.value("kind", "") == "wrong_passphrase");
  REQUIRE(user_again.delivered);
  CHECK(user_again.reply.value("kind", "") == "throttled");
  REQUIRE(user_status.delivered);
  CHECK(user_status.reply.value("change_retry_after_ms", 0LL) > 0);
  // Root's own wait is untouched: its login reaches the vault.
  REQUIRE(root_status.delivered);
  CHECK(root_status.reply.value("retry_after_ms", -1LL) == 0);
  CHECK(root_status.reply.value("change_retry_after_ms", -1LL) == 0);
  REQUIRE(root_login.delivered);
  CHECK(root_login.reply.value("kind", "") == "wrong_passphrase");
  // The user's login is refused before any vault work, whatever its wait.
  REQUIRE(user_login.delivered);
  CHECK(user_login.reply.value("kind", "") == "denied");
  CHECK(CountOf(log, "reason=not_root") == 1);
  CHECK(CountOf(log, "reason=wrong_passphrase") == 2);

  // And the other way: root's wrong guess leaves the user's changes alone.
  tazpod::testing::GateProcess other([](const std::string& socket_path, const std::string& log_path) {
    (void)chmod(std::filesystem::path(socket_path).parent_path().c_str(), 0711);
    RefusingVault vault("wrong passphrase", Refusal::kWrongPassphrase, "unlocked");
    tazpod::testing::ServeGate(socket_path, vault, log_path, {}, kUserUid, kUserGid);
  });
  SecretBuffer root_guess;
  root_guess.Append("a passphrase", 12);
  session::CallResult root_wrong = other.Call(login, &root_guess);
  session::CallResult user_change = CallAsUser(other.socket_path(), passwd, old_and_new);
  REQUIRE(root_wrong.delivered);
  CHECK(root_wrong.reply.value("kind", "") == "wrong_passphrase");
  REQUIRE(user_change.delivered);
  CHECK(user_change.reply.value("kind", "") == "wrong_passphrase");
}

// A login refused before any vault work (no passphrase, throttled) costs
// its sender nothing: a loop of them would write without bound to PID 1's
// log and audit file. Past a burst, such lines are held back
// (common/flood_limit.h), but a wrong passphrase, which the throttle
// already slows, is always logged: a flood must not hide a guess.
TEST_CASE("gate: a flood of logins refused before any vault work logs a burst, and a guess is still logged") {
  RefusingGate gate("wrong passphrase");
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    session::CallResult r = gate.Login("");
    if (r.delivered && r.reply.value("error", "") == "no passphrase") ++refused;
  }
  session::CallResult wrong = gate.Login("a guess");
  session::CallResult throttled = gate.Login("another");
  const std::string log = gate.Stop();

  CHECK(refused == 300);
  REQUIRE(wrong.delivered);
  CHECK(wrong.reply.value("kind", "") == "wrong_passphrase");
  CHECK(wrong.reply.value("error", "") == "wrong passphrase");
  CHECK(CountOf(log, "not tried") == 0);
  REQUIRE(throttled.delivered);
  CHECK(throttled.reply.value("kind", "") == "throttled");
  INFO(log.substr(0, 2000));
  CHECK(CountOf(log, "reason=no_passphrase") == 100);
  CHECK(CountOf(log, "reason=wrong_passphrase") == 1);
  // The throttled refusal shares the flooded key (gate.refused, this uid).
  CHECK(CountOf(log, "reason=throttled") == 0);
}

// A vault whose keyslots do not all fit the container's memory refuses a
// passphrase the others do not take as wrong (it is throttled as any), but
// says which keyslots it did not try: the passphrase may be theirs, and
// "wrong passphrase" alone would send the user guessing.
TEST_CASE("gate: a wrong passphrase comes with what the vault adds, to the user and to the audit") {
  const std::string why = "wrong passphrase for every keyslot that fits the container's memory; not tried: "
                          "keyslot 0 needs 1024 MiB for argon2, and the container's memory limit of 512 MiB "
                          "leaves 490 MiB";
  RefusingGate gate(why);
  session::CallResult r = gate.Login("the right one");
  session::CallResult again = gate.Login("the right one");
  const std::string log = gate.Stop();
  REQUIRE(r.delivered);
  CHECK(r.reply.value("kind", "") == "wrong_passphrase");
  CHECK(r.reply.value("error", "") == why);
  CHECK(r.reply.value("retry_after_ms", 0LL) > 0);
  // Throttled as any wrong passphrase, and that is logged (no flood here).
  REQUIRE(again.delivered);
  CHECK(again.reply.value("kind", "") == "throttled");
  CHECK(again.reply.value("error", "") == "too many wrong passphrases: wait before trying again");
  INFO(log);
  CHECK(CountOf(log, "reason=wrong_passphrase") == 1);
  CHECK(CountOf(log, "reason=throttled") == 1);
  CHECK(CountOf(log, "not tried: keyslot 0 needs 1024 MiB") == 1);
}

// A login the vault refuses fast for a lasting cause (no keyslot fits the
// container's memory, the image in use elsewhere) would let a loop of
// logins run the vault helper, and write its lines, as fast as it
// connects: the next attempt waits as after a wrong passphrase, saying
// why. After another failure (a first unlock that failed, say) the next
// login goes ahead at once: it may be the one that mends it.
TEST_CASE("gate: after a login the vault refused for a lasting cause, the next attempt waits") {
  RefusingGate gate("keyslot 0 needs 1024 MiB for argon2: raise the limit to open the vault",
                    Refusal::kLastingFailure);
  session::CallResult failed = gate.Login("a passphrase");
  session::CallResult next = gate.Login("a passphrase");
  const std::string log = gate.Stop();
  REQUIRE(failed.delivered);
  CHECK(failed.reply.value("kind", "") == "vault");
  REQUIRE(next.delivered);
  CHECK(next.reply.value("kind", "") == "throttled");
  CHECK(next.reply.value("error", "") ==
        "the vault refused the last attempt for a cause that lasts: wait before trying again");
  CHECK(next.reply.value("retry_after_ms", 0LL) > 0);
  INFO(log);
  CHECK(CountOf(log, "reason=vault_error") == 1);
  CHECK(CountOf(log, "gate.attempt") == 1);

  RefusingGate other("mount: no such directory", Refusal::kFailure);
  session::CallResult first = other.Login("a passphrase");
  session::CallResult second = other.Login("a passphrase");
  REQUIRE(second.delivered);
  CHECK(first.reply.value("kind", "") == "vault");
  CHECK(second.reply.value("kind", "") == "vault");
}

// A first login whose vault refuses to create an image the container's
// memory limit cannot hold leaves the vault absent. The user hears that
// cause (not "there is no vault yet: log in again", which would only meet
// it again), and the next attempt waits.
TEST_CASE("gate: a first login refused for a lasting cause in an absent vault says why, and the next waits") {
  const std::string why = "a 255 MiB image in the enclave needs 271 MiB of memory, and the container's limit of "
                          "256 MiB leaves 250 MiB: lower vault.image_size (or vault.enclave_size), or raise the limit";
  RefusingGate gate(why, Refusal::kLastingFailure, "absent");
  session::CallResult failed = gate.Login("a long enough passphrase", /*create=*/true);
  session::CallResult next = gate.Login("a long enough passphrase", /*create=*/true);
  const std::string log = gate.Stop();
  INFO(log);
  REQUIRE(failed.delivered);
  CHECK(failed.reply.value("kind", "") == "vault");
  CHECK(failed.reply.value("error", "") == why);
  CHECK(failed.reply.value("retry_after_ms", 0LL) > 0);
  REQUIRE(next.delivered);
  CHECK(next.reply.value("kind", "") == "throttled");
  CHECK(CountOf(log, "reason=vault_error") == 1);
  CHECK(CountOf(log, "reason=no_vault") == 0);

  // Any other failure that leaves it absent (no image, and this login may
  // not create one) makes the next login a first login.
  RefusingGate other("no image", Refusal::kFailure, "absent");
  session::CallResult plain = other.Login("a long enough passphrase", /*create=*/true);
  REQUIRE(plain.delivered);
  CHECK(plain.reply.value("error", "") == "there is no vault yet: log in again to create it");
}

// A change is refused for a lasting cause when one keyslot needs more
// memory than the container has: a change must rewrite every keyslot the
// old passphrase opens, but a login may open another. The next change
// waits; a login goes ahead.
TEST_CASE("gate: after a change the vault refused for a lasting cause, the next change waits, a login does not") {
  RefusingGate gate("keyslot 1 needs 1024 MiB for argon2: not changed", Refusal::kLastingFailure);
  SecretBuffer both;
  const std::string old_and_new = std::string("the old passphrase") + '\0' + "the new passphrase";
  both.Append(old_and_new.data(), old_and_new.size());
  SecretBuffer again;
  again.Append(old_and_new.data(), old_and_new.size());
  session::CallResult refused = gate.Passwd(both);
  session::CallResult status = gate.Status();
  session::CallResult next_change = gate.Passwd(again);
  session::CallResult login = gate.Login("the old passphrase");
  REQUIRE(refused.delivered);
  CHECK(refused.reply.value("kind", "") == "vault");
  CHECK(refused.reply.value("retry_after_ms", 0LL) > 0);
  // gate.status tells both waits apart, for `tazpod passwd` to say its own
  // before asking for any passphrase.
  REQUIRE(status.delivered);
  CHECK(status.reply.value("retry_after_ms", -1LL) == 0);
  CHECK(status.reply.value("change_retry_after_ms", 0LL) > 0);
  REQUIRE(next_change.delivered);
  CHECK(next_change.reply.value("kind", "") == "throttled");
  CHECK(next_change.reply.value("error", "") ==
        "the vault refused the last attempt for a cause that lasts: wait before trying again");
  REQUIRE(login.delivered);
  CHECK(login.reply.value("kind", "") == "vault");
}

// The least length counts characters as typed: seven accented letters are
// fourteen bytes, and still too short for eight.
TEST_CASE("gate: a new passphrase's length is counted in characters, not bytes") {
  RefusingGate gate("wrong passphrase");
  SecretBuffer both;
  const std::string old_and_new = std::string("the old one") + '\0' + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  both.Append(old_and_new.data(), old_and_new.size());
  session::CallResult r = gate.Passwd(both);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("kind", "") == "invalid");
  CHECK(r.reply.value("error", "") == "the new passphrase must have at least 8 characters");
}

// `tazpod passwd` sends OLD NUL NEW: a passphrase holding a NUL could never
// be changed. The gate refuses to set one (a first login, a new passphrase);
// one only tried goes to the vault as any other.
TEST_CASE("gate: a passphrase that would be set is refused if it holds a NUL byte") {
  RefusingGate gate("wrong passphrase", Refusal::kWrongPassphrase, "absent");
  const std::string with_nul = std::string("twelve") + '\0' + "characters";
  session::CallResult created = gate.Login(with_nul, /*create=*/true);
  REQUIRE(created.delivered);
  CHECK(created.reply.value("kind", "") == "invalid");
  CHECK(created.reply.value("error", "") == "a passphrase cannot hold a NUL byte");

  SecretBuffer both;
  const std::string old_and_new = std::string("the old one") + '\0' + with_nul;
  both.Append(old_and_new.data(), old_and_new.size());
  session::CallResult changed = gate.Passwd(both);
  REQUIRE(changed.delivered);
  CHECK(changed.reply.value("kind", "") == "invalid");
  CHECK(changed.reply.value("error", "") == "the new passphrase cannot hold a NUL byte");

  const std::string log = gate.Stop();
  CHECK(CountOf(log, "reason=malformed") == 2);
}

TEST_CASE("gate: a passphrase only tried goes to the vault even if it holds a NUL byte") {
  RefusingGate gate("wrong passphrase");
  session::CallResult tried = gate.Login(std::string("twelve") + '\0' + "characters");
  REQUIRE(tried.delivered);
  CHECK(tried.reply.value("kind", "") == "wrong_passphrase");
  CHECK(CountOf(gate.Stop(), "reason=malformed") == 0);
}

// Two first logins at once: both were told the vault is new, and each chose
// a passphrase. Once the first has made the vault, the second's is not that
// vault's: it is refused as late, not tried as a guess, and nobody waits.
// The same when the gate still takes the vault for absent, because another
// container on a shared volume made it: the unlock that may create finds
// that image, and the new passphrase does not open it.
TEST_CASE("gate: a first login that finds a vault made meanwhile is told so, not throttled as a wrong guess") {
  for (const char* state : {"unlocked", "locked", "absent"}) {
    INFO(state);
    RefusingGate gate("wrong passphrase", Refusal::kWrongPassphrase, state);
    session::CallResult late = gate.Login("a new passphrase", /*create=*/true);
    session::CallResult status = gate.Status();
    const std::string log = gate.Stop();
    REQUIRE(late.delivered);
    CHECK(late.reply.value("kind", "") == "refused");
    CHECK(late.reply.value("error", "") ==
          "the vault was created meanwhile, by another login: log in again with its passphrase");
    REQUIRE(status.delivered);
    CHECK(status.reply.value("retry_after_ms", 0LL) == 0);
    CHECK(CountOf(log, "reason=made_meanwhile") == 1);
    CHECK(CountOf(log, "reason=wrong_passphrase") == 0);
  }
}

// But not from a failed vault: whoever may kill an unlock's helper can make
// the vault failed again and again, and each first login sent then would
// be a guess nobody throttled. There a new passphrase that does not open
// the vault is a wrong passphrase, as any other.
TEST_CASE("gate: a first login's passphrase refused by a failed vault is throttled as a wrong guess") {
  RefusingGate gate("wrong passphrase", Refusal::kWrongPassphrase, "failed");
  session::CallResult first = gate.Login("a new passphrase", /*create=*/true);
  session::CallResult status = gate.Status();
  const std::string log = gate.Stop();
  REQUIRE(first.delivered);
  CHECK(first.reply.value("kind", "") == "wrong_passphrase");
  REQUIRE(status.delivered);
  CHECK(status.reply.value("retry_after_ms", 0LL) > 0);
  CHECK(CountOf(log, "reason=wrong_passphrase") == 1);
  CHECK(CountOf(log, "reason=made_meanwhile") == 0);
}

// Host root through `nsenter` without `-p`, or another container sharing
// the socket's directory: outside PID 1's PID namespace, the kernel gives
// the caller's pid as 0, and its pidfd cannot be signalled from inside.
// Before, such a login was refused only as untrackable ("pidfd_send_signal:
// Invalid argument", reason=no_pidfd), which sends an operator after
// pidfds and seccomp profiles.
TEST_CASE("gate: a login from outside the gate's PID namespace is refused, with the reason") {
  tazpod::testing::GateProcess gate([](const std::string& socket_path, const std::string& log_path) {
    if (unshare(CLONE_NEWPID) != 0) _exit(40);
    const pid_t server = fork();  // PID 1 of the new namespace; this process is not in it
    if (server < 0) _exit(41);
    if (server == 0) {
      tazpod::testing::AcceptingVault vault;
      tazpod::testing::ServeGate(socket_path, vault, log_path);
    }
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    int status = 0;
    (void)waitpid(server, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 42);
  });
  SecretBuffer secret;
  secret.Append("right passphrase", 16);
  const session::CallResult r = gate.Call({{"v", 1}, {"op", "gate.login"}, {"create", false}}, &secret);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("ok", true) == false);
  CHECK(r.reply.value("kind", "") == "refused");
  CHECK(r.reply.value("error", "").find("outside the container's PID namespace") != std::string::npos);
  const std::string log = gate.Stop();
  CHECK(CountOf(log, "gate.refused") == 1);
  CHECK(CountOf(log, "reason=outside_pid_namespace") == 1);
  CHECK(CountOf(log, "gate.accepted") == 0);
}
