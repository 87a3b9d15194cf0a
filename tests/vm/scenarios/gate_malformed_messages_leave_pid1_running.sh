# Malformed, oversized, slow and half-closed messages on the control socket
# (the gate's door) each get an error or a closed connection, are logged,
# and leave PID 1 running and answering: the gate works right after.
# timeout: 240
# weight: 26
write_init_config init.toml
start_init init.toml init.log
sock=/run/tazpod/control.sock
frame() {  # frame HEADER [SECRET_LENGTH]: a message whose secret part is announced only
  printf '%08x%s%08x' "${#1}" "$(text_hex "$1")" "${2:-0}"
}
poke() {  # poke NAME HEX [MODE] EXPECTED_REPLY_TEXT
  local out rc=0
  out=$(/usr/lib/tazpod-test/ctlpoke "$sock" "$2" "${3:-}") || rc=$?
  echo "$1: $out"
  expect_eq "$rc" 0 "$1: the connection was closed by PID 1"
  [[ -z ${4:-} ]] || grep -q "$4" <<<"$out" || fail "$1: expected a reply with '$4', got: $out"
  kill -0 "$INIT_PID" || fail "$1: PID 1 died"
}
poke text "$(text_hex 'hello, world')"
poke zero_length 0000000000000000
poke oversized_header ffffffff '' 'header size out of bounds'
poke not_json "$(frame 'abc{')" '' 'ok":false'
poke wrong_version "$(frame '{"v":2,"op":"gate.status"}')" '' 'ok":false'
poke unknown_op "$(frame '{"v":1,"op":"vault.format"}')" '' 'unknown op'
poke oversized_secret "$(frame '{"v":1,"op":"gate.login"}' 100000)" '' 'secret size out of bounds'
poke half_then_close 0000001a7b2276 half-close
poke silent '' silent
grep -q 'control.refused reason=read_timeout' init.log || fail "the silent client was not timed out"
expect_eq "$(grep -c 'control.refused' init.log)" 8 "refusals logged (the half-closed one is just dropped)"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"absent"' "the gate answers afterwards"
create_locked_vault 'after the abuse'

# A passphrase longer than the vault takes (1,024 bytes) is invalid input on
# every path: refused before a helper starts, the vault left locked, not
# failed (a helper given one exits with a usage error and no result).
long=$(printf '%02000d' 0 | tr 0 a)
long_hex=$(text_hex "$long")
rc=0; printf '%s\n' "$long" | tazpod vault unlock --passphrase-stdin > long.out 2>&1 || rc=$?
cat long.out
expect_eq "$rc" 4 "tazpod vault unlock with a 2,000-byte passphrase (invalid input)"
grep -q 'longer than 1024 bytes' long.out || fail "no message naming the limit"
poke long_login "$(frame '{"v":1,"op":"gate.login"}' 2000)$long_hex" '' 'longer than 1024 bytes'
poke long_verify "$(frame '{"v":1,"op":"vault.verify"}' 2000)$long_hex" '' 'longer than 1024 bytes'
poke long_passwd "$(frame '{"v":1,"op":"gate.passwd"}' 2016)$(text_hex 'after the abuse')00$long_hex" '' \
  'new passphrase is longer than 1024 bytes'
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"locked"' "the vault after the long passphrases"
printf '%s\n' 'after the abuse' | tazpod vault unlock --passphrase-stdin
tazpod vault lock
kill -TERM "$INIT_PID"; rc=0; wait "$INIT_PID" || rc=$?
expect_eq "$rc" 0 "PID 1's exit status at the end"
