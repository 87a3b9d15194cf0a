# A helper that PID 1 kills at vault.operation_timeout while an unlock hook
# runs takes every process of its session with it: the hook and the
# children it put in process groups of their own, one in the vault, one
# holding nothing (which even a lock's holder search would miss). Left
# running, they would use the vault as the user after the unlock failed.
# The vault is failed; a lock mends it.
# timeout: 180
# weight: 17
write_linger_hook
write_init_config init.toml
sed -i 's|^\[vault\]$|[vault]\noperation_timeout = "10s"\nhook_timeout = "4s"\nunlock_hooks = ["/opt/hooks/linger"]|' init.toml
start_init init.toml init.log

printf 'linger passphrase\n' | tazpod vault unlock --passphrase-stdin > unlock.out 2>&1 & client=$!
await_linger_hook init.log unlock.out
# Stopped, the helper never reaches its own hook timeout: PID 1's ends it.
kill -STOP "$LINGER_HELPER"
wait_log init.log "vault.helper.timeout operation=unlock pid=$LINGER_HELPER" 20
rc=0; wait "$client" || rc=$?
(( rc != 0 )) || fail "the unlock succeeded: $(cat unlock.out)"
grep -q 'vault.operation_timeout' unlock.out || fail "the client was not told of the timeout: $(cat unlock.out)"
wait_until 5 session_empty "$LINGER_HELPER" || fail "left in the helper's session: $(in_session "$LINGER_HELPER")"
wait_log init.log "vault.helper.session_killed pid=$LINGER_HELPER processes=3" 5
[[ $(tazpod vault status) == "state=failed busy=false"* ]] || fail "status after the timeout: $(tazpod vault status)"

tazpod vault lock || fail "the lock of the failed vault: $(cat init.log)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock"
kill -TERM "$INIT_PID"
wait "$INIT_PID" || true
rm -f /tmp/linger-helper.pid
vault_remove_enclave
