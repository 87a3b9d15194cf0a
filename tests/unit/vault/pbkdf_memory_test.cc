#include "vault/pbkdf_memory.h"

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using tazpod::vault::ArgonMemoryFloor;
using tazpod::vault::ArgonMemoryWithin;
using tazpod::vault::CgroupMemoryBudget;
using tazpod::vault::MemoryBudget;

namespace {

// A stand-in for the file systems under /, removed at the end.
class FakeRoot {
 public:
  FakeRoot() {
    char dir[] = "/tmp/tazpod-cgroup-XXXXXX";
    root_ = mkdtemp(dir);
  }
  ~FakeRoot() { std::filesystem::remove_all(root_); }
  void Write(const std::string& file, const std::string& text) {
    const std::filesystem::path path = root_ + file;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text << "\n";
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

constexpr const char* kV2Mount = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

std::uint64_t LimitOf(const std::optional<MemoryBudget>& b) { return b ? b->limit_bytes : 0; }

}  // namespace

TEST_CASE("pbkdf memory: cgroup v2, the level with the least room among the cgroup and its ancestors") {
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/pod/memory.max", "536870912");      // 512 MiB
  fs.Write("/sys/fs/cgroup/pod/memory.current", "104857600");  // 100 MiB used
  fs.Write("/sys/fs/cgroup/pod/ctr/memory.max", "max");
  auto b = CgroupMemoryBudget("0::/pod/ctr\n", kV2Mount, fs.root());
  CHECK(LimitOf(b) == 536870912U);
  CHECK(b->used_bytes == 104857600U);
  // A tighter limit below, with more room left, loses to the one with less.
  fs.Write("/sys/fs/cgroup/pod/ctr/memory.max", "805306368");  // 768 MiB, nothing used
  CHECK(LimitOf(CgroupMemoryBudget("0::/pod/ctr\n", kV2Mount, fs.root())) == 536870912U);
  fs.Write("/sys/fs/cgroup/pod/ctr/memory.max", "268435456");  // 256 MiB
  CHECK(LimitOf(CgroupMemoryBudget("0::/pod/ctr\n", kV2Mount, fs.root())) == 268435456U);
}

TEST_CASE("pbkdf memory: inside a cgroup namespace, or a mount of the container's own cgroup") {
  FakeRoot ns;
  ns.Write("/sys/fs/cgroup/memory.max", "134217728");
  CHECK(LimitOf(CgroupMemoryBudget("0::/\n", kV2Mount, ns.root())) == 134217728U);
  // The host's namespace, with only the container's cgroup mounted (the
  // mount's root is that cgroup).
  FakeRoot bound;
  bound.Write("/sys/fs/cgroup/memory.max", "134217728");
  const std::string mount = "30 23 0:26 /system.slice/docker-1.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n";
  CHECK(LimitOf(CgroupMemoryBudget("0::/system.slice/docker-1.scope\n", mount, bound.root())) == 134217728U);
  // Outside the namespace's root: nothing above is read.
  CHECK_FALSE(CgroupMemoryBudget("0::/../other\n", kV2Mount, ns.root()).has_value());
}

TEST_CASE("pbkdf memory: no limit, no cgroup mount, nothing readable, or a malformed file is no budget") {
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/memory.max", "max");
  CHECK_FALSE(CgroupMemoryBudget("0::/\n", kV2Mount, fs.root()).has_value());
  CHECK_FALSE(CgroupMemoryBudget("0::/not/there\n", kV2Mount, fs.root()).has_value());
  CHECK_FALSE(CgroupMemoryBudget("0::/\n", "", fs.root()).has_value());
  CHECK_FALSE(CgroupMemoryBudget("", kV2Mount, fs.root()).has_value());
  CHECK_FALSE(CgroupMemoryBudget("garbage\n", kV2Mount, fs.root()).has_value());
  fs.Write("/sys/fs/cgroup/x/memory.max", "12abc");
  CHECK_FALSE(CgroupMemoryBudget("0::/x\n", kV2Mount, fs.root()).has_value());
}

TEST_CASE("pbkdf memory: cgroup v1's memory controller, mounted alone or with others") {
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712");  // v1's "no limit"
  fs.Write("/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "1073741824");
  fs.Write("/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1048576");
  const std::string mounts = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                             "41 30 0:36 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n";
  const std::string self = "12:cpuset:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n";
  auto b = CgroupMemoryBudget(self, mounts, fs.root());
  CHECK(LimitOf(b) == 1073741824U);
  CHECK(b->used_bytes == 1048576U);
  CHECK_FALSE(CgroupMemoryBudget("4:memory:/\n", mounts, fs.root()).has_value());
  // Controllers mounted together, in a directory of both names.
  FakeRoot both;
  both.Write("/sys/fs/cgroup/cpu,memory/docker/abc/memory.limit_in_bytes", "1073741824");
  const std::string together = "40 30 0:35 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,cpu,memory\n";
  CHECK(LimitOf(CgroupMemoryBudget("4:cpu,memory:/docker/abc\n", together, both.root())) == 1073741824U);
}

TEST_CASE("pbkdf memory: argon2 takes at most half the limit and the room left less 16 MiB") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  CHECK(ArgonMemoryWithin(1048576, std::nullopt) == 1048576U);
  CHECK(ArgonMemoryWithin(1048576, MemoryBudget{4096 * MiB, 0}) == 1048576U);          // room for 1 GiB
  CHECK(ArgonMemoryWithin(1048576, MemoryBudget{512 * MiB, 0}) == 262144U);            // half: 256 MiB
  CHECK(ArgonMemoryWithin(1048576, MemoryBudget{512 * MiB, 256 * MiB}) == 245760U);    // 240 MiB left
  CHECK(ArgonMemoryWithin(65536, MemoryBudget{512 * MiB, 0}) == 65536U);               // already below
  CHECK(ArgonMemoryWithin(1048576, MemoryBudget{512 * MiB, 600 * MiB}) == 0U);         // over the limit
  CHECK(ArgonMemoryWithin(16, MemoryBudget{512 * MiB, 0}) == 16U);                     // never raised
  // The floor: 64 MiB, or the configured cost when less.
  CHECK(ArgonMemoryFloor(1048576) == 65536U);
  CHECK(ArgonMemoryFloor(1024) == 1024U);
}
