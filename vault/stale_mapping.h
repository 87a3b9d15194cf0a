// Plain device-mapper queries of the vault's mapping by name, with calls
// that never wait on udev; and the removal of a device of ours that
// libcryptsetup does not recognise as a crypt mapping. A helper killed
// between creating the device and loading (or resuming) its table leaves
// one behind: crypt_status() calls it invalid, crypt_deactivate refuses
// it, and its name then blocks every later activation. A table loaded but
// never resumed holds the volume key in the kernel all the same, until
// the device goes: so it is removed, not left.
#pragma once

#include <string>

#include "vault/vault_error.h"

namespace tazpod::vault {

// Whether sysfs (`sys_block`: /sys/block) shows a device-mapper device
// named `name`; true when it cannot be read (cannot tell).
bool SysfsListsMapping(const std::string& sys_block, const std::string& name);

// True when a device-mapper device named `name` exists, in any state.
bool DeviceMapperNameExists(const std::string& name);

// How many openers the device `name` has (a mounted file system is one,
// detached or not); 0 when there is no such device, -1 when that cannot be
// learned.
int DeviceMapperOpenCount(const std::string& name);

// Removes the device `name` (resuming it first if it was left suspended).
// Nothing to do is success. When device-mapper does not answer, so is a
// name sysfs does not show; one it shows is an error.
VaultStatus RemoveDeviceMapperName(const std::string& name, const char* step);

}  // namespace tazpod::vault
