// PID 1's log on a pipe nobody drains: lines wait, the loop writes them once
// the pipe has room, with no further line logged, and beyond the bound a
// `log.dropped` line says how many were lost.
#include "init/log_flusher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "common/log.h"
#include "tests/host/seccomp_deny.h"
#include "tests/test_pipe.h"

using namespace std::chrono_literals;
using tazpod::Log;
using tazpod::LogLevel;

namespace {

constexpr size_t kPipeBytes = 4096;

// A one-page pipe as the log's descriptor (blocking, as a stderr is), the
// log made non-blocking on it, and the pipe then filled by the log's own
// descriptor: every line from here on must wait.
struct FullLogPipe : tazpod::testing::TestPipe {
  FullLogPipe() {
    REQUIRE(fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(kPipeBytes)) == static_cast<int>(kPipeBytes));
    REQUIRE(fcntl(read_end.get(), F_SETFL, O_NONBLOCK) == 0);
    tazpod::ConfigureLog(tazpod::LogFormat::kText, LogLevel::kInfo, write_end.get());
    log_fd = tazpod::UseNonBlockingLog();
    REQUIRE(log_fd >= 0);
    const std::string filler(kPipeBytes, '.');
    REQUIRE(write(log_fd, filler.data(), filler.size()) == static_cast<ssize_t>(kPipeBytes));
  }
  // Everything in the pipe now, the filler left out.
  std::string Drain() {
    const std::string text = tazpod::testing::ReadWhatWaits(read_end.get());
    const size_t filler = std::min(filler_left, text.size());
    filler_left -= filler;
    return text.substr(filler);
  }
  int log_fd = -1;
  size_t filler_left = kPipeBytes;
};

}  // namespace

TEST_CASE("log flusher: lines a full pipe could not take go out once it drains, with no further line") {
  FullLogPipe pipe;
  boost::asio::io_context io(1);
  tazpod::init::LogFlusher flusher(io, pipe.log_fd);
  Log(LogLevel::kInfo, "test.first");
  Log(LogLevel::kInfo, "test.second");
  io.poll();  // the watch starts; the pipe is still full
  CHECK_FALSE(io.stopped());
  CHECK(pipe.Drain().empty());
  // The reader catches up; the loop alone writes what waited, then has no
  // work left: the watch is gone with the lines.
  const auto start = std::chrono::steady_clock::now();
  io.run_for(10s);
  CHECK(io.stopped());
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  const std::string text = pipe.Drain();
  const size_t first = text.find("info test.first\n");
  const size_t second = text.find("info test.second\n");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
  CHECK_FALSE(tazpod::FlushLog());
  // The watch watched the log's own descriptor, and let go of it open.
  Log(LogLevel::kInfo, "test.third");
  CHECK(pipe.Drain().find("info test.third\n") != std::string::npos);
}

TEST_CASE("log flusher: destroyed while it watches, it leaves the log's descriptor open") {
  FullLogPipe pipe;
  {
    boost::asio::io_context io(1);
    tazpod::init::LogFlusher flusher(io, pipe.log_fd);
    Log(LogLevel::kInfo, "test.waiting");
    io.poll();  // the watch is on
  }
  REQUIRE(fcntl(pipe.log_fd, F_GETFD) >= 0);
  pipe.Drain();
  CHECK_FALSE(tazpod::FlushLog());
  CHECK(pipe.Drain().find("info test.waiting\n") != std::string::npos);
}

TEST_CASE("log: beyond the bound lines are dropped whole, and a log.dropped line says how many") {
  FullLogPipe pipe;
  int calls = 0;
  tazpod::SetLogWaitingCallback([&calls] { ++calls; });
  constexpr int kLines = 1000;  // about 110 kB: more than the 64 KiB that may wait
  const std::string pad(80, 'p');
  for (int i = 0; i < kLines; ++i) Log(LogLevel::kInfo, "test.flood", {{"n", i}, {"pad", pad}});
  CHECK(calls == 1);  // once, when lines began to wait
  std::string text;
  do {
    text += pipe.Drain();
  } while (tazpod::FlushLog());
  text += pipe.Drain();

  // The lines kept are the first ones, whole and in order; then one line
  // counts the others, and nothing comes after it.
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    lines.push_back(text.substr(at, end - at));
  const auto ends_with = [](const std::string& line, const std::string& tail) {
    return line.size() >= tail.size() && line.compare(line.size() - tail.size(), tail.size(), tail) == 0;
  };
  size_t kept = 0;
  while (kept < lines.size() && ends_with(lines[kept], " info test.flood n=" + std::to_string(kept) + " pad=" + pad))
    ++kept;
  CHECK(kept > 0);
  CHECK(kept < static_cast<size_t>(kLines));
  REQUIRE(lines.size() == kept + 1);
  CHECK(ends_with(lines.back(), " warn log.dropped lines=" + std::to_string(kLines - kept)));
  CHECK(text.back() == '\n');
}

TEST_CASE("log: at exit, lines that cannot go out are given up after the wait, not waited for") {
  FullLogPipe pipe;
  Log(LogLevel::kInfo, "test.last");
  const auto start = std::chrono::steady_clock::now();
  tazpod::FlushLogBeforeExit(200ms);
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  CHECK(pipe.Drain().empty());
}

TEST_CASE("log flusher: a watch epoll refuses throws nothing out of the loop; the next line takes what waited") {
  FullLogPipe pipe;
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // In a process of its own: the filter cannot be taken back.
    boost::asio::io_context io(1);
    if (!tazpod::testing::DenyEpollAdd(ENOSPC, pipe.log_fd)) _exit(10);
    tazpod::init::LogFlusher flusher(io, pipe.log_fd);
    Log(LogLevel::kInfo, "test.waiting");
    try {
      io.poll();  // the watch is tried, and refused
    } catch (...) {
      _exit(11);
    }
    if (!tazpod::FlushLog()) _exit(12);  // the lines still wait: the pipe is full
    pipe.Drain();
    Log(LogLevel::kInfo, "test.next");
    const std::string text = pipe.Drain();
    const size_t waited = text.find("info test.waiting\n");
    const size_t next = text.find("info test.next\n");
    if (waited == std::string::npos || next == std::string::npos || waited > next) _exit(13);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
