// WatchOnLoop on a real event loop: the descriptor changes owner only when
// the loop's epoll took it.
#include "common/watch_on_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <catch2/catch_test_macros.hpp>

#include "common/unique_fd.h"
#include "tests/test_pipe.h"

using boost::asio::posix::stream_descriptor;
using tazpod::UniqueFd;
using tazpod::WatchOnLoop;
using tazpod::testing::TestPipe;

namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST_CASE("watch on loop: taken, the watcher owns the descriptor and the loop sees it") {
  boost::asio::io_context io;
  TestPipe pipe(O_NONBLOCK);
  const int read_fd = pipe.read_end.get();
  stream_descriptor watcher(io);
  REQUIRE(WatchOnLoop(watcher, pipe.read_end) == 0);
  CHECK(!pipe.read_end);
  CHECK(watcher.native_handle() == read_fd);

  bool readable = false;
  watcher.async_wait(stream_descriptor::wait_read, [&](const boost::system::error_code& ec) { readable = !ec; });
  REQUIRE(write(pipe.write_end.get(), "x", 1) == 1);
  io.run();
  CHECK(readable);

  watcher.close();
  CHECK(!IsOpen(read_fd));  // closed by its one owner
}

TEST_CASE("watch on loop: refused by the kernel, the descriptor stays its owner's and the watcher closed") {
  boost::asio::io_context io;
  stream_descriptor watcher(io);  // the loop's own descriptors made first
  // A descriptor number that names nothing: epoll_ctl refuses it (EBADF),
  // as it refuses one too many watches (ENOSPC) or memory (ENOMEM).
  TestPipe pipe(O_NONBLOCK);
  const int gone = fcntl(pipe.read_end.get(), F_DUPFD_CLOEXEC, 0);
  REQUIRE(gone >= 0);
  REQUIRE(close(gone) == 0);
  UniqueFd stale(gone);
  CHECK(WatchOnLoop(watcher, stale) == EBADF);
  CHECK(stale.get() == gone);
  CHECK(!watcher.is_open());
  (void)stale.Release();  // the number may be another's by now

  // The watcher is still usable: the next descriptor is taken.
  const int read_fd = pipe.read_end.get();
  REQUIRE(WatchOnLoop(watcher, pipe.read_end) == 0);
  CHECK(watcher.native_handle() == read_fd);
}

TEST_CASE("watch on loop: a watcher already open refuses a second descriptor and keeps its first") {
  boost::asio::io_context io;
  TestPipe first(O_NONBLOCK), second(O_NONBLOCK);
  const int first_fd = first.read_end.get();
  const int second_fd = second.read_end.get();
  stream_descriptor watcher(io);
  REQUIRE(WatchOnLoop(watcher, first.read_end) == 0);
  CHECK(WatchOnLoop(watcher, second.read_end) == EBADF);
  CHECK(second.read_end.get() == second_fd);
  CHECK(IsOpen(second_fd));
  CHECK(watcher.native_handle() == first_fd);
}
