// The vault's private mount namespace.
//
// `docker exec` starts its process in the mount namespace of the container's
// PID 1, as that namespace is at exec time. So the vault must be mounted in a
// namespace PID 1 does not live in, or every ungated exec would see it. PID 1
// creates one (a copy of its own, a slave of it, so nothing mounted there
// propagates back) and holds it by a descriptor: no process lives in it,
// nothing in /proc names it but PID 1's own descriptor table (which only a
// process allowed to ptrace PID 1 can read). The vault helper enters it
// before mounting; a gated login receives the descriptor over the control
// socket and enters it before it drops to the user.
#pragma once

#include <string>

#include "common/unique_fd.h"

namespace tazpod::init {

// Creates the namespace and returns a descriptor of it (O_CLOEXEC), or an
// invalid UniqueFd with `*error` set.
UniqueFd CreatePrivateMountNamespace(std::string* error);

}  // namespace tazpod::init
