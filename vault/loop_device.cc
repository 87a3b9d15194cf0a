#include "vault/loop_device.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string_view>

namespace tazpod::vault {

namespace {

constexpr unsigned kLoopMajor = 7;
constexpr int kAttachAttempts = 16;  // LOOP_CTL_GET_FREE races with other attachers

std::string Errno(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

// N of "loopN" given the text after "loop", or -1 if it is not a number.
int LoopNumber(std::string_view digits) {
  int number = -1;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc() || end != digits.data() + digits.size() || number < 0) return -1;
  return number;
}

// The device number of loop device N, as sysfs gives it ("7:4"). Its
// minor is N only where the loop driver makes no partitions (max_part=0,
// the default); with loop.max_part set, N's minor is shifted past them,
// and minor N is another device's partition. makedev(7, N) when sysfs
// has no such file (not mounted in the container), which is right under
// the default. False, with *error set, when sysfs cannot be read or names
// something that is not a loop device: a node made from a guess would be
// another device.
bool LoopDeviceNumber(int number, dev_t* device, VaultError* error) {
  const std::string path = "/sys/block/loop" + std::to_string(number) + "/dev";
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file && errno == ENOENT) {
    *device = makedev(kLoopMajor, static_cast<unsigned>(number));
    return true;
  }
  if (!file) {
    *error = SystemError("loop.mknod", Errno(("open " + path).c_str()));
    return false;
  }
  char buffer[32];
  ssize_t n;
  while ((n = read(file.get(), buffer, sizeof buffer)) < 0 && errno == EINTR) {
  }
  if (n < 0) {
    *error = SystemError("loop.mknod", Errno(("read " + path).c_str()));
    return false;
  }
  std::string_view text(buffer, static_cast<size_t>(n));
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  unsigned maj = 0, min = 0;
  const char* end = text.data() + text.size();
  auto [after_maj, e1] = std::from_chars(text.data(), end, maj);
  if (e1 == std::errc() && after_maj != end && *after_maj == ':') {
    auto [after_min, e2] = std::from_chars(after_maj + 1, end, min);
    if (e2 == std::errc() && after_min == end && maj == kLoopMajor) {
      *device = makedev(maj, min);
      return true;
    }
  }
  *error = SystemError("loop.mknod", path + " names " + std::string(text.substr(0, 16)) +
                                         ", not a loop device (major " + std::to_string(kLoopMajor) + ")");
  return false;
}

// Opens /dev/loopN, creating the node first when the container has none.
UniqueFd OpenLoopNode(int number, std::string& path, VaultError* error) {
  path = "/dev/loop" + std::to_string(number);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd || errno != ENOENT) {
    if (!fd) *error = SystemError("loop.open", Errno(("open " + path).c_str()));
    return fd;
  }
  dev_t device = 0;
  if (!LoopDeviceNumber(number, &device, error)) return UniqueFd();
  if (mknod(path.c_str(), S_IFBLK | 0600, device) != 0 && errno != EEXIST) {
    *error = SystemError("loop.mknod", Errno(("mknod " + path).c_str()) +
                                           " (the container needs CAP_MKNOD, or /dev/loop* nodes)");
    return UniqueFd();
  }
  fd.Reset(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) *error = SystemError("loop.open", Errno(("open " + path).c_str()));
  return fd;
}

}  // namespace

LoopDevice LoopDevice::Attach(UniqueFd image_fd, const std::string& image, VaultError* error) {
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

namespace {

// The status of the loop device open as `fd`: its backing file's device
// and inode among it.
bool StatusOf(int fd, struct loop_info64* info) {
  std::memset(info, 0, sizeof *info);
  return ioctl(fd, LOOP_GET_STATUS64, info) == 0;
}

// The status of /dev/loopN, or false.
bool BackingOf(int number, struct loop_info64* info) {
  std::string path;
  VaultError ignored;
  UniqueFd fd = OpenLoopNode(number, path, &ignored);
  return fd && StatusOf(fd.get(), info);
}

// Whether a loop device's backing file is the very file `image`: the same
// device and inode. The path in sysfs is not enough: it is the path in the
// mount namespace of whoever attached the device, and every TazPod container
// uses the same one.
bool IsFile(const struct loop_info64& info, const struct stat& image) {
  return info.lo_device == image.st_dev && info.lo_inode == image.st_ino;
}

bool BacksSameFile(int number, const struct stat& image) {
  struct loop_info64 info;
  return BackingOf(number, &info) && IsFile(info, image);
}

// Whether /dev/loopN's (deleted) backing file was on the file system `dev`:
// the same path in another container's enclave is on another tmpfs.
bool BackedFrom(int number, dev_t dev) {
  struct loop_info64 info;
  return BackingOf(number, &info) && info.lo_device == dev;
}

// `image` with its directory's path as the kernel shows a backing file's:
// symbolic links resolved, no "//" or "." (image itself as given when the
// directory cannot be resolved).
std::string AsTheKernelShowsIt(const std::string& image) {
  const size_t slash = image.rfind('/');
  if (slash == std::string::npos) return image;
  const std::string dir = image.substr(0, slash);
  char resolved[PATH_MAX];
  if (!realpath(dir.empty() ? "/" : dir.c_str(), resolved)) return image;
  const std::string prefix = std::strcmp(resolved, "/") == 0 ? "" : resolved;
  return prefix + image.substr(slash);
}

}  // namespace

std::vector<std::string> LoopDevicesBacking(const std::string& image) {
  std::vector<std::string> result;
  struct stat image_st, dir_st;
  const bool image_exists = stat(image.c_str(), &image_st) == 0;
  const std::string image_dir = image.substr(0, image.rfind('/'));
  const bool dir_exists = stat(image_dir.empty() ? "/" : image_dir.c_str(), &dir_st) == 0;
  const std::string shown = AsTheKernelShowsIt(image);
  DIR* dir = opendir("/sys/block");
  if (!dir) return result;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name.rfind("loop", 0) != 0) continue;
    std::ifstream backing("/sys/block/" + name + "/loop/backing_file");
    std::string file;
    if (!std::getline(backing, file)) continue;
    // A deleted backing file shows as "PATH (deleted)": left by an earlier
    // run whose image is gone, it can only be found by its path, and the
    // file system it was on. The same path may be another container's file:
    // it must be ours.
    const int number = LoopNumber(name.c_str() + std::strlen("loop"));
    if (number < 0) continue;
    if (file == shown + " (deleted)") {
      if (dir_exists && BackedFrom(number, dir_st.st_dev)) result.push_back("/dev/" + name);
    } else if (file == shown && image_exists) {
      if (BacksSameFile(number, image_st)) result.push_back("/dev/" + name);
    }
  }
  closedir(dir);
  return result;
}

bool LoopBacksFile(const std::string& loop, const std::string& image) {
  struct stat image_st;
  if (loop.empty() || stat(image.c_str(), &image_st) != 0) return false;
  UniqueFd fd(open(loop.c_str(), O_RDONLY | O_CLOEXEC));
  struct loop_info64 info;
  return fd && StatusOf(fd.get(), &info) && IsFile(info, image_st);
}

VaultStatus DetachLoopDevice(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    // No node in this container: create it for the detach.
    const int number = LoopNumber(path.c_str() + std::strlen("/dev/loop"));
    if (number < 0) return SystemError("loop.detach", "not a loop device: " + path);
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
