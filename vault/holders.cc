#include "vault/holders.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace tazpod::vault {

namespace {

bool OnDevice(const std::string& path, dev_t dev) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && st.st_dev == dev;
}

bool MapsDevice(pid_t pid, dev_t dev) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  unsigned maj = 0, min = 0;
  while (std::getline(maps, line)) {
    // address perms offset dev inode path
    if (std::sscanf(line.c_str(), "%*s %*s %*s %x:%x", &maj, &min) == 2 && makedev(maj, min) == dev)
      return true;
  }
  return false;
}

bool Holds(pid_t pid, dev_t dev) {
  std::string base = "/proc/" + std::to_string(pid);
  if (OnDevice(base + "/cwd", dev) || OnDevice(base + "/root", dev)) return true;
  if (DIR* fds = opendir((base + "/fd").c_str())) {
    bool found = false;
    while (struct dirent* e = readdir(fds)) {
      if (e->d_name[0] == '.') continue;
      if (OnDevice(base + "/fd/" + e->d_name, dev)) {
        found = true;
        break;
      }
    }
    closedir(fds);
    if (found) return true;
  }
  return MapsDevice(pid, dev);
}

}  // namespace

std::vector<pid_t> ProcessesHolding(const std::string& mountpoint) {
  std::vector<pid_t> result;
  struct stat st;
  if (stat(mountpoint.c_str(), &st) != 0) return result;
  const dev_t dev = st.st_dev;
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (!proc) return result;
  while (struct dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    if (Holds(static_cast<pid_t>(pid), dev)) result.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return result;
}

std::vector<pid_t> EndHolders(const std::string& mountpoint, std::chrono::milliseconds grace) {
  std::vector<pid_t> holders = ProcessesHolding(mountpoint);
  if (holders.empty()) return holders;
  for (pid_t pid : holders) kill(pid, SIGTERM);
  // The helper runs off PID 1's loop, so a short sleep here blocks nobody.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline && !ProcessesHolding(mountpoint).empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (pid_t pid : ProcessesHolding(mountpoint)) kill(pid, SIGKILL);
  // SIGKILLed processes let go of their files when they are reaped or
  // become zombies; give the kernel a moment.
  for (int i = 0; i < 50 && !ProcessesHolding(mountpoint).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return holders;
}

std::string DescribeProcess(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return "pid " + std::to_string(pid) + (name.empty() ? "" : " (" + name + ")");
}

}  // namespace tazpod::vault
