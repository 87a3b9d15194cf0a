// Processes that hold something in a mounted file system: an open file, a
// current or root directory, a memory mapping, or a Unix socket bound to a
// name in it (found through the kernel's sock_diag, where it has unix_diag,
// in every network namespace a process is in). The lock ends them (TERM, a
// grace period, KILL) so that the unmount is clean and never lazy.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace tazpod::vault {

// Every process (other than the caller) with anything on the file system
// on device `dev` (its st_dev), wherever that is mounted, or if it is no
// longer mounted anywhere (a detached mount lives on while it is held).
std::vector<pid_t> ProcessesHolding(dev_t dev);

// Sends SIGTERM to the holders, waits up to `grace` for them to let go, then
// SIGKILLs the rest. Returns the holders that were found at first. Each
// signal goes through a pidfd opened before the process was looked at, so
// a pid that a process ended and another was given meanwhile is never
// signalled (by pid only where the kernel gives no pidfds).
std::vector<pid_t> EndHolders(dev_t dev, std::chrono::milliseconds grace);

// Every process whose mount namespace, a copy of the caller's, mounts the
// file system on device `dev`; never one in the caller's own namespace
// (the unmount there is what frees it), nor PID 1. A mount namespace copied
// while the vault was mounted (`unshare -m`; in a privileged container any user can, inside a
// user namespace of their own) keeps its own mount of it: after the
// vault's unmount the mapping stays busy, and the plaintext stays reachable
// there, until every process in that namespace is gone.
std::vector<pid_t> ProcessesMounting(dev_t dev);

// EndHolders for those and for the holders together: SIGTERM, the grace
// period, SIGKILL. A namespace goes with its last process, and its mounts
// with it; a detached mount goes with the last process that held it.
std::vector<pid_t> EndHoldersAndMountCopies(dev_t dev, std::chrono::milliseconds grace);

// The last resort of a lock whose unmount is still busy once EndHolders is
// done: something holds the file system where the search cannot see. A
// process it may not look into (one that made itself not dumpable, as
// ssh-agent does, or one in a user namespace of its own, each seen only
// with CAP_SYS_PTRACE, which Docker does not grant by default), or a
// descriptor sent over a Unix socket and never received. Ends, as
// EndHolders does, every process not run by root whose mount namespace
// mounts the file system on `dev`: the user's processes where the vault
// is, holders or not. Root's are left (PID 1, its helpers): root is
// trusted with the container. Returns the processes it found.
std::vector<pid_t> EndUserProcessesMounting(dev_t dev, std::chrono::milliseconds grace);

// "pid 123 (bash)" for messages; the name, the process's own choice, with
// control bytes escaped (EscapeUntrustedText).
std::string DescribeProcess(pid_t pid);

}  // namespace tazpod::vault
