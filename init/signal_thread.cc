#include "init/signal_thread.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "common/log.h"
#include "init/signal_names.h"
#include "init/signals.h"

namespace tazpod::init::signal_thread {

namespace {

// It sleeps in sigwaitinfo and calls kill(), write() and, on a failed
// forward, the logger: a small stack is plenty (init's memory target).
constexpr size_t kStackSize = size_t{64} * 1024;

// Written before the thread starts (pthread_create orders them before
// anything it reads), then only read.
sigset_t g_handled;
sigset_t g_forward;
int g_send_as[NSIG];
bool g_to_group = false;
pid_t g_self = 0;
int g_first_realtime = SIGRTMAX;  // SIGRTMIN, which glibc computes at run time
int g_pipe = -1;  // the write end, the thread's until init exits

// Held by the thread around each forward, by the main thread for a Pause.
std::mutex g_forwarding;
int g_pause_depth = 0;  // the main thread's
// Read by the thread with g_forwarding held; changed by the main thread (the
// change to 0 with a Pause held, so no forward is under way).
std::atomic<pid_t> g_target{0};

// One bit per standard signal whose record is in the pipe and not yet taken
// by the loop: set by the thread as it writes the record, cleared by the
// loop (Taken) before it acts on it. While set, the same signal gets no
// second record: the kernel does not queue a pending standard signal twice
// either, and for SIGCHLD the reap to come takes every exited child.
std::atomic<std::uint64_t> g_waiting{0};

// 0 for a real-time signal: those are queued, one record each.
std::uint64_t Bit(int signal) {
  return signal < g_first_realtime && signal < 64 ? std::uint64_t{1} << signal : 0;
}

void Forward(int signal, const siginfo_t& info) {
  if (RaisedAgainstInit(signal, info.si_code, info.si_pid, g_self)) return;
  const int send = g_send_as[signal];
  if (send == 0) return;
  pid_t target = 0;
  int error = 0;
  {
    std::lock_guard<std::mutex> lock(g_forwarding);
    const pid_t child = g_target.load();
    if (child <= 0) return;
    error = SendToMainChild(child, send, g_to_group, &target);
  }
  // Logged with the mutex released: a log write that blocks (a stalled
  // stderr) must not hold up the loop's next Pause.
  if (error != 0) LogForwardFailed(send, target, error);
}

void PassToLoop(int signal, const siginfo_t& info) {
  const std::uint64_t bit = Bit(signal);
  if (bit != 0 && (g_waiting.fetch_or(bit) & bit) != 0) return;
  signalfd_siginfo record{};
  record.ssi_signo = static_cast<std::uint32_t>(signal);
  record.ssi_code = info.si_code;
  record.ssi_pid = static_cast<std::uint32_t>(info.si_pid);
  record.ssi_uid = info.si_uid;
  // A record is smaller than PIPE_BUF, so it is written whole or not at all.
  // The write blocks only while the loop has 512 records unread (a flood of
  // signals sent to init): the thread then waits for the loop, and the
  // signals in the kernel's queue. EPIPE: the loop has closed its end, init
  // is exiting.
  while (write(g_pipe, &record, sizeof record) < 0 && errno == EINTR) {
  }
}

void* Run(void*) {
  for (;;) {
    siginfo_t info;
    const int signal = sigwaitinfo(&g_handled, &info);
    if (signal <= 0) continue;  // EINTR: init was stopped and continued
    // An exception escaping this thread would end PID 1 (std::terminate).
    // The only one possible is an allocation failing while a failed
    // forward is logged: that line is lost, the thread goes on.
    try {
      if (sigismember(&g_forward, signal) == 1)
        Forward(signal, info);
      else
        PassToLoop(signal, info);
    } catch (...) {
    }
  }
  return nullptr;
}

}  // namespace

UniqueFd Start(const sigset_t& handled, const Settings& settings) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  // Closed before errno is set: close() may change it.
  const auto fail = [&](int err) {
    g_pipe = -1;
    read_end.Reset();
    write_end.Reset();
    errno = err;
    return UniqueFd();
  };
  if (fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) return fail(errno);

  g_handled = handled;
  g_forward = settings.forward;
  for (int s = 1; s < NSIG; ++s) g_send_as[s] = s;
  for (const auto& [from, to] : settings.rewrite)
    if (from > 0 && from < NSIG) g_send_as[from] = to;
  g_to_group = settings.to_group;
  g_self = getpid();
  g_first_realtime = SIGRTMIN;
  g_pipe = write_end.get();

  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err == 0) err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (err == 0) err = pthread_attr_setstacksize(&attr, kStackSize);
  pthread_t thread;
  if (err == 0) err = pthread_create(&thread, &attr, Run, nullptr);
  pthread_attr_destroy(&attr);
  if (err != 0) return fail(err);
  write_end.Release();  // the thread writes to it until init exits
  return read_end;
}

void SetMainChild(pid_t pid) { g_target.store(pid); }

void Taken(int signal) { g_waiting.fetch_and(~Bit(signal)); }

Pause::Pause() {
  if (g_pause_depth++ == 0) g_forwarding.lock();
}

Pause::~Pause() {
  if (--g_pause_depth == 0) g_forwarding.unlock();
}

int SendToMainChild(pid_t child, int signal, bool to_group, pid_t* target) {
  *target = to_group ? -child : child;
  if (kill(*target, signal) == 0 || errno == ESRCH) return 0;
  return errno;
}

void LogForwardFailed(int signal, pid_t target, int error) {
  Log(LogLevel::kWarn, "init.signal.forward_failed",
      {{"signal", SignalName(signal)}, {"target", target}, {"error", std::strerror(error)}});
}

}  // namespace tazpod::init::signal_thread
