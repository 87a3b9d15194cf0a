# When PID 1's event loop cannot take the descriptors a vault operation
# needs (its epoll refuses them: out of memory, or fs.epoll.max_user_watches
# reached), the operation is answered at once with the reason, and no
# helper is handed it: the standby keeps waiting, and the vault, untouched,
# stays locked (not failed, which /healthz would report, and a kubelet
# answer with a restart that loses a RAM vault).
# PID 1 goes on, and once the loop takes descriptors again the same unlock
# works. (Before, the operation's timer was made after the standby had the
# passphrase, by a call that throws: the helper unlocked unwatched, the
# client got no answer, and the vault stayed "unlocking".)
# timeout: 240
# weight: 19
write_init_config init.toml
start_init init.toml init.log
create_locked_vault 'pw'

procstat() { cat /proc/[0-9]*/stat 2>/dev/null || true; }
# Running helpers, PID 1's children: "standby" or the operation's name.
helpers() {
  local pid args
  for pid in $(procstat | awk -v p="$INIT_PID" '$4 == p && $3 != "Z" {print $1}'); do
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    [[ $args == "$VAULT_HELPER "* ]] && echo "${args#"$VAULT_HELPER "}"
  done
}
standby_waits() { [[ $(helpers) == "standby "* ]]; }
wait_until 30 standby_waits || fail "no standby helper after the lock: $(helpers)"

sock=/run/tazpod/control.sock
frame() {  # frame HEADER SECRET: one control message, in hex
  printf '%08x%s%08x%s' "${#1}" "$(text_hex "$1")" "${#2}" "$(text_hex "$2")"
}
# The connection made while the loop still takes descriptors: an accepted
# connection needs a watch of its own.
before=$(init_sockets)
rm -f /tmp/send-unlock
/usr/lib/tazpod-test/ctlpoke "$sock" "$(frame '{"v":1,"op":"vault.unlock"}' pw)" wait-for /tmp/send-unlock \
  > unlock.out & unlock_poke=$!
accepted() { (( $(init_sockets) > before )); }
wait_until 10 accepted || fail "PID 1 did not accept the connection"

# From here every new epoll watch of root's is refused (ENOSPC): the
# helper's run, with a timer and an output pipe on the loop, cannot start.
watches=$(cat /proc/sys/fs/epoll/max_user_watches)
restore_watches() { echo "$watches" > /proc/sys/fs/epoll/max_user_watches; }
trap restore_watches EXIT
echo 1 > /proc/sys/fs/epoll/max_user_watches
touch /tmp/send-unlock
rc=0; wait "$unlock_poke" || rc=$?
restore_watches
expect_eq "$rc" 0 "the unlock's connection was answered and closed"
grep -q '"ok":false' unlock.out || fail "the unlock was not refused: $(cat unlock.out) $(tail -n 20 init.log)"
grep -q 'cannot start the vault helper: No space left on device' unlock.out ||
  fail "the refusal does not give the reason: $(cat unlock.out)"
# The standby was not handed the operation: it still waits, alone.
standby_alone() { [[ $(helpers) == "standby "* && $(helpers | wc -l) -eq 1 ]]; }
standby_alone || fail "helpers after the refused unlock: $(helpers)"
# Nothing was done: the vault is as it was, and says nothing failed.
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state after the refused unlock"
grep -q 'vault.state from=unlocking to=locked event=unlock_refused reason="cannot start the vault helper: No space left on device"' init.log ||
  fail "the state's change does not give the reason: $(grep vault.state init.log | tail -n 3)"
grep -q 'init.component.failed' init.log && fail "a component failed: $(grep init.component.failed init.log)"

# PID 1 goes on: the same unlock works now, through that standby.
printf 'pw\n' | tazpod vault unlock --passphrase-stdin || fail "the unlock after: $(tail -n 5 init.log)"
expect_eq "$(tazpod vault status)" "state=unlocked busy=false" "state after the second unlock"
tazpod vault lock || fail "the lock after: $(tail -n 5 init.log)"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
