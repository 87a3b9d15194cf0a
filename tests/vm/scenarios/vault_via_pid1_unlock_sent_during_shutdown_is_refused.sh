# A client connected to the control socket before `docker stop` sends its
# unlock after the shutdown's lock, while init waits out the grace period
# for a main child that ignores SIGTERM. The unlock is refused ("the
# container is stopping"): init must not exit with the vault unlocked, nor
# kill a helper half-way through an unlock.
# timeout: 240
# weight: 16
write_init_config init.toml
start_init init.toml init.log -- sh -c "trap '' TERM; exec sleep 1000"
create_locked_vault 'a late passphrase'
sock=/run/tazpod/control.sock
header='{"v":1,"op":"vault.unlock"}'
secret='a late passphrase'
message=$(printf '%08x%s%08x%s' "${#header}" "$(text_hex "$header")" "${#secret}" "$(text_hex "$secret")")
# PID 1 reads a request for at most 5 s after accepting it (then closes
# the connection: the client's late write would die of SIGPIPE), and
# everything from here to the send must fit in them: the send follows the
# lock step's end at once.
before=$(init_sockets)
rm -f /tmp/send
/usr/lib/tazpod-test/ctlpoke "$sock" "$message" wait-for /tmp/send > poke.out & poke=$!
more_sockets() { (( $(init_sockets) > before )); }
wait_until 10 more_sockets || fail "PID 1 did not accept the connection"
kill -TERM "$INIT_PID"
wait_log init.log 'init.shutdown.step.done step=vault.lock' 30
grep -o 'init.shutdown.step.done step=vault.lock.*' init.log
touch /tmp/send
grep -q 'reason=read_timeout' init.log &&
  fail "the lock step ended after PID 1's 5 s read deadline: the machine was too slow for this check"
rc=0; wait "$poke" || rc=$?
cat poke.out
wait_log init.log 'init.shutdown.term' 30
awk '/init\.shutdown\.step\.done step=vault\.lock/ { locked = 1 } /init\.shutdown\.term/ { exit !locked }' init.log ||
  fail "the shutdown did not lock first: $(cat init.log)"
expect_eq "$rc" 0 "the connection was answered and closed"
grep -q '"ok":false' poke.out || fail "the unlock was not refused: $(cat poke.out)"
grep -q 'the container is stopping' poke.out || fail "no reason given: $(cat poke.out)"
rc=0; wait "$INIT_PID" || rc=$?
expect_eq "$rc" 137 "init's exit status (the main child ignored SIGTERM and was killed)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after shutdown"
rm -f /tmp/send
vault_remove_enclave
