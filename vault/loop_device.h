// LoopDevice: a loop device backing one image file, attached through
// /dev/loop-control.
//
// Attached with LO_FLAGS_AUTOCLEAR: the kernel detaches it when the last
// user closes it. This object holds one open descriptor; once dm-crypt has
// opened the device on top, closing ours leaves the detach to the kernel when
// the mapping goes away. So a crash at any step (our process killed) leaks
// no loop device: either nothing else holds it and it detaches at once, or a
// stale mapping holds it and start-up recovery removes that mapping.
//
// Containers often have /dev/loop-control but no /dev/loopN nodes: the node
// is created with mknod when missing.
#pragma once

#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "vault/vault_error.h"

namespace tazpod::vault {

class LoopDevice {
 public:
  // Attaches the file open read-write as `image_fd` (`image` is its path,
  // for sysfs and messages). The loop device keeps that open file, and with
  // it the image's lock the caller took on it (vault/image_lock.h). On
  // failure returns an invalid LoopDevice and sets *error.
  static LoopDevice Attach(UniqueFd image_fd, const std::string& image, VaultError* error);

  LoopDevice() = default;
  LoopDevice(LoopDevice&&) = default;
  LoopDevice& operator=(LoopDevice&&) = default;

  bool valid() const { return fd_.valid(); }
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

// /dev/loopN of every loop device whose backing file is `image`: the same
// file (device and inode), not merely the same path, which another
// container's mount namespace may use too; or, for a deleted image, a device
// whose backing file had that path on the file system of the image's
// directory (every RAM-mode enclave has the same path, on a tmpfs of its
// own). The path is compared as the kernel shows it: through a symbolic
// link or with "//" in it, `image` is still found.
std::vector<std::string> LoopDevicesBacking(const std::string& image);

// Whether the loop device `loop` (a /dev path) is backed by the very file
// `image` names here (device and inode).
bool LoopBacksFile(const std::string& loop, const std::string& image);

// Detaches a loop device that autoclear did not (stale from an older run).
VaultStatus DetachLoopDevice(const std::string& path);

}  // namespace tazpod::vault
