# No shell without the passphrase: a wrong one is refused (exit 1) and
# throttled with a visible delay; Ctrl+C, Ctrl+D and Enter on an empty line
# at the prompt end the login (exit 4) with no shell; without a terminal it
# says to use `docker exec -it` (exit 3). The vault stays locked throughout.
# timeout: 300
# weight: 23
write_init_config init.toml
sed -i 's/^user = "dev"/user = "dev"\nthrottle_base = "4s"/' init.toml
start_init init.toml init.log
create_locked_vault 'the real passphrase'

drive 'expect Vault passphrase:
send not the passphrase\r
expect Wrong passphrase. Next attempt in 4 s.
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status after a wrong passphrase"
grep -q '\$ ' drive.transcript && fail "a shell prompt appeared after a wrong passphrase"
grep -q 'gate.refused reason=wrong_passphrase' init.log || fail "the refusal was not logged"

drive 'expect Too soon after a failed attempt: try again in
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 1 "exit status while throttled"
sleep 4

drive 'expect Vault passphrase:
send the real\x03
expect interrupted; no shell.
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 4 "exit status after Ctrl+C"

drive 'expect Vault passphrase:
send \x04
expect end of input; no shell.
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 4 "exit status after Ctrl+D"

drive 'expect Vault passphrase:
send \r
expect no passphrase; no shell.
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 4 "exit status after Enter on an empty line"

rc=0; setsid -w tazpod login </dev/null 2>err || rc=$?
expect_eq "$rc" 3 "exit status without a terminal"
grep -q 'docker exec -it' err || fail "no hint to use a terminal: $(cat err)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusals"
grep -q 'session.open' init.log && fail "a session was opened"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
