# session.lock_grace: the vault locks that long after the last session
# exits, not before, and logins that fail meanwhile do not postpone it.
# Once, each wrong passphrase restarted the whole grace period, so anyone
# who could reach the socket kept the vault unlocked by guessing.
# timeout: 300
# weight: 14
write_init_config init.toml 'lock_grace = "12s"' 'throttle_base = "100ms"'
start_init init.toml init.log
drive 'expect New vault passphrase:
send first passphrase\r
expect Repeat it:
send first passphrase\r
expect $ 
send exit\r
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 0 "the first session"
wait_log init.log 'session.close .*sessions=0' 60
exited=$SECONDS
for at in 4 9; do
  while (( SECONDS - exited < at )); do nap 0.1; done
  drive 'expect Vault passphrase:
send wrong passphrase\r
expect Wrong passphrase.
wait' -- tazpod login
  expect_eq "$DRIVE_STATUS" 1 "a wrong passphrase during the lock grace period"
done
(( SECONDS - exited < 12 )) || fail "the wrong passphrases took until $((SECONDS - exited)) s"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"unlocked"' \
  "the vault before the grace period ends"
wait_log init.log 'vault.state from=locking to=locked' 60
took=$((SECONDS - exited))
echo "locked ${took} s after the last session exited (lock_grace 12 s, wrong passphrases at 4 s and 9 s)"
# Postponed, it would lock 12 s after the last refusal: 21 s at the soonest.
(( took < 19 )) || fail "locked ${took} s after the last session exited: the wrong passphrases postponed the lock"
expect_eq "$(grep -c 'gate.lock reason=last_session_exit' init.log)" 1 "locks after the last exit"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
