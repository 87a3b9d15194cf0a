# Root and the workstation user each have a throttle delay of their own:
# the user's wrong `tazpod passwd` (a compromised process of theirs, say)
# makes the user's next change wait, not root's logins. And only root logs
# in: a gate.login the user sends on the socket is refused before any vault
# work. The delay is long (60 s), so root's login can only pass if it is
# not held back by the user's.
# timeout: 300
# weight: 27
write_init_config init.toml 'throttle_base = "60s"'
start_init init.toml init.log
printf 'the right passphrase\n' | tazpod vault unlock --passphrase-stdin
tazpod vault lock

drive 'expect Current passphrase:
send not the passphrase\r
expect New passphrase:
send a new passphrase\r
expect Repeat it:
send a new passphrase\r
expect Wrong passphrase; nothing changed.
wait' -- setpriv --reuid=1000 --regid=1000 --clear-groups tazpod passwd
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "the user's passwd with a wrong current passphrase"
grep -q 'gate.refused reason=wrong_passphrase during=passwd .*uid=1000 ' init.log ||
  fail "the user's wrong passphrase was not counted: $(grep gate.refused init.log)"

# Each asks gate.status for its own waits.
user_status=$(as_dev tazpod status --json)
root_status=$(tazpod status --json)
echo "user: $user_status"
echo "root: $root_status"
grep -qE '"change_retry_after_ms":[1-9][0-9]*' <<<"$user_status" || fail "the user's next change does not wait"
grep -q '"retry_after_ms":0,' <<<"$root_status" || fail "root's next login waits"

drive 'expect Vault passphrase:
send the right passphrase\r
expect $ 
send exit\r
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "root's login right after the user's wrong guess"
grep -q 'gate.refused reason=throttled' init.log && fail "a throttled refusal: $(grep gate.refused init.log)"
wait_log init.log 'vault.state from=locking to=locked' 60

header='{"v":1,"op":"gate.login","create":false}'
secret='the right passphrase'
request=$(printf '%08x%s%08x%s' "${#header}" "$(text_hex "$header")" "${#secret}" "$(text_hex "$secret")")
out=$(as_dev /usr/lib/tazpod-test/ctlpoke /run/tazpod/control.sock "$request")
echo "the user's gate.login: $out"
grep -q '"kind":"denied"' <<<"$out" || fail "the user's gate.login was not denied"
grep -q 'gate.refused reason=not_root during=login .*uid=1000 ' init.log || fail "the denied login was not logged"
expect_eq "$(grep -c 'gate.attempt' init.log)" 1 "logins that reached the vault"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
