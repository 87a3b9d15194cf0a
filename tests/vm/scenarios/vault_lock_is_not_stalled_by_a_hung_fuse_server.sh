# A FUSE server that stops answering (root's rclone or sshfs mount whose
# remote went away, a stopped daemon) while a process
# holds the vault and has a file of that FUSE mount open. The lock's search
# for holders looks at every process's descriptors and working directory:
# it reads what the kernel already knows of them, and never asks the hung
# server, so the lock ends the holder and completes at once, where a stat
# of the FUSE file would wait for ever (until PID 1's operation timeout,
# with the key still in the kernel, every time the lock was tried again;
# and the helper, in a FUSE wait that not even SIGKILL ends, would stay).
# timeout: 180
# weight: 10
modprobe fuse || fail "no fuse module"
mkdir -p /run/stallfs
/usr/lib/tazpod-test/stallfs /run/stallfs 2>stallfs.err & server=$!
trap 'kill -KILL $server 2>/dev/null; umount -l /run/stallfs 2>/dev/null || true' EXIT
fuse_ready() { [[ $(timeout 5 cat /run/stallfs/f 2>/dev/null) == file ]]; }
wait_until 30 fuse_ready || fail "the FUSE server did not answer: $(cat stallfs.err)"

printf 'pw' | vault_expect 0 unlock
# The holder works in the vault and holds the FUSE file open.
as_dev_exec bash -c "cd $VAULT_MNT && exec 3</run/stallfs/f && : > holder.ready && exec sleep 1000" & holder=$!
wait_until 30 test -e "$VAULT_MNT/holder.ready" || fail "the holder did not start"
# And one that holds only the FUSE file, not the vault: looked at too.
rm -f /tmp/bystander.ready
as_dev_exec bash -c "exec 3</run/stallfs/f && : > /tmp/bystander.ready && exec sleep 1000" & bystander=$!
wait_until 30 test -e /tmp/bystander.ready || fail "the bystander did not start"

kill -USR1 "$server"
# Stalled: a stat of the file now waits, and not even SIGKILL ends the
# wait (FUSE waits out a request its server has read) until the server
# dies, which aborts the mount's requests.
stat /run/stallfs/f >/dev/null 2>&1 & stat_pid=$!
nap 2
gone "$stat_pid" && fail "a stat of the FUSE file did not wait once its server stalled"

vault_args
"$VAULT_HELPER" lock "${VAULT_ARGS[@]}" </dev/null >lock.out 2>lock.err & lock_pid=$!
if ! wait_until 60 gone "$lock_pid"; then
  kill -KILL "$lock_pid"
  fail "the lock waited on the hung FUSE server for 60 s: $(cat lock.err)"
fi
rc=0; wait "$lock_pid" || rc=$?
echo "lock: $(cat lock.out) (exit $rc)"; cat lock.err
expect_eq "$rc" 0 "the lock's exit status while a FUSE server hangs"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock"
wait_until 5 gone "$holder" || fail "the holder was not ended"
wait "$holder" 2>/dev/null || true
gone "$bystander" && fail "the lock ended a process that did not hold the vault"

kill -KILL "$bystander" "$server"
wait "$bystander" "$server" "$stat_pid" 2>/dev/null || true
umount -l /run/stallfs
trap - EXIT
rm -f stallfs.err lock.out lock.err /tmp/bystander.ready
vault_remove_enclave
