// Which processes init must stop at shutdown, read from /proc.
//
// As PID 1 of a PID namespace that is every other process in it, including
// what `docker exec` started (whose parent is outside the namespace). When
// not PID 1 it is init's descendants only: init must never signal processes
// it does not own. Kernel threads and zombies are never listed: they cannot
// be stopped by a signal.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

namespace tazpod::init {

// `self` is init's pid as seen in /proc. nullopt when /proc could not be
// read whole (out of descriptors, say): a process that could not be read
// is not a process gone, so no list is better than a short one.
std::optional<std::vector<pid_t>> ProcessesToStop(pid_t self, bool is_pid1);

// True when the /proc mounted here shows init's own PID namespace. When it
// does not (say `unshare --pid --fork` without --mount-proc), the pids in it
// belong to another namespace and must never be signalled: init then falls
// back to kill(-1) as PID 1, or to the main child alone.
bool ProcShowsOwnNamespace();

// True when `pid` is, as /proc shows it now, a descendant of `ancestor`.
// A pid listed by ProcessesToStop may have been freed and given to another
// process since: checked again once the process is pinned by a pidfd.
bool IsDescendant(pid_t pid, pid_t ancestor);

// The live processes (no zombies) whose session is `session`, as /proc
// shows them now; nullopt when /proc could not be read whole. A session's
// members can be told apart from everything else only while its id is held:
// by a member, or by its leader not yet reaped.
std::optional<std::vector<pid_t>> ProcessesInSession(pid_t session);

}  // namespace tazpod::init
