#include "init/supervisor.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <vector>

#include "common/descriptors.h"
#include "common/flood_limit.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/proc_stat.h"
#include "common/watch_on_loop.h"
#include "init/main_child.h"
#include "init/process_list.h"
#include "init/signal_names.h"
#include "init/signal_thread.h"
#include "init/signals.h"

namespace tazpod::init {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

// After SIGKILL, how long to wait for the last processes to go before init
// exits anyway: a process stuck in the kernel (D state) must not hold the
// container up forever. The kernel kills what is left when PID 1 exits.
constexpr std::chrono::seconds kAfterKillWait{2};
// How long after the shutdown should have ended a backstop fires: late
// enough never to race a sequence that is merely slow.
constexpr std::chrono::seconds kBackstopMargin{1};

// How often a process init has no pidfd for is looked at during shutdown.
constexpr std::chrono::milliseconds kPollInterval{50};

// While the grace period runs and processes are still waited for, how often
// /proc is read again for those started since the last round (a `docker
// exec` during the shutdown, a job a SIGTERM-ignoring shell started): they
// get SIGTERM too, not only the SIGKILL at its end. Shutdown only.
constexpr std::chrono::milliseconds kRelistInterval{250};

// Descriptors the shutdown leaves free when it watches processes by pidfd:
// for reading /proc (the next rounds, the SIGKILL at the end of the grace
// period), the shutdown steps' helpers and the last clients of the sockets.
// A process past that is polled, like one the kernel gives no pidfd for.
constexpr rlim_t kDescriptorsKeptFree = 128;


// Still there to be stopped: not gone, not a zombie (which its parent, init
// or another, has yet to reap).
bool IsRunning(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::optional<ProcStat> stat = ReadProcStat(pid);
  return !stat || (stat->state != 'Z' && stat->state != 'X');
}

long long MillisSince(steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start).count();
}

}  // namespace

Supervisor::Supervisor(asio::io_context& io, const InitConfig& config, UniqueFd signals,
                       bool is_pid1)
    : io_(io),
      config_(config),
      is_pid1_(is_pid1),
      proc_usable_(ProcShowsOwnNamespace()),
      self_(getpid()),
      signals_(io, signals.Release()),
      reaper_(config.warn_on_foreign_reap, &failures_),
      delay_timer_(io),
      step_timer_(io),
      grace_timer_(io),
      poll_timer_(io),
      relist_timer_(io),
      processes_backstop_(io, [this] { OnProcessesStalled(); }),
      final_backstop_(io, [this] { OnFinalStepsStalled(); }) {
  if (!proc_usable_)
    Log(LogLevel::kWarn, "init.proc.foreign",
        {{"reason", "/proc is not this PID namespace's"}, {"shutdown", is_pid1 ? "kill(-1)" : "main child only"}});
}

Supervisor::~Supervisor() = default;

void Supervisor::OnStopAccepting(std::function<void()> hook) {
  stop_accepting_hooks_.push_back(std::move(hook));
}

void Supervisor::AddShutdownStep(std::string name, ShutdownStep step) {
  steps_.emplace_back(std::move(name), std::move(step));
}

void Supervisor::AddFinalStep(std::string name, ShutdownStep step) {
  final_steps_.emplace_back(std::move(name), std::move(step));
}

void Supervisor::AdoptMainChild(pid_t pid) {
  main_child_ = pid;
  main_child_alive_ = true;
  signal_thread::SetMainChild(pid);
  reaper_.Watch(pid, [this](pid_t p, int status) { OnMainChildExit(p, status); });
}

int Supervisor::Run() {
  // Now, while memory is plentiful: setting them later allocates nothing.
  processes_backstop_.Start();
  final_backstop_.Start();
  WaitForSignal();
  // A child may have exited before the loop started: reap it now.
  Guarded("reaper", [this] { ReapAll(); });
  for (;;) {
    try {
      io_.run();
      break;
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "init.component.failed", {{"component", "event_loop"}, {"error", e.what()}});
      failures_.Record("event_loop", e.what());
    } catch (...) {
      Log(LogLevel::kError, "init.component.failed", {{"component", "event_loop"}, {"error", "unknown"}});
      failures_.Record("event_loop", "unknown");
    }
  }
  return ExitCode();
}

void Supervisor::ReapAll() {
  // The signal thread must not forward between the main child's reaping and
  // OnMainChildExit (its pid may be reused by then).
  if (main_child_alive_) {
    signal_thread::Pause pause;
    reaper_.ReapAll();
    return;
  }
  reaper_.ReapAll();
}

bool Supervisor::Guarded(const char* what, const std::function<void()>& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "init.component.failed", {{"component", what}, {"error", e.what()}});
    failures_.Record(what, e.what());
  } catch (...) {
    Log(LogLevel::kError, "init.component.failed", {{"component", what}, {"error", "unknown"}});
    failures_.Record(what, "unknown");
  }
  return false;
}

void Supervisor::WaitForSignal() {
  signals_.async_wait(asio::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
    // Until the exit, not only until the processes are gone: the final
    // steps' helpers must be reaped too.
    if (ec == asio::error::operation_aborted || exiting_) return;
    // Several signals may be waiting, and SIGCHLD is coalesced (one may
    // stand for many exited children). A read returns every record that
    // fits, so a short one leaves none behind: then the wait is armed again
    // *before* acting, so that once the main child is signalled init has
    // nothing left to do but sleep. (The woken child tends to take the CPU
    // at once; every syscall init still owed was paid after it.)
    struct signalfd_siginfo info[16];
    for (;;) {
      ssize_t n = read(signals_.native_handle(), info, sizeof info);
      if (n < 0 && errno == EINTR) continue;
      const size_t count = n > 0 ? static_cast<size_t>(n) / sizeof info[0] : 0;
      const bool maybe_more = count == std::size(info);
      if (!maybe_more) WaitForSignal();
      for (size_t i = 0; i < count; ++i) {
        // Before acting: a SIGCHLD from now on gets a record of its own.
        signal_thread::Taken(static_cast<int>(info[i].ssi_signo));
        Guarded("signals", [this, &one = info[i]] {
          OnSignal(static_cast<int>(one.ssi_signo), one.ssi_code, static_cast<pid_t>(one.ssi_pid));
        });
      }
      if (!maybe_more) return;
    }
  });
}

void Supervisor::OnSignal(int signal, int code, pid_t sender) {
  if (signal == SIGCHLD) {
    ReapAll();
    return;
  }
  if (RaisedAgainstInit(signal, code, sender, self_)) return;

  if (signal == SIGTERM || signal == SIGINT) {
    if (shutting_down_) {
      Log(LogLevel::kInfo, "init.signal.ignored", {{"signal", SignalName(signal)}, {"reason", "shutting_down"}});
      return;
    }
    BeginShutdown("signal", signal);
    return;
  }
  if (main_child_alive_ && IsForwardable(signal)) {
    Forward(signal);
    return;
  }
  Log(LogLevel::kDebug, "init.signal.ignored", {{"signal", SignalName(signal)}, {"reason", "no_main_child"}});
}

void Supervisor::Forward(int signal) {
  int to = signal;
  if (auto it = config_.signal_rewrite.find(signal); it != config_.signal_rewrite.end()) to = it->second;
  if (to == 0) {
    Log(LogLevel::kDebug, "init.signal.dropped", {{"signal", SignalName(signal)}});
    return;
  }
  pid_t target = 0;
  if (int error = signal_thread::SendToMainChild(main_child_, to, config_.forward_to_process_group, &target)) {
    signal_thread::LogForwardFailed(to, target, error);
    return;
  }
  // On the hot path of every forwarded signal: build the fields only when
  // the line will be written.
  if (LogEnabled(LogLevel::kDebug))
    Log(LogLevel::kDebug, "init.signal.forward",
        {{"signal", SignalName(signal)}, {"sent", SignalName(to)}, {"target", target}});
}

void Supervisor::ContinueMainChild() {
  pid_t target = 0;
  signal_thread::SendToMainChild(main_child_, SIGCONT, config_.forward_to_process_group, &target);
}

void Supervisor::OnMainChildExit(pid_t pid, int status) {
  main_child_alive_ = false;
  signal_thread::SetMainChild(0);
  main_child_status_ = status;
  // Log never throws, and these fields are short enough to build without
  // allocating: nothing here keeps the shutdown from beginning (init would
  // idle on, its command gone).
  if (WIFSIGNALED(status)) {
    Log(LogLevel::kInfo, "init.child.exit",
        {{"pid", pid}, {"signal", SignalName(WTERMSIG(status))}, {"code", ExitCodeForWaitStatus(status)}});
  } else {
    Log(LogLevel::kInfo, "init.child.exit", {{"pid", pid}, {"code", ExitCodeForWaitStatus(status)}});
  }
  if (!shutting_down_) BeginShutdown("main_child_exit", 0);
  // Gone during the forward delay or the steps: the sequence goes on as
  // planned (steps, then SIGTERM to the rest). Only once the SIGTERM round
  // is out does its exit count among the processes awaited.
  else if (term_sent_) OnProcessGone(pid);
}

void Supervisor::BeginShutdown(const std::string& reason, int signal) {
  // First, before anything that may throw.
  const auto delay = signal != 0 ? config_.forward_delay : std::chrono::milliseconds(0);
  processes_backstop_.Set(steady_clock::now() + delay + config_.grace_period + kAfterKillWait + kBackstopMargin);
  shutting_down_ = true;
  shutdown_signal_ = signal;
  if (signal != 0) {
    Log(LogLevel::kInfo, "init.shutdown.begin", {{"reason", reason}, {"signal", SignalName(signal)}});
  } else {
    Log(LogLevel::kInfo, "init.shutdown.begin", {{"reason", reason}});
  }
  for (auto& hook : stop_accepting_hooks_) Guarded("stop_accepting", hook);

  auto start_steps = [this] {
    deadline_ = steady_clock::now() + config_.grace_period;
    RunStep(0);
  };
  if (signal != 0 && config_.forward_delay.count() > 0) {
    Log(LogLevel::kInfo, "init.shutdown.delay", {{"delay_ms", static_cast<long long>(config_.forward_delay.count())}});
    delay_timer_.expires_after(config_.forward_delay);
    delay_timer_.async_wait([start_steps](boost::system::error_code ec) {
      if (!ec) start_steps();
    });
    return;
  }
  start_steps();
}

void Supervisor::RunStep(size_t index) {
  RunStepOf(steps_, index, "init.shutdown.step", "grace period exceeded", [this](size_t next) { RunStep(next); },
            [this] { TerminateProcesses(); });
}

void Supervisor::RunFinalStep(size_t index) {
  RunStepOf(final_steps_, index, "init.shutdown.final", "final steps' time exceeded",
            [this](size_t next) { RunFinalStep(next); }, [this] { Exit(); });
}

void Supervisor::RunStepOf(const std::vector<NamedStep>& steps, size_t index, const std::string& event,
                           const char* overrun, const std::function<void(size_t)>& run_next,
                           const std::function<void()>& after) {
  if (index >= steps.size()) {
    after();
    return;
  }
  const std::string& name = steps[index].first;
  const std::uint64_t generation = ++step_generation_;
  const auto started = steady_clock::now();
  Log(LogLevel::kInfo, event + ".begin", {{"step", name}});

  // Whichever comes first, the step's `done` or the deadline, moves on; the
  // other is ignored thanks to the generation number.
  step_timer_.expires_at(deadline_);
  step_timer_.async_wait([this, index, generation, name, event, overrun, run_next](boost::system::error_code ec) {
    if (ec || generation != step_generation_) return;
    ++step_generation_;
    step_failed_ = true;
    Log(LogLevel::kError, event + ".failed", {{"step", name}, {"error", overrun}});
    run_next(index + 1);
  });
  StepDone done = [this, index, generation, name, event, run_next, started](const std::string& error) {
    // `done` may be called from inside the step; continue from the loop.
    asio::post(io_, [this, index, generation, name, event, run_next, started, error] {
      if (generation != step_generation_) return;
      ++step_generation_;
      step_timer_.cancel();
      if (error.empty()) {
        Log(LogLevel::kInfo, event + ".done", {{"step", name}, {"duration_ms", MillisSince(started)}});
      } else {
        step_failed_ = true;
        Log(LogLevel::kError, event + ".failed", {{"step", name}, {"error", error}, {"duration_ms", MillisSince(started)}});
      }
      run_next(index + 1);
    });
  };
  // A step that throws will never call `done`: it has failed now, not at
  // the deadline (which would leave the rest no grace at all).
  if (!Guarded(name.c_str(), [&] { steps[index].second(done); })) done("the step threw an exception");
}

void Supervisor::TerminateProcesses() {
  if (finished_) return;
  // Listed before the shutdown signal goes to the main child's group: a
  // member of the group in this list had that signal. A process forked into
  // the group after the forward, while /proc was being read, would pass for
  // one that had it, and get nothing before the SIGKILL. Anything started
  // after the list is found in a later round.
  const std::optional<std::vector<pid_t>> processes = ListProcesses();
  if (!processes) {
    // A later round, while processes are still waited for: their pidfds
    // (or the polling) and the grace period's end, which can do without
    // /proc, see them out; the round after the last is gone goes on
    // without /proc.
    if (term_sent_ && !waiting_for_.empty()) return;
    TerminateWithoutProc();
    return;
  }
  const bool first_round = !term_sent_;
  // A round once the grace period's end has come (grace_over_: KillRemaining
  // ran): what it finds came after that SIGKILL, or after a look that found
  // nothing left to kill. It gets SIGKILL too, not a SIGTERM it could
  // ignore. (Not the clock: a round the loop runs just past the deadline,
  // before the grace timer's turn, is an ordinary one, and that turn kills
  // the rest.)
  if (first_round) {
    term_sent_ = true;
    if (main_child_alive_) {
      // The main child gets the signal that started the shutdown (rewritten
      // if so configured); SIGTERM when the shutdown had another cause.
      Forward(shutdown_signal_ != 0 ? shutdown_signal_ : SIGTERM);
      ContinueMainChild();
    }
    grace_timer_.expires_at(deadline_);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) KillRemaining();
    });
  }

  int signalled = 0;
  for (pid_t pid : *processes) {
    if (waiting_for_.count(pid)) continue;
    UniqueFd pidfd;
    if (!PinListed(pid, &pidfd)) continue;
    // The main child (its group with -g) got the shutdown signal above. A
    // process found in a later round is new, also in that group: it came
    // after the signal, and gets SIGTERM like any other.
    bool in_main_group = first_round && main_child_alive_ &&
                         (pid == main_child_ || (config_.forward_to_process_group && getpgid(pid) == main_child_));
    if (!in_main_group) {
      if (SendSignal(pid, pidfd.get(), grace_over_ ? SIGKILL : SIGTERM) != 0) continue;  // already gone
      // A stopped process (a job suspended with Ctrl+Z) would keep the
      // SIGTERM pending until the SIGKILL: it is woken to act on it.
      if (!grace_over_) SendSignal(pid, pidfd.get(), SIGCONT);
      ++signalled;
    }
    WatchUntilGone(pid, std::move(pidfd));
  }
  if (first_round) {
    Log(LogLevel::kInfo, "init.shutdown.term", {{"processes", signalled}});
  } else if (signalled > 0 && grace_over_) {
    killed_after_grace_ = true;
    Log(LogLevel::kWarn, "init.shutdown.kill", {{"processes", signalled}, {"late", true}});
  } else if (signalled > 0) {
    Log(LogLevel::kInfo, "init.shutdown.term", {{"processes", signalled}, {"late", true}});
  }
  if (waiting_for_.empty()) {
    Finish();
    return;
  }
  // After the grace period, the wait after its SIGKILL bounds this round
  // too. Started then, that wait is not pushed back (the processes backstop
  // counts on it); when there was nothing to kill then, it starts now.
  if (!grace_over_) ListAgainLater();
  else if (!after_kill_waiting_) WaitAfterKill();
}

void Supervisor::ListAgainLater() {
  if (finished_ || steady_clock::now() >= deadline_) return;
  relist_timer_.expires_after(kRelistInterval);  // replaces a wait still pending
  relist_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_ || steady_clock::now() >= deadline_) return;
    Guarded("shutdown", [this] { TerminateProcesses(); });
  });
}

bool Supervisor::PinListed(pid_t pid, UniqueFd* pidfd) {
  *pidfd = OpenPidFd(pid);
  if (!*pidfd && errno == ESRCH) return false;  // gone
  // As PID 1 every process in the namespace is init's to stop. Otherwise
  // the pid, listed a moment ago, may belong to another process by now:
  // pinned by the pidfd, it is checked again. Without a pidfd (before
  // Linux 5.3, an old seccomp profile, no descriptor left) the pid is all
  // there is, as before pidfds.
  return is_pid1_ || IsDescendant(pid, self_);
}

void Supervisor::WatchUntilGone(pid_t pid, UniqueFd fd) {
  if (!fd) fd = OpenPidFd(pid);
  if (fd && LeavesFewerThan(fd.get(), kDescriptorsKeptFree)) {
    fd.Reset();
    errno = EMFILE;
  }
  std::unique_ptr<asio::posix::stream_descriptor> desc;
  if (fd) {
    // Refused by the loop, it is polled like a process without a pidfd:
    // the shutdown goes on either way.
    desc = std::make_unique<asio::posix::stream_descriptor>(io_);
    if (int refused = WatchOnLoop(*desc, fd)) {
      desc.reset();
      fd.Reset();
      errno = refused;
    }
  }
  if (!desc) {
    if (errno == ESRCH) return;  // gone already
    // No pidfd for it: pidfd_open is missing (ENOSYS, before Linux 5.3),
    // refused by a seccomp profile that predates it (EPERM), init is
    // (nearly) out of descriptors (EMFILE), or the loop cannot watch one
    // (ENOSPC, ENOMEM). The process still counts: it is
    // looked at every kPollInterval until it is gone, shutdown only.
    if (!polling_) {
      Log(LogLevel::kWarn, "init.shutdown.no_pidfd", {{"pid", pid}, {"error", std::strerror(errno)}});
      PollUnwatched();
    }
    waiting_for_[pid] = nullptr;
    return;
  }
  asio::posix::stream_descriptor& watched = *desc;
  waiting_for_[pid] = std::move(desc);
  WaitForExit(pid, watched);
}

void Supervisor::WaitForExit(pid_t pid, asio::posix::stream_descriptor& pidfd) {
  pidfd.async_wait(asio::posix::descriptor_base::wait_read, [this, pid](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    // Only an exit the pidfd shows: the loop may have woken this wait for
    // another descriptor's event (common/kernel_timer.h).
    auto it = waiting_for_.find(pid);
    if (!ec && it != waiting_for_.end() && it->second && !HasExited(it->second->native_handle()))
      return WaitForExit(pid, *it->second);
    OnProcessGone(pid);
  });
}

void Supervisor::PollUnwatched() {
  polling_ = true;
  poll_timer_.expires_after(kPollInterval);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_) return;
    polling_ = false;
    ReapAll();
    std::vector<pid_t> gone;
    bool left = false;
    for (const auto& [pid, desc] : waiting_for_) {
      if (desc) continue;
      if (IsRunning(pid)) left = true;
      else gone.push_back(pid);
    }
    if (left) PollUnwatched();
    for (pid_t pid : gone) OnProcessGone(pid);
  });
}

void Supervisor::OnProcessGone(pid_t pid) {
  waiting_for_.erase(pid);
  if (!waiting_for_.empty() || finished_) return;
  // Everyone we knew of is gone; processes may have been started meanwhile.
  asio::post(io_, [this] { TerminateProcesses(); });
}

void Supervisor::TerminateWithoutProc() {
  // Also after a SIGTERM round that could read /proc (it became unreadable
  // since): what that round signalled is polled like the rest.
  if (!term_sent_) {
    term_sent_ = true;
    if (main_child_alive_) {
      Forward(shutdown_signal_ != 0 ? shutdown_signal_ : SIGTERM);
      ContinueMainChild();
    }
    if (is_pid1_) {
      kill(-1, SIGTERM);  // every process in the namespace but init
      kill(-1, SIGCONT);  // and the stopped ones woken to act on it
    }
    Log(LogLevel::kInfo, "init.shutdown.term", {{"processes", is_pid1_ ? "all" : "main_child"}});
    grace_timer_.expires_at(deadline_);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) KillRemaining();
    });
  }
  PollUntilGone();
}

std::optional<std::vector<pid_t>> Supervisor::ListProcesses() {
  if (!proc_usable_) return std::nullopt;
  std::optional<std::vector<pid_t>> listed = ProcessesToStop(self_, is_pid1_);
  if (!listed) {
    Log(LogLevel::kWarn, "init.proc.unreadable",
        {{"error", std::strerror(errno)}, {"shutdown", is_pid1_ ? "kill(-1)" : "main child only"}});
    proc_usable_ = false;
  }
  return listed;
}

void Supervisor::PollUntilGone() {
  if (finished_) return;
  ReapAll();
  if (!AnyProcessLeft()) {
    Finish();
    return;
  }
  // Shutdown only, never when idle: without /proc there are no pidfds to wait on.
  poll_timer_.expires_after(kPollInterval);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) PollUntilGone();
  });
}

bool Supervisor::AnyProcessLeft() const {
  // As PID 1, kill(-1, 0) succeeds while any other process is in the namespace.
  if (is_pid1_) return kill(-1, 0) == 0;
  return main_child_alive_;
}

void Supervisor::KillRemaining() {
  if (finished_) return;
  grace_over_ = true;
  relist_timer_.cancel();  // the SIGKILL below reaches what it would find
  const std::optional<std::vector<pid_t>> listed = ListProcesses();
  if (!listed) {
    // Without /proc: the processes this shutdown already waits for (an
    // earlier round listed them) are known still, and must not outlive the
    // grace period either, or nothing would ever end the wait.
    if (!AnyProcessLeft() && waiting_for_.empty()) return;
    Log(LogLevel::kWarn, "init.shutdown.kill", {{"processes", is_pid1_ ? "all" : "main_child"}});
    KillKnown();
    grace_timer_.expires_after(kAfterKillWait);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Finish();
    });
    return;
  }
  const std::vector<pid_t>& left = *listed;
  // Nothing listed is left, but a process polled for want of a pidfd may
  // be: its pid may be a stranger's by now, and look alive for ever. The
  // wait below bounds it.
  if (left.empty() && waiting_for_.empty()) return;
  if (!left.empty()) KillListed(left);
  WaitAfterKill();
}

void Supervisor::WaitAfterKill() {
  after_kill_waiting_ = true;
  grace_timer_.expires_after(kAfterKillWait);
  grace_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    Log(LogLevel::kError, "init.shutdown.stuck", {{"processes", static_cast<long long>(waiting_for_.size())}});
    Finish();
  });
}

void Supervisor::KillKnown() {
  killed_after_grace_ = true;
  if (is_pid1_) {
    kill(-1, SIGKILL);
    return;
  }
  pid_t target = 0;
  if (main_child_alive_) signal_thread::SendToMainChild(main_child_, SIGKILL, config_.forward_to_process_group, &target);
  // Through its pidfd where there is one: that cannot reach a reused pid.
  for (const auto& [pid, pidfd] : waiting_for_) SendSignal(pid, pidfd ? pidfd->native_handle() : -1, SIGKILL);
}

void Supervisor::KillListed(const std::vector<pid_t>& left) {
  killed_after_grace_ = true;
  Log(LogLevel::kWarn, "init.shutdown.kill",
      {{"processes", static_cast<long long>(left.size())},
       {"grace_ms", static_cast<long long>(config_.grace_period.count())}});
  if (is_pid1_) {
    // As PID 1, kill(-1) reaches every process in the namespace but init,
    // including any started after the list was read.
    kill(-1, SIGKILL);
    for (pid_t pid : left)
      if (!waiting_for_.count(pid)) WatchUntilGone(pid);
  } else {
    for (pid_t pid : left) {
      auto watched = waiting_for_.find(pid);
      // Watched since an earlier round: its pidfd is the process listed
      // then. If that one is gone, the pid may be a new descendant's.
      if (watched != waiting_for_.end() && watched->second &&
          SendSignal(pid, watched->second->native_handle(), SIGKILL) == 0)
        continue;
      UniqueFd pidfd;
      if (!PinListed(pid, &pidfd)) continue;
      SendSignal(pid, pidfd.get(), SIGKILL);
      if (watched == waiting_for_.end()) WatchUntilGone(pid, std::move(pidfd));
    }
  }
}

void Supervisor::Finish() {
  if (finished_) return;
  final_backstop_.Set(steady_clock::now() + kFinalStepsTime + kBackstopMargin);
  poll_timer_.cancel();
  relist_timer_.cancel();
  grace_timer_.cancel();  // else its after-SIGKILL wait could say "stuck" during the final steps
  ReapAll();
  if (main_child_alive_) {
    // The main child may be gone (its pidfd fired) but not reaped yet: reap
    // it before deciding the exit code.
    signal_thread::Pause pause;
    int status = 0;
    if (waitpid(main_child_, &status, WNOHANG) == main_child_) {
      OnMainChildExit(main_child_, status);
    } else {
      // Not reapable: stuck in the kernel, or its exit held by a tracer.
      // When it was SIGKILLed after the grace period, it dies of that
      // SIGKILL (the kernel's, at the latest, when PID 1 exits): that is
      // the status init reports, not the one of having no main child.
      Log(LogLevel::kError, "init.child.unreaped", {{"pid", main_child_}});
      if (killed_after_grace_) main_child_status_ = SIGKILL;  // the wait status of a death by SIGKILL
    }
  }
  finished_ = true;
  processes_backstop_.Clear();
  // The processes are gone (every other one as PID 1, init's descendants
  // otherwise), or the wait for them is over: what they stood in the way
  // of can be done now. In a time of their own, not the grace period's: a
  // lock with nothing left to end takes a fraction of a second, and it
  // must have that even with grace_period = 0.
  deadline_ = steady_clock::now() + kFinalStepsTime;
  RunFinalStep(0);
}

void Supervisor::Exit() {
  exiting_ = true;
  io_.stop();  // first: should a log line below throw, the loop stops all the same
  int code = ExitCode();
  FlushFloodCounts();  // lines held back from a flood not yet said
  Log(LogLevel::kInfo, "init.exit",
      {{"code", code}, {"reaped", static_cast<long long>(reaper_.total_reaped())},
       {"killed_after_grace", killed_after_grace_}, {"step_failed", step_failed_}});
}

void Supervisor::OnProcessesStalled() {
  if (finished_) return;
  if (stall_killed_) {
    // The SIGKILL went out kAfterKillWait ago: what is left is stuck in the
    // kernel, as after a grace period, and the kernel ends it when PID 1
    // exits.
    Guarded("shutdown", [this] { Finish(); });
    return;
  }
  // The sequence broke off before the processes were seen out: they get
  // what the grace period's end gives them. The sequence may end the wait
  // for them (their pidfds); if it breaks off again, this backstop does.
  stall_killed_ = true;
  step_failed_ = true;
  // The SIGKILL below takes the SIGTERM round's place: a round after it
  // (a process gone, or started since) is a later one, whose finds get
  // SIGKILL, and which leaves the wait after the SIGKILL running.
  term_sent_ = true;
  processes_backstop_.Set(steady_clock::now() + kAfterKillWait);
  Guarded("shutdown", [this] { Log(LogLevel::kError, "init.shutdown.stalled", {{"stage", "processes"}}); });
  if (!Guarded("shutdown", [this] { KillRemaining(); })) KillKnown();
}

void Supervisor::OnFinalStepsStalled() {
  if (exiting_) return;
  step_failed_ = true;
  Guarded("shutdown", [this] { Log(LogLevel::kError, "init.shutdown.stalled", {{"stage", "final_steps"}}); });
  Guarded("shutdown", [this] { Exit(); });
}

int Supervisor::ExitCode() const {
  if (main_child_status_) return ReportedExitCode(ExitCodeForWaitStatus(*main_child_status_), config_.expect_exit);
  if (step_failed_) return kExitShutdownStepFailed;
  if (killed_after_grace_) return kExitKilledAfterGrace;
  return kExitClean;
}

}  // namespace tazpod::init
