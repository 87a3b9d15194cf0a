// prompt_probe: a test-only program around ReadPassphrase(), for host tests
// that type into a real PTY (tests/host/session_prompt_on_pty.py).
//
//   prompt_probe RESULT_FILE TIMEOUT_MS
//
// Reads a passphrase from /dev/tty and writes to RESULT_FILE one line:
// "result=… length=N matches=yes|no echo=on|off icanon=on|off isig=on|off",
// where `matches` compares with $PROBE_EXPECTED and the flags are the
// terminal's mode after the prompt returned. Never prints the passphrase.
// $PROBE_LINGER_MS keeps it that long after writing the result.
// Exit status: 0 the prompt returned a passphrase, 1 it did not, 2 RESULT_FILE
// could not be written, 64 bad arguments.
#include <fcntl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/secret_buffer.h"
#include "session/terminal_prompt.h"

int main(int argc, char** argv) {
  if (argc != 3) return 64;
  // A whole number of milliseconds, at most a day: anything else is a typo.
  char* end = nullptr;
  errno = 0;
  const long timeout_ms = std::strtol(argv[2], &end, 10);
  if (errno != 0 || end == argv[2] || *end != '\0' || timeout_ms <= 0 || timeout_ms > 24L * 3600 * 1000) {
    (void)std::fprintf(stderr, "prompt_probe: bad TIMEOUT_MS %s\n", argv[2]);  // the exit status says it too
    return 64;
  }
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    std::perror("open /dev/tty");
    return 1;
  }
  tazpod::SecretBuffer pass(1024);
  auto result = tazpod::session::ReadPassphrase(tty, "Passphrase: ", pass, std::chrono::milliseconds(timeout_ms));
  const char* expected = std::getenv("PROBE_EXPECTED");
  bool matches = expected && pass.view() == expected;
  struct termios t {};
  tcgetattr(tty, &t);
  // The result file is the probe's whole answer: a failed write exits 2,
  // never passing as some other result.
  FILE* out = std::fopen(argv[1], "we");
  if (!out) {
    std::perror("prompt_probe: result file");
    return 2;
  }
  const int written = std::fprintf(out, "result=%s length=%zu matches=%s echo=%s icanon=%s isig=%s\n",
                                   std::string(tazpod::session::Describe(result)).c_str(), pass.size(),
                                   matches ? "yes" : "no", (t.c_lflag & ECHO) ? "on" : "off",
                                   (t.c_lflag & ICANON) ? "on" : "off", (t.c_lflag & ISIG) ? "on" : "off");
  if (std::fclose(out) != 0 || written < 0) {
    std::perror("prompt_probe: result file");
    return 2;
  }
  // $PROBE_LINGER_MS: stays that long after writing the result, for a test
  // to send a signal that must not end it (a late SIGHUP after a hangup).
  if (const char* linger = std::getenv("PROBE_LINGER_MS")) {
    const long ms = std::strtol(linger, nullptr, 10);
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
  }
  return result == tazpod::session::PromptResult::kOk ? 0 : 1;
}
