#include "init/vault_service.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>

#include "common/descriptors.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/proc_stat.h"
#include "common/unique_fd.h"
#include "common/watch_on_loop.h"
#include "init/main_child.h"
#include "init/mount_namespace.h"
#include "init/process_list.h"
#include "init/signal_names.h"
#include "init/signals.h"
#include "vault/passphrase_limits.h"

namespace tazpod::init {

namespace asio = boost::asio;
using vault::NextState;
using vault::VaultEvent;
using vault::VaultState;

namespace {

// The helper's timestamps and lock step durations, logged with
// vault.helper.done (bench/vault reads them).
constexpr const char* kHelperTimings[] = {"t_start_us", "t_end_us",  "probe_us",      "hooks_us", "holders_us",
                                          "sync_us",    "umount_us", "deactivate_us", "detach_us"};

// Why the helper would refuse `size` bytes as the passphrase `what`, or "".
// Checked before a helper starts: the helper refuses such input as a usage
// error, with no result line, and that would leave the vault failed (and
// PID 1 unhealthy) because someone sent 2 kB.
std::string PassphraseProblem(size_t size, const char* what) {
  if (size == 0) return std::string("no ") + what;
  if (size > vault::kMaxPassphraseBytes)
    return std::string("the ") + what + " is longer than " + std::to_string(vault::kMaxPassphraseBytes) + " bytes";
  return "";
}

// Whether `size` bytes at `data` hold a NUL. A passphrase the vault is to
// be given must not: `tazpod passwd` sends OLD, a NUL byte, NEW, so one
// holding a NUL could never be changed.
bool HoldsNul(const char* data, size_t size) { return size != 0 && std::memchr(data, '\0', size) != nullptr; }

// passwd's input, OLD, a NUL byte, NEW: as the helper reads it.
std::string PassphrasePairProblem(const SecretBuffer& both) {
  const void* nul = both.size() ? std::memchr(both.data(), '\0', both.size()) : nullptr;
  if (!nul) return "expected the old and the new passphrase";
  const size_t old_size = static_cast<size_t>(static_cast<const char*>(nul) - both.data());
  if (std::string problem = PassphraseProblem(old_size, "old passphrase"); !problem.empty()) return problem;
  const size_t new_size = both.size() - old_size - 1;
  if (HoldsNul(both.data() + old_size + 1, new_size)) return "the new passphrase cannot hold a NUL byte";
  return PassphraseProblem(new_size, "new passphrase");
}

}  // namespace

// One helper process: its pid, its stdout, and what to do when both its
// output has ended and it has been reaped.
struct VaultService::Run {
  // `*timer_error`: 0, or why the operation's timer could not be made.
  Run(asio::io_context& io, int* timer_error) : output(io), timeout(io.get_executor(), timer_error) {}
  pid_t pid = -1;
  asio::posix::stream_descriptor output;
  KernelTimer timeout;
  std::string text;
  char chunk[512];
  bool eof = false;
  bool exited = false;
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // that signal
  bool timed_out = false;  // killed by us, at operation_timeout
  bool answered = false;  // the operation's caller has its result
  bool result_line = false;  // ... from the helper's own result line
  int answered_code = -1;
  std::chrono::steady_clock::time_point started;  // when the helper had the operation
  std::int64_t handed_us = 0;  // when PID 1 was handed the operation (MonoMicros)
  std::string operation;
  std::function<void(int, std::string)> finished;
};

namespace {

// The result line for a helper that ended without printing one: what PID 1
// knows of its end, for the caller and the state's reason.
std::string EndWithoutResult(bool timed_out, int signal, int exit_code, std::chrono::milliseconds timeout) {
  std::string why;
  if (timed_out) {
    why = "the vault helper was killed after vault.operation_timeout (" + std::to_string(timeout.count()) + " ms)";
  } else if (signal == SIGKILL) {
    // Not by us: the kernel's out-of-memory killer is the likely one when
    // argon2 needs more than the container's memory limit leaves.
    why = "the vault helper was killed by SIGKILL, not by tazpod: by the out-of-memory killer if the container's "
          "memory limit is below what the vault's argon2 keyslot needs (docs/vault.md), or by someone else";
  } else if (signal != 0) {
    why = "the vault helper was killed by " + SignalName(signal);
  } else {
    why = "the vault helper exited " + std::to_string(exit_code) + " without a result";
  }
  return "result=error kind=system step=helper message=\"" + why + "\"";
}

// Kills a helper that overran its time, with every process it started:
// mkfs, in its process group, and the hooks, which lead groups of their
// own in its session (the helper is setsid'd). Left running, a hook holds
// the vault open as the user, the key in the kernel, after the operation
// failed. A process forked during one pass is found by the next. (A hook
// that starts a session of its own has left this one: docs/vault.md,
// Hooks.)
//
// Before the helper is reaped, its pid is its own, so its group and session
// hold no unrelated process. After (`reaped`: a helper killed by someone
// else), the pid stays allocated while any process of its session lives, so
// the processes found with that session id are still the helper's; only
// the group signal is left out, which could reach a new group leader once
// the session is empty and its pid reused. Each process is signalled through
// a pidfd, after its session is read again.
void KillHelperSession(pid_t helper, bool reaped) {
  if (!reaped) kill(-helper, SIGKILL);
  if (!ProcShowsOwnNamespace()) return;  // its pids are not this namespace's
  std::set<pid_t> killed;
  for (int pass = 0; pass < 5; ++pass) {
    std::optional<std::vector<pid_t>> members = ProcessesInSession(helper);
    if (!members) {
      Log(LogLevel::kWarn, "vault.helper.session_unread", {{"pid", helper}, {"error", std::strerror(errno)}});
      break;
    }
    int signalled = 0;
    for (pid_t pid : *members) {
      if (pid == helper || killed.contains(pid)) continue;  // dying, not yet a zombie
      UniqueFd pidfd = OpenPidFd(pid);
      // Read again once pinned: the pid may have gone to another process.
      const std::optional<ProcStat> st = ReadProcStat(pid);
      if (!st || st->session != helper || st->state == 'Z') continue;
      if (SendSignal(pid, pidfd.get(), SIGKILL) != 0) continue;
      killed.insert(pid);
      ++signalled;
    }
    if (signalled == 0) break;
  }
  if (!killed.empty())
    Log(LogLevel::kWarn, "vault.helper.session_killed", {{"pid", helper}, {"processes", static_cast<int>(killed.size())}});
}

}  // namespace

std::string VaultService::running_operation() const { return running_ ? running_->operation : ""; }

std::optional<std::chrono::steady_clock::time_point> VaultService::running_since() const {
  if (!running_) return std::nullopt;
  return running_->started;
}

VaultService::VaultService(asio::io_context& io, Reaper& reaper, VaultSettings settings, uid_t owner_uid,
                           gid_t owner_gid, std::string mountpoint, std::string mapping_name)
    : io_(io),
      reaper_(reaper),
      settings_(std::move(settings)),
      owner_uid_(owner_uid),
      owner_gid_(owner_gid),
      mountpoint_(std::move(mountpoint)),
      mapping_name_(std::move(mapping_name)),
      stderr_relay_(io) {}

std::vector<std::string> VaultService::HelperArgs(const std::string& operation) const {
  std::vector<std::string> a = {settings_.helper, operation,
                                "--mode", settings_.ram_mode ? "ram" : "persistent",
                                "--enclave", settings_.enclave_dir,
                                "--enclave-size", std::to_string(settings_.enclave_size),
                                "--name", mapping_name_,
                                "--mountpoint", mountpoint_,
                                "--owner", std::to_string(owner_uid_) + ":" + std::to_string(owner_gid_),
                                "--pbkdf", settings_.pbkdf,
                                "--pbkdf-iterations", std::to_string(settings_.pbkdf_iterations),
                                "--pbkdf-time-ms", std::to_string(settings_.pbkdf_time.count()),
                                "--pbkdf-memory", std::to_string(settings_.pbkdf_memory_kib),
                                "--pbkdf-parallel", std::to_string(settings_.pbkdf_parallel),
                                "--luks2-keyslots-size", std::to_string(settings_.luks2_keyslots_size),
                                "--holder-grace-ms", std::to_string(settings_.holder_grace.count())};
  if (!settings_.image.empty()) a.insert(a.end(), {"--image", settings_.image});
  for (const std::string& hook : settings_.unlock_hooks) a.insert(a.end(), {"--unlock-hook", hook});
  for (const std::string& hook : settings_.lock_hooks) a.insert(a.end(), {"--lock-hook", hook});
  a.insert(a.end(), {"--hook-timeout-ms", std::to_string(settings_.hook_timeout.count())});
  if (settings_.image_size) a.insert(a.end(), {"--image-size", std::to_string(settings_.image_size)});
  return a;
}

void VaultService::Transition(VaultEvent event, const std::string& reason) {
  auto next = NextState(state_, event);
  if (!next) return;  // callers check before; an outcome never moves an illegal state
  // Kept only while failed: every operation begins with a transition out of
  // it, and whatever it ends in has its own reason in its log line.
  if (*next == VaultState::kFailed) last_error_ = reason;
  else last_error_.clear();
  Log(*next == VaultState::kFailed ? LogLevel::kError : LogLevel::kInfo, "vault.state",
      {{"from", vault::Name(state_)}, {"to", vault::Name(*next)}, {"event", vault::Name(event)},
       {"reason", reason}, {"mono_us", MonoMicros()}});
  state_ = *next;
}

// A pre-started helper (`tazpod-vault-helper standby`): exec'd, linked and
// blocked reading its operation's name from stdin. Until an operation takes
// it, PID 1 only holds its pipes and watches its exit (no timer, no read).
struct VaultService::Standby {
  explicit Standby(asio::io_context& io) : output(io) {}
  pid_t pid = -1;
  UniqueFd input;                         // its stdin
  asio::posix::stream_descriptor output;  // its stdout, already on the loop
  // The mount namespace it was started in (namespace_generation_): one
  // started before the private namespace existed must never mount the vault.
  unsigned namespace_generation = 0;
  bool exited = false;
  // Set by the operation that takes it over (exit code, or -1 and the
  // signal that killed it); until then an exit is logged.
  std::function<void(int, int)> on_exit;
  std::function<void()> on_reaped;  // DismissStandby's continuation
};

VaultService::~VaultService() {
  // At exit without a shutdown (nothing will reap it): do not leave it waiting.
  if (standby_ && !standby_->exited) kill(standby_->pid, SIGKILL);
}

pid_t VaultService::SpawnHelper(const std::string& operation, UniqueFd* input,
                                asio::posix::stream_descriptor* output) {
  int out_pipe[2], in_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return -1;
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return -1;
  }
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]), in_read(in_pipe[0]), in_write(in_pipe[1]);
  // On the loop before the fork: should its epoll refuse the descriptor
  // (out of memory, or fs.epoll.max_user_watches reached), no helper exists
  // yet, and none is handed an operation that PID 1 could not follow.
  if (int refused = WatchOnLoop(*output, out_read)) {
    errno = refused;
    return -1;
  }
  std::vector<std::string> args = HelperArgs(operation);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  // No udev answers in a container, even where /run/udev/control is there
  // (the host's /run/udev given to it): libdevmapper must neither wait for
  // udev nor leave /dev/mapper to it. It reads this when it is loaded, so
  // only the environment the helper starts with can say it.
  char udev_env[] = "DM_DISABLE_UDEV=1";
  char* envp[] = {path_env, udev_env, nullptr};
  sigset_t empty;
  sigemptyset(&empty);
  const int mount_namespace = mount_namespace_.get();
  const int stderr_relay = stderr_relay_.write_fd();
  // Step kNamespaceNotEnteredStep (helper_result.h): the helper never ran.
  static const char kSetnsFailed[] = "result=error kind=system step=namespace message=\"cannot enter the vault's mount namespace\"\n";

  pid_t pid = fork();
  if (pid < 0) {
    const int fork_errno = errno;
    boost::system::error_code ignored;
    output->close(ignored);
    errno = fork_errno;
    return -1;
  }
  if (pid == 0) {
    // A session of its own, before its signals are unblocked: on a terminal
    // (`docker run -it`) PID 1's group is the foreground one, and a Ctrl+C
    // that init ignores during the shutdown would kill the lock half-way.
    // (It cannot fail: a new child leads no process group.) A Ctrl+C that
    // reached PID 1's group before it is pending here, blocked as in PID 1:
    // ignoring a pending signal discards it, before the reset unblocks it.
    (void)setsid();
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    for (int terminal_signal : {SIGINT, SIGQUIT, SIGTSTP, SIGHUP}) sigaction(terminal_signal, &ignore, nullptr);
    // The helper must not inherit PID 1's blocked signals (a killed helper
    // must die), nor any descriptor but its pipes and stderr.
    ResetSignalsForChild(empty);
    dup2(in_read.get(), STDIN_FILENO);
    dup2(out_write.get(), STDOUT_FILENO);
    if (stderr_relay >= 0) dup2(stderr_relay, STDERR_FILENO);
    if (mount_namespace >= 0 && setns(mount_namespace, CLONE_NEWNS) != 0) {
      ssize_t ignored = write(STDOUT_FILENO, kSetnsFailed, sizeof kSetnsFailed - 1);
      (void)ignored;
      _exit(1);
    }
    CloseOnExecAboveStderr();
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  *input = std::move(in_write);
  return pid;
}

void VaultService::StartStandby() {
  if (!prestart_ || standby_ || busy()) return;
  // Without the private namespace it must have, the vault cannot be
  // unlocked: there is nothing to start a helper for.
  if (settings_.private_mount_namespace && !mount_namespace_) return;
  auto standby = std::make_shared<Standby>(io_);
  standby->pid = SpawnHelper("standby", &standby->input, &standby->output);
  if (standby->pid < 0) {
    // Not an error for anyone: the next operation forks its own helper.
    Log(LogLevel::kWarn, "vault.helper.standby_failed", {{"error", std::strerror(errno)}});
    return;
  }
  standby->namespace_generation = namespace_generation_;
  reaper_.Watch(standby->pid, [this, standby](pid_t pid, int status) {
    standby->exited = true;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (standby->on_exit) return standby->on_exit(code, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    // What it wrote goes out before the line on its exit.
    stderr_relay_.Drain();
    stderr_relay_.EndLine();
    Log(standby->on_reaped ? LogLevel::kDebug : LogLevel::kWarn, "vault.helper.standby_exit",
        {{"pid", pid}, {"code", code}});
    if (standby_ == standby) standby_.reset();
    if (standby->on_reaped) standby->on_reaped();
  });
  standby_ = standby;
  Log(LogLevel::kDebug, "vault.helper.standby", {{"pid", standby->pid}});
}

void VaultService::DismissStandby(std::function<void()> reaped) {
  std::shared_ptr<Standby> standby = std::move(standby_);
  standby_.reset();
  if (!standby || standby->exited) {
    if (reaped) reaped();
    return;
  }
  standby->on_reaped = reaped ? std::move(reaped) : [] {};
  standby->input.Reset();  // end of input: a standby helper exits by itself
  if (kill(standby->pid, SIGKILL) != 0 && errno != ESRCH)
    Log(LogLevel::kWarn, "vault.helper.kill_failed", {{"pid", standby->pid}, {"error", std::strerror(errno)}});
}

void VaultService::StopPrestarting() { prestart_ = false; }

// Hands `operation` to the standby helper: its name on a line, then the
// secret. False when there is no usable standby (none, exited, started in
// another mount namespace, or it cannot be written to).
bool VaultService::TakeStandby(const std::string& operation, const SecretBuffer& secret, pid_t* pid,
                               asio::posix::stream_descriptor* output, std::shared_ptr<Standby>* taken) {
  if (!standby_) return false;
  if (standby_->exited || standby_->namespace_generation != namespace_generation_) {
    DismissStandby();
    return false;
  }
  // Pipes hold far more than a name and a passphrase: these writes do not
  // block. A standby that died unseen gives EPIPE (PID 1 ignores its own
  // SIGPIPE): fall back to a fresh helper.
  const std::string line = operation + "\n";
  bool written = write(standby_->input.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (written && secret.size() > 0)
    written = write(standby_->input.get(), secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
  if (!written) {
    Log(LogLevel::kWarn, "vault.helper.standby_unusable", {{"pid", standby_->pid}, {"error", std::strerror(errno)}});
    DismissStandby();
    return false;
  }
  standby_->input.Reset();
  *pid = standby_->pid;
  *output = std::move(standby_->output);
  *taken = std::move(standby_);
  standby_.reset();
  return true;
}

void VaultService::RunHelper(const std::string& operation, SecretBuffer secret,
                             std::function<void(int, std::string)> finished) {
  const std::int64_t handed_us = MonoMicros();
  // Made before any helper is handed the operation: its timer is a timerfd
  // on the loop, which can be refused (out of descriptors, or the loop's
  // epoll full). Then the operation is answered as one that could not
  // start, and the standby keeps waiting; thrown later, it would leave a
  // helper at work that nobody follows and an operation never answered.
  int timer_error = 0;
  auto run = std::make_shared<Run>(io_, &timer_error);
  if (timer_error != 0) return finished(1, NeverStartedResult(timer_error));
  pid_t pid = -1;
  asio::posix::stream_descriptor output(io_);
  std::shared_ptr<Standby> standby;
  const bool prestarted = TakeStandby(operation, secret, &pid, &output, &standby);
  if (!prestarted) {
    UniqueFd input;
    pid = SpawnHelper(operation, &input, &output);
    if (pid < 0) return finished(1, NeverStartedResult(errno));
    // The pipe holds far more than a passphrase: this write does not block.
    if (secret.size() > 0) {
      ssize_t ignored = write(input.get(), secret.data(), secret.size());
      (void)ignored;
    }
  }
  secret.Clear();

  run->started = std::chrono::steady_clock::now();
  run->pid = pid;
  run->handed_us = handed_us;
  run->operation = operation;
  run->output = std::move(output);
  run->finished = std::move(finished);
  running_ = run;
  Log(LogLevel::kDebug, "vault.helper.start",
      {{"operation", operation}, {"pid", pid}, {"prestarted", prestarted}});

  // The operation is answered as soon as the result line is complete: the
  // helper prints it after its last kernel call, so the vault's state is
  // settled, and the helper's exit (unmapping libcryptsetup and the rest)
  // and its reaping follow off the critical path. Without a result line (a
  // killed helper prints none) the answer waits for the end of its output
  // and its exit status, as before. The timeout stands until it is reaped.
  auto answer = [this, run, operation, prestarted](int code, const std::string& line) {
    // What the helper wrote on its stderr before its result comes out
    // before the lines on the result.
    stderr_relay_.Drain();
    run->answered = true;
    run->answered_code = code;
    if (running_ == run) running_.reset();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - run->started);
    std::vector<LogField> fields = {{"operation", operation},
                                    {"code", code},
                                    {"duration_ms", static_cast<long long>(ms.count())},
                                    {"prestarted", prestarted},
                                    {"handed_us", run->handed_us},
                                    {"mono_us", MonoMicros()}};
    for (const char* key : kHelperTimings) {
      const std::string value = ResultField(line, key);
      if (!value.empty()) fields.emplace_back(key, std::strtoll(value.c_str(), nullptr, 10));
    }
    LogFields(LogLevel::kInfo, "vault.helper.done", fields);
    if (const std::string failed = ResultField(line, "hooks_failed"); code == 0 && !failed.empty())
      Log(LogLevel::kWarn, "vault.hook.failed", {{"operation", operation}, {"count", failed}});
    if (observer_) observer_(operation, OutcomeOfResult(code, line), ms);
    run->finished(code, line);
    RunIdleWaiters();
    // The next operation's helper, started now that this one is answered:
    // its fork, exec and linking are then off that operation's path.
    StartStandby();
  };
  auto maybe_finish = [this, run, answer] {
    const bool gone = run->eof && run->exited;
    if (!run->answered) {
      const size_t end_of_line = run->text.find('\n');
      if (end_of_line != std::string::npos && run->text.starts_with("result=")) {
        const std::string line = run->text.substr(0, end_of_line);
        run->result_line = true;
        answer(ExitCodeOfResult(line), line);
      } else if (gone) {
        // Killed by someone else (the out-of-memory killer), or crashed: its
        // hooks and mkfs are ended as at the timeout, before the caller hears
        // of it and, say, locks a vault they would still hold.
        if (!run->timed_out) KillHelperSession(run->pid, /*reaped=*/true);
        // Exit 0 is no success without the line that says what was done.
        answer(run->exit_code == 0 ? 1 : run->exit_code,
               EndWithoutResult(run->timed_out, run->signal, run->exit_code, settings_.operation_timeout));
      }
    }
    if (!gone) return;
    run->timeout.cancel();
    stderr_relay_.Drain();
    stderr_relay_.EndLine();
    if (run->result_line && run->exit_code != run->answered_code)
      Log(LogLevel::kWarn, "vault.helper.exit_mismatch",
          {{"pid", run->pid}, {"code", run->exit_code}, {"result_code", run->answered_code}});
  };
  auto on_exit = [run, maybe_finish](int code, int signal) {
    run->exited = true;
    run->exit_code = code;
    run->signal = signal;
    maybe_finish();
  };
  if (standby) {
    standby->on_exit = on_exit;
    // Reaped between the hand-off and now (the reaper only runs from the
    // event loop, so this is defensive).
    if (standby->exited) on_exit(-1, 0);
  } else {
    reaper_.Watch(pid, [on_exit](pid_t, int status) {
      on_exit(WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    });
  }
  ReadOutput(run, maybe_finish);
  run->timeout.expires_after(settings_.operation_timeout);
  run->timeout.async_wait([run, operation](boost::system::error_code ec) {
    if (ec || run->exited) return;
    Log(LogLevel::kError, "vault.helper.timeout", {{"operation", operation}, {"pid", run->pid}});
    run->timed_out = true;
    KillHelperSession(run->pid, /*reaped=*/false);
  });
}

// Only the pending read holds the run and `progress`: should the loop stop
// with the helper's output still open (init exiting right after the result
// line, before its end of file), destroying the read frees them. A reader
// that held itself would leak them, which the sanitizers report.
void VaultService::ReadOutput(std::shared_ptr<Run> run, std::function<void()> progress) {
  Run& r = *run;
  r.output.async_read_some(asio::buffer(r.chunk), [run = std::move(run), progress = std::move(progress)](
                                                      boost::system::error_code ec, size_t n) mutable {
    if (!ec && run->text.size() < 4096) {
      run->text.append(run->chunk, n);
      progress();  // the result line may be complete
      ReadOutput(std::move(run), std::move(progress));
      return;
    }
    run->eof = true;
    boost::system::error_code ignored;
    run->output.close(ignored);
    progress();
  });
}

void VaultService::WhenIdle(std::function<void()> then) {
  idle_waiters_.push_back(std::move(then));
  RunIdleWaiters();
}

void VaultService::RunIdleWaiters() {
  // One at a time, in order: a waiter that starts an operation makes the
  // service busy again, and the rest wait for that one in turn.
  while (!busy() && !idle_waiters_.empty()) {
    std::function<void()> next = std::move(idle_waiters_.front());
    idle_waiters_.erase(idle_waiters_.begin());
    next();
  }
}

void VaultService::Start(const Done& done) {
  Log(LogLevel::kInfo, "vault.recover.begin", {{"mapping", mapping_name_}});
  RunHelper("recover", SecretBuffer(1), [this, done](int code, const std::string& line) {
    VaultOutcome o = OutcomeOfResult(code, line);
    if (!o.ok) {
      Log(LogLevel::kError, "vault.recover.failed", {{"error", o.message}});
      state_ = VaultState::kFailed;
      last_error_ = "recovery failed: " + o.message;
    } else {
      state_ = ResultField(line, "state") == "absent" ? VaultState::kAbsent : VaultState::kLocked;
      Log(LogLevel::kInfo, "vault.recover.done", {{"state", vault::Name(state_)}});
    }
    // After a failed recovery, PID 1's namespace may still hold the vault's
    // mount: a copy made now would hold it too. The unlock or lock that puts
    // it right makes the namespace then (below).
    if (state_ != VaultState::kFailed) {
      std::string error;
      if (!EnsurePrivateNamespace(&error)) {
        state_ = VaultState::kFailed;
        last_error_ = error;
        o = Failure("system", last_error_);
      }
    }
    ready_ = true;
    done(o);
    RunIdleWaiters();
    StartStandby();
  });
}

bool VaultService::EnsurePrivateNamespace(std::string* error) {
  if (!settings_.private_mount_namespace || mount_namespace_) return true;
  std::string why;
  mount_namespace_ = CreatePrivateMountNamespace(&why);
  if (!mount_namespace_) {
    Log(LogLevel::kError, "vault.namespace.failed", {{"error", why}});
    *error = "no private mount namespace: " + why;
    return false;
  }
  ++namespace_generation_;
  Log(LogLevel::kInfo, "vault.namespace.created", {});
  return true;
}

void VaultService::Unlock(SecretBuffer passphrase, vault::IfNoImage if_no_image, const Done& done) {
  if (!unlocking_) return done(Failure("refused", "the container is stopping"));
  if (std::string problem = PassphraseProblem(passphrase.size(), "passphrase"); !problem.empty())
    return done(Failure("invalid", problem));
  // One that may create the vault becomes its passphrase; one only tried is
  // left to the vault.
  if (if_no_image == vault::IfNoImage::kCreate && HoldsNul(passphrase.data(), passphrase.size()))
    return done(Failure("invalid", "a passphrase cannot hold a NUL byte"));
  if (busy()) return done(Failure("busy", "another vault operation is running"));
  if (!NextState(state_, VaultEvent::kUnlockBegin))
    return done(Failure("refused", std::string("the vault is ") + std::string(vault::Name(state_))));
  if (state_ == VaultState::kAbsent && if_no_image == vault::IfNoImage::kRefuse)
    return done(Failure("refused", "there is no vault yet"));
  // Fail closed: never mount where every ungated process would see it. A
  // failed vault is recovered first, and gets its namespace then.
  const bool recover_first = state_ == VaultState::kFailed;
  if (settings_.private_mount_namespace && !mount_namespace_ && !recover_first)
    return done(Failure("system", "the vault's private mount namespace is missing (" + last_error_ + ")"));
  // Whether the vault is locked when the unlock's helper starts (as now,
  // or as the recovery below leaves it): one that then never starts leaves
  // it so.
  auto still_locked = std::make_shared<bool>(state_ == VaultState::kLocked);
  Transition(VaultEvent::kUnlockBegin);
  // The helper's `unlock` creates a missing image, `unlock-existing` never
  // does: after a failed first unlock (which deletes the image it made) the
  // state is `failed`, and a login that then skipped the first unlock's
  // checks must not make a vault of whatever passphrase it brings.
  const char* operation = if_no_image == vault::IfNoImage::kCreate ? "unlock" : "unlock-existing";
  auto unlock = [this, done, operation, still_locked](SecretBuffer secret) {
    RunHelper(operation, std::move(secret), [this, done, still_locked](int code, const std::string& line) {
      VaultOutcome o = OutcomeOfResult(code, line);
      if (o.ok) Transition(VaultEvent::kUnlockDone);
      // A locked vault whose unlock never started is still locked. (With
      // no vault yet, failed is harmless: a restart loses nothing, and the
      // gate then tells the cause, where absent would say "log in again".)
      else if (HelperNeverStarted(o) && *still_locked) Transition(VaultEvent::kUnlockRefused, o.message);
      else if (o.kind == "wrong_passphrase") Transition(VaultEvent::kUnlockRefused, "wrong_passphrase");
      // Nothing was made, so there is still no vault.
      else if (IsCreateRefusal(o)) Transition(VaultEvent::kCreateRefused, o.step);
      // Another container has the image attached, or no keyslot fits the
      // container's memory: nothing was done, here.
      else if (IsLastingRefusal(o)) Transition(VaultEvent::kUnlockRefused, o.step);
      else if (o.step == "no_image") Transition(VaultEvent::kFoundNoImage, o.message);
      else Transition(VaultEvent::kUnlockFailed, o.message);
      done(o);
    });
  };
  if (!recover_first) return unlock(std::move(passphrase));
  // A failed operation may have left the vault whole: a helper killed after
  // the mount, or in a lock before the unmount. The helper's unlock refuses
  // a vault that is already attached ("already unlocked"), which would
  // leave it failed for good. So recovery first puts it back to locked
  // (unmounted, unmapped), and the unlock then proves the passphrase as
  // always: a vault that is attached is never handed over unproven. When
  // start-up recovery failed there is no private namespace yet: this
  // recovery then runs in PID 1's own, where that one left the vault, and
  // the namespace is made once it is clean.
  auto held = std::make_shared<SecretBuffer>(std::move(passphrase));
  RunHelper("recover", SecretBuffer(1), [this, done, unlock, held, still_locked](int code, const std::string& line) {
    VaultOutcome o = OutcomeOfResult(code, line);
    const bool absent = ResultField(line, "state") == "absent";
    if (o.ok && !unlocking_) {
      // The container began to stop while the recovery ran: no unlock may
      // follow (the shutdown's lock waits behind this operation). The
      // vault is as the recovery left it, locked or absent.
      held->Clear();
      const char* stopping = "the container is stopping";
      if (absent) Transition(VaultEvent::kFoundNoImage, stopping);
      else Transition(VaultEvent::kUnlockRefused, stopping);
      last_error_.clear();  // the failure the recovery mended
      return done(Failure("refused", stopping));
    }
    if (!o.ok) o.message = "recovery failed: " + o.message;
    else if (std::string error; !EnsurePrivateNamespace(&error)) o = Failure("system", error);
    if (!o.ok) {
      held->Clear();
      Transition(VaultEvent::kUnlockFailed, o.message);
      return done(o);
    }
    *still_locked = !absent;
    unlock(std::move(*held));
  });
}

void VaultService::Lock(const Done& done) {
  if (busy()) return done(Failure("busy", "another vault operation is running"));
  if (!NextState(state_, VaultEvent::kLockBegin))
    return done(Failure("refused", std::string("the vault is ") + std::string(vault::Name(state_))));
  Transition(VaultEvent::kLockBegin);
  RunHelper("lock", SecretBuffer(1), [this, done](int code, const std::string& line) {
    VaultOutcome o = OutcomeOfResult(code, line);
    // A lock of a vault that start-up recovery could not clean ran in PID
    // 1's namespace: now that it is clean, the private one can be made.
    // Not at the shutdown: no unlock will follow to use it, and its
    // failure would turn a lock that worked into a failed one.
    if (std::string error; o.ok && unlocking_ && !EnsurePrivateNamespace(&error)) o = Failure("system", error);
    if (o.ok && ResultField(line, "state") == "absent") Transition(VaultEvent::kFoundNoImage, "there is no vault yet");
    else if (o.ok) Transition(VaultEvent::kLockDone);
    // Even when its helper never started: an unlocked vault that nobody
    // will lock again must show, as failed (/healthz), not pass as unlocked.
    else Transition(VaultEvent::kLockFailed, o.message);
    done(o);
  });
}

void VaultService::Verify(SecretBuffer passphrase, const Done& done) {
  if (std::string problem = PassphraseProblem(passphrase.size(), "passphrase"); !problem.empty())
    return done(Failure("invalid", problem));
  if (busy()) return done(Failure("busy", "another vault operation is running"));
  if (state_ == VaultState::kAbsent) return done(Failure("refused", "the vault is absent"));
  RunHelper("verify", std::move(passphrase), [done](int code, const std::string& line) { done(OutcomeOfResult(code, line)); });
}

void VaultService::ChangePassphrase(SecretBuffer both, const Done& done) {
  if (!unlocking_) return done(Failure("refused", "the container is stopping"));
  if (std::string problem = PassphrasePairProblem(both); !problem.empty()) return done(Failure("invalid", problem));
  if (busy()) return done(Failure("busy", "another vault operation is running"));
  if (state_ == VaultState::kAbsent) return done(Failure("refused", "the vault is absent"));
  RunHelper("passwd", std::move(both), [done](int code, const std::string& line) {
    VaultOutcome o = OutcomeOfResult(code, line);
    Log(o.ok ? LogLevel::kInfo : LogLevel::kWarn, "vault.passwd", {{"result", o.ok ? "ok" : o.kind}});
    done(o);
  });
}

}  // namespace tazpod::init
