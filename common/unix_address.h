// A Unix socket's path, as the kernel takes it: in sockaddr_un's sun_path,
// with its NUL. The control socket's server, its clients and the
// configuration check all hold paths to this one rule.
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string_view>

namespace tazpod {

// The longest path a Unix socket can have (107 bytes on Linux).
inline constexpr std::size_t kMaxUnixSocketPath = sizeof(sockaddr_un{}.sun_path) - 1;

// `path` as an AF_UNIX address, or nothing when it is empty, longer than
// kMaxUnixSocketPath, or holds a NUL (which would cut it short, and so
// name another socket).
std::optional<sockaddr_un> UnixAddress(std::string_view path);

}  // namespace tazpod
