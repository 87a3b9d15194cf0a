# A second Ctrl+C while the login waits for its unlock leaves at once
# (exit 4, no shell), without PID 1's answer: the unlock the first one could
# not stop ends in PID 1 all the same, finds its login gone, opens no
# session, and the vault locks again. The unlock waits in a hook, so both
# keys surely come during it.
# timeout: 240
# weight: 17
write_init_config init.toml
with_held_unlocks init.toml
start_init init.toml init.log
create_locked_vault 'the right passphrase'

rm -f /tmp/unlock-held /tmp/login-left
printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send the right passphrase\r' 'expect Unlocking...' \
  'await /tmp/unlock-held' 'send \x03' 'expect press again to leave now' 'send \x03' \
  'expect left before PID 1 answered; no shell.' 'mark /tmp/login-left' 'wait' > login.script
/usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> login.transcript & driver=$!
wait_log init.log 'vault.state from=locked to=unlocking' 60
touch /tmp/unlock-held
rc=0; wait "$driver" || rc=$?
cat login.transcript
expect_eq "$rc" 4 "the login's exit status after a second Ctrl+C during its unlock"
[[ -e /tmp/login-left ]] || fail "the login did not say it left without the answer"
grep -q 'Vault open at' login.transcript && fail "the login that left went on to the shell"
[[ $(tazpod vault status) == "state=unlocking"* ]] ||
  fail "the login left only once the unlock was done: $(tazpod vault status)"

release_gone_login_unlock init.log
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-unlock /tmp/unlock-held /tmp/login-left
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
