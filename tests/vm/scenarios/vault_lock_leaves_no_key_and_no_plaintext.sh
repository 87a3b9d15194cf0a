# After lock: no mapping (so no volume key in a dm table), no key in the
# kernel keyring, no loop device, no mount; and a plaintext canary written
# into the vault appears nowhere in the enclave's image.
# timeout: 180
# weight: 6
printf 'pw' | vault_expect 0 unlock
canary="TAZPOD-CANARY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for i in 1 2 3; do echo "$canary" > "$VAULT_MNT/canary$i"; done
sync
vault_expect 0 lock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
[[ -z $(dmsetup table 2>/dev/null | grep -v 'No devices found' || true) ]] || fail "a dm table (with a key) remains"
! grep -q cryptsetup /proc/keys || fail "a cryptsetup key remains in the kernel keyring"
! grep -q "$canary" "$VAULT_ENCLAVE/vault.img" || fail "plaintext canary found in the image"
vault_remove_enclave
