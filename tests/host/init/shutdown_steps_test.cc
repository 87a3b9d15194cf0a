// The shutdown sequence of the real Supervisor, driven by real signals and
// real child processes: stop-accepting hooks run first, then the registered
// steps in order (finishing now or later), a failed, throwing or hung step
// does not stop the sequence, and the exit code says what happened.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_test_macros.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "init/supervisor.h"
#include "tests/host/init/supervisor_harness.h"

using namespace std::chrono_literals;
using tazpod::init::Supervisor;

namespace {

// The shared harness, and the order in which the hooks and steps ran.
struct Harness : tazpod::testing::SupervisorHarness {
  std::vector<std::string> order;
};

}  // namespace

TEST_CASE("shutdown: hooks, then steps in order, some finishing later; exit 0") {
  Harness h;
  h.supervisor->OnStopAccepting([&] { h.order.push_back("stop_accepting"); });
  h.supervisor->AddShutdownStep("first", [&](const Supervisor::StepDone& done) {
    h.order.push_back("first");
    done("");
  });
  h.supervisor->AddShutdownStep("second", [&](const Supervisor::StepDone& done) {
    h.order.push_back("second.begin");
    boost::asio::post(h.io, [&, done] {
      h.order.push_back("second.end");
      done("");
    });
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == tazpod::init::kExitClean);
  CHECK(h.order == std::vector<std::string>{"stop_accepting", "first", "second.begin", "second.end"});
}

TEST_CASE("shutdown: a failed step is reported, the next still runs; exit 3") {
  Harness h;
  h.supervisor->AddShutdownStep("lock", [&](const Supervisor::StepDone& done) {
    h.order.push_back("lock");
    done("device busy");
  });
  h.supervisor->AddShutdownStep("after", [&](const Supervisor::StepDone& done) {
    h.order.push_back("after");
    done("");
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == tazpod::init::kExitShutdownStepFailed);
  CHECK(h.order == std::vector<std::string>{"lock", "after"});
}

TEST_CASE("shutdown: a hung step is abandoned at the grace period") {
  Harness h;
  h.supervisor->AddShutdownStep("hangs", [&](const Supervisor::StepDone&) { h.order.push_back("hangs"); });
  h.supervisor->AddShutdownStep("after", [&](const Supervisor::StepDone& done) {
    h.order.push_back("after");
    done("");
  });
  Harness::SendTermFromChild();
  auto start = std::chrono::steady_clock::now();
  CHECK(h.supervisor->Run() == tazpod::init::kExitShutdownStepFailed);
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);  // waited for the step, up to the deadline
  CHECK(h.order == std::vector<std::string>{"hangs", "after"});
}

TEST_CASE("shutdown: a throwing step fails at once; the rest keep their grace") {
  Harness h;
  h.supervisor->AddShutdownStep("throws", [&](const Supervisor::StepDone&) {
    h.order.push_back("throws");
    throw std::runtime_error("component bug");
  });
  h.supervisor->AddShutdownStep("after", [&](const Supervisor::StepDone& done) {
    h.order.push_back("after");
    done("");
  });
  // A main child that ends cleanly on SIGTERM. Had the throwing step held
  // the sequence to the deadline, it would get SIGTERM and SIGKILL at once.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    int signal = 0;
    sigwait(&term, &signal);  // SIGTERM is blocked here, as in the harness
    _exit(0);
  }
  h.supervisor->AdoptMainChild(child);
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == 0);  // its own exit, not 137
  CHECK(h.order == std::vector<std::string>{"throws", "after"});
  // Recorded, for health to report (docs/health.md).
  const auto& failed = h.supervisor->failures().failed();
  REQUIRE(failed.count("throws") == 1);
  CHECK(failed.at("throws") == "component bug");
}

TEST_CASE("shutdown: a handler that throws is recorded as the event loop's failure; the loop goes on") {
  Harness h;
  boost::asio::post(h.io, [] { throw std::runtime_error("handler bug"); });
  boost::asio::post(h.io, [] { Harness::SendTermFromChild(); });  // run after the throw, by the same loop
  CHECK(h.supervisor->Run() == 0);
  const auto& failed = h.supervisor->failures().failed();
  REQUIRE(failed.count("event_loop") == 1);
  CHECK(failed.at("event_loop") == "handler bug");
}

TEST_CASE("shutdown: the main child's exit starts it, and decides the exit code") {
  Harness h;
  h.supervisor->AddShutdownStep("lock", [&](const Supervisor::StepDone& done) {
    h.order.push_back("lock");
    done("");
  });
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(9);
  h.supervisor->AdoptMainChild(child);
  CHECK(h.supervisor->Run() == 9);
  CHECK(h.order == std::vector<std::string>{"lock"});
}

TEST_CASE("shutdown: a main child that exits during the steps does not cut them short") {
  Harness h;
  pid_t worker = fork();  // waits for SIGTERM, which must come after the steps
  REQUIRE(worker >= 0);
  if (worker == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    pause();
    _exit(0);
  }
  pid_t child = fork();  // exits on its own while the step runs
  REQUIRE(child >= 0);
  if (child == 0) {
    usleep(100 * 1000);
    _exit(0);
  }
  h.supervisor->AdoptMainChild(child);
  bool worker_alive_at_step_end = false;
  boost::asio::steady_timer step_work(h.io);
  h.supervisor->AddShutdownStep("lock", [&](const Supervisor::StepDone& done) {
    step_work.expires_after(300ms);  // the main child exits meanwhile
    step_work.async_wait([&, done](boost::system::error_code) {
      worker_alive_at_step_end = kill(worker, 0) == 0;
      done("");
    });
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == 0);  // the main child's status
  CHECK(worker_alive_at_step_end);
  CHECK(kill(worker, 0) != 0);  // ended by SIGTERM after the step, and reaped
}

TEST_CASE("shutdown: descendants get SIGTERM only after the steps") {
  Harness h;
  // A descendant waiting for SIGTERM: it must still be alive when the step runs.
  pid_t worker = fork();
  REQUIRE(worker >= 0);
  if (worker == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    pause();  // until SIGTERM
    _exit(0);
  }
  bool alive_during_step = false;
  h.supervisor->AddShutdownStep("check", [&](const Supervisor::StepDone& done) {
    alive_during_step = kill(worker, 0) == 0;
    done("");
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == tazpod::init::kExitClean);
  CHECK(alive_during_step);
  CHECK(kill(worker, 0) != 0);  // ended by SIGTERM and reaped
}

TEST_CASE("shutdown: final steps run once the descendants are gone, in order, then init exits") {
  Harness h;
  // A descendant that ignores SIGTERM: SIGKILLed at the grace period. The
  // final steps must not run before it is gone and reaped.
  pid_t stubborn = fork();
  REQUIRE(stubborn >= 0);
  if (stubborn == 0) {
    (void)signal(SIGTERM, SIG_IGN);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    for (;;) pause();
  }
  h.supervisor->AddShutdownStep("lock", [&](const Supervisor::StepDone& done) {
    h.order.push_back("lock");
    done("");
  });
  bool gone_at_final_step = false;
  h.supervisor->AddFinalStep("lock again", [&](const Supervisor::StepDone& done) {
    h.order.push_back("lock again");
    gone_at_final_step = kill(stubborn, 0) != 0 && errno == ESRCH;  // reaped, not a zombie
    boost::asio::post(h.io, [done] { done(""); });
  });
  h.supervisor->AddFinalStep("last", [&](const Supervisor::StepDone& done) {
    h.order.push_back("last");
    done("");
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == tazpod::init::kExitKilledAfterGrace);
  CHECK(gone_at_final_step);
  CHECK(h.order == std::vector<std::string>{"lock", "lock again", "last"});
}

TEST_CASE("shutdown: a failed, hung or throwing final step is reported, the next still runs; exit 3") {
  Harness h;
  // Hung to the grace period: the final steps still get a time of their own.
  h.supervisor->AddShutdownStep("hangs too", [&](const Supervisor::StepDone&) { h.order.push_back("hangs too"); });
  h.supervisor->AddFinalStep("fails", [&](const Supervisor::StepDone& done) {
    h.order.push_back("fails");
    done("device busy");
  });
  h.supervisor->AddFinalStep("throws", [&](const Supervisor::StepDone&) {
    h.order.push_back("throws");
    throw std::runtime_error("component bug");
  });
  h.supervisor->AddFinalStep("hangs", [&](const Supervisor::StepDone&) { h.order.push_back("hangs"); });
  h.supervisor->AddFinalStep("after", [&](const Supervisor::StepDone& done) {
    h.order.push_back("after");
    done("");
  });
  Harness::SendTermFromChild();
  auto start = std::chrono::steady_clock::now();
  CHECK(h.supervisor->Run() == tazpod::init::kExitShutdownStepFailed);
  // The grace period (500 ms) for the first, then the final steps' own time.
  CHECK(std::chrono::steady_clock::now() - start >= 400ms + tazpod::init::kFinalStepsTime);
  CHECK(h.order == std::vector<std::string>{"hangs too", "fails", "throws", "hangs", "after"});
}

TEST_CASE("shutdown: children of the final steps are reaped, and their exit seen") {
  Harness h;
  bool seen = false;
  h.supervisor->AddFinalStep("runs a helper", [&](const Supervisor::StepDone& done) {
    const pid_t helper = fork();
    if (helper < 0) return done("fork failed");
    if (helper == 0) {
      usleep(50 * 1000);
      _exit(7);
    }
    h.supervisor->reaper().Watch(helper, [&seen, done](pid_t, int status) {
      seen = WIFEXITED(status) && WEXITSTATUS(status) == 7;
      done("");
    });
  });
  Harness::SendTermFromChild();
  CHECK(h.supervisor->Run() == tazpod::init::kExitClean);
  CHECK(seen);
}
