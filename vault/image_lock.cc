#include "vault/image_lock.h"

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common/unique_fd.h"
#include "vault/loop_device.h"

namespace tazpod::vault {

namespace {

constexpr auto kReleaseWait = std::chrono::seconds(2);
constexpr auto kRetryEvery = std::chrono::milliseconds(20);

struct flock WholeFileWriteLock() {
  struct flock lock;
  std::memset(&lock, 0, sizeof lock);
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;  // l_start 0, l_len 0: the whole file, however it grows
  return lock;
}

// Where the image is attached on this machine, for the refusal's message.
std::string AttachedHere(const std::string& image) {
  std::string devices;
  for (const std::string& loop : LoopDevicesBacking(image)) devices += (devices.empty() ? "" : ", ") + loop;
  return devices.empty() ? "not on this machine: another one has it" : "here as " + devices;
}

}  // namespace

VaultStatus LockImage(int fd, const std::string& image) {
  const auto deadline = std::chrono::steady_clock::now() + kReleaseWait;
  for (;;) {
    struct flock lock = WholeFileWriteLock();
    if (fcntl(fd, F_OFD_SETLK, &lock) == 0) return std::nullopt;
    if (errno != EAGAIN && errno != EACCES) {
      (void)std::fprintf(stderr, "tazpod-vault-helper: cannot lock %s (%s): it is used unlocked; "
                         "two containers must never use it at once\n", image.c_str(), std::strerror(errno));
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kRetryEvery);
  }
  return VaultError{ErrorKind::kBusy, "loop.lock",
                    image + " is in use: another container has it attached (" + AttachedHere(image) +
                        "), and two must never use one image. If none runs, a container killed on that "
                        "machine left its mapping: remove it there (dmsetup remove tazpod-...)"};
}

bool ImageHeldElsewhere(const std::string& image) {
  UniqueFd fd(open(image.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  const auto deadline = std::chrono::steady_clock::now() + kReleaseWait;
  for (;;) {
    struct flock lock = WholeFileWriteLock();
    if (fcntl(fd.get(), F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return false;
    if (std::chrono::steady_clock::now() >= deadline) return true;
    std::this_thread::sleep_for(kRetryEvery);
  }
}

}  // namespace tazpod::vault
