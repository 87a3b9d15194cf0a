#include "common/descriptor_passing.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>

using tazpod::ReceiveWithDescriptor;
using tazpod::SendWithDescriptor;
using tazpod::UniqueFd;

namespace {

struct SocketPair {
  SocketPair() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    a.Reset(fds[0]);
    b.Reset(fds[1]);
  }
  UniqueFd a, b;
};

bool SameFile(int x, int y) {
  struct stat sx {}, sy {};
  return fstat(x, &sx) == 0 && fstat(y, &sy) == 0 && sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) >= 0; }

}  // namespace

TEST_CASE("a descriptor rides on the bytes and arrives close-on-exec", "[descriptor_passing]") {
  SocketPair pair;
  UniqueFd file(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  REQUIRE(file);
  REQUIRE(SendWithDescriptor(pair.a.get(), "xy", 2, file.get()) == 2);

  char got[2] = {};
  UniqueFd received;
  REQUIRE(ReceiveWithDescriptor(pair.b.get(), got, sizeof got, &received) == 2);
  CHECK(std::memcmp(got, "xy", 2) == 0);
  REQUIRE(received);
  CHECK(received.get() != file.get());
  CHECK(SameFile(received.get(), file.get()));
  CHECK((fcntl(received.get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("bytes without a descriptor leave the slot empty", "[descriptor_passing]") {
  SocketPair pair;
  REQUIRE(SendWithDescriptor(pair.a.get(), "0", 1, -1) == 1);
  char got = 0;
  UniqueFd received;
  REQUIRE(ReceiveWithDescriptor(pair.b.get(), &got, 1, &received) == 1);
  CHECK(got == '0');
  CHECK_FALSE(received);
}

TEST_CASE("descriptors beyond the first one kept are closed, not hoarded", "[descriptor_passing]") {
  SocketPair pair;
  UniqueFd first(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  UniqueFd second(open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(first);
  REQUIRE(second);
  // Two messages: the receiver's slot is full after the first.
  REQUIRE(SendWithDescriptor(pair.a.get(), "a", 1, first.get()) == 1);
  char got = 0;
  UniqueFd received;
  REQUIRE(ReceiveWithDescriptor(pair.b.get(), &got, 1, &received) == 1);
  const int kept = received.get();

  // The next descriptor number the process would get is where the extra one
  // lands; after the receive it must be free again.
  REQUIRE(SendWithDescriptor(pair.a.get(), "b", 1, second.get()) == 1);
  UniqueFd probe(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int next_free = probe.get();
  probe.Reset();
  REQUIRE(ReceiveWithDescriptor(pair.b.get(), &got, 1, &received) == 1);
  CHECK(got == 'b');
  CHECK(received.get() == kept);
  CHECK(SameFile(received.get(), first.get()));
  CHECK_FALSE(IsOpen(next_free));
}

TEST_CASE("a closed peer reads as end of stream", "[descriptor_passing]") {
  SocketPair pair;
  pair.a.Reset();
  char got = 0;
  UniqueFd received;
  CHECK(ReceiveWithDescriptor(pair.b.get(), &got, 1, &received) == 0);
  CHECK_FALSE(received);
}

TEST_CASE("sending to a closed peer fails without SIGPIPE", "[descriptor_passing]") {
  SocketPair pair;
  pair.b.Reset();
  CHECK(SendWithDescriptor(pair.a.get(), "x", 1, -1) == -1);
  CHECK(errno == EPIPE);
}
