# Wrong passphrases sent together are not all tried: ten logins with wrong
# passphrases queue behind a slow unlock (its hook waits for a file), and
# when their turn comes the first is tried and refused, which starts the
# throttle's delay, and the other nine are refused as throttled. The
# throttle is checked again at each login's turn, not only on its arrival,
# when all ten passed it (before that, all ten were tried: ten guesses in
# one delay).
# timeout: 300
# weight: 34
write_init_config init.toml 'throttle_base = "60s"'
with_held_unlocks init.toml
start_init init.toml init.log
create_locked_vault 'the right passphrase'

# The unlock the guesses queue behind: it waits in its hook.
printf 'the right passphrase\n' | tazpod vault unlock --passphrase-stdin > unlock.out & unlocking=$!
wait_log init.log 'vault.state from=locked to=unlocking' 60
printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send a wrong guess\r' 'wait' > guess.script
pids=()
for i in $(seq 10); do
  /usr/lib/tazpod-test/ptydrive guess.script -- tazpod login 2> "guess-$i.transcript" &
  pids+=($!)
done
wait_log_count init.log 'gate.attempt' 10 180
touch /tmp/release-unlock
wait "$unlocking" || fail "the unlock the guesses waited for: $(cat unlock.out)"
shells=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" && fail "guess $((i + 1)) ended well: $(cat "guess-$((i + 1)).transcript")"
  grep -q '\$ ' "guess-$((i + 1)).transcript" && shells=$((shells + 1))
done
expect_eq "$shells" 0 "shells after wrong guesses"
expect_eq "$(grep -c 'gate.refused reason=wrong_passphrase' init.log)" 1 "guesses tried"
expect_eq "$(grep -c 'gate.refused reason=throttled' init.log)" 9 "guesses refused as throttled at their turn"
expect_eq "$(grep -c 'vault.helper.done operation=verify' init.log)" 1 "passphrases the vault was asked to verify"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-unlock
vault_remove_enclave
