# Two "containers" given one persistent image (a ReadWriteMany volume, a
# replacement pod started before the old one stopped), each with its own
# mapping name and mount point: while A has the vault attached, B's
# recovery and B's lock leave A's loop device alone, and B's unlock and
# verify are refused (exit 3, "in use", naming A's loop device even when
# B names the image through a symlinked directory), attaching nothing, so
# ext4 is never mounted twice; A's own verify goes through its loop device. Once A
# locks, B unlocks it. The same while A is still making the vault (stopped
# right after creating vault.img.creating, before filling it): B's
# recovery keeps A's half-made image, and B's first unlock is refused.
# (vault/image_lock.h: an OFD lock held by the loop device's open file.)
# timeout: 240
# weight: 33
mkdir -p /volume /run/share
mount -t tmpfs -o size=160m tmpfs /volume
product_helper=$VAULT_HELPER
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_MODE_ARGS=(--mode persistent --image /volume/vault.img --image-size $((48 << 20)))
# shellcheck disable=SC2034
as_a() { VAULT_NAME=tazpod-share-a VAULT_MNT=/run/share/a; }
# shellcheck disable=SC2034
as_b() { VAULT_NAME=tazpod-share-b VAULT_MNT=/run/share/b; }
printf 'pw' > pass

as_a
vault_expect 0 unlock <pass
echo A > /run/share/a/who
sync
as_b
vault_expect 0 recover
as_a
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "A's vault after B's recovery"
expect_eq "$(cat /run/share/a/who)" A "A's data after B's recovery"
as_b
rc=0; out=$(vault unlock <pass) || rc=$?
echo "B's unlock: $out (exit $rc)"
expect_eq "$rc" 3 "B's unlock while A has the vault"
[[ $out == *"is in use"*"here as /dev/loop"* ]] || fail "the refusal does not say where the image is in use: $out"
# The same image through a symlinked directory, and with "//" in its path:
# sysfs shows the path resolved, and A's loop device is still found.
ln -sfn /volume /run/volume-link
for other in /run/volume-link/vault.img /volume//vault.img; do
  rc=0
  # shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
  out=$(VAULT_MODE_ARGS=(--mode persistent --image "$other"); vault unlock <pass) || rc=$?
  echo "B's unlock as $other: $out (exit $rc)"
  expect_eq "$rc" 3 "B's unlock as $other while A has the vault"
  [[ $out == *"is in use"*"here as /dev/loop"* ]] || fail "as $other, the refusal does not find A's loop device: $out"
done
rm /run/volume-link
mapping_exists tazpod-share-b && fail "B's refused unlock left a mapping"
count_loops
expect_eq "$LOOPS" 1 "loop devices after B's refused unlock"
mounted_here /run/share/b && fail "B's refused unlock mounted something"
rc=0; out=$(vault verify <pass) || rc=$?
echo "B's verify: $out (exit $rc)"
expect_eq "$rc" 3 "B's verify while A has the vault"
printf 'pw\0pw2' > change
rc=0; out=$(vault passwd <change) || rc=$?
echo "B's passwd: $out (exit $rc)"
expect_eq "$rc" 3 "B's passphrase change while A has the vault"
vault_expect 0 lock
as_a
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "A's vault after B's lock"
vault_expect 0 verify <pass
# The same image by a path that is not normal (a trailing slash on the
# volume's directory, say): still A's own.
rc=0
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
out=$(VAULT_MODE_ARGS=(--mode persistent --image /volume//vault.img); vault verify <pass) || rc=$?
expect_eq "$rc" 0 "A's verify by another spelling of its image's path: $out"
# Another vault whose mapping has A's name (device-mapper names are the
# host's): its verify does not read A's header.
mkdir -p /volume/other
truncate -s 16M /volume/other/vault.img
rc=0
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
out=$(VAULT_MODE_ARGS=(--mode persistent --image /volume/other/vault.img); vault verify <pass) || rc=$?
echo "verify of another image under A's mapping name: $out (exit $rc)"
expect_eq "$rc" 4 "verify of another image under A's mapping name"
[[ $out == *"is not on /volume/other/vault.img"* ]] || fail "the clash is not explained: $out"
rm -r /volume/other

as_a
vault_expect 0 lock
# Locked: verify and passwd through a loop device of their own, gone after.
vault_expect 0 verify <pass
count_loops
expect_eq "$LOOPS" 0 "loop devices after a verify of the locked vault"
as_b
vault_expect 0 unlock <pass
expect_eq "$(cat /run/share/b/who)" A "A's data in B's unlock"
vault_expect 0 lock

# A first unlock stopped half way (vault.img.creating just created and
# locked, not yet filled or attached), and B beside it.
rm /volume/vault.img
as_a
VAULT_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
helper_crash_arm unlock.create
(vault_exec unlock <pass >a.out 2>&1) & a_helper=$!
helper_stopped_at unlock.create a.out
as_b
VAULT_HELPER=$product_helper
vault_expect 0 recover
[[ -e /volume/vault.img.creating ]] || fail "B's recovery removed the image A is making"
rc=0; out=$(vault unlock <pass) || rc=$?
echo "B's first unlock: $out (exit $rc)"
expect_eq "$rc" 3 "B's first unlock while A makes the vault"
[[ $out == *"another container is making the vault"* ]] || fail "the refusal does not say why: $out"
kill -CONT "$a_helper"
rc=0; wait "$a_helper" || rc=$?
expect_eq "$rc" 0 "A's first unlock, continued: $(cat a.out)"
as_a
vault_expect 0 lock
as_b
vault_expect 0 unlock <pass
vault_expect 0 lock
umount /volume
