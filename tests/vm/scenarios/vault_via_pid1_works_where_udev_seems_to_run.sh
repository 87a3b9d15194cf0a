# Where /run/udev/control exists (a container given the host's /run/udev,
# say) but no udev answers in the container, libdevmapper waits for udev to
# confirm each device-mapper change, for ever: the unlock would hang until
# vault.operation_timeout and leave the vault failed. PID 1 starts its
# helpers with DM_DISABLE_UDEV=1, which libdevmapper reads when it is
# loaded (so from the environment, not from a setenv() in main), and an
# unlock and a lock through PID 1 work as they do without udev.
# timeout: 240
# weight: 13
mkdir -p /run/udev
: > /run/udev/control  # libdevmapper only looks for the path
trap 'rm -f /run/udev/control' EXIT
write_init_config init.toml
sed -i 's/^\[vault\]$/[vault]\noperation_timeout = "30s"/' init.toml
start_init init.toml init.log
rc=0
printf 'pw\n' | tazpod vault unlock --passphrase-stdin > unlock.out 2>&1 || rc=$?
[[ $rc -eq 0 ]] || fail "unlock (exit $rc): $(cat unlock.out; cat init.log)"
expect_eq "$(tazpod vault status)" "state=unlocked busy=false" "status after unlock"
rc=0
tazpod vault lock > lock.out 2>&1 || rc=$?
[[ $rc -eq 0 ]] || fail "lock (exit $rc): $(cat lock.out; cat init.log)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
kill -TERM "$INIT_PID"
wait "$INIT_PID" || true
rm -f /run/udev/control
trap - EXIT
vault_remove_enclave
