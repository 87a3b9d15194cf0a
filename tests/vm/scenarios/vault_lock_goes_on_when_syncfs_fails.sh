# A lock whose flush fails (syncfs reports a write-back error, as a failing
# volume's device does): the flush is the best effort before holders are
# ended, not a step the lock depends on. The error is said on stderr, the
# holder is ended, the vault unmounted and its mapping (with the key) gone.
# Before, the lock stopped at `step=sync` with the key still in the
# kernel, and so did every retry, the one at shutdown too.
# timeout: 120
# weight: 9
printf 'pw' | vault_expect 0 unlock
echo data > "$VAULT_MNT/f"
# A holder: the first unmount is busy, so the lock flushes, then ends it.
as_dev bash -c "cd $VAULT_MNT && : > cwd.ready && exec sleep 1000" & holder=$!
wait_until 30 test -e "$VAULT_MNT/cwd.ready" || fail "the holder did not start"
vault_args
rc=0
out=$(/usr/lib/tazpod-test/failsyscall syncfs 5 "$VAULT_HELPER" lock "${VAULT_ARGS[@]}" 2>lock.err) || rc=$?
cat lock.err
expect_eq "$rc" 0 "lock with syncfs failing ($out)"
[[ $out == *'result=ok state=locked'* ]] || fail "not locked: $out"
grep -q 'syncfs .*Input/output error' lock.err || fail "the failed flush is not said: $(cat lock.err)"
mapping_exists "$VAULT_NAME" && fail "the mapping (and its key) is still there"
wait_until 5 gone "$holder" || fail "the holder was not ended"
wait "$holder" 2>/dev/null || true
# What was written before the lock is there: the unmount wrote it back.
printf 'pw' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/f")" data "the file written before the lock"
vault_expect 0 lock
vault_remove_enclave
