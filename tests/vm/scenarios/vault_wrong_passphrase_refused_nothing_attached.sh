# A wrong passphrase is refused with exit 2, leaves nothing attached and the
# vault locked; unlocking while unlocked is refused as busy (3).
# timeout: 180
# weight: 7
printf 'right one' | vault_expect 0 unlock
vault_expect 0 lock
printf 'wrong one' | vault_expect 2 unlock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after a refused passphrase"
[[ $(vault probe) == *state=locked* ]] || fail "vault should still be locked"
printf 'right one' | vault_expect 0 unlock
printf 'right one' | vault_expect 3 unlock
vault_expect 0 lock
vault_remove_enclave
