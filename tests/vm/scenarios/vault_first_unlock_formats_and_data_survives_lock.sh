# The first unlock of an absent vault creates the RAM enclave and the image,
# formats LUKS2, makes ext4 and mounts it at ~dev/secrets owned by dev,
# nosuid and nodev; data written there survives lock and unlock.
# timeout: 180
# weight: 13
vault_expect 0 probe
[[ $(vault probe) == *state=absent* ]] || fail "a fresh vault should be absent"
printf 'correct horse' | vault_expect 0 unlock
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "attached after unlock"
expect_eq "$(dm_target "$VAULT_NAME")" crypt "device-mapper target"
expect_eq "$(stat -c '%U %a' "$VAULT_MNT")" "dev 700" "owner and mode of the vault's root"
opts=$(awk -v m="$VAULT_MNT" '$2 == m {print $4}' /proc/self/mounts)
[[ $opts == *nosuid* && $opts == *nodev* ]] || fail "vault mounted without nosuid,nodev: $opts"
enclave_opts=$(awk -v m="$VAULT_ENCLAVE" '$2 == m {print $3, $4}' /proc/self/mounts)
[[ $enclave_opts == tmpfs* && $enclave_opts == *noexec* && $enclave_opts == *mode=700* ]] ||
  fail "enclave is not a 0700 noexec tmpfs: $enclave_opts"

as_dev bash -c "echo 'kubeconfig data' > $VAULT_MNT/kubeconfig"
sync
vault_expect 0 lock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
[[ $(vault probe) == *state=locked* ]] || fail "vault should be locked"

printf 'correct horse' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/kubeconfig")" "kubeconfig data" "data after lock and unlock"
vault_expect 0 lock
vault_remove_enclave
