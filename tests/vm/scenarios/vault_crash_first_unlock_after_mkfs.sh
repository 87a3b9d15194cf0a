# Crash injection: SIGKILL of PID 1 (the whole container) with the first
# unlock's helper stopped right after mkfs, before the new image takes the
# vault's name, 5 restarts, in persistent mode; then 3 SIGKILLs of that
# helper alone. Every restart finds the vault absent again with nothing
# attached and no half-made image; the next first unlock creates it
# (crash-lib.sh).
# timeout: 900
# weight: 126
. /usr/lib/tazpod-test/crash-lib.sh
crash_first_unlock_point unlock.mkfs "${CRASH_RESTARTS:-5}" "${CRASH_HELPER_KILLS:-3}"
