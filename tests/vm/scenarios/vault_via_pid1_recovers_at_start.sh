# A vault left attached by an earlier run (mapping, loop device, mount) is
# recovered when `tazpod init` starts, not reported as "already exists"; a
# wrong passphrase through PID 1 exits 2 and leaves it locked.
# timeout: 240
# weight: 14
printf 'pw' | vault_expect 0 unlock
echo keep > "$VAULT_MNT/keep"
sync
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "left behind by the 'earlier run'"
write_init_config init.toml
start_init init.toml init.log
grep -q 'vault.recover.done state=locked' init.log || fail "no recovery at start: $(cat init.log)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after start-up recovery"
rc=0; printf 'nope\n' | tazpod vault unlock --passphrase-stdin || rc=$?
expect_eq "$rc" 2 "exit status of a wrong passphrase"
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state after a wrong passphrase"
printf 'pw\n' | tazpod vault unlock --passphrase-stdin
expect_eq "$(in_vault_ns cat "$VAULT_MNT/keep")" keep "data after recovery"
rc=0; printf 'pw\n' | tazpod vault unlock --passphrase-stdin || rc=$?
expect_eq "$rc" 3 "unlock while unlocked"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after shutdown"
vault_remove_enclave
