#include "init/init_command.h"

#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/descriptors.h"
#include "init/fast_forward.h"
#include "init/main_child.h"
#include "init/signal_names.h"
#include "init/signals.h"
#include "init/supervisor.h"
#include "init/wiring.h"
#include "version.h"

namespace tazpod::init {

namespace {

constexpr int kExitStartFailed = 1;

// No core files and no ptrace or /proc/PID/mem access by others: init will
// hold passphrases. Done once the main child has started, so the child keeps
// the core limit init was given: lowering the hard limit cannot be undone
// without CAP_SYS_RESOURCE, which containers usually lack.
void HardenProcess() {
  struct rlimit none {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0)
    Log(LogLevel::kWarn, "init.harden.failed", {{"call", "setrlimit(RLIMIT_CORE)"}, {"error", std::strerror(errno)}});
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    Log(LogLevel::kWarn, "init.harden.failed", {{"call", "prctl(PR_SET_DUMPABLE)"}, {"error", std::strerror(errno)}});
}

// Not PID 1 (run from a shell, or under another init): become the reaper of
// our orphaned descendants, as PID 1 would be. Before the main child starts,
// or its orphans could go to the real init. Returns 0 or an errno value.
int RegisterSubreaper() { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno; }

// Init's first lines. Written once the main child is on its way: the first
// line a process formats runs cold code (page faults, snprintf), about
// 40 µs of exec -> main child here (docs/benchmarks.md), which the child
// need not wait for. Only a failure to start is logged before them.
void LogStart(bool is_pid1, int subreaper_err) {
  Log(LogLevel::kInfo, "init.start", {{"version", kVersion}, {"pid", getpid()}});
  if (is_pid1) return;
  if (subreaper_err != 0)
    Log(LogLevel::kWarn, "init.subreaper.failed", {{"error", std::strerror(subreaper_err)}});
  else
    Log(LogLevel::kInfo, "init.subreaper", {{"pid", getpid()}, {"reason", "not_pid1"}});
}

}  // namespace

int RunInit(const InitOptions& options) {
  const InitConfig& config = options.config.init;
  // Whatever the runtime or a parent left open above stderr would keep files
  // or mounts busy for the container's whole life. Init needs none of it.
  CloseAboveStderr();
  ConfigureLog(config.log_format, config.log_level);
  const bool is_pid1 = getpid() == 1;

  if (config.parent_death_signal != 0 && prctl(PR_SET_PDEATHSIG, config.parent_death_signal, 0, 0, 0) != 0)
    Log(LogLevel::kWarn, "init.pdeathsig.failed", {{"error", std::strerror(errno)}});

  sigset_t original_mask;
  const sigset_t handled = SignalsToHandle();
  if (int err = TakeBackSigchld()) {
    Log(LogLevel::kError, "init.start.failed", {{"call", "sigaction(SIGCHLD)"}, {"error", std::strerror(err)}});
    return kExitStartFailed;
  }
  if (int err = BlockSignals(handled, &original_mask)) {
    Log(LogLevel::kError, "init.start.failed", {{"call", "sigprocmask"}, {"error", std::strerror(err)}});
    return kExitStartFailed;
  }
  UniqueFd signal_fd = OpenSignalFd(handled);
  if (!signal_fd) {
    Log(LogLevel::kError, "init.start.failed", {{"call", "signalfd"}, {"error", std::strerror(errno)}});
    return kExitStartFailed;
  }
  const int subreaper_err = is_pid1 ? 0 : RegisterSubreaper();

  // The main child first: it should not wait for the event loop to be built.
  // Its exit, if quick, stays pending in the signalfd until the loop runs.
  pid_t main_child = 0;
  if (!options.command.empty()) {
    SpawnResult child = SpawnMainChild({options.command, original_mask});
    LogStart(is_pid1, subreaper_err);
    if (child.pid < 0) {
      Log(LogLevel::kError, "init.child.spawn_failed",
          {{"command", options.command[0]}, {"error", std::strerror(child.fork_errno)}});
      return kExitStartFailed;
    }
    if (child.exec_errno != 0) {
      // One line that names the command, then the shell's exit code for it.
      Log(LogLevel::kError, "init.child.exec_failed",
          {{"command", options.command[0]}, {"error", std::strerror(child.exec_errno)}});
      waitpid(child.pid, nullptr, 0);  // it has _exit()ed or is about to
      return ExitCodeForExecError(child.exec_errno);
    }
    Log(LogLevel::kInfo, "init.child.start",
        {{"pid", child.pid}, {"command", options.command[0]}, {"terminal", child.has_terminal}});
    main_child = child.pid;
  } else {
    LogStart(is_pid1, subreaper_err);
    Log(LogLevel::kInfo, "init.idle", {{"reason", config.pause ? "pause" : "no_command"}});
  }

  // The signals init only passes on are forwarded by a handler, the fast way
  // (init/fast_forward.h), once the main child is on its way. At debug level
  // the loop forwards them, so that it can log each one. Either way they stay
  // in the signalfd's set too: one read by the loop is forwarded by the loop.
  bool forward_by_handler = false;
  if (!LogEnabled(LogLevel::kDebug)) {
    if (int err = fast_forward::Install(SignalsOnlyForwarded(), config.signal_rewrite,
                                        config.forward_to_process_group)) {
      // Still blocked, so still read from the signalfd: slower, not lost.
      Log(LogLevel::kError, "init.component.failed",
          {{"component", "fast_forward"}, {"call", "sigaction"}, {"error", std::strerror(err)}});
    } else {
      forward_by_handler = true;
    }
  }

  HardenProcess();

  boost::asio::io_context io(1);
  Supervisor supervisor(io, config, std::move(signal_fd), is_pid1);
  if (main_child > 0) supervisor.AdoptMainChild(main_child);
  Components components = WireComponents(io, supervisor, options.config);

  // Only now, so the main child still starts in the directory it was given
  // (Docker's WORKDIR); init itself must not keep any mount busy.
  if (chdir("/") != 0) Log(LogLevel::kWarn, "init.chdir.failed", {{"error", std::strerror(errno)}});

  // Before Run(), whose first act is to reap: a main child that has already
  // exited gets nothing more, then.
  if (forward_by_handler) {
    if (UniqueFd failures(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)); failures)
      supervisor.WatchForwardFailures(std::move(failures));
    else  // Forwarding works; only its failures would go unlogged.
      Log(LogLevel::kWarn, "init.component.failed",
          {{"component", "fast_forward"}, {"call", "eventfd"}, {"error", std::strerror(errno)}});
    if (int err = fast_forward::Start())
      Log(LogLevel::kError, "init.component.failed",
          {{"component", "fast_forward"}, {"call", "sigprocmask"}, {"error", std::strerror(err)}});
  }
  return supervisor.Run();
}

}  // namespace tazpod::init
