# A descriptor of a file in the vault, sent over a Unix socket and never
# received, holds the vault where no /proc file and no sock_diag answer
# shows it. The lock's search finds no holder, the unmount stays busy, and
# the last resort ends the user's processes whose mount namespace mounts
# the vault (the sender, whose socket's queue holds the file, and one that
# holds nothing), then unmounts cleanly. The user's process in a namespace
# without the vault is left alone.
# timeout: 180
# weight: 8
printf 'pw' | vault_expect 0 unlock
start_outsider
as_dev /usr/lib/tazpod-test/inflight "$VAULT_MNT/in-flight.txt" 2>inflight.err & sender=$!
as_dev sleep 1000 & idle=$!
wait_until 60 grep -q 'in flight' inflight.err || fail "the descriptor was not sent: $(cat inflight.err)"
vault_args
rc=0
out=$("$VAULT_HELPER" lock "${VAULT_ARGS[@]}" </dev/null 2>lock.err) || rc=$?
echo "lock: $out (exit $rc)"
cat lock.err
expect_eq "$rc" 0 "lock's exit status"
grep -q "ended the user's processes in its mount namespace" lock.err || fail "the last resort was not said"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
for pid in $sender $idle; do
  wait_until 5 gone "$pid" || fail "process $pid was not ended: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  wait "$pid" 2>/dev/null || true
done
[[ -e /proc/$OUTSIDER/exe ]] || fail "the user's process outside the vault's namespace was ended"
kill "$OUTSIDER"
wait "$OUTSIDER" 2>/dev/null || true
printf 'pw' | vault_expect 0 unlock
[[ -e $VAULT_MNT/in-flight.txt ]] || fail "the sender's file is gone"
vault_expect 0 lock
vault_remove_enclave
