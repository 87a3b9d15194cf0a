// For a process that will hold a passphrase: no core file, and no ptrace or
// /proc/PID/mem access by other processes of the same user
// (PR_SET_DUMPABLE=0). The previous core limit is returned so that a
// process which later execs a program for the user (the login's shell) can
// give it back; execve itself makes the new program dumpable again. Such a
// process gets only its soft limit lowered: raising a hard limit back needs
// CAP_SYS_RESOURCE, which a container may lack (Docker's default set does),
// and the soft limit and non-dumpability are what keep the core out.
#pragma once

#include <sys/resource.h>

namespace tazpod {

// Returns false when either step failed (the caller decides whether that
// is fatal); `previous` may be null.
bool ForbidCoreDumps(struct rlimit* previous);

}  // namespace tazpod
