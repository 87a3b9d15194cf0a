# 20 logins racing on a locked vault: exactly one unlock runs, the other 19
# wait for it and then each proves its own passphrase (a verify), and all 20
# get a shell; when the last of them exits the vault is locked once.
# timeout: 600
# weight: 145
write_init_config init.toml
start_init init.toml init.log
create_locked_vault 'racing passphrase'
# Each shell then waits for the release in bash's read (a timeout on a FIFO
# nobody writes to), not in a sleep loop: under emulation 20 shells starting
# /bin/sleep five times a second would take the guest's whole CPU from the
# logins still racing.
mkfifo -m 0666 /tmp/release-nap
printf '%s\n' 'timeout 300' 'expect Vault passphrase:' 'send racing passphrase\r' 'expect $ ' \
  'send while [ ! -e /tmp/release-all ]; do read -rt 0.2 <>/tmp/release-nap || :; done; exit\r' 'wait' > login.script
pids=()
for i in $(seq 20); do
  /usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> "login-$i.transcript" &
  pids+=($!)
done
wait_log init.log 'session.open .*sessions=20' 300
touch /tmp/release-all
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { failed=1; echo "login $((i + 1)) failed:"; cat "login-$((i + 1)).transcript"; }
done
[[ $failed -eq 0 ]] || fail "not every racing login got its shell"
wait_log_count init.log 'vault.state from=locking to=locked' 2 120
expect_eq "$(grep -c 'vault.state from=locked to=unlocking' init.log)" 1 "unlocks of the locked vault during the race (the setup's was of the absent one)"
expect_eq "$(grep -c 'gate.accepted' init.log)" 20 "accepted logins"
expect_eq "$(grep -c 'vault.helper.done operation=verify code=0' init.log)" 19 "passphrases proven by verify"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the last of the 20 exited"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-all /tmp/release-nap
vault_remove_enclave
