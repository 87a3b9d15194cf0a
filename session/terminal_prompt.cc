#include "session/terminal_prompt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace tazpod::session {

namespace {

constexpr char kCtrlC = 0x03, kCtrlD = 0x04, kCtrlH = 0x08, kCtrlU = 0x15, kCtrlZ = 0x1a,
               kCtrlBackslash = 0x1c, kDelete = 0x7f;

// Every signal whose default action would end or stop the process with the
// terminal in raw mode, echo off: those a terminal sends, SIGTERM, and the
// rest (SIGPWR, SIGXCPU, SIGPROF, the real-time signals...). Not the faults,
// which the kernel raises for a bug of this process and which cannot wait
// in a signalfd, nor those that cannot be caught or do nothing by default.
// And SIGCONT, which resumes the process whether held or not: held, it
// says the prompt was stopped (SIGSTOP cannot be held), and the shell that
// saw it stop may have put the terminal back in its own mode meanwhile.
sigset_t PromptSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT, SIGCHLD, SIGURG,
                SIGWINCH})
    sigdelset(&set, s);
  return set;
}

// The flags raw mode clears: no echo, no line editing, no signals from
// keys; and on input, no flow control, no CR/NL translation, and nothing
// that changes the bytes typed: a terminal left with ISTRIP would take the
// eighth bit off every byte of a UTF-8 passphrase, one with IUCLC would
// lower its capitals, and PARMRK would double a 0xff byte. Each would make
// a passphrase typed there differ from the same one typed elsewhere.
constexpr tcflag_t kRawOffLocal = ECHO | ECHONL | ICANON | ISIG | IEXTEN;
constexpr tcflag_t kRawOffInput = IXON | ICRNL | INLCR | IGNCR | ISTRIP | IUCLC | PARMRK;

// Whether this process is in the terminal's foreground process group. With
// SIGTTOU and SIGTTIN held, the kernel would let a background prompt
// change the mode of a terminal the foreground uses, and its reads fail.
bool InForeground(int tty_fd) {
  const pid_t foreground = tcgetpgrp(tty_fd);
  return foreground < 0 || foreground == getpgrp();
}

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// The keys' signals (SIGINT, SIGQUIT, SIGTSTP) the caller neither ignores
// nor blocks: those a request may hold.
sigset_t KeySignalsToHold() {
  sigset_t held;
  sigemptyset(&held);
  sigset_t blocked;
  if (sigprocmask(SIG_BLOCK, nullptr, &blocked) != 0) return held;
  for (int s : {SIGINT, SIGQUIT, SIGTSTP}) {
    // One the caller ignores (`trap '' INT`) or blocks would not have
    // interrupted it: left alone, it is neither consumed nor counted.
    struct sigaction current {};
    if (sigaction(s, nullptr, &current) != 0 || current.sa_handler == SIG_IGN || sigismember(&blocked, s)) continue;
    sigaddset(&held, s);
  }
  return held;
}

// One byte from the terminal, without waiting. poll() said one was there,
// but another reader of the terminal in the foreground (`cat /dev/tty &`
// in the same shell, say) may have taken it since; a blocking read would
// then wait with every signal held and the timeout not running, until the
// next key. O_NONBLOCK only for the read: the prompt and the lines around
// it are written as before, and the description is this process's own.
ssize_t ReadByteNow(int tty_fd, char* c) {
  const int flags = fcntl(tty_fd, F_GETFL);
  if (flags < 0) return -1;
  if ((flags & O_NONBLOCK) == 0 && fcntl(tty_fd, F_SETFL, flags | O_NONBLOCK) != 0) return -1;
  const ssize_t n = read(tty_fd, c, 1);
  const int read_errno = errno;
  if ((flags & O_NONBLOCK) == 0) fcntl(tty_fd, F_SETFL, flags);
  errno = read_errno;
  return n;
}

// What EchoOff's signal handler restores: the mode it found, on its
// terminal. One EchoOff at a time; -1 when none is active.
volatile sig_atomic_t g_echo_fd = -1;
struct termios g_echo_mode {};

// Runs once (SA_RESETHAND: the action is the default again) and unblocked
// (SA_NODEFER), so raising the signal again ends the process at once, as
// the signal would have, with the exit status a parent expects. Only
// async-signal-safe calls. Not from the background: there tcsetattr()
// would stop the process (SIGTTOU) instead of letting it end.
void RestoreEchoThenEnd(int signo) {
  const int saved_errno = errno;
  const int fd = g_echo_fd;
  if (fd >= 0 && InForeground(fd)) tcsetattr(fd, TCSAFLUSH, &g_echo_mode);
  (void)raise(signo);  // nothing to do if it fails: the handler is spent
  errno = saved_errno;  // reached only if the signal does not end the process
}

// The signals whose default action would end the process with echo off
// (PromptSignals() less those that stop or resume it: stopped, the shell
// restores its own mode) and that the caller has left at that default and
// unblocked. Their action becomes RestoreEchoThenEnd; returns which.
sigset_t CatchEndingSignals() {
  sigset_t caught;
  sigemptyset(&caught);
  sigset_t ending = PromptSignals();
  for (int s : {SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU}) sigdelset(&ending, s);
  sigset_t blocked;
  if (sigprocmask(SIG_BLOCK, nullptr, &blocked) != 0) return caught;
  struct sigaction restore {};
  restore.sa_handler = RestoreEchoThenEnd;
  restore.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset(&restore.sa_mask);
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&ending, s) != 1 || sigismember(&blocked, s) == 1) continue;
    struct sigaction current {};
    if (sigaction(s, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
    if (sigaction(s, &restore, nullptr) == 0) sigaddset(&caught, s);
  }
  return caught;
}

}  // namespace

std::string_view Describe(PromptResult result) {
  switch (result) {
    case PromptResult::kOk: return "ok";
    case PromptResult::kEmpty: return "no passphrase";
    case PromptResult::kInterrupted: return "interrupted";
    case PromptResult::kEndOfInput: return "end of input";
    case PromptResult::kHangup: return "terminal hung up";
    case PromptResult::kTimeout: return "timed out";
    case PromptResult::kTooLong: return "passphrase too long";
    case PromptResult::kNotForeground: return "not in the terminal's foreground (run it in the foreground)";
    case PromptResult::kError: return "terminal error";
    case PromptResult::kNoLockedMemory: return "cannot lock memory for the passphrase (CAP_IPC_LOCK or RLIMIT_MEMLOCK)";
  }
  return "terminal error";
}

TerminalModeGuard::TerminalModeGuard(int tty_fd) : fd_(tty_fd) {
  if (tcgetattr(fd_, &saved_) != 0) return;
  raw_ = saved_;
  raw_.c_lflag &= ~kRawOffLocal;
  raw_.c_iflag &= ~kRawOffInput;
  raw_.c_cc[VMIN] = 1;
  raw_.c_cc[VTIME] = 0;
  ok_ = tcsetattr(fd_, TCSAFLUSH, &raw_) == 0;  // FLUSH: nothing typed ahead is read as the passphrase
}

TerminalModeGuard::Resumed TerminalModeGuard::AfterResume() {
  struct termios now {};
  if (!ok_ || tcgetattr(fd_, &now) != 0) return Resumed::kFailed;
  if ((now.c_lflag & kRawOffLocal) == (raw_.c_lflag & kRawOffLocal) &&
      (now.c_iflag & kRawOffInput) == (raw_.c_iflag & kRawOffInput))
    return Resumed::kStillRaw;
  // FLUSH: what was typed in the other mode was echoed; it is not taken.
  return tcsetattr(fd_, TCSAFLUSH, &raw_) == 0 ? Resumed::kMadeRawAgain : Resumed::kFailed;
}

TerminalModeGuard::~TerminalModeGuard() {
  if (ok_) tcsetattr(fd_, TCSAFLUSH, &saved_);
}

EchoOff::EchoOff(int tty_fd) : fd_(tty_fd) {
  sigemptyset(&caught_);
  if (!InForeground(fd_) || tcgetattr(fd_, &saved_) != 0) return;
  // Set before the handlers, which read them.
  g_echo_mode = saved_;
  g_echo_fd = fd_;
  caught_ = CatchEndingSignals();
  struct termios quiet = saved_;
  quiet.c_lflag &= ~(ECHO | ECHONL);
  ok_ = tcsetattr(fd_, TCSANOW, &quiet) == 0;
}

EchoOff::~EchoOff() {
  if (ok_ && InForeground(fd_)) tcsetattr(fd_, TCSAFLUSH, &saved_);
  // After the restore: a signal in between finds the handler, which
  // restores the same mode again.
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (sigismember(&caught_, s) == 1) sigaction(s, &fallback, nullptr);
  g_echo_fd = -1;
}

PromptResult ReadPassphrase(int tty_fd, std::string_view prompt, SecretBuffer& out,
                            std::chrono::milliseconds timeout) {
  out.Clear();
  if (!isatty(tty_fd) || !out.valid()) return PromptResult::kError;
  if (!out.locked()) return PromptResult::kNoLockedMemory;
  const sigset_t stops = PromptSignals();
  SignalMaskGuard mask(stops);
  UniqueFd signals(signalfd(-1, &stops, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!mask.ok() || !signals) return PromptResult::kError;
  if (!InForeground(tty_fd)) return PromptResult::kNotForeground;
  TerminalModeGuard mode(tty_fd);
  if (!mode.ok()) return PromptResult::kError;

  WriteAll(tty_fd, prompt);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  PromptResult result = PromptResult::kError;
  for (bool done = false; !done;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result = PromptResult::kTimeout;
      break;
    }
    struct pollfd fds[2] = {{tty_fd, POLLIN, 0}, {signals.get(), POLLIN, 0}};
    int rc = poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    if (rc == 0) {
      result = PromptResult::kTimeout;
      break;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info {};
      if (read(signals.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
      // Resumed: in the background (bg) the prompt cannot go on, and must
      // not touch the terminal the foreground now uses. In the foreground,
      // after a shell restored its mode while the prompt was stopped, what
      // was typed meanwhile was echoed: the prompt starts again, raw. A
      // SIGCONT that stopped nothing changes nothing.
      if (info.ssi_signo == SIGCONT) {
        if (!InForeground(tty_fd)) {
          result = PromptResult::kNotForeground;
        } else {
          const TerminalModeGuard::Resumed resumed = mode.AfterResume();
          if (resumed == TerminalModeGuard::Resumed::kStillRaw) continue;
          if (resumed == TerminalModeGuard::Resumed::kMadeRawAgain) {
            // A new prompt, with the whole time to answer it: the time
            // spent stopped was not the user's to type in.
            out.Clear();
            WriteAll(tty_fd, "\r\n");
            WriteAll(tty_fd, prompt);
            deadline = std::chrono::steady_clock::now() + timeout;
            continue;
          }
        }
      } else {
        result = info.ssi_signo == SIGHUP ? PromptResult::kHangup : PromptResult::kInterrupted;
      }
      // The others already pending go too: this answer is for all of them.
      // Left pending, the next would be delivered as the mask is restored,
      // and its default action would end the login before its message.
      struct signalfd_siginfo more;
      while (read(signals.get(), &more, sizeof more) == static_cast<ssize_t>(sizeof more)) {
      }
      break;
    }
    if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL) && !(fds[0].revents & POLLIN)) {
      result = PromptResult::kHangup;
      break;
    }
    char c = 0;
    ssize_t n = ReadByteNow(tty_fd, &c);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;  // EAGAIN: another reader took it
    if (n < 0) {
      result = errno == EIO ? PromptResult::kHangup : PromptResult::kError;
      break;
    }
    if (n == 0) {
      // Raw mode (VMIN 1) reads Ctrl+D as a byte, so this is a hangup whose
      // POLLHUP came after the poll above; asked again to be sure. The
      // kernel's SIGHUP goes to the session's leader, which a prompt run
      // from a shell is not: it may never come, or come late (below).
      struct pollfd again = {tty_fd, 0, 0};
      result = poll(&again, 1, 0) == 1 && (again.revents & POLLHUP) != 0 ? PromptResult::kHangup
                                                                          : PromptResult::kEndOfInput;
      break;
    }
    switch (c) {
      case '\r':
      case '\n':
        result = out.size() == 0 ? PromptResult::kEmpty : PromptResult::kOk;
        done = true;
        break;
      case '\0':
        // Ctrl+@ (Ctrl+Space on many terminals). A NUL cannot be part of a
        // passphrase: `tazpod passwd` sends OLD, a NUL, NEW, and one with a
        // NUL in it could never be changed. So it is not taken.
        break;
      case kCtrlC:
      case kCtrlBackslash:
      case kCtrlZ:
        result = PromptResult::kInterrupted;
        done = true;
        break;
      case kCtrlD:
        if (out.size() == 0) {
          result = PromptResult::kEndOfInput;
          done = true;
        }
        break;
      case kDelete:
      case kCtrlH:
        out.Truncate(out.size() - LastCharacterBytes(out.view()));
        break;
      case kCtrlU:
        out.Clear();
        break;
      default:
        if (!out.PushBack(c)) {
          result = PromptResult::kTooLong;
          done = true;
        }
    }
    explicit_bzero(&c, sizeof c);
  }
  // Ended in the background (resumed there; or stopped, then ended by the
  // SIGTERM that comes with the SIGCONT of a shell's `kill %1`), the
  // terminal is the foreground's, in the mode its shell set, with what was
  // typed for it: left alone. A hung-up one has no mode to restore.
  if (InForeground(tty_fd))
    WriteAll(tty_fd, "\r\n");
  else
    mode.Abandon();
  if (result != PromptResult::kOk) out.Clear();
  // The terminal is gone. The kernel's SIGHUP for it may come after the
  // hangup was seen (or be pending, unread): delivered once the mask is
  // restored, it would end the caller before it says why and exits with
  // its own code. Ignored, it is also dropped if pending. (This cannot
  // fail for SIGHUP; if it did, the caller would end by the signal.)
  if (result == PromptResult::kHangup) (void)signal(SIGHUP, SIG_IGN);
  return result;
}

NewPassphrase ReadNewPassphrase(int tty_fd, std::string_view prompt, SecretBuffer& out, size_t min_length,
                                std::chrono::milliseconds timeout, PromptResult* prompt_result) {
  SecretBuffer again(out.capacity());
  *prompt_result = ReadPassphrase(tty_fd, prompt, out, timeout);
  if (*prompt_result == PromptResult::kOk) *prompt_result = ReadPassphrase(tty_fd, "Repeat it: ", again, timeout);
  NewPassphrase verdict = NewPassphrase::kOk;
  if (*prompt_result != PromptResult::kOk) verdict = NewPassphrase::kPromptFailed;
  else if (!out.Equals(again)) verdict = NewPassphrase::kDiffer;
  else if (Utf8Characters(out.view()) < min_length) verdict = NewPassphrase::kTooShort;
  if (verdict != NewPassphrase::kOk) out.Clear();
  return verdict;
}

void SayOnTerminal(int tty_fd, std::string_view text) {
  std::string line(text);
  line += "\r\n";
  ssize_t ignored = write(tty_fd, line.data(), line.size());
  (void)ignored;
}

KeyboardSignalsHeld::KeyboardSignalsHeld() : held_(KeySignalsToHold()), mask_(held_) {
  // Only while they are blocked: a signalfd of signals that are delivered
  // would never become readable.
  if (mask_.ok() && !sigisemptyset(&held_)) pending_.Reset(signalfd(-1, &held_, SFD_CLOEXEC | SFD_NONBLOCK));
}

// Those that came are consumed here, before mask_ restores the caller's
// mask, which would deliver them.
KeyboardSignalsHeld::~KeyboardSignalsHeld() { Interrupted(); }

bool KeyboardSignalsHeld::TakeNew() {
  const struct timespec now {};
  bool came = false;
  while (mask_.ok() && sigtimedwait(&held_, nullptr, &now) > 0) came = true;
  if (came) interrupted_ = true;
  return came;
}

bool KeyboardSignalsHeld::Interrupted() {
  TakeNew();
  return interrupted_;
}

}  // namespace tazpod::session
