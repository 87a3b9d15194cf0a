#include "common/no_core_dumps.h"

#include <sys/prctl.h>

namespace tazpod {

bool ForbidCoreDumps(struct rlimit* previous) {
  if (previous && getrlimit(RLIMIT_CORE, previous) != 0) return false;
  struct rlimit none {0, previous ? previous->rlim_max : 0};
  const bool limited = setrlimit(RLIMIT_CORE, &none) == 0;
  const bool undumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
  return limited && undumpable;
}

}  // namespace tazpod
