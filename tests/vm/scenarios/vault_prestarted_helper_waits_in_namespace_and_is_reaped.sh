# The pre-started vault helper: it waits in the vault's private mount
# namespace, the next operation runs in it, one killed while waiting is
# replaced by a forked helper for the next operation, and the shutdown kills
# and reaps the one left waiting.
# timeout: 180
# weight: 7
write_init_config init.toml
start_init init.toml init.log
standby_pid() { grep -E 'vault.helper.standby pid=' init.log | tail -n1 | sed 's/.*pid=\([0-9]*\).*/\1/'; }

wait_log init.log 'vault.helper.standby pid=' 30
pid=$(standby_pid)
[[ -d /proc/$pid ]] || fail "no pre-started helper process ($pid)"
expect_eq "$(readlink "/proc/$pid/ns/mnt")" "$(readlink "$(vault_ns)")" "the waiting helper's mount namespace"

printf 'pw\n' | tazpod vault unlock --passphrase-stdin >/dev/null
grep -qE "vault.helper.start operation=unlock pid=$pid prestarted=true" init.log ||
  fail "the unlock did not run in the pre-started helper $pid: $(grep vault.helper init.log)"

wait_log_count init.log 'vault.helper.standby pid=' 2 30
pid=$(standby_pid)
kill -KILL "$pid"
wait_log init.log "vault.helper.standby_exit pid=$pid" 30
tazpod vault lock >/dev/null
grep -qE 'vault.helper.start operation=lock pid=[0-9]+ prestarted=false' init.log ||
  fail "the lock after the waiting helper died did not fork its own: $(grep vault.helper init.log)"
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state after the lock"

wait_log_count init.log 'vault.helper.standby pid=' 3 30
pid=$(standby_pid)
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
grep -q "vault.helper.standby_exit pid=$pid" init.log || fail "the waiting helper $pid was not reaped at shutdown"
[[ ! -d /proc/$pid ]] || fail "the waiting helper $pid outlived the shutdown"
vault_remove_enclave
