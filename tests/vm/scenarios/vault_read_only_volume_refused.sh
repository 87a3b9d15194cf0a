# Persistent mode on a read-only volume: the first unlock cannot create the
# image and says the volume is read-only; nothing is attached. A vault made
# before the volume became read-only is still verified (through the file:
# no loop device can open it read-write), and a file there that is not
# root's and 0600 is refused as no vault, as on a writable volume.
# timeout: 90
# weight: 8
mkdir -p /ro-volume
mount -t tmpfs -o size=16m,ro tmpfs /ro-volume
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_MODE_ARGS=(--mode persistent --image /ro-volume/vault.img --image-size $((8 << 20)))
rc=0
out=$(printf 'pw' | vault unlock) || rc=$?
echo "$out"
expect_eq "$rc" 4 "exit status on a read-only volume"
[[ $out == *read-only* ]] || fail "read-only volume not explained: $out"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the failure"
umount /ro-volume

mount -t tmpfs -o size=16m tmpfs /ro-volume
printf 'pw' > pass
vault_expect 0 unlock <pass
vault_expect 0 lock
mount -o remount,ro /ro-volume
vault_expect 0 verify <pass
printf 'not it' | vault_expect 2 verify
mount -o remount,rw /ro-volume
chmod 0644 /ro-volume/vault.img
mount -o remount,ro /ro-volume
rc=0; out=$(vault verify <pass) || rc=$?
echo "verify of a 0644 file: $out (exit $rc)"
expect_eq "$rc" 4 "verify of a file open to others on a read-only volume"
[[ $out == *"is not a vault image of TazPod's"* ]] || fail "the file open to others was not refused as no vault: $out"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the verifies"
rm -f pass
umount /ro-volume
