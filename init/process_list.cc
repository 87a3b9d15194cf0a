#include "init/process_list.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>

#include "common/proc_stat.h"

namespace tazpod::init {

namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // PF_KTHREAD in /proc/PID/stat flags

// Every process /proc lists, or nullopt when it could not be read whole.
std::optional<std::map<pid_t, ProcStat>> ReadAllProcStats() {
  std::map<pid_t, ProcStat> procs;
  DIR* dir = opendir("/proc");
  if (!dir) return std::nullopt;
  while (struct dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    errno = 0;
    if (auto st = ReadProcStat(static_cast<pid_t>(pid))) {
      procs[static_cast<pid_t>(pid)] = *st;
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
      // Not gone: unread.
      const int error = errno;
      closedir(dir);
      errno = error;
      return std::nullopt;
    }
  }
  closedir(dir);
  return procs;
}

}  // namespace

std::optional<std::vector<pid_t>> ProcessesToStop(pid_t self, bool is_pid1) {
  std::optional<std::map<pid_t, ProcStat>> read = ReadAllProcStats();
  if (!read) return std::nullopt;
  const std::map<pid_t, ProcStat>& procs = *read;

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

bool IsDescendant(pid_t pid, pid_t ancestor) {
  for (int depth = 0; pid > 0 && depth < 4096; ++depth) {
    const std::optional<ProcStat> st = ReadProcStat(pid);
    if (!st) return false;
    if (st->ppid == ancestor) return true;
    pid = st->ppid;
  }
  return false;
}

std::optional<std::vector<pid_t>> ProcessesInSession(pid_t session) {
  std::optional<std::map<pid_t, ProcStat>> procs = ReadAllProcStats();
  if (!procs) return std::nullopt;
  std::vector<pid_t> result;
  for (const auto& [pid, st] : *procs)
    if (st.session == session && st.state != 'Z' && st.state != 'X') result.push_back(pid);
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
