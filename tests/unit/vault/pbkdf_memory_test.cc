#include "vault/pbkdf_memory.h"

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using tazpod::vault::ArgonMemoryFloor;
using tazpod::vault::ArgonMemoryWithin;
using tazpod::vault::CgroupMemoryBudgets;
using tazpod::vault::MemoryBudget;
using tazpod::vault::TooLittleBesideImage;
using tazpod::vault::TooLittleToHold;
using tazpod::vault::TooLittleToOpen;

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

// The cap that `budgets` put on 1 GiB, in KiB.
std::uint32_t CapOf(const std::vector<MemoryBudget>& budgets) {
  const MemoryBudget* limiting = nullptr;
  return ArgonMemoryWithin(1048576, budgets, &limiting);
}

// The tightest limit among the budgets, or 0.
std::uint64_t LimitOf(const std::vector<MemoryBudget>& budgets) {
  std::uint64_t least = 0;
  for (const MemoryBudget& b : budgets) least = least == 0 ? b.limit_bytes : std::min(least, b.limit_bytes);
  return least;
}

}  // namespace

TEST_CASE("pbkdf memory: cgroup v2, every level with a limit caps, the cache the kernel would reclaim is free") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/pod/memory.max", std::to_string(512 * MiB));
  fs.Write("/sys/fs/cgroup/pod/memory.current", std::to_string(300 * MiB));
  fs.Write("/sys/fs/cgroup/pod/memory.stat", "anon 1000\nfile 9999\ninactive_file " + std::to_string(200 * MiB) + "\n");
  fs.Write("/sys/fs/cgroup/pod/ctr/memory.max", "max");
  auto budgets = CgroupMemoryBudgets("0::/pod/ctr\n", kV2Mount, fs.root());
  REQUIRE(budgets.size() == 1);
  CHECK(budgets[0].limit_bytes == 512 * MiB);
  CHECK(budgets[0].used_bytes == 100 * MiB);  // 300 in use, 200 of it inactive file cache
  CHECK(CapOf(budgets) == 256 * 1024);         // half of 512 MiB: 396 MiB are free
  // A tighter limit below, nothing used there: it caps at half its own.
  fs.Write("/sys/fs/cgroup/pod/ctr/memory.max", std::to_string(120 * MiB));
  budgets = CgroupMemoryBudgets("0::/pod/ctr\n", kV2Mount, fs.root());
  CHECK(budgets.size() == 2);
  CHECK(CapOf(budgets) == 60 * 1024);
}

TEST_CASE("pbkdf memory: inside a cgroup namespace, or a mount of the container's own cgroup") {
  FakeRoot ns;
  ns.Write("/sys/fs/cgroup/memory.max", "134217728");
  CHECK(LimitOf(CgroupMemoryBudgets("0::/\n", kV2Mount, ns.root())) == 134217728U);
  // The host's namespace, with only the container's cgroup mounted (the
  // mount's root is that cgroup).
  FakeRoot bound;
  bound.Write("/sys/fs/cgroup/memory.max", "134217728");
  const std::string mount = "30 23 0:26 /system.slice/docker-1.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n";
  CHECK(LimitOf(CgroupMemoryBudgets("0::/system.slice/docker-1.scope\n", mount, bound.root())) == 134217728U);
  // Outside the namespace's root: nothing above is read.
  CHECK(CgroupMemoryBudgets("0::/../other\n", kV2Mount, ns.root()).empty());
}

TEST_CASE("pbkdf memory: no limit, no cgroup mount, nothing readable, or a malformed file is no budget") {
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/memory.max", "max");
  CHECK(CgroupMemoryBudgets("0::/\n", kV2Mount, fs.root()).empty());
  CHECK(CgroupMemoryBudgets("0::/not/there\n", kV2Mount, fs.root()).empty());
  CHECK(CgroupMemoryBudgets("0::/\n", "", fs.root()).empty());
  CHECK(CgroupMemoryBudgets("", kV2Mount, fs.root()).empty());
  CHECK(CgroupMemoryBudgets("garbage\n", kV2Mount, fs.root()).empty());
  fs.Write("/sys/fs/cgroup/x/memory.max", "12abc");
  CHECK(CgroupMemoryBudgets("0::/x\n", kV2Mount, fs.root()).empty());
}

TEST_CASE("pbkdf memory: cgroup v1's memory controller, mounted alone or with others") {
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712");  // v1's "no limit"
  fs.Write("/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "1073741824");
  fs.Write("/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1048576");
  const std::string mounts = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                             "41 30 0:36 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n";
  const std::string self = "12:cpuset:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n";
  auto b = CgroupMemoryBudgets(self, mounts, fs.root());
  REQUIRE(b.size() == 1);
  CHECK(b[0].limit_bytes == 1073741824U);
  CHECK(b[0].used_bytes == 1048576U);
  CHECK(CgroupMemoryBudgets("4:memory:/\n", mounts, fs.root()).empty());
  // Controllers mounted together, in a directory of both names.
  FakeRoot both;
  both.Write("/sys/fs/cgroup/cpu,memory/docker/abc/memory.limit_in_bytes", "1073741824");
  const std::string together = "40 30 0:35 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,cpu,memory\n";
  CHECK(LimitOf(CgroupMemoryBudgets("4:cpu,memory:/docker/abc\n", together, both.root())) == 1073741824U);
}

TEST_CASE("pbkdf memory: argon2 takes at most half the limit and the room left less 16 MiB") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  const auto within = [](std::uint32_t wanted, const std::vector<MemoryBudget>& budgets) {
    const MemoryBudget* limiting = nullptr;
    return ArgonMemoryWithin(wanted, budgets, &limiting);
  };
  CHECK(within(1048576, {}) == 1048576U);
  CHECK(within(1048576, {{4096 * MiB, 0}}) == 1048576U);          // room for 1 GiB
  CHECK(within(1048576, {{512 * MiB, 0}}) == 262144U);            // half: 256 MiB
  CHECK(within(1048576, {{512 * MiB, 256 * MiB}}) == 245760U);    // 240 MiB left
  CHECK(within(65536, {{512 * MiB, 0}}) == 65536U);               // already below
  CHECK(within(1048576, {{512 * MiB, 600 * MiB}}) == 0U);         // over the limit
  CHECK(within(1048576, {{512 * MiB, UINT64_MAX}}) == 0U);        // no wrap past the top
  CHECK(within(16, {{512 * MiB, 0}}) == 16U);                     // never raised
  CHECK(within(1048576, {{4096 * MiB, 0}, {512 * MiB, 0}}) == 262144U);  // the tightest level
  const MemoryBudget* limiting = nullptr;
  const std::vector<MemoryBudget> none_tight = {{4096 * MiB, 0}};
  ArgonMemoryWithin(1048576, none_tight, &limiting);
  CHECK(limiting == nullptr);
  // The floor: 64 MiB, or the configured cost when less.
  CHECK(ArgonMemoryFloor(1048576) == 65536U);
  CHECK(ArgonMemoryFloor(1024) == 1024U);
}

TEST_CASE("pbkdf memory: a mount point with an escaped space, and the mount showing the most ancestors") {
  FakeRoot fs;
  fs.Write("/cg roups/pod/memory.max", "134217728");
  fs.Write("/sub/memory.max", "max");
  const std::string mounts = "30 23 0:26 /pod /sub rw - cgroup2 cgroup2 rw\n"
                             "31 23 0:26 / /cg\\040roups rw - cgroup2 cgroup2 rw\n";
  CHECK(LimitOf(CgroupMemoryBudgets("0::/pod\n", mounts, fs.root())) == 134217728U);
}

TEST_CASE("pbkdf memory: what the kernel may reclaim, and whether the cgroup may swap") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/pod/memory.max", std::to_string(512 * MiB));
  fs.Write("/sys/fs/cgroup/pod/memory.current", std::to_string(300 * MiB));
  fs.Write("/sys/fs/cgroup/pod/memory.stat", "anon 1\ninactive_file " + std::to_string(100 * MiB) +
                                                 "\nactive_file " + std::to_string(50 * MiB) +
                                                 "\nslab_reclaimable " + std::to_string(10 * MiB) + "\n");
  auto b = CgroupMemoryBudgets("0::/pod\n", kV2Mount, fs.root());
  REQUIRE(b.size() == 1);
  CHECK(b[0].used_bytes == 200 * MiB);
  CHECK(b[0].reclaimable_bytes == 60 * MiB);
  CHECK_FALSE(b[0].may_swap);  // no /proc/swaps: no swap
  fs.Write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1048572 0 -2");
  CHECK(CgroupMemoryBudgets("0::/pod\n", kV2Mount, fs.root())[0].may_swap);
  // A swap.max of 0 at this level or any above forbids it; "max" does not.
  fs.Write("/sys/fs/cgroup/pod/memory.swap.max", "max");
  fs.Write("/sys/fs/cgroup/memory.swap.max", "0");
  CHECK_FALSE(CgroupMemoryBudgets("0::/pod\n", kV2Mount, fs.root())[0].may_swap);
  fs.Write("/sys/fs/cgroup/memory.swap.max", "max");
  CHECK(CgroupMemoryBudgets("0::/pod\n", kV2Mount, fs.root())[0].may_swap);
  // Swap headers alone are no swap.
  FakeRoot header_only;
  header_only.Write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority");
  header_only.Write("/sys/fs/cgroup/memory.max", "134217728");
  CHECK_FALSE(CgroupMemoryBudgets("0::/\n", kV2Mount, header_only.root())[0].may_swap);
  // v1: a memory+swap limit equal to the memory limit forbids swap.
  FakeRoot v1;
  v1.Write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/sda2 partition 1048572 0 -2");
  v1.Write("/sys/fs/cgroup/memory/ctr/memory.limit_in_bytes", "134217728");
  v1.Write("/sys/fs/cgroup/memory/ctr/memory.memsw.limit_in_bytes", "134217728");
  v1.Write("/sys/fs/cgroup/memory/ctr/memory.stat", "total_inactive_file 0\ntotal_active_file 4096\n");
  const std::string v1_mount = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  b = CgroupMemoryBudgets("4:memory:/ctr\n", v1_mount, v1.root());
  REQUIRE(b.size() == 1);
  CHECK_FALSE(b[0].may_swap);
  v1.Write("/sys/fs/cgroup/memory/ctr/memory.memsw.limit_in_bytes", "268435456");
  CHECK(CgroupMemoryBudgets("4:memory:/ctr\n", v1_mount, v1.root())[0].may_swap);
  // A v1 ancestor whose memory+swap limit equals its memory limit walls
  // itself off, not the cgroup below: the child may still swap within the
  // ancestor's total.
  v1.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "4294967296");
  v1.Write("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "4294967296");
  b = CgroupMemoryBudgets("4:memory:/ctr\n", v1_mount, v1.root());
  REQUIRE(b.size() == 2);
  CHECK(b[0].may_swap);        // ctr
  CHECK_FALSE(b[1].may_swap);  // the ancestor
}

TEST_CASE("pbkdf memory: v1 counts its kernel memory as reclaimable, having no slab figure to tell") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  FakeRoot fs;
  fs.Write("/sys/fs/cgroup/memory/ctr/memory.limit_in_bytes", std::to_string(512 * MiB));
  fs.Write("/sys/fs/cgroup/memory/ctr/memory.usage_in_bytes", std::to_string(300 * MiB));
  fs.Write("/sys/fs/cgroup/memory/ctr/memory.kmem.usage_in_bytes", std::to_string(150 * MiB));
  fs.Write("/sys/fs/cgroup/memory/ctr/memory.stat", "total_inactive_file " + std::to_string(20 * MiB) +
                                                        "\ntotal_active_file " + std::to_string(30 * MiB) + "\n");
  const std::string v1_mount = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  auto b = CgroupMemoryBudgets("4:memory:/ctr\n", v1_mount, fs.root());
  REQUIRE(b.size() == 1);
  CHECK(b[0].used_bytes == 280 * MiB);
  CHECK(b[0].reclaimable_bytes == 180 * MiB);  // active file cache and kernel memory
  CHECK(tazpod::vault::RoomWhenReclaimed(b[0]) == 412 * MiB);
  CHECK(TooLittleToOpen(400 * 1024, b) == nullptr);
}

TEST_CASE("pbkdf memory: a keyslot is out of reach when the limit less what cannot be reclaimed is smaller") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  constexpr std::uint32_t k1GiB = 1048576;  // KiB
  CHECK(TooLittleToOpen(k1GiB, {}) == nullptr);
  const std::vector<MemoryBudget> small = {{512 * MiB, 0, 0, false}};
  CHECK(TooLittleToOpen(k1GiB, small) == &small[0]);
  CHECK(TooLittleToOpen(256 * 1024, small) == nullptr);
  // 400 MiB in use, 300 of it reclaimable: 100 MiB kept, 412 MiB left.
  const std::vector<MemoryBudget> busy = {{512 * MiB, 400 * MiB, 300 * MiB, false}};
  CHECK(TooLittleToOpen(412 * 1024, busy) == nullptr);
  CHECK(TooLittleToOpen(413 * 1024, busy) == &busy[0]);
  // Swap makes a limit no wall; the tightest level without it decides.
  const std::vector<MemoryBudget> swapping = {{512 * MiB, 0, 0, true}};
  CHECK(TooLittleToOpen(k1GiB, swapping) == nullptr);
  const std::vector<MemoryBudget> levels = {{4096 * MiB, 0, 0, false}, {512 * MiB, 0, 0, false}};
  CHECK(TooLittleToOpen(k1GiB, levels) == &levels[1]);
}

TEST_CASE("pbkdf memory: an image fits when the limit less what cannot be reclaimed holds it") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  CHECK(TooLittleToHold(1024 * MiB, {}) == nullptr);
  // 400 MiB in use, 300 of it reclaimable: 100 MiB kept, 412 MiB left.
  const std::vector<MemoryBudget> busy = {{512 * MiB, 400 * MiB, 300 * MiB, false}};
  CHECK(TooLittleToHold(412 * MiB, busy) == nullptr);
  CHECK(TooLittleToHold(412 * MiB + 1, busy) == &busy[0]);
  // Usage above the limit (a limit lowered under a running container).
  const std::vector<MemoryBudget> over = {{256 * MiB, 300 * MiB, 0, false}};
  CHECK(TooLittleToHold(1, over) == &over[0]);
  const std::vector<MemoryBudget> swapping = {{128 * MiB, 0, 0, true}};
  CHECK(TooLittleToHold(1024 * MiB, swapping) == nullptr);
}

// The reviewer's case: a 320 MiB limit, 20 MiB in use, the default 255 MiB
// image. It fits (TooLittleToHold), but once it is in use argon2 would get
// 320 - 20 - 255 - 16 = 29 MiB, below the 64 MiB floor of a 1 GiB cost.
TEST_CASE("pbkdf memory: an image that would starve the keyslot made after it is told apart") {
  constexpr std::uint64_t MiB = 1ULL << 20;
  constexpr std::uint32_t k1GiB = 1024 * 1024;
  const std::vector<MemoryBudget> tight = {{4096 * MiB, 0, 0, false}, {320 * MiB, 20 * MiB, 0, false}};
  std::uint32_t argon_kib = 0;
  CHECK(TooLittleToHold(271 * MiB, tight) == nullptr);
  CHECK(TooLittleBesideImage(255 * MiB, k1GiB, tight, &argon_kib) == &tight[1]);
  CHECK(argon_kib == 29 * 1024);
  // A 200 MiB image leaves 84 MiB: capped, but above the floor.
  CHECK(TooLittleBesideImage(200 * MiB, k1GiB, tight, &argon_kib) == nullptr);
  CHECK(argon_kib == 84 * 1024);
  // A small cost has a small floor: 1 MiB fits beside the 255 MiB image.
  CHECK(TooLittleBesideImage(255 * MiB, 1024, tight, &argon_kib) == nullptr);
  // Under 128 MiB the half-limit rule alone starves argon2: not the
  // image's doing, so left to the keyslot's own refusal.
  const std::vector<MemoryBudget> small = {{100 * MiB, 0, 0, false}};
  CHECK(TooLittleBesideImage(60 * MiB, k1GiB, small, &argon_kib) == nullptr);
  // An image the size of the address space fills every budget to the top,
  // leaving nothing: no sum wraps round to room.
  CHECK(TooLittleBesideImage(UINT64_MAX - 8 * MiB, k1GiB, tight, &argon_kib) == &tight[0]);
  CHECK(argon_kib == 0);
  // No limit: nothing starves.
  CHECK(TooLittleBesideImage(255 * MiB, k1GiB, {}, &argon_kib) == nullptr);
  CHECK(argon_kib == k1GiB);
}
