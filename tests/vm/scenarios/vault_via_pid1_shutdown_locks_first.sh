# The vault driven through PID 1: `tazpod vault unlock` over the control
# socket, and on SIGTERM (docker stop) init locks the vault as its first
# shutdown step, before it terminates the other processes; afterwards
# nothing is attached.
# timeout: 240
# weight: 12
write_init_config init.toml
start_init init.toml init.log -- sleep 1000
expect_eq "$(tazpod vault status)" "state=absent busy=false" "status of a fresh vault"
printf 'pw\n' | tazpod vault unlock --passphrase-stdin
expect_eq "$(tazpod vault status)" "state=unlocked busy=false" "status after unlock"
in_vault_ns setpriv --reuid=1000 --regid=1000 --clear-groups bash -c "echo secret > $VAULT_MNT/file"
# A process of the user's working in the vault, beside the main child; it
# must hold the vault (a mark in it) before the stop, or the lock has
# nothing to end.
in_vault_ns setpriv --reuid=1000 --regid=1000 --clear-groups bash -c "cd $VAULT_MNT && : > holder.ready && exec sleep 1000" &
holder=$!
wait_until 60 in_vault_ns test -e "$VAULT_MNT/holder.ready" || fail "the user's process did not start working in the vault within 60 s"
kill -TERM "$INIT_PID"
rc=0; wait "$INIT_PID" || rc=$?
cat init.log
expect_eq "$rc" 143 "init's exit status (sleep ended by the forwarded SIGTERM)"
lock_line=$(grep -n 'init.shutdown.step.done step=vault.lock' init.log | cut -d: -f1)
term_line=$(grep -n 'init.shutdown.term' init.log | cut -d: -f1)
[[ -n $lock_line && -n $term_line && $lock_line -lt $term_line ]] || fail "the vault was not locked before the other processes were terminated"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after shutdown"
# The lock ended it: it held the vault by its working directory.
wait_until 10 gone "$holder" || fail "the user's process in the vault outlived the shutdown"
wait "$holder" || true
grep -q 'secret' init.log && fail "vault contents in the log"
vault_remove_enclave
