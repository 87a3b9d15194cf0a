#include "common/proc_stat.h"

#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <string>

using tazpod::ParseProcStat;

namespace {
// A real line's shape (Linux 6.x), after the name: state ppid pgrp session
// tty_nr tpgid flags minflt …
const std::string kTail = " S 1 812 812 34816 812 4194560 120 0 0 0 0 0 0 0 20 0 1 0 5161 2400256 200\n";
}  // namespace

TEST_CASE("proc_stat: the fields after the name") {
  auto st = ParseProcStat("812 (bash)" + kTail);
  REQUIRE(st);
  CHECK(st->state == 'S');
  CHECK(st->ppid == 1);
  CHECK(st->pgrp == 812);
  CHECK(st->session == 812);
  CHECK(st->tty_nr == 34816);  // pts/0: major 136, minor 0
  CHECK(st->flags == 4194560);
}

TEST_CASE("proc_stat: a name with spaces, parentheses and a newline is skipped whole") {
  auto st = ParseProcStat("77 (a) Z 9 9 (b\n c)" + kTail);
  REQUIRE(st);
  CHECK(st->state == 'S');
  CHECK(st->ppid == 1);
}

TEST_CASE("proc_stat: a kernel thread's flags and a zombie's state") {
  auto st = ParseProcStat("2 (kthreadd) Z 0 0 0 0 -1 2129984 0 0");
  REQUIRE(st);
  CHECK(st->state == 'Z');
  CHECK(st->ppid == 0);
  CHECK((st->flags & 0x00200000) != 0);  // PF_KTHREAD
}

TEST_CASE("proc_stat: missing or malformed fields are refused") {
  CHECK_FALSE(ParseProcStat(""));
  CHECK_FALSE(ParseProcStat("812 (bash"));                     // no ')'
  CHECK_FALSE(ParseProcStat("812 (bash)"));                    // nothing after it
  CHECK_FALSE(ParseProcStat("812 (bash) S 1 812 812 34816"));  // stops before flags
  CHECK_FALSE(ParseProcStat("812 (bash) SS 1 812 812 34816 812 4194560"));
  CHECK_FALSE(ParseProcStat("812 (bash) S one 812 812 34816 812 4194560"));
  CHECK_FALSE(ParseProcStat("812 (bash) S 1x 812 812 34816 812 4194560"));
  CHECK_FALSE(ParseProcStat("812 (bash) S 1 812 812 34816 812 -4194560"));  // flags are unsigned
}

TEST_CASE("proc_stat: this process's own line, read from /proc") {
  auto st = tazpod::ReadProcStat(getpid());
  REQUIRE(st);
  CHECK(st->state == 'R');
  CHECK(st->ppid == getppid());
  CHECK(st->pgrp == getpgrp());
  CHECK(st->session == getsid(0));
  CHECK_FALSE(tazpod::ReadProcStat(-1));
}
