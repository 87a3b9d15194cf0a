// The gate on a real control socket, for the host tests that run it in a
// process of its own (under a seccomp filter, or in a PID namespace).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <string>

#include "session/control_server.h"
#include "session/gate.h"

namespace tazpod::testing {

// Serves the gate, over `vault`, on `socket_path` until killed; it dies
// with its parent, or within a minute should a test fail. Its log lines go
// nowhere. Exit status 11: the socket failed.
[[noreturn]] inline void ServeGate(const std::string& socket_path, session::GateVault& vault) {
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, STDERR_FILENO);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(60);
  boost::asio::io_context io;
  session::GateSettings settings;
  settings.user = "root";
  settings.mountpoint = "/home/root";
  session::Gate gate(io, vault, settings);
  session::ControlServer control(io, socket_path, 0, 0);
  if (!control.Listen().empty()) _exit(11);
  gate.Register(control);
  io.run();
  _exit(0);
}

}  // namespace tazpod::testing
