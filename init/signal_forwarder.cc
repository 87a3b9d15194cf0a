#include "init/signal_forwarder.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

#include "common/log.h"
#include "init/signal_names.h"
#include "init/signals.h"

namespace tazpod::init {

namespace {

// What Stop() sends the thread (a thread-directed signal: only the thread's
// own read returns it). Any signal of Signals() would do.
constexpr int kWakeSignal = SIGUSR1;

}  // namespace

sigset_t SignalForwarder::Signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s < NSIG; ++s) {
    if (IsForwardable(s) && s != SIGTERM && s != SIGINT && s != SIGPIPE) sigaddset(&set, s);
  }
  return set;
}

SignalForwarder::SignalForwarder(Options options) : options_(std::move(options)), self_(getpid()) {
  target_.pid = options_.main_child;
}

SignalForwarder::~SignalForwarder() { Stop(); }

int SignalForwarder::Start() {
  const sigset_t signals = Signals();
  // Blocking: the thread sleeps in read() itself, no poll in between.
  signal_fd_ = UniqueFd(signalfd(-1, &signals, SFD_CLOEXEC));
  if (!signal_fd_) return errno;
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    signal_fd_.Reset();
    return e.code().value() != 0 ? e.code().value() : EAGAIN;
  }
  return 0;
}

void SignalForwarder::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  if (int err = pthread_kill(thread_.native_handle(), kWakeSignal); err != 0)
    Log(LogLevel::kWarn, "init.forwarder.stop_failed", {{"error", std::strerror(err)}});
  thread_.join();
  signal_fd_.Reset();
}

void SignalForwarder::Run() {
  struct signalfd_siginfo info[16];
  for (;;) {
    ssize_t n = read(signal_fd_.get(), info, sizeof info);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The loop's own signalfd does not hold these signals: they stay
      // pending, unforwarded. Said loudly; init itself carries on.
      Log(LogLevel::kError, "init.component.failed",
          {{"component", "signal_forwarder"}, {"call", "read"}, {"error", std::strerror(errno)}});
      return;
    }
    const size_t count = static_cast<size_t>(n) / sizeof info[0];
    for (size_t i = 0; i < count; ++i) {
      const int signal = static_cast<int>(info[i].ssi_signo);
      const bool from_self = static_cast<pid_t>(info[i].ssi_pid) == self_;
      if (from_self && stopping_.load()) return;
      // A signal init raised against itself is init's business, never the child's.
      if (!from_self) Forward(signal);
    }
  }
}

void SignalForwarder::Forward(int signal) {
  int to = signal;
  if (auto it = options_.rewrite.find(signal); it != options_.rewrite.end()) to = it->second;
  if (to == 0) {
    Log(LogLevel::kDebug, "init.signal.dropped", {{"signal", SignalName(signal)}});
    return;
  }
  pid_t target = 0;
  int err = 0;
  {
    std::lock_guard<std::mutex> hold(target_.lock);
    if (target_.pid == 0) {
      if (LogEnabled(LogLevel::kDebug))
        Log(LogLevel::kDebug, "init.signal.ignored", {{"signal", SignalName(signal)}, {"reason", "no_main_child"}});
      return;
    }
    target = options_.to_process_group ? -target_.pid : target_.pid;
    if (kill(target, to) != 0) err = errno;
  }
  if (err != 0 && err != ESRCH) {
    Log(LogLevel::kWarn, "init.signal.forward_failed",
        {{"signal", SignalName(to)}, {"target", target}, {"error", std::strerror(err)}});
    return;
  }
  // On the hot path: build the fields only when the line will be written.
  if (LogEnabled(LogLevel::kDebug))
    Log(LogLevel::kDebug, "init.signal.forward",
        {{"signal", SignalName(signal)}, {"sent", SignalName(to)}, {"target", target}});
}

}  // namespace tazpod::init
