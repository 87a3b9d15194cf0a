// The gate on a real control socket, for the host tests that run it in a
// process of its own (under a seccomp filter, or in a PID namespace), and
// the wait for such a server to listen.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <boost/asio/io_context.hpp>
#include <string>

#include "session/control_server.h"
#include "session/gate.h"

namespace tazpod::testing {

// Serves the gate, over `vault`, on `socket_path` until killed; it dies
// with its parent, or within a minute should a test fail. Its log lines go
// to `log_path`, or nowhere. Exit status 11: the socket failed. `settings`
// are the gate's, with root as the user.
[[noreturn]] inline void ServeGate(const std::string& socket_path, session::GateVault& vault,
                                   const std::string& log_path = "/dev/null",
                                   session::GateSettings settings = {}) {
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  dup2(log, STDERR_FILENO);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(60);
  boost::asio::io_context io;
  settings.user = "root";
  settings.mountpoint = "/home/root";
  session::Gate gate(io, vault, settings);
  session::ControlServer control(io, socket_path, 0, 0);
  if (!control.Listen().empty()) _exit(11);
  gate.Register(control);
  io.run();
  _exit(0);
}

// Waits (up to 10 s) until a server listens on the Unix socket `path`:
// until a connection to it is made. Its file alone is not enough: it
// appears at bind(), before listen(). The connection is closed at once.
inline bool WaitUntilListening(const std::string& path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  for (int i = 0; i < 400; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool made = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (made) return true;
    usleep(25000);
  }
  return false;
}

}  // namespace tazpod::testing
