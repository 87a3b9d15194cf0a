#include "vault/loop_device.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tazpod::vault {

namespace {

constexpr unsigned kLoopMajor = 7;
constexpr int kAttachAttempts = 16;  // LOOP_CTL_GET_FREE races with other attachers

std::string Errno(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

// Opens /dev/loopN, creating the node first when the container has none.
UniqueFd OpenLoopNode(int number, std::string& path, VaultError* error) {
  path = "/dev/loop" + std::to_string(number);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd || errno != ENOENT) {
    if (!fd) *error = SystemError("loop.open", Errno(("open " + path).c_str()));
    return fd;
  }
  if (mknod(path.c_str(), S_IFBLK | 0600, makedev(kLoopMajor, number)) != 0 && errno != EEXIST) {
    *error = SystemError("loop.mknod", Errno(("mknod " + path).c_str()) +
                                           " (the container needs CAP_MKNOD, or /dev/loop* nodes)");
    return UniqueFd();
  }
  fd.Reset(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) *error = SystemError("loop.open", Errno(("open " + path).c_str()));
  return fd;
}

}  // namespace

LoopDevice LoopDevice::Attach(const std::string& image, VaultError* error) {
  UniqueFd image_fd(open(image.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!image_fd) {
    *error = SystemError("loop.attach", Errno(("open " + image).c_str()));
    return LoopDevice();
  }
  UniqueFd control(open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) {
    *error = SystemError("loop.control",
                         Errno("open /dev/loop-control") +
                             " (the container needs the loop-control device: run it --privileged "
                             "or with --device /dev/loop-control)");
    return LoopDevice();
  }
  for (int attempt = 0; attempt < kAttachAttempts; ++attempt) {
    int number = ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (number < 0) {
      *error = SystemError("loop.control", Errno("ioctl LOOP_CTL_GET_FREE"));
      return LoopDevice();
    }
    LoopDevice loop;
    loop.fd_ = OpenLoopNode(number, loop.path_, error);
    if (!loop.fd_) return LoopDevice();

    struct loop_config config;
    std::memset(&config, 0, sizeof config);
    config.fd = static_cast<__u32>(image_fd.get());
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), image.c_str(), LO_NAME_SIZE - 1);
    if (ioctl(loop.fd_.get(), LOOP_CONFIGURE, &config) == 0) return loop;
    if (errno != EBUSY) {
      *error = SystemError("loop.attach", Errno(("ioctl LOOP_CONFIGURE " + loop.path_).c_str()));
      return LoopDevice();
    }
    // Someone took that device between GET_FREE and CONFIGURE: try the next.
  }
  *error = SystemError("loop.attach", "no free loop device after several attempts");
  return LoopDevice();
}

std::vector<std::string> LoopDevicesBacking(const std::string& image) {
  std::vector<std::string> result;
  DIR* dir = opendir("/sys/block");
  if (!dir) return result;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name.rfind("loop", 0) != 0) continue;
    std::ifstream backing("/sys/block/" + name + "/loop/backing_file");
    std::string file;
    if (!std::getline(backing, file)) continue;
    // A deleted backing file shows as "PATH (deleted)".
    if (file == image || file == image + " (deleted)") result.push_back("/dev/" + name);
  }
  closedir(dir);
  return result;
}

VaultStatus DetachLoopDevice(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    // No node in this container: create it for the detach.
    int number = std::atoi(path.c_str() + std::strlen("/dev/loop"));
    VaultError error;
    std::string node;
    fd = OpenLoopNode(number, node, &error);
    if (!fd) return error;
  }
  if (!fd) return SystemError("loop.detach", Errno(("open " + path).c_str()));
  if (ioctl(fd.get(), LOOP_CLR_FD, 0) != 0 && errno != ENXIO)
    return SystemError("loop.detach", Errno(("ioctl LOOP_CLR_FD " + path).c_str()));
  return std::nullopt;
}

}  // namespace tazpod::vault
