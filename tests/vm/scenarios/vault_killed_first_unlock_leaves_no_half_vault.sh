# The first unlock makes the image under a temporary name and gives it the
# vault's name only once it holds a LUKS2 header and a file system. A helper
# SIGKILLed at any moment of that first unlock therefore never leaves a
# vault.img that no passphrase opens: recovery removes the half-made image
# and whatever it had attached, the vault is "absent" again, and the next
# first unlock creates it normally.
# timeout: 240
# weight: 17
printf 'first passphrase' > pass
for delay in 0.1 0.4 0.8 1.2 1.6; do
  (vault_exec unlock <pass >/dev/null 2>&1) & helper=$!
  sleep "$delay"
  kill -KILL "$helper" 2>/dev/null || true
  wait "$helper" 2>/dev/null || true
  if [[ -e $VAULT_ENCLAVE/vault.img ]]; then
    # Killed after the rename: a complete vault, which the passphrase opens.
    echo "killed at ${delay}s: after the image was complete"
    vault_expect 0 recover
    printf 'first passphrase' | vault_expect 0 unlock
    vault_expect 0 lock
    rm -f "$VAULT_ENCLAVE/vault.img"
    continue
  fi
  out=$(vault probe)
  echo "killed at ${delay}s: probe: $out"
  vault_expect 0 recover
  expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after a first unlock killed at ${delay}s and recovery"
  [[ -e $VAULT_ENCLAVE/vault.img.creating ]] && fail "the half-made image survived recovery (killed at ${delay}s)"
  [[ $(vault probe) == *"state=absent"* ]] || fail "not absent after recovery (killed at ${delay}s): $(vault probe)"
done
printf 'first passphrase' | vault_expect 0 unlock
echo kept > "$VAULT_MNT/file"
vault_expect 0 lock
printf 'first passphrase' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/file")" kept "data in the vault made after the killed attempts"
vault_expect 0 lock
vault_remove_enclave
