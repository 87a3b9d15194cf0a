// prompt_probe: a test-only program around ReadPassphrase(), for host tests
// that type into a real PTY (tests/host/session_prompt_on_pty.py).
//
//   prompt_probe RESULT_FILE TIMEOUT_MS
//
// Reads a passphrase from /dev/tty and writes to RESULT_FILE one line:
// "result=… length=N matches=yes|no echo=on|off icanon=on|off isig=on|off",
// where `matches` compares with $PROBE_EXPECTED and the flags are the
// terminal's mode after the prompt returned. Never prints the passphrase.
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/secret_buffer.h"
#include "session/terminal_prompt.h"

int main(int argc, char** argv) {
  if (argc != 3) return 64;
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    std::perror("open /dev/tty");
    return 1;
  }
  tazpod::SecretBuffer pass(1024);
  auto result = tazpod::session::ReadPassphrase(tty, "Passphrase: ", pass, std::chrono::milliseconds(std::atoi(argv[2])));
  const char* expected = std::getenv("PROBE_EXPECTED");
  bool matches = expected && pass.view() == expected;
  struct termios t {};
  tcgetattr(tty, &t);
  FILE* out = std::fopen(argv[1], "w");
  if (!out) return 1;
  std::fprintf(out, "result=%s length=%zu matches=%s echo=%s icanon=%s isig=%s\n",
               std::string(tazpod::session::Describe(result)).c_str(), pass.size(), matches ? "yes" : "no",
               (t.c_lflag & ECHO) ? "on" : "off", (t.c_lflag & ICANON) ? "on" : "off",
               (t.c_lflag & ISIG) ? "on" : "off");
  std::fclose(out);
  return result == tazpod::session::PromptResult::kOk ? 0 : 1;
}
