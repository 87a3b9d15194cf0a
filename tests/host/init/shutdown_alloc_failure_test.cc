// A shutdown that meets a failed allocation, wherever it comes: PID 1 must
// still kill what ignored SIGTERM, run the final steps and exit, a few
// seconds past the grace period at most, not stall until the runtime's
// SIGKILL (which would skip the vault's lock step and every exit code).
// Each case fails the Nth allocation after SIGTERM arrives, for every N
// until the shutdown runs out of allocations to fail.
//
// This binary replaces the global operator new for that, so it is a test
// executable of its own. Each case runs in a forked process, as in
// shutdown_waits_test.cc, and reports through its exit status.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "init/reaper.h"
#include "init/supervisor.h"
#include "tests/host/captured_log.h"
#include "tests/host/init/stubborn_process.h"
#include "tests/host/init/supervisor_harness.h"

using namespace std::chrono_literals;
using tazpod::init::Supervisor;
using tazpod::testing::StartStubborn;
using tazpod::testing::SupervisorHarness;

namespace {

// Allocations to let through before one fails; negative: none fails.
long allocations_before_failure = -1;
bool allocation_failed = false;

void* Allocate(std::size_t size) {
  if (allocations_before_failure == 0) {
    allocations_before_failure = -1;
    allocation_failed = true;
    throw std::bad_alloc();
  }
  if (allocations_before_failure > 0) --allocations_before_failure;
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

}  // namespace

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
// The nothrow forms too, so that every allocation counts and each block is
// freed by the allocator that made it (which ASan checks).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

constexpr auto kGrace = 200ms;
// Time the shutdown may take beyond the grace period. A failure before the
// processes are seen out: the backstop fires 3 s after it (the wait after
// a SIGKILL and a second's margin) and SIGKILLs, the final steps follow
// 2 s later. A failure in the final steps: their backstop ends them 6 s
// after they began (their 5 s and the margin). And a loaded machine.
constexpr auto kSlack = 8s;

// Exit statuses of a case.
constexpr int kAsExpected = 0;           // the allocation failed, all went well
constexpr int kNothingFailed = 50;       // all went well, with no allocation left to fail
constexpr int kNoSetup = 10;             // could not start the stubborn process
constexpr int kStalled = 11;             // Run() had not returned by the grace period plus slack
constexpr int kTooLate = 12;             // Run() returned, but after the grace period plus slack
constexpr int kLeftRunning = 13;         // the stubborn process outlived the shutdown
constexpr int kThrew = 14;               // Run() let the exception out
constexpr int kWrongCode = 15;           // init's exit code would hide what happened
constexpr int kLeftZombie = 16;          // a child was left unreaped
constexpr int kWrongEvent = 17;          // a SIGTERM round was logged after the stall's SIGKILL

// A case's log lines would bury the test's own output.
void SilenceStderr() {
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, STDERR_FILENO);
}

// Once the backstop has found the sequence stalled and SIGKILLed what was
// left, no later round may pass for the SIGTERM one: what it signals gets
// SIGKILL.
bool StallLoggedRight(const std::string& log) {
  const size_t stalled = log.find("init.shutdown.stalled");
  return stalled == std::string::npos || log.find("init.shutdown.term", stalled) == std::string::npos;
}

// What each supervisor case sets up: a watchdog that ends the case with
// kStalled should Run() never return (started after the harness has
// blocked the signals, so that none is delivered to its thread), one
// shutdown step and one final step.
void Prepare(SupervisorHarness& s) {
  std::thread([] {
    std::this_thread::sleep_for(kGrace + kSlack + 2s);
    _exit(kStalled);
  }).detach();
  s.supervisor->AddShutdownStep("step", [](const Supervisor::StepDone& done) { done(""); });
  s.supervisor->AddFinalStep("final", [](const Supervisor::StepDone& done) { done(""); });
}

// Runs the supervisor with the `n`th allocation from now on failing; its
// exit code in *code. False when Run() let an exception out.
bool RunFailingAt(long n, SupervisorHarness& s, int* code) {
  allocations_before_failure = n;
  try {
    *code = s.supervisor->Run();
  } catch (...) {
    return false;
  }
  allocations_before_failure = -1;
  return true;
}

// One shutdown with the `n`th allocation after SIGTERM failing.
int ShutdownFailingAllocation(long n) {
  pid_t stubborn = StartStubborn();
  if (stubborn < 0) return kNoSetup;
  // Its log lines go to a memory file, read once it is over.
  const tazpod::testing::CapturedLog log(tazpod::LogLevel::kInfo);
  if (!log.valid()) return kNoSetup;
  SupervisorHarness s(kGrace);
  Prepare(s);  // the stubborn process ends itself within a minute, should the case stall
  SupervisorHarness::SendTermFromChild();
  const auto start = std::chrono::steady_clock::now();
  int code = 0;
  if (!RunFailingAt(n, s, &code)) return kThrew;
  const bool in_time = std::chrono::steady_clock::now() - start <= kGrace + kSlack;
  // Reaped by the supervisor, or dead and waiting to be: the kernel reaps
  // what PID 1 leaves when it exits.
  const pid_t reaped = waitpid(stubborn, nullptr, WNOHANG);
  const bool gone = reaped == stubborn || (reaped < 0 && errno == ECHILD);
  kill(stubborn, SIGKILL);
  if (!in_time) return kTooLate;
  if (!gone) return kLeftRunning;
  // A process was SIGKILLed after the grace period, or a step (or the
  // sequence itself) failed. Never 0.
  if (code != tazpod::init::kExitShutdownStepFailed && code != tazpod::init::kExitKilledAfterGrace) return kWrongCode;
  if (!StallLoggedRight(log.Text())) return kWrongEvent;
  return allocation_failed ? kAsExpected : kNothingFailed;
}

// The main child exits 7 with the `n`th allocation after it was let go
// failing (from the loop's start on): the shutdown it begins must still
// run, and init exit with its code (or say a step failed).
int MainChildExitFailingAllocation(long n) {
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) return kNoSetup;
  const pid_t child = fork();
  if (child < 0) return kNoSetup;
  if (child == 0) {
    close(gate[1]);
    char byte;
    while (read(gate[0], &byte, 1) < 0 && errno == EINTR) {
    }
    _exit(7);
  }
  close(gate[0]);
  SilenceStderr();
  SupervisorHarness s(kGrace);
  Prepare(s);
  s.supervisor->AdoptMainChild(child);
  close(gate[1]);  // the child exits now
  const auto start = std::chrono::steady_clock::now();
  int code = 0;
  if (!RunFailingAt(n, s, &code)) return kThrew;
  if (std::chrono::steady_clock::now() - start > kGrace + kSlack) return kTooLate;
  if (code != 7 && code != tazpod::init::kExitShutdownStepFailed) return kWrongCode;
  return allocation_failed ? kAsExpected : kNothingFailed;
}

// Forks a child that exits at once, and waits until it has, without
// reaping it; -1 when it cannot.
pid_t ExitedChild() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  siginfo_t info{};
  if (pid < 0 || waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) return -1;
  return pid;
}

// One pass of the reaper over three exited children, with the `n`th
// allocation from its start failing: a watched one whose callback throws
// (its message too long to build without allocating) and two that are not
// init's, each logged (`-w`). Every one must still be reaped in that pass:
// the SIGCHLD that woke it is spent, and a child left behind stays a
// zombie until another exits.
int ReapFailingAllocation(long n) {
  SilenceStderr();
  tazpod::init::ComponentFailures failures;
  tazpod::init::Reaper reaper(/*warn_on_foreign=*/true, &failures);
  const pid_t watched = ExitedChild();
  if (watched < 0 || ExitedChild() < 0 || ExitedChild() < 0) return kNoSetup;
  reaper.Watch(watched, [](pid_t, int) { throw std::runtime_error(std::string(200, 'x')); });
  allocations_before_failure = n;
  int reaped = 0;
  try {
    reaped = reaper.ReapAll();
  } catch (...) {
    return kThrew;
  }
  allocations_before_failure = -1;
  if (reaped != 3 || waitpid(-1, nullptr, WNOHANG) != -1 || errno != ECHILD) return kLeftZombie;
  return allocation_failed ? kAsExpected : kNothingFailed;
}

// Starts case `n` of `run` in a process of its own.
pid_t StartCase(long n, int (*run)(long) = ShutdownFailingAllocation) {
  pid_t pid = fork();
  if (pid == 0) _exit(run(n));
  return pid;
}

int WaitForCase(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Cases run side by side: most of each is the grace period's sleep, and
// one after the other the sweep would take many minutes.
constexpr long kBatch = 16;
constexpr long kMostAllocations = 2000;

// Runs case `run` for every n until one fails no allocation; the number of
// cases that went wrong, each said.
int Sweep(int (*run)(long)) {
  std::map<long, int> statuses;
  long end = -1;  // the first n past the shutdown's last allocation
  for (long first = 0; end < 0 && first < kMostAllocations; first += kBatch) {
    std::vector<pid_t> cases;
    for (long n = first; n < first + kBatch; ++n) cases.push_back(StartCase(n, run));
    for (long n = first; n < first + kBatch; ++n) {
      statuses[n] = WaitForCase(cases[static_cast<size_t>(n - first)]);
      if (statuses[n] == kNothingFailed && end < 0) end = n;
    }
  }
  REQUIRE(end > 0);  // it reached the end of the shutdown's allocations
  int failures = 0;
  for (long n = 0; n < end; ++n) {
    if (statuses[n] == kAsExpected) continue;
    ++failures;
    // 11 stalled, 12 too late, 13 left a process running, 14 threw, 15 exit
    // code, 16 left a zombie, 17 logged a SIGTERM round after the stall.
    UNSCOPED_INFO("allocation " << n << " failed: case status " << statuses[n]);
  }
  return failures;
}

}  // namespace

TEST_CASE("shutdown: a failed allocation anywhere in it still ends it and kills what ignored SIGTERM") {
  CHECK(Sweep(ShutdownFailingAllocation) == 0);
}

TEST_CASE("shutdown: a failed allocation as the main child's exit is handled still ends init with its code") {
  CHECK(Sweep(MainChildExitFailingAllocation) == 0);
}

TEST_CASE("reaper: a failed allocation while it logs leaves no child unreaped") {
  CHECK(Sweep(ReapFailingAllocation) == 0);
}
