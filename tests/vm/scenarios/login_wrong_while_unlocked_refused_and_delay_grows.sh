# Every login proves the passphrase, also while the vault is already
# unlocked by another session: a wrong one is refused with no shell and the
# open session and vault are untouched. Repeated wrong passphrases wait
# longer each time (1 s, 2 s, 4 s: shown and logged). A first login whose
# confirmation differs creates nothing.
# timeout: 300
# weight: 25
write_init_config init.toml 'throttle_base = "1s"'
start_init init.toml init.log
drive 'expect New vault passphrase:
send first passphrase\r
expect Repeat it:
send first passphrase typo\r
expect the passphrases differ; nothing was created.
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 1 "first login with a differing confirmation"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"absent"' "state after it"

printf '%s\n' 'expect New vault passphrase:' 'send first passphrase\r' 'expect Repeat it:' \
  'send first passphrase\r' 'expect $ ' \
  'send while [ ! -e /tmp/release ]; do sleep 0.2; done; exit\r' 'wait' > s.script
/usr/lib/tazpod-test/ptydrive s.script -- tazpod login 2> s.transcript & session=$!
wait_log init.log 'session.open .*sessions=1' 120

for delay in 1 2 4; do
  drive "expect Vault passphrase:
send wrong passphrase $delay\\r
expect Wrong passphrase. Next attempt in $delay s.
wait" -- tazpod login
  cat drive.transcript
  expect_eq "$DRIVE_STATUS" 1 "login with a wrong passphrase while unlocked"
  grep -q '\$ ' drive.transcript && fail "a shell after a wrong passphrase"
  grep -q "gate.refused reason=wrong_passphrase during=login .*delay_s=$delay" init.log ||
    fail "the delay of $delay s was not logged: $(grep gate.refused init.log)"
  sleep "$delay.2"
done
expect_eq "$(tazpod status --json | grep -o '"sessions":[0-9]*,.*"vault":"[a-z]*"')" \
  '"sessions":1,"user":"dev","vault":"unlocked"' "the open session after the refusals"
expect_eq "$(grep -c 'vault.state from=unlocked' init.log)" 0 "vault transitions caused by the refusals"
touch /tmp/release
wait "$session" || fail "session: $(cat s.transcript)"
wait_log init.log 'vault.state from=locking to=locked' 60
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release
