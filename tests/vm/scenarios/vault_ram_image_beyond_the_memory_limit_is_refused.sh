# A first unlock in RAM mode whose image (127 MiB, in a 128 MiB enclave)
# does not fit the container's memory limit (cgroup v2 memory.max, 96 MiB):
# the tmpfs pages cannot be reclaimed, so posix_fallocate would meet the
# out-of-memory killer, which ends the container's largest process. The
# helper refuses it first instead (exit 4, step image_memory, which PID 1
# takes as "nothing was done"), naming the image, the limit and the keys to
# change, leaves no image and kills nothing. Outside the limit the same
# unlock makes the vault (vault/vault.cc, RefuseImageBeyondMemory).
# So is an image that fits (in 200 MiB) but would leave argon2, once in
# use, below the floor of a 128 MiB cost: refused before a byte is written,
# not after the whole image, with the image named as the cause.
# timeout: 240
# weight: 12
memory_cgroups tiny $((96 << 20)) starved $((200 << 20))

# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
VAULT_MODE_ARGS=(--mode ram --enclave-size $((128 << 20)))
vault_args
args=("${VAULT_ARGS[@]}")

make_passfile pass 'first pass'
rc=0; out=$(in_memory_cgroup tiny "$VAULT_HELPER" unlock "${args[@]}" <pass 2>err) || rc=$?
echo "first unlock in 96 MiB: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "the first unlock of an image beyond the memory limit"
[[ $out == *"step=image_memory"* ]] || fail "the refusal is not step image_memory: $out"
[[ $out == *"a 127 MiB image in the enclave"*"limit of 96 MiB"*"lower vault.image_size"* ]] ||
  fail "the refusal does not say why: $out"
[[ -e $VAULT_ENCLAVE/vault.img || -e $VAULT_ENCLAVE/vault.img.creating ]] && fail "the refused first unlock left an image"
count_lines_matching /sys/fs/cgroup/tiny/memory.events '^oom_kill 0$'
expect_eq "$MATCHING" 1 "no process killed for memory in the 96 MiB cgroup"

vault_args_with_argon2_memory $((128 << 10))
rc=0; out=$(in_memory_cgroup starved "$VAULT_HELPER" unlock "${VAULT_ARGS[@]}" <pass 2>err) || rc=$?
echo "first unlock in 200 MiB with a 128 MiB argon2 cost: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "the first unlock of an image that would starve argon2"
[[ $out == *"step=image_memory"* ]] || fail "the refusal is not step image_memory: $out"
[[ $out == *"a 127 MiB image in the enclave would leave argon2 "*" MiB for the vault's keyslot, below its 64 MiB floor"*"limit of 200 MiB"*"lower vault.image_size"* ]] ||
  fail "the refusal does not name the image as the cause: $out"
[[ -e $VAULT_ENCLAVE/vault.img || -e $VAULT_ENCLAVE/vault.img.creating ]] && fail "the refused first unlock left an image"
count_lines_matching /sys/fs/cgroup/starved/memory.events '^oom_kill 0$'
expect_eq "$MATCHING" 1 "no process killed for memory in the 200 MiB cgroup"

vault_expect 0 unlock <pass
echo data > "$VAULT_MNT/file"
vault_expect 0 lock
vault_remove_enclave
