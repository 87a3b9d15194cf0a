#include "common/log_output.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <string>

#include "tests/test_pipe.h"

using tazpod::LogOutput;
using tazpod::OpenNonBlocking;
using tazpod::UniqueFd;
using tazpod::testing::TestPipe;

namespace {

constexpr size_t kPipeBytes = 4096;

// A pipe of one page, its write end non-blocking, as the log's own is.
struct SmallPipe : TestPipe {
  SmallPipe() : TestPipe(O_NONBLOCK) {
    REQUIRE(fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(kPipeBytes)) == static_cast<int>(kPipeBytes));
  }
  // Fills the pipe to the last byte, as an undrained log pipe ends up.
  void Fill() const {
    const std::string filler(kPipeBytes, '.');
    REQUIRE(write(write_end.get(), filler.data(), filler.size()) == static_cast<ssize_t>(kPipeBytes));
    REQUIRE(write(write_end.get(), "x", 1) == -1);
    REQUIRE(errno == EAGAIN);
  }
  // Everything in the pipe now.
  std::string Drain() const { return tazpod::testing::ReadWhatWaits(read_end.get()); }
};

}  // namespace

TEST_CASE("log output: lines a full pipe cannot take wait, in order, and go out once it drains") {
  SmallPipe pipe;
  pipe.Fill();
  LogOutput out(pipe.write_end.get());
  CHECK(out.Write("one\n"));
  CHECK(out.Write("two\n"));
  CHECK(out.waiting());
  CHECK(pipe.Drain() == std::string(kPipeBytes, '.'));
  out.Flush();
  CHECK_FALSE(out.waiting());
  CHECK(pipe.Drain() == "one\ntwo\n");
  CHECK(out.TakeDropped() == 0);
}

TEST_CASE("log output: beyond its bound a line is dropped whole, and counted") {
  SmallPipe pipe;
  pipe.Fill();
  LogOutput out(pipe.write_end.get(), 10);
  CHECK(out.Write("12345\n"));
  CHECK_FALSE(out.Write("abcdef\n"));  // 6 + 7 bytes would not fit in 10
  CHECK(out.Write("xy\n"));
  CHECK(out.TakeDropped() == 1);
  CHECK(out.TakeDropped() == 0);
  pipe.Drain();
  out.Flush();
  CHECK(pipe.Drain() == "12345\nxy\n");
}

TEST_CASE("log output: a line the pipe took in part is finished before the next, whatever the bound") {
  SmallPipe pipe;
  LogOutput out(pipe.write_end.get(), 8);
  const std::string long_line = std::string(6000, 'a') + "\n";  // more than the pipe holds
  CHECK(out.Write(long_line));
  CHECK(out.waiting());                  // its end waits, though longer than the bound
  CHECK_FALSE(out.Write("next\n"));      // no room left to wait: dropped, not spliced in
  std::string read = pipe.Drain();
  out.Flush();
  CHECK_FALSE(out.waiting());
  read += pipe.Drain();
  CHECK(read == long_line);
  CHECK(out.Write("after\n"));
  CHECK(pipe.Drain() == "after\n");
}

TEST_CASE("log output: a write error drops the line; nothing waits for a reader that is gone") {
  SmallPipe pipe;
  (void)signal(SIGPIPE, SIG_IGN);  // this test process only: the write gets EPIPE
  pipe.read_end.Reset();
  LogOutput out(pipe.write_end.get());
  CHECK(out.Write("lost\n"));
  CHECK_FALSE(out.waiting());
}

TEST_CASE("log output: the non-blocking open is of the same pipe, and leaves the original blocking") {
  TestPipe pipe;
  const UniqueFd& read_end = pipe.read_end;
  const UniqueFd& write_end = pipe.write_end;
  REQUIRE(fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(kPipeBytes)) == static_cast<int>(kPipeBytes));
  UniqueFd own = OpenNonBlocking(write_end.get());
  REQUIRE(own);
  CHECK((fcntl(own.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((fcntl(own.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((fcntl(write_end.get(), F_GETFL) & O_NONBLOCK) == 0);  // the main child's stays as it was
  const std::string filler(kPipeBytes, '.');
  CHECK(write(own.get(), filler.data(), filler.size()) == static_cast<ssize_t>(kPipeBytes));
  CHECK(write(own.get(), "x", 1) == -1);
  CHECK(errno == EAGAIN);
  char got[kPipeBytes];
  CHECK(read(read_end.get(), got, sizeof got) == static_cast<ssize_t>(kPipeBytes));
}

// systemd hands a service's stderr over as a stream socket to journald: a
// journald that has stopped reading fills it. Its descriptor cannot be
// opened again, and O_NONBLOCK on it would be the main child's too.
TEST_CASE("log output: a full socket, blocking as stderr is, makes lines wait instead of blocking") {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd stderr_end(pair[0]);
  UniqueFd reader(pair[1]);
  const std::string filler(4096, '.');
  size_t filled = 0;
  for (ssize_t n; (n = send(stderr_end.get(), filler.data(), filler.size(), MSG_DONTWAIT)) > 0;)
    filled += static_cast<size_t>(n);
  REQUIRE(errno == EAGAIN);
  UniqueFd own = OpenNonBlocking(stderr_end.get());
  REQUIRE(own);
  CHECK((fcntl(own.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((fcntl(own.get(), F_GETFL) & O_NONBLOCK) == 0);  // the same description: still blocking
  LogOutput out(own.get());
  alarm(10);  // blocked in a write: SIGALRM ends the test
  CHECK(out.Write("one\n"));
  CHECK(out.Write("two\n"));
  alarm(0);
  CHECK(out.waiting());
  std::string got(filled + 64, '\0');
  size_t read_bytes = 0;
  for (ssize_t n; read_bytes < filled && (n = recv(reader.get(), got.data() + read_bytes, filled - read_bytes, 0)) > 0;)
    read_bytes += static_cast<size_t>(n);
  REQUIRE(read_bytes == filled);
  out.Flush();
  CHECK_FALSE(out.waiting());
  const ssize_t n = recv(reader.get(), got.data(), got.size(), MSG_DONTWAIT);
  CHECK(std::string(got.data(), n > 0 ? static_cast<size_t>(n) : 0) == "one\ntwo\n");
}

TEST_CASE("log output: a regular file or /dev/null gets no non-blocking open: it never blocks for long") {
  char path[] = "/tmp/tazpod-log-output-XXXXXX";
  UniqueFd file(mkstemp(path));
  REQUIRE(file);
  unlink(path);
  CHECK_FALSE(OpenNonBlocking(file.get()));
  UniqueFd null(open("/dev/null", O_WRONLY | O_CLOEXEC));
  REQUIRE(null);
  CHECK_FALSE(OpenNonBlocking(null.get()));
}

TEST_CASE("log output: lines that waited go out whole, so another writer of the pipe never lands inside one") {
  SmallPipe pipe;
  pipe.Fill();
  LogOutput out(pipe.write_end.get());
  const std::string line = std::string(99, 'a') + "\n";
  for (int i = 0; i < 100; ++i) REQUIRE(out.Write(line));  // 10,000 bytes wait
  std::string read = pipe.Drain();
  out.Flush();  // fills the pipe again, and must stop at the end of a line
  read += pipe.Drain();
  // The main child writes to the same pipe between two flushes.
  REQUIRE(write(pipe.write_end.get(), "child\n", 6) == 6);
  while (out.waiting()) {
    out.Flush();
    read += pipe.Drain();
  }
  read += pipe.Drain();
  read.erase(0, kPipeBytes);  // Fill()'s dots, one line with no end
  size_t lines = 0, child = 0;
  for (size_t at = 0; at < read.size();) {
    const size_t end = read.find('\n', at);
    REQUIRE(end != std::string::npos);
    const std::string got = read.substr(at, end + 1 - at);
    if (got == "child\n") ++child;
    else CHECK(got == line);
    ++lines;
    at = end + 1;
  }
  CHECK(child == 1);
  CHECK(lines == 101);
}
