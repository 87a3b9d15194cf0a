# At the passphrase prompt, typed into a real terminal from an interactive
# shell: Ctrl+\, Ctrl+Z, Ctrl+C and Ctrl+D each end `tazpod login` with exit
# 4 and no shell, and the terminal's settings afterwards are exactly those
# before (stty -g); a prompt left alone times out (exit 4); a terminal that
# hangs up at the prompt ends the login with no shell and no session.
# timeout: 300
# weight: 19
write_init_config init.toml
start_init init.toml init.log
create_locked_vault 'keys passphrase'
try_key() {  # try_key NAME ESCAPE
  drive "expect T> 
send stty -g > /tmp/before; tazpod login; echo rc=\$?; stty -g > /tmp/after\\r
expect Vault passphrase:
send abc$2
expect rc=
expect T> 
send cmp -s /tmp/before /tmp/after; echo settings-cmp-\$((\$? + 100))\\r
expect settings-cmp-1
send exit\\r
wait" -- bash -c 'export PS1="T> "; exec bash --norc -i'
  cat drive.transcript
  grep -q 'rc=4' drive.transcript || fail "$1 at the prompt: not exit 4"
  # The result as computed by the shell (100: cmp found them equal), not
  # as typed: the terminal echoes the command line too.
  grep -q 'settings-cmp-100' drive.transcript || fail "$1 at the prompt: terminal settings not restored"
  grep -q 'Unlocking' drive.transcript && fail "$1 at the prompt: the passphrase was sent"
  return 0
}
try_key Ctrl+backslash '\x1c'
try_key Ctrl+Z '\x1a'
try_key Ctrl+C '\x03'
try_key Ctrl+D '\x15\x04'

drive 'expect Vault passphrase:
wait' -- tazpod login --timeout 2
cat drive.transcript
expect_eq "$DRIVE_STATUS" 4 "exit status after the prompt timed out"
grep -q 'timed out' drive.transcript || fail "no timeout message"

drive 'expect Vault passphrase:
send half a pass
hangup' -- tazpod login
sleep 1
grep -q 'session.open' init.log && fail "a session was opened"
grep -q 'gate.attempt' init.log && fail "a passphrase reached the gate"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusals"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
