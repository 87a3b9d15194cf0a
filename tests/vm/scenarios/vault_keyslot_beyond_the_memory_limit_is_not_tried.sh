# A vault made where memory was plenty (a keyslot of 256 MiB, argon2),
# opened in a container limited to 192 MiB (cgroup v2 memory.max): the
# helper does not try that keyslot, whose key derivation the out-of-memory
# killer would end half way through, killing the helper. The unlock and
# the passphrase change are refused instead (exit 4, step keyslot_memory,
# which PID 1 takes as "still locked"), naming the keyslot and the limit.
# With a second keyslot that fits (64 MiB), its passphrase opens the vault
# there, and the first passphrase is refused as wrong for the keyslots
# that fit, saying which one did not; set to priority "ignore", it is not
# tried at all, as libcryptsetup would not. No process is killed for memory, and
# outside the limit the first passphrase still opens the vault
# (vault/pbkdf_memory.h).
# timeout: 300
# weight: 101
memory_cgroups keyslots $((192 << 20))

# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
VAULT_MODE_ARGS=(--mode ram --enclave-size $((32 << 20)))
vault_args_with_argon2_memory 262144
args=("${VAULT_ARGS[@]}")
# limited OP: the helper in the 192 MiB cgroup.
limited() { in_memory_cgroup keyslots "$VAULT_HELPER" "$1" "${args[@]}"; }
# no_oom_kill WHAT: the limited cgroup's memory.events shows no kill.
no_oom_kill() {
  count_lines_matching /sys/fs/cgroup/keyslots/memory.events '^oom_kill 0$'
  expect_eq "$MATCHING" 1 "no process killed for memory: $1"
}

make_passfile pass 'first pass'
make_passfile second 'second pass'
rc=0; out=$("$VAULT_HELPER" unlock "${args[@]}" <pass) || rc=$?
echo "first unlock, unlimited: $out (exit $rc)"
expect_eq "$rc" 0 "the first unlock without a limit"
echo data > "$VAULT_MNT/file"
vault_expect 0 lock

rc=0; out=$(limited unlock <pass 2>err) || rc=$?
echo "unlock in 192 MiB: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "an unlock whose only keyslot needs more than the limit"
[[ $out == *"step=keyslot_memory"*"keyslot 0 needs 256 MiB for argon2"*"limit of 192 MiB leaves"*"raise the limit"* ]] ||
  fail "the refusal does not say which keyslot needs what: $out"
no_oom_kill "the unlock"
[[ -e /dev/mapper/$VAULT_NAME ]] && fail "the refused unlock left a mapping"

printf 'first pass\0other pass' > change
rc=0; out=$(limited passwd <change 2>err) || rc=$?
echo "passwd in 192 MiB: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "a passphrase change that could not try every keyslot"
[[ $out == *"step=keyslot_memory"*"the passphrase is unchanged"* ]] || fail "the change's refusal: $out"
no_oom_kill "the passphrase change"

# A second keyslot of 64 MiB, made by cryptsetup (the image is not attached
# while locked).
cryptsetup luksAddKey --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 65536 --pbkdf-parallel 1 \
  --key-file pass "$VAULT_ENCLAVE/vault.img" second
rc=0; out=$(limited unlock <second 2>err) || rc=$?
echo "unlock in 192 MiB with the second passphrase: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 0 "the keyslot that fits opens the vault under the limit"
expect_eq "$(cat "$VAULT_MNT/file")" data "data opened through the second keyslot"
vault_expect 0 lock

rc=0; out=$(limited unlock <pass 2>err) || rc=$?
echo "unlock in 192 MiB with the first passphrase: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 2 "the first passphrase, tried only on the keyslot that fits"
[[ $out == *"kind=wrong_passphrase"*"not tried: keyslot 0 needs 256 MiB"* ]] ||
  fail "the wrong passphrase does not name the keyslot left untried: $out"
no_oom_kill "the unlocks with two keyslots"

# A keyslot of priority "ignore" is one libcryptsetup never tries for an
# open: it is not tried here either, though it fits.
cryptsetup config --priority ignore --key-slot 1 "$VAULT_ENCLAVE/vault.img"
rc=0; out=$(limited unlock <second 2>err) || rc=$?
echo "unlock in 192 MiB, the keyslot that fits ignored: $out (exit $rc); stderr: $(cat err)"
expect_eq "$rc" 4 "no keyslot left to try: the fitting one is ignored"
[[ $out == *"step=keyslot_memory"*"keyslot 0 needs 256 MiB"* ]] || fail "the refusal: $out"
[[ $out == *"keyslot 1"* ]] && fail "the ignored keyslot is named as out of reach: $out"
no_oom_kill "the unlock with the fitting keyslot ignored"

rc=0; out=$("$VAULT_HELPER" unlock "${args[@]}" <pass) || rc=$?
echo "unlock without a limit: $out (exit $rc)"
expect_eq "$rc" 0 "the first passphrase where memory allows"
expect_eq "$(cat "$VAULT_MNT/file")" data "data after the refusals"
vault_expect 0 lock
vault_remove_enclave
