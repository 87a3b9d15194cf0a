# A helper killed between creating its device-mapper device and loading or
# resuming the table leaves a device under the vault's name that
# libcryptsetup does not recognise. Recovery removes it — with no table, and
# with a table left suspended — and the next unlock works under that name.
# timeout: 120
# weight: 8
printf 'pw' | vault_expect 0 unlock
vault_expect 0 lock

dmsetup create "$VAULT_NAME" --notable
expect_eq "$(vault_attached)" "mapping=yes loop=no mount=no" "a device with no table"
vault_expect 0 recover
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "after recovery of a device with no table"

dmsetup create "$VAULT_NAME" --notable
echo "0 8 error" | dmsetup load "$VAULT_NAME"
dmsetup info "$VAULT_NAME" | grep -q 'Tables present: *INACTIVE' || fail "expected an inactive table: $(dmsetup info "$VAULT_NAME")"
vault_expect 0 recover
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "after recovery of a device never resumed"

echo "0 8 error" | dmsetup create "$VAULT_NAME"
dmsetup suspend "$VAULT_NAME"
vault_expect 0 recover
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "after recovery of a suspended device"

printf 'pw' | vault_expect 0 unlock
vault_expect 0 lock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
