# A lock that cannot ask device-mapper about the vault's mapping (here its
# control node answers no ioctl: a plain file is bound over
# /dev/mapper/control) while sysfs shows the mapping fails at the
# mapping's step, says so, and leaves the mapping for the next lock.
# Before, a query that failed counted as "no such mapping": the lock went
# on to detach the loop device, which the kernel only marks for later
# under a live mapping, and answered `locked` with the key still in the
# kernel.
# timeout: 120
# weight: 12
printf 'pw' | vault_expect 0 unlock
vault_args
: > not-control
mount --bind not-control /dev/mapper/control
answer_again() { umount /dev/mapper/control 2>/dev/null || true; }
trap answer_again EXIT
rc=0
out=$("$VAULT_HELPER" lock "${VAULT_ARGS[@]}" 2>lock.err) || rc=$?
answer_again
cat lock.err
echo "the lock without an answer: $out (exit $rc)"
expect_eq "$rc" 1 "the lock's exit code ($out)"
[[ $out == *'result=error kind=system step=luks.deactivate '* ]] || fail "not a failed deactivation: $out"
[[ $out == *"device-mapper does not answer, and $VAULT_NAME exists"* ]] || fail "the cause is not said: $out"
mapping_exists "$VAULT_NAME" || fail "the mapping went, yet the lock failed"
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=no" "attached after the failed lock"
# device-mapper answers again: the next lock ends the mapping and the loop.
vault_expect 0 lock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the next lock"
# With no device of the vault's name (sysfs shows none), the same silence
# is nothing to remove: a recovery, as at every start, succeeds, as in a
# container not given device-mapper.
mount --bind not-control /dev/mapper/control
rc=0
out=$("$VAULT_HELPER" recover "${VAULT_ARGS[@]}" </dev/null 2>recover.err) || rc=$?
answer_again
expect_eq "$rc" 0 "a recovery without an answer, with no mapping ($out $(cat recover.err))"
vault_remove_enclave
