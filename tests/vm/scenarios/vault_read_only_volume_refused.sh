# Persistent mode on a read-only volume: the first unlock cannot create the
# image and says the volume is read-only; nothing is attached.
# timeout: 60
# weight: 2
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
