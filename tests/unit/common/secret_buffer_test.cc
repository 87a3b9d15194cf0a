#include "common/secret_buffer.h"

#include <sys/resource.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using tazpod::SecretBuffer;

namespace {

// The VmFlags line of the mapping that holds `p`, from /proc/self/smaps.
std::string VmFlagsOf(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  auto addr = reinterpret_cast<unsigned long>(p);
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2) {  // a mapping's header line
      inside = addr >= lo && addr < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("secret buffer: appends up to capacity, no further") {
  SecretBuffer b(8);
  REQUIRE(b.valid());
  CHECK(b.Append("abcd", 4));
  CHECK(b.Append("efgh", 4));
  CHECK_FALSE(b.Append("i", 1));
  CHECK(b.view() == "abcdefgh");
}

TEST_CASE("secret buffer: backspace and truncate wipe what they remove") {
  SecretBuffer b(16);
  b.Append("secret", 6);
  b.PopBack();
  CHECK(b.view() == "secre");
  CHECK(b.data()[5] == '\0');
  b.Truncate(2);
  CHECK(b.view() == "se");
  CHECK(std::memcmp(b.data() + 2, "\0\0\0", 3) == 0);
  b.Clear();
  CHECK(b.size() == 0);
  CHECK(b.data()[0] == '\0');
}

TEST_CASE("secret buffer: equality") {
  SecretBuffer a(16), b(16), c(16);
  a.Append("same", 4);
  b.Append("same", 4);
  c.Append("sane", 4);
  CHECK(a.Equals(b));
  CHECK_FALSE(a.Equals(c));
  c.Clear();
  CHECK_FALSE(a.Equals(c));
}

TEST_CASE("secret buffer: pages are locked, not dumped, not inherited") {
  SecretBuffer b(100);
  REQUIRE(b.valid());
  std::string flags = VmFlagsOf(b.data());
  INFO(flags);
  CHECK(flags.find(" dd") != std::string::npos);  // MADV_DONTDUMP
  CHECK(flags.find(" dc") != std::string::npos);  // MADV_DONTFORK ("do not copy")
  struct rlimit lim {};
  getrlimit(RLIMIT_MEMLOCK, &lim);
  if (lim.rlim_cur >= 4096) {
    CHECK(b.locked());
    if (std::getenv("TAZPOD_SANITIZED")) {
      // ASan's mlock() is a no-op that returns 0: nothing is locked there.
      WARN("skipped under the sanitizers: the pages are mlock'ed (VmFlags 'lo')");
    } else {
      CHECK(flags.find(" lo") != std::string::npos);  // mlock'ed
    }
  }
}

TEST_CASE("secret buffer: moving leaves the source empty") {
  SecretBuffer a(16);
  a.Append("xyz", 3);
  SecretBuffer b(std::move(a));
  CHECK_FALSE(a.valid());
  CHECK(b.view() == "xyz");
}
