// Makes the vault's ext4 file system by running mkfs.ext4 (e2fsprogs):
// writing a file system is e2fsprogs' job, and a separate process keeps its
// failure from touching ours.
#pragma once

#include <string>

#include "vault/vault_error.h"

namespace tazpod::vault {

// mkfs.ext4 on `device` (the open dm-crypt mapping), quietly, without
// discards (they would reveal the used blocks through the image) and with
// no reserved blocks (the vault has one user). Only the system's
// mkfs.ext4 is run (/usr/sbin, /usr/bin, /sbin, /bin), whatever PATH is.
VaultStatus MakeExt4(const std::string& device);

}  // namespace tazpod::vault
