// Reading a passphrase from a terminal, the way a security tool must.
//
// - From the controlling terminal itself (the caller opens /dev/tty), never
//   from a buffered stdin: what was typed ahead cannot leak in or out.
// - Raw mode, echo off, ISIG off (Ctrl+C, Ctrl+\ and Ctrl+Z arrive as bytes
//   and abort the prompt instead of killing the process half way), and the
//   terminal's previous mode restored on every exit path (TerminalModeGuard).
// - Fails closed: Ctrl+C, Ctrl+\, Ctrl+Z, Ctrl+D on an empty line or end of
//   input, a hangup of the terminal, a timeout, or any signal that asks the
//   process to stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP...) ends the
//   prompt with a result other than kOk. The caller must then exit non-zero.
// - Only in the terminal's foreground: a background prompt would change the
//   mode of a terminal the foreground uses. Stopped (SIGSTOP) and resumed
//   in the foreground after a shell restored its own mode, it starts again
//   in raw mode (what was typed meanwhile was echoed); resumed in the
//   background, or ended while stopped, it leaves the terminal alone.
// - The passphrase goes straight into a SecretBuffer; the bytes read are
//   wiped. Backspace and Ctrl+U edit it; nothing is echoed, not even stars.
#pragma once

#include <signal.h>
#include <termios.h>

#include <chrono>
#include <string_view>

#include "common/secret_buffer.h"
#include "common/unique_fd.h"

namespace tazpod::session {

enum class PromptResult {
  kOk,           // Enter: the passphrase (never empty) is in `out`
  kEmpty,        // Enter on an empty line: no passphrase was typed
  kInterrupted,  // Ctrl+C, Ctrl+\, Ctrl+Z, or a terminating signal
  kEndOfInput,   // Ctrl+D on an empty line, or the terminal's input ended
  kHangup,       // the terminal went away
  kTimeout,      // nothing complete within the timeout
  kTooLong,      // more than the buffer holds
  kNotForeground,  // the process is not (or no longer) in the terminal's foreground
  kError,        // the terminal could not be used (not a tty, termios failed)
  kNoLockedMemory,  // `out` is not locked in memory (no CAP_IPC_LOCK, RLIMIT_MEMLOCK):
                    // nothing is read into pages that may be swapped out
};

std::string_view Describe(PromptResult result);

// Puts a terminal in raw, no-echo mode and restores the mode it found when
// destroyed (also after a failure half way). Not copyable.
class TerminalModeGuard {
 public:
  explicit TerminalModeGuard(int tty_fd);
  ~TerminalModeGuard();
  TerminalModeGuard(const TerminalModeGuard&) = delete;
  TerminalModeGuard& operator=(const TerminalModeGuard&) = delete;
  bool ok() const { return ok_; }
  // After the process was resumed in the foreground: a shell may have
  // restored its own mode while it was stopped. Puts raw mode back then.
  enum class Resumed { kStillRaw, kMadeRawAgain, kFailed };
  Resumed AfterResume();
  // Leaves the terminal as it is at the end: ended in the background, the
  // terminal is the foreground's, in the mode its shell set.
  void Abandon() { ok_ = false; }

 private:
  int fd_;
  struct termios saved_ {};
  struct termios raw_ {};
  bool ok_ = false;
};

// Turns the terminal's echo off while a request is under way (an unlock,
// a passphrase change), and restores the mode it found when destroyed,
// discarding what was typed meanwhile. Someone who thinks the first
// passphrase was lost types it again: it must not show on the screen, nor
// reach the shell the login execs next as a command line. Lines, Ctrl+C and
// the other keys' signals work as before. Left alone if the process is no
// longer in the terminal's foreground. A signal that ends the process
// meanwhile (SIGTERM, SIGHUP, SIGUSR1...: any the caller has left at its
// default action) restores the mode first, then ends it as it would have:
// otherwise the shell the user returns to would not show what they type.
// One at a time (the signal handler's state is the process's). Not copyable.
class EchoOff {
 public:
  explicit EchoOff(int tty_fd);
  ~EchoOff();
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  struct termios saved_ {};
  bool ok_ = false;
  sigset_t caught_{};  // the signals whose default action this replaced
};

// Writes `prompt` to the terminal and reads one line into `out` (cleared
// first, and cleared again unless the result is kOk). Signals that would
// stop the process are held while it reads; one that arrives is consumed and
// ends the prompt as kInterrupted (kHangup for SIGHUP). The caller's signal
// mask and the terminal's mode are restored on return.
// After kHangup, SIGHUP is ignored: it reports the hangup already answered,
// and would otherwise end the caller before it exits with its own code.
// `tty_fd` should be an open of the caller's own (of /dev/tty): while a
// byte is read, its file status flags have O_NONBLOCK set, so a key another
// reader of the terminal took first cannot hold the prompt past its timeout.
PromptResult ReadPassphrase(int tty_fd, std::string_view prompt, SecretBuffer& out,
                            std::chrono::milliseconds timeout);

// A new passphrase, asked twice: `prompt`, then "Repeat it: ". kOk puts it
// in `out`; kPromptFailed leaves why in `*prompt_result`; the two differ, or
// the passphrase is shorter than `min_length`: refused, `out` cleared.
enum class NewPassphrase { kOk, kPromptFailed, kDiffer, kTooShort };
NewPassphrase ReadNewPassphrase(int tty_fd, std::string_view prompt, SecretBuffer& out, size_t min_length,
                                std::chrono::milliseconds timeout, PromptResult* prompt_result);

// Writes one line to the terminal (raw mode or not: ends it with CR LF).
void SayOnTerminal(int tty_fd, std::string_view text);

// Blocks `block` for its lifetime, then restores the caller's signal mask.
// Not copyable.
class SignalMaskGuard {
 public:
  explicit SignalMaskGuard(const sigset_t& block) { ok_ = sigprocmask(SIG_BLOCK, &block, &saved_) == 0; }
  ~SignalMaskGuard() {
    if (ok_) sigprocmask(SIG_SETMASK, &saved_, nullptr);
  }
  SignalMaskGuard(const SignalMaskGuard&) = delete;
  SignalMaskGuard& operator=(const SignalMaskGuard&) = delete;
  bool ok() const { return ok_; }

 private:
  sigset_t saved_{};
  bool ok_ = false;
};

// Holds the signals a terminal's keys send (SIGINT, SIGQUIT, SIGTSTP)
// while a request that cannot be called back is under way (an unlock, a
// passphrase change): Ctrl+C would end the process with no word of whether
// it was done. Those that came are consumed, never delivered, and
// Interrupted() says whether any did; one the caller ignores or blocks is
// left alone. The caller's mask is restored at the end. Not copyable.
class KeyboardSignalsHeld {
 public:
  KeyboardSignalsHeld();
  ~KeyboardSignalsHeld();
  KeyboardSignalsHeld(const KeyboardSignalsHeld&) = delete;
  KeyboardSignalsHeld& operator=(const KeyboardSignalsHeld&) = delete;
  // Readable while a held signal is pending, for a caller that waits in
  // poll() and answers the key at once (TakeNew() consumes it); -1 when no
  // signal is held or no signalfd could be made (the rest still works).
  int fd() const { return pending_.get(); }
  // Consumes those that came since the last call; true when any did.
  bool TakeNew();
  // Consumes those that came so far; true when any ever did.
  bool Interrupted();

 private:
  sigset_t held_;  // before mask_, which blocks it
  SignalMaskGuard mask_;
  UniqueFd pending_;  // a signalfd of held_, only ever polled
  bool interrupted_ = false;
};

}  // namespace tazpod::session
