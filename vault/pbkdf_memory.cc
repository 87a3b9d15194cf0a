#include "vault/pbkdf_memory.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace tazpod::vault {

namespace {

// Values this large mean "no limit" (v1 writes 2^63 rounded down to a page).
constexpr std::uint64_t kUnlimited = 1ULL << 62;
constexpr std::uint64_t kMarginBytes = 16ULL << 20;
constexpr std::uint32_t kFloorKib = 64U << 10;

// The number in `path`, or nullopt for "max", a missing file or anything else.
std::optional<std::uint64_t> ReadNumber(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value >= kUnlimited) return std::nullopt;
  return value;
}

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One cgroup hierarchy as mounted: its root in the hierarchy, where it is
// mounted, and the files of a limit and of the usage.
struct Hierarchy {
  std::string root;
  std::string mount_point;
  const char* limit_file;
  const char* usage_file;
};

// The cgroup mounts of `mountinfo`: v2, and v1's memory controller.
std::vector<Hierarchy> CgroupMounts(const std::string& mountinfo) {
  std::vector<Hierarchy> mounts;
  std::istringstream lines(mountinfo);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, options, field;
    if (!(fields >> id >> parent >> device >> root >> mount_point >> options)) continue;
    while (fields >> field && field != "-") {
    }
    std::string type, source, super_options;
    if (!(fields >> type >> source >> super_options)) continue;
    if (type == "cgroup2") {
      mounts.push_back({root, mount_point, "memory.max", "memory.current"});
    } else if (type == "cgroup" && ("," + super_options + ",").find(",memory,") != std::string::npos) {
      mounts.push_back({root, mount_point, "memory.limit_in_bytes", "memory.usage_in_bytes"});
    }
  }
  return mounts;
}

// Keeps in *best the budget of `dir` when it has a limit and less room.
void Consider(const std::string& dir, const Hierarchy& h, std::optional<MemoryBudget>* best) {
  const std::optional<std::uint64_t> limit = ReadNumber(dir + "/" + h.limit_file);
  if (!limit) return;
  const MemoryBudget budget{*limit, ReadNumber(dir + "/" + h.usage_file).value_or(0)};
  const auto room = [](const MemoryBudget& b) { return b.limit_bytes > b.used_bytes ? b.limit_bytes - b.used_bytes : 0; };
  if (!*best || room(budget) < room(**best)) *best = budget;
}

}  // namespace

std::optional<MemoryBudget> CgroupMemoryBudget(const std::string& proc_self_cgroup, const std::string& mountinfo,
                                               const std::string& root) {
  const std::vector<Hierarchy> mounts = CgroupMounts(mountinfo);
  std::optional<MemoryBudget> best;
  std::istringstream lines(proc_self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    // "ID:CONTROLLERS:PATH"; the path may itself hold colons.
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    // "/.." when the process sits outside its cgroup namespace's root: what
    // is above is not ours to read.
    if (path.empty() || path[0] != '/' || path.find("/..") != std::string::npos) continue;
    const bool v2 = controllers.empty();
    if (!v2 && ("," + controllers + ",").find(",memory,") == std::string::npos) continue;
    for (const Hierarchy& h : mounts) {
      if (v2 != (std::string(h.limit_file) == "memory.max")) continue;
      // The mount shows the hierarchy from h.root down.
      const bool below = h.root == "/" || path == h.root || path.starts_with(h.root + "/");
      if (!below) continue;
      const std::string top = root + h.mount_point;
      std::string rest = h.root == "/" ? path : path.substr(h.root.size());
      for (;;) {
        Consider(rest.empty() || rest == "/" ? top : top + rest, h, &best);
        if (rest.empty() || rest == "/") break;
        rest.erase(rest.rfind('/'));
      }
      break;
    }
  }
  return best;
}

std::optional<MemoryBudget> OwnCgroupMemoryBudget() {
  return CgroupMemoryBudget(ReadAll("/proc/self/cgroup"), ReadAll("/proc/self/mountinfo"));
}

std::uint32_t ArgonMemoryWithin(std::uint32_t wanted_kib, const std::optional<MemoryBudget>& budget) {
  if (!budget) return wanted_kib;
  const std::uint64_t room = budget->limit_bytes > budget->used_bytes + kMarginBytes
                                 ? budget->limit_bytes - budget->used_bytes - kMarginBytes
                                 : 0;
  const std::uint64_t cap_kib = std::min(budget->limit_bytes / 2, room) / 1024;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(wanted_kib, cap_kib));
}

std::uint32_t ArgonMemoryFloor(std::uint32_t wanted_kib) { return std::min(wanted_kib, kFloorKib); }

}  // namespace tazpod::vault
