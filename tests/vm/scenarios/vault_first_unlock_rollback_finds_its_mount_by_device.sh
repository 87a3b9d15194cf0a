# A first unlock that fails after its mount undoes the mount by the file
# system's device, as the lock does, never by the path ~/secrets. In the
# container's own mount namespace that path is an ordinary directory of
# dev's: dev may rename it (the kernel moves the new vault's mount in the
# vault's namespace with it) and put a symbolic link to another mount in
# its place. The unlock then refuses the link, and its rollback used to
# follow it: it unmounted the link's target in the vault's namespace and
# left the new vault mounted, and mapped, at the renamed directory.
# The helper is held right after the mount by the test build's crash point
# (crash-lib.sh), and continued once the swap is made.
# timeout: 300
# weight: 22
. /usr/lib/tazpod-test/crash-lib.sh
crash_setup
victim=/srv/victim
mkdir -p "$victim"
mount -t tmpfs -o size=1m victim "$victim"
crash_start
in_vault grep -q " $victim " /proc/self/mounts || fail "no $victim in the vault's namespace to begin with"

crash_operation_at unlock.mount ctr_unlock
ctr setpriv --reuid=1000 --regid=1000 --clear-groups \
  sh -c "mv /home/dev/secrets /home/dev/moved && ln -s $victim /home/dev/secrets"
in_vault grep -q ' /home/dev/moved ' /proc/self/mounts ||
  fail "the new vault's mount did not move with the directory: $(in_vault cat /proc/self/mounts)"
kill -CONT "$CRASH_STOPPED"
rc=0; wait "$CRASH_CLIENT" || rc=$?
CRASH_CLIENT=''
echo "the first unlock (exit $rc): $(cat client.out)"
[[ $rc -ne 0 ]] || fail "the first unlock succeeded on a swapped mount point"

in_vault grep -q " $victim " /proc/self/mounts || fail "the rollback unmounted the symbolic link's target, $victim"
in_vault grep -q ' /home/dev/moved ' /proc/self/mounts && fail "the new vault is still mounted at ~/moved"
mapping_exists "$VAULT_NAME" && fail "the new vault's mapping (its key) is still there"
count_loops
expect_eq "$LOOPS" 0 "loop devices after the rollback"
[[ ! -e $CRASH_VOLUME/vault.img && ! -e $CRASH_VOLUME/vault.img.creating ]] ||
  fail "an image is left after the failed first unlock: $(ls -l "$CRASH_VOLUME")"

# Put back, the next first unlock makes the vault, and its root is dev's.
ctr sh -c 'rm /home/dev/secrets && mv /home/dev/moved /home/dev/secrets'
ctr_unlock
crash_expect_one_vault
crash_expect_root_is_the_users
ctr_lock
crash_teardown
umount "$victim"
