#include "vault/stale_mapping.h"

#include <dirent.h>
#include <libdevmapper.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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

}  // namespace

bool SysfsListsMapping(const std::string& sys_block, const std::string& name) {
  // Every device-mapper device is a block device dm-N whose dm/name is its
  // name. Sysfs shows the host's devices to a container too, and asks for
  // no privilege.
  DIR* dir = opendir(sys_block.c_str());
  if (!dir) return true;  // cannot tell
  bool listed = false;
  while (struct dirent* e = readdir(dir)) {
    if (std::strncmp(e->d_name, "dm-", 3) != 0) continue;
    std::ifstream file(sys_block + "/" + e->d_name + "/dm/name");
    std::string shown;
    if (std::getline(file, shown) && shown == name) {
      listed = true;
      break;
    }
  }
  closedir(dir);
  return listed;
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
    // device-mapper does not answer: in a kernel without it, or a container
    // not given it (no control node, no CAP_SYS_ADMIN), as well as where
    // it should. Sysfs says whether there is a device to remove; where
    // there is, "nothing to remove" would have a lock go on to detach the
    // loop device (lazily, under the live mapping) and report the key gone.
    if (!SysfsListsMapping("/sys/block", name)) return std::nullopt;
    return VaultError{ErrorKind::kSystem, step, "device-mapper does not answer, and " + name + " exists"};
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
