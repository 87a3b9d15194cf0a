// The PID 1 event loop (Boost.Asio, on init's main thread).
//
// Owns everything init does after start: it reads the signals the signal
// thread passes on (init/signal_thread.h), reaps, forwards signals to the
// main child (those it only passes on are forwarded by the signal thread
// itself, outside debug level), and runs the ordered shutdown:
//
//   SIGTERM/SIGINT, or the main child exits
//     → stop accepting new work (hooks)
//     → wait forward_delay, if set and a signal started it
//     → run the shutdown steps in order (the vault's "lock" first)
//     → the main child gets the (rewritten) signal; every other process
//       SIGTERM; then each SIGCONT, so that a stopped one acts on it
//     → wait, on pidfds, until all are gone or the grace period ends
//     → SIGKILL what is left → reap
//     → run the final steps (the vault's lock again, if it is not locked)
//     → exit
//
// The grace period bounds the steps and the SIGTERM wait together. When idle,
// the loop waits on descriptors alone (the signal thread's pipe, the
// components' sockets): no timers, no wake-ups.
//
// Nothing thrown by a handler or a component escapes the loop: it is logged
// as init.component.failed, recorded in failures() (which health reports),
// and init carries on reaping.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kernel_timer.h"
#include "common/unique_fd.h"
#include "init/backstop.h"
#include "init/component_failures.h"
#include "init/config.h"
#include "init/reaper.h"

namespace tazpod::init {

// Exit codes of init when there is no main child (with one, init exits with
// the child's code). docs/init.md documents them.
inline constexpr int kExitClean = 0;
inline constexpr int kExitShutdownStepFailed = 3;
inline constexpr int kExitKilledAfterGrace = 4;

// How long the final steps may take together (Supervisor::AddFinalStep).
inline constexpr std::chrono::seconds kFinalStepsTime{5};

class Supervisor {
 public:
  // A shutdown step calls `done` once, with an empty string on success or
  // what went wrong. It may finish later, from the loop (e.g. after work on
  // another thread); a step that overruns the grace period is abandoned.
  using StepDone = std::function<void(const std::string& error)>;
  using ShutdownStep = std::function<void(StepDone done)>;

  // `signals` gives signalfd_siginfo records: the signal thread's pipe, or a
  // signalfd when that thread could not start.
  Supervisor(boost::asio::io_context& io, const InitConfig& config, UniqueFd signals,
             bool is_pid1);
  ~Supervisor();

  Reaper& reaper() { return reaper_; }
  // What failed without ending init: the loop's, the reaper's and the
  // shutdown's failures, and any a component records (init/wiring.h).
  ComponentFailures& failures() { return failures_; }

  void OnStopAccepting(std::function<void()> hook);
  void AddShutdownStep(std::string name, ShutdownStep step);
  // A final step runs once every other process is gone (or the wait for
  // them is over), just before init exits, for what those processes could
  // stand in the way of: the vault locks again if its shutdown step left it
  // unlocked. The final steps run in the order they were added, within
  // kFinalStepsTime together; signals are still read, and children reaped.
  void AddFinalStep(std::string name, ShutdownStep step);

  // Takes charge of the main child: forwards signals to it, and its exit
  // starts the shutdown and decides init's exit code.
  void AdoptMainChild(pid_t pid);

  // Runs the loop until the shutdown completes; returns init's exit code.
  int Run();

 private:
  void WaitForSignal();
  // `code` and `sender`: the record's ssi_code and ssi_pid.
  void OnSignal(int signal, int code, pid_t sender);
  void Forward(int signal);
  // SIGCONT after the shutdown signal, to the main child (its group with
  // -g): stopped, it would hold that signal pending until the SIGKILL.
  void ContinueMainChild();
  // Reaps every exited child; OnMainChildExit for the main child.
  void ReapAll();
  void OnMainChildExit(pid_t pid, int status);

  void BeginShutdown(const std::string& reason, int signal);
  using NamedStep = std::pair<std::string, ShutdownStep>;
  void RunStep(size_t index);
  void RunFinalStep(size_t index);
  // Runs steps[index] until its `done` or deadline_ (then it failed with
  // `overrun`), logging `event`.begin, .done or .failed; then
  // run_next(index + 1), or `after` past the last.
  void RunStepOf(const std::vector<NamedStep>& steps, size_t index, const std::string& event, const char* overrun,
                 const std::function<void(size_t)>& run_next, const std::function<void()>& after);
  void TerminateProcesses();
  // While the grace period lasts, runs TerminateProcesses() again in
  // kRelistInterval, for processes started since this round.
  void ListAgainLater();
  // Opens a pidfd of a process ListProcesses() found (into *pidfd; left
  // invalid when the kernel gives none) and tells whether it is still one
  // to stop: false when it is gone, or, when init is not PID 1, when the pid
  // now belongs to a process that is not init's descendant.
  bool PinListed(pid_t pid, UniqueFd* pidfd);
  // Calls OnProcessGone(pid) once the process is gone: woken by its pidfd
  // (`pidfd`, or one opened here), or polled when the kernel gives none.
  void WatchUntilGone(pid_t pid, UniqueFd pidfd = UniqueFd());
  void PollUnwatched();
  void OnProcessGone(pid_t pid);
  // Waits on the pidfd `waiting_for_[pid]` holds until its process exits.
  void WaitForExit(pid_t pid, boost::asio::posix::stream_descriptor& pidfd);
  void KillRemaining();
  // After a SIGKILL: Finish() in kAfterKillWait, if the processes killed
  // are not gone by then (stuck in the kernel).
  void WaitAfterKill();
  // SIGKILLs the processes KillRemaining() listed, `left` (not empty).
  void KillListed(const std::vector<pid_t>& left);
  // SIGKILL without reading /proc, allocating nothing: as PID 1 every
  // process (kill(-1)); otherwise the main child (its group with -g) and
  // the processes already waited for.
  void KillKnown();
  // The processes to stop (process_list.h); nullopt without a usable /proc.
  // When /proc cannot be read, logs it, and the rest of the shutdown goes on
  // without /proc.
  std::optional<std::vector<pid_t>> ListProcesses();
  // Without a usable /proc: signal by kill(-1) or the main child, and poll.
  void TerminateWithoutProc();
  void PollUntilGone();
  // Without a usable /proc: as PID 1, any process but init; else the main child.
  bool AnyProcessLeft() const;
  // Every process gone (or the wait for them over): the final steps, then Exit.
  void Finish();
  void Exit();
  // The backstops': the shutdown broke off (a handler threw) and did not
  // end in time. SIGKILL what is left and, kAfterKillWait later, run the
  // final steps; or, once those overran, exit.
  void OnProcessesStalled();
  void OnFinalStepsStalled();
  int ExitCode() const;

  // Runs `fn`, logging anything it throws (init.component.failed) instead
  // of letting it stop the loop. False when it threw.
  bool Guarded(const char* what, const std::function<void()>& fn);

  boost::asio::io_context& io_;
  InitConfig config_;
  bool is_pid1_;
  bool proc_usable_;
  pid_t self_;
  boost::asio::posix::stream_descriptor signals_;
  ComponentFailures failures_;  // before reaper_, which records in it
  Reaper reaper_;

  pid_t main_child_ = 0;
  bool main_child_alive_ = false;
  std::optional<int> main_child_status_;

  std::vector<std::function<void()>> stop_accepting_hooks_;
  std::vector<NamedStep> steps_;
  std::vector<NamedStep> final_steps_;

  bool shutting_down_ = false;
  bool finished_ = false;  // the processes are gone: the final steps run
  bool exiting_ = false;   // the final steps are done: the loop stops
  bool stall_killed_ = false;  // the processes backstop fired and SIGKILLed
  int shutdown_signal_ = 0;
  bool step_failed_ = false;
  bool killed_after_grace_ = false;
  bool grace_over_ = false;          // KillRemaining() ran
  bool after_kill_waiting_ = false;  // WaitAfterKill() began its wait
  bool term_sent_ = false;
  std::uint64_t step_generation_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  KernelTimer delay_timer_;
  KernelTimer step_timer_;
  KernelTimer grace_timer_;
  // PollUnwatched's while /proc can be read, PollUntilGone's once it cannot:
  // re-armed by PollUntilGone, it cancels a PollUnwatched wait for good
  // (polling_ stays set; no process is watched again). AnyProcessLeft then
  // stands for those processes: as PID 1 it sees them all; otherwise only
  // the main child is waited for, as docs/init.md says.
  KernelTimer poll_timer_;
  KernelTimer relist_timer_;  // ListAgainLater's
  // Set when the shutdown begins, for well after its grace period; moved
  // on by Finish() to well after the final steps' time. They fire only
  // when a handler that threw broke the sequence off (init/backstop.h).
  Backstop processes_backstop_;
  Backstop final_backstop_;
  // The processes the shutdown waits for, each with its pidfd (null: polled).
  std::map<pid_t, std::unique_ptr<boost::asio::posix::stream_descriptor>> waiting_for_;
  bool polling_ = false;
};

}  // namespace tazpod::init
