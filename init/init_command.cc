#include "init/init_command.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>

#include "common/log.h"
#include "common/descriptors.h"
#include "init/log_flusher.h"
#include "init/main_child.h"
#include "init/sanitizer_exit.h"
#include "init/signal_names.h"
#include "init/signal_thread.h"
#include "init/signals.h"
#include "init/supervisor.h"
#include "init/wiring.h"
#include "version.h"

namespace tazpod::init {

namespace {

constexpr int kExitStartFailed = 1;

// How long init's exit waits for log lines that its stderr could not take
// yet (a terminal whose output is stopped): a bounded wait, well inside
// the time Docker gives a stop, then they are lost.
constexpr std::chrono::milliseconds kLogDrainAtExit{500};

// Whatever way RunInit returns, the log's waiting lines get their chance.
struct DrainLogAtExit {
  DrainLogAtExit() = default;
  DrainLogAtExit(const DrainLogAtExit&) = delete;
  DrainLogAtExit& operator=(const DrainLogAtExit&) = delete;
  ~DrainLogAtExit() { FlushLogBeforeExit(kLogDrainAtExit); }
};

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
// need not wait for. Only a failure to start is logged before them. From
// here on no line blocks init (common/log.h), not even on a terminal whose
// output is stopped. Returns the descriptor the log's waiting lines are
// written to, or -1 (writes block, as before).
int StartLog(bool is_pid1, int subreaper_err) {
  const int log_fd = UseNonBlockingLog();
  Log(LogLevel::kInfo, "init.start", {{"version", kVersion}, {"pid", getpid()}});
  if (is_pid1) return log_fd;
  if (subreaper_err != 0)
    Log(LogLevel::kWarn, "init.subreaper.failed", {{"error", std::strerror(subreaper_err)}});
  else
    Log(LogLevel::kInfo, "init.subreaper", {{"pid", getpid()}, {"reason", "not_pid1"}});
  return log_fd;
}

// Starts init/signal_thread.h's thread; returns the descriptor the loop
// reads the other signals from, or an invalid one (logged) if it could not.
UniqueFd StartSignalThread(const sigset_t& handled, const InitConfig& config, pid_t main_child) {
  signal_thread::Settings settings;
  if (LogEnabled(LogLevel::kDebug))
    sigemptyset(&settings.forward);
  else
    settings.forward = SignalsOnlyForwarded();
  settings.rewrite = config.signal_rewrite;
  settings.to_group = config.forward_to_process_group;
  // Now, not only in AdoptMainChild(): the thread forwards from the moment
  // it starts, before the Supervisor exists, and a signal in between must
  // reach the child.
  signal_thread::SetMainChild(main_child);
  UniqueFd records = signal_thread::Start(handled, settings);
  if (!records)
    Log(LogLevel::kError, "init.component.failed",
        {{"component", "signal_thread"}, {"error", std::strerror(errno)}, {"fallback", "signalfd"}});
  return records;
}

}  // namespace

int RunInit(const InitOptions& options) {
  const DrainLogAtExit drain_log;
  const InitConfig& config = options.config.init;
  // Whatever the runtime or a parent left open above stderr would keep files
  // or mounts busy for the container's whole life. Init needs none of it.
  CloseAboveStderr();
  const bool standard_open = OpenMissingStandardDescriptors();
  ConfigureLog(config.log_format, config.log_level);
  if (!standard_open)
    Log(LogLevel::kWarn, "init.stdio.closed", {{"error", "cannot open /dev/null on a closed stdin, stdout or stderr"}});
  const bool is_pid1 = getpid() == 1;
  if (is_pid1) ExitOnSanitizerReport();

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
  // Made before anything starts, so that init can always read its signals:
  // the signal thread's fallback (below).
  UniqueFd signal_fd = OpenSignalFd(handled);
  if (!signal_fd) {
    Log(LogLevel::kError, "init.start.failed", {{"call", "signalfd"}, {"error", std::strerror(errno)}});
    return kExitStartFailed;
  }
  const int subreaper_err = is_pid1 ? 0 : RegisterSubreaper();

  // The main child first: it should not wait for the event loop to be built.
  // Its exit, if quick, stays pending (blocked) until init takes signals.
  pid_t main_child = 0;
  int log_fd = -1;
  if (!options.command.empty()) {
    SpawnResult child = SpawnMainChild({options.command, original_mask});
    // The kernel wakes init as soon as the child's exec no longer needs our
    // memory, and the woken init may take the CPU from the child before its
    // exec is done. Where the two share a CPU, the building below (a thread,
    // the loop, the components: some 200 us) then runs before the user's
    // program does. One yield hands the CPU back (docs/benchmarks.md,
    // session 19); where the child runs on another CPU it returns at once.
    if (child.pid > 0 && child.exec_errno == 0) sched_yield();
    log_fd = StartLog(is_pid1, subreaper_err);
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
      return ReportedExitCode(ExitCodeForExecError(child.exec_errno), config.expect_exit);
    }
    Log(LogLevel::kInfo, "init.child.start",
        {{"pid", child.pid}, {"command", options.command[0]}, {"terminal", child.has_terminal}});
    main_child = child.pid;
  } else {
    log_fd = StartLog(is_pid1, subreaper_err);
    Log(LogLevel::kInfo, "init.idle", {{"reason", config.pause ? "pause" : "no_command"}});
  }

  // From here on a thread of init's own takes its signals: it forwards those
  // init only passes on (outside debug level, where the loop forwards and
  // logs each one) and hands the rest to the loop. Should the thread not
  // start, the loop reads them all from the signalfd: slower, not lost.
  UniqueFd signals = StartSignalThread(handled, config, main_child);
  if (signals)
    signal_fd.Reset();
  else
    signals = std::move(signal_fd);

  HardenProcess();

  try {
    boost::asio::io_context io(1);
    std::optional<LogFlusher> log_flusher;
    if (log_fd >= 0) log_flusher.emplace(io, log_fd);
    Supervisor supervisor(io, config, std::move(signals), is_pid1);
    if (main_child > 0) supervisor.AdoptMainChild(main_child);
    Components components = WireComponents(io, supervisor, options.config);

    // Only now, so the main child still starts in the directory it was given
    // (Docker's WORKDIR); init itself must not keep any mount busy.
    if (chdir("/") != 0) Log(LogLevel::kWarn, "init.chdir.failed", {{"error", std::strerror(errno)}});

    return supervisor.Run();
  } catch (const std::exception& e) {
    // No event loop (out of descriptors or memory for epoll, its eventfd,
    // the supervisor's timers): init cannot supervise, so it does not
    // pretend to. The main child would be left without signals, reaping or
    // a shutdown: it is killed, and init exits 1 with the reason.
    Log(LogLevel::kError, "init.start.failed", {{"call", "event loop"}, {"error", e.what()}});
    if (main_child > 0) {
      signal_thread::Pause pause;  // nothing forwarded to its pid once reaped
      pid_t target = 0;
      signal_thread::SendToMainChild(main_child, SIGKILL, config.forward_to_process_group, &target);
      waitpid(main_child, nullptr, 0);
      signal_thread::SetMainChild(0);
    }
    return kExitStartFailed;
  }
}

}  // namespace tazpod::init
