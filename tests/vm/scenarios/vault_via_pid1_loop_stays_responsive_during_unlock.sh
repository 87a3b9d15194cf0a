# While a slow unlock runs (PBKDF dominates), PID 1 still answers on its
# control socket, forwards signals to its main child and reaps: the vault's
# work runs in a helper process, not on the event loop.
# timeout: 300
# weight: 50
# Deliberately slow key derivation for this test (argon2id, 64 MiB, 4 passes:
# argon2 needs at least 4).
write_init_config init.toml
sed -i 's/^pbkdf_memory_kib = 1024/pbkdf_memory_kib = 65536/' init.toml
cat > child.sh <<'SH'
trap 'echo USR1 >> /tmp/child-got' USR1
while :; do sleep 0.1; done
SH
start_init init.toml init.log -- bash child.sh
sleep 0.5
printf 'pw\n' | tazpod vault unlock --passphrase-stdin > unlock.out &
unlocker=$!
wait_log init.log 'vault.state from=absent to=unlocking' 20
start=$(clock_now)
status=$(tazpod vault status)
expect_eq "$status" "state=unlocking busy=true" "status while unlocking"
kill -USR1 "$INIT_PID"
wait_until 5 grep -q USR1 /tmp/child-got 2>/dev/null || fail "SIGUSR1 was not forwarded while the unlock ran"
grep -q 'vault.state from=unlocking to=unlocked' init.log && fail "the unlock finished too fast to prove anything: make the PBKDF slower"
echo "status and a forwarded signal answered within $(( $(clock_now) - start )) s while unlocking"
rc=0; wait "$unlocker" || rc=$?
expect_eq "$rc" 0 "unlock"
printf 'wrong\n' | tazpod vault verify --passphrase-stdin && fail "a wrong passphrase was verified"
printf 'pw\n' | tazpod vault verify --passphrase-stdin
tazpod vault lock
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
