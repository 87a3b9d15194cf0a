# A first unlock that fails after its mount takes the mount back even when a
# process got into the new vault meanwhile: that process is ended, as a
# lock ends the vault's holders, and the mount, the mapping (the key), the
# loop device and the half-made image all go. Before, the rollback's
# unmount was refused as busy and ignored: the failed unlock left the new
# vault mounted, its key in the kernel.
# The helper is held right after the mount by the test build's crash
# point (crash-lib.sh); meanwhile one of dev's processes starts working in
# the vault (where the vault's mount namespace is the container's, any of
# dev's processes can), and "another container" completes its vault on the
# volume, so that the rename that would complete this one is refused.
# timeout: 300
# weight: 25
. /usr/lib/tazpod-test/crash-lib.sh
crash_setup
crash_start

crash_operation_at unlock.mount ctr_unlock
in_vault setpriv --reuid=1000 --regid=1000 --clear-groups \
  sh -c "cd $VAULT_MNT && echo \$\$ && exec sleep 300" > holder.out 2>&1 &
holder=$!
wait_until 20 grep -q '^[0-9]' holder.out || fail "dev's process did not get into the new vault: $(cat holder.out)"
read -r holder_pid < holder.out  # as the container's PID namespace numbers it
(umask 077 && : > "$CRASH_VOLUME/vault.img")

kill -CONT "$CRASH_STOPPED"
rc=0; wait "$CRASH_CLIENT" || rc=$?
CRASH_CLIENT=''
echo "the first unlock (exit $rc): $(cat client.out)"
expect_eq "$rc" 3 "the first unlock's exit status (busy)"
grep -q 'another container made the vault' client.out || fail "the unlock did not say why: $(cat client.out)"

in_vault grep -q " $VAULT_MNT " /proc/self/mounts && fail "the new vault is still mounted at $VAULT_MNT"
mapping_exists "$VAULT_NAME" && fail "the new vault's mapping (its key) is still there"
count_loops
expect_eq "$LOOPS" 0 "loop devices after the rollback"
[[ ! -e $CRASH_VOLUME/vault.img.creating ]] || fail "the half-made image is left: $(ls -l "$CRASH_VOLUME")"
wait_until 10 ctr test ! -e "/proc/$holder_pid" || fail "dev's process in the new vault was not ended"
wait "$holder" || true  # its status is the signal's

# The planted image gone, the next first unlock makes the vault.
rm "$CRASH_VOLUME/vault.img"
ctr_unlock
crash_expect_one_vault
crash_expect_root_is_the_users
ctr_lock
crash_teardown
