# Crash injection: SIGKILL of PID 1 (the whole container) while a user's
# process appends to a file in the vault past a synced prefix, 5 restarts,
# in persistent mode. Every restart recovers with nothing leaked and the
# synced prefix whole (crash-lib.sh). No helper runs then: there is only PID 1
# to kill.
# timeout: 900
# weight: 76
. /usr/lib/tazpod-test/crash-lib.sh
crash_write_point "${CRASH_RESTARTS:-5}"
