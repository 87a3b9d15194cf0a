// KernelTimer on a real event loop and real timerfds: what steady_timer
// did for TazPod, and nothing armed once nothing waits.
#include "common/kernel_timer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/system_error.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"

using namespace std::chrono_literals;
using boost::system::error_code;
using tazpod::KernelTimer;

namespace {

// The it_value line of every timerfd this process holds that is armed.
std::vector<std::string> ArmedTimerFds() {
  std::vector<std::string> armed;
  DIR* dir = opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[64] = {};
    const std::string fd = std::string("/proc/self/fd/") + e->d_name;
    if (readlink(fd.c_str(), target, sizeof target - 1) <= 0 || std::string(target) != "anon_inode:[timerfd]") continue;
    std::ifstream info(std::string("/proc/self/fdinfo/") + e->d_name);
    for (std::string line; std::getline(info, line);)
      if (line.starts_with("it_value:") && line != "it_value: (0, 0)") armed.push_back(e->d_name + (": " + line));
  }
  closedir(dir);
  return armed;
}

}  // namespace

TEST_CASE("kernel timer: fires at its expiry, at once when that has passed, and again when re-armed") {
  boost::asio::io_context io;
  KernelTimer timer(io);
  std::optional<error_code> result;
  const auto start = KernelTimer::Clock::now();
  timer.expires_after(50ms);
  timer.async_wait([&](const error_code& ec) { result = ec; });
  io.run();
  REQUIRE(result);
  CHECK(!*result);
  CHECK(KernelTimer::Clock::now() - start >= 50ms);
  CHECK(ArmedTimerFds().empty());

  // Many armings in a row, each seen: every one must get an edge of its own.
  int fired = 0;
  for (int i = 0; i < 200; ++i) {
    timer.expires_at(KernelTimer::Clock::now() - 1s);  // passed: at once
    timer.async_wait([&](const error_code& ec) { fired += ec ? 0 : 1; });
    io.restart();
    io.run();
  }
  CHECK(fired == 200);
}

TEST_CASE("kernel timer: cancel, a new expiry and the timer's end abort the wait, and leave nothing armed") {
  boost::asio::io_context io;
  std::vector<error_code> results;
  auto record = [&](const error_code& ec) { results.push_back(ec); };

  KernelTimer timer(io);
  timer.expires_after(1h);
  timer.async_wait(record);
  CHECK(ArmedTimerFds().size() == 1);
  timer.cancel();
  io.run();
  REQUIRE(results.size() == 1);
  CHECK(results[0] == boost::asio::error::operation_aborted);
  CHECK(ArmedTimerFds().empty());

  // A new expiry cancels the pending wait, as steady_timer's does.
  timer.expires_after(1h);
  timer.async_wait(record);
  timer.expires_after(10ms);
  timer.async_wait(record);
  io.restart();
  io.run();
  REQUIRE(results.size() == 3);
  CHECK(results[1] == boost::asio::error::operation_aborted);
  CHECK(!results[2]);
  CHECK(timer.expiry() <= KernelTimer::Clock::now());

  // A pending wait when the timer goes is aborted, and its handler runs
  // without it.
  auto doomed = std::make_unique<KernelTimer>(io);
  doomed->expires_after(1h);
  doomed->async_wait(record);
  doomed.reset();
  io.restart();
  io.run();
  REQUIRE(results.size() == 4);
  CHECK(results[3] == boost::asio::error::operation_aborted);
  // Asio's reactor has a timerfd of its own: never armed, since no timer
  // of Asio's was used.
  CHECK(ArmedTimerFds().empty());
}

// Asio reuses a closed descriptor's state for the next one opened, and an
// event it read for the old one in the same turn of the loop is then
// delivered to the new: a timer's wait ended at once (a control
// connection's read deadline, while twenty logins raced). Staged here: two
// pipes turn readable together; the first handler closes the other pipe
// and starts a timer, which takes that pipe's state.
TEST_CASE("kernel timer: an event meant for a closed descriptor does not end its wait") {
  boost::asio::io_context io;
  int first[2];
  int second[2];
  REQUIRE(pipe2(first, O_CLOEXEC) == 0);
  REQUIRE(pipe2(second, O_CLOEXEC) == 0);
  std::optional<boost::asio::posix::stream_descriptor> a(std::in_place, io, first[0]);
  std::optional<boost::asio::posix::stream_descriptor> b(std::in_place, io, second[0]);
  std::unique_ptr<KernelTimer> timer;
  std::optional<error_code> result;
  auto first_ready = [&](std::optional<boost::asio::posix::stream_descriptor>& other) {
    return [&](const error_code& ec) {
      if (ec || timer) return;
      other.reset();
      timer = std::make_unique<KernelTimer>(io);
      timer->expires_after(1h);
      timer->async_wait([&](const error_code& e) { result = e; });
    };
  };
  a->async_wait(boost::asio::posix::stream_descriptor::wait_read, first_ready(b));
  b->async_wait(boost::asio::posix::stream_descriptor::wait_read, first_ready(a));
  REQUIRE(write(first[1], "x", 1) == 1);
  REQUIRE(write(second[1], "x", 1) == 1);
  io.run_for(300ms);
  REQUIRE(timer);
  CHECK(!result);
  timer->cancel();
  io.restart();
  io.run_for(100ms);
  REQUIRE(result);
  CHECK(*result == boost::asio::error::operation_aborted);
  close(first[1]);
  close(second[1]);
}

TEST_CASE("kernel timer: out of descriptors, the throwing form throws and the other says why and is closed") {
  boost::asio::io_context io(1);
  const boost::asio::posix::stream_descriptor loop_in_use(io);  // the loop's epoll made first
  // A timer made and gone, and the error thrown, once first: UBSan checks
  // the type behind a virtual call once per type, and the first check reads
  // /proc/self/maps, which it could not open with no descriptor left.
  { const KernelTimer warm_up(io); }
  try {
    throw boost::system::system_error(error_code(EMFILE, boost::system::system_category()), "timerfd");
  } catch (const boost::system::system_error&) {
  }
  struct rlimit before {};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  struct rlimit low = before;
  low.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<tazpod::UniqueFd> taken;
  for (int fd; (fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) >= 0;) taken.emplace_back(fd);

  int thrown = 0;
  try {
    KernelTimer timer(io);
  } catch (const boost::system::system_error& e) {
    thrown = e.code().value();
  }
  int error = -1;
  std::optional<KernelTimer> timer;
  timer.emplace(io.get_executor(), &error);
  taken.clear();
  REQUIRE(setrlimit(RLIMIT_NOFILE, &before) == 0);
  CHECK(thrown == EMFILE);
  CHECK(error == EMFILE);
  CHECK(!timer->is_open());

  // A wait on it ends at once, never at its expiry: nothing could wake it.
  std::optional<error_code> result;
  timer->expires_after(1h);
  timer->async_wait([&](const error_code& ec) { result = ec; });
  io.run_for(1s);
  REQUIRE(result);
  CHECK(*result == boost::asio::error::bad_descriptor);
  timer.reset();  // and its end touches no descriptor

  // With descriptors again, the same constructor makes a working timer.
  KernelTimer working(io.get_executor(), &error);
  CHECK(error == 0);
  CHECK(working.is_open());
}
