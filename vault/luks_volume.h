// LUKS2 through libcryptsetup: format, activate, verify, deactivate, change
// the passphrase. Passphrases come in SecretBuffers and are handed to
// libcryptsetup directly; nothing here copies them.
//
// Two container-specific choices, made for every call:
// - No udev: DM_DISABLE_UDEV=1, in the environment PID 1 starts the helper
//   with, makes libdevmapper create and remove the /dev/mapper nodes itself
//   instead of waiting on a udev cookie that no udevd in a container would
//   ever answer (the "hangs in open" reports); udev synchronisation is
//   turned off here too.
// - No kernel keyring for the volume key: a container's keyring may be
//   unusable, so the key is kept in the dm-crypt table only. Deactivating
//   the mapping removes it from the kernel either way.
#pragma once

#include <cstdint>
#include <string>

#include "common/secret_buffer.h"
#include "vault/vault_error.h"

namespace tazpod::vault {

struct PbkdfSettings {
  std::string type = "argon2id";
  // 0 means benchmark for time_ms. A fixed count skips the benchmark (tests,
  // slow machines); with argon2 it is the number of passes.
  std::uint32_t iterations = 0;
  std::uint32_t time_ms = 2000;
  std::uint32_t memory_kib = 1048576;  // argon2: 1 GiB, capped by libcryptsetup to half of RAM
  std::uint32_t parallel = 4;
};

struct LuksLayout {
  std::uint64_t metadata_bytes = 0;  // 0: libcryptsetup's default (16 KiB)
  std::uint64_t keyslots_bytes = 0;  // 0: libcryptsetup's default (16 MiB)
};

// The keyslots area two keyslots of the vault's 512-bit key need (4000
// anti-forensic stripes of 64 bytes each, rounded up to 4 KiB: 258048
// bytes a slot). A passphrase change holds both for a while, so this is
// the smallest keyslots area a vault may be given.
inline constexpr std::uint64_t kTwoKeyslotsBytes = 2ULL * 258048;

// The smallest image a vault is made in: the LUKS2 header (two metadata
// copies and the keyslots area; 16 MiB in all with libcryptsetup's
// defaults), after which libcryptsetup starts the data at the next MiB,
// and 2 MiB of data: the least for which mkfs.ext4 makes a journal (2,048
// blocks), without which a crash could leave the vault's file system in
// need of a repair. A smaller image fails in crypt_format or mkfs, with a
// message that names a loop device, not the setting to change, or makes a
// file system without a journal. The layout's sizes are at most
// libcryptsetup's (4 MiB of metadata, 128 MiB of keyslots).
std::uint64_t MinimumImageBytes(const LuksLayout& layout);

// Called once per process before any other function here.
void PrepareCryptsetupForContainer();

// Formats `device` as LUKS2 (aes-xts-plain64, 512-bit key) with one keyslot.
VaultStatus FormatLuks2(const std::string& device, const SecretBuffer& passphrase,
                        const PbkdfSettings& pbkdf, const LuksLayout& layout);

// Opens the mapping /dev/mapper/`name` on `device`.
VaultStatus ActivateLuks2(const std::string& device, const std::string& name,
                          const SecretBuffer& passphrase);

// Checks the passphrase against a keyslot without activating anything
// (works on an image file, also while it is mapped).
VaultStatus VerifyPassphrase(const std::string& device, const SecretBuffer& passphrase);

// Replaces the passphrase; no re-encryption. The new passphrase gets a
// keyslot of its own before every keyslot the old one opens is destroyed,
// so a kill at any moment leaves at least one of the two working (both,
// between the steps: crash point passwd.added). It therefore needs room for
// one more keyslot in the keyslot area, and says so when there is none.
// Asked again after such a kill, the same change uses the new passphrase's
// slot and finishes.
VaultStatus ChangePassphrase(const std::string& device, const SecretBuffer& old_passphrase,
                             const SecretBuffer& new_passphrase, const PbkdfSettings& pbkdf);

// Removes the mapping (the volume key leaves the kernel). A mapping that
// does not exist is not an error.
VaultStatus DeactivateMapping(const std::string& name);

bool MappingExists(const std::string& name);

// The backing device of an active mapping ("/dev/loop3"), or empty.
std::string MappingBackingDevice(const std::string& name);

}  // namespace tazpod::vault
