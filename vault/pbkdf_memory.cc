#include "vault/pbkdf_memory.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace tazpod::vault {

namespace {

// Values this large mean "no limit" (v1 writes 2^63 rounded down to a page).
constexpr std::uint64_t kUnlimited = 1ULL << 62;
constexpr std::uint32_t kArgonMinimumKib = 32;

// The number in `path`, or nullopt for "max", a missing file or anything else.
std::optional<std::uint64_t> ReadLimit(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value >= kUnlimited) return std::nullopt;
  return value;
}

// The tightest limit in `file` of `dir` and its parents up to `root`.
std::optional<std::uint64_t> TightestUpTo(const std::string& root, std::string dir, const std::string& file) {
  std::optional<std::uint64_t> tightest;
  for (;;) {
    std::string path = root;
    path += dir;
    if (dir.empty() || dir.back() != '/') path += '/';
    path += file;
    if (const auto limit = ReadLimit(path)) tightest = tightest ? std::min(*tightest, *limit) : *limit;
    if (dir.empty() || dir == "/") return tightest;
    dir.erase(dir.rfind('/'));
  }
}

}  // namespace

std::optional<std::uint64_t> CgroupMemoryLimit(const std::string& proc_self_cgroup, const std::string& cgroup_root) {
  std::optional<std::uint64_t> tightest;
  const auto take = [&](std::optional<std::uint64_t> limit) {
    if (limit) tightest = tightest ? std::min(*tightest, *limit) : *limit;
  };
  std::istringstream lines(proc_self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    // "ID:CONTROLLERS:PATH"; the path may itself hold colons.
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (path.empty() || path[0] != '/') continue;
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      take(TightestUpTo(cgroup_root, path, "memory.max"));  // v2
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == "memory") take(TightestUpTo(cgroup_root + "/memory", path, "memory.limit_in_bytes"));  // v1
    }
  }
  return tightest;
}

std::optional<std::uint64_t> OwnCgroupMemoryLimit() {
  std::ifstream in("/proc/self/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  return CgroupMemoryLimit(text.str(), "/sys/fs/cgroup");
}

std::uint32_t ArgonMemoryWithin(std::uint32_t wanted_kib, std::optional<std::uint64_t> limit_bytes) {
  if (!limit_bytes) return wanted_kib;
  const std::uint64_t half_kib = *limit_bytes / 2 / 1024;
  if (half_kib >= wanted_kib) return wanted_kib;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(half_kib, kArgonMinimumKib));
}

}  // namespace tazpod::vault
