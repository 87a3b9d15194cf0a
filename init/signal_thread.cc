#include "init/fast_forward.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace tazpod::init::fast_forward {

namespace {

// Written before Start() or with the signals blocked; read by the handler.
// Lock-free atomics are async-signal-safe.
std::atomic<pid_t> g_target{0};
std::atomic<pid_t> g_owner{0};
int g_send_as[NSIG];  // written only before Start()
bool g_to_group = false;
sigset_t g_installed;
bool g_any_installed = false;
bool g_started = false;
int g_pause_depth = 0;
std::atomic<int> g_failure_fd{-1};
std::atomic<int> g_failed_signal{0};
std::atomic<pid_t> g_failed_target{0};
std::atomic<int> g_failed_error{0};

// Called by the handler: write() is async-signal-safe.
void NoteFailure(int signal, pid_t target, int error) {
  g_failed_signal.store(signal, std::memory_order_relaxed);
  g_failed_target.store(target, std::memory_order_relaxed);
  g_failed_error.store(error, std::memory_order_relaxed);
  const int fd = g_failure_fd.load(std::memory_order_relaxed);
  if (fd < 0) return;
  // A failed write (only a counter at 2^64 - 2) leaves the loop unwoken;
  // the failure stays noted for the next one.
  const std::uint64_t one = 1;
  const ssize_t written = write(fd, &one, sizeof one);
  (void)written;
}

void Forward(int signal, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;
  const pid_t owner = g_owner.load(std::memory_order_relaxed);
  // Not for the main child: a signal the kernel raised against init itself
  // (SIGXFSZ for a log write past RLIMIT_FSIZE comes "from" init), and any
  // signal to a forked child of init that has not reset its dispositions
  // yet, which was meant for that child.
  const bool from_init = (info->si_code == SI_USER || info->si_code == SI_TKILL) && info->si_pid == owner;
  if (!from_init && getpid() == owner) {
    const pid_t target = g_target.load(std::memory_order_relaxed);
    const int send = g_send_as[signal];
    // ESRCH: the child has just exited, as the loop's forwarding also
    // ignores. Anything else (EPERM: init without CAP_KILL, and a child that
    // took another user) is noted for the loop to log.
    const pid_t to = g_to_group ? -target : target;
    if (target > 0 && send != 0 && kill(to, send) != 0 && errno != ESRCH) NoteFailure(send, to, errno);
  }
  errno = saved_errno;
}

}  // namespace

int Install(const sigset_t& signals, const std::map<int, int>& rewrite, bool to_group) {
  g_owner.store(getpid(), std::memory_order_relaxed);
  g_to_group = to_group;
  for (int s = 1; s < NSIG; ++s) g_send_as[s] = s;
  for (const auto& [from, to] : rewrite)
    if (from > 0 && from < NSIG) g_send_as[from] = to;

  sigemptyset(&g_installed);
  struct sigaction action {};
  action.sa_sigaction = Forward;
  // Restarted syscalls: the handler may run anywhere in init. Every
  // forwarded signal blocked while it runs, so handlers never nest.
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  action.sa_mask = signals;
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&signals, s) != 1) continue;
    if (sigaction(s, &action, nullptr) != 0) {
      if (errno == EINVAL) continue;  // glibc's own real-time signals
      return errno;
    }
    sigaddset(&g_installed, s);
  }
  g_any_installed = !sigisemptyset(&g_installed);
  return 0;
}

void SetMainChild(pid_t pid) { g_target.store(pid, std::memory_order_relaxed); }

void SetFailureFd(int fd) { g_failure_fd.store(fd, std::memory_order_relaxed); }

Failure LastFailure() {
  Pause pause;
  return {g_failed_signal.load(std::memory_order_relaxed), g_failed_target.load(std::memory_order_relaxed),
          g_failed_error.load(std::memory_order_relaxed)};
}

int Start() {
  if (!g_any_installed) return 0;
  if (sigprocmask(SIG_UNBLOCK, &g_installed, nullptr) != 0) return errno;
  g_started = true;
  return 0;
}

// sigprocmask cannot fail with a valid `how` and set.
Pause::Pause() {
  if (g_started && g_pause_depth++ == 0) sigprocmask(SIG_BLOCK, &g_installed, nullptr);
}

Pause::~Pause() {
  if (g_started && --g_pause_depth == 0) sigprocmask(SIG_UNBLOCK, &g_installed, nullptr);
}

}  // namespace tazpod::init::fast_forward
