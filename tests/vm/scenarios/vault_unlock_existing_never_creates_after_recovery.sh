# `unlock-existing` (every unlock but a first login's) never makes a vault,
# not even when the image goes while it first recovers a failed vault: it
# saw an image before the recovery, and the creation after it used to make
# a new vault with a passphrase nobody had confirmed.
# The failed vault: unlocked, then unmounted here while a mount namespace
# copied meanwhile still mounts it (the mapping stays busy). Recovery ends
# that copy's process; on its SIGTERM, that process deletes the image.
# timeout: 120
# weight: 7
image=$VAULT_ENCLAVE/vault.img
printf 'pw' | vault_expect 0 unlock
unshare --mount --propagation private \
  sh -c "trap 'rm -f $image; exit 0' TERM; echo ready; while :; do sleep 0.1; done" > copy.out 2>&1 &
copy=$!
wait_until 20 grep -q ready copy.out || fail "the namespace copy did not start: $(cat copy.out)"
umount "$VAULT_MNT"
out=$(vault probe) || true
[[ $out == *"state=failed"* ]] || fail "the vault is not failed once unmounted with its mapping kept: $out"

# Recovery gives the copy's process the holder grace to end: 20 s here
# (scenario-lib's 1 s would be tight for its trap to fork rm in a slow
# guest). It ends within a moment of the SIGTERM.
vault_args
for (( i = 0; i < ${#VAULT_ARGS[@]}; i++ )); do
  if [[ ${VAULT_ARGS[i]} == --holder-grace-ms ]]; then VAULT_ARGS[i + 1]=20000; fi
done
rc=0; out=$(printf 'pw' | "$VAULT_HELPER" unlock-existing "${VAULT_ARGS[@]}") || rc=$?
echo "vault unlock-existing: $out (exit $rc)"
expect_eq "$rc" 4 "unlock-existing once the image went during its recovery (no_image)"
[[ $out == *"step=no_image"* ]] || fail "not refused as no_image: $out"
wait "$copy" || true
[[ -e $image ]] && fail "unlock-existing made a new vault at $image"
mapping_exists "$VAULT_NAME" && fail "the mapping is left"
count_loops
expect_eq "$LOOPS" 0 "loop devices after the refused unlock"
out=$(vault probe) || true
[[ $out == *"state=absent"* ]] || fail "the vault is not absent after the refusal: $out"
vault_remove_enclave
