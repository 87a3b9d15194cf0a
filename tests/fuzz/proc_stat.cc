// Fuzz target: a /proc/PID/stat line (common/proc_stat.h). The command name
// in it is the process's own choice of bytes. Two properties:
//  - any input, taken as a whole line, parses or is refused, nothing worse;
//  - a line the kernel could write, with the input as the command name
//    (any bytes but NUL), parses to exactly the fields written after it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/proc_stat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)tazpod::ParseProcStat(input);

  std::string name;
  for (char c : input)
    if (c != '\0') name += c;
  // Numbers of every sign and width a kernel line holds, varied by the input.
  const long ppid = static_cast<long>(size % 4194304);
  const long pgrp = -static_cast<long>(size % 7);  // a pgrp is never negative, but the parser must not care
  const unsigned long flags = 0x00200000ul ^ size;
  const std::string line = "4242 (" + name + ") D " + std::to_string(ppid) + " " + std::to_string(pgrp) +
                           " 5 34817 -1 " + std::to_string(flags) + " 0 0 0 0 20\n";
  const auto st = tazpod::ParseProcStat(line);
  if (!st || st->state != 'D' || st->ppid != ppid || st->pgrp != pgrp || st->session != 5 ||
      st->tty_nr != 34817 || st->flags != flags)
    std::abort();
  return 0;
}
