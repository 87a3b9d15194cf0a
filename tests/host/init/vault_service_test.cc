// The vault service with a stand-in helper (a shell script; the real one
// needs dm-crypt: the vm tier), on a loop of its own.
#include "init/vault_service.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

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
