# A login killed while its unlock runs is not counted as a session, even
# when its pid has gone to another process by the time the unlock is done:
# PID 1 names the login by a pidfd opened when its request arrived, not by
# the pid once the answer is ready. Here the unlock waits in a hook, the
# login is SIGKILLed, and its pid is handed to a `sleep` (through
# ns_last_pid) before the hook lets go. The login is refused as gone, no
# session opens, and the vault is locked again. (Before, the sleep was
# registered as the session and kept the vault unlocked.)
# timeout: 240
# weight: 19
[[ -w /proc/sys/kernel/ns_last_pid ]] || fail "the guest kernel has no writable ns_last_pid (CONFIG_CHECKPOINT_RESTORE)"
write_init_config init.toml
with_held_unlocks init.toml
start_init init.toml init.log
create_locked_vault 'the right passphrase'

printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send the right passphrase\r' 'wait' > login.script
/usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> login.transcript & driver=$!
wait_log init.log 'gate.attempt' 60
wait_log init.log 'vault.state from=locked to=unlocking' 60
login=$(grep -o 'gate.attempt pid=[0-9]*' init.log | head -n 1)
login=${login##*=}
[[ -n $login ]] || fail "no pid in gate.attempt: $(cat init.log)"
kill -KILL "$login"
wait "$driver" || true
[[ ! -e /proc/$login ]] || fail "the killed login $login is still there"

# Its pid, to a process that never asked for anything.
reused=''
for _ in $(seq 50); do
  echo $(( login - 1 )) > /proc/sys/kernel/ns_last_pid
  sleep 1000 &
  if [[ $! -eq $login ]]; then reused=$!; break; fi
  kill "$!"
done
[[ -n $reused ]] || fail "could not hand pid $login to another process"
echo "pid $login of the killed login now names a sleep"

release_gone_login_unlock init.log
kill -0 "$reused" || fail "the process that got the pid was harmed"
kill "$reused"; wait "$reused" || true
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-unlock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
