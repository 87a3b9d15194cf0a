#include "common/unix_address.h"

#include <sys/socket.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <string>

using tazpod::kMaxUnixSocketPath;
using tazpod::UnixAddress;

TEST_CASE("unix address: a path of the longest length is taken whole, NUL-terminated") {
  REQUIRE(kMaxUnixSocketPath == 107);
  const std::string path = "/" + std::string(kMaxUnixSocketPath - 1, 'a');
  const auto addr = UnixAddress(path);
  REQUIRE(addr.has_value());
  CHECK(addr->sun_family == AF_UNIX);
  CHECK(std::string(addr->sun_path) == path);
}

TEST_CASE("unix address: a path one byte too long, empty, or holding a NUL is refused") {
  CHECK_FALSE(UnixAddress("/" + std::string(kMaxUnixSocketPath, 'a')).has_value());
  CHECK_FALSE(UnixAddress("").has_value());
  CHECK_FALSE(UnixAddress(std::string("/run/a\0b", 8)).has_value());
}
