// CrashPoint: a named step of an unlock or a lock where a test can stop the
// vault helper, to SIGKILL it (or PID 1) at exactly that moment.
//
// The product never has one: without TAZPOD_CRASH_POINTS (every target but
// the test-only `tazpod-vault-helper-crash`, tests/CMakeLists.txt) CrashPoint
// is an empty inline function and nothing of this file reaches the binary.
//
// In the test build, a helper reaching the step named in the file
// kCrashPointFile writes "STEP PID\n" to kCrashReachedFile (whole, by
// rename) and stops itself with SIGSTOP; the vm scenarios `vault_crash_*`
// wait for that file, then kill. The file is read at each step, not
// remembered, so PID 1's pre-started helper sees what the scenario armed
// after it started. Steps: unlock.create, unlock.loop, unlock.format,
// unlock.activate, unlock.mkfs, unlock.mount, lock.sync, lock.umount,
// lock.deactivate, passwd.added (docs/vault.md).
#pragma once

namespace tazpod::vault {

#ifdef TAZPOD_CRASH_POINTS
inline constexpr const char* kCrashPointFile = "/run/tazpod-crash/point";
inline constexpr const char* kCrashReachedFile = "/run/tazpod-crash/reached";
void CrashPoint(const char* step);
#else
inline void CrashPoint(const char*) {}
#endif

}  // namespace tazpod::vault
