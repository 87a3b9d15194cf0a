# Two sessions: the first exit leaves the vault unlocked, and the second
# session ending by SIGKILL still counts as an exit: the vault is locked.
# timeout: 300
# weight: 24
write_init_config init.toml
start_init init.toml init.log
create_locked_vault 'shared passphrase'
session() {  # session N: log in, wait for /tmp/release-N, exit
  printf '%s\n' 'expect Vault passphrase:' 'send shared passphrase\r' 'expect $ ' \
    "send while [ ! -e /tmp/release-$1 ]; do sleep 0.2; done; exit\\r" 'wait' > "s$1.script"
  /usr/lib/tazpod-test/ptydrive "s$1.script" -- tazpod login 2> "s$1.transcript"
}
session 1 & first=$!
wait_log init.log 'session.open .*sessions=1' 120
session 2 & second=$!
wait_log init.log 'session.open .*sessions=2' 120
touch /tmp/release-1
wait "$first" || fail "first session: $(cat s1.transcript)"
wait_log init.log 'session.close .*sessions=1' 30
expect_eq "$(tazpod vault status)" "state=unlocked busy=false" "state with one session left"
shell=$(grep 'gate.accepted' init.log | tail -n1 | sed 's/.*pid=\([0-9]*\).*/\1/')
kill -KILL "$shell"
wait "$second" || true
wait_log init.log 'session.close .*sessions=0' 30
wait_log_count init.log 'vault.state from=locking to=locked' 2 60
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the killed last session"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-*
vault_remove_enclave
