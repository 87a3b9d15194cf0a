// The vault service with a stand-in helper (a shell script; the real one
// needs dm-crypt: the vm tier), on a loop of its own.
#include "init/vault_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/host/captured_log.h"
#include "tests/host/seccomp_deny.h"

using tazpod::init::Reaper;
using tazpod::init::VaultOutcome;
using tazpod::init::VaultService;
using tazpod::init::VaultSettings;

namespace {

// Writes an executable script; returns its path.
std::string WriteScript(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  chmod(path.c_str(), 0755);
  return path;
}

pid_t ReadPid(const std::string& path) {
  pid_t pid = 0;
  std::ifstream(path) >> pid;
  return pid;
}

// The operations a stand-in helper recorded, one per line, in
// `dir`/operations: each followed by a space ("recover unlock ").
std::string RecordedOperations(const std::string& dir) {
  std::string operations;
  std::ifstream in(dir + "/operations");
  for (std::string op; in >> op;) operations += op + " ";
  return operations;
}

// Reaps every 10 ms on the loop, as PID 1 does at each SIGCHLD, until the
// loop stops.
class ReapingPump {
 public:
  ReapingPump(boost::asio::io_context& io, Reaper& reaper) : reaper_(reaper), timer_(io) { Reap(); }

 private:
  void Reap() {
    reaper_.ReapAll();
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Reap();
    });
  }
  Reaper& reaper_;
  boost::asio::steady_timer timer_;
};

}  // namespace

// PID 1 answers an operation at the helper's result line and may exit
// before the helper's output ends: the loop then stops with a read pending.
// Whatever that read holds (the operation's callback among it) must be
// freed with the loop, or the sanitize tier's leak check fails PID 1.
TEST_CASE("vault service: a helper run whose output is still open is freed with the loop") {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  // It answers, then keeps its stdout open: it does not exit for 30 s.
  VaultSettings settings;
  settings.helper = WriteScript(dir + "/helper",
                                "#!/bin/sh\necho $$ > " + dir + "/pid\necho 'result=ok state=locked'\nexec sleep 30\n");
  settings.private_mount_namespace = false;

  auto held_by_callback = std::make_shared<int>(0);
  std::weak_ptr<int> callback_state = held_by_callback;
  bool answered = false;
  {
    boost::asio::io_context io;
    Reaper reaper(false);
    auto vault = std::make_unique<VaultService>(io, reaper, settings, getuid(), getgid(), dir + "/secrets",
                                                "tazpod-test");
    vault->StopPrestarting();  // no standby helper: only the run under test
    vault->Start([&, held = std::move(held_by_callback)](const VaultOutcome& outcome) {
      answered = outcome.ok;
      io.stop();
    });
    io.run_for(std::chrono::seconds(20));
    vault.reset();
  }
  const pid_t helper = ReadPid(dir + "/pid");
  if (helper > 0) {
    kill(helper, SIGKILL);
    waitpid(helper, nullptr, 0);
  }
  unlink((dir + "/pid").c_str());
  unlink((dir + "/helper").c_str());
  rmdir(dir.c_str());

  REQUIRE(answered);
  CHECK(callback_state.expired());
}

// An unlock of a failed vault recovers first; the container may begin to
// stop meanwhile. The unlock must not follow: PID 1 would otherwise
// unlock (PBKDF, mapping, mount) during its shutdown, with the shutdown's
// lock waiting behind it.
TEST_CASE("vault service: an unlock whose recovery ends after the shutdown began goes no further") {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  // Records each operation; the first recovery (start-up) fails, the next
  // waits for `go`, then succeeds.
  VaultSettings settings;
  settings.helper = WriteScript(dir + "/helper", "#!/bin/sh\n"
                                                 "cat > /dev/null\n"
                                                 "echo \"$1\" >> " + dir + "/operations\n"
                                                 "if [ \"$1\" = recover ] && [ ! -e " + dir + "/started ]; then\n"
                                                 "  touch " + dir + "/started\n"
                                                 "  echo 'result=error kind=system step=test message=\"start-up\"'\n"
                                                 "  exit 1\n"
                                                 "fi\n"
                                                 "while [ ! -e " + dir + "/go ]; do sleep 0.01; done\n"
                                                 "echo 'result=ok state=locked'\n");
  settings.private_mount_namespace = false;

  VaultOutcome outcome{true, "", "", ""};
  bool answered = false;
  std::string state_after;
  std::string last_error = "unset";
  {
    boost::asio::io_context io;
    Reaper reaper(false);
    ReapingPump pump(io, reaper);
    VaultService vault(io, reaper, settings, getuid(), getgid(), dir + "/secrets", "tazpod-test");
    vault.StopPrestarting();  // a helper per operation: the script counts them
    vault.Start([&](const VaultOutcome&) {
      REQUIRE(vault.state() == tazpod::vault::VaultState::kFailed);
      tazpod::SecretBuffer passphrase;
      passphrase.Append("a passphrase", 12);
      vault.Unlock(std::move(passphrase), tazpod::vault::IfNoImage::kRefuse, [&](const VaultOutcome& o) {
        outcome = o;
        answered = true;
        state_after = std::string(tazpod::vault::Name(vault.state()));
        last_error = vault.last_error();
        io.stop();
      });
      vault.StopUnlocking();  // docker stop, while the recovery runs
      std::ofstream(dir + "/go");
    });
    io.run_for(std::chrono::seconds(20));
  }
  const std::string operations = RecordedOperations(dir);
  for (const char* name : {"/helper", "/operations", "/started", "/go"}) unlink((dir + name).c_str());
  rmdir(dir.c_str());

  REQUIRE(answered);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.kind == "refused");
  CHECK(outcome.message == "the container is stopping");
  CHECK(operations == "recover recover ");  // no unlock after the second
  CHECK(state_after == "locked");
  CHECK(last_error.empty());  // the start-up failure, mended by the recovery
}

namespace {

// Runs a vault service whose helper is a stand-in of `script` (its body),
// with `timeout` as vault.operation_timeout and a helper per operation, on
// a loop of its own for at most 20 s: `then` gets the start-up recovery's
// outcome, and stops the loop when done.
void WithStandIn(const std::string& script, std::chrono::milliseconds timeout,
                 const std::function<void(boost::asio::io_context&, VaultService&, const VaultOutcome&)>& then) {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  VaultSettings settings;
  settings.helper = WriteScript(dir + "/helper", "#!/bin/sh\n" + script);
  settings.private_mount_namespace = false;
  settings.operation_timeout = timeout;
  {
    boost::asio::io_context io;
    Reaper reaper(false);
    ReapingPump pump(io, reaper);
    VaultService vault(io, reaper, settings, getuid(), getgid(), dir + "/secrets", "tazpod-test");
    vault.StopPrestarting();
    vault.Start([&](const VaultOutcome& o) { then(io, vault, o); });
    io.run_for(std::chrono::seconds(20));
  }
  unlink((dir + "/helper").c_str());
  rmdir(dir.c_str());
}

// The outcome of the start-up recovery run by a stand-in helper of `script`
// (its body), with `timeout` as vault.operation_timeout.
VaultOutcome StartUpOutcome(const std::string& script, std::chrono::milliseconds timeout) {
  VaultOutcome outcome{true, "", "unanswered", ""};
  WithStandIn(script, timeout, [&](boost::asio::io_context& io, VaultService&, const VaultOutcome& o) {
    outcome = o;
    io.stop();
  });
  return outcome;
}

}  // namespace

// A helper that dies without a result line: the caller (and the failed
// state's reason) learns how, not just that it was killed. A SIGKILL PID 1
// did not send is most often the out-of-memory killer's, when argon2
// needs more than the container's memory limit leaves.
TEST_CASE("vault service: a helper killed without a result is said to be killed, by what") {
  const VaultOutcome killed = StartUpOutcome("kill -KILL $$\n", std::chrono::seconds(20));
  CHECK_FALSE(killed.ok);
  CHECK(killed.message.find("killed by SIGKILL, not by tazpod") != std::string::npos);
  CHECK(killed.message.find("out-of-memory killer") != std::string::npos);

  const VaultOutcome timed_out = StartUpOutcome("exec sleep 30\n", std::chrono::milliseconds(300));
  CHECK_FALSE(timed_out.ok);
  CHECK(timed_out.message == "the vault helper was killed after vault.operation_timeout (300 ms)");

  const VaultOutcome terminated = StartUpOutcome("kill -TERM $$\n", std::chrono::seconds(20));
  CHECK(terminated.message == "the vault helper was killed by SIGTERM");

  tazpod::testing::CapturedLog log;
  const VaultOutcome silent = StartUpOutcome("exit 7\n", std::chrono::seconds(20));
  CHECK_FALSE(silent.ok);
  CHECK(silent.message == "the vault helper exited 7 without a result");
  // Without its line an exit code means nothing: 2 is no wrong passphrase
  // (which the gate would throttle as one), 3 no busy, 4 no refusal.
  for (int code : {2, 3, 4}) {
    const VaultOutcome bare = StartUpOutcome("exit " + std::to_string(code) + "\n", std::chrono::seconds(20));
    CHECK(bare.kind == "system");
    CHECK(bare.message == "the vault helper exited " + std::to_string(code) + " without a result");
  }

  // Exit 0 is no success without the line that says what was done: an
  // unlock would otherwise count as mounted with no proof of it.
  const VaultOutcome silent_zero = StartUpOutcome("exit 0\n", std::chrono::seconds(20));
  CHECK_FALSE(silent_zero.ok);
  CHECK(silent_zero.kind == "system");
  CHECK(silent_zero.message == "the vault helper exited 0 without a result");
  // No result line, so no result its exit could mismatch (docs/logging.md).
  CHECK(log.Text().find("vault.helper.exit_mismatch") == std::string::npos);
}

namespace {

struct UnlockEnd {
  VaultOutcome outcome;
  std::string state;
};

// The end of an unlock the stand-in answers with `result` and `code`, of a
// vault start-up recovery finds `found` ("locked", or "absent": then the
// unlock is a first one).
UnlockEnd UnlockAnsweredWith(const std::string& result, int code, const std::string& found = "locked") {
  const std::string script = "cat > /dev/null\n"
                             "if [ \"$1\" = recover ]; then echo 'result=ok state=" + found + "'; exit 0; fi\n"
                             "echo '" + result + "'\n"
                             "exit " + std::to_string(code) + "\n";
  UnlockEnd end{{true, "", "unanswered", ""}, ""};
  WithStandIn(script, VaultSettings{}.operation_timeout,
              [&](boost::asio::io_context& io, VaultService& vault, const VaultOutcome&) {
                REQUIRE(tazpod::vault::Name(vault.state()) == found);
                const auto if_no_image = found == "absent" ? tazpod::vault::IfNoImage::kCreate : tazpod::vault::IfNoImage::kRefuse;
                tazpod::SecretBuffer passphrase;
                passphrase.Append("a passphrase", 12);
                vault.Unlock(std::move(passphrase), if_no_image, [&](const VaultOutcome& o) {
                  end = {o, std::string(tazpod::vault::Name(vault.state()))};
                  io.stop();
                });
              });
  return end;
}

}  // namespace

// The helper's refusals that change nothing leave the vault locked, to be
// unlocked again once the cause is gone: another container holds the
// image, or no keyslot fits the container's memory. A first unlock whose
// image would not fit made nothing, and leaves no vault. Any other error may
// have left something half done, and marks it failed.
TEST_CASE("vault service: an unlock refused before anything was done leaves the vault locked, or absent") {
  const UnlockEnd in_use = UnlockAnsweredWith("result=error kind=busy step=in_use message=\"held\"", 3);
  CHECK(in_use.outcome.kind == "busy");
  CHECK(in_use.state == "locked");

  const UnlockEnd memory =
      UnlockAnsweredWith("result=error kind=invalid step=keyslot_memory message=\"keyslot 0 takes 1024 MiB\"", 4);
  CHECK_FALSE(memory.outcome.ok);
  CHECK(memory.outcome.kind == "invalid");
  CHECK(memory.outcome.message == "keyslot 0 takes 1024 MiB");
  CHECK(memory.state == "locked");

  const UnlockEnd image =
      UnlockAnsweredWith("result=error kind=invalid step=image_memory message=\"a 256 MiB image\"", 4, "absent");
  CHECK(image.outcome.message == "a 256 MiB image");
  CHECK(image.state == "absent");  // nothing was made

  const UnlockEnd size = UnlockAnsweredWith(
      "result=error kind=invalid step=image_size message=\"a 4096-byte image cannot hold a vault\"", 4, "absent");
  CHECK(size.outcome.message == "a 4096-byte image cannot hold a vault");
  CHECK(size.state == "absent");  // nothing was made either

  const UnlockEnd other = UnlockAnsweredWith("result=error kind=invalid step=luks.activate message=\"bad\"", 4);
  CHECK(other.outcome.kind == "invalid");
  CHECK(other.state == "failed");
}

namespace {

// What a test run in a process of its own (a seccomp filter or a resource
// limit cannot be taken back) left: whether it exited, the line `body`
// returned there, and the operations the stand-in helper recorded in
// `dir`/operations. Removes `dir` and what the stand-in wrote in it.
struct ChildRun {
  bool exited = false;
  std::string report;
  std::string operations;
};
ChildRun InChildProcess(const std::string& dir, const std::function<std::string()>& body) {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::ofstream(dir + "/report") << body();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  ChildRun run;
  run.exited = WIFEXITED(status);
  std::getline(std::ifstream(dir + "/report"), run.report);
  run.operations = RecordedOperations(dir);
  for (const char* name : {"/report", "/operations", "/started"}) unlink((dir + name).c_str());
  rmdir(dir.c_str());
  return run;
}

// Unlocks `vault` (a passphrase; never creating one) and, with the answer,
// sets `report` to "kind|message|state" and stops `io`. `then` runs first.
void UnlockAndReport(boost::asio::io_context& io, VaultService& vault, std::string* report,
                     const std::function<void()>& then = [] {}) {
  tazpod::SecretBuffer passphrase;
  passphrase.Append("a passphrase", 12);
  vault.Unlock(std::move(passphrase), tazpod::vault::IfNoImage::kRefuse, [&io, &vault, report, then](const VaultOutcome& o) {
    then();
    *report = o.kind + "|" + o.message + "|" + std::string(tazpod::vault::Name(vault.state()));
    io.stop();
  });
}

}  // namespace

// The helper's output goes on the loop before the fork: should the loop's
// epoll refuse it (out of memory, fs.epoll.max_user_watches), no helper
// exists that was handed an operation PID 1 could not follow. Made exact
// by a seccomp filter, in a process of its own since a filter cannot be
// taken back: the operation's timer, made first, takes the lowest free
// descriptor number and is watched; every watch of a number above it (the
// helper's pipes) fails with ENOSPC.
TEST_CASE("vault service: a helper whose output the loop refuses is never started, and the vault stays locked") {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string script = "echo \"$1\" >> " + dir + "/operations\ncat > /dev/null\necho 'result=ok state=locked'\n";
  const ChildRun run = InChildProcess(dir, [&] {
    std::string report = "no answer";
    WithStandIn(script, VaultSettings{}.operation_timeout,
                [&](boost::asio::io_context& io, VaultService& vault, const VaultOutcome& start_up) {
                  if (!start_up.ok) {
                    report = "start-up: " + start_up.message;
                    return io.stop();
                  }
                  const int next = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
                  close(next);
                  if (!tazpod::testing::DenyEpollAdd(ENOSPC, next + 1)) {
                    report = "no seccomp filter";
                    return io.stop();
                  }
                  UnlockAndReport(io, vault, &report);
                });
    return report;
  });

  CHECK(run.exited);
  // Nothing was done: the vault is still locked, not failed.
  CHECK(run.report == "system|cannot start the vault helper: No space left on device|locked");
  CHECK(run.operations == "recover ");  // no helper for the unlock
}

// An unlock of a failed vault recovers first. When the recovery leaves it
// locked and the unlock's helper then cannot start, the vault is locked:
// the recovery mended it, and nothing was done since. The stand-in's
// recovery lowers this process's soft limit of open files to 3 (prlimit on
// another process of the same user), so the unlock's timer, the first
// descriptor it makes, is refused with EMFILE. In a process of its own,
// since the limit is the whole process's.
TEST_CASE("vault service: an unlock that recovery left locked and whose helper cannot start leaves it locked") {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const ChildRun run = InChildProcess(dir, [&] {
    // Start-up's recovery fails; the next one succeeds and takes the limit.
    const std::string script = "cat > /dev/null\n"
                               "echo \"$1\" >> " + dir + "/operations\n"
                               "if [ ! -e " + dir + "/started ]; then\n"
                               "  touch " + dir + "/started\n"
                               "  echo 'result=error kind=system step=test message=\"start-up\"'\n"
                               "  exit 1\n"
                               "fi\n"
                               "prlimit --pid " + std::to_string(getpid()) + " --nofile=3: || exit 9\n"
                               "echo 'result=ok state=locked'\n";
    std::string report = "no answer";
    rlimit before{};
    getrlimit(RLIMIT_NOFILE, &before);
    WithStandIn(script, VaultSettings{}.operation_timeout,
                [&](boost::asio::io_context& io, VaultService& vault, const VaultOutcome&) {
                  if (vault.state() != tazpod::vault::VaultState::kFailed) {
                    report = "start-up left " + std::string(tazpod::vault::Name(vault.state()));
                    return io.stop();
                  }
                  UnlockAndReport(io, vault, &report, [&before] { setrlimit(RLIMIT_NOFILE, &before); });
                });
    setrlimit(RLIMIT_NOFILE, &before);
    return report;
  });

  CHECK(run.exited);
  CHECK(run.report == "system|cannot start the vault helper: Too many open files|locked");
  CHECK(run.operations == "recover recover ");  // no helper for the unlock
}

namespace {

// A SecretBuffer of the `size` bytes at `text` (NUL bytes included).
tazpod::SecretBuffer Secret(const char* text, size_t size) {
  tazpod::SecretBuffer secret;
  secret.Append(text, size);
  return secret;
}

}  // namespace

// `tazpod passwd` sends OLD, a NUL byte, NEW, and the helper splits at the
// first NUL: a passphrase the vault is given must hold none, or it could
// never be changed. Root's unlock (which may create the vault) and the new
// passphrase of a change are refused before any helper starts, as is an
// empty old one; a passphrase only tried goes to the vault.
TEST_CASE("vault service: a passphrase that could never be changed is refused before a helper starts") {
  char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string script = "echo \"$1\" >> " + dir + "/operations\ncat > /dev/null\n"
                             "if [ \"$1\" = recover ]; then echo 'result=ok state=locked'; exit 0; fi\n"
                             "echo 'result=error kind=wrong_passphrase step=luks.activate message=\"no key\"'\nexit 2\n";
  std::vector<std::string> answers;
  std::string state_after;
  auto note = [&answers](const VaultOutcome& o) { answers.push_back(o.kind + "|" + o.message); };
  WithStandIn(script, VaultSettings{}.operation_timeout,
              [&](boost::asio::io_context& io, VaultService& vault, const VaultOutcome&) {
                vault.Unlock(Secret("a\0b", 3), tazpod::vault::IfNoImage::kCreate, note);
                vault.ChangePassphrase(Secret("\0new", 4), note);
                vault.ChangePassphrase(Secret("old\0ne\0w", 9), note);
                vault.Unlock(Secret("a\0b", 3), tazpod::vault::IfNoImage::kRefuse, [&](const VaultOutcome& o) {
                  note(o);
                  state_after = tazpod::vault::Name(vault.state());
                  io.stop();
                });
              });
  const std::string operations = RecordedOperations(dir);
  unlink((dir + "/operations").c_str());
  rmdir(dir.c_str());

  REQUIRE(answers.size() == 4);
  CHECK(answers[0] == "invalid|a passphrase cannot hold a NUL byte");
  CHECK(answers[1] == "invalid|no old passphrase");
  CHECK(answers[2] == "invalid|the new passphrase cannot hold a NUL byte");
  CHECK(answers[3] == "wrong_passphrase|no key");
  CHECK(operations == "recover unlock-existing ");  // a helper for the tried passphrase only
  CHECK(state_after == "locked");
}

// A lock of a vault whose start-up failed for want of a private mount
// namespace (unshare refused here) runs in PID 1's own. At the shutdown,
// once it has locked the vault, no namespace is tried again: none would
// serve, and its failure turned a lock that worked into a failed one, and
// init's exit into 3 ("the vault could not be locked", docs/init.md).
TEST_CASE("vault service: a shutdown's lock that worked is not failed for want of a mount namespace") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!tazpod::testing::DenySyscall(SYS_unshare, EPERM)) _exit(20);
    char dir_template[] = "/tmp/tazpod-vault-service-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) _exit(21);
    const std::string dir = dir_template;
    VaultSettings settings;
    settings.helper = WriteScript(dir + "/helper", "#!/bin/sh\ncat > /dev/null\necho 'result=ok state=locked'\n");
    settings.private_mount_namespace = true;
    int code = 22;  // no answer
    {
      boost::asio::io_context io;
      Reaper reaper(false);
      ReapingPump pump(io, reaper);
      VaultService vault(io, reaper, settings, getuid(), getgid(), dir + "/secrets", "tazpod-test");
      vault.StopPrestarting();
      vault.Start([&](const VaultOutcome&) {
        if (vault.state() != tazpod::vault::VaultState::kFailed) {
          code = 23;  // the namespace was made after all
          return io.stop();
        }
        vault.StopUnlocking();  // docker stop
        vault.Lock([&](const VaultOutcome& o) {
          code = !o.ok ? 24 : vault.state() != tazpod::vault::VaultState::kLocked ? 25 : 0;
          io.stop();
        });
      });
      io.run_for(std::chrono::seconds(20));
    }
    unlink((dir + "/helper").c_str());
    rmdir(dir.c_str());
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
