# `tazpod passwd` on a real terminal: the current passphrase, then the new
# one twice. A differing confirmation changes nothing; a wrong current
# passphrase is refused (and throttled); after a change the old passphrase
# no longer opens the vault and the new one does, with the data intact.
# /metrics counts the changes apart from the logins.
# timeout: 300
# weight: 31
write_init_config init.toml 'throttle_base = "200ms"'
start_init init.toml init.log
printf 'the old passphrase\n' | tazpod vault unlock --passphrase-stdin
in_vault_ns sh -c 'echo kept > /home/dev/secrets/data'
tazpod vault lock

drive 'expect Current passphrase:
send the old passphrase\r
expect New passphrase:
send the new passphrase\r
expect Repeat it:
send the new passphrase but different\r
expect the new passphrases differ; nothing changed.
wait' -- tazpod passwd
expect_eq "$DRIVE_STATUS" 1 "passwd with a differing confirmation"

drive 'expect Current passphrase:
send not the passphrase\r
expect New passphrase:
send the new passphrase\r
expect Repeat it:
send the new passphrase\r
expect Wrong passphrase; nothing changed.
wait' -- tazpod passwd
expect_eq "$DRIVE_STATUS" 1 "passwd with a wrong current passphrase"
grep -q 'gate.refused reason=wrong_passphrase during=passwd' init.log || fail "the wrong passphrase was not counted"
sleep 0.5

drive 'expect Current passphrase:
send the old passphrase\r
expect New passphrase:
send the new passphrase\r
expect Repeat it:
send the new passphrase\r
expect Passphrase changed.
wait' -- tazpod passwd
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "passwd"
grep -qE 'old passphrase|new passphrase' init.log && fail "a passphrase in the log"

drive 'expect Vault passphrase:
send the old passphrase\r
expect Wrong passphrase.
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 1 "login with the old passphrase"
sleep 0.5
# The lock above is in the log already: the one after this session is the next.
count_lines_matching init.log 'vault.state from=locking to=locked'
locks=$MATCHING
drive 'expect Vault passphrase:
send the new passphrase\r
expect $ 
send cat ~/secrets/data\r
expect kept
send exit\r
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "login with the new passphrase"
wait_log_count init.log 'vault.state from=locking to=locked' $(( locks + 1 )) 60
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the last session exited"
# The differing confirmation never reached PID 1.
http_get /metrics > m.txt
for sample in 'tazpod_passphrase_changes_total{result="ok"} 1' 'tazpod_passphrase_changes_total{result="refused"} 1' \
  'tazpod_logins_total{result="ok"} 1' 'tazpod_logins_total{result="refused"} 1' 'tazpod_throttle_delays_total 2'; do
  grep -qxF "$sample" m.txt || fail "expected $sample: $(grep -E '^tazpod_(passphrase_changes|logins|throttle_delays)' m.txt)"
done
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
