# Crash injection: SIGKILL of PID 1 (the whole container) with the lock's
# helper stopped right after it synced a busy vault (a process holds it;
# before the holders are ended), 5 restarts, in persistent mode; then 3
# SIGKILLs of that helper alone. What was written before the lock is all
# there after every restart; nothing leaks (crash-lib.sh).
# timeout: 900
# weight: 90
. /usr/lib/tazpod-test/crash-lib.sh
crash_lock_points lock.sync "${CRASH_RESTARTS:-5}" "${CRASH_HELPER_KILLS:-3}" holder
