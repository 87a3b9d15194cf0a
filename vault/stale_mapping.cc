#include "vault/stale_mapping.h"

#include <libdevmapper.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tazpod::vault {

namespace {

// A dm_task, destroyed on every path.
class Task {
 public:
  explicit Task(int type) : task_(dm_task_create(type)) {}
  ~Task() {
    if (task_) dm_task_destroy(task_);
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  dm_task* get() const { return task_; }

 private:
  dm_task* task_;
};

// Runs one device-mapper ioctl on `name`: INFO, RESUME or REMOVE.
bool Run(int type, const std::string& name, struct dm_info* info = nullptr) {
  Task task(type);
  if (!task.get() || !dm_task_set_name(task.get(), name.c_str())) return false;
  if (type == DM_DEVICE_REMOVE) dm_task_retry_remove(task.get());
  if (!dm_task_run(task.get())) return false;
  return !info || dm_task_get_info(task.get(), info);
}

void NoUdev() {
  // Containers have no udevd: never wait on a udev cookie (docs/vault.md).
  dm_udev_set_sync_support(0);
}

// Whether the running kernel has device-mapper, built in or loaded: then
// /proc/devices lists its block major. Unreadable: assume so.
bool KernelHasDeviceMapper() {
  std::ifstream in("/proc/devices");
  if (!in) return true;
  std::ostringstream text;
  text << in.rdbuf();
  return ProcDevicesListDeviceMapper(text.str());
}

}  // namespace

bool ProcDevicesListDeviceMapper(std::string_view proc_devices) {
  // Lines such as "254 device-mapper", under "Block devices:".
  constexpr std::string_view kName = " device-mapper";
  std::size_t start = 0;
  while (start < proc_devices.size()) {
    std::size_t end = proc_devices.find('\n', start);
    if (end == std::string_view::npos) end = proc_devices.size();
    const std::string_view line = proc_devices.substr(start, end - start);
    if (line.size() > kName.size() && line.substr(line.size() - kName.size()) == kName) return true;
    start = end + 1;
  }
  return false;
}

bool DeviceMapperNameExists(const std::string& name) {
  NoUdev();
  struct dm_info info {};
  return Run(DM_DEVICE_INFO, name, &info) && info.exists;
}

int DeviceMapperOpenCount(const std::string& name) {
  NoUdev();
  struct dm_info info {};
  if (!Run(DM_DEVICE_INFO, name, &info)) return -1;
  return info.exists ? info.open_count : 0;
}

VaultStatus RemoveDeviceMapperName(const std::string& name, const char* step) {
  NoUdev();
  struct dm_info info {};
  if (!Run(DM_DEVICE_INFO, name, &info)) {
    // A kernel without device-mapper has no mapping to remove. Otherwise not
    // knowing is no "nothing to remove": a lock would go on to detach the
    // loop device (lazily, under a live mapping) and report the key gone.
    if (!KernelHasDeviceMapper()) return std::nullopt;
    return VaultError{ErrorKind::kSystem, step, "cannot ask device-mapper whether " + name + " exists"};
  }
  if (!info.exists) return std::nullopt;
  if (info.open_count > 0)
    return VaultError{ErrorKind::kBusy, step, "device-mapper device " + name + " is in use"};
  // A device left suspended cannot be removed until it is resumed; a
  // device with no table resumes as an empty one.
  if (info.suspended) Run(DM_DEVICE_RESUME, name);
  if (!Run(DM_DEVICE_REMOVE, name))
    return VaultError{ErrorKind::kSystem, step, "cannot remove the half-created device-mapper device " + name};
  return std::nullopt;
}

}  // namespace tazpod::vault
