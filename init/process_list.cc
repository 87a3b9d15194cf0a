#include "init/process_list.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "common/unique_fd.h"

namespace tazpod::init {

namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // PF_KTHREAD in /proc/PID/stat flags

struct ProcStat {
  pid_t ppid = 0;
  char state = '?';
  unsigned long flags = 0;
};

// Parses /proc/PID/stat. The command name (field 2) may contain spaces and
// parentheses, so fields are counted from the last ')'.
bool ReadStat(pid_t pid, ProcStat& out) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  std::string line(buf, static_cast<size_t>(n));
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return false;
  const char* p = line.c_str() + close_paren + 2;
  out.state = *p;
  char* end = nullptr;
  out.ppid = static_cast<pid_t>(std::strtol(p + 1, &end, 10));  // field 4
  // fields 5..8 (pgrp, session, tty_nr, tpgid), then flags (field 9)
  for (int i = 0; i < 4 && end; ++i) (void)std::strtol(end, &end, 10);  // skips a field: its value is not needed
  if (end) out.flags = std::strtoul(end, &end, 10);
  return true;
}

}  // namespace

std::vector<pid_t> ProcessesToStop(pid_t self, bool is_pid1) {
  std::map<pid_t, ProcStat> procs;
  if (DIR* dir = opendir("/proc")) {
    while (struct dirent* e = readdir(dir)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      ProcStat st;
      if (ReadStat(static_cast<pid_t>(pid), st)) procs[static_cast<pid_t>(pid)] = st;
    }
    closedir(dir);
  }

  auto stoppable = [&](pid_t pid, const ProcStat& st) {
    return pid != self && st.state != 'Z' && st.state != 'X' && !(st.flags & kPfKthread);
  };

  std::vector<pid_t> result;
  if (is_pid1) {
    for (const auto& [pid, st] : procs)
      if (stoppable(pid, st)) result.push_back(pid);
    return result;
  }
  // Descendants of self: walk each process's parent chain up to self.
  for (const auto& [pid, st] : procs) {
    if (!stoppable(pid, st)) continue;
    pid_t up = st.ppid;
    for (int depth = 0; up > 0 && up != self && depth < 4096; ++depth) {
      auto it = procs.find(up);
      up = it == procs.end() ? 0 : it->second.ppid;
    }
    if (up == self) result.push_back(pid);
  }
  return result;
}

bool ProcShowsOwnNamespace() {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  return std::strtol(buf, nullptr, 10) == getpid();
}

}  // namespace tazpod::init
