# A first unlock in RAM mode makes its keyslot to fit the container's
# memory, then opens it. If the memory left shrinks in between (the
# container's other processes grew; here memory.max is lowered while the
# helper is stopped at the test-only crash point unlock.format), the
# keyslot no longer fits and is not tried. The new image is deleted, so
# nothing was made: the refusal must be step image_memory (exit 4), which
# PID 1 takes as "still absent", not keyslot_memory, which it takes as
# "a vault exists, still locked" (and the next login would then be asked
# for as an existing one's). Nothing is left attached, no image is left
# and nothing is killed for memory; with the memory back, the same unlock
# makes the vault (vault/vault.cc, Vault::Unlock).
# timeout: 240
# weight: 24
memory_cgroups shrink $((256 << 20))
VAULT_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
VAULT_MODE_ARGS=(--mode ram --enclave-size $((32 << 20)))
vault_args_with_argon2_memory 65536
args=("${VAULT_ARGS[@]}")
make_passfile pass 'first pass'

helper_crash_arm unlock.format
(in_memory_cgroup shrink "$VAULT_HELPER" unlock "${args[@]}" <pass >out 2>err) & unlocking=$!
helper_stopped_at unlock.format out err
helper=$STOPPED_PID
[[ -e $VAULT_ENCLAVE/vault.img.creating ]] || fail "no image being made at unlock.format"
# 8 MiB above what is charged now: far below the keyslot's 64 MiB.
current=$(cat /sys/fs/cgroup/shrink/memory.current)
echo $((current + (8 << 20))) > /sys/fs/cgroup/shrink/memory.max
kill -CONT "$helper"
rc=0; wait "$unlocking" || rc=$?
out=$(cat out)
echo "first unlock, its memory shrunk before activation: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "a first unlock whose new keyslot no longer fits"
[[ $out == *"step=image_memory"* ]] || fail "the refusal is not step image_memory: $out"
[[ $out == *"the new vault was not kept"*"keyslot 0 needs 64 MiB for argon2"* ]] ||
  fail "the refusal does not say that nothing was made, and why: $out"
[[ -e $VAULT_ENCLAVE/vault.img || -e $VAULT_ENCLAVE/vault.img.creating ]] && fail "the refused first unlock left an image"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusal"
count_lines_matching /sys/fs/cgroup/shrink/memory.events '^oom_kill 0$'
expect_eq "$MATCHING" 1 "no process killed for memory"

echo max > /sys/fs/cgroup/shrink/memory.max
rc=0; out=$(in_memory_cgroup shrink "$VAULT_HELPER" unlock "${args[@]}" <pass) || rc=$?
echo "the same first unlock with the memory back: $out (exit $rc)"
expect_eq "$rc" 0 "the first unlock with the memory back"
echo data > "$VAULT_MNT/file"
vault_expect 0 lock
vault_remove_enclave
