#include "vault/vault.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include "common/log.h"
#include "common/unique_fd.h"
#include "vault/crash_point.h"
#include "vault/holders.h"
#include "vault/hooks.h"
#include "vault/image_lock.h"
#include "vault/loop_device.h"
#include "vault/make_filesystem.h"
#include "vault/mount.h"
#include "vault/pbkdf_memory.h"
#include "vault/stale_mapping.h"

namespace tazpod::vault {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Runs `undo` in its destructor unless Release()d: how an unlock takes
// back a step it took, on every error path after it.
class Undo {
 public:
  explicit Undo(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~Undo() {
    if (undo_) undo_();
  }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  void Release() { undo_ = nullptr; }

 private:
  std::function<void()> undo_;
};

// A configured path must be what it says: a symlink could point the vault
// (or the enclave) anywhere.
VaultStatus RefuseSymlink(const std::string& path, const char* step) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return VaultError{ErrorKind::kInvalid, step, path + " is a symbolic link; configure the real path"};
  return std::nullopt;
}

// Opens the directory `path` (O_PATH) one component at a time, making what
// is missing: parents root's and 0755, the last with `mode`, owned by
// `uid`:`gid`. An existing directory is left as it is. No symbolic link is
// followed, anywhere on the path: a directory the user owns on the way (a
// configured ~/vaults/secrets, where the user may swap ~/vaults for a link
// to /etc) must not send the vault elsewhere, nor have a directory made
// and given to the user there; and a path through a link would not be the
// one the mount table shows, where the vault is looked for. Invalid
// descriptor and *error set on failure.
UniqueFd OpenOrMakeDirectory(const std::string& path, mode_t mode, uid_t uid, gid_t gid, const char* step,
                             VaultError* error) {
  if (path.empty() || path[0] != '/') {
    *error = VaultError{ErrorKind::kInvalid, step, "\"" + path + "\" is not an absolute path"};
    return UniqueFd();
  }
  UniqueFd dir(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    *error = SystemError(step, Errno("open /"));
    return UniqueFd();
  }
  size_t start = 1;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    const std::string name = path.substr(start, slash - start);
    const std::string so_far = path.substr(0, slash);
    start = slash + 1;
    if (name.empty() || name == ".") continue;
    const bool last = path.find_first_not_of('/', slash) == std::string::npos;
    constexpr int kFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    bool made = false;
    UniqueFd next(openat(dir.get(), name.c_str(), kFlags));
    if (!next && errno == ENOENT) {
      made = mkdirat(dir.get(), name.c_str(), last ? mode : 0755) == 0;
      if (!made && errno != EEXIST) {
        *error = SystemError(step, Errno("mkdir " + so_far));
        return UniqueFd();
      }
      next.Reset(openat(dir.get(), name.c_str(), kFlags));
    }
    if (!next && (errno == ENOTDIR || errno == ELOOP)) {
      struct stat st;
      const bool link = fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
      *error = VaultError{ErrorKind::kInvalid, step,
                          so_far + (link ? " is a symbolic link; configure the real path" : " is not a directory")};
      return UniqueFd();
    }
    if (!next) {
      *error = SystemError(step, Errno("open " + so_far));
      return UniqueFd();
    }
    // Through the descriptor: the directory it is in may be the user's
    // (~), who could put a link in its place between the mkdir and a chown
    // by path, and get the link's target (say /etc/shadow) given to them.
    if (made && last && fchownat(next.get(), "", uid, gid, AT_EMPTY_PATH) != 0) {
      *error = SystemError(step, Errno("chown " + so_far));
      return UniqueFd();
    }
    dir = std::move(next);
  }
  return dir;
}

// The new file system's root to the workstation user, and only to it (mode
// 0700), without lost+found: through a descriptor checked to be that root
// (inode 2 of the file system on `device`), never a path the user could
// have swapped since the mount.
VaultStatus GiveFsRootTo(const std::string& mountpoint, const std::string& device, uid_t uid, gid_t gid) {
  struct stat mapping {};
  if (stat(device.c_str(), &mapping) != 0) return SystemError("mount", Errno("stat " + device));
  UniqueFd root(open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return SystemError("mount", Errno("open " + mountpoint));
  struct stat st {};
  if (fstat(root.get(), &st) != 0) return SystemError("mount", Errno("fstat " + mountpoint));
  constexpr ino_t kExt4RootInode = 2;
  if (st.st_dev != mapping.st_rdev || st.st_ino != kExt4RootInode)
    return VaultError{ErrorKind::kInvalid, "mount", mountpoint + " was replaced during the unlock"};
  if (fchown(root.get(), uid, gid) != 0) return SystemError("mount", Errno("chown " + mountpoint));
  if (fchmod(root.get(), 0700) != 0) return SystemError("mount", Errno("chmod " + mountpoint));
  unlinkat(root.get(), "lost+found", AT_REMOVEDIR);
  // On the volume before the image takes the vault's name: the change sits
  // in ext4's journal for up to 5 s, and a host that crashed meanwhile
  // would come back with a vault whose root is root's for good.
  if (syncfs(root.get()) != 0) return SystemError("mount", Errno("syncfs " + mountpoint));
  return std::nullopt;
}

// Detaches the loop devices still backing `image`. The kernel's autoclear
// detach runs asynchronously after the last close (a killed helper, a removed
// mapping), so a device may still be listed for a moment: wait for it.
VaultStatus DetachLoopsOf(const std::string& image, const char* step) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<std::string> loops = LoopDevicesBacking(image);
    if (loops.empty()) return std::nullopt;
    for (const std::string& loop : loops) {
      if (auto e = DetachLoopDevice(loop)) {
        e->step = step;
        return e;
      }
    }
    usleep(20 * 1000);
  }
  return SystemError(step, "a loop device still backs " + image + " after 2 s");
}

// A new image is made under this name and renamed to its own only once it
// holds a LUKS2 header and a file system: a helper killed half way through
// the first unlock leaves this file, which recovery deletes, and never a
// `vault.img` that no passphrase can open.
std::string Creating(const std::string& image) { return image + ".creating"; }

// The refusal of a first unlock beside another container's (step
// "no_image": there is no vault here yet).
VaultError MadeElsewhere(const std::string& image) {
  return {ErrorKind::kBusy, "no_image",
          "another container is making the vault " + image + " right now; two must never use one image"};
}

// An image size no vault can be made in, refused before anything is made:
// too small for the LUKS2 header and a file system, or too large for a
// file's size (off_t) to hold. Step "image_size", as "image_memory" below:
// nothing was done, and the next attempt would meet the same.
VaultStatus RefuseImageSize(const VaultConfig& config) {
  const std::uint64_t bytes = config.ResolvedImageBytes();
  // The setting to change: the image's size when it is set; otherwise the
  // enclave's, of which it is made in RAM mode (persistent mode: set it).
  const bool set = config.image_bytes != 0;
  if (const std::uint64_t least = MinimumImageBytes(config.layout); bytes < least) {
    std::string advice = set ? (config.ram_mode ? "raise vault.image_size (and vault.enclave_size to hold it)"
                                                : "raise vault.image_size")
                             : (config.ram_mode ? "raise vault.enclave_size (the image is it less 1 MiB)"
                                                : "set vault.image_size");
    // Named only where a smaller keyslots area alone would do: the default
    // one is most of the 16 MiB header.
    if (MinimumImageBytes({config.layout.metadata_bytes, kTwoKeyslotsBytes}) <= bytes)
      advice += ", or lower vault.luks2_keyslots_size";
    return VaultError{ErrorKind::kInvalid, "image_size",
                      "a " + std::to_string(bytes) + "-byte image cannot hold a vault: it needs " +
                          std::to_string(least >> 20) + " MiB or more for LUKS2's header and a file system; " + advice};
  }
  if (bytes > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
    return VaultError{ErrorKind::kInvalid, "image_size",
                      "a " + std::to_string(bytes) + "-byte image is larger than any file can be; " +
                          (set ? "lower vault.image_size" : config.ram_mode ? "lower vault.enclave_size"
                                                                            : "set vault.image_size")};
  return std::nullopt;
}

// A RAM-mode image is memory the kernel cannot take back (tmpfs pages,
// without swap). An image the container's memory limit cannot hold would
// meet the out-of-memory killer half way through posix_fallocate, and the
// killer ends the container's largest process, likely the user's work,
// not the helper. So it is refused first, with room left for the work
// after it (the helper, mkfs). So is an image that would leave argon2 too
// little for the keyslot, made once the image is filled: it would be
// refused then (vault/pbkdf_memory.h), after the whole image was written,
// with advice to raise the limit where a smaller image would do. Step
// "image_memory" tells PID 1 that nothing was done.
VaultStatus RefuseImageBeyondMemory(std::uint64_t bytes, const PbkdfSettings& pbkdf) {
  constexpr std::uint64_t kWorkAfter = 16ULL << 20;
  const std::uint64_t need = bytes > UINT64_MAX - kWorkAfter ? UINT64_MAX : bytes + kWorkAfter;
  const std::vector<MemoryBudget> budgets = OwnCgroupMemoryBudgets();
  const std::string image_mib = bytes < (1ULL << 20) ? "sub-MiB" : std::to_string(bytes >> 20) + " MiB";
  if (const MemoryBudget* limiting = TooLittleToHold(need, budgets))
    return VaultError{ErrorKind::kInvalid, "image_memory",
                      "a " + image_mib + " image in the enclave needs " + std::to_string(need >> 20) +
                          " MiB of memory, and the container's limit of " +
                          std::to_string(limiting->limit_bytes >> 20) + " MiB leaves " +
                          std::to_string(RoomWhenReclaimed(*limiting) >> 20) +
                          " MiB: lower vault.image_size (or vault.enclave_size), or raise the limit"};
  if (pbkdf.type == "pbkdf2") return std::nullopt;
  std::uint32_t argon_kib = 0;
  const MemoryBudget* starved = TooLittleBesideImage(bytes, pbkdf.memory_kib, budgets, &argon_kib);
  if (!starved) return std::nullopt;
  return VaultError{ErrorKind::kInvalid, "image_memory",
                    "a " + image_mib + " image in the enclave would leave argon2 " + std::to_string(argon_kib >> 10) +
                        " MiB for the vault's keyslot, below its " +
                        std::to_string(ArgonMemoryFloor(pbkdf.memory_kib) >> 10) + " MiB floor (the container's limit of " +
                        std::to_string(starved->limit_bytes >> 20) + " MiB, " + std::to_string(starved->used_bytes >> 20) +
                        " MiB of it in use): lower vault.image_size (or vault.enclave_size), or raise the limit"};
}

// Detaches what backs `image`, unless another attachment holds its lock:
// then what backs it is that attachment's (vault/image_lock.h). The hold
// keeps attachers out while the loop devices are detached.
VaultStatus DetachOwnLoopsOf(const std::string& image, const char* step) {
  bool busy = false;
  UniqueFd hold = HoldImage(image, &busy);
  if (busy) return std::nullopt;
  return DetachLoopsOf(image, step);
}

// Detaches what backs an interrupted creation's image and deletes it; kBusy
// (step "no_image": there is no vault here yet) when it is another
// container's creation under way, which holds the lock on it.
VaultStatus RemoveHalfMadeImage(const std::string& image, const char* step) {
  const std::string creating = Creating(image);
  // A creation is root's and closed to others (RootsAndClosed). A file
  // that is not was planted by whoever could write here (an enclave
  // open to all before EnsureEnclave closed it): a lock its planter holds
  // on it must not keep every first unlock out as another container's.
  // Checked through a descriptor, and deleted only while the path still
  // names it.
  bool not_regular = false;
  struct stat planted;
  if (UniqueFd file = OpenRegularFile(creating, O_RDONLY, &not_regular, &planted);
      file && !RootsAndClosed(planted) && StillNamedBy(file.get(), creating)) {
    if (unlink(creating.c_str()) != 0 && errno != ENOENT) return SystemError(step, Errno("unlink " + creating));
    return std::nullopt;
  }
  bool busy = false;
  UniqueFd hold = HoldImage(creating, &busy);
  if (busy)
    return MadeElsewhere(image);
  if (auto e = DetachLoopsOf(creating, step)) return e;
  // Only when there is one: a read-only volume must not fail here (unlink
  // answers EROFS there even for a file that does not exist). And only the
  // file held: one that another creation put there since is not ours.
  struct stat st;
  if (lstat(creating.c_str(), &st) != 0) return std::nullopt;
  // One that cannot be opened to check: anything but a regular file (a
  // symbolic link, which unlink removes alone; a FIFO, a socket or a device
  // node planted there) is nobody's image; a regular file stays.
  if (!hold && S_ISREG(st.st_mode))
    return SystemError(step, "cannot open " + creating + " to check it is no other container's: remove it");
  // A directory, planted too: an empty one goes; one with something in it
  // is not ours to empty (what is in it is whoever planted it's).
  if (S_ISDIR(st.st_mode)) {
    if (rmdir(creating.c_str()) == 0 || errno == ENOENT) return std::nullopt;
    if (errno == ENOTEMPTY || errno == EEXIST)
      return VaultError{ErrorKind::kInvalid, step, creating + " is a directory, not an image: remove it"};
    return SystemError(step, Errno("rmdir " + creating));
  }
  if (hold && !StillNamedBy(hold.get(), creating)) return std::nullopt;
  if (unlink(creating.c_str()) != 0 && errno != ENOENT) return SystemError(step, Errno("unlink " + creating));
  return std::nullopt;
}

// UnmountAt, tried again for up to a second while it is busy: a process
// just ended lets go of its last files a moment after /proc stops showing
// them (the kernel defers a file's final release), and a descriptor in
// flight on a socket goes only when that socket is released. Also when the
// search ended no one: a holder may have ended by itself just before it,
// and the last resort must not run for that.
VaultStatus UnmountWhileLettingGo(const MountLocation& mount, const char* step) {
  auto unmounted = UnmountAt(mount, step);
  for (int i = 0; i < 50 && unmounted && unmounted->kind == ErrorKind::kBusy; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    unmounted = UnmountAt(mount, step);
  }
  return unmounted;
}

}  // namespace

std::string VaultConfig::ResolvedImagePath() const {
  // Lexically normal ("/vol//x" is "/vol/x"): the loop devices backing the
  // image are found by the path the kernel shows in sysfs, which is normal.
  const std::string path = image_path.empty() ? enclave_dir + "/vault.img" : image_path;
  return std::filesystem::path(path).lexically_normal().string();
}

std::uint64_t VaultConfig::ResolvedImageBytes() const {
  if (image_bytes) return image_bytes;
  return enclave_bytes > (2ULL << 20) ? enclave_bytes - (1ULL << 20) : enclave_bytes;
}

VaultState VaultProbe::state() const {
  if (mounted && mapping_active) return VaultState::kUnlocked;
  if (!mounted && !mapping_active) return image_exists ? VaultState::kLocked : VaultState::kAbsent;
  return VaultState::kFailed;  // half attached: recovery finishes the job
}

Vault::Vault(VaultConfig config) : config_(std::move(config)) {}

VaultProbe Vault::Probe() const {
  VaultProbe p;
  struct stat st;
  p.image_exists = lstat(config_.ResolvedImagePath().c_str(), &st) == 0 && S_ISREG(st.st_mode);
  p.mapping_active = MappingExists(config_.mapping_name);
  p.mounted = IsMountPoint(config_.mountpoint);
  return p;
}

VaultStatus Vault::EnsureEnclave() {
  if (!config_.ram_mode) return std::nullopt;
  // Mounted by someone else (Kubernetes mounts a memory emptyDir 1777, as a
  // shared /tmp): root's and 0700 from now on, or anyone could fill it or
  // put a vault.img of theirs there before the first unlock.
  if (IsMountPoint(config_.enclave_dir)) {
    UniqueFd dir(open(config_.enclave_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!dir || fstat(dir.get(), &st) != 0) return SystemError("enclave", Errno("open " + config_.enclave_dir));
    if ((st.st_uid != 0 || st.st_gid != 0) && fchown(dir.get(), 0, 0) != 0)
      return SystemError("enclave", Errno("chown " + config_.enclave_dir));
    if ((st.st_mode & 07777) != 0700 && fchmod(dir.get(), 0700) != 0)
      return SystemError("enclave", Errno("chmod " + config_.enclave_dir));
    return std::nullopt;
  }
  VaultError error;
  if (!OpenOrMakeDirectory(config_.enclave_dir, 0700, 0, 0, "enclave", &error)) return error;
  const std::string options = "size=" + std::to_string(config_.enclave_bytes) + ",mode=0700,nosuid,nodev,noexec";
  return MountFs("tazpod-enclave", config_.enclave_dir, "tmpfs", options, "enclave");
}

VaultStatus Vault::CreateImage(IfNoImage if_no_image, bool* created, UniqueFd* image_fd) {
  *created = false;
  const std::string final_image = config_.ResolvedImagePath();
  if (auto e = RefuseSymlink(final_image, "image")) return e;
  struct stat st;
  if (lstat(final_image.c_str(), &st) == 0) {
    // Only a vault this helper made is used: root's, readable by no one
    // else. Another user's file there (in an enclave that was open to all
    // before EnsureEnclave closed it) would be unlocked with the user's
    // passphrase, and its owner could read it back.
    return RefuseForeignImage(final_image, st);
  }
  if (if_no_image == IfNoImage::kRefuse) return VaultError{ErrorKind::kInvalid, "no_image", "there is no vault yet"};
  // What an earlier, interrupted creation left (recovery removes it too),
  // unless it is another container's creation under way.
  if (auto e = RemoveHalfMadeImage(final_image, "image")) return e;
  const std::uint64_t bytes = config_.ResolvedImageBytes();
  if (auto e = RefuseImageSize(config_)) return e;
  if (config_.ram_mode) {
    if (auto e = RefuseImageBeyondMemory(bytes, config_.pbkdf)) return e;
  }
  const std::string image = Creating(final_image);
  UniqueFd fd(open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == EROFS)
      return VaultError{ErrorKind::kInvalid, "image", final_image + " is on a read-only file system; mount the volume read-write"};
    if (errno == EEXIST)  // made since the removal above, by another container
      return MadeElsewhere(final_image);
    return SystemError("image", Errno("create " + image));
  }
  // Locked from the start, and the same descriptor goes to the loop device:
  // another container's recovery leaves it alone while it is being filled.
  // One that took it between the create and the lock may have deleted it.
  if (LockImage(fd.get(), image) || !StillNamedBy(fd.get(), image))
    return MadeElsewhere(final_image);
  *created = true;
  CrashPoint("unlock.create");
  // Nothing half made stays behind when the file cannot be made whole.
  const auto discard = [&] {
    unlink(image.c_str());
    *created = false;
  };
  int rc = posix_fallocate(fd.get(), 0, static_cast<off_t>(bytes));
  if (rc != 0) {
    discard();
    if (rc == ENOSPC)
      return VaultError{ErrorKind::kInvalid, "image",
                        "no room for a " + std::to_string(bytes >> 20) + " MiB image in " +
                            (config_.ram_mode ? "the enclave (raise vault.enclave_size or lower vault.image_size)"
                                              : "the volume")};
    if (rc == EFBIG)  // beyond the file system's largest file (ext4's: 16 TiB)
      return VaultError{ErrorKind::kInvalid, "image",
                        "a " + std::to_string(bytes >> 20) + " MiB image is larger than the file system of " +
                            final_image + " allows a file to be; lower vault.image_size"};
    return SystemError("image", "posix_fallocate " + image + ": " + std::strerror(rc));
  }
  if (fsync(fd.get()) != 0) {
    VaultError error = SystemError("image", Errno("fsync " + image));
    discard();
    return error;
  }
  *image_fd = std::move(fd);
  return std::nullopt;
}

VaultStatus Vault::Unlock(SecretBuffer& passphrase, IfNoImage if_no_image) {
  VaultProbe probe = Probe();
  if (probe.state() == VaultState::kUnlocked)
    return VaultError{ErrorKind::kBusy, "unlock", "the vault is already unlocked"};
  if (probe.state() == VaultState::kFailed) {
    if (auto e = Recover()) return e;
  }
  if (if_no_image == IfNoImage::kRefuse) {
    if (auto e = RefuseSymlink(config_.ResolvedImagePath(), "image")) return e;
    if (!probe.image_exists) return VaultError{ErrorKind::kInvalid, "no_image", "there is no vault yet"};
  }
  if (auto e = EnsureEnclave()) return e;
  bool created = false;
  UniqueFd image_fd;
  if (auto e = CreateImage(if_no_image, &created, &image_fd)) return e;
  const std::string image = config_.ResolvedImagePath();
  NewImageGuard image_guard(Creating(image), created, image_fd.get());
  if (image_guard.error() != 0)
    return SystemError("image", "keep " + Creating(image) + " locked: " + std::strerror(image_guard.error()));

  VaultError error;
  if (!created) {
    image_fd = OpenLockedImage(image, &error);
    if (!image_fd) return error;
  }
  LoopDevice loop = LoopDevice::Attach(std::move(image_fd), created ? Creating(image) : image, &error);
  if (!loop.valid()) return error;
  CrashPoint("unlock.loop");
  if (created) {
    if (auto e = FormatLuks2(loop.path(), passphrase, config_.pbkdf, config_.layout)) return e;
    CrashPoint("unlock.format");
  }
  if (auto e = ActivateLuks2(loop.path(), config_.mapping_name, passphrase)) {
    // The new keyslot was made to fit the memory left a moment ago; what
    // the container took since can leave it out of reach. The new image is
    // deleted (image_guard): nothing was made, which PID 1 must hear as
    // image_memory (the vault stays absent), not as keyslot_memory (a
    // vault exists, still locked).
    if (created && e->step == "keyslot_memory")
      return VaultError{ErrorKind::kInvalid, "image_memory",
                        "the new vault was not kept, the memory in use having grown while it was made: " + e->message};
    return e;
  }
  Undo unmap([this] { UndoMapping(); });
  CrashPoint("unlock.activate");
  const std::string device = "/dev/mapper/" + config_.mapping_name;
  if (created) {
    if (auto e = MakeExt4(device)) return e;
    CrashPoint("unlock.mkfs");
  }
  // The mount point is in the user's home, where the user may swap it for a
  // symbolic link at any moment (in another mount namespace, where it is no
  // mount point): mounted through a descriptor of the directory, opened
  // without following links, the vault cannot land on the link's target
  // (over /etc, say, where a login would then read the user's passwd).
  UniqueFd target =
      OpenOrMakeDirectory(config_.mountpoint, 0700, config_.owner_uid, config_.owner_gid, "mount", &error);
  if (!target) return error;
  if (auto e = MountFsAt(device, target.get(), config_.mountpoint, "ext4", "nosuid,nodev", "mount")) return e;
  Undo unmount([this, file_system = FileSystemDevice()] { UndoMount(file_system); });
  CrashPoint("unlock.mount");
  if (created) {
    if (auto e = GiveFsRootTo(config_.mountpoint, device, config_.owner_uid, config_.owner_gid)) return e;
    // Complete only now, its root the user's: from here on it is the vault
    // (the loop device follows the rename). Killed any earlier, the image
    // still has its temporary name, and recovery removes it; renamed before
    // the chown, a kill in between would leave a vault whose root the user
    // can never write to.
    // Never over an image: another container on the same volume may have
    // completed its own first unlock since this one found none, and a plain
    // rename would put this new vault in place of that one, in use. Where
    // the file system cannot refuse (EINVAL: it has no RENAME_NOREPLACE), a
    // plain rename, as before.
    int renamed = renameat2(AT_FDCWD, Creating(image).c_str(), AT_FDCWD, image.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && errno == EINVAL) renamed = rename(Creating(image).c_str(), image.c_str());
    if (renamed != 0 && errno == EEXIST)
      return VaultError{ErrorKind::kBusy, "image",
                        "another container made the vault at " + image + " meanwhile: log in again to open it"};
    if (renamed != 0) return SystemError("image", Errno("rename " + Creating(image)));
    image_guard.Renamed(image);
    const std::string dir = image.substr(0, image.rfind('/'));
    UniqueFd dir_fd(open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd || fsync(dir_fd.get()) != 0) return SystemError("image", Errno("fsync " + dir));
  }
  unmount.Release();
  unmap.Release();
  image_guard.Release();
  // The hooks may run for minutes (hook_timeout each); the passphrase is no
  // longer needed, and is not kept through them.
  passphrase.Clear();
  RunHooksOf(config_.unlock_hooks, "unlock");
  return std::nullopt;  // `loop` closes: the mapping now holds the device
}

void Vault::UndoMount(dev_t file_system) {
  // Found by the file system's device, as the lock finds it (vault/mount.h).
  const MountLocation mount = FindMountOf(file_system, config_.mountpoint);
  if (!mount) return;
  auto unmounted = UnmountAt(mount, "rollback");
  // A process got into the new vault meanwhile (where its mount namespace
  // is the container's, any of the user's could): ended as a lock ends it,
  // for a failed unlock must not leave the key in the kernel.
  if (unmounted && unmounted->kind == ErrorKind::kBusy)
    unmounted = EndHoldersAndUnmount(mount, file_system, "rollback", [](long long&) {});
  if (unmounted)
    (void)std::fprintf(stderr, "tazpod-vault-helper: the failed unlock cannot take back its mount: %s\n",
                       EscapeUntrustedText(unmounted->message).c_str());
}

void Vault::UndoMapping() {
  if (auto deactivated = DeactivateEndingWhatHolds(FileSystemDevice()))
    (void)std::fprintf(stderr, "tazpod-vault-helper: the failed unlock cannot take back its mapping: %s\n",
                       EscapeUntrustedText(deactivated->message).c_str());
}

void Vault::RunHooksOf(const std::vector<std::string>& hooks, const char* phase) {
  hook_failures_.clear();
  if (hooks.empty()) return;
  HookUser user{config_.owner_uid, config_.owner_gid, "", "/"};
  if (struct passwd* pw = getpwuid(config_.owner_uid)) {
    user.name = pw->pw_name;
    user.home = pw->pw_dir;
  } else {
    hook_failures_.push_back(std::string(phase) + " hooks: no user with uid " + std::to_string(config_.owner_uid));
    return;
  }
  hook_failures_ = RunHooks(hooks, phase, user, config_.mountpoint, config_.hook_timeout);
}

VaultStatus Vault::Lock() {
  lock_timings_ = {};
  // Each step's duration lands in lock_timings_ however the step ends.
  auto clock = std::chrono::steady_clock::now();
  auto lap = [&clock](long long& into) {
    auto now = std::chrono::steady_clock::now();
    into += std::chrono::duration_cast<std::chrono::microseconds>(now - clock).count();
    clock = now;
  };
  // The mount is found by the file system's device, not by its path: the
  // user may have renamed or removed the mount point (see FindMountOf).
  // DeactivateMapping checks the mapping itself.
  const dev_t file_system = FileSystemDevice();
  MountLocation mount = file_system != 0 ? FindMountOf(file_system, config_.mountpoint) : MountLocation{};
  lap(lock_timings_.probe_us);
  if (mount) {
    RunHooksOf(config_.lock_hooks, "lock");
    // Found again after hooks: they may run for minutes, and meanwhile the
    // user may rename the mount point where it is a plain directory (the
    // container's own mount namespace); the mount moves with it.
    if (!config_.lock_hooks.empty()) mount = FindMountOf(file_system, config_.mountpoint);
    lap(lock_timings_.hooks_us);
  } else if (file_system != 0 && !config_.lock_hooks.empty() && MountRemoved()) {
    // The file system is mounted nowhere here because its mount point was
    // removed, and the mount detached. There is no directory of the
    // vault's to run the hooks in; that they did not run is said, as a
    // failure is, not passed over.
    hook_failures_ = {"lock hooks not run: the vault's file system is mounted nowhere (was " + config_.mountpoint +
                      " removed?)"};
  }
  if (mount) {
    // Unmount first: it fails with EBUSY exactly when a process holds the
    // file system, and only then are the holders looked for (a scan of
    // every process's files and mappings, the slowest part of a lock
    // nobody holds) and ended. An unmount writes everything back itself.
    auto unmounted = UnmountAt(mount, "umount");
    lap(lock_timings_.umount_us);
    if (unmounted && unmounted->kind == ErrorKind::kBusy) {
      // Flush first, so that what was written reaches the device even if
      // a holder outlives its SIGKILL and the lock fails. Only a best
      // effort: a failed flush (a write-back error of a failing volume)
      // must not keep the key in the kernel, and the unmount writes back
      // what it can all the same. Said on PID 1's stderr, as
      // libcryptsetup's messages are.
      UniqueFd root(
          openat(mount.parent.get(), mount.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (root && syncfs(root.get()) != 0)
        (void)std::fprintf(stderr, "tazpod-vault-helper: %s; locking all the same\n",
                           EscapeUntrustedText(Errno("syncfs " + mount.path)).c_str());
      root.Reset();
      lap(lock_timings_.sync_us);
      CrashPoint("lock.sync");
      unmounted = EndHoldersAndUnmount(mount, file_system, "umount", lap);
    }
    if (auto e = unmounted) {
      std::string holders;
      for (pid_t pid : ProcessesHolding(file_system)) holders += " " + DescribeProcess(pid);
      if (!holders.empty()) e->message += "; held by" + holders;
      return e;
    }
    CrashPoint("lock.umount");
  }
  auto deactivated = DeactivateMapping(config_.mapping_name);
  lap(lock_timings_.deactivate_us);
  if (deactivated && deactivated->kind == ErrorKind::kBusy) {
    deactivated = DeactivateEndingHoldersAndCopies(file_system);
    lap(lock_timings_.holders_us);
  }
  if (deactivated) return deactivated;
  CrashPoint("lock.deactivate");
  // Autoclear detaches the loop device with the mapping; one left over from
  // an older run (or another tool) is detached here.
  auto detached = DetachOwnLoopsOf(config_.ResolvedImagePath(), "loop.detach");
  lap(lock_timings_.detach_us);
  return detached;
}

bool Vault::MountRemoved() const {
  // Still open: a detached mount some process holds. Gone with its
  // directory: a detached mount nothing held, released at once. Neither
  // (open by nobody, the directory there): never mounted by an unlock
  // killed part way, or already unmounted by a lock killed after its hooks.
  struct stat st;
  return DeviceMapperOpenCount(config_.mapping_name) != 0 || lstat(config_.mountpoint.c_str(), &st) != 0 ||
         !S_ISDIR(st.st_mode);
}

dev_t Vault::FileSystemDevice() const {
  struct stat st;
  const std::string node = "/dev/mapper/" + config_.mapping_name;
  if (stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return st.st_rdev;
  return 0;
}

VaultStatus Vault::EndHoldersAndUnmount(const MountLocation& mount, dev_t file_system, const char* step,
                                        const std::function<void(long long&)>& lap) {
  EndHolders(file_system, config_.holder_grace);
  lap(lock_timings_.holders_us);
  auto unmounted = UnmountWhileLettingGo(mount, step);
  lap(lock_timings_.umount_us);
  if (!unmounted || unmounted->kind != ErrorKind::kBusy) return unmounted;
  const std::vector<pid_t> ended = EndUserProcessesMounting(file_system, config_.holder_grace);
  lap(lock_timings_.holders_us);
  if (ended.empty()) return unmounted;
  // On PID 1's stderr, as libcryptsetup's messages are: a user's process
  // ended without holding anything visible in the vault deserves a line.
  std::string pids;
  for (pid_t pid : ended) pids += " " + std::to_string(pid);
  (void)std::fprintf(stderr,
                     "tazpod-vault-helper: the vault was still in use once its holders were ended: ended the "
                     "user's processes in its mount namespace:%s\n",
                     pids.c_str());
  unmounted = UnmountWhileLettingGo(mount, step);
  lap(lock_timings_.umount_us);
  return unmounted;
}

// The vault's mount here is gone, yet its mapping is busy. Either another
// mount namespace, copied while the vault was mounted, still mounts it, or
// the mount was detached (its mount point removed in another namespace)
// while a process held a file in it. Ends those processes and tries again;
// a namespace, or a detached mount, goes with the last of them (the kernel
// may take a moment).
VaultStatus Vault::DeactivateEndingWhatHolds(dev_t file_system) {
  auto deactivated = DeactivateMapping(config_.mapping_name);
  if (deactivated && deactivated->kind == ErrorKind::kBusy) deactivated = DeactivateEndingHoldersAndCopies(file_system);
  return deactivated;
}

VaultStatus Vault::DeactivateEndingHoldersAndCopies(dev_t file_system) {
  std::vector<pid_t> ended;
  if (file_system != 0) ended = EndHoldersAndMountCopies(file_system, config_.holder_grace);
  auto deactivated = DeactivateMapping(config_.mapping_name);
  for (int i = 0; i < 50 && !ended.empty() && deactivated && deactivated->kind == ErrorKind::kBusy; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    deactivated = DeactivateMapping(config_.mapping_name);
  }
  if (deactivated && file_system != 0) {
    std::string copies;
    for (pid_t pid : ProcessesMounting(file_system)) copies += " " + DescribeProcess(pid);
    if (!copies.empty()) deactivated->message += "; still mounted in the mount namespace of" + copies;
    std::string holders;
    for (pid_t pid : ProcessesHolding(file_system)) holders += " " + DescribeProcess(pid);
    if (!holders.empty()) deactivated->message += "; held by" + holders;
  }
  return deactivated;
}

VaultState Vault::StateAfterLock() const {
  struct stat st;
  const bool image = lstat(config_.ResolvedImagePath().c_str(), &st) == 0 && S_ISREG(st.st_mode);
  return image ? VaultState::kLocked : VaultState::kAbsent;
}

VaultStatus Vault::RequireImage(const char* step) const {
  const std::string image = config_.ResolvedImagePath();
  if (auto e = RefuseSymlink(image, step)) return e;
  struct stat st;
  if (lstat(image.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return VaultError{ErrorKind::kInvalid, step, "there is no vault yet: the first unlock creates it"};
  return std::nullopt;
}

VaultStatus Vault::HeaderDevice(std::string* device, LoopDevice* own_loop) const {
  // Through a loop device, never the image file: libcryptsetup then locks
  // the device (under /run/cryptsetup), where on the file its flock would,
  // on NFS, wait on an attachment's lock (vault/image_lock.h) until the
  // operation timed out. Attached: ours, once it is checked to back our
  // image (device-mapper names are the host's: another's vault may have
  // ours). Not attached: one of its own, which also holds the image's lock
  // for the operation, so no other container attaches it meanwhile.
  const std::string image = config_.ResolvedImagePath();
  if (MappingExists(config_.mapping_name)) {
    *device = MappingBackingDevice(config_.mapping_name);
    if (!LoopBacksFile(*device, image))
      return VaultError{ErrorKind::kInvalid, "header",
                        "the mapping " + config_.mapping_name + " is not on " + image +
                            " (another vault of that name on this host? vault.mapping_name must be unique)"};
    return std::nullopt;
  }
  VaultError error;
  UniqueFd image_fd = OpenLockedImage(image, &error);
  if (!image_fd) {
    // A read-only volume: nobody attaches it read-write; the file will do.
    // (Not busy, the open failed, and errno is its.)
    if (error.kind == ErrorKind::kBusy || errno != EROFS) return error;
    // Refused as OpenLockedImage refuses; by its path, which no one can
    // point at another file on a read-only volume.
    struct stat st;
    if (lstat(image.c_str(), &st) != 0) return SystemError("image", Errno("lstat " + image));
    if (auto e = RefuseForeignImage(image, st)) return e;
    *device = image;
    return std::nullopt;
  }
  *own_loop = LoopDevice::Attach(std::move(image_fd), image, &error);
  if (!own_loop->valid()) return error;
  *device = own_loop->path();
  return std::nullopt;
}

VaultStatus Vault::Verify(const SecretBuffer& passphrase) const {
  if (auto e = RequireImage("verify")) return e;
  std::string device;
  LoopDevice loop;
  if (auto e = HeaderDevice(&device, &loop)) return e;
  return VerifyPassphrase(device, passphrase);
}

VaultStatus Vault::ChangePassphrase(const SecretBuffer& old_passphrase, const SecretBuffer& new_passphrase) {
  if (auto e = RequireImage("passwd")) return e;
  std::string device;
  LoopDevice loop;
  if (auto e = HeaderDevice(&device, &loop)) return e;
  return vault::ChangePassphrase(device, old_passphrase, new_passphrase, config_.pbkdf);
}

VaultStatus Vault::Recover() {
  // Order matters: the mount holds the mapping, the mapping holds the loop.
  const dev_t file_system = FileSystemDevice();
  if (file_system != 0) {
    if (const MountLocation mount = FindMountOf(file_system, config_.mountpoint)) {
      if (auto e = EndHoldersAndUnmount(mount, file_system, "recover.umount", [](long long&) {})) return e;
    }
  }
  if (auto e = DeactivateEndingWhatHolds(file_system)) {
    e->step = "recover." + e->step;
    return e;
  }
  // What is left attached is ours to detach, unless it holds the image's
  // lock: then it is another container's live vault (vault/image_lock.h).
  const std::string image = config_.ResolvedImagePath();
  if (auto e = DetachOwnLoopsOf(image, "recover.loop")) return e;
  // A first unlock that was interrupted: its half-made image goes (not one
  // that another container is making).
  auto removed = RemoveHalfMadeImage(image, "recover.image");
  if (removed && removed->kind == ErrorKind::kBusy) return std::nullopt;
  return removed;
}

}  // namespace tazpod::vault
