// The real Supervisor on a loop of its own, for the host tests of the
// shutdown: signals blocked and read from a signalfd, as in `tazpod init`.
// The test process is not PID 1, so the supervisor only ever signals its
// own descendants.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "common/unique_fd.h"
#include "init/config.h"
#include "init/signals.h"
#include "init/supervisor.h"

namespace tazpod::testing {

struct SupervisorHarness {
  explicit SupervisorHarness(std::chrono::milliseconds grace_period = std::chrono::milliseconds(500)) {
    config.grace_period = grace_period;
    sigset_t handled = init::SignalsToHandle();
    init::BlockSignals(handled, nullptr);
    UniqueFd signals = init::OpenSignalFd(handled);
    if (!signals.valid()) throw std::runtime_error("no signalfd");
    supervisor = std::make_unique<init::Supervisor>(io, config, std::move(signals), false);
  }

  // Sends SIGTERM to this process from another process, as `docker stop`
  // would (a signal this process sends itself is not a shutdown).
  static void SendTermFromChild() {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      kill(getppid(), SIGTERM);
      _exit(0);
    }
  }

  init::InitConfig config;
  boost::asio::io_context io;
  std::unique_ptr<init::Supervisor> supervisor;
};

}  // namespace tazpod::testing
