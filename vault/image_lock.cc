#include "vault/image_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "vault/loop_device.h"

namespace tazpod::vault {

namespace {

constexpr auto kReleaseWait = std::chrono::seconds(2);
constexpr auto kRetryEvery = std::chrono::milliseconds(20);

enum class Taken { kYes, kHeldElsewhere, kCannotLock };

// Takes a whole-file lock of `type` on `fd`, trying again for up to 2 s
// while another open file holds a conflicting one.
Taken TakeLock(int fd, short type, const std::string& image) {
  const auto deadline = std::chrono::steady_clock::now() + kReleaseWait;
  for (;;) {
    struct flock lock;
    std::memset(&lock, 0, sizeof lock);
    lock.l_type = type;
    lock.l_whence = SEEK_SET;  // l_start 0, l_len 0: the whole file, however it grows
    if (fcntl(fd, F_OFD_SETLK, &lock) == 0) return Taken::kYes;
    if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
      (void)std::fprintf(stderr, "tazpod-vault-helper: cannot lock %s (%s): it is used unlocked; "
                         "two containers must never use it at once\n", image.c_str(), std::strerror(errno));
      return Taken::kCannotLock;
    }
    if (std::chrono::steady_clock::now() >= deadline) return Taken::kHeldElsewhere;
    std::this_thread::sleep_for(kRetryEvery);
  }
}

// Where the image is attached on this machine, for the refusal's message.
std::string AttachedHere(const std::string& image) {
  std::string devices;
  for (const std::string& loop : LoopDevicesBacking(image)) devices += (devices.empty() ? "" : ", ") + loop;
  return devices.empty() ? "not on this machine: another one has it" : "here as " + devices;
}

}  // namespace

UniqueFd OpenRegularFile(const std::string& path, int access, bool* not_regular, struct stat* st) {
  *not_regular = false;
  UniqueFd fd(open(path.c_str(), access | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fd;
  if (fstat(fd.get(), st) != 0) return UniqueFd();
  if (!S_ISREG(st->st_mode)) {
    *not_regular = true;
    return UniqueFd();
  }
  // Back to blocking, as a loop device's file is expected to be.
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags == -1 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return UniqueFd();
  return fd;
}

bool RootsAndClosed(const struct stat& st) { return st.st_uid == 0 && (st.st_mode & 077) == 0; }

VaultStatus RefuseForeignImage(const std::string& image, const struct stat& st) {
  if (S_ISREG(st.st_mode) && RootsAndClosed(st)) return std::nullopt;
  char mode[8];
  (void)std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return VaultError{ErrorKind::kInvalid, "image",
                    image + " is not a vault image of TazPod's (owned by uid " + std::to_string(st.st_uid) +
                        ", mode " + mode + "; a vault is root's, 0600): remove it, or make it so"};
}

VaultStatus LockImage(int fd, const std::string& image) {
  if (TakeLock(fd, F_WRLCK, image) != Taken::kHeldElsewhere) return std::nullopt;
  return VaultError{ErrorKind::kBusy, "in_use",
                    image + " is in use: another container has it attached (" + AttachedHere(image) +
                        "), and two must never use one image. If none runs, a container killed on that "
                        "machine left its mapping: remove it there (dmsetup remove tazpod-...)"};
}

UniqueFd OpenLockedImage(const std::string& image, VaultError* error) {
  bool not_regular = false;
  struct stat st;
  UniqueFd fd = OpenRegularFile(image, O_RDWR, &not_regular, &st);
  if (not_regular) {
    *error = VaultError{ErrorKind::kInvalid, "image", image + " is not a regular file: remove it"};
    errno = EINVAL;
    return fd;
  }
  if (!fd) {
    const int open_errno = errno;
    *error = SystemError("loop.attach", "open " + image + ": " + std::strerror(open_errno));
    errno = open_errno;  // for the caller: EROFS, ENOENT...
    return fd;
  }
  if (auto e = RefuseForeignImage(image, st)) {
    *error = *e;
    errno = EINVAL;
    fd.Reset();
    return fd;
  }
  if (auto e = LockImage(fd.get(), image)) {
    *error = *e;
    fd.Reset();
  }
  return fd;
}

UniqueFd HoldImage(const std::string& image, bool* busy) {
  *busy = false;
  bool not_regular = false;  // then no image here, as when there is no file
  struct stat st;
  UniqueFd fd = OpenRegularFile(image, O_RDONLY, &not_regular, &st);
  if (fd && TakeLock(fd.get(), F_RDLCK, image) == Taken::kHeldElsewhere) {
    *busy = true;
    fd.Reset();
  }
  return fd;
}

bool StillNamedBy(int fd, const std::string& path) {
  struct stat held, named;
  return fstat(fd, &held) == 0 && lstat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

NewImageGuard::NewImageGuard(std::string path, bool active, int locked) {
  if (!active) return;
  held_.Reset(fcntl(locked, F_DUPFD_CLOEXEC, 0));
  if (held_) {
    path_ = std::move(path);
    return;
  }
  error_ = errno;
  if (locked >= 0 && StillNamedBy(locked, path)) unlink(path.c_str());
}

NewImageGuard::~NewImageGuard() {
  if (!path_.empty() && StillNamedBy(held_.get(), path_)) unlink(path_.c_str());
}

void NewImageGuard::Release() {
  path_.clear();
  held_.Reset();
}

void NewImageGuard::Renamed(std::string path) {
  if (!path_.empty()) path_ = std::move(path);
}

}  // namespace tazpod::vault
