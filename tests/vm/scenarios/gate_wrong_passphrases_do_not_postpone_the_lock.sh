# session.lock_grace: the vault locks that long after the last session
# exits, not before, and logins that fail meanwhile do not postpone it.
# Once, each wrong passphrase restarted the whole grace period, so anyone
# who could reach the socket kept the vault unlocked by guessing.
# timeout: 300
# weight: 21
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
# Time since that close in tenths of a second (clock_tenths): whole
# seconds would put the check below up to a second late. (The close is
# seen up to 0.1 s after it is logged, so these times are a little short,
# never long.)
clock_tenths; exited=$CLOCK_TENTHS
since_exit() { clock_tenths; ELAPSED=$(( CLOCK_TENTHS - exited )); }
for at in 40 60; do
  until since_exit; (( ELAPSED >= at )); do nap 0.1; done
  drive 'expect Vault passphrase:
send wrong passphrase\r
expect Wrong passphrase.
wait' -- tazpod login
  expect_eq "$DRIVE_STATUS" 1 "a wrong passphrase during the lock grace period"
done
since_exit
# Under 11 s, a second before the grace period ends, so that the vault
# must still be unlocked.
(( ELAPSED < 110 )) || fail "the wrong passphrases took until $((ELAPSED / 10)).$((ELAPSED % 10)) s (lock_grace 12 s)"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"unlocked"' \
  "the vault before the grace period ends"
wait_log init.log 'vault.state from=unlocked to=locking' 60
since_exit
took="$((ELAPSED / 10)).$((ELAPSED % 10))"
echo "the lock began ${took} s after the last session exited (lock_grace 12 s, wrong passphrases at 4 s and 6 s)"
# Postponed, it would begin 12 s after the last refusal: 18 s at the soonest.
(( ELAPSED < 160 )) || fail "the lock began ${took} s after the last session exited: the wrong passphrases postponed it"
wait_log init.log 'vault.state from=locking to=locked' 60
expect_eq "$(grep -c 'gate.lock reason=last_session_exit' init.log)" 1 "locks after the last exit"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
