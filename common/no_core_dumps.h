// For a process that will hold a passphrase: no core file, and no ptrace or
// /proc/PID/mem access by other processes of the same user
// (PR_SET_DUMPABLE=0). The previous core limit is returned so that a
// process which later execs a program for the user (the login's shell) can
// give it back; execve itself makes the new program dumpable again.
#pragma once

#include <sys/resource.h>

namespace tazpod {

// Returns false when either step failed (the caller decides whether that
// is fatal); `previous` may be null.
bool ForbidCoreDumps(struct rlimit* previous);

}  // namespace tazpod
