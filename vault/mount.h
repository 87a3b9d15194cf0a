// Mounts through libmount: mount a file system, unmount it (never lazily),
// and ask the mount table.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/unique_fd.h"
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

// True when `path` is a mount point in this mount namespace.
bool IsMountPoint(const std::string& path);

// The source (device) mounted at `path`, or empty.
std::string MountSource(const std::string& path);

// Where, in this mount namespace, a file system is mounted: the directory
// that holds the mount point (an O_PATH descriptor) and the mount point's
// name in it.
struct MountLocation {
  UniqueFd parent;
  std::string name;
  std::string path;  // the whole path, for messages
  dev_t dev = 0;     // the file system mounted there
  explicit operator bool() const { return parent.valid(); }
};

// The mount, in this mount namespace, of the file system on device `dev`:
// at `expected` when it is mounted there, else wherever the mount table
// says it is. A user may rename or remove the mount point in another mount
// namespace, where it is an ordinary directory of theirs, and the kernel
// moves (or detaches) the mount here with it: a lock that looked only at
// `expected` would leave the file system, and its key, in the kernel.
// What is found is checked to be a mount root on `dev`, so a path swapped
// between the table and the look is not taken for it. Empty when the file
// system is not mounted here (a detached mount is in no table).
MountLocation FindMountOf(dev_t dev, const std::string& expected);

// umount(2) of the mount point `where.name`, looked up in `where.parent`
// without following a symbolic link: whoever owns the directories above it
// cannot swap one of them between FindMountOf and the unmount. Busy is
// reported as kBusy, never forced or lazy: a lazy unmount would leave the
// file system (and the key) alive. A name that is gone, or no longer a
// mount (ENOENT, EINVAL: the user renamed the mount point in their mount
// namespace between the look and the unmount), is looked for again, as
// FindMountOf does, one look per try and up to 32 tries, before it counts
// as a failure; one that this namespace no longer lists (its mount point
// removed there: the kernel detached it) counts as unmounted.
VaultStatus UnmountAt(const MountLocation& where, const char* step);

}  // namespace tazpod::vault
