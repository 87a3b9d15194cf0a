# `tazpod lock` refuses while a session is open (exit 3) and changes
# nothing; `tazpod lock --force` hangs the session up, which ends it, and
# locks. `tazpod status` shows it all, as text and --json. The workstation
# user may ask for the status but not use the root-only `tazpod vault`
# commands; any other user cannot reach the socket at all.
# timeout: 300
# weight: 19
write_init_config init.toml
start_init init.toml init.log
create_locked_vault 'a lockable passphrase'
rc=0; tazpod lock || rc=$?
expect_eq "$rc" 0 "tazpod lock of a locked vault"

printf '%s\n' 'expect Vault passphrase:' 'send a lockable passphrase\r' 'expect $ ' \
  'send cd ~/secrets; touch /tmp/in; sleep 1000\r' 'wait' > s.script
/usr/lib/tazpod-test/ptydrive s.script -- tazpod login 2> s.transcript & session=$!
wait_log init.log 'session.open .*sessions=1' 120
rc=0; tazpod lock 2>err || rc=$?
expect_eq "$rc" 3 "tazpod lock with an open session"
grep -q 'session(s) are open' err || fail "no reason given: $(cat err)"
expect_eq "$(tazpod status --json)" \
  '{"busy":false,"change_retry_after_ms":0,"mountpoint":"/home/dev/secrets","retry_after_ms":0,"sessions":1,"user":"dev","vault":"unlocked"}' \
  "status --json with one session"
as_dev tazpod status > status.txt || fail "the workstation user cannot ask for the status"
grep -q '^vault: *unlocked' status.txt || fail "status text: $(cat status.txt)"
grep -q '^sessions: *1' status.txt || fail "status text: $(cat status.txt)"
rc=0; printf 'guess\n' | as_dev tazpod vault unlock --passphrase-stdin 2>err || rc=$?
expect_eq "$rc" 1 "tazpod vault unlock by the workstation user"
grep -q 'is for root' err || fail "no reason given: $(cat err)"
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups tazpod status 2>err || rc=$?
expect_eq "$rc" 69 "tazpod status by another user"
grep -q 'Permission denied' err || fail "expected a permission error: $(cat err)"

rc=0; tazpod lock --force || rc=$?
expect_eq "$rc" 0 "tazpod lock --force"
wait "$session" || true
grep -q 'gate.lock.force' init.log || fail "the forced lock was not logged"
wait_log init.log 'session.close .*sessions=0' 30
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the forced lock"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"locked"' "state after the forced lock"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/in
