// Unlock and lock hooks: programs the user configures to run as the
// workstation user, with the vault mounted (fetch secrets with Infisical or
// SOPS into it after unlock; push or clean up before lock).
//
// A hook runs with the user's uid, gid and supplementary groups (never
// root), in the vault's directory, with a small clean environment (HOME,
// USER, LOGNAME, PATH, TAZPOD_VAULT=the mountpoint, TAZPOD_HOOK=unlock|lock),
// stdin from /dev/null, and a timeout after which it is killed. A failing
// hook is reported; it never fails the unlock or the lock.
//
// Its stdout and stderr are a pipe of its own, copied to the caller's
// stderr while the hook runs and closed once it has exited: a child the
// hook leaves running then writes to a pipe nobody reads, not to the
// caller's stderr (PID 1's log) for the rest of its life.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace tazpod::vault {

struct HookUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string home;
};

// Runs each hook in order; returns a message per hook that failed (empty
// when all succeeded).
std::vector<std::string> RunHooks(const std::vector<std::string>& hooks, const char* phase,
                                  const HookUser& user, const std::string& vault_dir,
                                  std::chrono::milliseconds timeout);

}  // namespace tazpod::vault
