# Kubernetes mounts a memory emptyDir for the enclave (deploy/k8s), mode 1777
# as a shared /tmp: any process of the pod could fill it, or leave a
# vault.img of its own there before the first login. The vault makes a
# mounted enclave root's and 0700 before it uses it, and takes no image
# that is not root's and closed to others: an unlock is refused with a
# message that names the file, and works once it is gone.
# timeout: 240
# weight: 14
mkdir -p "$VAULT_ENCLAVE"
mount -t tmpfs -o size=64m,mode=1777 enclave "$VAULT_ENCLAVE"
as_dev sh -c "head -c 1048576 /dev/zero > $VAULT_ENCLAVE/vault.img"
write_init_config init.toml
start_init init.toml init.log

rc=0; printf '%s\n' 'an enclave passphrase' | tazpod vault unlock --passphrase-stdin > out 2>&1 || rc=$?
cat out
expect_eq "$rc" 4 "unlock with dev's file in the enclave (invalid input)"
grep -q "vault.img is not a vault image of TazPod's (owned by uid 1000" out || fail "the refusal does not name the file and its owner"
expect_eq "$(stat -c '%u %a' "$VAULT_ENCLAVE")" "0 700" "the enclave's owner and mode after the unlock"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusal"

rm "$VAULT_ENCLAVE/vault.img"
printf '%s\n' 'an enclave passphrase' | tazpod vault unlock --passphrase-stdin
expect_eq "$(stat -c '%u %a' "$VAULT_ENCLAVE/vault.img")" "0 600" "the vault image's owner and mode"
tazpod vault lock
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
