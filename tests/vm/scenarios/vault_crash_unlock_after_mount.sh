# Crash injection: SIGKILL of PID 1 (the whole container) with the unlock's
# helper stopped right after the vault was mounted (before the unlock
# hooks and the answer), 5 restarts, in persistent mode; then 3 SIGKILLs
# of that helper alone. Every restart recovers with nothing leaked and every
# synced byte there (crash-lib.sh).
# timeout: 900
# weight: 92
. /usr/lib/tazpod-test/crash-lib.sh
crash_unlock_points unlock.mount "${CRASH_RESTARTS:-5}" "${CRASH_HELPER_KILLS:-3}"
