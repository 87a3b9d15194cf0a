# Start-up recovery that fails (an earlier run's mapping is held open by a
# process recovery cannot end) leaves the vault `failed` and PID 1 without
# its private mount namespace, which is made only once PID 1's own holds no
# vault. When the holder is gone, the next unlock recovers in PID 1's
# namespace, makes the private one, and unlocks there: the data is back,
# and an ungated process sees an empty ~/secrets. (Before, every unlock was
# refused until a restart: "the vault's private mount namespace is
# missing".) The same for a lock: it cleans up, and the unlock after it
# works.
# timeout: 240
# weight: 39

# leave_attached_and_held: what an earlier run left, with the mapping held
# open by a process that is no mount (recovery cannot end it).
leave_attached_and_held() {
  printf 'pw' | vault_expect 0 unlock
  echo keep > "$VAULT_MNT/keep"
  sync
  umount "$VAULT_MNT"
  # shellcheck disable=SC2217  # the open descriptor is the point, not a read
  sleep 1000 < "/dev/mapper/$VAULT_NAME" & HOLDER=$!
}

# start_failed: PID 1 starts, and its recovery fails.
start_failed() {
  start_init init.toml init.log
  grep -q 'vault.recover.failed' init.log || fail "start-up recovery did not fail: $(cat init.log)"
  grep -q 'vault.namespace.created' init.log && fail "a private namespace was made before the vault was clean"
  [[ $(tazpod vault status) == "state=failed busy=false"* ]] || fail "state after the failed recovery: $(tazpod vault status)"
  kill "$HOLDER"; wait "$HOLDER" || true
}

write_init_config init.toml
leave_attached_and_held
start_failed
printf 'pw\n' | tazpod vault unlock --passphrase-stdin || fail "the unlock after the holder went: $(tail -n 5 init.log)"
expect_eq "$(tazpod vault status)" "state=unlocked busy=false" "state after the unlock"
grep -q 'vault.namespace.created' init.log || fail "no private namespace was made by the unlock"
expect_eq "$(in_vault_ns cat "$VAULT_MNT/keep")" keep "data after the unlock"
ungated grep -q " $VAULT_MNT " /proc/self/mounts && fail "the vault is mounted in PID 1's own namespace"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the first run's shutdown"

: > init.log
leave_attached_and_held
start_failed
tazpod vault lock || fail "the lock after the holder went: $(tail -n 5 init.log)"
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state after the lock"
grep -q 'vault.namespace.created' init.log || fail "no private namespace was made by the lock"
printf 'pw\n' | tazpod vault unlock --passphrase-stdin || fail "the unlock after the lock: $(tail -n 5 init.log)"
expect_eq "$(in_vault_ns cat "$VAULT_MNT/keep")" keep "data after the lock and unlock"
ungated grep -q " $VAULT_MNT " /proc/self/mounts && fail "the vault is mounted in PID 1's own namespace"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
