# Changing the passphrase (a keyslot change, no re-encryption), also while
# the vault is unlocked: the old one is refused, the new one opens it, the
# data is intact.
# timeout: 180
# weight: 8
printf 'old pass' | vault_expect 0 unlock
echo 'token-123' > "$VAULT_MNT/token"
printf 'old pass\0new pass' | vault_expect 0 passwd
vault_expect 0 lock
printf 'old pass' | vault_expect 2 unlock
printf 'old pass' | vault_expect 2 verify
printf 'new pass' | vault_expect 0 verify
printf 'new pass' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/token")" token-123 "data after the passphrase change"
vault_expect 0 lock
vault_remove_enclave
