// Passing an open file descriptor over a Unix socket (SCM_RIGHTS).
//
// Two places need it: the mount-namespace child sends its namespace back to
// PID 1, and the control server hands a login client the vault's namespace.
// Both send one descriptor riding on ordinary bytes; the receiver keeps the
// first descriptor that arrives and closes any other a peer sends, so a
// hostile peer cannot make it hoard descriptors.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "common/unique_fd.h"

namespace tazpod {

// Sends `size` bytes (at least one) of `data`, with `descriptor` attached
// when it is >= 0, without SIGPIPE; retries on EINTR. Returns what
// sendmsg(2) returns: the bytes sent, or -1 with errno set.
ssize_t SendWithDescriptor(int socket, const void* data, size_t size, int descriptor);

// Receives up to `size` bytes into `data`; retries on EINTR. A descriptor
// passed with them is stored in `*descriptor` (close-on-exec) when that is
// still empty, and closed otherwise. Returns what recvmsg(2) returns.
ssize_t ReceiveWithDescriptor(int socket, void* data, size_t size, UniqueFd* descriptor);

}  // namespace tazpod
