// Compiled only into the test build (TAZPOD_CRASH_POINTS); see crash_point.h.
#include "vault/crash_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace tazpod::vault {

void CrashPoint(const char* step) {
  char armed[64] = {};
  const int in = open(kCrashPointFile, O_RDONLY | O_CLOEXEC);
  if (in < 0) return;
  const ssize_t n = read(in, armed, sizeof armed - 1);
  close(in);
  if (n <= 0) return;
  armed[strcspn(armed, "\n")] = '\0';
  if (std::strcmp(armed, step) != 0) return;
  // Written under a temporary name and renamed: the scenario never reads a
  // half-written line.
  const std::string reached = kCrashReachedFile;
  const std::string temporary = reached + ".tmp";
  // A marker that cannot be written leaves the scenario waiting for it until
  // its timeout: a failure there, which is the right place to see it.
  if (FILE* out = std::fopen(temporary.c_str(), "we")) {
    (void)std::fprintf(out, "%s %d\n", step, static_cast<int>(getpid()));
    (void)std::fclose(out);
    (void)std::rename(temporary.c_str(), reached.c_str());
  }
  (void)std::fprintf(stderr, "tazpod-vault-helper: crash point %s reached: stopping\n", step);
  (void)raise(SIGSTOP);
  // Continued instead of killed: the operation goes on as if nothing happened.
}

}  // namespace tazpod::vault
