# A descriptor of a file in the vault, sent over a Unix socket and never
# received, holds the vault where no /proc file and no sock_diag answer
# shows it. The lock's search finds no holder, the unmount stays busy, and
# the last resort ends the user's processes whose mount namespace mounts
# the vault (the sender, whose socket's queue holds the file, and one that
# holds nothing), then unmounts cleanly. Root's process there, and the
# user's in a namespace without the vault, are left alone.
# timeout: 180
# weight: 14
printf 'pw' | vault_expect 0 unlock
start_outsider
sleep 1000 & roots=$!
as_dev_exec /usr/lib/tazpod-test/inflight "$VAULT_MNT/in-flight.txt" 2>inflight.err & sender=$!
as_dev_exec sleep 1000 & idle=$!
ready() { grep -q 'in flight' inflight.err && runs_as_dev "$idle" sleep; }
wait_until 60 ready || fail "the descriptor was not sent: $(cat inflight.err)"
lock_keeping_stderr
ended=$(last_resort_pids lock.err)
for pid in $sender $idle; do
  [[ $ended == *" $pid "* ]] || fail "the last resort did not end $pid (it ended:${ended:- nothing})"
  wait_until 5 gone "$pid" || fail "process $pid was not ended: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  wait "$pid" 2>/dev/null || true
done
[[ -e /proc/$roots/exe ]] || fail "root's process in the vault's namespace was ended"
[[ -e /proc/$OUTSIDER/exe ]] || fail "the user's process outside the vault's namespace was ended"
kill "$roots" "$OUTSIDER"
wait "$roots" "$OUTSIDER" 2>/dev/null || true
printf 'pw' | vault_expect 0 unlock
[[ -e $VAULT_MNT/in-flight.txt ]] || fail "the sender's file is gone"
vault_expect 0 lock
vault_remove_enclave
