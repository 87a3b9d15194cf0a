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

#include <string>

namespace tazpod {

// Returns false when either step failed (the caller decides whether that
// is fatal); `previous` may be null.
bool ForbidCoreDumps(struct rlimit* previous);

// Empty when no process traces this one; else why a passphrase must not be
// read here. Call it after ForbidCoreDumps: non-dumpable, the process keeps
// new tracers of its user out, but one attached before (`strace tazpod
// passwd`, a debugger started by a process of the user's) stays, and would
// see every byte typed. Read from TracerPid in /proc/self/status; a status
// that cannot be read is a reason too.
std::string CheckNotTraced();

// Both, in that order, for a client about to read a passphrase: empty when it
// may, else why not, which the client prints before it refuses. `previous`
// is as for ForbidCoreDumps.
std::string PrepareToReadPassphrase(struct rlimit* previous);

}  // namespace tazpod
