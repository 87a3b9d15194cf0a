// How much memory argon2 may take when a keyslot is made, in a container,
// and whether a RAM-mode image fits in it at all.
//
// libcryptsetup caps argon2's memory at half of the machine's RAM, but a
// container's limit is its cgroup's, often far below: a first unlock or a
// passphrase change with the default 1 GiB in a container limited to
// 512 MiB is killed by the out-of-memory killer half way through, with
// nothing to say why. So a new keyslot's memory is also kept within the
// cgroup's limit: at most half of it, and at most what is not in use below
// it (a RAM-mode enclave's image counts), less a margin for the work after
// (mkfs). The helper says when it caps, and refuses a keyslot the cap would
// leave weaker than ArgonMemoryFloor.
//
// Opening a keyslot takes the memory it was made with (a vault made in a
// larger container, or by cryptsetup), which is not ours to change. A
// keyslot that cannot fit even with every reclaimable page taken back is
// not tried: its derivation would be killed half way through, and with it
// the helper. The helper says which keyslot needs what instead.
//
// Only limits the container can see count: its own cgroup's and those of
// its ancestors inside its cgroup namespace (a pod-level limit above it is
// not visible, but a container's is set below it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tazpod::vault {

// A memory limit of a cgroup, and what that cgroup has in use: its usage
// less the file cache the kernel would reclaim first (inactive_file, as
// kubelet counts a working set).
struct MemoryBudget {
  std::uint64_t limit_bytes = 0;
  std::uint64_t used_bytes = 0;
  // Of used_bytes, what the kernel takes back too when it must: the active
  // file cache, and reclaimable slab (v2) or all kernel memory (v1, which
  // does not tell them apart).
  std::uint64_t reclaimable_bytes = 0;
  // Whether swap may relieve this limit (the machine has swap, and no swap
  // limit forbids it): then the limit is not a wall.
  bool may_swap = false;
};

// The budget of every cgroup with a memory limit among the one
// `proc_self_cgroup` (the text of /proc/self/cgroup) names and its
// ancestors (cgroup v2 memory.max, memory.current and memory.stat; v1
// memory.limit_in_bytes, memory.usage_in_bytes and memory.stat), found
// through the cgroup mounts `mountinfo` (the text of /proc/self/mountinfo)
// lists, under `root` (empty but in tests; /proc/swaps is read there too).
// Empty when none has a limit or none can be read.
std::vector<MemoryBudget> CgroupMemoryBudgets(const std::string& proc_self_cgroup, const std::string& mountinfo,
                                             const std::string& root = "");

// The same for the calling process.
std::vector<MemoryBudget> OwnCgroupMemoryBudgets();

// `wanted_kib`, or less: for every budget, at most half its limit and at
// most the room left under it less 16 MiB. *limiting is the budget that
// set the cap, or null when nothing did.
std::uint32_t ArgonMemoryWithin(std::uint32_t wanted_kib, const std::vector<MemoryBudget>& budgets,
                                const MemoryBudget** limiting);

// The most argon2 can take under `budget` once the kernel has reclaimed
// all it can: the limit less what is in use and cannot be reclaimed.
std::uint64_t RoomWhenReclaimed(const MemoryBudget& budget);

// The budget under which `bytes` more of memory the kernel cannot take
// back (argon2's, a RAM-mode image's tmpfs pages) do not fit at all: it
// may not swap, and its RoomWhenReclaimed is smaller. Null when there is
// none.
const MemoryBudget* TooLittleToHold(std::uint64_t bytes, const std::vector<MemoryBudget>& budgets);

// The budget under which a RAM-mode image of `image_bytes`, once in use,
// would leave argon2 less than ArgonMemoryFloor(memory_kib) for a keyslot
// made after it, as ArgonMemoryWithin will count then; *argon_kib is what
// it would get. Null when none, or when even no image would leave enough:
// then the image is not the cause.
const MemoryBudget* TooLittleBesideImage(std::uint64_t image_bytes, std::uint32_t memory_kib,
                                         const std::vector<MemoryBudget>& budgets, std::uint32_t* argon_kib);

// TooLittleToHold for argon2 opening a keyslot made with `memory_kib` KiB.
const MemoryBudget* TooLittleToOpen(std::uint32_t memory_kib, const std::vector<MemoryBudget>& budgets);

// The least a capped keyslot may get: 64 MiB, or the configured cost when
// that is less. Below it the keyslot is refused rather than made weak.
std::uint32_t ArgonMemoryFloor(std::uint32_t wanted_kib);

}  // namespace tazpod::vault
