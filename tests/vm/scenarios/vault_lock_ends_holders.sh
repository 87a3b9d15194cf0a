# Lock with processes holding the vault (an open file, a working directory,
# one that ignores SIGTERM, an agent whose only hold is the Unix socket it
# bound in the vault, as gpg-agent's is with GNUPGHOME in ~/secrets, one such
# agent that is not dumpable, as ssh-agent makes itself, one in a network
# namespace of its own, whose socket the kernel lists only there, and a
# process whose main thread has exited and whose other thread works in the
# vault): the search finds each one (the lock's last resort is not needed),
# they are ended, the unmount is clean (never lazy), and everything is
# detached.
# timeout: 180
# weight: 17
printf 'pw' | vault_expect 0 unlock
# Each holder leaves a mark once it holds the vault; the lock waits for all
# of them (a fixed sleep was too short for a loaded guest).
as_dev bash -c "cd $VAULT_MNT && : > cwd.ready && exec sleep 1000" & cwd_holder=$!
as_dev bash -c "exec 3>$VAULT_MNT/open.txt; exec sleep 1000" & file_holder=$!
as_dev bash -c "cd $VAULT_MNT && trap '' TERM && : > stubborn.ready && sleep 1000" & stubborn=$!
as_dev /usr/lib/tazpod-test/sockbind "$VAULT_MNT/agent.sock" & socket_holder=$!
as_dev unshare --user --map-root-user --net /usr/lib/tazpod-test/sockbind "$VAULT_MNT/netns-agent.sock" & netns_holder=$!
as_dev_exec /usr/lib/tazpod-test/sockbind --not-dumpable "$VAULT_MNT/ssh-agent.sock" & not_dumpable_holder=$!
as_dev_exec /usr/lib/tazpod-test/threadcwd "$VAULT_MNT" 2>threadcwd.err & thread_holder=$!
holders_ready() {
  [[ -e $VAULT_MNT/cwd.ready && -e $VAULT_MNT/open.txt && -e $VAULT_MNT/stubborn.ready && -S $VAULT_MNT/agent.sock &&
     -S $VAULT_MNT/netns-agent.sock && -S $VAULT_MNT/ssh-agent.sock ]] && grep -q 'thread in' threadcwd.err &&
    grep -q '^State:[[:space:]]*Z' "/proc/$thread_holder/status"  # its main thread has exited
}
if ! wait_until 60 holders_ready; then
  [[ -S $VAULT_MNT/agent.sock ]] || fail "the agent did not bind its socket in the vault"
  [[ -S $VAULT_MNT/netns-agent.sock ]] || fail "the agent in its own network namespace did not bind its socket"
  fail "the holders did not all start within 60 s"
fi
lock_keeping_stderr
[[ -z $(last_resort_pids lock.err) ]] || fail "the search missed a holder, which the last resort ended"
# Each was ended by the lock. (A background job is the shell's copy
# running as_dev, which may outlive its command for a moment.)
for pid in $cwd_holder $file_holder $stubborn $socket_holder $netns_holder $not_dumpable_holder $thread_holder; do
  wait_until 5 gone "$pid" || fail "holder $pid was not ended: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  wait "$pid" 2>/dev/null || true
done
printf 'pw' | vault_expect 0 unlock
[[ -e $VAULT_MNT/open.txt ]] || fail "the holder's file is gone"
vault_expect 0 lock
vault_remove_enclave
