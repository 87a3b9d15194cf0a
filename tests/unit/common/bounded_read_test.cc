#include "common/bounded_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

#include "tests/test_pipe.h"

using tazpod::BoundedRead;
using tazpod::ReadUpTo;
using tazpod::testing::TestPipe;

namespace {

void WriteAll(int fd, const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    REQUIRE(n > 0);
    written += static_cast<size_t>(n);
  }
}

}  // namespace

TEST_CASE("bounded read: stops at the budget, then reads the rest, then sees the end") {
  TestPipe pipe(O_NONBLOCK);
  std::string sent;
  for (int i = 0; i < 10000; ++i) sent.push_back(static_cast<char>('a' + i % 26));
  WriteAll(pipe.write_end.get(), sent);

  std::string got;
  std::vector<size_t> chunks;
  auto sink = [&](std::string_view bytes) {
    got.append(bytes);
    chunks.push_back(bytes.size());
  };
  CHECK(ReadUpTo(pipe.read_end.get(), 6000, sink) == BoundedRead::kMore);
  CHECK(got == sent.substr(0, 6000));
  for (size_t size : chunks) CHECK(size <= 4096);

  CHECK(ReadUpTo(pipe.read_end.get(), 6000, sink) == BoundedRead::kEmpty);
  CHECK(got == sent);

  pipe.write_end.Reset();
  const size_t calls = chunks.size();
  CHECK(ReadUpTo(pipe.read_end.get(), 6000, sink) == BoundedRead::kEnded);
  CHECK(chunks.size() == calls);
}

TEST_CASE("bounded read: an empty pipe reads nothing, a bad descriptor counts as ended") {
  TestPipe pipe(O_NONBLOCK);
  bool called = false;
  auto sink = [&](std::string_view) { called = true; };
  CHECK(ReadUpTo(pipe.read_end.get(), 4096, sink) == BoundedRead::kEmpty);
  CHECK(ReadUpTo(-1, 4096, sink) == BoundedRead::kEnded);
  CHECK_FALSE(called);
}
