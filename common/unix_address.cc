#include "common/unix_address.h"

#include <sys/socket.h>

#include <cstring>

namespace tazpod {

std::optional<sockaddr_un> UnixAddress(std::string_view path) {
  if (path.empty() || path.size() > kMaxUnixSocketPath || path.find('\0') != std::string_view::npos) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());  // the rest is zero: the NUL
  return addr;
}

}  // namespace tazpod
