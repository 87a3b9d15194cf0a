# A container with /dev/loop-control but no /dev/loopN nodes (as Docker
# gives): the vault creates the node it needs with mknod, unlocks and locks.
# Without /dev/loop-control: a clear error that says what the container needs.
# The loop driver is loaded with partitions (loop.max_part=3, as some hosts
# set it), where loopN's minor is not N but 4N: the node made is the one
# sysfs names (made as 7:N, /dev/loop1 would be loop0's first partition).
# Where sysfs names something else (here a file bound over it), the unlock
# is refused, naming it, and no node is made from a guess.
# timeout: 180
# weight: 15
# The driver can be reloaded only with no loop device in use (the scenarios
# before this one left none: the harness checks).
reload_loop() {
  modprobe -r loop || fail "cannot unload the loop driver: $(ls /sys/block)"
  modprobe loop "$@" || fail "cannot load the loop driver with '$*'"
}
reload_loop max_part=3
trap 'losetup -D; reload_loop' EXIT
expect_eq "$(cat /sys/module/loop/parameters/max_part)" 3 "the loop driver's max_part"
# loop0 taken (in the guest's own /dev), so the vault's is loop1: minor 4.
truncate -s 1M /tmp/loop0-taker
losetup /dev/loop0 /tmp/loop0-taker
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
echo 8:0 > /tmp/not-a-loop-dev
mount --bind /tmp/not-a-loop-dev /sys/block/loop1/dev
out=$(printf 'pw' | vault unlock 2>&1) && fail "unlock with sysfs naming 8:0 succeeded: $out"
echo "$out"
[[ $out == *'/sys/block/loop1/dev names 8:0, not a loop device'* ]] || fail "sysfs's 8:0 not named: $out"
ls /dev/loop[0-9]* 2>/dev/null && fail "a loop node was made from a guess"
umount /sys/block/loop1/dev
printf 'pw' | vault_expect 0 unlock
ls /dev/loop[0-9]* >/dev/null || fail "no loop node was created"
for node in /dev/loop[0-9]*; do
  read -r major minor < <(stat -c '%t %T' "$node")  # hex
  expect_eq "$((16#$major)):$((16#$minor))" "$(cat "/sys/block/${node#/dev/}/dev")" "the device number of $node"
done
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
losetup -d /dev/loop0
rm -f /tmp/loop0-taker
