# Crash injection: SIGKILL of PID 1 (the whole container) with the lock's
# helper stopped right after the mapping was removed (before the loop
# device is detached), 5 restarts, in persistent mode; then 3 SIGKILLs of
# that helper alone. What was written before the lock is all there after
# every restart; nothing leaks (crash-lib.sh).
# timeout: 900
# weight: 77
. /usr/lib/tazpod-test/crash-lib.sh
crash_lock_points lock.deactivate "${CRASH_RESTARTS:-5}" "${CRASH_HELPER_KILLS:-3}"
