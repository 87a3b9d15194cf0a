# A login's unlock whose helper is killed by someone else (the kernel's
# out-of-memory killer, say) while an unlock hook runs in the mounted
# vault: PID 1 ends the hook and the children it put in process groups of
# their own, as at the operation's timeout, and, with no session open and
# so no exit to lock it, the gate locks the vault at once. Before, the vault
# stayed mounted for nobody, the hook's children in it, until a next login
# or a lock.
# timeout: 240
# weight: 29
write_linger_hook
write_init_config init.toml
sed -i 's|^\[vault\]$|[vault]\nunlock_hooks = ["/opt/hooks/linger"]|' init.toml
start_init init.toml init.log
create_locked_vault 'the right passphrase'

vault_closed() { [[ $(vault_attached) == "mapping=no loop=no mount=no" ]]; }

printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send the right passphrase\r' 'expect Unlocking...' \
  'wait' > login.script
/usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> login.transcript & driver=$!
await_linger_hook init.log login.transcript
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "attached while the unlock hook runs"

kill -KILL "$LINGER_HELPER"
rc=0; wait "$driver" || rc=$?
cat login.transcript
(( rc != 0 )) || fail "the login went on after its unlock failed"
grep -q 'Vault open at' login.transcript && fail "the login whose unlock failed reached the shell"
grep -q 'killed by SIGKILL, not by tazpod' login.transcript || fail "the login was not told why its unlock failed"
wait_log init.log "vault.helper.session_killed pid=$LINGER_HELPER processes=3" 10
wait_until 5 session_empty "$LINGER_HELPER" || fail "left in the helper's session: $(in_session "$LINGER_HELPER")"
# No further command: the gate locks what the failed unlock left.
wait_log init.log 'gate.lock reason=unlock_failed' 30
wait_until 60 vault_closed || fail "the vault stayed attached with no session: $(vault_attached)"
wait_log init.log 'vault.state from=locking to=locked' 30
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state once the gate locked the failed vault"
grep -q 'session.open' init.log && fail "a session was opened: $(grep 'session\.' init.log)"

kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/linger-helper.pid
vault_remove_enclave
