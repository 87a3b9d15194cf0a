# A container whose memory limit (cgroup v2 memory.max, 192 MiB) is far
# below argon2's configured cost (1 GiB; the guest has 2 GiB, so
# libcryptsetup's own cap, half the RAM, lets it all through): the first
# unlock and a passphrase change make their keyslots within the limit (at
# most half of it, and what the enclave's image leaves) and say so, instead
# of being killed by the out-of-memory killer half way through. In one of
# 96 MiB, where argon2 would get less than its 64 MiB floor, the first
# unlock is refused (exit 4), saying why, and leaves no vault
# (vault/pbkdf_memory.h).
# timeout: 300
# weight: 46
memory_cgroups small $((192 << 20)) tiny $((96 << 20))
cgroup=/sys/fs/cgroup

# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
VAULT_MODE_ARGS=(--mode ram --enclave-size $((32 << 20)))
vault_args_with_argon2_memory 1048576
args=("${VAULT_ARGS[@]}")
# in_cgroup NAME OP: the helper, in the limited cgroup NAME, with the 1 GiB cost.
in_cgroup() { in_memory_cgroup "$1" "$VAULT_HELPER" "$2" "${args[@]}"; }
in_small() { in_cgroup small "$@"; }

printf 'first pass' > pass
rc=0; out=$(in_cgroup tiny unlock <pass 2>err) || rc=$?
echo "first unlock in 96 MiB: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "the first unlock where argon2 would get less than its floor"
[[ $out == *"argon2 would get only"*"raise the limit"* ]] || fail "the refusal does not say why: $out"
[[ -e $VAULT_ENCLAVE/vault.img || -e $VAULT_ENCLAVE/vault.img.creating ]] && fail "the refused first unlock left an image"
count_lines_matching "$cgroup/tiny/memory.events" '^oom_kill 0$'
expect_eq "$MATCHING" 1 "no process killed for memory in the 96 MiB cgroup"
rc=0; out=$(in_small unlock <pass 2>err) || rc=$?
echo "first unlock: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 0 "the first unlock in the limited cgroup"
grep -qE "argon2 memory for the new keyslot capped to [0-9]+ KiB \(not 1048576\)" err ||
  fail "the cap is not said: $(cat err)"
echo data > "$VAULT_MNT/file"
vault_expect 0 lock

printf 'first pass\0second pass' > change
rc=0; out=$(in_small passwd <change 2>err) || rc=$?
echo "passwd: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 0 "the passphrase change in the limited cgroup"
grep -qE "capped to [0-9]+ KiB" err || fail "the cap is not said at the change: $(cat err)"
count_lines_matching "$cgroup/small/memory.events" '^oom_kill 0$'
expect_eq "$MATCHING" 1 "no process killed for memory in the limited cgroup"

printf 'second pass' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/file")" data "data after the change"
vault_expect 0 lock
vault_remove_enclave
