// How much memory argon2 may take when a keyslot is made, in a container.
//
// libcryptsetup caps argon2's memory at half of the machine's RAM, but a
// container's limit is its cgroup's, often far below: a first unlock or a
// passphrase change with the default 1 GiB in a container limited to
// 512 MiB is killed by the out-of-memory killer half way through, with
// nothing to say why. So a new keyslot's memory is also capped at half the
// cgroup's memory limit, and the helper says so when it caps. (Opening a
// keyslot takes what it was made with; that is not ours to change.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tazpod::vault {

// The memory limit, in bytes, of the cgroup `proc_self_cgroup` (the text of
// /proc/self/cgroup) names, found under `cgroup_root` (/sys/fs/cgroup):
// the tightest of that cgroup's and its ancestors' (cgroup v2 memory.max,
// or v1 memory.limit_in_bytes). nullopt when none is set or readable.
std::optional<std::uint64_t> CgroupMemoryLimit(const std::string& proc_self_cgroup, const std::string& cgroup_root);

// The same for the calling process.
std::optional<std::uint64_t> OwnCgroupMemoryLimit();

// `wanted_kib`, or less: at most half of `limit_bytes` (when there is one),
// and never below argon2's 32 KiB.
std::uint32_t ArgonMemoryWithin(std::uint32_t wanted_kib, std::optional<std::uint64_t> limit_bytes);

}  // namespace tazpod::vault
