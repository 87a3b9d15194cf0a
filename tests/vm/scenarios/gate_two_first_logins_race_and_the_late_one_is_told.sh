# Two first logins at once, through real terminals: both are told the vault
# is new and both choose a passphrase. The first one's unlock makes the
# vault; the second, which waited for it, is told the vault was created
# meanwhile (exit 1), its passphrase neither tried on that vault nor
# throttled as a wrong guess: the same user logs in at once with the first
# one's passphrase. Before, the second was answered "Wrong passphrase." and
# the next login had to wait.
# timeout: 300
# weight: 21
write_init_config init.toml
with_held_unlocks init.toml
start_init init.toml init.log
rm -f /tmp/go-a /tmp/go-b /tmp/asked-a /tmp/asked-b /tmp/sent-b

printf '%s\n' 'timeout 120' 'expect New vault passphrase:' 'mark /tmp/asked-a' 'await /tmp/go-a' \
  'send first passphrase A\r' 'expect Repeat it:' 'send first passphrase A\r' 'expect $ ' 'send exit\r' 'wait' > a.script
printf '%s\n' 'timeout 120' 'expect New vault passphrase:' 'mark /tmp/asked-b' 'await /tmp/go-b' \
  'send first passphrase B\r' 'expect Repeat it:' 'send first passphrase B\r' 'expect Creating the vault' \
  'mark /tmp/sent-b' 'wait' > b.script
/usr/lib/tazpod-test/ptydrive a.script -- tazpod login 2> a.transcript &
login_a=$!
/usr/lib/tazpod-test/ptydrive b.script -- tazpod login 2> b.transcript &
login_b=$!
wait_file /tmp/asked-a 60 "the first login's question" a.transcript
wait_file /tmp/asked-b 60 "the second login's question" b.transcript

# A answers first; its unlock, which makes the vault, is held in its hook
# while B answers, so B's login comes while it runs (and waits for it, or
# finds it done: either way B finds a vault it did not make).
touch /tmp/go-a
wait_log init.log 'vault.state from=absent to=unlocking' 60
touch /tmp/go-b
wait_file /tmp/sent-b 60 "the second login's request" b.transcript
touch /tmp/release-unlock

rc_b=0; wait "$login_b" || rc_b=$?
rc_a=0; wait "$login_a" || rc_a=$?
echo "first login (exit $rc_a), second login (exit $rc_b):"; cat b.transcript
expect_eq "$rc_a" 0 "the first login's exit status"
expect_eq "$rc_b" 1 "the second login's exit status"
grep -q 'the vault was created meanwhile, by another login: log in again with its passphrase' b.transcript ||
  fail "the second login was not told why: $(cat b.transcript)"
grep -q 'Wrong passphrase' b.transcript && fail "the second login's new passphrase was taken as a wrong guess"
grep -q 'gate.refused reason=made_meanwhile' init.log || fail "no gate.refused reason=made_meanwhile: $(grep 'gate\.' init.log)"
grep -q 'reason=wrong_passphrase' init.log && fail "a wrong passphrase was counted: $(grep 'gate\.' init.log)"

# Nobody waits: the next login, with the vault's passphrase, gets its shell.
drive "$(printf '%s\n' 'timeout 120' 'expect Vault passphrase:' 'send first passphrase A\r' 'expect $ ' 'send exit\r' 'wait')" \
  -- tazpod login
expect_eq "$DRIVE_STATUS" 0 "the login with the vault's passphrase ($(cat drive.transcript))"
grep -q 'Too soon\|Next attempt' drive.transcript && fail "the login after the race was throttled: $(cat drive.transcript)"

wait_log_count init.log 'vault.state from=locking to=locked' 2 120
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the last session exited"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/go-a /tmp/go-b /tmp/asked-a /tmp/asked-b /tmp/sent-b /tmp/release-unlock /opt/hooks/hold
vault_remove_enclave
