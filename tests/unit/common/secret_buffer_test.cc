#include "common/secret_buffer.h"

#include <sys/resource.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

using tazpod::SecretBuffer;

namespace {

// The range of a mapping's header line in smaps ("lo-hi perms ..."), or
// nullopt for the other lines.
std::optional<std::pair<unsigned long, unsigned long>> RangeOf(const std::string& line) {
  const char* const end = line.data() + line.size();
  unsigned long lo = 0, hi = 0;
  auto [dash, lo_ec] = std::from_chars(line.data(), end, lo, 16);
  if (lo_ec != std::errc() || dash == end || *dash != '-') return std::nullopt;
  if (std::from_chars(dash + 1, end, hi, 16).ec != std::errc()) return std::nullopt;
  return std::pair{lo, hi};
}

// The VmFlags line of the mapping that holds `p`, from /proc/self/smaps.
std::string VmFlagsOf(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  auto addr = reinterpret_cast<unsigned long>(p);
  while (std::getline(smaps, line)) {
    if (auto range = RangeOf(line)) {
      inside = addr >= range->first && addr < range->second;
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

TEST_CASE("secret buffer: None() maps nothing, takes nothing, and can be replaced") {
  SecretBuffer none = SecretBuffer::None();
  CHECK_FALSE(none.valid());
  CHECK(none.size() == 0);
  CHECK(none.capacity() == 0);
  CHECK_FALSE(none.Append("x", 1));
  CHECK(none.Extend(1) == nullptr);
  none = SecretBuffer(16);
  CHECK(none.valid());
  CHECK(none.Append("x", 1));
}

TEST_CASE("secret buffer: a failed mapping keeps its errno, whatever errno is later") {
  SecretBuffer huge(SIZE_MAX / 2);  // more than any address space
  REQUIRE_FALSE(huge.valid());
  CHECK(huge.error() == ENOMEM);
  SecretBuffer fine(16);
  errno = EBADF;
  CHECK(huge.error() == ENOMEM);
  if (fine.locked()) CHECK(fine.error() == 0);
  SecretBuffer moved(std::move(huge));
  CHECK(moved.error() == ENOMEM);
}

TEST_CASE("secret buffer: moving leaves the source empty") {
  SecretBuffer a(16);
  a.Append("xyz", 3);
  SecretBuffer b(std::move(a));
  CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move): the state under test
  CHECK(b.view() == "xyz");
}

TEST_CASE("secret buffer: a passphrase's length is counted in UTF-8 characters, not bytes") {
  CHECK(tazpod::Utf8Characters("") == 0);
  CHECK(tazpod::Utf8Characters("password") == 8);
  CHECK(tazpod::Utf8Characters("h\xc3\xa9h\xc3\xa9") == 4);             // "héhé", 6 bytes
  CHECK(tazpod::Utf8Characters("\xe2\x82\xac\xf0\x9f\x94\x91") == 2);  // a euro sign, a key emoji
  // Bytes in no sequence (a Latin-1 terminal's "°µ§²", a cut sequence) are
  // one character each: such a passphrase is not too short for lack of them.
  CHECK(tazpod::Utf8Characters("\xb0\xb5\xa7\xb2") == 4);
  CHECK(tazpod::Utf8Characters("a\xc3") == 2);
  CHECK(tazpod::Utf8Characters("\xe2\x82x") == 3);
}

TEST_CASE("secret buffer: Backspace takes the last character's bytes") {
  CHECK(tazpod::LastCharacterBytes("") == 0);
  CHECK(tazpod::LastCharacterBytes("ab") == 1);
  CHECK(tazpod::LastCharacterBytes("pas\xc3\xa9") == 2);
  CHECK(tazpod::LastCharacterBytes("k\xf0\x9f\x94\x91") == 4);
  CHECK(tazpod::LastCharacterBytes("ab\xb0\xb0") == 1);  // Latin-1 "°°": one byte each
  CHECK(tazpod::LastCharacterBytes("a\xc3\xa9\xa9") == 1);  // a stray continuation after a whole "é"
}
