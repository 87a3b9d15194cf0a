# Crash injection: SIGKILL of PID 1 (the whole container) with the first
# unlock's helper stopped right after the new vault was mounted and its
# root given to the user, before the image takes the vault's name; then
# SIGKILLs of that helper alone. Every restart finds the vault absent again
# with nothing attached and no half-made image; the next first unlock
# creates it, and its root is the user's (crash-lib.sh). Before the rename
# came last, a kill here left a vault whose root stayed root's for good.
# Fewer rounds than the other steps: unlock.mkfs crashes the same first
# unlock five times; this step adds the moment after the mount.
# timeout: 600
# weight: 111
. /usr/lib/tazpod-test/crash-lib.sh
crash_first_unlock_point unlock.mount 4 2
