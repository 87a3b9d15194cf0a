// /proc/PID/stat, parsed: the few fields init and the gate use.
//
// The command name (field 2) is whatever the process chose to call itself
// (prctl PR_SET_NAME, or its file's name): it may hold spaces, parentheses
// and newlines. So the fields are counted from the *last* ')' of the line,
// and each must be a whole number where one is expected, or the line is
// refused. A fuzz target (tests/fuzz/proc_stat.cc) holds the parser to that.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace tazpod {

struct ProcStat {
  char state = '?';          // field 3: R, S, D, Z, T, …
  pid_t ppid = 0;            // field 4
  pid_t pgrp = 0;            // field 5
  pid_t session = 0;         // field 6
  unsigned long tty_nr = 0;  // field 7: the controlling terminal's device number, 0 for none
  unsigned long flags = 0;   // field 9: PF_* flags (PF_KTHREAD: a kernel thread)
};

// Fields 3 to 9 of one /proc/PID/stat line; nullopt when one is missing or
// not a number.
std::optional<ProcStat> ParseProcStat(std::string_view text);

// Reads /proc/PID/stat (one read: the kernel writes it whole) and parses it;
// nullopt when the process is gone or the line is not understood.
std::optional<ProcStat> ReadProcStat(pid_t pid);

}  // namespace tazpod
