// Mounts through libmount: mount a file system, unmount it (never lazily),
// and ask the mount table. MountGuard undoes a mount on an error path.
#pragma once

#include <string>

#include "vault/vault_error.h"

namespace tazpod::vault {

// mount(2) of `source` on `target`; `options` as for mount(8), e.g.
// "nosuid,nodev". No mount helpers are run and no mtab is written.
VaultStatus MountFs(const std::string& source, const std::string& target, const std::string& fstype,
                    const std::string& options, const char* step);

// The same on the directory `target_dir` (a descriptor, O_PATH will do)
// rather than on a path: for a mount point in a directory someone else
// owns, who could swap it for a symbolic link between a check and the
// mount. `shown` names the target in errors.
VaultStatus MountFsAt(const std::string& source, int target_dir, const std::string& shown, const std::string& fstype,
                      const std::string& options, const char* step);

// umount(2) of `target`. Busy is reported as kBusy, never forced or lazy:
// a lazy unmount would leave the file system (and the key) alive.
VaultStatus Unmount(const std::string& target, const char* step);

// True when `path` is a mount point in this mount namespace.
bool IsMountPoint(const std::string& path);

// The same answer from one statx(2) (STATX_ATTR_MOUNT_ROOT, Linux 5.8)
// instead of parsing the mount table, which costs milliseconds: the lock
// asks it on its critical path. Falls back to IsMountPoint() on a kernel
// that does not report the attribute.
bool IsMountPointFast(const std::string& path);

// The source (device) mounted at `path`, or empty.
std::string MountSource(const std::string& path);

// Unmounts `target` in its destructor unless Release()d.
class MountGuard {
 public:
  explicit MountGuard(std::string target) : target_(std::move(target)) {}
  ~MountGuard() {
    if (!target_.empty()) Unmount(target_, "rollback");
  }
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;
  void Release() { target_.clear(); }

 private:
  std::string target_;
};

}  // namespace tazpod::vault
