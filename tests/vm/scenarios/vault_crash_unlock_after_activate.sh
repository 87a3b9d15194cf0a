# Crash injection: SIGKILL of PID 1 (the whole container) with the unlock's
# helper stopped right after the LUKS2 mapping was activated (nothing
# mounted yet), 5 restarts, in persistent mode; then 3 SIGKILLs of that
# helper alone. Every restart recovers with nothing leaked and every synced
# byte there (crash-lib.sh).
# timeout: 900
# weight: 93
. /usr/lib/tazpod-test/crash-lib.sh
crash_unlock_points unlock.activate "${CRASH_RESTARTS:-5}" "${CRASH_HELPER_KILLS:-3}"
