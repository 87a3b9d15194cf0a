# A login that arrives while `tazpod lock --force` is ending the sessions
# is refused ("the vault is being locked"), not let in: before, it got a
# shell, only to be SIGKILLed with the rest when the hangup grace ran out
# (or to keep the vault open). Here the open session ignores SIGHUP, so the
# forced lock waits out a long `session.hangup_grace`; the login tried
# meanwhile gets no shell; killing the session then lets the lock finish.
# timeout: 300
# weight: 21
write_init_config init.toml 'hangup_grace = "120s"'
start_init init.toml init.log
create_locked_vault 'a lockable passphrase'

printf '%s\n' 'timeout 250' 'expect Vault passphrase:' 'send a lockable passphrase\r' 'expect $ ' \
  "send trap '' HUP; echo armed-\$((40+2))\\r" 'expect armed-42' "mark $PWD/armed.pid" 'wait' > s.script
/usr/lib/tazpod-test/ptydrive s.script -- tazpod login 2> s.transcript & session=$!
deadline=$(( $(clock_now) + 120 ))
until [[ -e armed.pid ]]; do
  clock_before "$deadline" || fail "the session did not get to ignore SIGHUP: $(cat s.transcript)"
  nap 0.2
done
shell=$(< armed.pid)  # the login became the session's shell: the same process
grep -q "session.open pid=$shell " init.log || fail "the session is not pid $shell: $(grep session init.log)"

tazpod lock --force > force.out 2>&1 & force=$!
wait_log init.log 'gate.lock.force' 60
drive 'expect Vault passphrase:
send a lockable passphrase\r
expect tazpod login: the vault is being locked
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status of the login during the forced lock"
grep -q '\$ ' drive.transcript && fail "the login during the forced lock got a shell"
grep -q 'gate.refused reason=locking' init.log || fail "no gate.refused reason=locking in the log"
expect_eq "$(grep -c 'session.open' init.log)" 1 "sessions opened"
kill -0 "$force" 2>/dev/null || fail "the forced lock ended while its session still ran: $(cat force.out)"

kill -KILL "$shell"
wait "$force" || fail "tazpod lock --force: $(cat force.out)"
wait "$session" || true
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"locked"' "state after the forced lock"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the forced lock"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
