# Ctrl+C while the login waits for its unlock: the unlock goes on in PID 1
# either way, so the login holds the key's signal, says at once that it
# waits for the answer, then says the vault was unlocked but the login
# interrupted, and gives no shell (exit 4). Before, Ctrl+C killed it with no word (exit 130). The unlock waits in a hook, so the Ctrl+C
# surely comes during it; the vault locks once the login is gone, as after
# any last session.
# timeout: 240
# weight: 22
write_init_config init.toml
with_held_unlocks init.toml
start_init init.toml init.log
create_locked_vault 'the right passphrase'

rm -f /tmp/ctrl-c-sent
printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send the right passphrase\r' 'expect Unlocking...' \
  'send \x03' 'expect waiting for its answer' 'mark /tmp/ctrl-c-sent' 'expect the login was interrupted: no shell.' \
  'wait' > login.script
/usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> login.transcript & driver=$!
wait_log init.log 'vault.state from=locked to=unlocking' 60
wait_file /tmp/ctrl-c-sent 60 "the Ctrl+C was typed and answered while the unlock was held" login.transcript
read -r login < /tmp/ctrl-c-sent
nap 0.5
gone "$login" && fail "the login was ended by the Ctrl+C during its unlock: $(cat login.transcript)"
touch /tmp/release-unlock
rc=0; wait "$driver" || rc=$?
cat login.transcript
expect_eq "$rc" 4 "the login's exit status after Ctrl+C during its unlock"
grep -q 'The vault was unlocked, but the login was interrupted: no shell.' login.transcript ||
  fail "the login did not say what was done, and that it was interrupted"
grep -q 'Vault open at' login.transcript && fail "the interrupted login went on to the shell"
# create_locked_vault's lock, then the one after the interrupted login.
wait_log_count init.log 'vault.state from=locking to=locked' 2 60
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-unlock /tmp/ctrl-c-sent
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
