#include "vault/luks_volume.h"
#include "vault/crash_point.h"
#include "vault/pbkdf_memory.h"
#include "vault/stale_mapping.h"

#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace tazpod::vault {

namespace {

struct CryptFree {
  void operator()(crypt_device* cd) const { crypt_free(cd); }
};
using CryptDevice = std::unique_ptr<crypt_device, CryptFree>;

std::string Describe(const char* call, int rc) {
  return std::string(call) + ": " + std::strerror(rc < 0 ? -rc : rc);
}

// Opens `device` and loads its LUKS2 header.
CryptDevice Load(const std::string& device, const char* step, VaultError* error) {
  crypt_device* raw = nullptr;
  int rc = crypt_init(&raw, device.c_str());
  CryptDevice cd(raw);
  if (rc < 0) {
    *error = SystemError(step, Describe(("crypt_init " + device).c_str(), rc));
    return nullptr;
  }
  rc = crypt_load(cd.get(), CRYPT_LUKS2, nullptr);
  if (rc < 0) {
    *error = {ErrorKind::kInvalid, step,
              Describe(("crypt_load " + device).c_str(), rc) +
                  " (not a LUKS2 vault, or its header is damaged)"};
    return nullptr;
  }
  crypt_volume_key_keyring(cd.get(), 0);
  return cd;
}

// The keyslots in use.
std::vector<int> ActiveKeyslots(crypt_device* cd) {
  std::vector<int> slots;
  const int count = crypt_keyslot_max(CRYPT_LUKS2);
  for (int slot = 0; slot < count; ++slot) {
    const crypt_keyslot_info info = crypt_keyslot_status(cd, slot);
    if (info == CRYPT_SLOT_ACTIVE || info == CRYPT_SLOT_ACTIVE_LAST) slots.push_back(slot);
  }
  return slots;
}

// Tries `passphrase` on keyslot `slot`, activating nothing: the slot
// number when it opens, -EPERM when it does not, another error otherwise.
int TryOpen(crypt_device* cd, int slot, const SecretBuffer& passphrase) {
  return crypt_activate_by_passphrase(cd, nullptr, slot, passphrase.data(), passphrase.size(), 0);
}

VaultError WrongPassphrase(const char* step) {
  return {ErrorKind::kWrongPassphrase, step, "wrong passphrase"};
}

// The keyslots a passphrase is tried on that argon2 can open within the
// container's memory (vault/pbkdf_memory.h), and what keeps it from the
// others.
struct OpenableKeyslots {
  std::vector<int> slots;
  std::string beyond;  // "keyslot 1 needs 1024 MiB for argon2, ...", or empty when none is out of reach
};

// For an open, the slots libcryptsetup's CRYPT_ANY_SLOT would try, in its
// order: preferred ones first, none of priority "ignore" (a slot named
// alone is opened whatever its priority). For a change (`every_slot`),
// every active slot.
OpenableKeyslots FindOpenableKeyslots(crypt_device* cd, bool every_slot) {
  std::vector<int> tried, normal;
  for (int slot : ActiveKeyslots(cd)) {
    const crypt_keyslot_priority priority = crypt_keyslot_get_priority(cd, slot);
    if (every_slot || priority == CRYPT_SLOT_PRIORITY_PREFER) tried.push_back(slot);
    else if (priority == CRYPT_SLOT_PRIORITY_NORMAL) normal.push_back(slot);
  }
  tried.insert(tried.end(), normal.begin(), normal.end());
  OpenableKeyslots found;
  const std::vector<MemoryBudget> budgets = OwnCgroupMemoryBudgets();
  for (int slot : tried) {
    crypt_pbkdf_type pbkdf{};
    const MemoryBudget* limiting = nullptr;
    if (crypt_keyslot_get_pbkdf(cd, slot, &pbkdf) == 0 && pbkdf.type &&
        std::strcmp(pbkdf.type, CRYPT_KDF_PBKDF2) != 0)
      limiting = TooLittleToOpen(pbkdf.max_memory_kb, budgets);
    if (!limiting) {
      found.slots.push_back(slot);
      continue;
    }
    if (!found.beyond.empty()) found.beyond += "; ";
    found.beyond += "keyslot " + std::to_string(slot) + " needs " + std::to_string(pbkdf.max_memory_kb >> 10) +
                    " MiB for argon2, and the container's memory limit of " +
                    std::to_string(limiting->limit_bytes >> 20) + " MiB leaves " +
                    std::to_string(RoomWhenReclaimed(*limiting) >> 20) + " MiB";
  }
  return found;
}

// Runs `open` (a libcryptsetup call given a keyslot: the slot on success,
// -EPERM for a wrong passphrase) on the keyslots argon2 can open: on any
// slot when that is all of them; else on each that is, in turn, since
// libcryptsetup's own turn would come to one that is not, and the
// out-of-memory killer would end the helper half way through it. Nullopt
// when none is.
std::optional<int> OpenWithinMemory(const OpenableKeyslots& keyslots, const std::function<int(int slot)>& open) {
  if (keyslots.beyond.empty()) return open(CRYPT_ANY_SLOT);
  if (keyslots.slots.empty()) return std::nullopt;
  for (int slot : keyslots.slots) {
    const int rc = open(slot);
    if (rc != -EPERM) return rc;
  }
  return -EPERM;
}

// The refusal when no keyslot could be tried, for want of memory `to` do
// something. Step "keyslot_memory" tells PID 1 that nothing was done.
VaultError OutOfReach(const OpenableKeyslots& keyslots, const char* to) {
  return {ErrorKind::kInvalid, "keyslot_memory", keyslots.beyond + ": raise the limit " + to};
}

// The refusal when the passphrase opened none of the keyslots tried: a
// wrong passphrase (throttled as any), which says which keyslots were
// not tried, since the passphrase may be theirs.
VaultError NotOpened(const OpenableKeyslots& keyslots, const char* step) {
  if (keyslots.beyond.empty()) return WrongPassphrase(step);
  return {ErrorKind::kWrongPassphrase, step,
          "wrong passphrase for every keyslot that fits the container's memory; not tried: " + keyslots.beyond};
}

// The settings of a keyslot about to be made, in *out. Argon2's memory is
// kept within the container's memory limit (vault/pbkdf_memory.h); a
// keyslot that would be left weaker than its floor is refused.
VaultStatus ToLibrary(const PbkdfSettings& s, const char* step, crypt_pbkdf_type* out) {
  crypt_pbkdf_type p{};
  p.type = s.type.c_str();
  p.hash = "sha256";
  p.time_ms = s.time_ms;
  p.iterations = s.iterations;
  p.max_memory_kb = 0;
  if (s.type != CRYPT_KDF_PBKDF2) {
    const MemoryBudget* limiting = nullptr;
    const std::vector<MemoryBudget> budgets = OwnCgroupMemoryBudgets();
    p.max_memory_kb = ArgonMemoryWithin(s.memory_kib, budgets, &limiting);
    if (limiting) {
      const std::string within = "the container's memory limit of " + std::to_string(limiting->limit_bytes >> 20) +
                                 " MiB, " + std::to_string(limiting->used_bytes >> 20) + " MiB of it in use";
      if (p.max_memory_kb < ArgonMemoryFloor(s.memory_kib))
        return VaultError{ErrorKind::kInvalid, step,
                          "argon2 would get only " + std::to_string(p.max_memory_kb) + " KiB for the new keyslot (" +
                              within + "; vault.pbkdf_memory_kib is " + std::to_string(s.memory_kib) +
                              "): raise the limit, at least to twice the cost"};
      (void)std::fprintf(stderr,
                         "tazpod-vault-helper: argon2 memory for the new keyslot capped to %u KiB (not %u): %s; "
                         "raise the limit for the configured cost\n",
                         p.max_memory_kb, s.memory_kib, within.c_str());
    }
  }
  p.parallel_threads = s.type == CRYPT_KDF_PBKDF2 ? 0 : s.parallel;
  p.flags = s.iterations > 0 ? CRYPT_PBKDF_NO_BENCHMARK : 0;
  *out = p;
  return std::nullopt;
}

// libcryptsetup's own messages: errors go to stderr (PID 1 logs the helper's
// stderr), the chatter is dropped. They never contain a passphrase.
void LogCryptsetup(int level, const char* message, void*) {
  if (level != CRYPT_LOG_ERROR || !message) return;
  (void)std::fprintf(stderr, "libcryptsetup: %s", message);  // nobody to tell if stderr fails
}

}  // namespace

void PrepareCryptsetupForContainer() {
  crypt_set_log_callback(nullptr, LogCryptsetup, nullptr);
  // No waiting for udev's confirmations, which never come in a container
  // (libcryptsetup asks libdevmapper). DM_DISABLE_UDEV, which also makes
  // libdevmapper create the /dev/mapper nodes itself, is read when the
  // library is loaded: PID 1 puts it in the helper's environment.
  dm_udev_set_sync_support(0);
  // libcryptsetup's lock directory; it refuses to run without it.
  mkdir("/run/cryptsetup", 0700);
}

std::uint64_t MinimumImageBytes(const LuksLayout& layout) {
  constexpr std::uint64_t kMiB = 1ULL << 20;
  constexpr std::uint64_t kDefaultHeader = 16 * kMiB;  // keyslots left at 0 fill it up
  const std::uint64_t metadata = layout.metadata_bytes ? layout.metadata_bytes : std::uint64_t{16} << 10;
  const std::uint64_t header = layout.keyslots_bytes ? 2 * metadata + layout.keyslots_bytes
                                                     : std::max(kDefaultHeader, 2 * metadata);
  return (header + kMiB - 1) / kMiB * kMiB + 2 * kMiB;
}

VaultStatus FormatLuks2(const std::string& device, const SecretBuffer& passphrase,
                        const PbkdfSettings& pbkdf, const LuksLayout& layout) {
  crypt_device* raw = nullptr;
  int rc = crypt_init(&raw, device.c_str());
  CryptDevice cd(raw);
  if (rc < 0) return SystemError("luks.format", Describe(("crypt_init " + device).c_str(), rc));
  crypt_volume_key_keyring(cd.get(), 0);
  if (layout.metadata_bytes || layout.keyslots_bytes) {
    rc = crypt_set_metadata_size(cd.get(), layout.metadata_bytes, layout.keyslots_bytes);
    if (rc < 0) return VaultError{ErrorKind::kInvalid, "luks.format", Describe("crypt_set_metadata_size", rc)};
  }
  crypt_pbkdf_type kdf{};
  if (auto e = ToLibrary(pbkdf, "luks.format", &kdf)) return e;
  crypt_params_luks2 params{};
  params.pbkdf = &kdf;
  params.sector_size = 0;  // let libcryptsetup pick (4096 on 4K-capable devices)
  rc = crypt_format(cd.get(), CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, 64, &params);
  if (rc < 0) return SystemError("luks.format", Describe("crypt_format", rc));
  rc = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0, passphrase.data(),
                                       passphrase.size());
  if (rc < 0) return SystemError("luks.format", Describe("crypt_keyslot_add_by_volume_key", rc));
  return std::nullopt;
}

VaultStatus ActivateLuks2(const std::string& device, const std::string& name,
                          const SecretBuffer& passphrase) {
  VaultError error;
  CryptDevice cd = Load(device, "luks.activate", &error);
  if (!cd) return error;
  const OpenableKeyslots keyslots = FindOpenableKeyslots(cd.get(), false);
  const std::optional<int> opened = OpenWithinMemory(keyslots, [&](int slot) {
    return crypt_activate_by_passphrase(cd.get(), name.c_str(), slot, passphrase.data(), passphrase.size(), 0);
  });
  if (!opened) return OutOfReach(keyslots, "to open the vault");
  const int rc = *opened;
  if (rc == -EPERM) return NotOpened(keyslots, "luks.activate");
  if (rc == -EEXIST)
    return VaultError{ErrorKind::kBusy, "luks.activate",
                      "a mapping named " + name + " already exists (recovery should have removed it)"};
  if (rc < 0) return SystemError("luks.activate", Describe("crypt_activate_by_passphrase", rc));
  return std::nullopt;
}

VaultStatus VerifyPassphrase(const std::string& device, const SecretBuffer& passphrase) {
  VaultError error;
  CryptDevice cd = Load(device, "luks.verify", &error);
  if (!cd) return error;
  const OpenableKeyslots keyslots = FindOpenableKeyslots(cd.get(), false);
  const std::optional<int> opened =
      OpenWithinMemory(keyslots, [&](int slot) { return TryOpen(cd.get(), slot, passphrase); });
  if (!opened) return OutOfReach(keyslots, "to check a passphrase");
  const int rc = *opened;
  if (rc == -EPERM) return NotOpened(keyslots, "luks.verify");
  if (rc < 0) return SystemError("luks.verify", Describe("crypt_activate_by_passphrase", rc));
  return std::nullopt;
}

VaultStatus ChangePassphrase(const std::string& device, const SecretBuffer& old_passphrase,
                             const SecretBuffer& new_passphrase, const PbkdfSettings& pbkdf) {
  VaultError error;
  CryptDevice cd = Load(device, "luks.passwd", &error);
  if (!cd) return error;
  // Not crypt_keyslot_change_by_passphrase: when the keyslot area has no
  // room left, it writes the new key over the old slot, and a kill between
  // its wipe and its write leaves no passphrase that opens the vault. Here
  // the new passphrase gets a slot of its own before the old one's go, so
  // every moment has at least one working passphrase.
  // Every keyslot is tried, to find all the old passphrase opens: one argon2
  // cannot open here would keep the old passphrase.
  const OpenableKeyslots keyslots = FindOpenableKeyslots(cd.get(), true);
  if (!keyslots.beyond.empty())
    return VaultError{ErrorKind::kInvalid, "keyslot_memory",
                      keyslots.beyond + ": the passphrase is unchanged; change it where the limit is higher"};
  const std::vector<int>& before = keyslots.slots;  // every active keyslot, none left out
  std::vector<int> old_slots;  // every slot the old passphrase opens
  int new_slot = -1;
  {
    SecretBuffer volume_key(static_cast<size_t>(std::max(crypt_get_volume_key_size(cd.get()), 1)));
    if (!volume_key.valid() || !volume_key.locked())
      return SystemError("luks.passwd", "cannot lock memory for the volume key (CAP_IPC_LOCK or RLIMIT_MEMLOCK)");
    size_t key_size = volume_key.capacity();
    const int old_slot = crypt_volume_key_get(cd.get(), CRYPT_ANY_SLOT, volume_key.data(), &key_size,
                                              old_passphrase.data(), old_passphrase.size());
    if (old_slot == -EPERM) return WrongPassphrase("luks.passwd");
    if (old_slot < 0) return SystemError("luks.passwd", Describe("crypt_volume_key_get", old_slot));
    old_slots.push_back(old_slot);
    // The other slots, if any (each try is a key derivation): those the old
    // passphrase opens go too; and a change killed between its steps left
    // the new passphrase one, which a change asked again uses rather than
    // add a second.
    for (int slot : before) {
      if (slot == old_slot) continue;
      int rc = TryOpen(cd.get(), slot, old_passphrase);
      if (rc >= 0) {
        old_slots.push_back(slot);
        continue;
      }
      if (rc == -EPERM && new_slot < 0) rc = TryOpen(cd.get(), slot, new_passphrase);
      if (rc >= 0) new_slot = slot;
      else if (rc != -EPERM) return SystemError("luks.passwd", Describe("crypt_activate_by_passphrase", rc));
    }
    if (new_slot < 0) {
      crypt_pbkdf_type kdf{};
      if (auto e = ToLibrary(pbkdf, "luks.passwd", &kdf)) return e;
      const int rc = crypt_set_pbkdf_type(cd.get(), &kdf);
      if (rc < 0) return SystemError("luks.passwd", Describe("crypt_set_pbkdf_type", rc));
      new_slot = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, volume_key.data(), key_size,
                                                 new_passphrase.data(), new_passphrase.size());
      // libcryptsetup's answer (and log line "No space for new keyslot.")
      // when the keyslot area is full.
      if (new_slot == -EINVAL)
        return VaultError{ErrorKind::kInvalid, "luks.passwd",
                          "no room for a new keyslot beside the old one (" +
                              Describe("crypt_keyslot_add_by_volume_key", new_slot) + "); the passphrase is unchanged"};
      if (new_slot < 0) return SystemError("luks.passwd", Describe("crypt_keyslot_add_by_volume_key", new_slot));
    }
  }  // the volume key is wiped here
  CrashPoint("passwd.added");
  for (int slot : old_slots) {
    if (slot == new_slot) continue;
    const int rc = crypt_keyslot_destroy(cd.get(), slot);
    if (rc < 0)
      return SystemError("luks.passwd", Describe("crypt_keyslot_destroy", rc) +
                                            " (the old passphrase and the new one both open the vault)");
  }
  return std::nullopt;
}

VaultStatus DeactivateMapping(const std::string& name) {
  // Not a crypt mapping libcryptsetup can close, but perhaps one a killed
  // helper left half made under our name (vault/stale_mapping.h).
  if (!MappingExists(name)) return RemoveDeviceMapperName(name, "luks.deactivate");
  crypt_device* raw = nullptr;
  int rc = crypt_init_by_name(&raw, name.c_str());
  CryptDevice cd(raw);
  if (rc < 0) return SystemError("luks.deactivate", Describe(("crypt_init_by_name " + name).c_str(), rc));
  rc = crypt_deactivate_by_name(cd.get(), name.c_str(), 0);
  if (rc == -EBUSY)
    return VaultError{ErrorKind::kBusy, "luks.deactivate", "mapping " + name + " is still in use (mounted?)"};
  if (rc < 0) return SystemError("luks.deactivate", Describe("crypt_deactivate_by_name", rc));
  return std::nullopt;
}

bool MappingExists(const std::string& name) {
  crypt_status_info status = crypt_status(nullptr, name.c_str());
  return status == CRYPT_ACTIVE || status == CRYPT_BUSY;
}

std::string MappingBackingDevice(const std::string& name) {
  crypt_device* raw = nullptr;
  if (crypt_init_by_name(&raw, name.c_str()) < 0) {
    crypt_free(raw);
    return "";
  }
  CryptDevice cd(raw);
  const char* dev = crypt_get_device_name(cd.get());
  return dev ? dev : "";
}

}  // namespace tazpod::vault
