// The vault helper's stderr relayed into PID 1's log: lines come out as
// they were written, whole and in order; a writer is never held up by a log
// that cannot take its lines (a stopped terminal, an undrained pipe).
#include "init/stderr_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/unique_fd.h"
#include "tests/test_pipe.h"

using namespace std::chrono_literals;
using tazpod::LogLevel;
using tazpod::UniqueFd;
using tazpod::init::StderrRelay;

namespace {

// The log's descriptor: a pipe read here without waiting.
struct LogPipe : tazpod::testing::TestPipe {
  explicit LogPipe(int size = 65536) {
    REQUIRE(fcntl(write_end.get(), F_SETPIPE_SZ, size) >= size);
    REQUIRE(fcntl(read_end.get(), F_SETFL, O_NONBLOCK) == 0);
    tazpod::ConfigureLog(tazpod::LogFormat::kText, LogLevel::kInfo, write_end.get());
  }
  std::string Drain() const { return tazpod::testing::ReadWhatWaits(read_end.get()); }
};

void WriteAll(int fd, const std::string& text) {
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    lines.push_back(text.substr(at, end - at));
  return lines;
}

}  // namespace

TEST_CASE("stderr relay: lines are passed on as written, whole, in order, a split line joined") {
  LogPipe log;
  boost::asio::io_context io(1);
  StderrRelay relay(io);
  REQUIRE(relay.write_fd() >= 0);
  WriteAll(relay.write_fd(), "tazpod-vault-helper: first\nlibcryptsetup: sec");
  io.poll();
  CHECK(log.Drain() == "tazpod-vault-helper: first\n");  // the rest waits for its newline
  WriteAll(relay.write_fd(), "ond\nmke2fs 1.47.0\n");
  io.poll();
  CHECK(log.Drain() == "libcryptsetup: second\nmke2fs 1.47.0\n");
}

TEST_CASE("stderr relay: Drain passes on what the pipe holds without the loop, before what is logged next") {
  LogPipe log;
  boost::asio::io_context io(1);
  StderrRelay relay(io);
  WriteAll(relay.write_fd(), "tazpod-vault-helper: hook failed: /opt/hook: exit status 3\n");
  relay.Drain();
  tazpod::Log(LogLevel::kInfo, "vault.helper.done");
  const std::vector<std::string> lines = Lines(log.Drain());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "tazpod-vault-helper: hook failed: /opt/hook: exit status 3");
  CHECK(lines[1].ends_with(" info vault.helper.done"));
  io.poll();  // the loop's read then finds nothing more
  CHECK(log.Drain().empty());
}

TEST_CASE("stderr relay: an unfinished line is ended, not glued to the next; a long one comes in pieces") {
  LogPipe log;
  boost::asio::io_context io(1);
  StderrRelay relay(io);
  WriteAll(relay.write_fd(), "killed mid-li");
  relay.Drain();
  CHECK(log.Drain().empty());
  relay.EndLine();
  WriteAll(relay.write_fd(), "next writer\n");
  relay.Drain();
  CHECK(log.Drain() == "killed mid-li\nnext writer\n");

  // Each piece, with the newline the log adds, is kMaxLine bytes.
  const size_t piece = StderrRelay::kMaxLine - 1;
  const std::string long_line(piece * 2 + 10, 'x');
  WriteAll(relay.write_fd(), long_line + "\n");
  relay.Drain();
  const std::vector<std::string> lines = Lines(log.Drain());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].size() == piece);
  CHECK(lines[1].size() == piece);
  CHECK(lines[2] == std::string(10, 'x'));
}

TEST_CASE("stderr relay: a writer is not held up by a log that takes nothing") {
  // A one-page log pipe, full, and the log made non-blocking on it: what
  // the writer sends cannot go out until the reader catches up.
  LogPipe log(4096);
  const int log_fd = tazpod::UseNonBlockingLog();
  REQUIRE(log_fd >= 0);
  const std::string filler(4096, '.');
  REQUIRE(write(log_fd, filler.data(), filler.size()) == static_cast<ssize_t>(filler.size()));

  boost::asio::io_context io(1);
  StderrRelay relay(io);
  // Far more than the relay's pipe and the log's 64 KiB of waiting lines:
  // written to PID 1's stderr itself, this blocked until a reader came.
  constexpr int kLines = 3000;
  const pid_t writer = fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    const std::string pad(100, 'h');
    for (int i = 0; i < kLines; ++i) {
      const std::string line = "hook line " + std::to_string(i) + " " + pad + "\n";
      if (write(relay.write_fd(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(1);
    }
    _exit(0);
  }
  int status = -1;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (waitpid(writer, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  if (!WIFEXITED(status)) {  // held up: the check below fails
    kill(writer, SIGKILL);
    waitpid(writer, &status, 0);
  }
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  relay.Drain();

  // Once the reader catches up: the first lines whole and in order, then one
  // line counting those dropped.
  std::string text;
  do {
    text += log.Drain();
  } while (tazpod::FlushLog());
  text += log.Drain();
  std::vector<std::string> lines = Lines(text.substr(filler.size()));
  size_t kept = 0;
  while (kept < lines.size() && lines[kept] == "hook line " + std::to_string(kept) + " " + std::string(100, 'h'))
    ++kept;
  CHECK(kept > 0);
  REQUIRE(lines.size() == kept + 1);
  CHECK(lines.back().ends_with(" warn log.dropped lines=" + std::to_string(kLines - kept)));
}

TEST_CASE("stderr relay: a writer that never stops does not keep the loop from its other work") {
  // A hook's child left running with the pipe as its stderr, writing lines
  // as fast as it can: one 64 KiB write of newlines is 65,536 lines for
  // the relay, so the pipe never empties. Before, the relay read until it
  // did, and nothing else on the loop ran again (reaping, signals, health).
  LogPipe log;
  REQUIRE(tazpod::UseNonBlockingLog() >= 0);  // what it cannot take waits or is dropped, as in PID 1
  boost::asio::io_context io(1);
  StderrRelay relay(io);
  REQUIRE(relay.write_fd() >= 0);
  const pid_t writer = fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    const std::string newlines(65536, '\n');
    for (;;)
      if (write(relay.write_fd(), newlines.data(), newlines.size()) < 0) _exit(1);
  }
  // Due while the relay reads: the pipe is full by then.
  std::atomic<bool> timer_ran{false};
  boost::asio::steady_timer timer(io, 300ms);
  timer.async_wait([&](const boost::system::error_code&) {
    timer_ran = true;
    io.stop();
  });
  std::thread loop([&] { io.run(); });
  for (int i = 0; i < 1000 && !timer_ran; ++i) usleep(10000);
  const bool ran_while_flooded = timer_ran;
  kill(writer, SIGKILL);  // the pipe then empties, and a stuck loop goes on
  waitpid(writer, nullptr, 0);
  io.stop();
  loop.join();
  CHECK(ran_while_flooded);
}

TEST_CASE("stderr relay: out of descriptors, it logs why, holds nothing, and helpers keep PID 1's stderr") {
  LogPipe log;
  boost::asio::io_context io(1);
  // The loop's own epoll and eventfd made first, as they are in PID 1 (its
  // signals and timers come before the vault).
  const boost::asio::posix::stream_descriptor loop_in_use(io);
  // Every descriptor below a lowered limit taken, so that pipe2() fails as
  // it would in a PID 1 that ran out of them.
  struct rlimit before {};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  struct rlimit low = before;
  low.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<UniqueFd> taken;
  for (;;) {
    const int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) break;
    taken.emplace_back(fd);
  }
  const int dup_errno = errno;
  {
    StderrRelay relay(io);
    CHECK(relay.write_fd() == -1);
    relay.Drain();  // nothing to read, nothing to wait for
    relay.EndLine();
  }
  taken.clear();
  REQUIRE(setrlimit(RLIMIT_NOFILE, &before) == 0);
  CHECK(dup_errno == EMFILE);
  CHECK(io.poll() == 0);  // no watch was left on the loop

  const std::string text = log.Drain();
  CHECK(text.find("warn vault.helper.stderr_unrelayed") != std::string::npos);
  CHECK(text.find("Too many open files") != std::string::npos);
}
