#include "vault/pbkdf_memory.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace tazpod::vault {

namespace {

// Values this large mean "no limit" (v1 writes 2^63 rounded down to a page).
constexpr std::uint64_t kUnlimited = 1ULL << 62;
constexpr std::uint64_t kMarginBytes = 16ULL << 20;
constexpr std::uint32_t kFloorKib = 64U << 10;

std::optional<std::uint64_t> ParseNumber(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value >= kUnlimited) return std::nullopt;
  return value;
}

// The number in `path`, or nullopt for "max", a missing file or anything else.
std::optional<std::uint64_t> ReadNumber(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  return ParseNumber(text);
}

// The value of `key` in a memory.stat file, or 0.
std::uint64_t ReadStat(const std::string& path, std::string_view key) {
  std::ifstream in(path);
  for (std::string name, value; in >> name >> value;) {
    if (name == key) return ParseNumber(value).value_or(0);
  }
  return 0;
}

// Whether the comma-separated `list` has `item`.
bool Lists(const std::string& list, std::string_view item) {
  std::istringstream items(list);
  for (std::string each; std::getline(items, each, ',');) {
    if (each == item) return true;
  }
  return false;
}

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// mountinfo writes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string_view digits(field.data() + i + 1, 3);
      int value = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + 3, value, 8);
      if (error == std::errc() && end == digits.data() + 3) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

// One cgroup hierarchy as mounted: its root in the hierarchy, where it is
// mounted, and whether it is v2.
struct Hierarchy {
  std::string root;
  std::string mount_point;
  bool v2;
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
    const bool v1_memory = type == "cgroup" && Lists(super_options, "memory");
    if (type == "cgroup2" || v1_memory) mounts.push_back({Unescape(root), Unescape(mount_point), type == "cgroup2"});
  }
  return mounts;
}

// Whether the machine has swap: /proc/swaps lists a device after its header.
bool MachineHasSwap(const std::string& root) {
  std::ifstream in(root + "/proc/swaps");
  std::string line;
  return std::getline(in, line) && std::getline(in, line) && !line.empty();
}

// The budget of the cgroup directory `dir`, when it has a limit (may_swap
// is left to the caller). What the kernel may reclaim errs high, since
// counting too little would refuse an open that can succeed: v1's
// memory.stat has no slab, so all its kernel memory counts.
std::optional<MemoryBudget> BudgetOf(const std::string& dir, bool v2) {
  const std::optional<std::uint64_t> limit = ReadNumber(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
  if (!limit) return std::nullopt;
  const std::uint64_t usage = ReadNumber(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes")).value_or(0);
  const std::string stat = dir + "/memory.stat";
  const std::uint64_t inactive = ReadStat(stat, v2 ? "inactive_file" : "total_inactive_file");
  const std::uint64_t used = usage > inactive ? usage - inactive : 0;
  const std::uint64_t active = ReadStat(stat, v2 ? "active_file" : "total_active_file");
  const std::uint64_t kernel = v2 ? ReadStat(stat, "slab_reclaimable")
                                  : ReadNumber(dir + "/memory.kmem.usage_in_bytes").value_or(0);
  return MemoryBudget{*limit, used, std::min(used, active + kernel), false};
}

// Whether swap can relieve the limit of the cgroup directory `dir`. v2:
// not when memory.swap.max is 0 there, which also holds for everything
// below. v1: not when its memory+swap limit is no higher than its memory
// limit, which holds for that level alone. A missing file forbids nothing.
bool ForbidsSwap(const std::string& dir, bool v2) {
  if (v2) return ReadNumber(dir + "/memory.swap.max") == std::uint64_t{0};
  const std::optional<std::uint64_t> both = ReadNumber(dir + "/memory.memsw.limit_in_bytes");
  const std::optional<std::uint64_t> memory = ReadNumber(dir + "/memory.limit_in_bytes");
  return both && memory && *both <= *memory;
}

}  // namespace

std::vector<MemoryBudget> CgroupMemoryBudgets(const std::string& proc_self_cgroup, const std::string& mountinfo,
                                             const std::string& root) {
  const std::vector<Hierarchy> mounts = CgroupMounts(mountinfo);
  const bool machine_swaps = MachineHasSwap(root);
  std::vector<MemoryBudget> budgets;
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
    if (!v2 && !Lists(controllers, "memory")) continue;
    // Of the mounts showing this cgroup, the one from highest up: it shows
    // the most ancestors (another may be a bind of a subtree).
    const Hierarchy* best = nullptr;
    for (const Hierarchy& h : mounts) {
      const bool shows = h.v2 == v2 && (h.root == "/" || path == h.root || path.starts_with(h.root + "/"));
      if (shows && (!best || h.root.size() < best->root.size())) best = &h;
    }
    if (!best) continue;
    const std::string top = root + best->mount_point;
    std::string rest = best->root == "/" ? path : path.substr(best->root.size());
    const size_t first_of_path = budgets.size();
    bool v2_swap_forbidden = false;  // at some level: our memory cannot be swapped at all
    for (;;) {
      const std::string dir = rest.empty() || rest == "/" ? top : top + rest;
      const bool forbids = ForbidsSwap(dir, v2);
      if (auto budget = BudgetOf(dir, v2)) {
        budget->may_swap = machine_swaps && !forbids;
        budgets.push_back(*budget);
      }
      v2_swap_forbidden = v2_swap_forbidden || (v2 && forbids);
      if (rest.empty() || rest == "/") break;
      rest.erase(rest.rfind('/'));
    }
    if (v2_swap_forbidden) {
      for (size_t i = first_of_path; i < budgets.size(); ++i) budgets[i].may_swap = false;
    }
  }
  return budgets;
}

std::vector<MemoryBudget> OwnCgroupMemoryBudgets() {
  return CgroupMemoryBudgets(ReadAll("/proc/self/cgroup"), ReadAll("/proc/self/mountinfo"));
}

std::uint32_t ArgonMemoryWithin(std::uint32_t wanted_kib, const std::vector<MemoryBudget>& budgets,
                                const MemoryBudget** limiting) {
  std::uint64_t cap_kib = wanted_kib;
  *limiting = nullptr;
  for (const MemoryBudget& b : budgets) {
    // Subtracted, not added: used_bytes may be the top of the range
    // (TooLittleBesideImage's sum saturates there), and a sum would wrap.
    const std::uint64_t room =
        b.limit_bytes > b.used_bytes && b.limit_bytes - b.used_bytes > kMarginBytes
            ? b.limit_bytes - b.used_bytes - kMarginBytes
            : 0;
    const std::uint64_t level_kib = std::min(b.limit_bytes / 2, room) / 1024;
    if (level_kib < cap_kib) {
      cap_kib = level_kib;
      *limiting = &b;
    }
  }
  return static_cast<std::uint32_t>(cap_kib);
}

std::uint64_t RoomWhenReclaimed(const MemoryBudget& budget) {
  const std::uint64_t kept = budget.used_bytes - std::min(budget.used_bytes, budget.reclaimable_bytes);
  return budget.limit_bytes > kept ? budget.limit_bytes - kept : 0;
}

const MemoryBudget* TooLittleToHold(std::uint64_t bytes, const std::vector<MemoryBudget>& budgets) {
  for (const MemoryBudget& b : budgets) {
    if (!b.may_swap && RoomWhenReclaimed(b) < bytes) return &b;
  }
  return nullptr;
}

const MemoryBudget* TooLittleBesideImage(std::uint64_t image_bytes, std::uint32_t memory_kib,
                                         const std::vector<MemoryBudget>& budgets, std::uint32_t* argon_kib) {
  const std::uint32_t floor_kib = ArgonMemoryFloor(memory_kib);
  const MemoryBudget* limiting = nullptr;
  *argon_kib = ArgonMemoryWithin(memory_kib, budgets, &limiting);
  if (*argon_kib < floor_kib) return nullptr;
  std::vector<MemoryBudget> filled = budgets;
  for (MemoryBudget& b : filled)
    b.used_bytes = b.used_bytes > UINT64_MAX - image_bytes ? UINT64_MAX : b.used_bytes + image_bytes;
  *argon_kib = ArgonMemoryWithin(memory_kib, filled, &limiting);
  if (*argon_kib >= floor_kib || !limiting) return nullptr;
  return &budgets[static_cast<size_t>(limiting - filled.data())];
}

const MemoryBudget* TooLittleToOpen(std::uint32_t memory_kib, const std::vector<MemoryBudget>& budgets) {
  return TooLittleToHold(std::uint64_t{memory_kib} * 1024, budgets);
}

std::uint32_t ArgonMemoryFloor(std::uint32_t wanted_kib) { return std::min(wanted_kib, kFloorKib); }

}  // namespace tazpod::vault
