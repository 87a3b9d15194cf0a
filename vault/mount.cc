#include "vault/mount.h"

#include <fcntl.h>
#include <libmount/libmount.h>
#include <linux/stat.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace tazpod::vault {

namespace {

struct ContextFree {
  void operator()(libmnt_context* c) const { mnt_free_context(c); }
};
struct TableUnref {
  void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};
using Context = std::unique_ptr<libmnt_context, ContextFree>;
using Table = std::unique_ptr<libmnt_table, TableUnref>;

Context NewContext() {
  Context cxt(mnt_new_context());
  if (cxt) {
    // No /sbin/mount.* helpers (nothing outside our control runs as root
    // here) and no /etc/mtab writes (a container's may be anything).
    mnt_context_disable_helpers(cxt.get(), 1);
    mnt_context_disable_mtab(cxt.get(), 1);
  }
  return cxt;
}

std::string SyscallError(libmnt_context* cxt, const char* what, const std::string& path) {
  int err = mnt_context_get_syscall_errno(cxt);
  return std::string(what) + " " + path + ": " + (err ? std::strerror(err) : "failed");
}

// `target` is what mount(2) gets; `shown` names it in errors.
VaultStatus Mount(const std::string& source, const std::string& target, const std::string& shown,
                  const std::string& fstype, const std::string& options, bool canonicalize, const char* step) {
  Context cxt = NewContext();
  if (!cxt) return SystemError(step, "mnt_new_context failed");
  if (!canonicalize) mnt_context_disable_canonicalize(cxt.get(), 1);
  mnt_context_set_source(cxt.get(), source.c_str());
  mnt_context_set_target(cxt.get(), target.c_str());
  mnt_context_set_fstype(cxt.get(), fstype.c_str());
  mnt_context_set_options(cxt.get(), options.c_str());
  int rc = mnt_context_mount(cxt.get());
  if (rc != 0 || mnt_context_get_status(cxt.get()) != 1) {
    if (mnt_context_syscall_called(cxt.get())) return SystemError(step, SyscallError(cxt.get(), "mount", shown));
    return SystemError(step, "mount " + shown + ": libmount error " + std::to_string(rc));
  }
  return std::nullopt;
}

// How many times a mount that moved is looked for again. A user renaming
// the mount point back and forth in a tight loop makes about every other
// look miss, and an unmount try after a hit missed about a third of the
// time (measured: host test `mount: an unmount finds its mount again…`,
// at most 9 tries in 1,000 unmounts); 32 misses in a row are out of reach,
// and cost a few ms.
constexpr int kLooksWhileMoving = 32;

// `path` split into its directory, opened, and its last name, when that
// name is the root of a mount of the file system on `dev`.
MountLocation LocateIfMountOf(const std::string& path, dev_t dev) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size()) return {};
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  MountLocation where{UniqueFd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), path.substr(slash + 1), path,
                      dev};
  if (!where) return {};
  struct statx stx;
  if (statx(where.parent.get(), where.name.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) != 0 ||
      !S_ISDIR(stx.stx_mode) || makedev(stx.stx_dev_major, stx.stx_dev_minor) != dev)
    return {};
  // Before Linux 5.8 the attribute is unknown: umount(2) itself then
  // refuses what is not the root of a mount.
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) return {};
  return where;
}

// What one look for a mount found.
enum class Look {
  kFound,      // `*found` is the mount
  kNotListed,  // the table lists no mount of the device here
  kMissed,     // listed, but it moved before the look (or the table is unreadable)
};

// One look for the mount of `dev`: at `expected`, then where the mount
// table says it is.
Look LookForMount(dev_t dev, const std::string& expected, MountLocation* found) {
  if ((*found = LocateIfMountOf(expected, dev))) return Look::kFound;
  Table table(mnt_new_table_from_file("/proc/self/mountinfo"));
  if (!table) return Look::kMissed;
  libmnt_fs* fs = mnt_table_find_devno(table.get(), dev, MNT_ITER_BACKWARD);
  if (!fs) return Look::kNotListed;
  const char* target = mnt_fs_get_target(fs);
  if (target && (*found = LocateIfMountOf(target, dev))) return Look::kFound;
  return Look::kMissed;
}

}  // namespace

MountLocation FindMountOf(dev_t dev, const std::string& expected) {
  // It may move again between the table and the look, so more tries (a
  // user who renames it in a loop only delays their own lock).
  MountLocation where;
  for (int attempt = 0; attempt < kLooksWhileMoving; ++attempt) {
    if (LookForMount(dev, expected, &where) != Look::kMissed) break;
  }
  return where;
}

namespace {

// umount(2) of `where`'s name in its directory; 0 or the errno.
int UnmountOnce(const MountLocation& where, std::string* error) {
  // umount(2) takes no directory descriptor: the directory becomes the
  // working directory for a moment (the helper is single-threaded), then
  // "/" again, where the helper works (init's, which it inherits).
  if (fchdir(where.parent.get()) != 0) {
    const int err = errno;
    *error = "chdir to unmount " + where.path + ": " + std::strerror(err);
    return err;
  }
  const int rc = umount2(where.name.c_str(), UMOUNT_NOFOLLOW);
  const int err = rc == 0 ? 0 : errno;
  if (chdir("/") != 0 && rc == 0) {
    const int chdir_err = errno;
    *error = std::string("chdir /: ") + std::strerror(chdir_err);
    return chdir_err;
  }
  if (err != 0) *error = "umount " + where.path + ": " + std::strerror(err);
  return err;
}

}  // namespace

VaultStatus UnmountAt(const MountLocation& where, const char* step) {
  MountLocation moved;
  const MountLocation* at = &where;
  std::string error;
  for (int attempt = 0;; ++attempt) {
    const int err = UnmountOnce(*at, &error);
    if (err == 0) return std::nullopt;
    if (err == EBUSY) return VaultError{ErrorKind::kBusy, step, "umount " + at->path + ": still in use"};
    if ((err != ENOENT && err != EINVAL) || at->dev == 0 || attempt == kLooksWhileMoving) break;
    // One look per try, so a renamer costs at most kLooksWhileMoving looks.
    MountLocation found;
    switch (LookForMount(at->dev, at->path, &found)) {
      case Look::kFound:
        moved = std::move(found);
        at = &moved;
        break;
      case Look::kNotListed:
        // Its mount point was removed in the user's namespace: the kernel
        // detached the mount, and nothing is left to unmount here (what
        // still holds the file system is the mapping's to end).
        return std::nullopt;
      case Look::kMissed:  // it moved again; the next try looks again
        break;
    }
  }
  return SystemError(step, error);
}

VaultStatus MountFs(const std::string& source, const std::string& target, const std::string& fstype,
                    const std::string& options, const char* step) {
  return Mount(source, target, target, fstype, options, /*canonicalize=*/true, step);
}

VaultStatus MountFsAt(const std::string& source, int target_dir, const std::string& shown, const std::string& fstype,
                      const std::string& options, const char* step) {
  // The kernel resolves /proc/self/fd/N to the directory itself; libmount
  // must not turn it back into a path first (its canonicalization would).
  return Mount(source, "/proc/self/fd/" + std::to_string(target_dir), shown, fstype, options,
               /*canonicalize=*/false, step);
}

bool IsMountPoint(const std::string& path) { return !MountSource(path).empty(); }

std::string MountSource(const std::string& path) {
  Table table(mnt_new_table_from_file("/proc/self/mountinfo"));
  if (!table) return "";
  // The last entry for a target is the one on top.
  libmnt_fs* fs = mnt_table_find_target(table.get(), path.c_str(), MNT_ITER_BACKWARD);
  if (!fs) return "";
  const char* src = mnt_fs_get_srcpath(fs);
  if (!src) src = mnt_fs_get_source(fs);
  return src ? src : "none";
}

}  // namespace tazpod::vault
