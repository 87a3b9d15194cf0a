#include "vault/holders.h"

#include <dirent.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string_view>
#include <thread>

namespace tazpod::vault {

namespace {

bool OnDevice(const std::string& path, dev_t dev) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && st.st_dev == dev;
}

// The "MAJ:MIN" device number that follows the first `skip` spaces of a
// /proc line, written in `base`, or nullopt if the line is not in that shape.
// /proc/PID/maps: "address perms offset MAJ:MIN inode path" (hex);
// /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (decimal).
std::optional<dev_t> DeviceField(std::string_view line, int skip, int base) {
  std::size_t field = 0;
  for (int i = 0; i < skip; ++i) {
    field = line.find(' ', field);
    if (field == std::string_view::npos) return std::nullopt;
    ++field;
  }
  const char* end = line.data() + line.size();
  unsigned maj = 0, min = 0;
  auto [after_maj, e1] = std::from_chars(line.data() + field, end, maj, base);
  if (e1 != std::errc() || after_maj == end || *after_maj != ':') return std::nullopt;
  auto [after_min, e2] = std::from_chars(after_maj + 1, end, min, base);
  if (e2 != std::errc()) return std::nullopt;
  return makedev(maj, min);
}

// Whether any line of /proc/PID/`file` has `dev` in its device field (see
// DeviceField for `skip` and `base`).
bool ProcFileNamesDevice(pid_t pid, const char* file, int skip, int base, dev_t dev) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (DeviceField(line, skip, base) == dev) return true;
  }
  return false;
}

// Whether `pid` maps a file of the file system on `dev` (its text, a library).
bool MapsDevice(pid_t pid, dev_t dev) { return ProcFileNamesDevice(pid, "maps", 3, 16, dev); }

// Looking into another user's /proc/PID/{fd,cwd,root,maps} passes the
// kernel's ptrace access check with CAP_SYS_PTRACE, which Docker does not
// grant by default, or with file-system ids equal to the process's. So the
// look is taken with the owner's fsuid and fsgid (CAP_SETUID and CAP_SETGID
// are in Docker's defaults), and root's are restored after it. The helper is
// single-threaded: the ids are per thread.
class LookingAs {
 public:
  explicit LookingAs(const std::string& proc_dir) {
    struct stat st;
    // A process that is not dumpable shows as root's: nothing to switch to.
    if (stat(proc_dir.c_str(), &st) != 0 || st.st_uid == 0) return;
    old_gid_ = static_cast<gid_t>(setfsgid(st.st_gid));
    old_uid_ = static_cast<uid_t>(setfsuid(st.st_uid));
    switched_ = true;
  }
  ~LookingAs() {
    if (!switched_) return;
    setfsuid(old_uid_);  // first: back to root gives CAP_SETGID back for the next
    setfsgid(old_gid_);
  }
  LookingAs(const LookingAs&) = delete;
  LookingAs& operator=(const LookingAs&) = delete;

 private:
  bool switched_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
};

bool Holds(pid_t pid, dev_t dev) {
  std::string base = "/proc/" + std::to_string(pid);
  LookingAs owner(base);
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

// Whether the mount namespace of `pid` has a mount of the file system on
// `dev`.
bool MountsDevice(pid_t pid, dev_t dev) { return ProcFileNamesDevice(pid, "mountinfo", 2, 10, dev); }

// Every process but the caller for which `matches` holds.
std::vector<pid_t> OtherProcessesWhere(const std::function<bool(pid_t)>& matches) {
  std::vector<pid_t> result;
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (!proc) return result;
  while (struct dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    if (matches(static_cast<pid_t>(pid))) result.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return result;
}

// SIGTERM to what `find` returns, up to `grace` for them to go, SIGKILL to
// the rest, then a moment for the kernel to let go of what they held.
std::vector<pid_t> EndProcesses(const std::function<std::vector<pid_t>()>& find, std::chrono::milliseconds grace) {
  std::vector<pid_t> found = find();
  if (found.empty()) return found;
  for (pid_t pid : found) kill(pid, SIGTERM);
  // The helper runs off PID 1's loop, so a short sleep here blocks nobody.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline && !find().empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (pid_t pid : find()) kill(pid, SIGKILL);
  // SIGKILLed processes let go of their files when they are reaped or
  // become zombies; give the kernel a moment.
  for (int i = 0; i < 50 && !find().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return found;
}

}  // namespace

std::vector<pid_t> ProcessesHolding(dev_t dev) {
  return OtherProcessesWhere([dev](pid_t pid) { return Holds(pid, dev); });
}

std::vector<pid_t> ProcessesMounting(dev_t dev) {
  return OtherProcessesWhere([dev](pid_t pid) { return MountsDevice(pid, dev); });
}

std::vector<pid_t> EndHolders(dev_t dev, std::chrono::milliseconds grace) {
  return EndProcesses([dev] { return ProcessesHolding(dev); }, grace);
}

std::vector<pid_t> EndHoldersAndMountCopies(dev_t dev, std::chrono::milliseconds grace) {
  return EndProcesses(
      [dev] { return OtherProcessesWhere([dev](pid_t pid) { return MountsDevice(pid, dev) || Holds(pid, dev); }); },
      grace);
}

std::string DescribeProcess(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return "pid " + std::to_string(pid) + (name.empty() ? "" : " (" + name + ")");
}

}  // namespace tazpod::vault
