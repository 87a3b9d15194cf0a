# A container with /dev/loop-control but no /dev/loopN nodes (as Docker
# gives): the vault creates the node it needs with mknod, unlocks and locks.
# Without /dev/loop-control: a clear error that says what the container needs.
# timeout: 180
cat > inner.sh <<'INNER'
set -euo pipefail
. /usr/lib/tazpod-test/scenario-lib.sh
mount -t tmpfs -o mode=0755 tmpfs /dev
mknod -m 0600 /dev/loop-control c 10 237
mkdir /dev/mapper && mknod -m 0600 /dev/mapper/control c 10 236
mknod -m 0666 /dev/null c 1 3
mknod -m 0666 /dev/urandom c 1 9
mknod -m 0666 /dev/random c 1 8
ln -s /proc/self/fd /dev/fd
ls /dev/loop[0-9]* 2>/dev/null && fail "loop nodes present before unlock"
printf 'pw' | vault_expect 0 unlock
ls /dev/loop[0-9]* >/dev/null || fail "no loop node was created"
echo data > "$VAULT_MNT/f"
vault_expect 0 lock
rm /dev/loop-control
out=$(printf 'pw' | vault unlock) && fail "unlock without /dev/loop-control succeeded"
echo "$out"
[[ $out == *loop-control* ]] || fail "missing /dev/loop-control not explained: $out"
INNER
# A private mount namespace, so the guest's own /dev is untouched.
unshare --mount --propagation private bash inner.sh
vault_remove_enclave
