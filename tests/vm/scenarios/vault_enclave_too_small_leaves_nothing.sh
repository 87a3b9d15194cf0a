# An image larger than the enclave: a clear error that names the enclave
# and what to change, no image left, nothing attached.
# timeout: 60
# weight: 5
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_MODE_ARGS=(--mode ram --enclave-size $((8 << 20)) --image-size $((32 << 20)))
rc=0
out=$(printf 'pw' | vault unlock) || rc=$?
echo "$out"
expect_eq "$rc" 4 "exit status with an image larger than the enclave"
[[ $out == *enclave* && $out == *enclave_size* ]] || fail "error does not say what to do: $out"
[[ ! -e $VAULT_ENCLAVE/vault.img ]] || fail "a partial image was left in the enclave"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the failure"
vault_remove_enclave
