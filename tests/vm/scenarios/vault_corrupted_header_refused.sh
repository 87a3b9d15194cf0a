# A vault whose LUKS2 header was destroyed: unlock fails with a clear error
# ("not a LUKS2 vault, or its header is damaged"), nothing is attached.
# timeout: 120
# weight: 12
printf 'pw' | vault_expect 0 unlock
vault_expect 0 lock
dd if=/dev/zero of="$VAULT_ENCLAVE/vault.img" bs=4096 count=8 conv=notrunc status=none
rc=0
out=$(printf 'pw' | vault unlock) || rc=$?
echo "$out"
expect_eq "$rc" 4 "exit status with a damaged header"
[[ $out == *"header is damaged"* ]] || fail "damage not explained: $out"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the failure"
vault_remove_enclave
