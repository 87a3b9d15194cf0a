# The audit log (health.audit_log) gets one JSON line per login attempt —
# a wrong one (with uid, pid, tty, reason, delay) and a right one — and per
# unlock and lock, and never the passphrase (searched for in it and in the
# whole log). /metrics counts the logins.
# timeout: 300
# weight: 18
write_init_config init.toml 'throttle_base = "200ms"' '[health]' 'audit_log = "/tmp/audit.log"'
start_init init.toml init.log
create_locked_vault 'audited passphrase 1'
drive 'expect Vault passphrase:
send the wrong one 2\r
expect Wrong passphrase.
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 1 "wrong login"
sleep 0.5
drive 'expect Vault passphrase:
send audited passphrase 1\r
expect $ 
send exit\r
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 0 "right login"
wait_log_count init.log 'vault.state from=locking to=locked' 2 60
cat /tmp/audit.log
refused=$(grep '"event":"gate.refused"' /tmp/audit.log) || fail "no refused login in the audit log"
for field in '"reason":"wrong_passphrase"' '"uid":0' '"pid":' '"tty":"pts/' '"delay_ms":200' '"level":"warn"' '"time":"'; do
  grep -qF "$field" <<<"$refused" || fail "the refused login lacks $field: $refused"
done
accepted=$(grep '"event":"gate.accepted"' /tmp/audit.log) || fail "no accepted login in the audit log"
grep -q '"tty":"pts/' <<<"$accepted" || fail "the accepted login has no tty: $accepted"
grep -q '"operation":"unlock","result":"ok"' /tmp/audit.log || fail "no unlock in the audit log"
grep -q '"operation":"lock","result":"ok"' /tmp/audit.log || fail "no lock in the audit log"
grep -q '"operation":"recover","result":"ok"' /tmp/audit.log || fail "no recovery in the audit log"
expect_eq "$(stat -c %a /tmp/audit.log)" 600 "the audit log's mode"
grep -qE 'audited passphrase|wrong one' /tmp/audit.log init.log && fail "a passphrase in the logs"
http_get /metrics > m.txt
grep -qx 'tazpod_logins_total{result="ok"} 1' m.txt || fail "logins ok: $(grep logins m.txt)"
grep -qx 'tazpod_logins_total{result="refused"} 1' m.txt || fail "logins refused: $(grep logins m.txt)"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/audit.log
