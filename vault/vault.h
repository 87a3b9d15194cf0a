// Vault: the whole lifecycle of one LUKS2 vault, as synchronous operations.
//
// Each operation may take seconds (PBKDF, mkfs) or block in the kernel, so it
// must never run on PID 1's event loop: `tazpod-vault-helper` runs one per
// process (docs/vault.md). Every kernel resource an operation attaches is
// held by an RAII object until the operation succeeds, so an error at any
// step detaches everything the operation attached.
//
// Layout: the image is `image_path`. In RAM mode it lives in a tmpfs
// "enclave" mounted at `enclave_dir` (mode 0700, nosuid, nodev, noexec); in
// persistent mode it is a file on a volume. The mapping is
// /dev/mapper/`mapping_name`, which must be unique on the host: device-mapper
// names are global to the kernel, not per container.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "vault/loop_device.h"
#include "vault/luks_volume.h"
#include "vault/vault_error.h"
#include "vault/vault_state.h"

namespace tazpod::vault {

struct MountLocation;

struct VaultConfig {
  bool ram_mode = true;
  std::string enclave_dir = "/run/tazpod/enclave";
  std::uint64_t enclave_bytes = 256ULL << 20;
  std::string image_path;           // default: enclave_dir/vault.img
  std::uint64_t image_bytes = 0;    // default: the enclave size less 1 MiB (its whole size up to 2 MiB)
  std::string mapping_name;
  std::string mountpoint;
  uid_t owner_uid = 1000;
  gid_t owner_gid = 1000;
  PbkdfSettings pbkdf;
  LuksLayout layout;
  std::chrono::milliseconds holder_grace{3000};
  std::vector<std::string> unlock_hooks;  // run as the owner after a mount
  std::vector<std::string> lock_hooks;    // run as the owner before a lock
  std::chrono::milliseconds hook_timeout{60000};

  std::string ResolvedImagePath() const;
  std::uint64_t ResolvedImageBytes() const;
};

// What is there right now, read from the system (not remembered).
struct VaultProbe {
  bool image_exists = false;
  bool mapping_active = false;
  bool mounted = false;
  VaultState state() const;  // absent, locked or unlocked; failed when half attached
};

// How long each step of the last Lock() took, in microseconds (0 when the
// step did not run). The helper reports them so that a lock's latency can be
// split into the kernel's work (umount, deactivate, detach) and ours.
struct LockTimings {
  long long probe_us = 0;
  long long hooks_us = 0;
  long long holders_us = 0;
  long long sync_us = 0;
  long long umount_us = 0;
  long long deactivate_us = 0;
  long long detach_us = 0;
};

class Vault {
 public:
  explicit Vault(VaultConfig config);

  VaultProbe Probe() const;

  // Unlocks: attaches, activates and mounts, then runs the unlock hooks.
  // When the image does not exist yet it is created with `passphrase` (the
  // first unlock formats) if `if_no_image` says so; otherwise the unlock
  // fails with step "no_image" and changes nothing. The passphrase is
  // wiped once the vault is mounted, before the hooks run.
  VaultStatus Unlock(SecretBuffer& passphrase, IfNoImage if_no_image);

  // Locks: runs the lock hooks, syncs, unmounts (when the file system is
  // busy: ends the processes that hold files in the vault, and unmounts
  // again), deactivates the mapping; the loop device detaches itself.
  VaultStatus Lock();
  // The state after a successful Lock(), without Probe()'s device-mapper
  // and mount-table queries: locked, or absent when there is no image.
  VaultState StateAfterLock() const;

  // What the hooks of the last Unlock() or Lock() reported (they never fail
  // the operation itself).
  const std::vector<std::string>& hook_failures() const { return hook_failures_; }
  const LockTimings& lock_timings() const { return lock_timings_; }

  // Checks a passphrase without activating anything.
  VaultStatus Verify(const SecretBuffer& passphrase) const;

  VaultStatus ChangePassphrase(const SecretBuffer& old_passphrase, const SecretBuffer& new_passphrase);

  // Cleans up what an earlier run left: a mount, a mapping, a loop device.
  // Afterwards the vault is absent or locked. Idempotent.
  VaultStatus Recover();

 private:
  VaultStatus EnsureEnclave();
  // For operations on an existing image only: no symlink, and a regular
  // file there. Looks at the image alone (every login's verify calls it).
  VaultStatus RequireImage(const char* step) const;
  // Where verify and passwd read the LUKS2 header: our loop device while
  // the vault is attached, else one attached for the operation, in
  // *own_loop (kBusy, step "in_use", when another container has the image).
  VaultStatus HeaderDevice(std::string* device, LoopDevice* own_loop) const;
  // A first unlock's image, `vault.img.creating`, made whole and locked
  // (vault/image_lock.h): *created true and its descriptor in *image_fd.
  // Nothing to make when the image exists; with kRefuse, none is made, and
  // a missing image is `no_image` (it may have gone while a failed vault
  // was recovered, after Unlock's first look).
  VaultStatus CreateImage(IfNoImage if_no_image, bool* created, UniqueFd* image_fd);

  void RunHooksOf(const std::vector<std::string>& hooks, const char* phase);
  // The device of the vault's file system (the mapping's), or 0 when the
  // mapping is not active.
  dev_t FileSystemDevice() const;
  // For a lock that finds the active mapping's file system mounted nowhere:
  // true when the user removed its mount point (the lock hooks then could
  // not run), false after an unlock or a lock killed part way.
  bool MountRemoved() const;
  // DeactivateMapping after ending the processes that still hold the
  // vault's file system (on `file_system`, from FileSystemDevice(); 0 ends
  // none) or whose mount namespaces still mount it.
  VaultStatus DeactivateEndingHoldersAndCopies(dev_t file_system);
  // DeactivateMapping, and only when it is busy, the above: for recovery
  // and a failed unlock's way back (the lock does the same, timing each).
  VaultStatus DeactivateEndingWhatHolds(dev_t file_system);
  // For an unmount that was busy: ends the processes holding the vault's
  // file system (on `file_system`) and unmounts `mount` again; if it is
  // still busy, the last resort (EndUserProcessesMounting, holders.h, said
  // on stderr) and once more. `lap` is given lock_timings_'s holders_us or
  // umount_us after each part (a lock's clock; a no-op for recovery and
  // a rollback).
  VaultStatus EndHoldersAndUnmount(const MountLocation& mount, dev_t file_system, const char* step,
                                   const std::function<void(long long&)>& lap);
  // A failed unlock's way back: its mount (of the file system on
  // `file_system`), then its mapping, undone as recovery would undo them,
  // ending what holds them. What still fails is said on stderr (PID 1's).
  void UndoMount(dev_t file_system);
  void UndoMapping();

  VaultConfig config_;
  std::vector<std::string> hook_failures_;
  LockTimings lock_timings_;
};

}  // namespace tazpod::vault
